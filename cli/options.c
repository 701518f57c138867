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

/* The spec meta.targets gives a target name ("exec-qemu-x86_64" ->
 * "exec:qemu-x86_64"); a name it lacks is taken as a spec itself. */
static int spec_of(const char *path, const json_t *meta, const char *name,
		   char *buf, size_t len)
{
	const json_t *targets = meta ? json_object_get(meta, "targets") : NULL;
	const json_t *spec = targets ? json_object_get(targets, name) : NULL;

	if (spec && !json_is_string(spec)) {
		fprintf(stderr, "%s: meta.targets.%s: expected a target spec\n", path, name);
		return -1;
	}
	snprintf(buf, len, "%s", spec ? json_string_value(spec) : name);
	return 0;
}

int finding_targets(const char *path, const struct program *p, char *target,
		    char *reference, size_t len)
{
	const json_t *meta = p->extras ? json_object_get(p->extras, "meta") : NULL;
	const json_t *verdict = meta ? json_object_get(meta, "verdict") : NULL;
	const json_t *t = verdict ? json_object_get(verdict, "target") : NULL;
	const json_t *ref = verdict ? json_object_get(verdict, "reference") : NULL;

	target[0] = reference[0] = '\0';
	if ((t && !json_is_string(t)) || (ref && !json_is_string(ref))) {
		fprintf(stderr, "%s: meta.verdict.target/reference: expected target names\n", path);
		return -1;
	}
	if (t && spec_of(path, meta, json_string_value(t), target, len) < 0)
		return -1;
	if (ref && spec_of(path, meta, json_string_value(ref), reference, len) < 0)
		return -1;
	/* a finding about the reference itself (its own invariant) keeps the
	 * model beside it */
	if (t && ref && strcmp(target, reference) == 0)
		target[0] = '\0';
	return 0;
}
