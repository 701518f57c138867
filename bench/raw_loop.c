/*
 * raw_loop.c - the corpus's single-thread programs as raw system calls in a
 * generated C loop, against the same programs through the linux target:
 * how far the oracle is from the syscalls it makes (issue 13).
 *
 * Usage: raw_loop gen OUT.c TRACE.json...
 *        raw_loop oracle SECONDS TRACE.json...
 *
 * gen runs each program once itself through the executor's own
 * call_prepare() and call_run(), on a table set up as the executor sets it
 * (0-2 on /dev/null, nothing else below FD_LIMIT, RLIMIT_NOFILE at
 * FD_LIMIT), and writes each call with the arguments the oracle passed as
 * literals: one function per program, ending in the executor's reset (up to
 * the bound the executor takes from the results, result_highest_fd), and a
 * main that runs them round after round for SECONDS (its first argument,
 * default 5) and prints "N programs/s".  Compiled with -DCHECK,
 * the loop instead runs each program once and checks that every call
 * returns what it returned here: the printer (emit_call, which mirrors
 * call_run's argument lists) says the same as the executor.
 *
 * oracle makes the same choice of programs and runs them through the
 * linux target for SECONDS, printing "N programs/s".
 *
 * A program is used when it has one thread and no op that forks, exits,
 * sleeps, could block (call_prepare gives it a blocking call) or that the
 * oracle refuses: the single-thread, never-blocking programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "oracle.h"
#include "now.h"

#define MAX_TRACES 1024

struct raw {
	struct program p[MAX_TRACES];
	const char *name[MAX_TRACES];
	bool used[MAX_TRACES];
	unsigned n, nused;
	int devnull; /* at EXEC_FD_BASE, as the executor keeps its own */
	FILE *report, *errors; /* stdout and stderr, moved above the table */
	struct call_buffers buf;
};

static _Noreturn void die(const struct raw *r, const char *what, const char *msg)
{
	fprintf(r->errors, "raw_loop: %s: %s\n", what, msg);
	exit(1);
}

/* executor.c's reset_fd_table, in this process, up to the same bound. */
static void reset_table(int devnull, int highest)
{
	syscall(SYS_close_range, FD_INITIAL_OPEN, highest, 0);
	fcntl(devnull, F_SETFL, 0);
	for (int fd = 0; fd < FD_INITIAL_OPEN; fd++)
		dup2(devnull, fd);
}

/* Our own fds above the programs' table, RLIMIT_NOFILE at FD_LIMIT. */
static void set_up_table(struct raw *r)
{
	struct rlimit rl;
	int fd;

	getrlimit(RLIMIT_NOFILE, &rl); /* the hard limit stays: the executor needs it */
	rl.rlim_cur = EXEC_FD_BASE + 16;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die(r, "setrlimit", strerror(errno));
	if (fflush(stdout) != 0 || (fd = fcntl(1, F_DUPFD, EXEC_FD_BASE + 1)) < 0 ||
	    !(r->report = fdopen(fd, "w")) ||
	    (fd = fcntl(2, F_DUPFD, EXEC_FD_BASE + 1)) < 0 ||
	    !(r->errors = fdopen(fd, "w")))
		die(r, "stdout", strerror(errno));
	setvbuf(r->errors, NULL, _IONBF, 0);
	r->devnull = fcntl(open("/dev/null", O_RDWR), F_DUPFD, EXEC_FD_BASE);
	if (r->devnull < 0)
		die(r, "/dev/null", strerror(errno));
	rl.rlim_cur = FD_LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die(r, "setrlimit", strerror(errno));
	reset_table(r->devnull, FD_LIMIT - 1);
}

static void load(struct raw *r, int argc, char **argv)
{
	struct error err;

	for (int i = 0; i < argc && r->n < MAX_TRACES; i++) {
		if (trace_load_file(argv[i], &r->p[r->n], NULL, &err) < 0)
			die(r, argv[i], err.msg);
		r->name[r->n++] = argv[i];
	}
}

/* ------------------------------------------------------------- printing */

/* Call c as C, its arguments as call_run passes them. */
static void emit_call(FILE *f, const struct call *c)
{
	const int64_t *a = c->op->f;

	switch ((enum op_kind)c->op->kind) {
	case OP_EPOLL_CREATE:
		fprintf(f, "R(SYS_epoll_create, %d);", (int)a[F_SIZE]);
		break;
	case OP_EPOLL_CREATE1:
		fprintf(f, "R(SYS_epoll_create1, %d);", (int)a[F_FLAGS]);
		break;
	case OP_EPOLL_CTL:
		fprintf(f, "ev.events = %" PRIu32 "u; ev.data.u64 = %" PRIu64
			"ull; R(SYS_epoll_ctl, %d, %d, %d, &ev);",
			(uint32_t)a[F_EVENTS], op_data(c->op), c->epfd,
			(int)a[F_CTL], c->fd);
		break;
	case OP_EPOLL_WAIT:
		fprintf(f, "R(SYS_epoll_wait, %d, events, %d, %d);", c->epfd,
			(int)a[F_MAXEVENTS], c->timeout);
		break;
	case OP_EPOLL_PWAIT:
		fprintf(f, "R(SYS_epoll_pwait, %d, events, %d, %d, NULL, (size_t)8);",
			c->epfd, (int)a[F_MAXEVENTS], c->timeout);
		break;
	case OP_EPOLL_PWAIT2:
		if (c->has_ts)
			fprintf(f, "ts.tv_sec = %lld; ts.tv_nsec = %ld; ",
				(long long)c->ts.tv_sec, (long)c->ts.tv_nsec);
		fprintf(f, "R(SYS_epoll_pwait2, %d, events, %d, %s, NULL, (size_t)8);",
			c->epfd, (int)a[F_MAXEVENTS], c->has_ts ? "&ts" : "NULL");
		break;
	case OP_PIPE2:
		fprintf(f, "R(SYS_pipe2, fds, %d);", (int)a[F_FLAGS]);
		break;
	case OP_EVENTFD:
		fprintf(f, "R(SYS_eventfd2, %uu, %d);", (unsigned)a[F_INITVAL],
			(int)a[F_FLAGS]);
		break;
	case OP_SOCKETPAIR:
		fprintf(f, "R(SYS_socketpair, AF_UNIX, %d, 0, fds);", (int)a[F_TYPE]);
		break;
	case OP_DUP:
		fprintf(f, "R(SYS_dup, %d);", c->fd);
		break;
	case OP_DUP2:
		fprintf(f, "R(SYS_dup2, %d, %d);", c->fd, c->newfd);
		break;
	case OP_DUP3:
		fprintf(f, "R(SYS_dup3, %d, %d, %d);", c->fd, c->newfd, (int)a[F_FLAGS]);
		break;
	case OP_CLOSE:
		fprintf(f, "R(SYS_close, %d);", c->fd);
		break;
	case OP_WRITE:
		if (c->on_eventfd)
			fprintf(f, "value = %" PRIu64 "ull; memcpy(vbuf, &value, 8); "
				"R(SYS_write, %d, vbuf, (size_t)%zu);",
				(uint64_t)a[F_VALUE], c->fd, c->len);
		else
			fprintf(f, "R(SYS_write, %d, wbuf, (size_t)%zu);", c->fd, c->len);
		break;
	case OP_READ:
		fprintf(f, "R(SYS_read, %d, rbuf, (size_t)%zu);", c->fd, c->len);
		break;
	case OP_SHUTDOWN:
		fprintf(f, "R(SYS_shutdown, %d, %d);", c->fd, (int)a[F_HOW]);
		break;
	case OP_CLOSE_RANGE:
		fprintf(f, "R(SYS_close_range, %uu, %uu, %uu);", c->first, c->last,
			(unsigned)a[F_FLAGS]);
		break;
	case OP_FCNTL:
		fprintf(f, "R(SYS_fcntl, %d, %d, %ldl);", c->fd, (int)a[F_CMD],
			(long)a[F_ARG]);
		break;
	case OP_SLEEP:
	case OP_FORK:
	case OP_EXIT:
	case OP_KIND_COUNT:
		break;
	}
}

/* ------------------------------------------------------------ programs */

static bool kind_usable(enum op_kind kind)
{
	return kind != OP_FORK && kind != OP_EXIT && kind != OP_SLEEP;
}

/*
 * Runs p here as the executor would run it inline, writing each call to f
 * (NULL: only the choice): false when p is not a single-thread program
 * that never blocks.  The table is reset after.
 */
static bool walk(struct raw *r, const struct program *p, FILE *f)
{
	bool ok = p->threads == 1;
	int64_t highest = FD_INITIAL_OPEN; /* as highest_fd (executor.c) */

	for (unsigned i = 0; ok && i < p->nops; i++)
		ok = kind_usable((enum op_kind)p->ops[i].kind);
	for (unsigned i = 0; ok && i < p->nops; i++) {
		struct call c;
		struct call_result res;

		call_prepare(&p->ops[i], &c);
		if (c.refuse || c.block_nr >= 0) {
			ok = false;
			break;
		}
		call_run(&c, &r->buf, &res);
		highest = result_highest_fd(&res.res, highest);
		if (f) {
			fprintf(f, "\t");
			emit_call(f, &c);
			fprintf(f, " E(%ld, %d);\n", (long)res.res.ret,
				res.res.ret < 0 ? res.res.err : 0);
		}
	}
	/* the executor's reset, to the bound it takes from the results */
	if (f)
		fprintf(f, "\treset(%d);\n", reset_bound(highest));
	reset_table(r->devnull, reset_bound(highest));
	return ok;
}

static const char loop_head[] =
	"/* generated by bench/raw_loop gen: the corpus's single-thread programs\n"
	" * as raw system calls (issue 13's raw loop) */\n"
	"#define _GNU_SOURCE\n"
	"#include <errno.h>\n#include <fcntl.h>\n#include <signal.h>\n#include <stdint.h>\n#include <stdio.h>\n"
	"#include <stdlib.h>\n#include <string.h>\n#include <sys/epoll.h>\n"
	"#include <sys/resource.h>\n#include <sys/socket.h>\n"
	"#include <sys/syscall.h>\n#include <time.h>\n#include <unistd.h>\n\n"
	"#ifndef SYS_epoll_pwait2\n#define SYS_epoll_pwait2 441\n#endif\n"
	"#define MAX_IO (1 << 20)\n"
	"static unsigned char rbuf[MAX_IO], wbuf[MAX_IO], vbuf[MAX_IO];\n"
	"static struct epoll_event events[4096], ev;\n"
	"static struct timespec ts;\nstatic int fds[2];\nstatic uint64_t value;\n"
	"static long ret;\nstatic int devnull;\n"
	"#define R(...) (ret = syscall(__VA_ARGS__))\n"
	"#ifdef CHECK\n"
	"static unsigned bad;\n"
	"#define E(want, err) do { if (ret != (want) || (ret < 0 && errno != (err))) {"
	" fprintf(stderr, \"%%s:%%d: %%ld (errno %%d), want %%ld (errno %%d)\\n\","
	" __func__, __LINE__, ret, errno, (long)(want), (err)); bad++; } } while (0)\n"
	"#else\n#define E(want, err) ((void)0)\n#endif\n\n"
	"static void reset(int highest)\n{\n"
	"\tsyscall(SYS_close_range, %d, highest, 0);\n\tfcntl(devnull, F_SETFL, 0);\n"
	"\tfor (int fd = 0; fd < %d; fd++)\n\t\tdup2(devnull, fd);\n}\n\n";

static const char loop_main[] =
	"static double now(void)\n{\n\tstruct timespec t;\n\n"
	"\tclock_gettime(CLOCK_MONOTONIC, &t);\n"
	"\treturn (double)t.tv_sec + (double)t.tv_nsec / 1e9;\n}\n\n"
	"int main(int argc, char **argv)\n{\n"
	"\tstruct rlimit rl;\n"
	"\tdouble seconds = argc > 1 ? atof(argv[1]) : 5, start;\n"
	"\tunsigned long n = 0;\n\tint out;\n\n"
	"\t(void)ts; (void)value; (void)vbuf; (void)ev; (void)fds; (void)events;\n"
	"\tsignal(SIGPIPE, SIG_IGN);\n"
	"\tfor (size_t i = 0; i < MAX_IO; i++)\n"
	"\t\twbuf[i] = (unsigned char)('a' + i %% 26);\n"
	"\tgetrlimit(RLIMIT_NOFILE, &rl);\n\trl.rlim_cur = %d;\n"
	"\tif (setrlimit(RLIMIT_NOFILE, &rl) < 0 ||\n"
	"\t    (out = fcntl(1, F_DUPFD, %d)) < 0 ||\n"
	"\t    (devnull = fcntl(open(\"/dev/null\", O_RDWR), F_DUPFD, %d)) < 0)\n"
	"\t\treturn perror(\"set-up\"), 1;\n"
	"\trl.rlim_cur = %d;\n\tsetrlimit(RLIMIT_NOFILE, &rl);\n\treset(%d);\n"
	"#ifdef CHECK\n"
	"\tfor (unsigned i = 0; i < NPROGS; i++)\n\t\tprogs[i]();\n"
	"\tdprintf(out, \"%%u programs checked, %%u calls differ\\n\", NPROGS, bad);\n"
	"\treturn bad != 0;\n"
	"#else\n"
	"\tstart = now();\n"
	"\tdo {\n\t\tfor (unsigned i = 0; i < NPROGS; i++) {\n"
	"\t\t\tprogs[i]();\n\t\t}\n\t\tn += NPROGS;\n"
	"\t} while (now() - start < seconds);\n"
	"\tdprintf(out, \"%%.0f programs/s (%%u programs, raw syscalls)\\n\",\n"
	"\t\tn / (now() - start), NPROGS);\n\treturn 0;\n#endif\n}\n";

static int gen(struct raw *r, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len), *out;
	unsigned k = 0;

	if (!f)
		die(r, "open_memstream", strerror(errno));
	fprintf(f, loop_head, FD_INITIAL_OPEN, FD_INITIAL_OPEN);
	for (unsigned i = 0; i < r->n; i++) {
		if (!walk(r, &r->p[i], NULL))
			continue;
		fprintf(f, "/* %s */\nstatic void prog_%u(void)\n{\n", r->name[i], k++);
		walk(r, &r->p[i], f);
		fprintf(f, "}\n\n");
	}
	fprintf(f, "#define NPROGS %uu\nstatic void (*const progs[])(void) = {\n", k);
	for (unsigned i = 0; i < k; i++)
		fprintf(f, "\tprog_%u,\n", i);
	fprintf(f, "};\n\n");
	fprintf(f, loop_main, EXEC_FD_BASE + 16, EXEC_FD_BASE + 1, EXEC_FD_BASE,
		FD_LIMIT, FD_LIMIT - 1);
	fclose(f);
	/* Written last, from above the table: nothing of ours was in it. */
	out = fopen(path, "w");
	if (!out || fwrite(text, 1, len, out) != len || fclose(out) != 0)
		die(r, path, strerror(errno));
	free(text);
	fprintf(r->errors, "raw_loop: %u of %u programs in %s\n", k, r->n, path);
	return k ? 0 : 1;
}

static int oracle(struct raw *r, double seconds)
{
	struct target_config cfg = { 0 };
	struct target *t;
	struct outcome out;
	struct error err;
	unsigned long n = 0;
	double start;

	for (unsigned i = 0; i < r->n; i++)
		if ((r->used[i] = walk(r, &r->p[i], NULL)))
			r->nused++;
	if (!r->nused)
		die(r, "oracle", "no single-thread, never-blocking program");
	t = linux_target.open(&cfg, &err);
	if (!t)
		die(r, "linux", err.msg);
	outcome_init(&out);
	start = now();
	do {
		for (unsigned i = 0; i < r->n; i++)
			if (r->used[i] && linux_target.run(t, &r->p[i], &out, &err) < 0)
				die(r, r->name[i], err.msg);
		n += r->nused;
	} while (now() - start < seconds);
	fprintf(r->report, "%.0f programs/s (%u programs, the linux target)\n",
		(double)n / (now() - start), r->nused);
	fflush(r->report);
	outcome_free(&out);
	linux_target.close(t);
	return 0;
}

int main(int argc, char **argv)
{
	static struct raw r = { .errors = NULL };
	struct error err;

	r.errors = stderr;
	if (argc < 4 || (strcmp(argv[1], "gen") && strcmp(argv[1], "oracle"))) {
		fprintf(stderr, "usage: raw_loop gen OUT.c TRACE.json...\n"
				"       raw_loop oracle SECONDS TRACE.json...\n");
		return 2;
	}
	load(&r, argc - 3, argv + 3);
	signal(SIGPIPE, SIG_IGN); /* as the executor: EPIPE, no signal */
	set_up_table(&r);
	if (call_buffers_init(&r.buf, NULL, &err) < 0)
		die(&r, "buffers", err.msg);
	if (!strcmp(argv[1], "gen"))
		return gen(&r, argv[2]);
	return oracle(&r, atof(argv[2]));
}
