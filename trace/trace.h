/*
 * trace.h - what every piece of epollfuzz shares.
 *
 * One program type (a sequence of operations spread over simulated threads),
 * one outcome type (what a target did, step by step), the op table that
 * describes every operation once, and the small interface every target
 * implements.  The JSON codec, the byte decoder, the comparator and the docs
 * are all driven by the op table below; nothing else spells out an op's
 * fields.
 */
#ifndef EPOLLFUZZ_TRACE_H
#define EPOLLFUZZ_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_t; /* jansson's; only the codec looks inside */

#define TRACE_VERSION 1
#define MAX_THREADS 8
#define MAX_OPS 4096
#define MAX_IO_LEN (1 << 20) /* largest read/write length a trace may ask for */

/*
 * The initial fd table, one configuration shared by model and oracle: fds
 * 0-2 are open on /dev/null (not pollable), every other number below
 * FD_LIMIT is free, and FD_LIMIT is the programs' RLIMIT_NOFILE.
 */
#define FD_LIMIT 1024
#define FD_INITIAL_OPEN 3

/* ------------------------------------------------------------------------
 * Errors: returned as values, with a message; never printed deep inside.
 */
struct error {
	char msg[512];
};

/* Formats into err (when not NULL) and returns -1, so callers can write
 * `return fail(err, "...")`. */
int fail(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------
 * Operations and their fields.
 *
 * Every field has one slot in struct op, whichever op uses it; the op table
 * says which fields an op has, their defaults and their flag names.
 */
enum op_kind {
	OP_EPOLL_CREATE,
	OP_EPOLL_CREATE1,
	OP_EPOLL_CTL,
	OP_EPOLL_WAIT,
	OP_PIPE2,
	OP_EVENTFD,
	OP_SOCKETPAIR,
	OP_DUP,
	OP_DUP2,
	OP_DUP3,
	OP_CLOSE,
	OP_WRITE,
	OP_READ,
	OP_SHUTDOWN,
	OP_SLEEP,
	/* Appended: the numbers above never change (the byte format, the
	 * plugin ABI's table in plugin/abi.c). */
	OP_EPOLL_PWAIT,
	OP_EPOLL_PWAIT2,
	OP_CLOSE_RANGE,
	OP_FCNTL,
	OP_FORK,
	OP_EXIT,
	OP_KIND_COUNT
};

enum field_id {
	F_SIZE,
	F_FLAGS,
	F_EPFD,
	F_CTL,
	F_FD,
	F_EVENTS,
	F_DATA,
	F_MAXEVENTS,
	F_TIMEOUT,
	F_INITVAL,
	F_TYPE,
	F_NEWFD,
	F_LEN,
	F_VALUE,
	F_HOW,
	F_MS,
	F_TIMEOUT_NS,
	F_FIRST,
	F_LAST,
	F_CMD,
	F_ARG,
	F_CHILD,
	FIELD_COUNT
};

/* How a field's value is read, written, range-checked and decoded. */
enum field_kind {
	FK_FD,    /* a file descriptor number (int) */
	FK_INT,   /* a plain int */
	FK_COUNT, /* a non-negative length or count with its own upper bound */
	FK_U32,   /* an unsigned int (eventfd initval) */
	FK_U64,   /* 64 bits (epoll data, eventfd value); strings "0x..." above INT64_MAX */
	FK_FLAGS, /* a bit set; names from the field's flag table */
	FK_ENUM,  /* one named value (possibly or-ed with flags, see flag_name.mask) */
};

/* How an absent field gets its value. */
enum field_default {
	DEF_VALUE,    /* the constant in field_desc.def */
	DEF_REQUIRED, /* the field must be given */
	DEF_RUNTIME,  /* decided when the op runs: see op_data() and op_io_len() */
};

/*
 * A name for some bits of a flag or enum field.  A name matches a value when
 * (value & mask) == bits; plain flags have mask == bits, enum values carry the
 * mask of the enum part (SOCK_STREAM is 1 under mask 0xf, so that
 * "SOCK_DGRAM|SOCK_NONBLOCK" reads and writes as one value).
 */
struct flag_name {
	const char *name;
	uint64_t bits;
	uint64_t mask;
};

struct field_desc {
	enum field_id id;
	const char *name;
	enum field_kind kind;
	enum field_default defkind;
	int64_t def;
	int64_t min, max;              /* accepted range of an integer in a trace */
	const struct flag_name *names; /* NULL-terminated; FK_FLAGS and FK_ENUM */
	const char *doc;               /* one line for the generated docs */
};

#define OP_MAX_FIELDS 5

struct op_desc {
	const char *name; /* as in JSON: "epoll_ctl" */
	const char *call; /* the C call it stands for, for docs and export */
	bool may_block;   /* the waits, and read/write on a blocking fd */
	unsigned nfields;
	struct field_desc fields[OP_MAX_FIELDS];
};

extern const struct op_desc op_table[OP_KIND_COUNT];

const struct op_desc *op_desc_by_name(const char *name);
const struct field_desc *op_field(enum op_kind kind, enum field_id id);
const char *field_name(enum field_id id);

/* Flag tables, also used by the targets and the pretty printer. */
extern const struct flag_name epoll_event_names[];

/*
 * Renders value with the names of a flag/enum table ("EPOLLIN|EPOLLET").
 * Returns false (and leaves buf unspecified) when some bits have no name.
 */
bool flags_format(const struct flag_name *names, uint64_t value, char *buf,
		  size_t len);
/* Parses "A|B"; "" is 0.  On an unknown name returns -1 with it in err. */
int flags_parse(const struct flag_name *names, const char *text,
		uint64_t *value, struct error *err);

/* ------------------------------------------------------------------------
 * Programs.
 */
struct op {
	uint8_t kind;     /* enum op_kind */
	uint8_t t;        /* simulated thread */
	uint32_t present; /* bit (1 << field_id) for each field given explicitly */
	int64_t f[FIELD_COUNT];
	struct json_t *extras; /* "x-" keys of this op, kept on round trip; may be NULL */
};

struct program {
	unsigned nops;
	unsigned threads; /* number of simulated threads, 1..MAX_THREADS */
	bool threads_given;
	struct op *ops;
	struct json_t *extras; /* top-level "x-" keys and "meta"; may be NULL */
	/* The outcome the trace recorded, for the recorded target (run
	 * --expect, conform); set by whoever loaded it, not owned, and not
	 * carried by program_copy (a changed program has no recording). */
	const struct outcome *recorded;
};

_Static_assert(FIELD_COUNT <= 32, "struct op's present holds a bit per field");

static inline bool op_has(const struct op *op, enum field_id id)
{
	return op->present & (1u << id);
}

/* ------------------------------------------------------------------------
 * What several pieces must agree on about some ops (optable.c).
 */

/* epoll_wait, epoll_pwait and epoll_pwait2: one wait (ep_poll) whatever
 * the syscall; the kind only picks the call and how its timeout is given. */
bool op_is_epoll_wait(unsigned kind);

enum wait_timeout {
	WAIT_FOREVER, /* timeout < 0; epoll_pwait2 without a timespec (NULL) */
	WAIT_POLL,    /* 0: one scan, never sleeps */
	WAIT_TIMED,   /* a deadline on the virtual clock */
	WAIT_EINVAL,  /* epoll_pwait2's timespec is invalid: EINVAL first */
};

/*
 * An epoll wait's timeout on the virtual clock, which counts milliseconds:
 * *ms (WAIT_TIMED only) is how far ahead its deadline lies.  epoll_pwait2's
 * timeout_ns is the timespec {ns / 10^9, ns % 10^9}: negative is invalid
 * (timespec64_valid), 0 polls, and a deadline now + ns is passed by the
 * first clock reading at or after it, ceil(ns / 10^6) ms on.
 */
enum wait_timeout op_wait_timeout(const struct op *op, uint64_t *ms);

/* The fcntl commands epollfuzz runs: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
 * F_SETFD, F_GETFL, F_SETFL, and negative numbers (no command: EINVAL).
 * Any other (locks, owners, leases, pipe sizes, ...) may write to memory
 * at arg, signal processes or act outside the program: neither the model
 * nor the oracle runs it (unsupported). */
bool fcntl_cmd_runs(int64_t cmd);

/* Whether a close_range op unshares the fd table: CLOSE_RANGE_UNSHARE on
 * a call that passes the flag and range checks (__close_range).  A thread
 * of process 0 then works on a table of its own (a copy); elsewhere the
 * table has one thread and is used in place. */
bool close_range_unshares(const struct op *op);

/*
 * Processes (fork and exit).  A thread named by a fork's child field is the
 * only thread of the process that fork starts (its number is the thread's);
 * any thread may fork, a child too.  Every other thread belongs to process
 * 0, and a process's threads share its fd table (until one unshares it:
 * close_range_unshares).  The rules, checked when a trace is loaded and
 * again by both targets before they run a program (an op that breaks one
 * is not run: the step is unsupported, with the reason): a fork's child is
 * another thread of the program that no earlier op named (as t or as a
 * child); exit is made by a thread that a fork started (process 0 never
 * exits), once; a thread makes no op after its exit.
 * Returns the index of the first op that breaks one (why says which rule,
 * naming the op and field), or p->nops when none does.
 */
unsigned program_check_processes(const struct program *p, struct error *why);

/* epoll_ctl's data: the field if given, else the value of fd. */
uint64_t op_data(const struct op *op);
/* read/write byte count: len if given; else 8 on an eventfd, or the
 * table's default (read 4096, write 1). */
size_t op_io_len(const struct op *op, bool on_eventfd);

/* Whether running op can wake a sleeping thread (false for ops that only
 * make fds). */
bool op_may_wake(const struct op *op);

/* An op of the given kind with every default filled in. */
void op_init(struct op *op, enum op_kind kind, unsigned thread);

void program_init(struct program *p);
void program_free(struct program *p);
int program_copy(struct program *dst, const struct program *src,
		 struct error *err);
/* Appends an op (copied); extras are not shared. */
int program_push(struct program *p, const struct op *op, struct error *err);
/* 1 + the largest thread used, or 1. */
unsigned program_min_threads(const struct program *p);

/* ------------------------------------------------------------------------
 * Outcomes.
 */
enum step_state {
	STEP_DONE,        /* the call returned: see result */
	STEP_BLOCKED,     /* the call blocked; a later step completes it, or none */
	STEP_SKIPPED,     /* the thread was blocked when the op's turn came */
	STEP_UNSUPPORTED, /* the target cannot run this op: see outcome.unsupported */
};

struct event_rec {
	uint32_t events;
	uint64_t data;
};

enum result_has {
	RES_FDS = 1,    /* fds[] holds the two new descriptors */
	RES_VALUE = 2,  /* value holds the eventfd counter read */
	RES_EVENTS = 4, /* ev_first/ev_count hold epoll_wait's events */
};

struct result {
	uint8_t has;      /* enum result_has bits */
	int64_t ret;
	int err;          /* errno when ret == -1, else 0 */
	int fds[2];       /* pipe2, socketpair */
	uint64_t value;   /* read on an eventfd */
	uint32_t ev_first; /* epoll_wait: events[ev_first .. ev_first + ev_count) */
	uint32_t ev_count;
};

struct completion {
	uint32_t step; /* the blocked op that completed */
	uint8_t t;
	struct result res;
};

struct step_record {
	uint32_t step;
	uint8_t t;
	uint8_t state; /* enum step_state */
	struct result res;
	uint32_t done_first; /* completions[done_first .. + done_count), sorted by t */
	uint32_t done_count;
};

struct blocked_rec {
	uint32_t step;
	uint8_t t;
};

/* A model self-check that failed: a finding of its own class. */
struct violation {
	bool broken;
	uint32_t step;
	char cls[48];   /* short name, e.g. "dangling-interest" */
	char msg[256];
};

struct outcome {
	uint32_t nsteps, cap_steps;
	struct step_record *steps;
	uint32_t nevents, cap_events;
	struct event_rec *events;
	uint32_t ndone, cap_done;
	struct completion *done;
	uint32_t nblocked;
	struct blocked_rec blocked[MAX_THREADS]; /* still blocked at the end */
	char unsupported[160]; /* what the target does not support, when a step says so */
	struct violation violation;
};

void outcome_init(struct outcome *o);
void outcome_reset(struct outcome *o); /* empty, keeping the buffers */
void outcome_free(struct outcome *o);
/* Appends a record for step (state and result filled by the caller). */
struct step_record *outcome_add_step(struct outcome *o, uint32_t step,
				     unsigned t);
/* Appends one event to the pool and to res (which must be the last result
 * to receive events). */
void outcome_add_event(struct outcome *o, struct result *res, uint32_t events,
		       uint64_t data);
struct completion *outcome_add_completion(struct outcome *o,
					  struct step_record *rec,
					  uint32_t step, unsigned t);
void result_set_error(struct result *res, int err);
int outcome_copy(struct outcome *dst, const struct outcome *src);

/* ------------------------------------------------------------------------
 * Targets: anything that runs a program and fills an outcome.
 */
struct target_config {
	const char *inject; /* injected model bug by name, or NULL */
	/* The model's first order among racing threads, where a search of the
	 * orders the kernel allows starts (model_run_like): 0, the kernel's
	 * usual one (woken threads run oldest first, and at a preemption
	 * point at once); any other value turns each choice by a hash of it
	 * and of where the choice falls, so that a campaign's model searches
	 * often and a slip in the search shows (fuzz sessions set it). */
	unsigned schedule_seed;
	/* What follows "KIND:" in the target's spec (targets/targets.h):
	 * exec's command line, plugin's path; NULL for kinds that take none. */
	const char *arg;
};

struct target;

struct target_ops {
	const char *name;
	const char *summary;
	/* What the spec takes after "NAME:" ("CMD [ARGS...]"), or NULL when
	 * the target is named alone. */
	const char *arg_usage;
	struct target *(*open)(const struct target_config *cfg,
			       struct error *err);
	/* Runs p from a fresh fd table.  Returns 0 when out is complete (even
	 * if it records errors of the calls), -1 when the target itself failed
	 * (err says why). */
	int (*run)(struct target *t, const struct program *p,
		   struct outcome *out, struct error *err);
	/*
	 * Optional, for targets that know a program may have several outcomes
	 * (Linux races where several woken threads scan: the model yields
	 * every order the kernel allows).  Fills out with the allowed outcome
	 * equal to ref when there is one, else with the one that agrees with
	 * ref for the longest prefix.  NULL: run() is the only outcome.
	 */
	int (*run_like)(struct target *t, const struct program *p,
			const struct outcome *ref, struct outcome *out,
			struct error *err);
	void (*close)(struct target *t);
	/*
	 * Optional: a fact about the open target that a finding records in its
	 * meta, by key: "settle" (how the executor knows a thread sleeps:
	 * "proc", "proc-probed", "timed:MS"), "command" (what runs it).  NULL
	 * when the target has no such fact.
	 */
	const char *(*describe)(struct target *t, const char *key);
};

/* ------------------------------------------------------------------------
 * JSON codec (json.c).
 */
/* Parses a trace.  With want_outcome, an "outcome" key is parsed into out
 * (when not NULL); otherwise it is accepted and ignored. */
int trace_parse(const char *text, size_t len, struct program *p,
		struct outcome *out, struct error *err);
int trace_load_file(const char *path, struct program *p, struct outcome *out,
		    struct error *err);
/* Builds the JSON of a program, with its outcome when out is not NULL.
 * The caller json_decref()s the result. */
struct json_t *trace_to_json(const struct program *p,
			     const struct outcome *out);
struct json_t *outcome_to_json(const struct program *p,
			       const struct outcome *out);
/* Serialised (indent 0: one line per op).  Caller frees. */
char *trace_dump(const struct program *p, const struct outcome *out);
/* json_dumps() for JSON that holds what trace_to_json() or outcome_to_json()
 * made, or a parsed program's extras: u64 values above INT64_MAX, which
 * jansson cannot hold as integers, come out as plain JSON integers (plain
 * json_dumps() would write them as strings no reader accepts).  Caller
 * frees; NULL when jansson fails. */
char *trace_json_dumps(const struct json_t *json, size_t flags);

/* Symbolic errno names, "EBADF"; "E<number>" for others. */
const char *errno_name(int err);
int errno_from_name(const char *name); /* -1 when unknown */

/* ------------------------------------------------------------------------
 * Files (files.c).
 */
/* A path built from pieces, or an error when it does not fit. */
int path_printf(char *buf, size_t len, struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* mkdir, where a directory already there is fine. */
int make_dir(const char *path, struct error *err);
/* A 64-bit hash of bytes (FNV-1a): names for files by their content. */
uint64_t hash_bytes(const void *data, size_t len);
/* Writes data to path through a temporary file and a rename, so that a
 * reader never sees half a file; a path that is not a regular file (say
 * /dev/null) is written in place instead of being replaced. */
int write_atomically(const char *path, const void *data, size_t len,
		     struct error *err);

/* ------------------------------------------------------------------------
 * Comparison (compare.c).
 */
enum verdict_class {
	VERDICT_AGREE,
	VERDICT_DIVERGE,     /* the targets' outcomes differ at step */
	VERDICT_INVARIANT,   /* a target broke one of its own invariants */
	VERDICT_UNSUPPORTED, /* a target cannot run the program */
};

struct verdict {
	enum verdict_class cls;
	uint32_t step;      /* index into ops of the first divergent step */
	uint32_t record;    /* index into outcome.steps */
	char field[32];     /* what differs: "ret", "errno", "events", ... */
	char signature[96]; /* "epoll_wait.events", "invariant:lost-wakeup",
			       "unsupported:epoll_wait" */
	char detail[256];
	/* Set by judge(): the target the finding is about (the one that
	 * departs from the reference, or whose invariant or unsupported op it
	 * is), and the reference ("" when a target was judged alone). */
	char target[64];
	char reference[64];
	/* What kind of difference, for a divergence: "EINVAL-vs-EBADF" (the
	 * target's errno, the reference's), "EPOLLHUP" (event bits that
	 * differ), "count", "which" (another completion), "fails-vs-succeeds",
	 * "done-vs-blocked"; "" where it says nothing more than the field. */
	char what[48];
};

void compare_outcomes(const struct program *p, const struct outcome *a,
		      const struct outcome *b, struct verdict *v);
/*
 * The verdict, computed here and nowhere else.  out (target `name`) is
 * judged against ref (target `ref_name`): the earliest of a broken invariant
 * of either, a step either cannot run, or the first step where out departs
 * from ref.  With ref NULL, out is judged alone (its invariants and
 * unsupported ops).  v->target and v->reference say who is who.
 */
void judge(const struct program *p, const char *ref_name,
	   const struct outcome *ref, const char *name,
	   const struct outcome *out, struct verdict *v);
/* The earliest of two verdicts (the first when they tie): later steps ran
 * on a state already wrong. */
void verdict_prefer(struct verdict *v, const struct verdict *c);
/* "exec-qemu-x86_64:epoll_wait.events[EPOLLHUP]": what tells findings
 * apart (the target, the signature and what differs). */
void verdict_key(const struct verdict *v, char *buf, size_t len);
/* Agrees when actual matches any allowed outcome (the model's, where Linux
 * itself may race); otherwise the divergence from the allowed outcome that
 * matches actual longest. */
void compare_outcome_set(const struct program *p, const struct outcome *allowed,
			 unsigned nallowed, const struct outcome *actual,
			 struct verdict *v);
/* One op as a C-like call, "epoll_ctl(3, EPOLL_CTL_ADD, 4, EPOLLIN, data=4)",
 * "t1: epoll_wait(3, 16, -1)" (format.c). */
void op_format(const struct op *op, char *buf, size_t len);
/* One step record's result or a completion's, "= 1 [EPOLLIN:4]",
 * "= -1 EBADF", "blocked", "skipped (blocked)" (format.c). */
void result_format(const struct outcome *o, const struct result *res,
		   char *buf, size_t len);
/* Human text: both outcomes side by side around the verdict's step. */
void verdict_print(FILE *f, const struct program *p, const char *name_a,
		   const struct outcome *a, const char *name_b,
		   const struct outcome *b, const struct verdict *v);

/* The same with n (at most 4) outcomes side by side: the departing
 * target's, the reference's, then those that explain (the model's). */
void verdict_print_n(FILE *f, const struct program *p,
		     const char *const *names, const struct outcome *const *outs,
		     unsigned n, const struct verdict *v);

/* A verdict as meta.verdict (json.c): {"class", "step", "field",
 * "signature", "detail"}; class "agree" alone when the targets agree. */
const char *verdict_class_name(enum verdict_class cls);
struct json_t *verdict_to_json(const struct verdict *v);

/* ------------------------------------------------------------------------
 * ddmin's walk over a sequence of n items (chunks.c): chunks of half, a
 * quarter, ... one item, never the whole.  Take a chunk with next (n is the
 * sequence's length now), try removing it, then say with step whether the
 * removal was kept.
 */
struct chunk_walk {
	unsigned size, start;
};

void chunk_walk_init(struct chunk_walk *w, unsigned n);
bool chunk_walk_next(struct chunk_walk *w, unsigned n, unsigned *from,
		     unsigned *len);
void chunk_walk_step(struct chunk_walk *w, unsigned len, bool kept);

/* ------------------------------------------------------------------------
 * Minimisation (minimize.c): shrink a finding while it keeps its signature.
 * Target-agnostic: a reference target with one outcome (Linux) and a target
 * matched against it (the model, through run_like when it has one).
 */
struct minimize_targets {
	const struct target_ops *ref_ops;
	struct target *ref;
	const char *ref_name; /* as judge() names them: "linux" */
	const struct target_ops *like_ops;
	struct target *like;
	const char *like_name; /* "model", "exec-qemu-x86_64" */
};

struct minimize_result {
	unsigned ops_before, ops_after;
	unsigned threads_before, threads_after;
	unsigned runs;           /* programs run on both targets */
	unsigned smallest_ops;   /* the smallest version found */
	bool fell_back;          /* it failed the re-check: an earlier one is kept */
	bool stable;             /* the result kept its signature every re-run */
	struct verdict verdict;  /* the minimised program's */
	struct outcome ref_out;  /* its outcomes, from the re-check */
	struct outcome like_out;
};

enum minimize_status {
	MINIMIZE_FAILED = -1,     /* a target failed: err says why */
	MINIMIZE_DONE = 0,        /* p is minimised */
	MINIMIZE_AGREE = 1,       /* no signature given and the targets agree */
	MINIMIZE_NOT_REPRODUCED = 2, /* the wanted signature never came back */
};

/* Runs p on the reference, then the other target matched against it, and
 * judges: the earliest broken invariant, unsupported op or divergence. */
int minimize_judge(const struct minimize_targets *t, const struct program *p,
		   struct outcome *ref_out, struct outcome *like_out,
		   struct verdict *v, struct error *err);
/*
 * Shrinks p in place while a run keeps want's class and signature (want
 * NULL: p's own verdict).  Ops and threads are removed and arguments
 * simplified; fd arguments follow the objects they named in p, not their
 * numbers.  r is filled (free it with minimize_result_free) unless the
 * status is MINIMIZE_FAILED.
 */
enum minimize_status minimize_program(const struct minimize_targets *t,
				      struct program *p,
				      const struct verdict *want,
				      struct minimize_result *r,
				      struct error *err);
void minimize_result_free(struct minimize_result *r);

#endif
