/*
 * options.c - what every command's option parsing shares.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"

enum {
	MAX_OPTIONS = 32,    /* in one command's table */
	LONG_ONLY = 256,     /* getopt's val for options[i] without a short name: + i */
	HELP_WIDTH = 79,     /* the longest line of help an option gets */
	MAX_OPTION_COL = 24, /* a wider option column puts its help below */
};

/* Every command's -h, --help. */
static const struct cli_option help_option = { "help", 'h', NULL, "this text", 0 };

static bool is_option(const struct cli_option *o)
{
	return o->name || o->short_name;
}

/* getopt_long's tables.  "-" hands operands over in order, whatever
 * POSIXLY_CORRECT says; ":" tells a missing value from an unknown option. */
static void getopt_tables(const struct cli_command *cmd, struct option *longs,
			  char *shorts)
{
	size_t n = 0;

	if (cmd->noptions > MAX_OPTIONS)
		abort(); /* a table this file was not sized for: a bug */
	*shorts++ = '-';
	*shorts++ = ':';
	*shorts++ = 'h';
	for (size_t i = 0; i < cmd->noptions; i++) {
		const struct cli_option *o = &cmd->options[i];

		if (o->short_name) {
			*shorts++ = o->short_name;
			if (o->arg)
				*shorts++ = ':';
		}
		if (o->name)
			longs[n++] = (struct option){
				o->name, o->arg ? required_argument : no_argument, NULL,
				o->short_name ? o->short_name : LONG_ONLY + (int)i,
			};
	}
	longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[n] = (struct option){ NULL, 0, NULL, 0 };
	*shorts = '\0';
}

/* The option getopt_long returned as val; NULL for none of the table's. */
static const struct cli_option *option_by_val(const struct cli_command *cmd, int val)
{
	if (val >= LONG_ONLY)
		return (size_t)(val - LONG_ONLY) < cmd->noptions ?
			       &cmd->options[val - LONG_ONLY] : NULL;
	for (size_t i = 0; i < cmd->noptions; i++)
		if (val && cmd->options[i].short_name == val)
			return &cmd->options[i];
	return val == 'h' ? &help_option : NULL;
}

/* "--target", or "-o" for an option without a long name. */
static const char *option_name(const struct cli_option *o, char *buf, size_t len)
{
	if (o->name)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

/* arg ("--re=x") names no option, or abbreviates several: say which. */
static int unknown_long(const struct cli_command *cmd, const char *arg)
{
	size_t n = strcspn(arg + 2, "="), used = 0;
	unsigned matches = 0;
	char names[256] = "";

	for (size_t i = 0; i <= cmd->noptions && n; i++) {
		const char *name = i < cmd->noptions ? cmd->options[i].name : "help";

		if (name && strncmp(name, arg + 2, n) == 0 && used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used,
						 "%s--%s", matches++ ? ", " : "", name);
	}
	if (matches > 1)
		return usage_error(cmd->name, "ambiguous option '%.*s' (%s)",
				   (int)n + 2, arg, names);
	return usage_error(cmd->name, "unknown option '%s'", arg);
}

/* After getopt_long returned ':' or '?' for argv's element before optind. */
static int option_error(const struct cli_command *cmd, char **argv, int c)
{
	const struct cli_option *o = option_by_val(cmd, optopt);
	char name[64];

	if (c == ':')
		return usage_error(cmd->name, "%s needs a value",
				   option_name(o, name, sizeof(name)));
	if (o) /* "--json=1" */
		return usage_error(cmd->name, "%s takes no value",
				   option_name(o, name, sizeof(name)));
	if (optopt)
		return usage_error(cmd->name, "unknown option '-%c'", optopt);
	return unknown_long(cmd, argv[optind - 1]);
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      cli_apply_fn *apply, void *ctx, int *rest)
{
	struct option longs[MAX_OPTIONS + 2];
	char shorts[2 * MAX_OPTIONS + 4];
	int c, rc = 0;

	getopt_tables(cmd, longs, shorts);
	opterr = 0; /* usage_error() speaks instead */
	optind = 0; /* start afresh: a command may be run more than once */
	while (rc == 0 && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct cli_option *o = option_by_val(cmd, c);

		if (c == 1)
			rc = apply(ctx, CLI_OPERAND, optarg);
		else if (c == ':' || c == '?' || !o)
			return option_error(cmd, argv, c);
		else if (o == &help_option) {
			cli_help(stdout, cmd);
			return EXIT_AGREE;
		} else
			rc = apply(ctx, o->id, o->arg ? optarg : NULL);
	}
	if (rest && rc == 0)
		*rest = optind;
	for (int i = optind; !rest && rc == 0 && i < argc; i++)
		rc = apply(ctx, CLI_OPERAND, argv[i]);
	return rc ? rc : -1;
}

/* "-o, --output FILE": the option column of --help; returns its width. */
static int option_column(const struct cli_option *o, char *buf, size_t len)
{
	const char *arg = o->arg ? o->arg : "", *sp = o->arg ? " " : "";

	if (!is_option(o))
		return snprintf(buf, len, "%s", arg);
	if (!o->name)
		return snprintf(buf, len, "-%c%s%s", o->short_name, sp, arg);
	if (!o->short_name)
		return snprintf(buf, len, "--%s%s%s", o->name, sp, arg);
	return snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, sp, arg);
}

/* Prints text from column col (where the cursor is) to HELP_WIDTH, later
 * lines indented to col; a '\n' in text breaks the line there. */
static void wrap(FILE *f, const char *text, int col)
{
	int at = col, gap = 0;

	while (*text) {
		int n = (int)strcspn(text, " \n");

		if (at > col && at + gap + n > HELP_WIDTH)
			at = fprintf(f, "\n%*s", col, "") - 1;
		else
			at += fprintf(f, "%*s", gap, "");
		at += fprintf(f, "%.*s", n, text);
		text += n;
		if (*text == '\n') {
			at = fprintf(f, "\n%*s", col, "") - 1;
			text++;
		}
		gap = (int)strspn(text, " "); /* two after a full stop stay two */
		text += gap;
	}
	fputc('\n', f);
}

void cli_help(FILE *f, const struct cli_command *cmd)
{
	char left[128];
	int col = option_column(&help_option, left, sizeof(left));

	for (size_t i = 0; i < cmd->noptions; i++) {
		int n = option_column(&cmd->options[i], left, sizeof(left));

		if (n > col && n <= MAX_OPTION_COL)
			col = n;
	}
	col += 4; /* two spaces before the option column, two after */
	fprintf(f, "usage: epollfuzz %s%s\n\n%s\n", cmd->name, cmd->usage,
		cmd->about);
	for (size_t i = 0; i <= cmd->noptions; i++) {
		const struct cli_option *o = i < cmd->noptions ? &cmd->options[i]
							       : &help_option;
		int n = option_column(o, left, sizeof(left));

		if (n + 4 > col)
			fprintf(f, "  %s\n%*s", left, col, "");
		else
			fprintf(f, "  %-*s", col - 2, left);
		wrap(f, o->help, col);
	}
	if (cmd->list_targets) {
		fputs("\nTargets:\n", f);
		target_kinds_help(f);
	}
	if (cmd->epilogue)
		fprintf(f, "\n%s", cmd->epilogue);
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

int check_inject(const char *cmd, const char *names)
{
	const struct injected_bug *bugs = model_injected_bugs();
	struct error err;
	unsigned mask;

	if (inject_parse(names, &mask, &err) == 0)
		return 0;
	fprintf(stderr, "epollfuzz %s: %s; the model has:\n", cmd, err.msg);
	for (unsigned k = 0; k < INJECT_COUNT; k++)
		fprintf(stderr, "  %s\n", bugs[k].name);
	return EXIT_TROUBLE;
}
