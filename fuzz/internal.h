/*
 * internal.h - what the byte format's two directions (decode.c) and the
 * mutator (mutate.c) share inside fuzz/.
 */
#ifndef EPOLLFUZZ_FUZZ_INTERNAL_H
#define EPOLLFUZZ_FUZZ_INTERNAL_H

#include "fdsim.h"
#include "fuzz.h"
#include "profile.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The fd that selector byte sel names for field id of an op of the given
 * kind: below 184 a made fd (mostly of a preferred kind), then a closed
 * one, a small wild number, -1, or a big one.
 */
int64_t fd_sim_choose(const struct fd_sim *s, enum op_kind kind,
		      enum field_id id, uint8_t sel);

/*
 * Each thread's place among a program's processes (trace.h), as the decoder
 * tracks it while drawing so that every fork and exit it gives keeps the
 * rules (program_check_processes), and as the mutator replays it to insert
 * them where they keep them: one bookkeeping, in decode.c.
 */
enum thread_proc {
	TP_UNUSED,  /* no op named it yet: a fork may take it as child */
	TP_MAIN,    /* a thread of process 0 */
	TP_CHILD,   /* the only thread of a process a fork started */
	TP_EXITED,  /* its process exited: no more ops */
};

struct procs {
	unsigned threads;          /* the program's (1..MAX_THREADS) */
	uint8_t proc[MAX_THREADS]; /* enum thread_proc, per thread */
};

/* Before the first op: every thread unused. */
void procs_start(struct procs *ps, unsigned threads);
/* Whether an op of this kind can come next: a fork needs an unused thread
 * for its child (and a thread to make it), an exit a living forked thread;
 * any other kind can. */
bool procs_allow(const struct procs *ps, enum op_kind kind);
/* Moves op where it keeps the rules, as near its thread (and a fork's
 * child) as it can: t taken modulo the threads, an exit to a living forked
 * thread, a fork to a thread that may fork and its child to an unused one,
 * any other op off an exited thread.  Needs procs_allow(op's kind). */
void procs_bend(const struct procs *ps, struct op *op);
/* op (bent) comes next in the program. */
void procs_note(struct procs *ps, const struct op *op);

#endif
