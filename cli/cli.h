/*
 * cli.h - the pieces of the epollfuzz command, private to cli/.
 *
 * main.c dispatches to one function per subcommand; each parses its
 * options through its option table (cli_parse()) and returns the exit
 * status.
 */
#ifndef EPOLLFUZZ_CLI_H
#define EPOLLFUZZ_CLI_H

#include <stdio.h>

#include "targets.h"
#include "trace.h"

/* Exit statuses, as diff(1) has them. */
enum {
	EXIT_AGREE = 0,   /* nothing found */
	EXIT_FINDING = 1, /* a divergence, a broken invariant, an unsupported op */
	EXIT_TROUBLE = 2, /* bad input or usage, a target that failed */
};

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_run(int argc, char **argv);
int cmd_ops(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_inject(int argc, char **argv);
int cmd_conform(int argc, char **argv);

/* The specs of the target a finding is about and of its reference, from
 * meta.verdict.target/reference through meta.targets (options.c); ""
 * where the finding does not say.  -1 (after a message) on a malformed
 * meta. */
int finding_targets(const char *path, const struct program *p, char *target,
		    char *reference, size_t len);

/* Minimises the finding at path and writes the result over it (cmd_minimize.c);
 * returns minimize's exit status.  The report line goes to stderr. */
int minimize_in_place(const char *path, const char *inject);

/*
 * Options (options.c): each command describes its options in one table,
 * which drives both getopt_long and --help, so the two cannot drift.
 */
struct cli_option {
	const char *name; /* long name without "--", or NULL */
	char short_name;  /* 'o', or 0 */
	const char *arg;  /* the value's metavariable ("SPEC"); NULL: a flag */
	const char *help; /* one paragraph, wrapped by cli_help(); '\n' breaks */
	int id;           /* what the command's apply function switches on */
};
/* An entry with neither name nor short_name is no option: its arg and help
 * only document an argument in --help (fuzz's "-- ARGS"). */

struct cli_command {
	const char *name;  /* "run" */
	const char *usage; /* the synopsis after "usage: epollfuzz run" */
	const char *about; /* the paragraphs before the options, as printed */
	const struct cli_option *options;
	size_t noptions;
	bool list_targets;    /* the target kinds after the options */
	const char *epilogue; /* after the options: exit status etc., or NULL */
};

#define CLI_OPTIONS(table) (table), (sizeof(table) / sizeof((table)[0]))

/* apply()'s id for an operand (an argument that is not an option). */
enum { CLI_OPERAND = -1 };

/* Takes one option (value: NULL for a flag) or operand; returns 0 to go
 * on, else the exit status (usage_error()'s, after its message). */
typedef int cli_apply_fn(void *ctx, int id, const char *value);

/*
 * Parses argv[1..argc) by cmd's table, calling apply for each option and
 * operand in the order given: operands may come between options.  "--"
 * ends the options; with rest NULL the arguments after it are operands,
 * else they are left to the caller and *rest is the index of the first.
 * -h and --help print cli_help() to stdout.  Returns -1 to go on, else
 * the exit status: 0 after --help, 2 after a usage message.
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      cli_apply_fn *apply, void *ctx, int *rest);
/* The command's --help text. */
void cli_help(FILE *f, const struct cli_command *cmd);

/* A copy of the trace's extras (x- keys and meta) with a meta object in
 * it, returned in *meta for the caller to fill. */
struct json_t *extras_with_meta(const struct program *p, struct json_t **meta);

/* Prints "epollfuzz CMD: message" and a --help hint to stderr and returns
 * EXIT_TROUBLE.  cmd is NULL for the top level. */
/* 0 when every name of "a[,b...]" is one of the model's injected bugs
 * (the model's own parser judges), else EXIT_TROUBLE after a message
 * listing them all. */
int check_inject(const char *cmd, const char *names);

int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The target registry (targets/): a kind by its plain name ("model"). */
const struct target_ops *target_by_name(const char *name);

#endif
