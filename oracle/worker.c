/*
 * worker.c - one real thread per simulated thread, and settling.
 *
 * A worker waits for a call on a futex, makes it, posts the result and
 * waits again.  The executor never waits for a worker with a timer where
 * /proc can be trusted: it reads the worker's state from /proc until the
 * worker has either posted or is asleep in its call, which is how it tells
 * "blocked" from "slow" (settle.c; under an emulator whose /proc says too
 * little, a quiet period stands in).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* The slots' futexes: the word is shared with a child process. */
static void futex_wait_shared(_Atomic int *word, int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake_shared(_Atomic int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
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

/* The caller has every signal blocked (the new thread inherits the mask). */
int worker_start(struct worker *w, int sig, const unsigned char *pattern,
		 struct error *err)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->st.stat = w->st.syscall = w->st.schedstat = -1;
	w->sig = sig;
	if (call_buffers_init(&w->buf, pattern, err) < 0)
		return -1;
	atomic_store(&w->state, WORKER_BUSY); /* until the thread says IDLE */
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		call_buffers_free(&w->buf);
		return fail(err, "pthread_create: %s", strerror(rc));
	}
	while (atomic_load_explicit(&w->state, memory_order_acquire) != WORKER_IDLE)
		sched_yield();
	/* Files that do not exist stay closed: the settle probe then picks
	 * a mode that does without them. */
	if (settle_task_open(&w->st, w->tid, EXEC_FD_BASE) < 0) {
		int e = errno;

		worker_stop(w);
		return fail(err, "placing /proc/self/task/%d files above %d: %s",
			    (int)w->tid, EXEC_FD_BASE, strerror(e));
	}
	return 0;
}

/* The worker must be idle (nothing pending). */
void worker_stop(struct worker *w)
{
	atomic_store_explicit(&w->state, WORKER_EXIT, memory_order_release);
	futex_wake(&w->state);
	pthread_join(w->thread, NULL);
	settle_task_close(&w->st);
	call_buffers_free(&w->buf);
}

/* The child prepares the call in its own fd table; what it may sleep in
 * arms the settle. */
static void slot_dispatch(struct worker *w, const struct call *c)
{
	struct proc_slot *s = w->slot;
	int64_t deadline = monotonic_ns() + 2000000000;

	s->call = *c;
	atomic_store(&s->interrupt, false);
	atomic_store_explicit(&s->state, SLOT_PREPARE, memory_order_release);
	futex_wake_shared(&s->state);
	while (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_PREPARED &&
	       monotonic_ns() < deadline)
		sched_yield();
	/* a child that did not answer (it died) never posts: the settle says so */
	settle_task_arm(&w->pst, s->call.block_nr);
	atomic_store_explicit(&s->state, WORKER_BUSY, memory_order_release);
	futex_wake_shared(&s->state);
}

void worker_dispatch(struct worker *w, const struct call *c, uint32_t step)
{
	w->call = *c;
	w->step = step;
	w->pending = true;
	w->posted = false;
	w->timed = false;
	w->expired = false;
	if (w->slot) {
		slot_dispatch(w, c);
		return;
	}
	settle_task_arm(&w->st, c->block_nr);
	atomic_store(&w->interrupt, false);
	atomic_store_explicit(&w->state, WORKER_BUSY, memory_order_release);
	futex_wake(&w->state);
}

bool worker_has_posted(struct worker *w)
{
	if (w->slot) {
		if (atomic_load_explicit(&w->slot->state, memory_order_acquire) !=
		    WORKER_DONE)
			return false;
		w->result = w->slot->result;
		return true;
	}
	return atomic_load_explicit(&w->state, memory_order_acquire) == WORKER_DONE;
}

const struct epoll_event *worker_events(const struct worker *w)
{
	return w->slot ? w->slot->events : w->buf.events;
}

void worker_gather(struct worker *w)
{
	w->pending = false;
	w->posted = false;
	w->timed = false;
	w->expired = false;
	/* No wake: the worker sleeps until the next BUSY anyway. */
	if (w->slot)
		atomic_store_explicit(&w->slot->state, WORKER_IDLE, memory_order_relaxed);
	else
		atomic_store_explicit(&w->state, WORKER_IDLE, memory_order_relaxed);
}

/* ------------------------------------------------------------ processes */

static _Noreturn void child_main(struct proc_slot *s, const unsigned char *pattern,
				  int sig, pid_t executor);

/* Starts to's process from the server's table: a child process clones with
 * CLONE_PARENT (the executor is the new one's parent too, and reaps it); a
 * table thread forks (its process is the executor). */
static void slot_fork(struct proc_slot *s, const unsigned char *pattern,
		      bool in_child, int sig, pid_t executor)
{
	pid_t pid;

	if (in_child)
		pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	else
		pid = fork();
	if (pid == 0)
		child_main(s->fork_to, pattern, sig, executor);
	s->fork_errno = pid < 0 ? errno : 0;
	if (pid > 0) /* the child stores the same: whoever is first */
		atomic_store(&s->fork_to->pid, pid);
}

/* A slot's server: makes the calls (and forks) the executor hands over,
 * until it is asked to leave. */
static void slot_serve(struct proc_slot *s, struct call_buffers *buf,
		       bool in_child, int sig, pid_t executor)
{
	struct call_result r;

	atomic_store_explicit(&s->state, WORKER_IDLE, memory_order_release);
	for (;;) {
		int st = atomic_load_explicit(&s->state, memory_order_acquire);

		if (st == WORKER_EXIT)
			return;
		if (st == SLOT_PREPARE) {
			call_prepare(s->call.op, &s->call);
			atomic_store_explicit(&s->state, SLOT_PREPARED, memory_order_release);
			continue;
		}
		if (st == SLOT_FORK) {
			slot_fork(s, buf->wbuf, in_child, sig, executor);
			atomic_store_explicit(&s->state, SLOT_FORKED, memory_order_release);
			continue;
		}
		if (st != WORKER_BUSY) {
			futex_wait_shared(&s->state, st);
			continue;
		}
		if (atomic_load(&s->interrupt)) {
			memset(&r, 0, sizeof(r));
			result_set_error(&r.res, EINTR);
		} else {
			call_run(&s->call, buf, &r);
		}
		if (r.nevents > CALL_MAX_EVENTS)
			r.nevents = CALL_MAX_EVENTS;
		s->result = r;
		memcpy(s->events, buf->events, r.nevents * sizeof(*s->events));
		atomic_store_explicit(&s->state, WORKER_DONE, memory_order_release);
	}
}

static _Noreturn void child_main(struct proc_slot *s, const unsigned char *pattern,
				  int sig, pid_t executor)
{
	struct call_buffers buf;
	sigset_t only_interrupt;

	/* Dies with the executor (with the thread that made it, or, after
	 * CLONE_PARENT, with the one that made its parent). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != executor)
		_exit(1);
	/* The executor's own fds (channel, /dev/null, /proc files) are not
	 * the program's: only 0..FD_LIMIT-1 stay, the copied table. */
	syscall(SYS_close_range, FD_LIMIT, ~0U, 0);
	sigfillset(&only_interrupt);
	sigdelset(&only_interrupt, sig);
	sigprocmask(SIG_SETMASK, &only_interrupt, NULL);
	if (call_buffers_init(&buf, pattern, NULL) < 0)
		_exit(1);
	atomic_store(&s->pid, (pid_t)syscall(SYS_getpid));
	slot_serve(s, &buf, true, sig, executor);
	_exit(0);
}

/* Waits until the new server of slot says IDLE. */
static int slot_started(struct proc_slot *slot)
{
	int64_t deadline = monotonic_ns() + 2000000000;

	while (atomic_load_explicit(&slot->state, memory_order_acquire) != WORKER_IDLE) {
		if (monotonic_ns() > deadline)
			return -1;
		sched_yield();
	}
	return 0;
}

/* The forking thread's slot server forks (its table is not ours).
 * Returns the child's pid; minus that when it did not start, 0 when not
 * even the server answered. */
static pid_t fork_by_server(struct proc_slot *ps, struct proc_slot *slot,
			    const char **refused)
{
	int64_t deadline = monotonic_ns() + 2000000000;

	ps->fork_to = slot;
	atomic_store_explicit(&ps->state, SLOT_FORK, memory_order_release);
	futex_wake_shared(&ps->state);
	while (atomic_load_explicit(&ps->state, memory_order_acquire) != SLOT_FORKED) {
		if (monotonic_ns() > deadline)
			return 0;
		sched_yield();
	}
	atomic_store_explicit(&ps->state, WORKER_IDLE, memory_order_relaxed);
	if (ps->fork_errno) {
		*refused = ps->fork_errno == EINVAL ?
			"a fork by a thread whose table is not process 0's: "
			"clone(CLONE_PARENT) failed with EINVAL here" :
			"a fork by a thread whose table is not process 0's failed";
		return 0;
	}
	return slot_started(slot) < 0 ? -atomic_load(&slot->pid) : atomic_load(&slot->pid);
}

int worker_fork(struct worker *w, struct proc_slot *slot,
		const struct worker *parent, const char **refused,
		struct error *err)
{
	pid_t executor = getpid(), pid;

	*refused = NULL;
	memset(slot, 0, offsetof(struct proc_slot, events));
	atomic_store(&slot->state, WORKER_BUSY); /* until the child says IDLE */
	if (parent->slot) {
		pid = fork_by_server(parent->slot, slot, refused);
		if (*refused)
			return 0;
	} else {
		pid = fork();
		if (pid == 0)
			child_main(slot, w->buf.wbuf, w->sig, executor);
		if (pid < 0)
			return fail(err, "fork: %s", strerror(errno));
		if (slot_started(slot) < 0)
			pid = -pid;
	}
	if (pid <= 0) {
		if (pid < 0) {
			kill(-pid, SIGKILL);
			waitpid(-pid, NULL, __WALL);
		}
		return fail(err, "the forked child did not start within 2 s");
	}
	w->pid = pid;
	w->slot = slot;
	w->pst.stat = w->pst.syscall = w->pst.schedstat = -1;
	return 0;
}

/* ------------------------------------------------------ unshared tables */

struct table_thread_start {
	struct proc_slot *slot;
	const unsigned char *pattern;
	int sig;
};

static void *table_thread_main(void *arg)
{
	struct table_thread_start *start = arg;
	struct proc_slot *s = start->slot;
	int sig = start->sig;
	const unsigned char *pattern = start->pattern;
	struct call_buffers buf;
	sigset_t only_interrupt;

	free(start);
	sigemptyset(&only_interrupt);
	sigaddset(&only_interrupt, sig);
	pthread_sigmask(SIG_UNBLOCK, &only_interrupt, NULL);
	if (call_buffers_init(&buf, pattern, NULL) < 0)
		return NULL; /* never says IDLE: worker_unshare fails */
	atomic_store(&s->pid, (pid_t)syscall(SYS_gettid));
	slot_serve(s, &buf, false, sig, getpid());
	/* Everything the table holds, the program's files among them, is
	 * released before the executor goes on: a thread's exit drops its
	 * table only after pthread_join can return (exit_files comes after
	 * exit_mm's clear_child_tid in do_exit). */
	syscall(SYS_close_range, 0, ~0U, 0);
	call_buffers_free(&buf);
	return NULL;
}

int worker_unshare(struct worker *w, struct proc_slot *slot, struct error *err)
{
	struct table_thread_start *start = malloc(sizeof(*start));
	int rc;

	if (!start)
		return fail(err, "out of memory");
	start->slot = slot;
	start->sig = w->sig;
	start->pattern = w->buf.wbuf;
	memset(slot, 0, offsetof(struct proc_slot, events));
	atomic_store(&slot->state, WORKER_BUSY); /* until the thread says IDLE */
	rc = pthread_create(&w->table_thread, NULL, table_thread_main, start);
	if (rc != 0) {
		free(start);
		return fail(err, "pthread_create: %s", strerror(rc));
	}
	if (slot_started(slot) < 0) {
		/* it runs no call yet: it may be told to leave */
		atomic_store_explicit(&slot->state, WORKER_EXIT, memory_order_release);
		futex_wake_shared(&slot->state);
		pthread_join(w->table_thread, NULL);
		return fail(err, "the table thread did not start within 2 s");
	}
	w->unshared = true;
	w->slot = slot;
	w->pst.stat = w->pst.syscall = w->pst.schedstat = -1;
	return 0;
}

void worker_end_unshared(struct worker *w)
{
	if (!w->unshared)
		return;
	atomic_store_explicit(&w->slot->state, WORKER_EXIT, memory_order_release);
	futex_wake_shared(&w->slot->state);
	pthread_join(w->table_thread, NULL);
	settle_task_close(&w->pst);
	w->unshared = false;
	w->slot = NULL;
	w->pending = w->posted = w->timed = w->expired = false;
}

int worker_reap(struct worker *w, bool kill_it, struct error *err)
{
	int status;
	pid_t pid = w->pid;

	if (pid <= 0)
		return 0;
	if (kill_it) {
		kill(pid, SIGKILL);
	} else {
		atomic_store_explicit(&w->slot->state, WORKER_EXIT, memory_order_release);
		futex_wake_shared(&w->slot->state);
	}
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	settle_task_close(&w->pst);
	w->pid = 0;
	w->slot = NULL;
	w->pending = w->posted = w->timed = w->expired = false;
	return 0;
}

/* ------------------------------------------------------------ settling */

static int past(int64_t *deadline, unsigned timeout_ms)
{
	int64_t now = monotonic_ns();

	if (*deadline == 0)
		*deadline = now + (int64_t)timeout_ms * 1000000;
	return now > *deadline;
}

/* Marks workers that have posted; puts the /proc files of those still in
 * a call into ts, and returns how many they are. */
static unsigned collect_posts(struct worker *ws, unsigned n,
			      struct settle_task **ts)
{
	unsigned in_call = 0;

	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		if (!w->pending || w->posted)
			continue;
		if (worker_has_posted(w))
			w->posted = true;
		else
			ts[in_call++] = w->slot ? &w->pst : &w->st;
	}
	return in_call;
}

/*
 * Settling: whether the workers still in a call all sleep in it is
 * settle.c's to say, in the mode its probe chose (four exact passes over
 * /proc on Linux, a quiet period where /proc cannot be trusted); a worker
 * that posts meanwhile drops out of the set.
 */
int workers_settle(struct worker *ws, unsigned n, const struct settle *s,
		   unsigned timeout_ms, struct error *err)
{
	struct settle_task *ts[MAX_THREADS];
	int64_t deadline = 0, start = monotonic_ns();

	for (unsigned look = 0;; look++) {
		unsigned k = collect_posts(ws, n, ts);

		/* Not before a first pause: the thread the step handed its
		 * call to, or the one its op woke, runs on this CPU
		 * (place_workers), mostly once we yield it, and a look before
		 * finds it on its way: a pass over /proc for nothing. */
		if (k == 0 || (look > 0 && settle_quiet(s, ts, k, start, monotonic_ns())))
			return 0;
		if (past(&deadline, timeout_ms)) {
			for (unsigned i = 0; i < n; i++)
				if (ws[i].pending && !ws[i].posted)
					return fail(err, "thread %u neither returned nor slept "
						    "within %u ms", i, timeout_ms);
		}
		settle_pause(s);
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
 * or in its futex wait, never by a later call.  So re-sending is always
 * safe, and in settle's timed mode, which cannot tell the call's sleep
 * from others, the worker is re-signalled whenever it is in S at all.
 */
static void signal_worker(struct worker *w)
{
	if (w->pid > 0)
		kill(w->pid, w->sig);
	else
		pthread_kill(w->unshared ? w->table_thread : w->thread, w->sig);
}

int worker_interrupt(struct worker *w, const struct settle *s,
		     unsigned timeout_ms, struct error *err)
{
	int64_t deadline = 0;

	struct settle_task *st = w->slot ? &w->pst : &w->st;

	atomic_store(w->slot ? &w->slot->interrupt : &w->interrupt, true);
	if (!worker_has_posted(w))
		signal_worker(w);
	while (!worker_has_posted(w)) {
		if (settle_may_sleep(s, st))
			signal_worker(w);
		if (past(&deadline, timeout_ms))
			return fail(err, "thread did not return from an interrupted "
				    "call within %u ms", timeout_ms);
		settle_pause(s);
	}
	w->posted = true;
	return 0;
}
