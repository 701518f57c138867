/*
 * settle.c - is a thread asleep in its blocking call?  (settle.h says why
 * the answer has three modes.)
 *
 * Self-contained: libc and pthreads only, so that a generated C reproducer
 * can embed this file and settle.h as they are.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "settle.h"

int64_t settle_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pause_us(long us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = us * 1000 };

	nanosleep(&ts, NULL);
}

void settle_init(struct settle *s, unsigned quiet_ms)
{
	memset(s, 0, sizeof(*s));
	s->mode = SETTLE_PROC;
	s->quiet_ms = quiet_ms ? quiet_ms : SETTLE_QUIET_MS_DEFAULT;
	s->task_files = true;
}

/* ------------------------------------------------------- /proc files */

static int open_high(const char *path, int fd_min)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), high, saved;

	if (fd < 0 || fd >= fd_min)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, fd_min);
	saved = errno;
	close(fd);
	errno = saved;
	return high;
}

static int open_task_file(pid_t pid, pid_t tid, const char *name, int fd_min,
			  int *fd)
{
	char path[64];

	if (pid > 0) /* a thread of another process (a forked child's) */
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid,
			 (int)tid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, name);
	*fd = open_high(path, fd_min);
	if (*fd >= 0 || errno == ENOENT || errno == EACCES || errno == EPERM)
		return 0;
	return -1; /* EMFILE, EINVAL: the fd could not be placed */
}

int settle_task_open(struct settle_task *t, pid_t tid, int fd_min)
{
	return settle_task_open_in(t, 0, tid, fd_min);
}

int settle_task_open_in(struct settle_task *t, pid_t pid, pid_t tid, int fd_min)
{
	memset(t, 0, sizeof(*t));
	t->stat = t->syscall = t->schedstat = -1;
	t->block_nr = -1;
	if (open_task_file(pid, tid, "stat", fd_min, &t->stat) < 0 ||
	    open_task_file(pid, tid, "syscall", fd_min, &t->syscall) < 0 ||
	    open_task_file(pid, tid, "schedstat", fd_min, &t->schedstat) < 0) {
		int saved = errno;

		settle_task_close(t);
		errno = saved;
		return -1;
	}
	return 0;
}

void settle_task_close(struct settle_task *t)
{
	if (t->stat >= 0)
		close(t->stat);
	if (t->syscall >= 0)
		close(t->syscall);
	if (t->schedstat >= 0)
		close(t->schedstat);
	t->stat = t->syscall = t->schedstat = -1;
}

void settle_task_arm(struct settle_task *t, long block_nr)
{
	t->block_nr = block_nr;
	t->pcount = 0;
	memset(&t->last, 0, sizeof(t->last));
	t->still_since = 0;
}

/* Re-reads a /proc file from the start: seq_file regenerates it at
 * offset 0, so one open fd serves every look. */
static ssize_t read_task_file(int fd, char *buf, size_t len)
{
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* schedstat: "run_ns wait_ns pcount"; pcount counts the times the task
 * was switched in (sched_info_arrive).  0 when the kernel lacks
 * CONFIG_SCHED_INFO or the file is missing. */
static uint64_t read_pcount(const struct settle_task *t)
{
	char buf[96];
	unsigned long long run, wait, pcount;

	if (read_task_file(t->schedstat, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%llu %llu %llu", &run, &wait, &pcount) != 3)
		return 0;
	return pcount;
}

/*
 * /proc/TID/syscall answers only for a task that is off the CPU and not
 * TASK_RUNNING (proc_pid_syscall -> task_current_syscall ->
 * wait_task_inactive) and says "running" otherwise; its first number is
 * the syscall the task is in (-1 when it is in none).
 */
static long read_syscall_nr(const struct settle_task *t)
{
	char buf[256];
	long nr;

	if (read_task_file(t->syscall, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%ld", &nr) != 1)
		return -1;
	return nr;
}

/*
 * /proc/TID/stat's state S is an interruptible sleep: the wait queues of
 * epoll, pipes, eventfd and sockets.  A task being woken (TASK_WAKING) is
 * not TASK_RUNNING yet, so the syscall file may still answer for it, but
 * stat shows it as R (get_task_state reads __state, which ttwu has set to
 * TASK_RUNNING before the wake-up returns).
 */
static char read_state(const struct settle_task *t)
{
	char buf[512];
	const char *paren;

	if (read_task_file(t->stat, buf, sizeof(buf)) <= 0 ||
	    !(paren = strrchr(buf, ')')) || paren[1] != ' ') /* comm may hold ')' */
		return 0;
	return paren[2];
}

void settle_look(const struct settle_task *t, struct settle_look *l)
{
	l->state = read_state(t);
	l->nr = read_syscall_nr(t);
	l->pcount = read_pcount(t);
}

/* ------------------------------------------------------- proc modes */

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441 /* x86-64; glibc before 2.35 lacks the name */
#endif

/*
 * epoll_wait, epoll_pwait and epoll_pwait2 sleep in the same wait
 * (ep_poll), and an emulator may make one with another: qemu-user makes a
 * guest's epoll_wait with the host's epoll_pwait.  So a thread armed for
 * any of them is in its call when it is seen in any of them, or in what
 * the probe saw epoll_wait sleep in (its alias).  None of them is ever the
 * idle wait of a thread that runs calls (a futex).
 */
static long call_family(long nr)
{
	if (nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2)
		return SYS_epoll_wait;
	/* The same holds for a read or write that sleeps (pipe_read,
	 * eventfd_read, unix_stream_data_wait, sock_wait_for_wmem...): an
	 * emulator may make a guest's read with the host's readv, pread64 or,
	 * on a socket, recvfrom or recvmsg, and a write likewise; the probe
	 * learns only what a pipe read and write sleep in. */
	if (nr == SYS_readv || nr == SYS_pread64 || nr == SYS_preadv ||
	    nr == SYS_recvfrom || nr == SYS_recvmsg)
		return SYS_read;
	if (nr == SYS_writev || nr == SYS_pwrite64 || nr == SYS_pwritev ||
	    nr == SYS_sendto || nr == SYS_sendmsg)
		return SYS_write;
	return nr;
}

static bool is_the_call(const struct settle *s, long block_nr, long nr)
{
	if (nr < 0)
		return false;
	block_nr = call_family(block_nr);
	if (call_family(nr) == block_nr)
		return true;
	for (unsigned i = 0; i < s->naliases; i++)
		if (s->alias[i].native == block_nr && s->alias[i].seen == nr)
			return true;
	return false;
}

/* The idle wait of a thread that runs calls is (in epollfuzz's workers) a
 * futex, never one of the calls it runs, so it never passes for one. */
static bool in_call(const struct settle *s, const struct settle_task *t)
{
	return is_the_call(s, t->block_nr, read_syscall_nr(t));
}

static bool sleeps_in_call(const struct settle *s, const struct settle_task *t)
{
	return in_call(s, t) && read_state(t) == 'S';
}

/*
 * A thread that an op wakes is no longer in S once the waking syscall has
 * returned (try_to_wake_up has left TASK_INTERRUPTIBLE behind before
 * wake_up returns), so each thread the op woke is seen running, or
 * returned, or asleep again after its own pass through the call.  But one
 * look at every thread is not one instant: a thread seen asleep may be
 * woken by one seen a moment later, already asleep again (an epoll scan
 * ends in ep_done_scan, which wakes the next waiter, and the scan itself
 * may find nothing and sleep again).
 *
 * So settling reads, for every thread still in a call, four files in four
 * passes: its schedule-in count (schedstat's pcount, bumped by
 * sched_info_arrive), its syscall file, its state, its count again.  For
 * each thread:
 *
 *  - the syscall file answers only for a task off the CPU and not
 *    TASK_RUNNING, in the call it names (a task being woken is
 *    TASK_WAKING, not yet TASK_RUNNING, and may still answer);
 *  - an unchanged count says it was not switched in between the two reads
 *    of it, so it stayed off the CPU from its syscall read on;
 *  - in S at its state read, then, it was in S all along since its
 *    syscall read: a woken task does not sleep again without running.
 *
 * So each thread slept in its call from its syscall read to its state
 * read, and since every syscall read comes before every state read, there
 * is an instant at which all of them slept in their calls.  Then none was
 * running, and only a running thread wakes another (the settling thread
 * touches no program file): nobody can run again until the next op.
 * (Without schedstat, pcount reads 0 and the passes rest on the state
 * reads alone.)  Two exact rounds of the same reads cost a fifth more.
 */
static bool quiet_proc(const struct settle *s, struct settle_task *const *ts,
		       unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ts[i]->pcount = read_pcount(ts[i]);
	for (unsigned i = 0; i < n; i++)
		if (!in_call(s, ts[i]))
			return false;
	for (unsigned i = 0; i < n; i++)
		if (read_state(ts[i]) != 'S')
			return false;
	for (unsigned i = 0; i < n; i++)
		if (read_pcount(ts[i]) != ts[i]->pcount)
			return false;
	return true;
}

/* ------------------------------------------------------- timed mode */

static bool looks_differ(const struct settle_look *a, const struct settle_look *b)
{
	return a->state != b->state || a->nr != b->nr || a->pcount != b->pcount;
}

static bool may_be_asleep(char state)
{
	return state == 'S' || state == 0; /* 0: no state to tell */
}

/*
 * A thread counts as asleep when it is in S (or nothing tells) and nothing
 * of it has changed for the quiet period, counted from the later of its
 * last change and the settle's start: a thread woken by this step and
 * asleep again before the first look shows no change when the run count
 * is missing, so every step waits the period at least once.
 */
static bool quiet_timed(const struct settle *s, struct settle_task *const *ts,
			unsigned n, int64_t start_ns, int64_t now_ns)
{
	int64_t quiet = (int64_t)s->quiet_ms * 1000000;
	bool all = true;

	if (!s->task_files)
		return now_ns - start_ns >= quiet;
	for (unsigned i = 0; i < n; i++) {
		struct settle_task *t = ts[i];
		struct settle_look l;
		int64_t since;

		settle_look(t, &l);
		if (t->still_since == 0 || looks_differ(&l, &t->last)) {
			t->last = l;
			t->still_since = now_ns;
		}
		since = t->still_since > start_ns ? t->still_since : start_ns;
		if (!may_be_asleep(l.state) || now_ns - since < quiet)
			all = false;
	}
	return all;
}

bool settle_quiet(const struct settle *s, struct settle_task *const *ts,
		  unsigned n, int64_t start_ns, int64_t now_ns)
{
	if (n == 0)
		return true;
	if (s->mode == SETTLE_TIMED)
		return quiet_timed(s, ts, n, start_ns, now_ns);
	return quiet_proc(s, ts, n);
}

void settle_pause(const struct settle *s)
{
	if (s->mode == SETTLE_TIMED)
		pause_us(s->quiet_ms * 1000L / 20 + 50);
	else
		sched_yield();
}

bool settle_may_sleep(const struct settle *s, const struct settle_task *t)
{
	if (s->mode == SETTLE_TIMED)
		return !s->task_files || may_be_asleep(read_state(t));
	return sleeps_in_call(s, t);
}

/* ------------------------------------------------------------ probe */

enum probe_stage {
	PROBE_START,
	PROBE_FUTEX, /* the idle wait: what a thread not in a call shows */
	PROBE_EPOLL_WAIT,
	PROBE_READ,
	PROBE_WRITE,
	PROBE_DONE,
};

struct probe {
	_Atomic int stage;
	_Atomic int word;         /* the futex */
	_Atomic pid_t tid;
	int ep, efd;              /* an epoll watching an eventfd */
	int rpipe[2], wpipe[2];   /* empty; full with a blocking write end */
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	struct epoll_event ev;
	char c = 0;

	atomic_store(&p->tid, (pid_t)syscall(SYS_gettid));
	atomic_store(&p->stage, PROBE_FUTEX);
	while (atomic_load(&p->word) == 0)
		syscall(SYS_futex, &p->word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	atomic_store(&p->stage, PROBE_EPOLL_WAIT);
	syscall(SYS_epoll_wait, p->ep, &ev, 1, -1);
	atomic_store(&p->stage, PROBE_READ);
	syscall(SYS_read, p->rpipe[0], &c, 1);
	atomic_store(&p->stage, PROBE_WRITE);
	syscall(SYS_write, p->wpipe[1], &c, 1);
	atomic_store(&p->stage, PROBE_DONE);
	return NULL;
}

/* A pipe whose read end is non-blocking and whose write end blocks, full. */
static int full_pipe(int fds[2])
{
	char buf[4096];

	memset(buf, 0, sizeof(buf));
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	for (size_t n = 0; n < (64u << 20); n += sizeof(buf))
		if (write(fds[1], buf, sizeof(buf)) < 0)
			break; /* EAGAIN: full (a partial write filled it too) */
	return fcntl(fds[1], F_SETFL, 0);
}

static int probe_open(struct probe *p)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(p, 0, sizeof(*p));
	p->ep = p->efd = p->rpipe[0] = p->rpipe[1] = p->wpipe[0] = p->wpipe[1] = -1;
	if ((p->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (p->efd = eventfd(0, EFD_CLOEXEC)) < 0 ||
	    epoll_ctl(p->ep, EPOLL_CTL_ADD, p->efd, &ev) < 0 ||
	    pipe2(p->rpipe, O_CLOEXEC) < 0 || full_pipe(p->wpipe) < 0)
		return -1;
	return 0;
}

static void probe_close(struct probe *p)
{
	int fds[] = { p->ep, p->efd, p->rpipe[0], p->rpipe[1], p->wpipe[0],
		      p->wpipe[1] };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* A write that cannot fail here, and whose failure would only leave the
 * probe thread asleep for pthread_join to find. */
static void nudge(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	(void)n;
}

/*
 * Lets the probe thread past a stage, whether it has reached it or not:
 * each release leaves a state (a word set, an event counted, a byte or
 * room in a pipe) that the call finds if it is made later.
 */
static void probe_release(struct probe *p, int stage)
{
	uint64_t one = 1;
	char buf[4096];

	switch (stage) {
	case PROBE_FUTEX:
		atomic_store(&p->word, 1);
		syscall(SYS_futex, &p->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		break;
	case PROBE_EPOLL_WAIT:
		nudge(p->efd, &one, sizeof(one));
		break;
	case PROBE_READ:
		nudge(p->rpipe[1], "x", 1);
		break;
	case PROBE_WRITE:
		while (read(p->wpipe[0], buf, sizeof(buf)) > 0)
			;
		break;
	}
}

/* Long enough for a thread to start and block under valgrind or qemu. */
#define PROBE_WAIT_NS (1000 * (int64_t)1000000)

/*
 * The syscall number the probe thread sleeps in at this stage, or -1 when
 * it is not seen asleep with a number.  A thread is taken as asleep when
 * two looks 1 ms apart (this thread sleeping in between, so that an
 * emulator that runs one thread at a time lets the other run) both find it
 * in S in the same call with the same run count: one look could catch it
 * waiting for the emulator's own lock on its way into the call.
 */
static long observe(struct probe *p, struct settle_task *t, int stage)
{
	int64_t deadline = settle_now_ns() + PROBE_WAIT_NS;
	struct settle_look a, b;

	while (atomic_load(&p->stage) != stage) {
		if (settle_now_ns() > deadline)
			return -1;
		pause_us(100);
	}
	do {
		settle_look(t, &a);
		pause_us(1000);
		settle_look(t, &b);
		if (a.state == 'S' && b.state == 'S' && a.nr >= 0 &&
		    a.nr == b.nr && a.pcount == b.pcount)
			return b.nr;
	} while (settle_now_ns() < deadline);
	return -1;
}

static void add_alias(struct settle *s, long native, long seen)
{
	if (s->naliases < SETTLE_MAX_ALIASES)
		s->alias[s->naliases++] = (struct settle_alias){ native, seen };
}

/* What the observations say: native numbers, aliases, or nothing to
 * trust.  An alias equal to the idle wait's number would let a thread
 * waiting for work (or for an emulator's lock) pass for one asleep in its
 * call, so it is refused. */
static void classify(struct settle *s, long idle, const long native[3],
		     const long seen[3])
{
	s->mode = SETTLE_PROC;
	s->naliases = 0;
	for (unsigned i = 0; i < 3; i++) {
		if (seen[i] == native[i])
			continue;
		if (seen[i] < 0 || seen[i] == idle) {
			s->mode = SETTLE_TIMED;
			s->naliases = 0;
			return;
		}
		s->mode = SETTLE_PROC_PROBED;
		add_alias(s, native[i], seen[i]);
	}
}

static void probe_run(struct settle *s, struct probe *p)
{
	static const long native[3] = { SYS_epoll_wait, SYS_read, SYS_write };
	struct settle_task t;
	pthread_t thread;
	long idle, seen[3];

	if (pthread_create(&thread, NULL, probe_main, p) != 0) {
		s->mode = SETTLE_TIMED;
		return;
	}
	while (atomic_load(&p->tid) == 0)
		sched_yield();
	if (settle_task_open(&t, atomic_load(&p->tid), 0) < 0 || t.stat < 0)
		s->task_files = false;
	/* Without a syscall file, or a thread never seen asleep even in a
	 * futex, there is nothing to look for in the calls: skip their waits. */
	idle = s->task_files && t.syscall >= 0 ? observe(p, &t, PROBE_FUTEX) : -1;
	probe_release(p, PROBE_FUTEX);
	for (int stage = PROBE_EPOLL_WAIT; stage <= PROBE_WRITE; stage++) {
		seen[stage - PROBE_EPOLL_WAIT] = idle >= 0 ? observe(p, &t, stage) : -1;
		probe_release(p, stage);
	}
	pthread_join(thread, NULL);
	settle_task_close(&t);
	classify(s, idle, native, seen);
}

void settle_probe(struct settle *s)
{
	struct probe p;

	if (probe_open(&p) < 0)
		s->mode = SETTLE_TIMED;
	else
		probe_run(s, &p);
	probe_close(&p);
}

/* ----------------------------------------------------------- report */

void settle_describe(const struct settle *s, char *buf, size_t len)
{
	switch (s->mode) {
	case SETTLE_PROC:
		snprintf(buf, len, "proc");
		break;
	case SETTLE_PROC_PROBED:
		snprintf(buf, len, "proc-probed");
		break;
	case SETTLE_TIMED:
		snprintf(buf, len, "timed:%ums", s->quiet_ms);
		break;
	}
}

void settle_describe_aliases(const struct settle *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < s->naliases && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%ld:%ld", i ? "," : "",
				 s->alias[i].native, s->alias[i].seen);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}
