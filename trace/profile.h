/*
 * profile.h - the subset of the op table that an implementation under test
 * can run, as data.
 *
 * A profile is a table of rules over the op table: ops it cannot run at
 * all, flag bits and enum values it aborts on, numbers out of its range,
 * kinds of file an fd argument must not name.  One check, profile_refuses(),
 * says whether a profile can run an op with its arguments and, if not, why;
 * the byte decoder bends what it draws into the profile (profile_bend), so
 * that `fuzz --profile` generates only programs inside it; minimize keeps
 * only candidates inside it (profile_wrap_target); the exporters refuse a
 * trace outside it (profile_check_run).
 *
 * The fds an op names are judged by what they hold when it runs, from the
 * fd table simulation (fdsim.h): the decoder's guess while drawing, the
 * recording's exact table once a program has run.
 */
#ifndef EPOLLFUZZ_PROFILE_H
#define EPOLLFUZZ_PROFILE_H

#include "fdsim.h"
#include "trace.h"

enum profile {
	PROFILE_ANY,  /* every program: no rules */
	PROFILE_MIRI, /* what Miri's epoll emulation runs, as a test Miri's suite takes */
	PROFILE_COUNT
};

const char *profile_name(enum profile prof);
/* The profile called name; -1 (err lists the names) when there is none. */
int profile_by_name(const char *name, enum profile *prof, struct error *err);

/*
 * Whether prof refuses op, run while s describes the fd table: false when
 * the profile can run it; else true, with "FIELD VALUE: why" (or just why,
 * for an op refused whole) in why.
 */
bool profile_refuses(enum profile prof, const struct op *op,
		     const struct fd_sim *s, char *why, size_t len);

/* Whether prof can run an op of this kind at all. */
bool profile_allows_kind(enum profile prof, enum op_kind kind);

/*
 * Changes op's arguments so that prof no longer refuses them (kinds it
 * refuses whole stay as they are: the decoder does not draw them): flag
 * bits outside the profile cleared, values clamped or replaced, an fd of a
 * refused kind replaced by a made fd of an allowed kind, else -1.  Also
 * bends what only generation needs: under PROFILE_MIRI, no wait without a
 * timeout (a thread left blocked forever cannot be exported).
 */
void profile_bend(enum profile prof, struct op *op, const struct fd_sim *s);

/* One thing a profile cannot run in a program that ran. */
struct profile_refusal {
	uint32_t step;
	char why[224]; /* "epoll_ctl events EPOLLONESHOT: Miri aborts on it" */
};

/*
 * Checks a program with the outcome it recorded (one record per op) against
 * prof: every op that ran, with the fds the recording made, and what the
 * run itself did that a test could not repeat (a thread Linux leaves blocked
 * forever, a result that depends on RLIMIT_NOFILE).  Stores the first max
 * refusals in out, in step order, and returns how many there are.
 */
unsigned profile_check_run(enum profile prof, const struct program *p,
			   const struct outcome *rec,
			   struct profile_refusal *out, unsigned max);

/*
 * A target that runs programs on inner and reports a program outside prof
 * as unsupported at step 0 (whatever the inner outcome), so that `minimize`
 * keeps only candidates inside the profile.  It owns inner: its close()
 * closes inner.  NULL when out of memory.
 */
extern const struct target_ops profile_target;
struct target *profile_wrap_target(enum profile prof,
				   const struct target_ops *inner_ops,
				   struct target *inner);

#endif
