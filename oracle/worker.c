/*
 * worker.c - one real thread per simulated thread, and settling.
 *
 * A worker waits for a call on a futex, makes it, posts the result and
 * waits again.  The executor never waits for a worker with a timer: it reads
 * the worker's state from /proc until the worker has either posted or is
 * asleep in its call, which is how it tells "blocked" from "slow".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

static void futex_wait(_Atomic int *word, int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ----------------------------------------------------------- the thread */

static int wait_for_work(struct worker *w)
{
	for (;;) {
		int s = atomic_load_explicit(&w->state, memory_order_acquire);

		if (s == WORKER_BUSY || s == WORKER_EXIT)
			return s;
		futex_wait(&w->state, s); /* EINTR, EAGAIN: look again */
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t only_interrupt;

	/* Created with every signal blocked; take only ours, so that a stray
	 * signal never cuts a program's call short. */
	sigemptyset(&only_interrupt);
	sigaddset(&only_interrupt, w->sig);
	pthread_sigmask(SIG_UNBLOCK, &only_interrupt, NULL);

	w->tid = (pid_t)syscall(SYS_gettid);
	atomic_store_explicit(&w->state, WORKER_IDLE, memory_order_release);

	while (wait_for_work(w) == WORKER_BUSY) {
		/* An interrupt that arrives before the call is made would be
		 * spent on the handler; the flag catches it here, and
		 * worker_interrupt re-sends for the gap that is left. */
		if (atomic_load(&w->interrupt)) {
			memset(&w->result, 0, sizeof(w->result));
			result_set_error(&w->result.res, EINTR);
		} else {
			call_run(&w->call, &w->buf, &w->result);
		}
		atomic_store_explicit(&w->state, WORKER_DONE, memory_order_release);
	}
	return NULL;
}

/* ------------------------------------------------------------ lifecycle */

static int open_task_file(pid_t tid, const char *name, struct error *err)
{
	char path[64];
	int fd, high;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, "open %s: %s", path, strerror(errno));
	high = fcntl(fd, F_DUPFD_CLOEXEC, EXEC_FD_BASE);
	close(fd);
	if (high < 0)
		return fail(err, "moving %s above %d: %s", path, EXEC_FD_BASE,
			    strerror(errno));
	return high;
}

/* The caller has every signal blocked (the new thread inherits the mask). */
int worker_start(struct worker *w, int sig, struct error *err)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->proc_stat = w->proc_syscall = w->proc_schedstat = -1;
	w->sig = sig;
	if (call_buffers_init(&w->buf, err) < 0)
		return -1;
	atomic_store(&w->state, WORKER_BUSY); /* until the thread says IDLE */
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		call_buffers_free(&w->buf);
		return fail(err, "pthread_create: %s", strerror(rc));
	}
	while (atomic_load_explicit(&w->state, memory_order_acquire) != WORKER_IDLE)
		sched_yield();
	if ((w->proc_stat = open_task_file(w->tid, "stat", err)) < 0 ||
	    (w->proc_syscall = open_task_file(w->tid, "syscall", err)) < 0 ||
	    (w->proc_schedstat = open_task_file(w->tid, "schedstat", err)) < 0) {
		worker_stop(w);
		return -1;
	}
	return 0;
}

/* The worker must be idle (nothing pending). */
void worker_stop(struct worker *w)
{
	atomic_store_explicit(&w->state, WORKER_EXIT, memory_order_release);
	futex_wake(&w->state);
	pthread_join(w->thread, NULL);
	if (w->proc_stat >= 0)
		close(w->proc_stat);
	if (w->proc_syscall >= 0)
		close(w->proc_syscall);
	if (w->proc_schedstat >= 0)
		close(w->proc_schedstat);
	call_buffers_free(&w->buf);
}

void worker_dispatch(struct worker *w, const struct call *c, uint32_t step)
{
	w->call = *c;
	w->step = step;
	w->pending = true;
	w->posted = false;
	w->timed = false;
	w->expired = false;
	atomic_store(&w->interrupt, false);
	atomic_store_explicit(&w->state, WORKER_BUSY, memory_order_release);
	futex_wake(&w->state);
}

bool worker_has_posted(struct worker *w)
{
	return atomic_load_explicit(&w->state, memory_order_acquire) == WORKER_DONE;
}

void worker_gather(struct worker *w)
{
	w->pending = false;
	w->posted = false;
	w->timed = false;
	w->expired = false;
	/* No wake: the worker sleeps until the next BUSY anyway. */
	atomic_store_explicit(&w->state, WORKER_IDLE, memory_order_relaxed);
}

/* ------------------------------------------------------------- probing */

/* Re-reads a /proc file from the start: seq_file regenerates it at
 * offset 0, so one open fd serves every probe. */
static ssize_t read_task_file(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* schedstat: "run_ns wait_ns pcount"; pcount counts the times the task
 * was switched in (sched_info_arrive).  0 when the kernel lacks
 * CONFIG_SCHED_INFO; settling then rests on the state reads alone. */
static uint64_t read_pcount(struct worker *w)
{
	char buf[96];
	unsigned long long run, wait, pcount;

	if (read_task_file(w->proc_schedstat, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%llu %llu %llu", &run, &wait, &pcount) != 3)
		return 0;
	return pcount;
}

/*
 * /proc/TID/syscall answers only for a task that is off the CPU and not
 * TASK_RUNNING (proc_pid_syscall -> task_current_syscall ->
 * wait_task_inactive) and says "running" otherwise; its first number is the
 * syscall the task is in.  The worker's own wait for work is a futex, so it
 * never passes for its call.
 */
static bool in_call(struct worker *w)
{
	char buf[256];
	long nr;

	return read_task_file(w->proc_syscall, buf, sizeof(buf)) > 0 &&
	       sscanf(buf, "%ld", &nr) == 1 && nr == w->call.block_nr;
}

/*
 * /proc/TID/stat's state S is an interruptible sleep: the wait queues of
 * epoll, pipes, eventfd and sockets.  A task being woken (TASK_WAKING) is
 * not TASK_RUNNING yet, so the syscall file may still answer for it, but
 * stat shows it as R.
 */
static bool state_is_sleeping(struct worker *w)
{
	char buf[512];
	const char *paren;

	if (read_task_file(w->proc_stat, buf, sizeof(buf)) <= 0 ||
	    !(paren = strrchr(buf, ')'))) /* comm may hold ')' */
		return false;
	return paren[1] == ' ' && paren[2] == 'S';
}

static bool sleeps_in_call(struct worker *w)
{
	return in_call(w) && state_is_sleeping(w);
}

static int past(int64_t *deadline, unsigned timeout_ms)
{
	int64_t now = monotonic_ns();

	if (*deadline == 0)
		*deadline = now + (int64_t)timeout_ms * 1000000;
	return now > *deadline;
}

/* Marks workers that have posted; returns how many are still in a call. */
static unsigned collect_posts(struct worker *ws, unsigned n)
{
	unsigned in_flight = 0;

	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		if (!w->pending || w->posted)
			continue;
		if (worker_has_posted(w))
			w->posted = true;
		else
			in_flight++;
	}
	return in_flight;
}

/*
 * Settling.
 *
 * A thread that an op wakes is no longer in S once the waking syscall has
 * returned (try_to_wake_up has left TASK_INTERRUPTIBLE behind before
 * wake_up returns), so each worker the op woke is seen running, or posting,
 * or asleep again after its own pass through the call.  But one look at
 * every worker is not one instant: a worker seen asleep may be woken by one
 * seen a moment later, already asleep again (an epoll scan ends in
 * ep_done_scan, which wakes the next waiter, and the scan itself may find
 * nothing and sleep again).
 *
 * So settling takes two rounds over the workers still in a call.  Round 1
 * reads each one's schedule-in count (schedstat's pcount, bumped by
 * sched_info_arrive) and sees it off the CPU in its call.  Round 2 sees it
 * in its call again, in S, and reads the count again: unchanged.  A worker
 * off the CPU in round 1 and not switched in since has not run since round
 * 1, so between the rounds no worker ran, and none was woken, for only a
 * running thread wakes another (this thread touches no program file while
 * settling).  And a worker in S in round 2 that has not run since was not
 * woken before either, or it would show R.  So nobody can run again until
 * the next op.
 */
int workers_settle(struct worker *ws, unsigned n, unsigned timeout_ms,
		   struct error *err)
{
	int64_t deadline = 0;

	for (;;) {
		bool quiet = true;

		if (collect_posts(ws, n) == 0)
			return 0;
		for (unsigned i = 0; i < n && quiet; i++) {
			struct worker *w = &ws[i];

			if (!w->pending || w->posted)
				continue;
			w->pcount = read_pcount(w);
			quiet = in_call(w);
		}
		for (unsigned i = 0; i < n && quiet; i++) {
			struct worker *w = &ws[i];

			if (!w->pending || w->posted)
				continue;
			quiet = sleeps_in_call(w) && read_pcount(w) == w->pcount;
		}
		if (quiet)
			return 0;
		if (past(&deadline, timeout_ms)) {
			for (unsigned i = 0; i < n; i++)
				if (ws[i].pending && !ws[i].posted)
					return fail(err, "thread %u neither returned nor slept "
						    "within %u ms", i, timeout_ms);
		}
		sched_yield();
	}
}

/*
 * Interrupts w's sleeping call and waits for its result.  The signal's
 * handler is installed without SA_RESTART; a sleeping epoll_wait returns
 * EINTR anyway (ep_poll never restarts), a pipe or socket wait does too
 * when it has moved no data.  A signal that arrives just before the worker
 * enters the call is spent on the handler, and the call then sleeps: so
 * while the worker is seen asleep in the call again, send another.  A task
 * with a signal pending cannot sleep in S (signal_pending_state), so a
 * re-sent signal always finds the call it is meant for; and one that finds
 * the worker already past its call is taken on the way back to user space
 * or in its futex wait, never by a later call.
 */
int worker_interrupt(struct worker *w, unsigned timeout_ms, struct error *err)
{
	int64_t deadline = 0;

	atomic_store(&w->interrupt, true);
	if (!worker_has_posted(w))
		pthread_kill(w->thread, w->sig);
	while (!worker_has_posted(w)) {
		if (sleeps_in_call(w))
			pthread_kill(w->thread, w->sig);
		if (past(&deadline, timeout_ms))
			return fail(err, "thread did not return from an interrupted "
				    "call within %u ms", timeout_ms);
		sched_yield();
	}
	w->posted = true;
	return 0;
}
