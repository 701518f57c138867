/*
 * test_exec.c - the exec target against the linux target.
 *
 * Usage: test_exec --corpus DIR [--report] [--timed] WRAPPER
 *
 * Opens exec:WRAPPER and linux, runs every .json trace in DIR and a few
 * built programs (the executor's hidden fds) on both, and compares the
 * outcomes.  Under "env", a wrapper that changes nothing, they must be
 * identical, and the exec target's failures must read well: a missing
 * command, a wrapper that does not run the executor, a killed executor, a
 * dead parent.  With --report (an emulator: qemu-x86_64, "valgrind -q")
 * differences are listed and counted, not failed; a wrapper that is not
 * installed skips the test (exit 77).  --timed sets EPOLLFUZZ_SETTLE=timed
 * for both targets (the quiet-period settle, on a kernel whose /proc could
 * be trusted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oracle.h"
#include "prog.h"

#define SKIP 77

struct opts {
	const char *corpus;
	const char *wrapper;
	bool report;
	bool timed;
};

struct ctx {
	struct opts o;
	struct target *linux_t, *exec_t;
	struct outcome lin, ex;
	unsigned agree, total;
	int failures;
};

#define CHECK(c, cond, ...)                                                  \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL (line %d): %s: ", __LINE__,    \
				#cond);                                      \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			(c)->failures++;                                     \
		}                                                            \
	} while (0)

static struct target *open_exec(const char *arg, struct error *err)
{
	struct target_config cfg = { .arg = arg };

	return exec_target.open(&cfg, err);
}

/* ----------------------------------------------------------- comparing */

/* Runs p on both targets; counts and reports a difference. */
static void compare(struct ctx *c, const char *name, const struct program *p)
{
	struct verdict v;
	struct error err;

	c->total++;
	if (linux_target.run(c->linux_t, p, &c->lin, &err) < 0) {
		CHECK(c, false, "%s: linux: %s", name, err.msg);
		return;
	}
	if (exec_target.run(c->exec_t, p, &c->ex, &err) < 0) {
		printf("FAILED  %s: %s\n", name, err.msg);
		CHECK(c, c->o.report, "%s: %s", name, err.msg);
		return;
	}
	compare_outcomes(p, &c->lin, &c->ex, &v);
	if (v.cls == VERDICT_AGREE) {
		c->agree++;
		return;
	}
	printf("DIFFER  %s: step %u %s: %s\n", name, v.step, v.signature,
	       v.detail);
	CHECK(c, c->o.report, "%s differs at step %u (%s)", name, v.step,
	      v.signature);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the .json files in dir, sorted; NULL-terminated, caller frees. */
static char **list_traces(const char *dir, unsigned *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	unsigned cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		if (*n + 1 >= cap) {
			char **grown = realloc(names, (cap = cap * 2 + 64) * sizeof(*names));

			if (!grown)
				break;
			names = grown;
		}
		names[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (names) {
		qsort(names, *n, sizeof(*names), by_name);
		names[*n] = NULL;
	}
	return names;
}

static void run_corpus(struct ctx *c)
{
	unsigned n;
	char **names = list_traces(c->o.corpus, &n);

	CHECK(c, names && n > 0, "no traces in %s", c->o.corpus);
	for (unsigned i = 0; i < n; i++) {
		char path[4096];
		struct program p;
		struct error err;

		snprintf(path, sizeof(path), "%s/%s", c->o.corpus, names[i]);
		program_init(&p);
		if (trace_load_file(path, &p, NULL, &err) < 0)
			CHECK(c, false, "%s: %s", path, err.msg);
		else
			compare(c, names[i], &p);
		program_free(&p);
		free(names[i]);
	}
	free(names);
}

/* Numbers at and above EXEC_FD_BASE are closed to programs, as on linux. */
static void run_hidden_fds(struct ctx *c)
{
	struct program p;

	program_init(&p);
	prog_push(&p, op_epoll());
	for (int fd = 2000; fd <= 2010; fd++) {
		prog_push(&p, FD1(OP_CLOSE, 0, F_FD, fd));
		prog_push(&p, FD1(OP_DUP, 0, F_FD, fd));
		prog_push(&p, op_ctl(3, EPOLL_CTL_ADD, fd, EPOLLIN));
		prog_push(&p, op_write(0, fd, 1));
	}
	prog_push(&p, prog_set(FD1(OP_DUP2, 0, F_FD, 3), F_NEWFD, FD_LIMIT));
	prog_push(&p, prog_set(FD1(OP_DUP2, 0, F_FD, 3), F_NEWFD, FD_LIMIT - 1));
	prog_push(&p, prog_set(FD1(OP_DUP2, 0, F_FD, 3), F_NEWFD, 2001));
	compare(c, "(built) hidden executor fds", &p);
	program_free(&p);
}

/* ------------------------------------------------- failures, read well */

static void expect_open_fails(struct ctx *c, const char *arg, const char *want1,
			      const char *want2)
{
	struct error err = { "" };
	struct target *t = open_exec(arg, &err);

	CHECK(c, t == NULL, "exec:%s opened", arg);
	if (t) {
		exec_target.close(t);
		return;
	}
	printf("exec:%s -> %s\n", arg, err.msg);
	CHECK(c, strstr(err.msg, want1) && strstr(err.msg, want2),
	      "exec:%s: message '%s' lacks '%s' or '%s'", arg, err.msg, want1,
	      want2);
}

static void check_start_failures(struct ctx *c)
{
	expect_open_fails(c, "no-such-wrapper-xyz", "exec:no-such-wrapper-xyz",
			  "not found in PATH");
	expect_open_fails(c, "false", "exec:false: executor did not start",
			  "exited (status 1)");
	/* A wrapper that cannot run what it is given says so on stderr,
	 * whose tail the message quotes. */
	expect_open_fails(c, "env /no-such-dir-xyz/wrapper",
			  "did not start: exited (status 127)",
			  "/no-such-dir-xyz/wrapper");
	expect_open_fails(c, "env /no-such-dir-xyz/wrapper", "; stderr: env: ",
			  "No such file or directory");
}

static void check_killed(struct ctx *c)
{
	struct program p;
	struct error err;
	char want[128];
	pid_t pid = linux_target_pid(c->exec_t);

	program_init(&p);
	prog_push(&p, op_pipe2(0));
	CHECK(c, pid > 0, "pid %d", (int)pid);
	kill(pid, SIGKILL);
	snprintf(want, sizeof(want), "exec:%s: executor died (signal 9) at step",
		 c->o.wrapper);
	CHECK(c, exec_target.run(c->exec_t, &p, &c->ex, &err) < 0,
	      "run after kill succeeded");
	CHECK(c, strstr(err.msg, want) != NULL, "message '%s'", err.msg);
	CHECK(c, exec_target.run(c->exec_t, &p, &c->ex, &err) == 0,
	      "no restart: %s", err.msg);
	CHECK(c, linux_target_pid(c->exec_t) != pid, "same pid after restart");
	program_free(&p);
}

/* Whether pid is gone (or a zombie nobody reaps), within 5 s. */
static bool vanishes(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		char path[64], buf[256], *paren;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (!(f = fopen(path, "r")))
			return true;
		buf[0] = '\0';
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if ((paren = strrchr(buf, ')')) && paren[1] && paren[2] == 'Z')
			return true;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return false;
}

/*
 * The executor dies with the process that opened the target: a helper
 * opens it, passes the wrapper's pid back and exits without closing it.
 * Through a wrapper this rests on PR_SET_PDEATHSIG surviving execve.
 */
static void check_dies_with_parent(struct ctx *c)
{
	int fds[2];
	pid_t helper, pid = -1;
	bool gone;

	if (pipe(fds) < 0)
		return;
	helper = fork();
	if (helper == 0) {
		struct error err;
		struct target *t = open_exec(c->o.wrapper, &err);

		pid = t ? linux_target_pid(t) : -1;
		if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(fds[0]);
	waitpid(helper, NULL, 0);
	CHECK(c, pid > 0, "the helper could not open exec:%s", c->o.wrapper);
	if (pid <= 0)
		return;
	gone = vanishes(pid);
	CHECK(c, gone, "exec:%s: executor %d outlived its parent", c->o.wrapper,
	      (int)pid);
	printf("exec:%s: the executor died with its parent: %s\n", c->o.wrapper,
	       gone ? "yes" : "NO");
}

/* ---------------------------------------------------------------- main */

static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
			o->corpus = argv[++i];
		else if (strcmp(argv[i], "--report") == 0)
			o->report = true;
		else if (strcmp(argv[i], "--timed") == 0)
			o->timed = true;
		else if (!o->wrapper && argv[i][0] != '-')
			o->wrapper = argv[i];
		else
			return -1;
	}
	return o->corpus && o->wrapper ? 0 : -1;
}

static void print_settle(const char *name, struct target *t,
			 const struct target_ops *ops)
{
	const char *mode = ops->describe(t, "settle");
	const char *aliases = ops->describe(t, "settle-aliases");

	printf("%s: settle %s%s%s\n", name, mode ? mode : "(none)",
	       aliases ? ", aliases (native:seen) " : "", aliases ? aliases : "");
}

static int open_targets(struct ctx *c)
{
	struct target_config cfg = { 0 };
	struct error err;
	char name[256];

	if (c->o.timed)
		setenv("EPOLLFUZZ_SETTLE", "timed", 1);
	c->exec_t = open_exec(c->o.wrapper, &err);
	if (!c->exec_t) {
		fprintf(stderr, "%s\n", err.msg);
		return strstr(err.msg, "not found in PATH") ? SKIP : 1;
	}
	c->linux_t = linux_target.open(&cfg, &err);
	if (!c->linux_t) {
		fprintf(stderr, "linux: %s\n", err.msg);
		return 1;
	}
	snprintf(name, sizeof(name), "exec:%s", c->o.wrapper);
	print_settle("linux", c->linux_t, &linux_target);
	print_settle(name, c->exec_t, &exec_target);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (parse(argc, argv, &c.o) < 0) {
		fprintf(stderr, "usage: test_exec --corpus DIR [--report] [--timed] "
				"WRAPPER\n");
		return 2;
	}
	outcome_init(&c.lin);
	outcome_init(&c.ex);
	if ((rc = open_targets(&c)) != 0)
		return rc;
	run_corpus(&c);
	run_hidden_fds(&c);
	printf("exec:%s%s: %u/%u traces agree with linux\n", c.o.wrapper,
	       c.o.timed ? " (timed settle)" : "", c.agree, c.total);
	check_dies_with_parent(&c);
	if (!c.o.report && !c.o.timed) {
		check_start_failures(&c);
		check_killed(&c);
	}
	exec_target.close(c.exec_t);
	linux_target.close(c.linux_t);
	outcome_free(&c.lin);
	outcome_free(&c.ex);
	printf("exec:%s: %s\n", c.o.wrapper, c.failures ? "FAILED" : "all passed");
	return c.failures ? 1 : 0;
}
