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
/* Its inverse for the usual answers: a selector that names fd, or -1 when
 * there is no direct one (the encoder then tries every byte). */
int fd_sim_selector(const struct fd_sim *s, enum op_kind kind,
		    enum field_id id, int64_t fd);

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

/*
 * The mutator's randomness (mutate.c, recipes.c): a splitmix64 stream, so
 * that everything is a function of the inputs and the seed and a fuzzer
 * can replay a mutation.
 */
struct rng {
	uint64_t state;
};

static inline struct rng rng_seeded(unsigned int seed)
{
	return (struct rng){ 0x9e3779b97f4a7c15ull * ((uint64_t)seed + 1) };
}

/* splitmix64: cheap, and every seed gives a good stream. */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n); n > 0. */
static inline unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static inline bool rng_percent(struct rng *r, unsigned percent)
{
	return rng_below(r, 100) < percent;
}

/*
 * A fresh program built to one of a few plans (recipes.c) that random bytes
 * rarely draw: nested instances at the kernel's nesting and path limits, an
 * edge-triggered interest poked by ops that wake without changing state,
 * several threads asleep on one object.  p is empty on entry; at most
 * max_ops ops and max_threads threads.  The caller encodes it, which bends
 * it into the campaign's limits.
 */
void recipe_program(struct rng *r, unsigned max_ops, unsigned max_threads,
		    struct program *p);

#endif
