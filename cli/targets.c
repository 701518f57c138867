/*
 * targets.c - every target the command line can name.
 *
 * Adding a target is adding its line here.
 */
#include <string.h>

#include "cli.h"
#include "model.h"
#include "oracle.h"

const struct target_ops *const targets[] = {
	&model_target,
	&linux_target,
};

const size_t ntargets = sizeof(targets) / sizeof(targets[0]);

const struct target_ops *target_by_name(const char *name)
{
	for (size_t i = 0; i < ntargets; i++)
		if (strcmp(targets[i]->name, name) == 0)
			return targets[i];
	return NULL;
}
