/*
 * exec.c - the exec target: the executor as its own program,
 * epollfuzz-executor, started under a wrapper command, so that an emulator
 * runs it: exec:qemu-x86_64, exec:valgrind -q, exec:env (a wrapper that
 * changes nothing: the self-check), exec:runsc ... do.
 *
 * The child is started, watched and restarted as the linux target's is
 * (oracle.c); only its start differs.  The forked process execs
 *
 *   CMD ARGS... EXECUTOR --ctl 3 --progress 4
 *
 * (CMD ARGS split on blanks, no shell), with the control channel at fd 3,
 * the progress page's memfd at fd 4, stdin and stdout on /dev/null and
 * stderr in a memfd of ours, whose tail a failure quotes.  EXECUTOR is env
 * EPOLLFUZZ_EXECUTOR, or this build's epollfuzz-executor (find_executor).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"
#include "oracle.h"

#define EXEC_MAX_ARGS 64
#define EXEC_CTL_FD 3
#define EXEC_PROGRESS_FD 4
#define FD_WORD_(n) #n
#define FD_WORD(n) FD_WORD_(n) /* "3" from EXEC_CTL_FD */
/* The stderr memfd is emptied when it grows past this (a wrapper that
 * warns on every call, valgrind without -q, would fill memory). */
#define EXEC_STDERR_MAX (64 * 1024)

struct exec_cmd {
	char label[600];                 /* "exec:" and the command line */
	char *words;                     /* the command line, split in place */
	char *argv[EXEC_MAX_ARGS + 6];   /* + EXECUTOR --ctl 3 --progress 4 NULL */
	char path[4096];                 /* argv[0] found in PATH */
	char executor[4096];
	int err_fd;                      /* the child's stderr */
};

/* ----------------------------------------------------- in the child */

/* Moves fd above the numbers the child is about to fill, so that no dup2
 * below clobbers another source. */
static int lift(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, EXEC_PROGRESS_FD + 1);
}

/*
 * The wrapper gets the hard RLIMIT_NOFILE as its soft one.  The executor
 * raises its own soft limit anyway before it places its fds at
 * EXEC_FD_BASE (2000), but valgrind fixes the client's limit when it
 * starts: it moves the soft limit up by the dozen fds it reserves for
 * itself (valgrind's setup_file_descriptors) and shows the client the old
 * soft limit as both soft and hard, so a client started at the common
 * 1024 can never open fd 2000.  Started at the hard limit (20000 here), it
 * gets that minus the dozen.  So the fd base stays a constant: only a hard
 * limit below EXEC_FD_BASE + 64 plus valgrind's dozen fails, and then with
 * the executor's message naming the limit.  The programs see FD_LIMIT all
 * the same: the executor lowers the soft limit to it once its own fds are
 * placed, and valgrind enforces a lowered soft limit on new fds
 * (ML_(fd_allowed)).
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static _Noreturn void exec_child(void *arg, int ctl, int progress_fd,
				 _Atomic uint32_t *progress)
{
	struct exec_cmd *x = arg;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err = lift(x->err_fd);
	sigset_t none;

	(void)progress; /* the executor maps progress_fd itself */
	ctl = lift(ctl);
	progress_fd = lift(progress_fd);
	null = lift(null);
	if (ctl < 0 || progress_fd < 0 || null < 0 || err < 0 ||
	    dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(err, 2) < 0 ||
	    dup2(ctl, EXEC_CTL_FD) < 0 || dup2(progress_fd, EXEC_PROGRESS_FD) < 0)
		_exit(126);
	/* Nothing of the parent's but these reaches the wrapper. */
	syscall(SYS_close_range, EXEC_PROGRESS_FD + 1, ~0u, 0);
	raise_fd_limit();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(x->path, x->argv);
	dprintf(2, "cannot run %s: %s\n", x->path, strerror(errno));
	_exit(127);
}

/* ---------------------------------------------------- in the parent */

/* The last lines the child wrote to stderr, on one line, and then the
 * file emptied: each failure quotes what is new since the last. */
static void exec_why(void *arg, char *buf, size_t len)
{
	struct exec_cmd *x = arg;
	char tail[240];
	struct stat st;
	off_t from;
	ssize_t n;
	size_t used = 0;

	buf[0] = '\0';
	if (fstat(x->err_fd, &st) < 0 || st.st_size == 0)
		return;
	from = st.st_size > (off_t)sizeof(tail) - 1
		       ? st.st_size - (off_t)sizeof(tail) + 1 : 0;
	n = pread(x->err_fd, tail, sizeof(tail) - 1, from);
	if (ftruncate(x->err_fd, 0) < 0 || n <= 0)
		return; /* a tail read twice is no harm */
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
		n--;
	tail[n] = '\0';
	used = (size_t)snprintf(buf, len, "stderr: %s", from ? "..." : "");
	if (used >= len)
		return;
	for (ssize_t i = 0; i < n && used + 4 < len; i++) {
		char c = tail[i];

		if (c == '\n') {
			memcpy(buf + used, " | ", 3);
			used += 3;
		} else {
			/* Control characters go; UTF-8 (a localised quote) stays. */
			buf[used++] = ((unsigned char)c < ' ' || c == 127) ? '?' : c;
		}
	}
	buf[used] = '\0';
}

static void exec_after_run(void *arg)
{
	struct exec_cmd *x = arg;
	struct stat st;

	/* O_APPEND: the wrapper's next write lands at the new end. */
	if (fstat(x->err_fd, &st) == 0 && st.st_size > EXEC_STDERR_MAX &&
	    ftruncate(x->err_fd, 0) < 0) {
		/* Nothing to do: the file grows, and a failure quotes its end. */
	}
}

static void exec_free(void *arg)
{
	struct exec_cmd *x = arg;

	if (!x)
		return;
	if (x->err_fd >= 0)
		close(x->err_fd);
	free(x->words);
	free(x);
}

/* Splits the command line on blanks, in place; no quoting, no shell. */
static int split_words(struct exec_cmd *x, struct error *err)
{
	unsigned n = 0;
	char *save = NULL;

	for (char *w = strtok_r(x->words, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == EXEC_MAX_ARGS)
			return fail(err, "%s: more than %d words", x->label,
				    EXEC_MAX_ARGS);
		x->argv[n++] = w;
	}
	if (n == 0)
		return fail(err, "%s: no command", x->label);
	x->argv[n++] = x->executor;
	x->argv[n++] = "--ctl";
	x->argv[n++] = FD_WORD(EXEC_CTL_FD);
	x->argv[n++] = "--progress";
	x->argv[n++] = FD_WORD(EXEC_PROGRESS_FD);
	x->argv[n] = NULL;
	return 0;
}

static bool runnable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* execvp's search, done here: the child of a threaded parent had better
 * not allocate, and a command that is not there is said at open. */
static int find_command(struct exec_cmd *x, struct error *err)
{
	const char *cmd = x->argv[0], *dirs = getenv("PATH");

	if (strchr(cmd, '/')) {
		errno = 0;
		snprintf(x->path, sizeof(x->path), "%s", cmd);
		if (runnable(x->path))
			return 0;
		return fail(err, "%s: executor did not start: cannot run '%s': %s",
			    x->label, cmd,
			    errno ? strerror(errno) : "not an executable file");
	}
	for (const char *d = dirs ? dirs : "/usr/bin:/bin"; *d;) {
		size_t dlen = strcspn(d, ":");

		if (dlen) /* an empty entry is the current directory */
			snprintf(x->path, sizeof(x->path), "%.*s/%s", (int)dlen, d,
				 cmd);
		else
			snprintf(x->path, sizeof(x->path), "./%s", cmd);
		if (runnable(x->path))
			return 0;
		d += dlen + (d[dlen] == ':');
	}
	return fail(err, "%s: executor did not start: command '%s' not found "
		    "in PATH", x->label, cmd);
}

/* dir/name into buf; false when it does not fit. */
static bool join_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < len;
}

/*
 * This build's executor program.  meson gives its path when it compiles
 * this file for the oracle library (EPOLLFUZZ_EXECUTOR_PATH); a build that
 * compiles the sources again (the fuzzers, and the CLI linked with them)
 * does not, so the program is also looked for where a build puts it
 * relative to the running one: beside it, or in ../oracle/ (cli/epollfuzz,
 * tests/oracle/..., bench/...).
 */
static bool find_built_executor(char *buf, size_t len)
{
	char self[4096], *slash;
	ssize_t n;

#ifdef EPOLLFUZZ_EXECUTOR_PATH
	snprintf(buf, len, "%s", EPOLLFUZZ_EXECUTOR_PATH);
	if (runnable(buf))
		return true;
#endif
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return false;
	*slash = '\0';
	return (join_path(buf, len, self, "epollfuzz-executor") && runnable(buf)) ||
	       (join_path(buf, len, self, "../oracle/epollfuzz-executor") &&
		runnable(buf));
}

static int find_executor(struct exec_cmd *x, struct error *err)
{
	const char *env = getenv("EPOLLFUZZ_EXECUTOR");

	if (env && *env) {
		snprintf(x->executor, sizeof(x->executor), "%s", env);
		if (runnable(x->executor))
			return 0;
		return fail(err, "%s: executor did not start: EPOLLFUZZ_EXECUTOR=%s "
			    "is not an executable file", x->label, env);
	}
	if (find_built_executor(x->executor, sizeof(x->executor)))
		return 0;
	return fail(err, "%s: executor did not start: this build's "
		    "epollfuzz-executor is not there (build it, or set "
		    "EPOLLFUZZ_EXECUTOR)", x->label);
}

static int open_stderr(struct exec_cmd *x, struct error *err)
{
	x->err_fd = memfd_create("epollfuzz-exec-stderr", MFD_CLOEXEC);
	if (x->err_fd < 0 || fcntl(x->err_fd, F_SETFL, O_APPEND) < 0)
		return fail(err, "%s: memfd_create: %s", x->label, strerror(errno));
	return 0;
}

static struct exec_cmd *exec_cmd_new(const char *arg, struct error *err)
{
	struct exec_cmd *x = calloc(1, sizeof(*x));

	if (!x || !(x->words = strdup(arg ? arg : ""))) {
		free(x);
		fail(err, "exec: out of memory");
		return NULL;
	}
	x->err_fd = -1;
	snprintf(x->label, sizeof(x->label), "exec:%s",
		 arg ? arg + strspn(arg, " \t") : "");
	if (split_words(x, err) < 0 || find_command(x, err) < 0 ||
	    find_executor(x, err) < 0 || open_stderr(x, err) < 0) {
		exec_free(x);
		return NULL;
	}
	return x;
}

static struct target *exec_open(const struct target_config *cfg,
				struct error *err)
{
	struct exec_cmd *x = exec_cmd_new(cfg->arg, err);
	struct child_kind kind;

	if (!x)
		return NULL;
	kind = (struct child_kind){
		.label = x->label,
		.command = x->label + strlen("exec:"),
		.child = exec_child,
		.why = exec_why,
		.after_run = exec_after_run,
		.free = exec_free,
		.arg = x,
	};
	return child_target_open(&kind, err);
}

const struct target_ops exec_target = {
	.name = "exec",
	.summary = "the executor as its own program under a wrapper command "
		   "(an emulator: qemu-x86_64, valgrind -q; env checks itself), "
		   "persistent like linux",
	.arg_usage = "CMD [ARGS...]",
	.open = exec_open,
	.run = child_target_run,
	.close = child_target_close,
	.describe = child_target_describe,
};
