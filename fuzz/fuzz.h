/*
 * fuzz.h - what the fuzz targets, the seed generator and `epollfuzz fuzz`
 * agree on: the shape of fuzzed programs, one fuzz session core behind
 * every engine (session.c), how findings are written (findings.c), seeds
 * and files.
 */
#ifndef EPOLLFUZZ_FUZZ_H
#define EPOLLFUZZ_FUZZ_H

#include <stdio.h>

#include "targets.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * The byte format (decode.c): every byte string is a valid program, and
 * the same program under every setting: its first byte says how many
 * threads it has, whether they may block, and the profile it is drawn in.
 * The limits are a campaign's settings: what the encoder, the mutator and
 * the seeds make, and which inputs the campaign runs (input_fits).
 */
struct decode_limits {
	unsigned max_ops;     /* ops decoded at most (the one limit decoding obeys) */
	unsigned max_threads; /* 1: no blocking ops, every epoll_wait timeout 0 */
	unsigned profile;     /* enum profile (profile.h): 0 any op, else its subset */
};
void program_decode(const uint8_t *data, size_t size,
		    const struct decode_limits *lim, struct program *p);
/* Whether the input's header lies inside lim: no more threads than
 * lim->max_threads, blocking only where that is more than 1, and drawn in
 * lim->profile unless that is PROFILE_ANY (every input fits it). */
bool input_fits(const uint8_t *data, size_t size, const struct decode_limits *lim);
/* Rewrites the header of a non-empty input so that it fits lim: fewer
 * threads, no blocking, lim's profile, as lim needs. */
void input_fit(uint8_t *data, size_t size, const struct decode_limits *lim);
/* Bytes that program_decode turns back into p, bent to the limits where it
 * exceeds them (decode.c says what is lost).  The caller frees *out.
 * Returns -1 only when out of memory. */
int program_encode(const struct program *p, const struct decode_limits *lim,
		   uint8_t **out, size_t *len);

/* The format's dictionary for libFuzzer (-dict=) and AFL++ (-x), written
 * by its own encoder (dict.c); -1 when f fails. */
int fuzz_dict_print(FILE *f);

/* ------------------------------------------------------------------------
 * Structure-aware mutation (mutate.c): one core behind libFuzzer's
 * LLVMFuzzerCustomMutator/CustomCrossOver and AFL++'s custom mutator.
 * Inputs are byte strings in the decoder's format; the result is written
 * back into data (at most max_size bytes), always decodes (with lim) to a
 * valid program, and depends only on the inputs and seed.
 */
size_t program_mutate(uint8_t *data, size_t size, size_t max_size,
		      unsigned int seed, const struct decode_limits *lim);
size_t program_crossover(const uint8_t *data1, size_t size1,
			 const uint8_t *data2, size_t size2, uint8_t *out,
			 size_t max_out_size, unsigned int seed,
			 const struct decode_limits *lim);

/*
 * The shape of fuzzed programs.  The thread count is a runtime setting,
 * EPOLLFUZZ_THREADS (1..FUZZ_MAX_THREADS, default FUZZ_DEFAULT_THREADS):
 * with 1 nothing blocks and every run is deterministic on both targets;
 * with more, threads block in epoll_wait and may race.  It caps what a
 * campaign makes and runs; an input keeps its meaning under every setting
 * (its header), so seeds and corpora made under any setting can be merged.
 */
#define FUZZ_MAX_OPS 64
#define FUZZ_DEFAULT_THREADS 4
#define FUZZ_MAX_THREADS MAX_THREADS
#define FUZZ_THREADS_ENV "EPOLLFUZZ_THREADS"

/* The decode limits under EPOLLFUZZ_THREADS; -1 when it is malformed. */
int fuzz_limits(struct decode_limits *lim, struct error *err);

/* The program with one outcome, as JSON when the codec can, else as one
 * line per step. */
void fuzz_print_trace(FILE *f, const struct program *p,
		      const struct outcome *out);

/* ----------------------------------------------------------- session.c */

/*
 * One fuzz session: what every engine face (the libFuzzer and AFL++
 * harnesses fuzz_diff and fuzz_model, `epollfuzz fuzz`) runs per input.
 * An input decodes to a program that runs on the model alone (its
 * invariants are the findings) or on Linux and on the model matched against
 * Linux's outcome.  A divergence is believed only when Linux repeats it:
 * the program runs FUZZ_RECHECKS more times; if some run falls inside the
 * model's set, Linux itself varied and the program is kept apart in
 * nondet_dir.  Unsupported programs are counted, not findings.
 */
enum fuzz_target {
	FUZZ_TARGET_DIFF,  /* targets (default: the model) against a reference */
	FUZZ_TARGET_MODEL, /* the model alone, with its invariants (no syscalls) */
};

#define FUZZ_RECHECKS 3
/* A job's exit status when a finding could not be written. */
#define FUZZ_EXIT_LOST 3
#define FUZZ_TOOL "epollfuzz " EPOLLFUZZ_VERSION

struct fuzz_counts;

struct fuzz_config {
	const char *name;        /* prefix of messages and status lines */
	enum fuzz_target target;
	/* With FUZZ_TARGET_DIFF: the targets checked (specs, targets/targets.h;
	 * none: the model) and the reference (NULL: linux); the model runs
	 * beside any other target to explain its verdicts. */
	const char *targets[TARGET_SET_MAX];
	unsigned ntargets;
	const char *reference;
	const char *known;       /* known divergences to step over, or NULL */
	const char *inject;      /* injected model bug(s), "a[,b]", or NULL */
	/* Where findings are written (findings.c), fuzzing going on; NULL: a
	 * finding is printed and aborts through its class's function below, so
	 * that the engine keeps the input. */
	const char *findings_dir;
	const char *nondet_dir;  /* nondeterministic programs (diff target) */
	const char *corpus_dir;  /* only counted for the status line; or NULL */
	/* Where the session keeps a copy of its counts after every program,
	 * for a parent that sums its jobs' (shared memory); or NULL. */
	struct fuzz_counts *shared_counts;
	/* Where status lines and findings are told (the engine's own log may
	 * go elsewhere); NULL: stderr. */
	FILE *console;
	struct decode_limits lim;
	unsigned status_every_s; /* 0: a status line only at the end */
	/* Where the session writes its op coverage tally (stats.c) as JSON,
	 * at every status line and at close; NULL: no tally. */
	const char *stats_path;
	/* Outcome features as extra coverage (feedback.c); off, code
	 * coverage alone guides. */
	bool feedback;
	/* The model's first order among racing threads (trace.h:
	 * target_config.schedule_seed); 0: the kernel's usual one. */
	unsigned schedule_seed;
};

struct fuzz_counts {
	unsigned long runs;
	unsigned long findings;         /* distinct (target, signature, what) */
	unsigned long finding_programs; /* programs that showed one */
	unsigned long nondeterministic, unsupported;
	unsigned long known; /* programs that hit a known divergence */
	unsigned long lost;  /* findings that could not be written */
	unsigned long failures; /* programs a target failed to run */
	/* Inputs skipped: made under other settings (more threads, another
	 * profile), or a run that left the campaign's profile. */
	unsigned long outside;
};

struct fuzz_session;

struct fuzz_session *fuzz_session_open(const struct fuzz_config *cfg,
				       struct error *err);
/* Prints the final status line and closes the targets. */
void fuzz_session_close(struct fuzz_session *s);
/* Decode, run, compare, recheck, and write down or abort on a finding.
 * Returns -1 when the input should not be kept in the corpus (it hit a
 * known divergence: libFuzzer's "reject"), else 0. */
int fuzz_session_run(struct fuzz_session *s, const uint8_t *data,
		     size_t size);
const struct decode_limits *fuzz_session_limits(const struct fuzz_session *s);
struct fuzz_counts fuzz_session_counts(const struct fuzz_session *s);
/* "NAME: N programs (R/s), corpus C, F findings, D nondeterministic, U
 * unsupported" to stderr. */
void fuzz_session_status(struct fuzz_session *s);

/* The fuzz configuration the standalone harnesses read from the
 * environment: EPOLLFUZZ_THREADS, EPOLLFUZZ_INJECT, EPOLLFUZZ_NONDET_DIR
 * (default nondeterministic/), EPOLLFUZZ_FINDINGS (unset: abort),
 * EPOLLFUZZ_TARGET (one target spec), EPOLLFUZZ_REFERENCE,
 * EPOLLFUZZ_KNOWN. */
int fuzz_config_from_env(struct fuzz_config *cfg, enum fuzz_target target,
			 const char *name, struct error *err);

/*
 * Each finding class aborts through its own function, never inlined, so
 * that engines which tell crashes apart by their stack (libFuzzer's dedup
 * tokens, ClusterFuzz) keep the classes apart.
 */
__attribute__((noreturn, noinline)) void fuzz_found_divergence(void);
__attribute__((noreturn, noinline)) void fuzz_found_invariant(void);

/* The libFuzzer face (libfuzzer.c): the session its callbacks drive,
 * closed (final status line) at exit. */
void libfuzzer_attach(struct fuzz_session *s);
/* The standalone harnesses' LLVMFuzzerInitialize (harness.c): a session
 * from fuzz_config_from_env(), attached; exits 1 on a bad environment. */
int harness_start(enum fuzz_target target, const char *name);

/* ---------------------------------------------------------- findings.c */

struct fuzz_finding {
	const struct program *p;
	const struct verdict *v;
	const struct target_set *set; /* every target's outcome */
	const uint8_t *input;
	size_t input_size;
};

/* What became of a finding written to a directory. */
enum finding_fate {
	FINDING_NEW,      /* the first of its signature */
	FINDING_SMALLER,  /* replaced a larger program of the same signature */
	FINDING_SEEN,     /* the one there was kept (and touched: seen again now) */
};

struct finding_writer {
	const char *dir;
	const char *inject; /* or NULL */
	const char *kernel; /* uname release */
};

/* "divergence-model-epoll_wait.events", "invariant-model-lost-wakeup":
 * the file name (without .json) a finding's class, target and signature
 * give, in [a-z0-9._-]; findings about different targets never share one. */
void finding_name(const struct verdict *v, char *buf, size_t len);
/* dir/NAME.json (program, the reference's outcome as "outcome", the
 * others' in meta.outcomes by target name, meta.targets/verdict/kernel/
 * tool/inject: target_set_meta()) and dir/NAME.bin (the raw input),
 * atomically; path gets the .json's path. */
int finding_write(const struct finding_writer *w, const struct fuzz_finding *f,
		  enum finding_fate *fate, char *path, size_t path_len,
		  struct error *err);

/* ------------------------------------------------------------- seeds.c */

/* Encodes input (a trace, or a directory of *.json traces) into outdir,
 * one <name>.seed per trace, for lim. */
int seeds_from_traces(const char *outdir, const char *input,
		      const struct decode_limits *lim, struct error *err);
/* Removes every *.seed from outdir. */
int seeds_remove(const char *outdir, struct error *err);

/* ------------------------------------------------------------- merge.c */

struct merge_counts {
	unsigned copied;  /* new inputs, now in the corpus */
	unsigned present; /* the corpus held the same bytes */
	unsigned outside; /* do not fit the settings (input_fits) */
};

/* Copies into corpus the inputs of the directory from that fit lim and
 * that it does not hold yet, named merged-HASH. */
int corpus_merge(const char *corpus, const char *from,
		 const struct decode_limits *lim, struct merge_counts *n,
		 struct error *err);
/* Calls fn on dir/NAME for every NAME ending in suffix, in sorted order,
 * until one fails. */
int for_each_in_dir(const char *dir, const char *suffix,
		    int (*fn)(const char *path, const void *arg, struct error *),
		    const void *arg, struct error *err);
/* Entries in dir (not counting dot files), or -1. */
long count_files(const char *dir);

/* ------------------------------------------------------------- stats.c */

/*
 * Op coverage (`epollfuzz fuzz --stats`): how often each op, named flag,
 * fd kind and errno was generated and returned.  A flat, fixed-size tally,
 * filled per run from the program and the reference's outcome.
 */
#define FUZZ_STATS_NAMES 24    /* names of one flag/enum field, at most */
#define FUZZ_STATS_ERRNOS 256  /* errnos counted apart (larger ones as 0) */
#define FUZZ_STATS_FD_KINDS 9  /* enum fd_kind (fdsim.h) */

struct fuzz_stats_op {
	unsigned long drawn;
	unsigned long ok;      /* done with ret >= 0 */
	unsigned long blocked; /* still blocked when its step was recorded */
	unsigned long skipped; /* its thread was blocked */
	unsigned long unrun;   /* unsupported, or the run stopped before it */
	unsigned long err[FUZZ_STATS_ERRNOS]; /* done with ret -1, by errno */
	/* By field index in op_table[kind].fields: */
	unsigned long named[OP_MAX_FIELDS][FUZZ_STATS_NAMES]; /* by names[] index */
	unsigned long unnamed[OP_MAX_FIELDS]; /* values with bits no name covers */
	unsigned long fd_kind[OP_MAX_FIELDS][FUZZ_STATS_FD_KINDS]; /* FK_FD fields */
};

struct fuzz_stats {
	unsigned long programs, ops;
	struct fuzz_stats_op op[OP_KIND_COUNT];
};

/* Bumps libFuzzer's extra counters with the features of p's run, from
 * out (the reference's outcome): what each step did to which kind of file,
 * what waits returned and steps woke, in what order (feedback.c). */
void fuzz_feedback(const struct program *p, const struct outcome *out);
/* The same into counters (FEEDBACK_COUNTERS of them), for tests. */
#define FEEDBACK_COUNTERS (1u << 16)
void fuzz_feedback_walk(uint8_t *counters, const struct program *p,
			const struct outcome *out);

/* Counts p's ops, run with outcome out (the reference's). */
void fuzz_stats_add(struct fuzz_stats *st, const struct program *p,
		    const struct outcome *out);
int fuzz_stats_write(const struct fuzz_stats *st, const char *path,
		     struct error *err);
/* Adds the tally of a file fuzz_stats_write() wrote to st. */
int fuzz_stats_read_add(struct fuzz_stats *st, const char *path,
			struct error *err);
/* The report: a table per op, then GAPS (what was never drawn, or in less
 * than 0.1% of the ops it could appear in). */
void fuzz_stats_print(FILE *f, const struct fuzz_stats *st);
const char *fuzz_stats_fd_kind_name(unsigned kind);

/* ------------------------------------------------------------ files.c */



#endif
