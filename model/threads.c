/*
 * threads.c - simulated threads asleep in epoll_wait (ep_poll()) or in a
 * read or write, the settling of a step, and the virtual clock.
 *
 * A thread that finds nothing to report sleeps on the instance's wait queue
 * (at the head: the most recently blocked is woken first) holding a
 * reference on the epoll file, as the kernel's fdget() does for the length
 * of the call.  A wakeup only takes it off the queue; it scans when the step
 * settles, and sleeps again if the scan finds nothing.  A read or write that
 * must wait sleeps on its object's queue (the file's method put it there,
 * io_sleep), holding the file; woken, its call goes on when the step
 * settles, and completes or sleeps again.  Which of several woken threads
 * runs first is the scheduler's business: that order is a choice the model
 * records, so the outcomes of every order can be had.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/*
 * The blocked call returns: its result is recorded as a completion of the
 * step being settled, and the reference it held is dropped (fdput(); the
 * last one releases the file, whose release may wake others).  A call that
 * slept and returns within its own step (a write to a full pipe whose
 * reader, woken by that write, frees room before the step settles) simply
 * returned, as the step's own result: the step never left it blocked.
 */
static void complete(struct model *m, struct thread *t, const struct result *res)
{
	struct step_record *rec = &m->out->steps[m->out->nsteps - 1];
	struct file *f = t->file;

	if (rec->step == t->step && rec->t == t->index) {
		rec->state = STEP_DONE;
		rec->res = *res;
	} else {
		struct completion *c = outcome_add_completion(m->out, rec, t->step,
							      t->index);
		c->res = *res;
	}
	t->state = THREAD_RUNNING;
	t->ep = NULL;
	t->wq = NULL;
	t->file = NULL;
	file_put(m, f);
}

/* Sleeps on ep->wq: __add_wait_queue_exclusive() puts it at the head. */
static void sleep_on(struct model *m, struct thread *t)
{
	t->woken = false;
	t->wait.keys = 0;
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
		     int maxevents, int64_t timeout)
{
	struct thread *th = &m->threads[t];

	th->state = THREAD_BLOCKED;
	th->call = CALL_EPOLL_WAIT;
	th->step = m->step;
	th->ep = ep_file->priv;
	th->file = ep_file;
	file_get(ep_file);
	th->maxevents = maxevents;
	th->has_deadline = timeout > 0;
	th->deadline = m->clock + (uint64_t)(timeout > 0 ? timeout : 0);
	sleep_on(m, th);
	return MODEL_BLOCKED;
}

void thread_block_io(struct model *m, unsigned t, struct file *f)
{
	struct thread *th = &m->threads[t];

	th->state = THREAD_BLOCKED;
	th->call = th->io.write ? CALL_WRITE : CALL_READ;
	th->step = m->step;
	th->ep = NULL;
	th->file = f;
	file_get(f);
	th->has_deadline = false;
}

/*
 * A woken read or write goes on from where it slept (the method looks at
 * io->resumed): it returns, or sleeps again on its queue.  The result is
 * what the syscall returns: bytes (and an eventfd's value), or an errno.
 */
static void resume_io(struct model *m, struct thread *t)
{
	struct result res = { 0 };
	struct file *f = t->file;
	int64_t ret;

	t->woken = false;
	t->io.resumed = true;
	ret = t->io.write ? f->ops->write(m, f, &t->io)
			  : f->ops->read(m, f, &t->io, &res);
	t->io.resumed = false;
	if (ret == MODEL_BLOCKED)
		return;
	if (ret < 0) {
		res.has &= (uint8_t)~(RES_FDS | RES_VALUE | RES_EVENTS);
		result_set_error(&res, (int)-ret);
	} else {
		res.ret = ret;
	}
	complete(m, t, &res);
}

/* How far a choice point's options are turned: none without a seed,
 * else by a hash of the seed and of where the point falls (its step and
 * its rank), the same in every run of one program. */
static unsigned turn(const struct schedule *s, uint32_t step, unsigned n)
{
	uint32_t h = s->seed * 0x9e3779b1u ^ step * 0x85ebca6bu ^ s->npoints * 0xc2b2ae35u;

	if (!s->seed)
		return 0;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h % n;
}

/* Room for twice as many choice points (and their script), kept for the
 * next runs: a fuzzer has no way on without memory (model_alloc). */
static void schedule_grow(struct schedule *s)
{
	unsigned cap = s->cap ? s->cap * 2 : 64;
	struct choice_point *points = realloc(s->points, cap * sizeof(*points));
	uint8_t *script = points ? realloc(s->script, cap) : NULL;

	if (!script)
		abort();
	s->points = points;
	s->script = script;
	s->cap = cap;
}

/* Picks which of n woken threads runs next: a choice point.  The script
 * (model_run_like's search) says which option, counted from the point's
 * turn: every option is still tried, only the first differs. */
static unsigned choose(struct model *m, unsigned n)
{
	struct schedule *s = &m->sched;
	unsigned taken = 0, first;

	if (n < 2)
		return 0;
	if (s->npoints == s->cap)
		schedule_grow(s);
	if (s->npoints < s->nscript && s->script[s->npoints] < n)
		taken = s->script[s->npoints];
	first = turn(s, m->step, n);
	s->points[s->npoints++] = (struct choice_point){
		.step = m->step, .options = (uint8_t)n, .taken = (uint8_t)taken,
	};
	return (first + taken) % n;
}

/*
 * Lets every woken thread run until it returns or sleeps again.  Woken
 * threads are ordered by when they were woken; the choice says which one
 * runs next.  A scan may wake further threads (ep_done_scan), and so may a
 * read or write that goes on (the data it moves, the file its return
 * releases); they join the candidates.
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
		struct thread *next = woken[choose(m, n)];

		if (next->call == CALL_EPOLL_WAIT)
			scan_woken(m, next);
		else
			resume_io(m, next);
	}
}

/*
 * A voluntary preemption point inside the running call: cond_resched(),
 * as task_work_run() has after each work (close_range's releases).  The
 * kernel here schedules without forced preemption (CONFIG_PREEMPT_NONE,
 * the PREEMPT_DYNAMIC default), so a woken thread runs before the call
 * returns only at such a point, and only if wakeup preemption flagged the
 * caller (need_resched), which the scheduler's accounting decides: a
 * choice the model records.  Option 0: every woken thread runs now (as it
 * mostly does), option 1: the call goes on first.
 */
void threads_preempt_point(struct model *m)
{
	bool any = false;

	for (unsigned t = 0; t < m->nthreads; t++)
		any |= m->threads[t].state == THREAD_BLOCKED && m->threads[t].woken;
	if (any && choose(m, 2) == 0)
		threads_settle(m);
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

		if (th->state == THREAD_BLOCKED && th->call == CALL_EPOLL_WAIT &&
		    th->ep == ep) {
			waitq_remove(&th->wait);
			complete(m, th, &(struct result){ .has = RES_EVENTS });
		}
	}
}
