/*
 * targets.h - every kind of target, listed in one place (registry.c), and
 * the spec that names one on the command line.
 *
 * A spec is a kind's name, alone or followed by ":" and an argument:
 *
 *   model                  the in-process model (model/)
 *   linux                  the forked executor on the running kernel (oracle/)
 *   exec:CMD [ARGS...]     the executor as its own program under CMD (oracle/)
 *   plugin:PATH.so         an implementation behind the plugin ABI (plugin/)
 *   recorded               the outcome stored in the trace (recorded.c)
 *
 * Adding a kind is adding its file and its line in registry.c.
 */
#ifndef EPOLLFUZZ_TARGETS_H
#define EPOLLFUZZ_TARGETS_H

#include <stdio.h>

#include "trace.h"

#define TARGET_SPEC_MAX 512
#define TARGET_NAME_MAX 64

struct target_spec {
	const struct target_ops *ops;
	char text[TARGET_SPEC_MAX];  /* as given: "exec:valgrind -q" */
	const char *arg;             /* into text, after "KIND:"; NULL if none */
	char name[TARGET_NAME_MAX];  /* short, for tables, signatures and file
					names: "model", "exec-valgrind" */
};

/* The kinds, NULL-terminated. */
extern const struct target_ops *const target_kinds[];

/* Parses "KIND" or "KIND:ARG"; an unknown kind, a missing or unwanted
 * argument is an error that names the spec and lists the kinds. */
int target_spec_parse(const char *text, struct target_spec *spec,
		      struct error *err);
/* Opens the target a spec names (inject: model bugs, or NULL). */
struct target *target_spec_open(const struct target_spec *spec,
				const char *inject, struct error *err);
/* One line per kind, for --help: "  exec:CMD [ARGS...]  summary". */
void target_kinds_help(FILE *f);

/* The outcome stored in a trace, as a target (recorded.c): run() gives the
 * program's recorded outcome (program.recorded), and fails when it has
 * none. */
extern const struct target_ops recorded_target;

#endif
