/*
 * cli.h - the pieces of the epollfuzz command, private to cli/.
 *
 * main.c dispatches to one function per subcommand; each parses its own
 * options and returns the exit status.
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

/* Prints "epollfuzz CMD: message" and a --help hint to stderr and returns
 * EXIT_TROUBLE.  cmd is NULL for the top level. */
/* options.c: arg is the option name, alone or as "NAME=VALUE". */
bool option_is(const char *arg, const char *name);
/* The value of "NAME V" or "--NAME=V" at argv[*i], advancing *i past it;
 * NULL (after the usage message) when it is missing. */
const char *option_value(const char *cmd, int argc, char **argv, int *i,
			 const char *name);

/* A copy of the trace's extras (x- keys and meta) with a meta object in
 * it, returned in *meta for the caller to fill. */
struct json_t *extras_with_meta(const struct program *p, struct json_t **meta);

int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The target registry (targets/): a kind by its plain name ("model"). */
const struct target_ops *target_by_name(const char *name);

#endif
