/*
 * model.h - the in-process model of the kernel objects epoll touches.
 *
 * The model is a target like any other (model_target).  Tests and the fuzz
 * glue may also drive it step by step and check its invariants.
 */
#ifndef EPOLLFUZZ_MODEL_H
#define EPOLLFUZZ_MODEL_H

#include "trace.h"

extern const struct target_ops model_target;

struct model;

/*
 * Injected bugs (inject.c): realistic mistakes that can be switched into
 * the model by name, through target_config.inject or EPOLLFUZZ_INJECT
 * ("name[,name...]").
 */
enum inject_bug {
	INJECT_EPOLL_FD_NUMBER,
	INJECT_NO_WAKE_ON_READY,
	INJECT_WAKE_ON_EPFD_CLOSE,
	INJECT_INTEREST_BY_FD,
	INJECT_SURVIVE_LAST_CLOSE,
	INJECT_ET_REQUEUE,
	INJECT_ONESHOT_STAYS_ARMED,
	INJECT_FIFO_WAITERS,
	INJECT_NO_EVENTFD_ZERO_WAKE,
	INJECT_REMAINDER_AT_TAIL,
	INJECT_ERRNO_ORDER,
	INJECT_NOT_LOWEST_FD,
	INJECT_COUNT
};

struct injected_bug {
	const char *name;
	const char *what; /* the mistake, and the real bug it stands for */
};

/* The table of INJECT_COUNT bugs, indexed by enum inject_bug. */
const struct injected_bug *model_injected_bugs(void);
int inject_parse(const char *names, unsigned *mask, struct error *err);

struct model *model_new(const struct target_config *cfg, struct error *err);
void model_free(struct model *m);
/* Runs a whole program from a fresh state (what model_target.run does). */
int model_run(struct model *m, const struct program *p, struct outcome *out,
	      struct error *err);

/*
 * Self-checks (DESIGN.md "Invariants").  Returns true when every invariant
 * holds; otherwise fills v with the class and a message.
 */
bool model_check(struct model *m, struct violation *v);

/*
 * Deliberate damage, for tests that prove each invariant check fires.
 * Returns false when the current state has nothing to damage that way.
 */
enum model_damage {
	DAMAGE_FREE_EPOLL_UNDER_INTEREST, /* an interest's epoll instance released */
	DAMAGE_FREE_FILE_UNDER_INTEREST,  /* an interest's watched file released */
	DAMAGE_DUPLICATE_READY,           /* an item twice on a ready list */
	DAMAGE_FOREIGN_READY,             /* a ready item of another instance */
	DAMAGE_REFCOUNT,                  /* a description's count off by one */
	DAMAGE_FD_TABLE,                  /* an fd slot naming a released file */
	DAMAGE_LOST_WAKEUP,               /* a sleeper beside reportable events */
	DAMAGE_LOST_IO_WAKEUP,            /* a reader asleep beside data for it */
};
bool model_damage(struct model *m, enum model_damage what);

/*
 * Where several woken threads race to scan, the kernel allows several
 * outcomes.  Runs p under the orders it allows, guided by a reference
 * outcome (Linux's): out gets the allowed outcome equal to ref if there is
 * one, else the one agreeing with ref the longest.  *runs (may be NULL)
 * says how many orders were tried.
 */
int model_run_like(struct model *m, const struct program *p,
		   const struct outcome *ref, struct outcome *out,
		   unsigned *runs, struct error *err);

/*
 * Every distinct outcome the kernel allows for p, as far as the model
 * knows: p is run under each order in which woken threads may scan (every
 * option of every choice point, depth first, the default order first), and
 * each outcome not seen before goes to outs[*n] (the caller frees
 * outs[0..*n)).  *cut says that some may be missing: more than max
 * distinct outcomes, or more orders than the model tries.
 */
int model_run_all(struct model *m, const struct program *p,
		  struct outcome *outs, unsigned max, unsigned *n, bool *cut,
		  struct error *err);

/* Prepares m for program p (fresh fd table) and runs ops[0..n). */
int model_run_prefix(struct model *m, const struct program *p, unsigned n,
		     struct outcome *out, struct error *err);

#endif
