/*
 * options.c - what every command's option parsing shares.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool option_is(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

const char *option_value(const char *cmd, int argc, char **argv, int *i,
			 const char *name)
{
	const char *eq = strchr(argv[*i], '=');

	if (eq && argv[*i][1] == '-') /* "--name=value"; "-o" takes the next */
		return eq + 1;
	if (*i + 1 >= argc) {
		usage_error(cmd, "%s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

json_t *extras_with_meta(const struct program *p, json_t **meta)
{
	json_t *extras = p->extras ? json_deep_copy(p->extras) : json_object();

	if (!extras)
		abort(); /* out of memory: nothing sensible is left to do */
	*meta = json_object_get(extras, "meta");
	if (!*meta && (!(*meta = json_object()) ||
		       json_object_set_new(extras, "meta", *meta) < 0))
		abort();
	return extras;
}
