/*
 * targets.c - a target kind by its plain name, for commands that still
 * name model and linux directly.  The kinds are listed in targets/.
 */
#include <string.h>

#include "cli.h"

const struct target_ops *target_by_name(const char *name)
{
	for (size_t i = 0; target_kinds[i]; i++)
		if (strcmp(target_kinds[i]->name, name) == 0)
			return target_kinds[i];
	return NULL;
}
