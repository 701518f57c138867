/*
 * oracle.c - an executor in a child process, a control channel to it, and
 * a watchdog; and the linux target, whose child is a plain fork.
 *
 * The child is started once at open and runs program after program.  It
 * may die (a program killed it, or someone did) or hang; the parent bounds
 * every exchange, and on any failure kills the child, reaps it, starts a
 * new one and says what happened.  Where the child was is read from a page
 * shared with it, in which it publishes the index of the step it runs.
 *
 * How the child becomes an executor is the kind's (struct child_kind): the
 * linux target's child serves right away in the forked process; the exec
 * target's (exec.c) runs a wrapper command that runs epollfuzz-executor.
 * Everything else, here, is the same for both.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "oracle.h"

struct shared_page {
	_Atomic uint32_t step; /* the step the executor is running */
};

struct target {
	struct child_kind kind;
	pid_t pid;  /* the executor (and its process group), or -1 */
	int ctl;    /* our end of the control channel */
	/* The page, in a memfd so that a child that execs can map it too. */
	int shared_fd;
	struct shared_page *shared;
	unsigned timeout_ms;
	void *scratch; /* the program as sent, reused */
	size_t scratch_cap;
	struct hello hello; /* from the running child's hello */
	cpu_set_t allowed;  /* where the thread that runs programs may run */
	int ncpus;          /* how many CPUs allowed holds; 0: not known */
};

/* ------------------------------------------------------------ the child */

/*
 * Runs in the forked child before the kind takes over.  The child dies
 * with the parent, even if the parent died before prctl ran; the flag is
 * kept across execve (only a set-user-ID or capability change clears it),
 * so a wrapper and the executor it runs die too (they are this process).
 * Its own process group lets the watchdog kill a wrapper's children with
 * it.
 */
static _Noreturn void child_start(struct target *t, pid_t parent, int ctl)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	setpgid(0, 0);
	t->kind.child(t->kind.arg, ctl, t->shared_fd, &t->shared->step);
	_exit(1);
}

static _Noreturn void fork_child(void *arg, int ctl, int progress_fd,
				 _Atomic uint32_t *progress)
{
	(void)arg;
	(void)progress_fd;
	_exit(channel_serve(ctl, progress));
}

/* ----------------------------------------------------------- the parent */

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "died (signal %d)", WTERMSIG(status));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited (status %d)", WEXITSTATUS(status));
	else
		snprintf(buf, len, "vanished (wait status %#x)", status);
}

/* What the kind knows of why the child failed, as "; ..." or "". */
static void kind_why(struct target *t, char *buf, size_t len)
{
	char why[256] = "";

	buf[0] = '\0';
	if (t->kind.why)
		t->kind.why(t->kind.arg, why, sizeof(why));
	if (why[0])
		snprintf(buf, len, "; %s", why);
}

/* How long a child that closed the channel may take to exit by itself (a
 * wrapper may have its own words to say, valgrind its summary). */
#define EXIT_GRACE_MS 2000

/* Whether pid exited within ms; its status in *status if so. */
static bool exits_within(pid_t pid, unsigned ms, int *status)
{
	int64_t deadline = monotonic_ns() + (int64_t)ms * 1000000;

	do {
		pid_t got = waitpid(pid, status, WNOHANG);

		if (got == pid || (got < 0 && errno != EINTR))
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
	} while (monotonic_ns() < deadline);
	return false;
}

/* Kills (unless it is exiting by itself) and reaps the executor; returns
 * its wait status.  The group first, for what a wrapper started; the
 * process itself if the group is not there yet (the child had not got to
 * setpgid). */
static int stop_child(struct target *t, bool kill_it)
{
	int status = 0;

	if (t->pid <= 0)
		return 0;
	if (kill_it || !exits_within(t->pid, EXIT_GRACE_MS, &status)) {
		if (kill(-t->pid, SIGKILL) < 0)
			kill(t->pid, SIGKILL);
		while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(t->ctl);
	t->ctl = -1;
	t->pid = -1;
	return status;
}

static void after_run(struct target *t)
{
	if (t->kind.after_run)
		t->kind.after_run(t->kind.arg);
}

/* Waits for the hello; on failure stops the child and says why. */
static int await_hello(struct target *t, struct error *err)
{
	int64_t deadline = monotonic_ns() + (int64_t)t->timeout_ms * 1000000;
	int rc = channel_recv_hello(t->ctl, &t->hello, deadline, err);
	char how[sizeof(err->msg)], tail[300];
	int status;

	if (rc == CHANNEL_OK)
		return 0;
	if (rc == CHANNEL_ERROR) /* the executor's own word, or the channel's */
		snprintf(how, sizeof(how), "%s", err->msg);
	/* On EOF the child is exiting: let it, so that its status is its own. */
	status = stop_child(t, rc != CHANNEL_EOF);
	if (rc == CHANNEL_TIMEOUT)
		snprintf(how, sizeof(how), "no hello within %u ms", t->timeout_ms);
	else if (rc == CHANNEL_EOF)
		describe_exit(status, how, sizeof(how));
	kind_why(t, tail, sizeof(tail));
	return fail(err, "%s: executor did not start: %.300s%s", t->kind.label,
		    how, tail);
}

static int start_child(struct target *t, struct error *err)
{
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail(err, "%s: socketpair: %s", t->kind.label, strerror(errno));
	t->pid = fork();
	if (t->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return fail(err, "%s: fork: %s", t->kind.label, strerror(errno));
	}
	if (t->pid == 0) {
		close(sv[0]);
		child_start(t, parent, sv[1]);
	}
	setpgid(t->pid, t->pid); /* either of us may come first */
	close(sv[1]);
	t->ctl = sv[0];
	if (fcntl(t->ctl, F_SETFL, O_NONBLOCK) < 0) {
		stop_child(t, true);
		return fail(err, "%s: fcntl: %s", t->kind.label, strerror(errno));
	}
	if (await_hello(t, err) < 0)
		return -1;
	after_run(t);
	return 0;
}

static int map_shared(struct target *t, struct error *err)
{
	t->shared_fd = memfd_create("epollfuzz-progress", MFD_CLOEXEC);
	if (t->shared_fd < 0)
		return fail(err, "%s: memfd_create: %s", t->kind.label,
			    strerror(errno));
	if (ftruncate(t->shared_fd, sizeof(*t->shared)) < 0)
		return fail(err, "%s: ftruncate: %s", t->kind.label, strerror(errno));
	t->shared = mmap(NULL, sizeof(*t->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED, t->shared_fd, 0);
	if (t->shared == MAP_FAILED) {
		t->shared = NULL;
		return fail(err, "%s: mmap: %s", t->kind.label, strerror(errno));
	}
	return 0;
}

struct target *child_target_open(const struct child_kind *kind,
				 struct error *err)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t) {
		fail(err, "%s: out of memory", kind->label);
		if (kind->free)
			kind->free(kind->arg);
		return NULL;
	}
	t->kind = *kind;
	t->pid = -1;
	t->ctl = -1;
	t->shared_fd = -1;
	t->timeout_ms = LINUX_TARGET_TIMEOUT_MS;
	if (pthread_getaffinity_np(pthread_self(), sizeof(t->allowed),
				   &t->allowed) == 0)
		t->ncpus = CPU_COUNT(&t->allowed);
	if (map_shared(t, err) < 0 || start_child(t, err) < 0) {
		child_target_close(t);
		return NULL;
	}
	return t;
}

/* After a failed exchange: stops the child and says what became of it. */
static void report_failure(struct target *t, int rc, const struct error *why,
			   struct error *err)
{
	uint32_t step = atomic_load(&t->shared->step);
	char how[64], tail[300];

	switch (rc) {
	case CHANNEL_TIMEOUT:
		stop_child(t, true);
		fail(err, "%s: executor hung at step %u", t->kind.label, step);
		break;
	case CHANNEL_EOF:
		/* The child closed its end: it is exiting, or gone. */
		describe_exit(stop_child(t, false), how, sizeof(how));
		kind_why(t, tail, sizeof(tail));
		fail(err, "%s: executor %s at step %u%s", t->kind.label, how, step,
		     tail);
		break;
	default:
		stop_child(t, true);
		fail(err, "%s: %s", t->kind.label, why->msg);
		break;
	}
}

/*
 * The executor runs a program on the CPU it was sent from (executor.c,
 * place_workers), and we stay on that CPU until its outcome is back, so
 * that the executor's wakeup of us is a switch there, not an IPI to a CPU
 * that went idle meanwhile: we wait while it works and it waits while we
 * do, one CPU serves both.  Between programs we are free again, so the
 * scheduler still moves us off a busy CPU, and the executor follows at the
 * next program.  Returns the CPU, or -1 (then the executor stays where it
 * is).  A thread allowed one CPU only is there already.
 */
static int stay_here(struct target *t)
{
	int cpu = sched_getcpu();
	cpu_set_t one;

	if (t->ncpus < 2)
		return t->ncpus == 1 ? cpu : -1;
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0)
		return -1;
	return cpu;
}

static void move_freely(struct target *t, int cpu)
{
	if (cpu >= 0 && t->ncpus > 1)
		pthread_setaffinity_np(pthread_self(), sizeof(t->allowed), &t->allowed);
}

int child_target_run(struct target *t, const struct program *p,
		     struct outcome *out, struct error *err)
{
	struct error why;
	int64_t deadline;
	int rc, cpu;

	if (t->pid < 0 && start_child(t, err) < 0)
		return -1;
	atomic_store(&t->shared->step, 0);
	deadline = monotonic_ns() + (int64_t)t->timeout_ms * 1000000;
	cpu = stay_here(t);
	rc = channel_send_program(t->ctl, p, cpu, &t->scratch, &t->scratch_cap,
				  deadline, &why);
	if (rc == CHANNEL_OK)
		rc = channel_recv_outcome(t->ctl, out, deadline, &why);
	move_freely(t, cpu);
	if (rc == CHANNEL_OK) {
		after_run(t);
		return 0;
	}
	report_failure(t, rc, &why, err);
	outcome_reset(out);
	/* Ready for the next run; if this fails, the next run tries again. */
	start_child(t, &why);
	return -1;
}

void child_target_close(struct target *t)
{
	if (!t)
		return;
	stop_child(t, true);
	if (t->shared)
		munmap(t->shared, sizeof(*t->shared));
	if (t->shared_fd >= 0)
		close(t->shared_fd);
	if (t->kind.free)
		t->kind.free(t->kind.arg);
	free(t->scratch);
	free(t);
}

const char *child_target_describe(struct target *t, const char *key)
{
	if (strcmp(key, "command") == 0)
		return t->kind.command;
	/* Between a failure and its restart the last hello still says how
	 * the executor settles: the same program on the same system. */
	if (strcmp(key, "settle") == 0)
		return t->hello.settle[0] ? t->hello.settle : NULL;
	if (strcmp(key, "settle-aliases") == 0)
		return t->hello.aliases[0] ? t->hello.aliases : NULL;
	return NULL;
}

void linux_target_set_timeout(struct target *t, unsigned ms)
{
	t->timeout_ms = ms;
}

pid_t linux_target_pid(struct target *t)
{
	return t->pid;
}

/* ------------------------------------------------------ the linux target */

static struct target *linux_open(const struct target_config *cfg,
				 struct error *err)
{
	struct child_kind kind = { .label = "linux", .child = fork_child };

	(void)cfg;
	return child_target_open(&kind, err);
}

const struct target_ops linux_target = {
	.name = "linux",
	.summary = "real syscalls and threads on the running kernel, in a "
		   "persistent executor process",
	.open = linux_open,
	.run = child_target_run,
	.close = child_target_close,
	.describe = child_target_describe,
};
