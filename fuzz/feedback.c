/*
 * feedback.c - what a run's outcome says about the kernel objects' states,
 * as extra coverage for libFuzzer (issue 12: the states mutants hide in).
 *
 * Code coverage rewards an input that runs a new line of the model; it
 * does not tell a write that filled a pipe to the last byte from one that
 * wrote one byte, nor a wait that returned maxevents from one that returned
 * one, nor a close of a watched fd from a close of an idle one: all run the
 * same lines.  So every run also bumps counters in libFuzzer's extra
 * counters section, one per feature of each step of the reference's
 * outcome, and an input that shows a new feature is kept like one that
 * covers a new edge:
 *   - the step: op, kinds of file its fds name, an epoll_ctl's command and
 *     interest modes, state, errno, a bucket of the return value (exact at
 *     the boundaries that matter: 0, 1, 8 for an eventfd, a page, a pipe's
 *     16 pages, the unix buffer), and whether a read or write moved less
 *     than it asked;
 *   - what a wait returned: the event bits, the modes (edge-triggered,
 *     oneshot, exclusive) of the interests they came from, how many, and
 *     whether maxevents cut it short;
 *   - what the step woke: how many blocked calls completed, of which kind;
 *   - the order: the feature of the previous op on the same fd number with
 *     this one (a close after an epoll_ctl, a write after a dup2 over it),
 *     and the previous step's with this one.
 * A call that failed counts only as its kind, fds and errno: error paths
 * are cheap to reach, and richer features for them would fill the corpus
 * with programs that fail early instead of ones that go deep.
 * The features come from the reference's outcome (Linux in a campaign, the
 * model alone under fuzz_model) through the fd simulation driven by it, so
 * what they describe is what the kernel did.  In a build without libFuzzer
 * the section is just an array nobody reads.
 */
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#include "fdsim.h"
#include "fuzz.h"

/* Bookkeeping, not the code under test (as in stats.c): its branches must
 * not be coverage of their own. */
#if defined(__clang__)
#define NOT_FUZZED __attribute__((no_sanitize("coverage")))
#else
#define NOT_FUZZED
#endif


/* libFuzzer clears the section before each input and reads it after. */
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t feedback_counters[FEEDBACK_COUNTERS];

NOT_FUZZED static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
	return h;
}

/* Where a walk bumps its features: FEEDBACK_COUNTERS counters. */
struct feedback_walk {
	uint8_t *counters;
};

NOT_FUZZED static void bump(struct feedback_walk *w, uint32_t feature)
{
	uint8_t *c = &w->counters[(feature * 2654435761u) >> 16];

	if (*c < 255)
		(*c)++;
}

/* The return value, exact where the kernel has a boundary. */
NOT_FUZZED static uint32_t ret_bucket(int64_t ret)
{
	static const int64_t exact[] = { 0, 1, 2, 8, 4096, 65536, 212992 };

	if (ret < 0)
		return 0;
	for (unsigned i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (ret == exact[i])
			return 1 + i;
	return 16 + (uint32_t)(64 - __builtin_clzll((uint64_t)ret));
}

/* What the op's fd fields name, before it ran (up to two: epoll_ctl's
 * epfd and fd, dup2's fd and newfd); *first is the first one's number. */
NOT_FUZZED static uint32_t fd_kinds(const struct op *op, const struct fd_sim *sim,
				    int64_t *first, enum fd_kind *first_kind)
{
	const struct op_desc *d = &op_table[op->kind];
	uint32_t kinds = 0;
	unsigned n = 0;

	*first = -1;
	*first_kind = FDK_FREE;
	for (unsigned i = 0; i < d->nfields && i < OP_MAX_FIELDS && n < 2; i++) {
		enum fd_kind k;

		if (d->fields[i].kind != FK_FD)
			continue;
		k = fd_sim_kind(sim, op->f[d->fields[i].id]);
		if (n++ == 0) {
			*first = op->f[d->fields[i].id];
			*first_kind = k;
		}
		kinds = kinds * 16 + (uint32_t)k + 1;
	}
	return kinds;
}

NOT_FUZZED static bool moved_less(const struct op *op, const struct result *r,
				  enum fd_kind k)
{
	if (op->kind != OP_READ && op->kind != OP_WRITE)
		return false;
	return r->ret >= 0 && (size_t)r->ret < op_io_len(op, k == FDK_EVENTFD);
}

/* The interest flags that change what a wait reports. */
#define INTEREST_MODES (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE)

NOT_FUZZED static uint32_t step_feature(const struct op *op,
					const struct step_record *sr,
					uint32_t kinds, enum fd_kind k)
{
	uint32_t h = mix(op->kind, kinds);

	if (op->kind == OP_EPOLL_CTL)
		h = mix(mix(h, (uint32_t)op->f[F_CTL]),
			(uint32_t)op->f[F_EVENTS] & (INTEREST_MODES | EPOLLIN | EPOLLOUT));
	h = mix(h, sr->state);
	if (sr->state == STEP_DONE) {
		h = mix(h, (uint32_t)sr->res.err);
		h = mix(h, ret_bucket(sr->res.ret));
		h = mix(h, moved_less(op, &sr->res, k));
	}
	return h;
}

/* What a wait returned: the event bits, the modes of the interests they
 * came from (by data, which is the fd unless the program said otherwise),
 * how many, and whether maxevents cut it short.  Returns the feature, for
 * the order of waits on one instance. */
NOT_FUZZED static uint32_t wait_feature(const struct op *op, const struct outcome *out,
					const struct result *r, const uint8_t *modes,
					uint32_t feature)
{
	uint32_t bits = 0, mode = 0;

	for (uint32_t e = 0; e < r->ev_count; e++) {
		const struct event_rec *ev = &out->events[r->ev_first + e];

		bits |= ev->events;
		if (ev->data < FD_LIMIT)
			mode |= modes[ev->data];
	}
	return mix(mix(mix(feature, bits), mode),
		   r->ev_count < 4 ? r->ev_count : 4 +
		   (r->ev_count == (uint64_t)op->f[F_MAXEVENTS]));
}

/* Which modes the interest of fd has, as far as a walk can tell (a DEL,
 * a close and the instance are not followed: a guide, not a model). */
NOT_FUZZED static void note_interest(const struct op *op, const struct result *r,
				     uint8_t *modes)
{
	int64_t fd = op->f[F_FD];
	uint32_t ev = (uint32_t)op->f[F_EVENTS];

	if (op->kind != OP_EPOLL_CTL || r->ret < 0 || fd < 0 || fd >= FD_LIMIT)
		return;
	modes[fd] = (uint8_t)(((ev & EPOLLET) ? 1 : 0) | ((ev & EPOLLONESHOT) ? 2 : 0) |
			      ((ev & EPOLLEXCLUSIVE) ? 4 : 0) |
			      ((int)op->f[F_CTL] == EPOLL_CTL_DEL ? 8 : 0));
}

NOT_FUZZED static void woken_features(struct feedback_walk *w, const struct program *p,
				      const struct outcome *out,
				      const struct step_record *sr,
				      uint32_t feature)
{
	if (sr->done_count == 0)
		return;
	bump(w, mix(feature, 0x10000u + (sr->done_count < 4 ? sr->done_count : 4)));
	for (uint32_t c = 0; c < sr->done_count; c++) {
		const struct completion *d = &out->done[sr->done_first + c];

		bump(w, mix(mix(feature, p->ops[d->step].kind),
			 d->res.err ? 0x20000u + (uint32_t)d->res.err : ret_bucket(d->res.ret)));
	}
}

NOT_FUZZED void fuzz_feedback_walk(uint8_t *counters, const struct program *p,
				   const struct outcome *out)
{
	struct feedback_walk walk = { counters }, *w = &walk;
	uint32_t last_on_fd[FD_LIMIT] = { 0 };
	uint8_t modes[FD_LIMIT] = { 0 };
	uint32_t prev = 0;
	struct fd_sim sim;

	fd_sim_init(&sim);
	for (uint32_t i = 0; i < p->nops && i < out->nsteps; i++) {
		const struct op *op = &p->ops[i];
		const struct step_record *sr = &out->steps[i];
		int64_t fd;
		enum fd_kind k;
		uint32_t kinds = fd_kinds(op, &sim, &fd, &k);
		uint32_t f = step_feature(op, sr, kinds, k);

		if (sr->state == STEP_DONE && sr->res.err) {
			/* a call that failed: its errno for its kind, no more (the
			 * error paths must not crowd out the states behind them) */
			bump(w, mix(mix(op->kind, (uint32_t)sr->res.err), kinds));
			continue;
		}
		if (sr->state == STEP_DONE && (sr->res.has & RES_EVENTS))
			f = wait_feature(op, out, &sr->res, modes, f);
		bump(w, f);
		bump(w, mix(prev, f));
		prev = f;
		if (fd >= 0 && fd < FD_LIMIT) {
			bump(w, mix(last_on_fd[fd] + 1, f));
			last_on_fd[fd] = f;
		}
		if (sr->state == STEP_DONE) {
			note_interest(op, &sr->res, modes);
			fd_sim_apply_result(&sim, op, &sr->res);
		}
		woken_features(w, p, out, sr, f);
	}
}

NOT_FUZZED void fuzz_feedback(const struct program *p, const struct outcome *out)
{
	fuzz_feedback_walk(feedback_counters, p, out);
}
