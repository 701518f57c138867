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
/* Opens the target a spec names, with the settings in common (its arg is
 * the spec's own). */
struct target *target_spec_open(const struct target_spec *spec,
				const struct target_config *common,
				struct error *err);
/* One line per kind, for --help: "  exec:CMD [ARGS...]  summary". */
void target_kinds_help(FILE *f);

/* ------------------------------------------------------------------------
 * A set of targets judged together (set.c): what run, fuzz, minimize and
 * conform compare.  Every target is run on a program after the reference
 * and judged against it (judge() in trace/); targets that allow several
 * outcomes (the model, where Linux races) are matched against the
 * reference's.  Unless asked not to, the model runs beside any other
 * target, so that its outcome explains each verdict.
 */
#define TARGET_SET_MAX 8

struct target_set {
	unsigned n;
	int ref; /* 0: spec[0] is the reference; -1: each target runs alone */
	struct target_spec spec[TARGET_SET_MAX];
	struct target *open[TARGET_SET_MAX];
	struct outcome out[TARGET_SET_MAX];
	unsigned long failures[TARGET_SET_MAX]; /* runs a target failed */
	/* Set by target_set_run(): target k departed from the reference, but
	 * its outcome is one the model allows (woken threads that raced in
	 * another order, which the kernel permits too): no finding. */
	bool allowed[TARGET_SET_MAX];
	struct outcome scratch; /* the model's run matched to such a target */
	struct target_config common; /* as opened: for a fresh instance */
};

struct target_set_choice {
	const char *const *targets; /* specs as given; none: the model */
	unsigned ntargets;
	const char *reference;      /* NULL: "linux" */
	bool add_model;             /* the model beside other targets */
	/* One target named alone, model or linux, with no reference given:
	 * run it alone (run --target linux shows Linux's steps). */
	bool alone_ok;
};

int target_set_init(struct target_set *s, const struct target_set_choice *c,
		    struct error *err);
/* Opens every target with the settings in common; on failure none is
 * left open. */
int target_set_open(struct target_set *s, const struct target_config *common,
		    struct error *err);
void target_set_close(struct target_set *s);
/* Runs p on every target, the reference first, and where a target departs
 * from the reference asks the model whether the kernel allows its outcome
 * too (allowed[]).  On a target's failure returns -1 with err naming it
 * (and *failed its index when not NULL). */
int target_set_run(struct target_set *s, const struct program *p,
		   unsigned *failed, struct error *err);
/* A fresh instance of target k (opened anew, as target_set_open did) run
 * on p and judged against ref, a reference outcome an earlier run gave
 * (not the set's latest), into s->scratch.  A target that is a function of
 * its input, as the model is, must give the verdict its long-lived
 * instance gave for the same (p, ref): else it kept state between runs. */
int target_set_rejudge(struct target_set *s, unsigned k, const struct program *p,
		       const struct outcome *ref, struct verdict *v, struct error *err);
/* Target k's verdict: against the reference, or alone. */
void target_set_judge_one(const struct target_set *s, const struct program *p,
			  unsigned k, struct verdict *v);
/* The set's finding: the earliest over its targets (the first listed on a
 * tie); *which (may be NULL) gets the judged target's index. */
void target_set_judge(const struct target_set *s, const struct program *p,
		      struct verdict *v, unsigned *which);
/* The finding side by side (verdict_print_n): the target it is about,
 * the reference, then every other target (the model, explaining). */
void target_set_print(FILE *f, const struct target_set *s,
		      const struct program *p, const struct verdict *v);
/* The index of the target named name (spec name), or -1. */
int target_set_find(const struct target_set *s, const char *name);

/*
 * The one codec of judged runs, for run --json and findings alike: into
 * meta (a JSON object) go meta.outcomes (every target's outcome but the
 * trace's own, by name), meta.targets (name to spec, so that the targets
 * can be opened again), meta.verdict, and for each target that can say,
 * meta.settle.NAME.  The trace's own outcome is target_set_own(): the
 * reference's, or the only target's.
 */
int target_set_meta(const struct target_set *s, const struct program *p,
		    const struct verdict *v, struct json_t *meta);
const struct outcome *target_set_own(const struct target_set *s);

/* ------------------------------------------------------------------------
 * Known divergences (known.c; the file format is in its comment and in
 * docs/known.md): findings to step over and count apart.
 */
struct known_list;

struct known_list *known_load(const char *path, struct error *err);
void known_free(struct known_list *k);
/* The line of the first entry v matches, or -1 (also when k is NULL). */
int known_match(const struct known_list *k, const struct verdict *v);

/* The outcome stored in a trace, as a target (recorded.c): run() gives the
 * program's recorded outcome (program.recorded), and fails when it has
 * none. */
extern const struct target_ops recorded_target;

#endif
