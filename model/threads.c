/*
 * threads.c - simulated threads asleep in epoll_wait (ep_poll()), the
 * settling of a step, and the virtual clock.
 *
 * A thread that finds nothing to report sleeps on the instance's wait queue
 * (at the head: the most recently blocked is woken first) holding a
 * reference on the epoll file, as the kernel's fdget() does for the length
 * of the call.  A wakeup only takes it off the queue; it scans when the step
 * settles, and sleeps again if the scan finds nothing.  Which of several
 * woken threads scans first is the scheduler's business: that order is a
 * choice the model records, so the outcomes of every order can be had.
 */
#include <errno.h>

#include "internal.h"

static void complete(struct model *m, struct thread *t, const struct result *res)
{
	struct step_record *rec = &m->out->steps[m->out->nsteps - 1];
	struct completion *c = outcome_add_completion(m->out, rec, t->step,
						      t->index);

	c->res = *res;
	t->state = THREAD_RUNNING;
	t->ep = NULL;
	file_put(m, t->ep_file);
	t->ep_file = NULL;
}

/* Sleeps on ep->wq: __add_wait_queue_exclusive() puts it at the head. */
static void sleep_on(struct model *m, struct thread *t)
{
	t->woken = false;
	if (injected(m, INJECT_FIFO_WAITERS))
		waitq_add_exclusive_tail(&t->ep->wq, &t->wait);
	else
		waitq_add_exclusive_head(&t->ep->wq, &t->wait);
}

/*
 * The tail of ep_poll()'s loop for a thread that was woken: harvest, and
 * return if anything came; otherwise sleep again until the deadline (a
 * wakeup whose events vanished does not end the wait early).
 */
static void scan_woken(struct model *m, struct thread *t)
{
	struct result res = { .has = RES_EVENTS };
	int n = 0;

	t->woken = false;
	while (ep_events_available(t->ep)) {
		n = ep_send_events(m, t->ep, t->maxevents, &res);
		if (n)
			break;
	}
	if (n) {
		res.ret = n;
		complete(m, t, &res);
	} else {
		sleep_on(m, t);
	}
}

/* Blocks thread t of the current step in epoll_wait(ep). */
int64_t thread_block(struct model *m, unsigned t, struct file *ep_file,
		     int maxevents, int timeout)
{
	struct thread *th = &m->threads[t];

	th->state = THREAD_BLOCKED;
	th->step = m->step;
	th->ep = ep_file->priv;
	th->ep_file = ep_file;
	file_get(ep_file);
	th->maxevents = maxevents;
	th->has_deadline = timeout > 0;
	th->deadline = m->clock + (uint64_t)(timeout > 0 ? timeout : 0);
	sleep_on(m, th);
	return MODEL_BLOCKED;
}

/* Picks which of n woken threads scans next: a choice point. */
static unsigned choose(struct model *m, unsigned n)
{
	struct schedule *s = &m->sched;
	unsigned taken = 0;

	if (n < 2)
		return 0;
	if (s->npoints >= MAX_CHOICES) {
		s->overflow = true;
		return 0;
	}
	if (s->npoints < s->nscript && s->script[s->npoints] < n)
		taken = s->script[s->npoints];
	s->points[s->npoints++] = (struct choice_point){
		.step = m->step, .options = (uint8_t)n, .taken = (uint8_t)taken,
	};
	return taken;
}

/*
 * Lets every woken thread run until it returns or sleeps again.  Woken
 * threads are ordered by when they were woken; the choice says which one's
 * scan happens next.  A scan may wake further threads (ep_done_scan), which
 * join the candidates.
 */
void threads_settle(struct model *m)
{
	for (;;) {
		struct thread *woken[MAX_THREADS];
		unsigned n = 0;

		for (unsigned t = 0; t < m->nthreads; t++) {
			struct thread *th = &m->threads[t];

			if (th->state != THREAD_BLOCKED || !th->woken)
				continue;
			unsigned i = n++;
			while (i > 0 && woken[i - 1]->wake_seq > th->wake_seq) {
				woken[i] = woken[i - 1];
				i--;
			}
			woken[i] = th;
		}
		if (!n)
			return;
		scan_woken(m, woken[choose(m, n)]);
	}
}

/*
 * The virtual clock moves; every wait whose deadline has passed returns 0,
 * in deadline order (ep_poll: timed out while still queued, no scan).
 */
void threads_advance_clock(struct model *m, uint64_t ms)
{
	m->clock += ms;
	for (;;) {
		struct thread *first = NULL;

		for (unsigned t = 0; t < m->nthreads; t++) {
			struct thread *th = &m->threads[t];

			if (th->state == THREAD_BLOCKED && th->has_deadline &&
			    !th->woken && th->deadline <= m->clock &&
			    (!first || th->deadline < first->deadline))
				first = th;
		}
		if (!first)
			return;
		waitq_remove(&first->wait);
		complete(m, first, &(struct result){ .has = RES_EVENTS });
	}
}

/* Only for the wake-on-epfd-close injected bug: every thread asleep on ep
 * returns 0 at once. */
void threads_return_zero(struct model *m, struct epoll *ep)
{
	for (unsigned t = 0; t < m->nthreads; t++) {
		struct thread *th = &m->threads[t];

		if (th->state == THREAD_BLOCKED && th->ep == ep) {
			waitq_remove(&th->wait);
			complete(m, th, &(struct result){ .has = RES_EVENTS });
		}
	}
}
