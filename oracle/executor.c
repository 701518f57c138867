/*
 * executor.c - runs whole programs in the current process.
 *
 * Ops run one at a time in program order.  An op that cannot block runs
 * right here (process 0's fd table is shared by all its threads, so which
 * of them makes the call does not matter); one that may block goes to its
 * own thread's worker, and every op of a thread whose table is another
 * (a child process's, an unshared one) to that table's own server.  After each op the workers settle (worker.c), and the step's
 * record collects what happened: its own result or "blocked", and the
 * blocked ops the step completed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"

#define SETTLE_TIMEOUT_MS 2000

struct executor {
	struct worker workers[MAX_THREADS];
	unsigned nworkers; /* started */
	struct call_buffers inline_buf;
	struct call_result inline_result;
	int devnull; /* at a high fd: what fds 0-2 are reset to */
	int sig;     /* interrupts a worker's sleeping call */
	int64_t clock; /* virtual ms */
	unsigned settle_ms;
	int cpu; /* where the workers run */
	cpu_set_t allowed; /* this thread's own affinity, between programs */
	struct settle settle; /* how to tell that a worker sleeps in its call */
	_Atomic uint32_t *progress;
	_Atomic uint32_t own_progress;
	/* Where the threads whose table is not process 0's get their calls
	 * (child processes, unshared threads): one slot per thread,
	 * MAP_SHARED, made before any fork. */
	struct proc_slot *slots;
	/* The current program's first op that breaks the rules of processes
	 * (program_check_processes), or nops, and why. */
	unsigned bad_op;
	struct error bad_why;
};

int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --------------------------------------------------------------- set-up */

static void on_interrupt(int sig)
{
	(void)sig; /* being delivered is the whole point */
}

static int install_signals(int sig, struct error *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0) /* writes to a widowed pipe: EPIPE */
		return fail(err, "sigaction SIGPIPE: %s", strerror(errno));
	sa.sa_handler = on_interrupt;
	sa.sa_flags = 0; /* no SA_RESTART: interrupted calls return EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0)
		return fail(err, "sigaction: %s", strerror(errno));
	return 0;
}

/* Our fds go above EXEC_FD_BASE, which needs a soft limit above it for as
 * long as we place them; fds above a later, lower limit stay valid (the
 * kernel checks RLIMIT_NOFILE only when it allocates a number). */
static int raise_fd_limit(struct error *err)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "getrlimit: %s", strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < EXEC_FD_BASE + 64)
		return fail(err, "RLIMIT_NOFILE hard limit %llu is below %d",
			    (unsigned long long)rl.rlim_max, EXEC_FD_BASE + 64);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "setrlimit: %s", strerror(errno));
	return 0;
}

static int lower_fd_limit(struct error *err)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "getrlimit: %s", strerror(errno));
	rl.rlim_cur = FD_LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "setrlimit: %s", strerror(errno));
	return 0;
}

static int open_devnull(struct error *err)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), high;

	struct stat st;

	if (fd < 0)
		return fail(err, "open /dev/null: %s", strerror(errno));
	/* Programs read and write fds 0-2 and expect the null device; a plain
	 * file left there by some "> tmp && mv tmp /dev/null" would answer
	 * reads with data and wreck every comparison, so refuse it loudly. */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		close(fd);
		return fail(err, "/dev/null is not the null device (something replaced "
			    "it); as root: rm /dev/null && mknod -m 666 /dev/null c 1 3");
	}
	high = fcntl(fd, F_DUPFD_CLOEXEC, EXEC_FD_BASE);
	close(fd);
	if (high < 0)
		return fail(err, "moving /dev/null above %d: %s", EXEC_FD_BASE,
			    strerror(errno));
	return high;
}

static int start_workers(struct executor *ex, struct error *err)
{
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; ex->nworkers < MAX_THREADS; ex->nworkers++) {
		rc = worker_start(&ex->workers[ex->nworkers], ex->sig,
				  ex->inline_buf.wbuf, err);
		if (rc < 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/*
 * How to tell that a worker sleeps in its call (settle.c).  The probe runs
 * with every signal blocked, as the workers do, so that its thread never
 * takes the interrupt signal.  EPOLLFUZZ_SETTLE=timed forces the quiet
 * period (to test it where /proc could be trusted), and
 * EPOLLFUZZ_SETTLE_QUIET_MS sets its length.
 */
static void probe_settle(struct executor *ex)
{
	const char *quiet = getenv("EPOLLFUZZ_SETTLE_QUIET_MS");
	const char *mode = getenv("EPOLLFUZZ_SETTLE");
	sigset_t all, old;

	settle_init(&ex->settle, quiet ? (unsigned)strtoul(quiet, NULL, 10) : 0);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	settle_probe(&ex->settle);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (mode && strcmp(mode, "timed") == 0) {
		ex->settle.mode = SETTLE_TIMED;
		ex->settle.naliases = 0;
	}
}

/*
 * The workers run on the CPU this thread is on.  A wakeup aimed at another
 * CPU costs an IPI (in a VM, an exit too); one on the same CPU is a context
 * switch at our next sched_yield, and the executor never needs two threads
 * running at once: one op runs at a time.  On a busy machine it matters
 * most: our sched_yield then hands the CPU to the worker, not to whoever
 * else is queued (measured: twice the blocking programs per second beside
 * two CPU hogs).  This thread is pinned there too, because it runs the ops
 * that cannot block: were it moved to another CPU mid-program, a worker
 * woken by its write could start scanning its epoll on the first CPU while
 * the write is still walking the wait queue (ep_poll_callback then parks
 * the items it queues on ovflist, and the scan sees another ready list):
 * an interleaving the model does not take, since on one CPU the woken
 * thread runs only after the waking syscall.  A 1-hour campaign met it
 * once in 2.9 million programs before this thread was pinned.
 *
 * Which CPU: the one the parent sent the program from (want), when it
 * says and we may run there.  The parent waits while a program runs and
 * we wait while it works, so one CPU serves both, and each of the two
 * wakeups per program is a switch on it instead of an IPI to a CPU that
 * has gone idle meanwhile (measured: the linux target alone on the
 * corpus's programs, 1.8 times as many per second).  We stay there between
 * programs, so that the parent's next one wakes us there, and follow the
 * parent when it moves.  Without a CPU to follow (-1), the CPU this
 * thread is on when the program starts.
 */
static void place_workers(struct executor *ex, int want)
{
	int cpu = want;
	cpu_set_t set;

	if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &ex->allowed)) {
		if (cpu == ex->cpu)
			return; /* all of us are there already */
	} else {
		pthread_setaffinity_np(pthread_self(), sizeof(ex->allowed),
				       &ex->allowed);
		if ((cpu = sched_getcpu()) < 0)
			return;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (cpu == ex->cpu)
		return;
	for (unsigned i = 0; i < ex->nworkers; i++)
		pthread_setaffinity_np(ex->workers[i].thread, sizeof(set), &set);
	ex->cpu = cpu; /* where that failed, the workers just run anywhere */
}

/* Every program starts from the same table: 0-2 on /dev/null, nothing
 * else below FD_LIMIT (FD_INITIAL_OPEN).  close_range defers nothing: each
 * final fput runs as task work before it returns, so released epoll items
 * are gone by then (eventpoll_release).  Fds 0-2 are dups of our own
 * /dev/null, one description that outlives programs: a program's F_SETFL
 * on it (O_APPEND, O_NONBLOCK, O_NOATIME) is undone here, as the model
 * starts every program with a fresh one.  (Its close-on-exec bits go with
 * the dup2; nothing else of it can change: fcntl runs no other command.) */
static int reset_fd_table(struct executor *ex, int highest, struct error *err)
{
	if (syscall(SYS_close_range, FD_INITIAL_OPEN, highest, 0) < 0)
		return fail(err, "close_range: %s", strerror(errno));
	if (fcntl(ex->devnull, F_SETFL, 0) < 0)
		return fail(err, "fcntl F_SETFL /dev/null: %s", strerror(errno));
	for (int fd = 0; fd < FD_INITIAL_OPEN; fd++)
		if (dup2(ex->devnull, fd) < 0)
			return fail(err, "dup2 /dev/null: %s", strerror(errno));
	return 0;
}

int64_t result_highest_fd(const struct result *r, int64_t hi)
{
	hi = r->ret > hi ? r->ret : hi;
	if (r->has & RES_FDS) {
		hi = r->fds[0] > hi ? r->fds[0] : hi;
		hi = r->fds[1] > hi ? r->fds[1] : hi;
	}
	return hi;
}

int reset_bound(int64_t highest)
{
	return highest < FD_LIMIT - 1 ? (int)highest : FD_LIMIT - 1;
}

/*
 * The highest number a program can have left open in our table, for the
 * reset's close_range, which tries every number up to the table's size
 * (__range_close), and our own fds at EXEC_FD_BASE keep that above 2,000.
 * Every fd a program opens is one a result names: a creation's return,
 * pipe2's and socketpair's pair, the new number of dup, dup2, dup3 and
 * F_DUPFD.  Results that name no fd (counts, flags) only raise the bound,
 * and a thread's own table (unshared, or a child's) is gone by now.
 */
static int highest_fd(const struct outcome *out)
{
	int64_t hi = FD_INITIAL_OPEN; /* close_range(3, 3) at least: valid */

	for (uint32_t i = 0; i < out->nsteps; i++)
		hi = result_highest_fd(&out->steps[i].res, hi);
	for (uint32_t i = 0; i < out->ndone; i++)
		hi = result_highest_fd(&out->done[i].res, hi);
	return reset_bound(hi);
}

static int map_slots(struct executor *ex, struct error *err)
{
	void *p = mmap(NULL, sizeof(*ex->slots) * MAX_THREADS, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return fail(err, "mmap of the process slots: %s", strerror(errno));
	ex->slots = p;
	return 0;
}

struct executor *executor_open(struct error *err)
{
	struct executor *ex = calloc(1, sizeof(*ex));

	if (!ex) {
		fail(err, "out of memory");
		return NULL;
	}
	ex->devnull = -1;
	ex->cpu = -1;
	if (pthread_getaffinity_np(pthread_self(), sizeof(ex->allowed), &ex->allowed) != 0)
		CPU_ZERO(&ex->allowed);
	ex->sig = SIGRTMIN + 2;
	ex->settle_ms = SETTLE_TIMEOUT_MS;
	ex->progress = &ex->own_progress;
	probe_settle(ex); /* cannot fail: what it cannot see, it waits out */
	if (install_signals(ex->sig, err) < 0 || raise_fd_limit(err) < 0 ||
	    (ex->devnull = open_devnull(err)) < 0 ||
	    call_buffers_init(&ex->inline_buf, NULL, err) < 0 ||
	    start_workers(ex, err) < 0 || map_slots(ex, err) < 0 ||
	    lower_fd_limit(err) < 0 ||
	    reset_fd_table(ex, FD_LIMIT - 1, err) < 0) {
		executor_close(ex);
		return NULL;
	}
	return ex;
}

void executor_close(struct executor *ex)
{
	if (!ex)
		return;
	for (unsigned i = 0; i < ex->nworkers; i++)
		worker_reap(&ex->workers[i], true, NULL);
	for (unsigned i = 0; i < ex->nworkers; i++)
		worker_stop(&ex->workers[i]);
	if (ex->slots)
		munmap(ex->slots, sizeof(*ex->slots) * MAX_THREADS);
	call_buffers_free(&ex->inline_buf);
	if (ex->devnull >= 0)
		close(ex->devnull);
	free(ex);
}

void executor_set_progress(struct executor *ex, _Atomic uint32_t *step)
{
	ex->progress = step ? step : &ex->own_progress;
}

void executor_set_settle_timeout(struct executor *ex, unsigned ms)
{
	ex->settle_ms = ms;
}

void executor_settle_mode(const struct executor *ex, char *buf, size_t len)
{
	settle_describe(&ex->settle, buf, len);
}

void executor_settle_aliases(const struct executor *ex, char *buf, size_t len)
{
	settle_describe_aliases(&ex->settle, buf, len);
}

/* ------------------------------------------------------------ recording */

/* Copies a call's result into res (a step's or a completion's), its events
 * into the outcome's pool; res must be the last result to get events. */
static void record_result(struct outcome *out, struct result *res,
			  const struct call_result *r,
			  const struct epoll_event *events)
{
	*res = r->res;
	res->ev_first = out->nevents;
	res->ev_count = 0;
	for (uint32_t i = 0; i < r->nevents; i++)
		outcome_add_event(out, res, events[i].events, events[i].data.u64);
}

/* A wait interrupted at its virtual deadline returns what the kernel
 * returns on expiry: 0, no events.  (ep_poll scans once more when a signal
 * wakes it, unlike a plain expiry; if that scan found events, they are what
 * the kernel gave, and they are reported.) */
static void expire(struct call_result *r)
{
	if (r->res.ret == -1 && r->res.err == EINTR) {
		memset(&r->res, 0, sizeof(r->res));
		r->res.has = RES_EVENTS;
		r->nevents = 0;
	}
}

/*
 * After a step has settled: the step's own result (from its worker, or
 * "blocked"), then every blocked op the step completed, by thread.
 */
static void gather(struct executor *ex, struct outcome *out,
		   struct step_record *rec, const struct op *op)
{
	struct worker *own = &ex->workers[rec->t];

	if (own->pending && own->step == rec->step) {
		if (own->posted) {
			record_result(out, &rec->res, &own->result, worker_events(own));
			worker_gather(own);
		} else {
			uint64_t ms;

			rec->state = STEP_BLOCKED;
			if (op_is_epoll_wait(op->kind) &&
			    op_wait_timeout(op, &ms) == WAIT_TIMED) {
				own->timed = true;
				own->deadline = ex->clock + (int64_t)ms;
			}
		}
	}
	for (unsigned t = 0; t < ex->nworkers; t++) {
		struct worker *w = &ex->workers[t];
		struct completion *c;

		if (!w->pending || !w->posted)
			continue;
		if (w->expired)
			expire(&w->result);
		c = outcome_add_completion(out, rec, w->step, t);
		record_result(out, &c->res, &w->result, worker_events(w));
		worker_gather(w);
	}
}

/* --------------------------------------------------------------- steps */

static bool any_pending(const struct executor *ex)
{
	for (unsigned t = 0; t < ex->nworkers; t++)
		if (ex->workers[t].pending)
			return true;
	return false;
}

/* The bound on one settle; a timed settle needs its quiet period at
 * least, so it gets a few of them whatever the bound says. */
static unsigned settle_timeout(const struct executor *ex)
{
	unsigned quiet = ex->settle.mode == SETTLE_TIMED ? ex->settle.quiet_ms : 0;

	return ex->settle_ms > 4 * quiet ? ex->settle_ms : 4 * quiet;
}

static int settle(struct executor *ex, struct error *err)
{
	return workers_settle(ex->workers, ex->nworkers, &ex->settle,
			      settle_timeout(ex), err);
}

/*
 * sleep: the virtual clock moves; each blocked wait whose deadline has
 * come is interrupted, earliest deadline first (then lowest thread), and
 * the workers settle after each, as they would between real expiries.
 */
static int run_sleep(struct executor *ex, const struct op *op,
		     struct step_record *rec, struct outcome *out,
		     struct error *err)
{
	ex->clock += op->f[F_MS];
	for (;;) {
		struct worker *next = NULL;

		for (unsigned t = 0; t < ex->nworkers; t++) {
			struct worker *w = &ex->workers[t];

			if (w->pending && !w->posted && w->timed &&
			    w->deadline <= ex->clock &&
			    (!next || w->deadline < next->deadline))
				next = w;
		}
		if (!next)
			break;
		next->expired = true;
		if (worker_interrupt(next, &ex->settle, settle_timeout(ex), err) < 0 ||
		    settle(ex, err) < 0)
			return -1;
	}
	gather(ex, out, rec, op);
	return 0;
}

/* w's server's /proc files (task tid of process pid, 0: ours) go with
 * ours, above the programs' range, under the limit raised for as long as
 * we place them. */
static int open_task_files(struct worker *w, pid_t pid, pid_t tid,
			   struct error *err)
{
	int e;

	if (raise_fd_limit(err) < 0)
		return -1;
	e = settle_task_open_in(&w->pst, pid, tid, EXEC_FD_BASE) < 0 ? errno : 0;
	if (lower_fd_limit(err) < 0)
		return -1;
	if (e)
		return fail(err, "placing the /proc files of task %d above %d: %s",
			    (int)tid, EXEC_FD_BASE, strerror(e));
	return 0;
}

/* The child's table is a copy of the forking thread's: made here when
 * that is process 0's (ours), else by the thread's own server. */
static int run_fork(struct executor *ex, const struct op *op,
		    const struct worker *own, struct step_record *rec,
		    struct outcome *out, struct error *err)
{
	unsigned child = (unsigned)op->f[F_CHILD];
	struct worker *w = &ex->workers[child];
	const char *refused;

	if (worker_fork(w, &ex->slots[child], own, &refused, err) < 0)
		return -1;
	if (refused) {
		rec->state = STEP_UNSUPPORTED;
		snprintf(out->unsupported, sizeof(out->unsupported), "%s", refused);
		return 0;
	}
	if (open_task_files(w, w->pid, w->pid, err) < 0)
		return -1;
	rec->res.ret = 0;
	return 0;
}

/* Thread t of process 0 unshares its table: from here on its calls are
 * made by a thread of their own, whose first is the close_range that
 * unshares (worker_unshare).  Made with every signal blocked, as the
 * workers are. */
static int start_unshared(struct executor *ex, unsigned t, struct error *err)
{
	struct worker *w = &ex->workers[t];
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = worker_unshare(w, &ex->slots[t], err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		return -1;
	return open_task_files(w, 0, atomic_load(&w->slot->pid), err);
}

static int run_step(struct executor *ex, const struct op *op, uint32_t i,
		    struct outcome *out, struct error *err)
{
	struct worker *own = &ex->workers[op->t];
	struct step_record *rec = outcome_add_step(out, i, op->t);
	struct call c;

	rec->state = STEP_DONE;
	if (own->pending) {
		rec->state = STEP_SKIPPED;
		return 0;
	}
	if (i == ex->bad_op) {
		rec->state = STEP_UNSUPPORTED;
		snprintf(out->unsupported, sizeof(out->unsupported),
			 "not a valid program: %.130s", ex->bad_why.msg);
		return 0;
	}
	if (op->kind == OP_SLEEP)
		return run_sleep(ex, op, rec, out, err);
	if (op->kind == OP_FORK)
		return run_fork(ex, op, own, rec, out, err);
	if (op->kind == OP_EXIT && own->pid <= 0) {
		rec->state = STEP_UNSUPPORTED;
		snprintf(out->unsupported, sizeof(out->unsupported),
			 "exit by thread %u, whose fork did not run (the forking thread "
			 "was blocked): process 0 never exits", op->t);
		return 0;
	}
	if (op->kind == OP_EXIT) {
		/* the child's files are released by the time waitpid returns;
		 * what their release woke in process 0 settles as usual */
		if (worker_reap(own, false, err) < 0)
			return -1;
		rec->res.ret = 0;
		if (!any_pending(ex))
			return 0;
		if (settle(ex, err) < 0)
			return -1;
		gather(ex, out, rec, op);
		return 0;
	}

	if (close_range_unshares(op) && !own->slot && start_unshared(ex, op->t, err) < 0)
		return -1;
	call_prepare(op, &c);
	if (c.refuse) {
		/* what the model does with an op it does not cover: say so, and
		 * run nothing more (executor_run stops here) */
		rec->state = STEP_UNSUPPORTED;
		snprintf(out->unsupported, sizeof(out->unsupported), "%s", c.refuse);
		return 0;
	}
	if (c.block_nr >= 0 || own->slot) {
		/* a thread whose table is not ours makes every call of its
		 * own (its server prepares the call again, on its fds) */
		worker_dispatch(own, &c, i);
	} else {
		call_run(&c, &ex->inline_buf, &ex->inline_result);
		record_result(out, &rec->res, &ex->inline_result,
			      ex->inline_buf.events);
		if (!op_may_wake(op) || !any_pending(ex))
			return 0;
	}
	if (settle(ex, err) < 0)
		return -1;
	gather(ex, out, rec, op);
	return 0;
}

/* Threads still blocked at the end are reported, then interrupted, so the
 * executor is ready at once for the next program. */
static int finish(struct executor *ex, struct outcome *out, struct error *err)
{
	for (unsigned t = 0; t < ex->nworkers; t++) {
		struct worker *w = &ex->workers[t];

		if (!w->pending)
			continue;
		out->blocked[out->nblocked].step = w->step;
		out->blocked[out->nblocked].t = (uint8_t)t;
		out->nblocked++;
	}
	/* Child processes still alive are killed and reaped first: their
	 * releases may wake (complete) threads of process 0, which are then
	 * gathered by their interrupt below without a signal. */
	for (unsigned t = 0; t < ex->nworkers; t++)
		if (ex->workers[t].pid > 0 && worker_reap(&ex->workers[t], true, err) < 0)
			return -1;
	for (unsigned t = 0; t < ex->nworkers; t++) {
		struct worker *w = &ex->workers[t];

		if (!w->pending)
			continue;
		if (worker_interrupt(w, &ex->settle, settle_timeout(ex), err) < 0)
			return -1;
		worker_gather(w);
	}
	for (unsigned t = 0; t < ex->nworkers; t++)
		worker_end_unshared(&ex->workers[t]);
	return reset_fd_table(ex, highest_fd(out), err);
}

static int check_program(const struct program *p, struct error *err)
{
	if (p->nops > MAX_OPS)
		return fail(err, "a program holds at most %d ops", MAX_OPS);
	for (unsigned i = 0; i < p->nops; i++) {
		if (p->ops[i].kind >= OP_KIND_COUNT)
			return fail(err, "op %u: unknown kind %u", i, p->ops[i].kind);
		if (p->ops[i].t >= MAX_THREADS)
			return fail(err, "op %u: thread %u out of range", i,
				    p->ops[i].t);
	}
	return 0;
}

int executor_run(struct executor *ex, const struct program *p, int cpu,
		 struct outcome *out, struct error *err)
{
	outcome_reset(out);
	if (check_program(p, err) < 0)
		return -1;
	ex->clock = 0;
	ex->bad_op = program_check_processes(p, &ex->bad_why);
	place_workers(ex, cpu);
	for (uint32_t i = 0; i < p->nops; i++) {
		struct error why;

		atomic_store_explicit(ex->progress, i, memory_order_relaxed);
		if (run_step(ex, &p->ops[i], i, out, &why) < 0) {
			for (unsigned t = 0; t < ex->nworkers; t++)
				worker_reap(&ex->workers[t], true, NULL);
			return fail(err, "step %u: %s", i, why.msg);
		}
		if (out->steps[out->nsteps - 1].state == STEP_UNSUPPORTED)
			break;
	}
	return finish(ex, out, err);
}
