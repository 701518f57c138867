/*
 * registry.c - the one list of target kinds, and target specs.
 */
#include <string.h>

#include "model.h"
#include "oracle.h"
#include "plugin_target.h"
#include "targets.h"

const struct target_ops *const target_kinds[] = {
	&model_target,
	&linux_target,
	&exec_target,
	&plugin_target,
	&recorded_target,
	NULL,
};

static const struct target_ops *kind_by_name(const char *name, size_t len)
{
	for (size_t i = 0; target_kinds[i]; i++)
		if (strlen(target_kinds[i]->name) == len &&
		    strncmp(target_kinds[i]->name, name, len) == 0)
			return target_kinds[i];
	return NULL;
}

static void kind_list(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; target_kinds[i] && used < len; i++) {
		const struct target_ops *k = target_kinds[i];
		int n = snprintf(buf + used, len - used, "%s%s%s%s", i ? ", " : "",
				 k->name, k->arg_usage ? ":" : "",
				 k->arg_usage ? k->arg_usage : "");

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* "exec-valgrind" from "exec" and "valgrind -q", "plugin-libfoo" from
 * "plugin" and "/x/libfoo.so": the kind, then the argument's first word's
 * base name without an extension, in [A-Za-z0-9._-]. */
static void spec_name(const char *kind, const char *arg, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", kind);
	const char *word, *end, *slash;

	if (!arg || n + 2 >= len)
		return;
	word = arg + strspn(arg, " \t");
	end = word + strcspn(word, " \t");
	for (slash = word; slash < end; slash++)
		if (*slash == '/')
			word = slash + 1;
	if (end - word > 3 && strncmp(end - 3, ".so", 3) == 0)
		end -= 3;
	buf[n++] = '-';
	for (; word < end && n + 1 < len; word++) {
		char c = *word;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		buf[n++] = ok ? c : '_';
	}
	buf[n] = '\0';
}

int target_spec_parse(const char *text, struct target_spec *spec,
		      struct error *err)
{
	const char *colon = strchr(text, ':');
	size_t klen = colon ? (size_t)(colon - text) : strlen(text);
	char kinds[256];

	memset(spec, 0, sizeof(*spec));
	kind_list(kinds, sizeof(kinds));
	if (strlen(text) >= sizeof(spec->text))
		return fail(err, "target '%.40s...': too long", text);
	spec->ops = kind_by_name(text, klen);
	if (!spec->ops)
		return fail(err, "unknown target '%s' (targets: %s)", text, kinds);
	strcpy(spec->text, text);
	if (spec->ops->arg_usage) {
		const char *arg = colon ? colon + 1 : "";

		if (arg[strspn(arg, " \t")] == '\0')
			return fail(err, "target '%s' needs an argument: %s:%s",
				    text, spec->ops->name, spec->ops->arg_usage);
		spec->arg = spec->text + (arg - text);
	} else if (colon) {
		return fail(err, "target '%s': %s takes no argument", text,
			    spec->ops->name);
	}
	spec_name(spec->ops->name, spec->arg, spec->name, sizeof(spec->name));
	return 0;
}

struct target *target_spec_open(const struct target_spec *spec,
				const struct target_config *common,
				struct error *err)
{
	struct target_config cfg = *common;

	cfg.arg = spec->arg;
	return spec->ops->open(&cfg, err);
}

void target_kinds_help(FILE *f)
{
	for (size_t i = 0; target_kinds[i]; i++) {
		const struct target_ops *k = target_kinds[i];
		char spec[64];

		snprintf(spec, sizeof(spec), "%s%s%s", k->name,
			 k->arg_usage ? ":" : "", k->arg_usage ? k->arg_usage : "");
		fprintf(f, "  %-22s %s\n", spec, k->summary);
	}
}
