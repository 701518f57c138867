/*
 * oracle.c - the linux target: an executor in a child process, a control
 * channel to it, and a watchdog.
 *
 * The child is forked once at open and runs program after program.  It may
 * die (a program killed it, or someone did) or hang; the parent bounds every
 * exchange, and on any failure kills the child, reaps it, starts a new one
 * and says what happened.  Where the child was is read from a page shared
 * with it, in which it publishes the index of the step it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"
#include "oracle.h"

struct shared_page {
	_Atomic uint32_t step; /* the step the executor is running */
};

struct target {
	pid_t pid;  /* the executor, or -1 */
	int ctl;    /* our end of the control channel */
	struct shared_page *shared;
	unsigned timeout_ms;
	void *scratch; /* the program as sent, reused */
	size_t scratch_cap;
};

/* ------------------------------------------------------------ the child */

/* Puts the control channel at EXEC_FD_BASE, which needs a soft
 * RLIMIT_NOFILE above it for now (the executor lowers it later). */
static int move_channel(int ctl, struct error *err)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "setrlimit: %s", strerror(errno));
	if (ctl != EXEC_FD_BASE && dup3(ctl, EXEC_FD_BASE, O_CLOEXEC) < 0)
		return fail(err, "moving the control channel to %d: %s",
			    EXEC_FD_BASE, strerror(errno));
	return EXEC_FD_BASE;
}

/* Closes whatever the parent had open (its end of this channel too, so
 * that the parent's death reads as EOF) and opens fds 0-2 on /dev/null. */
static int clean_fd_table(struct error *err)
{
	syscall(SYS_close_range, 0, EXEC_FD_BASE - 1, 0);
	syscall(SYS_close_range, EXEC_FD_BASE + 1, ~0u, 0);
	if (open("/dev/null", O_RDWR) != 0)
		return fail(err, "open /dev/null: %s", strerror(errno));
	if (dup2(0, 1) < 0 || dup2(0, 2) < 0)
		return fail(err, "dup2 /dev/null: %s", strerror(errno));
	return 0;
}

static _Noreturn void child_main(int ctl, pid_t parent,
				 struct shared_page *shared)
{
	struct executor *ex = NULL;
	struct program p;
	struct outcome out;
	struct error err;
	unsigned cap = 0;
	int high;

	/* Die with the parent, even if it died before this line ran. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	program_init(&p);
	outcome_init(&out);
	memset(&err, 0, sizeof(err));
	if ((high = move_channel(ctl, &err)) < 0) {
		channel_send_outcome(ctl, NULL, &err);
		_exit(1);
	}
	ctl = high;
	if (clean_fd_table(&err) == 0)
		ex = executor_open(&err);
	/* Hello: the parent's open waits for this, success or not. */
	channel_send_outcome(ctl, &out, ex ? NULL : &err);
	if (!ex)
		_exit(1);
	executor_set_progress(ex, &shared->step);
	for (;;) {
		int rc = channel_recv_program(ctl, &p, &cap, &err);

		if (rc == CHANNEL_EOF)
			_exit(0);
		if (rc != CHANNEL_OK) {
			channel_send_outcome(ctl, NULL, &err);
			_exit(1);
		}
		if (executor_run(ex, &p, &out, &err) < 0) {
			/* The workers' state is unknown: let the parent
			 * start afresh. */
			channel_send_outcome(ctl, NULL, &err);
			_exit(1);
		}
		if (channel_send_outcome(ctl, &out, NULL) != CHANNEL_OK)
			_exit(1);
	}
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

/* Kills (unless it is already gone) and reaps the executor; returns its
 * wait status. */
static int stop_child(struct target *t, bool kill_it)
{
	int status = 0;

	if (t->pid <= 0)
		return 0;
	if (kill_it)
		kill(t->pid, SIGKILL);
	while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(t->ctl);
	t->ctl = -1;
	t->pid = -1;
	return status;
}

static int start_child(struct target *t, struct error *err)
{
	struct outcome hello;
	pid_t parent = getpid();
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail(err, "linux: socketpair: %s", strerror(errno));
	t->pid = fork();
	if (t->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return fail(err, "linux: fork: %s", strerror(errno));
	}
	if (t->pid == 0)
		child_main(sv[1], parent, t->shared);
	close(sv[1]);
	t->ctl = sv[0];
	if (fcntl(t->ctl, F_SETFL, O_NONBLOCK) < 0) {
		stop_child(t, true);
		return fail(err, "linux: fcntl: %s", strerror(errno));
	}
	outcome_init(&hello);
	rc = channel_recv_outcome(t->ctl, &hello,
				  monotonic_ns() + (int64_t)t->timeout_ms * 1000000,
				  err);
	outcome_free(&hello);
	if (rc != CHANNEL_OK) {
		char why[64];
		struct error inner = *err;

		describe_exit(stop_child(t, true), why, sizeof(why));
		if (rc == CHANNEL_ERROR)
			return fail(err, "linux: executor start: %s", inner.msg);
		return fail(err, "linux: executor %s while starting",
			    rc == CHANNEL_TIMEOUT ? "hung" : why);
	}
	return 0;
}

static struct target *open_(const struct target_config *cfg, struct error *err)
{
	struct target *t = calloc(1, sizeof(*t));

	(void)cfg;
	if (!t) {
		fail(err, "linux: out of memory");
		return NULL;
	}
	t->pid = -1;
	t->ctl = -1;
	t->timeout_ms = LINUX_TARGET_TIMEOUT_MS;
	t->shared = mmap(NULL, sizeof(*t->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->shared == MAP_FAILED) {
		fail(err, "linux: mmap: %s", strerror(errno));
		free(t);
		return NULL;
	}
	if (start_child(t, err) < 0) {
		munmap(t->shared, sizeof(*t->shared));
		free(t);
		return NULL;
	}
	return t;
}

static int run_(struct target *t, const struct program *p, struct outcome *out,
		struct error *err)
{
	struct error why;
	int64_t deadline;
	uint32_t step;
	char how[64];
	int rc;

	if (t->pid < 0 && start_child(t, err) < 0)
		return -1;
	atomic_store(&t->shared->step, 0);
	deadline = monotonic_ns() + (int64_t)t->timeout_ms * 1000000;
	rc = channel_send_program(t->ctl, p, &t->scratch, &t->scratch_cap,
				  deadline, &why);
	if (rc == CHANNEL_OK)
		rc = channel_recv_outcome(t->ctl, out, deadline, &why);
	if (rc == CHANNEL_OK)
		return 0;

	step = atomic_load(&t->shared->step);
	switch (rc) {
	case CHANNEL_TIMEOUT:
		stop_child(t, true);
		fail(err, "linux: executor hung at step %u", step);
		break;
	case CHANNEL_EOF:
		/* The child closed its end: it is exiting, or gone. */
		describe_exit(stop_child(t, false), how, sizeof(how));
		fail(err, "linux: executor %s at step %u", how, step);
		break;
	default:
		stop_child(t, true);
		fail(err, "linux: %s", why.msg);
		break;
	}
	outcome_reset(out);
	/* Ready for the next run; if this fails, the next run tries again. */
	start_child(t, &why);
	return -1;
}

static void close_(struct target *t)
{
	if (!t)
		return;
	stop_child(t, true);
	munmap(t->shared, sizeof(*t->shared));
	free(t->scratch);
	free(t);
}

void linux_target_set_timeout(struct target *t, unsigned ms)
{
	t->timeout_ms = ms;
}

pid_t linux_target_pid(struct target *t)
{
	return t->pid;
}

const struct target_ops linux_target = {
	.name = "linux",
	.summary = "real syscalls and threads on the running kernel, in a "
		   "persistent executor process",
	.open = open_,
	.run = run_,
	.close = close_,
};
