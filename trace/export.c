/*
 * export.c - a trace with its recorded outcome as a standalone C program.
 *
 * The program replays the trace on Linux the way the oracle does (one
 * pthread per simulated thread, settling after each step by reading
 * /proc/self/task/TID/{stat,syscall,schedstat}, finite timeouts on a virtual
 * clock) and compares every result with the recording.  It needs libc and
 * pthreads only, so that it can be attached to a bug report as it is.
 *
 * It is put together from a fixed runtime (the texts embedded below) and
 * what the op table says about each op: the fields' structs, the argument
 * values with their flag names, one call function per op the trace uses
 * (from call_code[], the one place that says how each op is made), and one
 * table of steps whose expected results are text in the format the runtime
 * prints, so that comparing them is comparing strings.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

/* ------------------------------------------------------------------------
 * How each op is made, as C in the generated program.  `a` points at the
 * op's fields (struct NAME_args, from the op table), `b` at the calling
 * thread's buffers, `r` at the result, which the body fills beyond ret and
 * errno (fds, events, an eventfd's value); the body returns the syscall's
 * value and must leave errno as the call left it.
 */
struct call_code {
	const char *body;
	/* Body of blocks_in_NAME(a, timeout_ms): the syscall the op may sleep
	 * in, or -1; NULL when it never sleeps. */
	const char *blocks_in;
	bool moves_clock; /* sleep */
};

static const struct call_code call_code[OP_KIND_COUNT] = {
	[OP_EPOLL_CREATE] = {
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_epoll_create, (int)a->size);\n",
		NULL, false },
	[OP_EPOLL_CREATE1] = {
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_epoll_create1, (int)a->flags);\n",
		NULL, false },
	[OP_EPOLL_CTL] = {
		"struct epoll_event ev = {\n"
		"\t.events = (uint32_t)a->events,\n"
		"\t.data.u64 = (uint64_t)a->data,\n"
		"};\n"
		"\n"
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_epoll_ctl, hide(a->epfd), (int)a->ctl, hide(a->fd), &ev);\n",
		NULL, false },
	[OP_EPOLL_WAIT] = {
		"/* A finite timeout runs on the virtual clock: the call waits\n"
		" * forever, and a sleep step that passes the deadline interrupts it. */\n"
		"long n = syscall(SYS_epoll_wait, hide(a->epfd), b->events,\n"
		"\t\t (int)a->maxevents, a->timeout > 0 ? -1 : (int)a->timeout);\n"
		"\n"
		"r->has_events = n >= 0;\n"
		"r->nevents = n > 0 ? (int)n : 0;\n"
		"return n;\n",
		"*timeout_ms = a->timeout > 0 ? a->timeout : 0;\n"
		"return a->timeout != 0 ? SYS_epoll_wait : -1;\n",
		false },
	[OP_PIPE2] = {
		"int fds[2];\n"
		"long ret = syscall(SYS_pipe2, fds, (int)a->flags);\n"
		"\n"
		"(void)b;\n"
		"if (ret == 0)\n"
		"\tset_fds(r, fds);\n"
		"return ret;\n",
		NULL, false },
	[OP_EVENTFD] = {
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_eventfd2, (unsigned)a->initval, (int)a->flags);\n",
		NULL, false },
	[OP_SOCKETPAIR] = {
		"int fds[2];\n"
		"long ret = syscall(SYS_socketpair, AF_UNIX, (int)a->type, 0, fds);\n"
		"\n"
		"(void)b;\n"
		"if (ret == 0)\n"
		"\tset_fds(r, fds);\n"
		"return ret;\n",
		NULL, false },
	[OP_DUP] = {
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_dup, hide(a->fd));\n",
		NULL, false },
	[OP_DUP2] = {
		"int fd, newfd;\n"
		"\n"
		"(void)b;\n"
		"(void)r;\n"
		"hide_pair(a->fd, a->newfd, &fd, &newfd);\n"
		"return syscall(SYS_dup2, fd, newfd);\n",
		NULL, false },
	[OP_DUP3] = {
		"int fd, newfd;\n"
		"\n"
		"(void)b;\n"
		"(void)r;\n"
		"hide_pair(a->fd, a->newfd, &fd, &newfd);\n"
		"return syscall(SYS_dup3, fd, newfd, (int)a->flags);\n",
		NULL, false },
	[OP_CLOSE] = {
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_close, hide(a->fd));\n",
		NULL, false },
	[OP_WRITE] = {
		"int fd = hide(a->fd);\n"
		"bool on_eventfd = is_eventfd(fd);\n"
		"size_t len = io_len(a->len, on_eventfd, write_len_default);\n"
		"uint64_t value = (uint64_t)a->value;\n"
		"long ret;\n"
		"\n"
		"(void)r;\n"
		"if (!on_eventfd)\n"
		"\treturn syscall(SYS_write, fd, b->wbuf, len);\n"
		"/* An eventfd takes its 8-byte value from the start of the buffer. */\n"
		"memcpy(b->wbuf, &value, sizeof(value));\n"
		"ret = syscall(SYS_write, fd, b->wbuf, len);\n"
		"fill_pattern(b->wbuf, sizeof(value)); /* keeps errno */\n"
		"return ret;\n",
		"(void)timeout_ms;\n"
		"return may_sleep(hide(a->fd)) ? SYS_write : -1;\n",
		false },
	[OP_READ] = {
		"int fd = hide(a->fd);\n"
		"bool on_eventfd = is_eventfd(fd);\n"
		"long ret = syscall(SYS_read, fd, b->rbuf,\n"
		"\t\t   io_len(a->len, on_eventfd, read_len_default));\n"
		"\n"
		"if (on_eventfd && ret == 8) {\n"
		"\tr->has_value = true;\n"
		"\tmemcpy(&r->value, b->rbuf, 8);\n"
		"}\n"
		"return ret;\n",
		"(void)timeout_ms;\n"
		"return may_sleep(hide(a->fd)) ? SYS_read : -1;\n",
		false },
	[OP_SHUTDOWN] = {
		"(void)b;\n"
		"(void)r;\n"
		"return syscall(SYS_shutdown, hide(a->fd), (int)a->how);\n",
		NULL, false },
	[OP_SLEEP] = {
		"/* No syscall: run_step() moves the virtual clock. */\n"
		"(void)a;\n"
		"(void)b;\n"
		"(void)r;\n"
		"return 0;\n",
		NULL, true },
};

/* ------------------------------------------------------------------------
 * The fixed parts of the generated program (kept in step with the oracle:
 * oracle/call.c, worker.c, executor.c).
 */

/* Before anything else. */
static const char runtime_head[] =
/* embed:head */
	"#define _GNU_SOURCE\n"
	"#include <errno.h>\n"
	"#include <fcntl.h>\n"
	"#include <pthread.h>\n"
	"#include <sched.h>\n"
	"#include <signal.h>\n"
	"#include <stdarg.h>\n"
	"#include <stdatomic.h>\n"
	"#include <stdbool.h>\n"
	"#include <stdint.h>\n"
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"#include <string.h>\n"
	"#include <sys/epoll.h>\n"
	"#include <sys/eventfd.h>\n"
	"#include <sys/resource.h>\n"
	"#include <sys/socket.h>\n"
	"#include <sys/syscall.h>\n"
	"#include <time.h>\n"
	"#include <unistd.h>\n"
	"\n"
	"#ifndef SYS_epoll_wait\n"
	"#error \"this program makes the x86-64 Linux system calls epollfuzz makes (SYS_epoll_wait, SYS_dup2, ...)\"\n"
	"#endif\n"
	"#ifndef EPOLLNVAL /* the kernel's uapi header has it, glibc's does not */\n"
	"#define EPOLLNVAL 0x00000020\n"
	"#endif\n"
	"#define MAYBE_UNUSED __attribute__((unused))\n";
/* end:head */

/* After union args and the sizes. */
static const char runtime_types[] =
/* embed:types */
	"\n"
	"/* What one call returned. */\n"
	"struct call_result {\n"
	"	long ret;\n"
	"	int err;          /* errno when ret is -1 */\n"
	"	bool has_fds;     /* pipe2, socketpair */\n"
	"	int fds[2];\n"
	"	bool has_value;   /* an 8-byte read from an eventfd */\n"
	"	uint64_t value;\n"
	"	bool has_events;  /* epoll_wait: events[0 .. nevents) of its buffers */\n"
	"	int nevents;\n"
	"};\n"
	"\n"
	"/* Each thread's own buffers, so that calls on several threads never share. */\n"
	"struct buffers {\n"
	"	struct epoll_event *events; /* MAX_EVENTS */\n"
	"	unsigned char *rbuf;        /* IO_MAX */\n"
	"	unsigned char *wbuf;        /* IO_MAX bytes of a fixed pattern */\n"
	"};\n"
	"\n"
	"/* How one kind of op is made. */\n"
	"struct op_kind {\n"
	"	long (*call)(const union args *a, struct buffers *b, struct call_result *r);\n"
	"	/* The syscall the op may sleep in, or -1; *timeout_ms gets a finite\n"
	"	 * timeout on the virtual clock (0: none).  NULL: never sleeps. */\n"
	"	long (*blocks_in)(const union args *a, long long *timeout_ms);\n"
	"	bool moves_clock; /* sleep: no syscall, the virtual clock advances */\n"
	"};\n"
	"\n"
	"/* One step of the trace and what it did when it was recorded. */\n"
	"struct step {\n"
	"	int t;                   /* the simulated thread */\n"
	"	const struct op_kind *op;\n"
	"	union args arg;\n"
	"	const char *call;        /* as epollfuzz prints it */\n"
	"	const char *expect;      /* its result: \"3\", \"-1 EBADF\", \"1 [EPOLLIN:4]\",\n"
	"				    \"blocked\", \"skipped (blocked)\" */\n"
	"	const char *expect_woke; /* the blocked steps it completed, by thread:\n"
	"				    \"t1 step 3 = 1 [EPOLLIN:4]\"; NULL: none */\n"
	"};\n";
/* end:types */

/* After the steps and the name tables, before the call functions. */
static const char runtime_helpers[] =
/* embed:helpers */
	"\n"
	"/* ------------------------------------------------------------ the calls */\n"
	"\n"
	"/* (MAYBE_UNUSED: a trace uses only some of them) */\n"
	"\n"
	"/*\n"
	" * This program's own fds (the original stdout, /dev/null, the threads'\n"
	" * /proc files) live at HIGH_FD and above, past RLIMIT_NOFILE = FD_LIMIT.\n"
	" * The trace must see nothing open there, so such numbers are passed as -1,\n"
	" * which fails exactly where any fd that is not open fails.\n"
	" */\n"
	"static MAYBE_UNUSED int hide(long long fd)\n"
	"{\n"
	"	return fd >= FD_LIMIT ? -1 : (int)fd;\n"
	"}\n"
	"\n"
	"/* dup2/dup3 test oldfd == newfd first, on the numbers passed: keep the\n"
	" * equality (or inequality) the trace asked for while hiding. */\n"
	"static MAYBE_UNUSED void hide_pair(long long fd, long long newfd, int *hfd, int *hnewfd)\n"
	"{\n"
	"	*hnewfd = (int)newfd;\n"
	"	if (newfd == fd)\n"
	"		*hfd = *hnewfd = hide(fd);\n"
	"	else if ((*hfd = hide(fd)) == *hnewfd)\n"
	"		*hfd = -2; /* just as closed, and still unequal */\n"
	"}\n"
	"\n"
	"static MAYBE_UNUSED bool is_eventfd(int fd)\n"
	"{\n"
	"	static const char name[] = \"anon_inode:[eventfd]\";\n"
	"	char path[32], link[sizeof(name)];\n"
	"	ssize_t n;\n"
	"\n"
	"	if (fd < 0)\n"
	"		return false;\n"
	"	snprintf(path, sizeof(path), \"/proc/self/fd/%d\", fd);\n"
	"	n = readlink(path, link, sizeof(link));\n"
	"	return n == (ssize_t)sizeof(name) - 1 && memcmp(link, name, (size_t)n) == 0;\n"
	"}\n"
	"\n"
	"/* A read or write may sleep only on an open fd without O_NONBLOCK. */\n"
	"static MAYBE_UNUSED bool may_sleep(int fd)\n"
	"{\n"
	"	int fl = fcntl(fd, F_GETFL);\n"
	"\n"
	"	return fl >= 0 && !(fl & O_NONBLOCK);\n"
	"}\n"
	"\n"
	"/* The bytes written are not chosen by the trace: a fixed pattern. */\n"
	"static void fill_pattern(unsigned char *buf, size_t len)\n"
	"{\n"
	"	for (size_t i = 0; i < len; i++)\n"
	"		buf[i] = (unsigned char)('a' + i % 26);\n"
	"}\n"
	"\n"
	"static MAYBE_UNUSED size_t io_len(long long len, bool on_eventfd, size_t otherwise)\n"
	"{\n"
	"	if (len >= 0)\n"
	"		return (size_t)len;\n"
	"	return on_eventfd ? 8 : otherwise;\n"
	"}\n"
	"\n"
	"static MAYBE_UNUSED void set_fds(struct call_result *r, const int fds[2])\n"
	"{\n"
	"	r->has_fds = true;\n"
	"	r->fds[0] = fds[0];\n"
	"	r->fds[1] = fds[1];\n"
	"}\n";
/* end:helpers */

/* Last: threads, settling, running and checking. */
static const char runtime_main[] =
/* embed:runtime */
	"\n"
	"/* ------------------------------------------------------------- results */\n"
	"\n"
	"#define TEXT_MAX 4096\n"
	"\n"
	"/* Appends to a bounded string; what does not fit is dropped. */\n"
	"__attribute__((format(printf, 2, 3)))\n"
	"static void append(char *buf, const char *fmt, ...)\n"
	"{\n"
	"	size_t used = strlen(buf);\n"
	"	va_list ap;\n"
	"\n"
	"	va_start(ap, fmt);\n"
	"	vsnprintf(buf + used, TEXT_MAX - used, fmt, ap);\n"
	"	va_end(ap);\n"
	"}\n"
	"\n"
	"/* Small numbers in decimal, bit patterns such as 0xfffffffffffffffe in hex. */\n"
	"static void append_u64(char *buf, uint64_t v)\n"
	"{\n"
	"	if (v < 0x100000)\n"
	"		append(buf, \"%llu\", (unsigned long long)v);\n"
	"	else\n"
	"		append(buf, \"0x%llx\", (unsigned long long)v);\n"
	"}\n"
	"\n"
	"/* \"EPOLLIN|EPOLLET\", unnamed bits in hex: \"EPOLLIN|0x4000000\", none: \"0\". */\n"
	"static void append_events(char *buf, uint32_t bits)\n"
	"{\n"
	"	const char *sep = \"\";\n"
	"\n"
	"	if (bits == 0) {\n"
	"		append(buf, \"0\");\n"
	"		return;\n"
	"	}\n"
	"	for (const struct flag_name *n = epoll_event_names; n->name; n++)\n"
	"		if ((bits & n->bits) == n->bits) {\n"
	"			append(buf, \"%s%s\", sep, n->name);\n"
	"			bits &= ~n->bits;\n"
	"			sep = \"|\";\n"
	"		}\n"
	"	if (bits)\n"
	"		append(buf, \"%s0x%x\", sep, bits);\n"
	"}\n"
	"\n"
	"static void append_errno(char *buf, int err)\n"
	"{\n"
	"	for (const struct errno_name *e = errno_names; e->name; e++)\n"
	"		if (e->err == err) {\n"
	"			append(buf, \"%s\", e->name);\n"
	"			return;\n"
	"		}\n"
	"	append(buf, \"E%d\", err);\n"
	"}\n"
	"\n"
	"/* \"3\", \"-1 EBADF\", \"0 fds=[4,5]\", \"8 value=1\", \"1 [EPOLLIN:4]\" */\n"
	"static void append_result(char *buf, const struct call_result *r,\n"
	"			  const struct epoll_event *events)\n"
	"{\n"
	"	append(buf, \"%ld\", r->ret);\n"
	"	if (r->ret == -1) {\n"
	"		append(buf, \" \");\n"
	"		append_errno(buf, r->err);\n"
	"	}\n"
	"	if (r->has_fds)\n"
	"		append(buf, \" fds=[%d,%d]\", r->fds[0], r->fds[1]);\n"
	"	if (r->has_value) {\n"
	"		append(buf, \" value=\");\n"
	"		append_u64(buf, r->value);\n"
	"	}\n"
	"	if (!r->has_events)\n"
	"		return;\n"
	"	append(buf, \" [\");\n"
	"	for (int i = 0; i < r->nevents; i++) {\n"
	"		append(buf, \"%s\", i ? \", \" : \"\");\n"
	"		append_events(buf, events[i].events);\n"
	"		append(buf, \":\");\n"
	"		append_u64(buf, events[i].data.u64);\n"
	"	}\n"
	"	append(buf, \"]\");\n"
	"}\n"
	"\n"
	"/* ------------------------------------------------------------- threads */\n"
	"\n"
	"#define HIGH_FD 2000\n"
	"#define SETTLE_TIMEOUT_MS 2000\n"
	"#define INTERRUPT_SIGNAL (SIGRTMIN + 2)\n"
	"\n"
	"enum thread_state { IDLE, BUSY, DONE, EXIT };\n"
	"\n"
	"/* One real thread per simulated thread. */\n"
	"struct thread {\n"
	"	pthread_t handle;\n"
	"	pid_t tid;\n"
	"	_Atomic int state;      /* enum thread_state */\n"
	"	_Atomic bool interrupt; /* looked at just before the call is made */\n"
	"	pthread_mutex_t lock;\n"
	"	pthread_cond_t work;\n"
	"\n"
	"	/* The work: written before BUSY, the result read after DONE. */\n"
	"	const struct step *step;\n"
	"	int step_no;\n"
	"	long blocks_in; /* the syscall it may sleep in */\n"
	"	struct call_result result;\n"
	"	struct buffers buf;\n"
	"\n"
	"	/* The main thread's bookkeeping. */\n"
	"	bool pending;        /* dispatched, result not gathered yet */\n"
	"	bool posted;         /* returned during the current step */\n"
	"	bool expired;        /* interrupted because its deadline passed */\n"
	"	long long deadline;  /* virtual ms; 0: none */\n"
	"	int proc_stat, proc_syscall, proc_schedstat; /* /proc/self/task/TID/... */\n"
	"	unsigned long long pcount; /* schedstat's switch-in count at the last look */\n"
	"};\n"
	"\n"
	"struct run {\n"
	"	struct thread threads[NTHREADS];\n"
	"	struct buffers main_buf; /* for the calls made on the main thread */\n"
	"	long long clock;         /* virtual ms */\n"
	"	FILE *out;               /* the original stdout: fds 0-2 are /dev/null */\n"
	"	bool verbose;\n"
	"};\n"
	"\n"
	"static void die(struct run *run, const char *fmt, ...)\n"
	"	__attribute__((format(printf, 2, 3), noreturn));\n"
	"\n"
	"static void die(struct run *run, const char *fmt, ...)\n"
	"{\n"
	"	va_list ap;\n"
	"\n"
	"	fprintf(run->out, \"error: \");\n"
	"	va_start(ap, fmt);\n"
	"	vfprintf(run->out, fmt, ap);\n"
	"	va_end(ap);\n"
	"	fprintf(run->out, \"\\n\");\n"
	"	fflush(run->out);\n"
	"	exit(2);\n"
	"}\n"
	"\n"
	"static long long now_ms(void)\n"
	"{\n"
	"	struct timespec ts;\n"
	"\n"
	"	clock_gettime(CLOCK_MONOTONIC, &ts);\n"
	"	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;\n"
	"}\n"
	"\n"
	"static void make_call(const struct step *s, struct buffers *b,\n"
	"		      struct call_result *r)\n"
	"{\n"
	"	memset(r, 0, sizeof(*r));\n"
	"	errno = 0;\n"
	"	r->ret = s->op->call(&s->arg, b, r);\n"
	"	r->err = r->ret == -1 ? errno : 0;\n"
	"}\n"
	"\n"
	"static void *thread_main(void *arg)\n"
	"{\n"
	"	struct thread *th = arg;\n"
	"	sigset_t only_interrupt;\n"
	"\n"
	"	/* Created with every signal blocked: take only ours, so that nothing\n"
	"	 * else cuts a call short. */\n"
	"	sigemptyset(&only_interrupt);\n"
	"	sigaddset(&only_interrupt, INTERRUPT_SIGNAL);\n"
	"	pthread_sigmask(SIG_UNBLOCK, &only_interrupt, NULL);\n"
	"	th->tid = (pid_t)syscall(SYS_gettid);\n"
	"	atomic_store(&th->state, IDLE);\n"
	"	for (;;) {\n"
	"		pthread_mutex_lock(&th->lock);\n"
	"		while (atomic_load(&th->state) != BUSY && atomic_load(&th->state) != EXIT)\n"
	"			pthread_cond_wait(&th->work, &th->lock);\n"
	"		pthread_mutex_unlock(&th->lock);\n"
	"		if (atomic_load(&th->state) == EXIT)\n"
	"			return NULL;\n"
	"		/* An interrupt that came before the call was spent on the\n"
	"		 * handler; the flag catches it. */\n"
	"		if (atomic_load(&th->interrupt)) {\n"
	"			memset(&th->result, 0, sizeof(th->result));\n"
	"			th->result.ret = -1;\n"
	"			th->result.err = EINTR;\n"
	"		} else {\n"
	"			make_call(th->step, &th->buf, &th->result);\n"
	"		}\n"
	"		atomic_store(&th->state, DONE);\n"
	"	}\n"
	"}\n"
	"\n"
	"static void on_interrupt(int sig)\n"
	"{\n"
	"	(void)sig; /* being delivered is the whole point */\n"
	"}\n"
	"\n"
	"/* Opens a file and moves it to HIGH_FD or above, out of the trace's reach. */\n"
	"static int open_high(struct run *run, const char *path, int flags)\n"
	"{\n"
	"	int fd = open(path, flags | O_CLOEXEC), high;\n"
	"\n"
	"	if (fd < 0)\n"
	"		die(run, \"open %s: %s\", path, strerror(errno));\n"
	"	high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);\n"
	"	if (high < 0)\n"
	"		die(run, \"moving %s above %d: %s\", path, HIGH_FD, strerror(errno));\n"
	"	close(fd);\n"
	"	return high;\n"
	"}\n"
	"\n"
	"static void buffers_init(struct run *run, struct buffers *b)\n"
	"{\n"
	"	b->events = calloc(MAX_EVENTS, sizeof(*b->events));\n"
	"	b->rbuf = malloc(IO_MAX);\n"
	"	b->wbuf = malloc(IO_MAX);\n"
	"	if (!b->events || !b->rbuf || !b->wbuf)\n"
	"		die(run, \"out of memory\");\n"
	"	fill_pattern(b->wbuf, IO_MAX);\n"
	"}\n"
	"\n"
	"static void start_thread(struct run *run, struct thread *th)\n"
	"{\n"
	"	char path[64];\n"
	"\n"
	"	buffers_init(run, &th->buf);\n"
	"	pthread_mutex_init(&th->lock, NULL);\n"
	"	pthread_cond_init(&th->work, NULL);\n"
	"	atomic_store(&th->state, BUSY); /* until the thread says IDLE */\n"
	"	if (pthread_create(&th->handle, NULL, thread_main, th) != 0)\n"
	"		die(run, \"pthread_create failed\");\n"
	"	while (atomic_load(&th->state) != IDLE)\n"
	"		sched_yield();\n"
	"	snprintf(path, sizeof(path), \"/proc/self/task/%d/stat\", (int)th->tid);\n"
	"	th->proc_stat = open_high(run, path, O_RDONLY);\n"
	"	snprintf(path, sizeof(path), \"/proc/self/task/%d/syscall\", (int)th->tid);\n"
	"	th->proc_syscall = open_high(run, path, O_RDONLY);\n"
	"	snprintf(path, sizeof(path), \"/proc/self/task/%d/schedstat\", (int)th->tid);\n"
	"	th->proc_schedstat = open_high(run, path, O_RDONLY);\n"
	"}\n"
	"\n"
	"static void dispatch(struct thread *th, const struct step *s, int step_no,\n"
	"		     long blocks_in, long long timeout_ms, long long clock)\n"
	"{\n"
	"	th->step = s;\n"
	"	th->step_no = step_no;\n"
	"	th->blocks_in = blocks_in;\n"
	"	th->pending = true;\n"
	"	th->posted = false;\n"
	"	th->expired = false;\n"
	"	th->deadline = timeout_ms > 0 ? clock + timeout_ms : 0;\n"
	"	atomic_store(&th->interrupt, false);\n"
	"	pthread_mutex_lock(&th->lock);\n"
	"	atomic_store(&th->state, BUSY);\n"
	"	pthread_cond_signal(&th->work);\n"
	"	pthread_mutex_unlock(&th->lock);\n"
	"}\n"
	"\n"
	"static bool has_returned(struct thread *th)\n"
	"{\n"
	"	return atomic_load(&th->state) == DONE;\n"
	"}\n"
	"\n"
	"/* Takes the result: the thread is idle again. */\n"
	"static void gather(struct thread *th)\n"
	"{\n"
	"	th->pending = false;\n"
	"	th->posted = false;\n"
	"	atomic_store(&th->state, IDLE);\n"
	"}\n"
	"\n"
	"/* ------------------------------------------------------------ settling */\n"
	"\n"
	"/* seq_file regenerates a /proc file at offset 0: one open fd serves all. */\n"
	"static ssize_t read_task_file(int fd, char *buf, size_t len)\n"
	"{\n"
	"	ssize_t n = pread(fd, buf, len - 1, 0);\n"
	"\n"
	"	buf[n > 0 ? n : 0] = '\\0';\n"
	"	return n;\n"
	"}\n"
	"\n"
	"/* schedstat: \"run_ns wait_ns pcount\", pcount counting the times the thread\n"
	" * was switched in; 0 without CONFIG_SCHED_INFO. */\n"
	"static unsigned long long read_pcount(struct thread *th)\n"
	"{\n"
	"	unsigned long long run_ns, wait_ns, pcount;\n"
	"	char buf[96];\n"
	"\n"
	"	if (read_task_file(th->proc_schedstat, buf, sizeof(buf)) <= 0 ||\n"
	"	    sscanf(buf, \"%llu %llu %llu\", &run_ns, &wait_ns, &pcount) != 3)\n"
	"		return 0;\n"
	"	return pcount;\n"
	"}\n"
	"\n"
	"/* /proc/TID/syscall answers only for a thread off the CPU and not\n"
	" * running; its first number is the syscall the thread is in. */\n"
	"static bool in_call(struct thread *th)\n"
	"{\n"
	"	char buf[256];\n"
	"	long nr;\n"
	"\n"
	"	return read_task_file(th->proc_syscall, buf, sizeof(buf)) > 0 &&\n"
	"	       sscanf(buf, \"%ld\", &nr) == 1 && nr == th->blocks_in;\n"
	"}\n"
	"\n"
	"/* State S: an interruptible sleep, as on the wait queues of epoll, pipes,\n"
	" * eventfd and sockets.  A thread being woken shows R already. */\n"
	"static bool is_sleeping(struct thread *th)\n"
	"{\n"
	"	char buf[512];\n"
	"	const char *paren;\n"
	"\n"
	"	if (read_task_file(th->proc_stat, buf, sizeof(buf)) <= 0 ||\n"
	"	    !(paren = strrchr(buf, ')'))) /* the name may hold ')' */\n"
	"		return false;\n"
	"	return paren[1] == ' ' && paren[2] == 'S';\n"
	"}\n"
	"\n"
	"static bool sleeps_in_call(struct thread *th)\n"
	"{\n"
	"	return in_call(th) && is_sleeping(th);\n"
	"}\n"
	"\n"
	"/* Marks the threads that have returned; counts those still in a call. */\n"
	"static int collect_returns(struct run *run)\n"
	"{\n"
	"	int in_flight = 0;\n"
	"\n"
	"	for (int i = 0; i < NTHREADS; i++) {\n"
	"		struct thread *th = &run->threads[i];\n"
	"\n"
	"		if (!th->pending || th->posted)\n"
	"			continue;\n"
	"		if (has_returned(th))\n"
	"			th->posted = true;\n"
	"		else\n"
	"			in_flight++;\n"
	"	}\n"
	"	return in_flight;\n"
	"}\n"
	"\n"
	"/*\n"
	" * Waits until no thread can run: each has returned or sleeps in its call.\n"
	" * Two rounds over the threads still in a call: the first reads each one's\n"
	" * switch-in count and sees it off the CPU in its call, the second sees it\n"
	" * asleep (S) in its call with the count unchanged.  None of them ran\n"
	" * between the rounds, so none woke another, and none was woken before\n"
	" * either (it would show R): nobody runs again until the next step.\n"
	" */\n"
	"static void settle(struct run *run)\n"
	"{\n"
	"	long long deadline = now_ms() + SETTLE_TIMEOUT_MS;\n"
	"\n"
	"	for (;;) {\n"
	"		bool quiet = true;\n"
	"\n"
	"		if (collect_returns(run) == 0)\n"
	"			return;\n"
	"		for (int i = 0; i < NTHREADS && quiet; i++) {\n"
	"			struct thread *th = &run->threads[i];\n"
	"\n"
	"			if (!th->pending || th->posted)\n"
	"				continue;\n"
	"			th->pcount = read_pcount(th);\n"
	"			quiet = in_call(th);\n"
	"		}\n"
	"		for (int i = 0; i < NTHREADS && quiet; i++) {\n"
	"			struct thread *th = &run->threads[i];\n"
	"\n"
	"			if (!th->pending || th->posted)\n"
	"				continue;\n"
	"			quiet = sleeps_in_call(th) && read_pcount(th) == th->pcount;\n"
	"		}\n"
	"		if (quiet)\n"
	"			return;\n"
	"		if (now_ms() > deadline)\n"
	"			die(run, \"a thread neither returned nor slept within %d ms\",\n"
	"			    SETTLE_TIMEOUT_MS);\n"
	"		sched_yield();\n"
	"	}\n"
	"}\n"
	"\n"
	"/*\n"
	" * Makes th's sleeping call return (EINTR) and waits for it.  A signal that\n"
	" * arrives just before the call is spent on the handler and the call then\n"
	" * sleeps: so while the thread is seen asleep in its call, send another.\n"
	" */\n"
	"static void interrupt(struct run *run, struct thread *th)\n"
	"{\n"
	"	long long deadline = now_ms() + SETTLE_TIMEOUT_MS;\n"
	"\n"
	"	atomic_store(&th->interrupt, true);\n"
	"	if (!has_returned(th))\n"
	"		pthread_kill(th->handle, INTERRUPT_SIGNAL);\n"
	"	while (!has_returned(th)) {\n"
	"		if (sleeps_in_call(th))\n"
	"			pthread_kill(th->handle, INTERRUPT_SIGNAL);\n"
	"		if (now_ms() > deadline)\n"
	"			die(run, \"thread %d did not return from an interrupted call\",\n"
	"			    (int)(th - run->threads));\n"
	"		sched_yield();\n"
	"	}\n"
	"	th->posted = true;\n"
	"}\n"
	"\n"
	"/* --------------------------------------------------------------- steps */\n"
	"\n"
	"static void mismatch(struct run *run, const char *fmt, ...)\n"
	"	__attribute__((format(printf, 2, 3), noreturn));\n"
	"\n"
	"static void mismatch(struct run *run, const char *fmt, ...)\n"
	"{\n"
	"	va_list ap;\n"
	"\n"
	"	va_start(ap, fmt);\n"
	"	vfprintf(run->out, fmt, ap);\n"
	"	va_end(ap);\n"
	"	fprintf(run->out, \"\\nThis is not what was recorded: the trace is at the top of this program.\\n\");\n"
	"	fflush(run->out);\n"
	"	exit(1);\n"
	"}\n"
	"\n"
	"/* \"step 6 epoll_wait(3, 16, 0)\", with \" on t1\" for other threads. */\n"
	"static void describe(char *buf, int i)\n"
	"{\n"
	"	snprintf(buf, TEXT_MAX, \"step %d %s\", i, steps[i].call);\n"
	"	if (steps[i].t)\n"
	"		append(buf, \" on t%d\", steps[i].t);\n"
	"}\n"
	"\n"
	"static void check(struct run *run, int i, const char *got, const char *woke)\n"
	"{\n"
	"	const char *want_woke = steps[i].expect_woke ? steps[i].expect_woke : \"\";\n"
	"	char where[TEXT_MAX];\n"
	"\n"
	"	describe(where, i);\n"
	"	if (run->verbose)\n"
	"		fprintf(run->out, \"%s = %s%s%s\\n\", where, got, *woke ? \"; woke \" : \"\", woke);\n"
	"	if (strcmp(got, steps[i].expect) != 0)\n"
	"		mismatch(run, \"%s: expected %s, got %s\", where, steps[i].expect, got);\n"
	"	if (strcmp(woke, want_woke) != 0)\n"
	"		mismatch(run, \"%s: expected it to wake %s; it woke %s\", where,\n"
	"			 *want_woke ? want_woke : \"nothing\", *woke ? woke : \"nothing\");\n"
	"}\n"
	"\n"
	"/* A wait interrupted at its virtual deadline returns what the kernel\n"
	" * returns on expiry: 0, no events (unless its last scan found some). */\n"
	"static void expire(struct call_result *r)\n"
	"{\n"
	"	if (r->ret == -1 && r->err == EINTR) {\n"
	"		memset(r, 0, sizeof(*r));\n"
	"		r->has_events = true;\n"
	"	}\n"
	"}\n"
	"\n"
	"/* The blocked steps that returned during this step, by thread. */\n"
	"static void gather_woken(struct run *run, char *woke)\n"
	"{\n"
	"	for (int t = 0; t < NTHREADS; t++) {\n"
	"		struct thread *th = &run->threads[t];\n"
	"\n"
	"		if (!th->pending || !th->posted)\n"
	"			continue;\n"
	"		if (th->expired)\n"
	"			expire(&th->result);\n"
	"		append(woke, \"%st%d step %d = \", *woke ? \", \" : \"\", t, th->step_no);\n"
	"		append_result(woke, &th->result, th->buf.events);\n"
	"		gather(th);\n"
	"	}\n"
	"}\n"
	"\n"
	"static bool any_pending(struct run *run)\n"
	"{\n"
	"	for (int t = 0; t < NTHREADS; t++)\n"
	"		if (run->threads[t].pending)\n"
	"			return true;\n"
	"	return false;\n"
	"}\n"
	"\n"
	"/* sleep: the clock moves; each blocked wait whose deadline has come is\n"
	" * interrupted, earliest first, and the threads settle after each. */\n"
	"static void run_sleep(struct run *run, long long ms)\n"
	"{\n"
	"	run->clock += ms;\n"
	"	for (;;) {\n"
	"		struct thread *next = NULL;\n"
	"\n"
	"		for (int t = 0; t < NTHREADS; t++) {\n"
	"			struct thread *th = &run->threads[t];\n"
	"\n"
	"			if (th->pending && !th->posted && th->deadline &&\n"
	"			    th->deadline <= run->clock &&\n"
	"			    (!next || th->deadline < next->deadline))\n"
	"				next = th;\n"
	"		}\n"
	"		if (!next)\n"
	"			return;\n"
	"		next->expired = true;\n"
	"		interrupt(run, next);\n"
	"		settle(run);\n"
	"	}\n"
	"}\n"
	"\n"
	"static void run_step(struct run *run, int i)\n"
	"{\n"
	"	const struct step *s = &steps[i];\n"
	"	struct thread *own = &run->threads[s->t];\n"
	"	char got[TEXT_MAX] = \"\", woke[TEXT_MAX] = \"\";\n"
	"	long long timeout_ms = 0;\n"
	"	long nr = -1;\n"
	"\n"
	"	if (own->pending) { /* its thread is still blocked */\n"
	"		check(run, i, \"skipped (blocked)\", \"\");\n"
	"		return;\n"
	"	}\n"
	"	if (s->op->moves_clock) {\n"
	"		run_sleep(run, s->arg.sleep.ms);\n"
	"		append(got, \"0\");\n"
	"	} else {\n"
	"		if (s->op->blocks_in)\n"
	"			nr = s->op->blocks_in(&s->arg, &timeout_ms);\n"
	"		if (nr >= 0) {\n"
	"			dispatch(own, s, i, nr, timeout_ms, run->clock);\n"
	"		} else {\n"
	"			struct call_result r;\n"
	"\n"
	"			make_call(s, &run->main_buf, &r);\n"
	"			append_result(got, &r, run->main_buf.events);\n"
	"		}\n"
	"		if (any_pending(run))\n"
	"			settle(run);\n"
	"		if (own->pending && own->step_no == i) {\n"
	"			if (own->posted) {\n"
	"				append_result(got, &own->result, own->buf.events);\n"
	"				gather(own);\n"
	"			} else {\n"
	"				append(got, \"blocked\");\n"
	"			}\n"
	"		}\n"
	"	}\n"
	"	gather_woken(run, woke);\n"
	"	check(run, i, got, woke);\n"
	"}\n"
	"\n"
	"static void check_still_blocked(struct run *run)\n"
	"{\n"
	"	const char *want = still_blocked_at_end ? still_blocked_at_end : \"\";\n"
	"	char got[TEXT_MAX] = \"\";\n"
	"\n"
	"	for (int t = 0; t < NTHREADS; t++)\n"
	"		if (run->threads[t].pending)\n"
	"			append(got, \"%st%d step %d\", *got ? \", \" : \"\", t,\n"
	"			       run->threads[t].step_no);\n"
	"	if (run->verbose && *got)\n"
	"		fprintf(run->out, \"still blocked at the end: %s\\n\", got);\n"
	"	if (strcmp(got, want) != 0)\n"
	"		mismatch(run, \"at the end: expected %s still blocked, got %s\",\n"
	"			 *want ? want : \"nothing\", *got ? got : \"nothing\");\n"
	"}\n"
	"\n"
	"/* ------------------------------------------------------------- set-up */\n"
	"\n"
	"/* Our own fds go to HIGH_FD and above, which needs a soft limit above it\n"
	" * while we place them; they stay valid under the lower limit after. */\n"
	"static void set_fd_limit(struct run *run, rlim_t soft)\n"
	"{\n"
	"	struct rlimit rl;\n"
	"\n"
	"	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)\n"
	"		die(run, \"getrlimit: %s\", strerror(errno));\n"
	"	if (soft == RLIM_INFINITY)\n"
	"		soft = rl.rlim_max;\n"
	"	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < soft)\n"
	"		die(run, \"RLIMIT_NOFILE hard limit %llu is below %llu\",\n"
	"		    (unsigned long long)rl.rlim_max, (unsigned long long)soft);\n"
	"	rl.rlim_cur = soft;\n"
	"	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)\n"
	"		die(run, \"setrlimit: %s\", strerror(errno));\n"
	"}\n"
	"\n"
	"static void install_signals(struct run *run)\n"
	"{\n"
	"	struct sigaction sa;\n"
	"\n"
	"	memset(&sa, 0, sizeof(sa));\n"
	"	sa.sa_handler = SIG_IGN; /* a write to a widowed pipe: EPIPE */\n"
	"	if (sigaction(SIGPIPE, &sa, NULL) < 0)\n"
	"		die(run, \"sigaction SIGPIPE: %s\", strerror(errno));\n"
	"	sa.sa_handler = on_interrupt;\n"
	"	sa.sa_flags = 0; /* no SA_RESTART: an interrupted call returns EINTR */\n"
	"	sigemptyset(&sa.sa_mask);\n"
	"	if (sigaction(INTERRUPT_SIGNAL, &sa, NULL) < 0)\n"
	"		die(run, \"sigaction: %s\", strerror(errno));\n"
	"}\n"
	"\n"
	"/* The threads run on the CPU the main thread is on, as in epollfuzz's\n"
	" * oracle: one op runs at a time, and a wakeup on the same CPU is cheap. */\n"
	"static void place_threads(struct run *run)\n"
	"{\n"
	"	int cpu = sched_getcpu();\n"
	"	cpu_set_t set;\n"
	"\n"
	"	if (cpu < 0)\n"
	"		return;\n"
	"	CPU_ZERO(&set);\n"
	"	CPU_SET(cpu, &set);\n"
	"	for (int t = 0; t < NTHREADS; t++)\n"
	"		pthread_setaffinity_np(run->threads[t].handle, sizeof(set), &set);\n"
	"}\n"
	"\n"
	"static void start_threads(struct run *run)\n"
	"{\n"
	"	sigset_t all, old;\n"
	"\n"
	"	sigfillset(&all);\n"
	"	pthread_sigmask(SIG_SETMASK, &all, &old); /* the threads inherit it */\n"
	"	for (int t = 0; t < NTHREADS; t++)\n"
	"		start_thread(run, &run->threads[t]);\n"
	"	pthread_sigmask(SIG_SETMASK, &old, NULL);\n"
	"	place_threads(run);\n"
	"}\n"
	"\n"
	"/* The trace starts from this fd table: 0-2 on /dev/null, nothing else\n"
	" * below FD_LIMIT. */\n"
	"static void reset_fd_table(struct run *run, int devnull)\n"
	"{\n"
	"	for (int fd = 0; fd < FD_LIMIT; fd++)\n"
	"		close(fd);\n"
	"	for (int fd = 0; fd < 3; fd++)\n"
	"		if (dup2(devnull, fd) < 0)\n"
	"			die(run, \"dup2 /dev/null: %s\", strerror(errno));\n"
	"}\n"
	"\n"
	"static void set_up(struct run *run)\n"
	"{\n"
	"	int out_fd, devnull;\n"
	"\n"
	"	run->out = stderr;\n"
	"	set_fd_limit(run, RLIM_INFINITY);\n"
	"	out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, HIGH_FD);\n"
	"	if (out_fd < 0 || !(run->out = fdopen(out_fd, \"w\"))) {\n"
	"		run->out = stderr;\n"
	"		die(run, \"moving stdout above %d: %s\", HIGH_FD, strerror(errno));\n"
	"	}\n"
	"	setvbuf(run->out, NULL, _IOLBF, 0);\n"
	"	install_signals(run);\n"
	"	devnull = open_high(run, \"/dev/null\", O_RDWR);\n"
	"	buffers_init(run, &run->main_buf);\n"
	"	start_threads(run);\n"
	"	set_fd_limit(run, FD_LIMIT);\n"
	"	reset_fd_table(run, devnull);\n"
	"}\n"
	"\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	struct run run;\n"
	"	int nsteps = (int)(sizeof(steps) / sizeof(steps[0]));\n"
	"\n"
	"	memset(&run, 0, sizeof(run));\n"
	"	run.verbose = argc > 1 && strcmp(argv[1], \"-v\") == 0;\n"
	"	set_up(&run);\n"
	"	for (int i = 0; i < nsteps; i++)\n"
	"		run_step(&run, i);\n"
	"	check_still_blocked(&run);\n"
	"	fprintf(run.out, \"ok: all %d steps as recorded\\n\", nsteps);\n"
	"	return 0;\n"
	"}\n";
/* end:runtime */

/* ------------------------------------------------------------------------
 * Text helpers.
 */

/* A bounded string being appended to; output past the end is dropped. */
struct text {
	char buf[4096];
	size_t used;
};

__attribute__((format(printf, 2, 3)))
static void tx_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (t->used + 1 >= sizeof(t->buf))
		return;
	va_start(ap, fmt);
	w = vsnprintf(t->buf + t->used, sizeof(t->buf) - t->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		t->used += (size_t)w < sizeof(t->buf) - t->used ?
				   (size_t)w : sizeof(t->buf) - t->used - 1;
}

static void tx_reset(struct text *t)
{
	t->buf[0] = '\0';
	t->used = 0;
}

/* A C string literal: quotes and backslashes escaped. */
static void put_c_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Each line of text indented by one tab more than `indent` tabs. */
static void put_indented(FILE *f, const char *text, unsigned indent)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		if (n) {
			for (unsigned i = 0; i < indent; i++)
				fputc('\t', f);
			fwrite(text, 1, n, f);
		}
		fputc('\n', f);
		text += n + (nl ? 1 : 0);
	}
}

/* One line of the opening comment; a "*\/" inside would end it early. */
static void comment_line(FILE *f, const char *line, size_t n)
{
	fputs(n ? " * " : " *", f);
	for (size_t i = 0; i < n; i++) {
		fputc(line[i], f);
		if (line[i] == '*' && i + 1 < n && line[i + 1] == '/')
			fputc('\\', f);
	}
	fputc('\n', f);
}

static void comment_text(FILE *f, const char *text)
{
	if (!*text)
		comment_line(f, text, 0);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		comment_line(f, text, n);
		text += n + (nl ? 1 : 0);
	}
}

static void comment_blank(FILE *f)
{
	comment_line(f, "", 0);
}

__attribute__((format(printf, 2, 3)))
static void comment(FILE *f, const char *fmt, ...)
{
	struct text t = { .used = 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t.buf, sizeof(t.buf), fmt, ap);
	va_end(ap);
	comment_text(f, t.buf);
}

/* ------------------------------------------------------------------------
 * Results as text, exactly as the runtime's append_result() prints them:
 * "3", "-1 EBADF", "0 fds=[4,5]", "8 value=1", "1 [EPOLLIN|EPOLLET:4]".
 */

static void tx_u64(struct text *t, uint64_t v)
{
	if (v < 0x100000)
		tx_printf(t, "%" PRIu64, v);
	else
		tx_printf(t, "0x%" PRIx64, v);
}

static void tx_events(struct text *t, uint32_t bits)
{
	const char *sep = "";

	if (bits == 0) {
		tx_printf(t, "0");
		return;
	}
	for (const struct flag_name *n = epoll_event_names; n->name; n++)
		if ((bits & n->bits) == n->bits) {
			tx_printf(t, "%s%s", sep, n->name);
			bits &= ~(uint32_t)n->bits;
			sep = "|";
		}
	if (bits)
		tx_printf(t, "%s0x%x", sep, bits);
}

static void tx_result(struct text *t, const struct outcome *o,
		      const struct result *res)
{
	tx_printf(t, "%" PRId64, res->ret);
	if (res->ret == -1)
		tx_printf(t, " %s", errno_name(res->err));
	if (res->has & RES_FDS)
		tx_printf(t, " fds=[%d,%d]", res->fds[0], res->fds[1]);
	if (res->has & RES_VALUE) {
		tx_printf(t, " value=");
		tx_u64(t, res->value);
	}
	if (!(res->has & RES_EVENTS))
		return;
	tx_printf(t, " [");
	for (uint32_t i = 0; i < res->ev_count; i++) {
		const struct event_rec *ev = &o->events[res->ev_first + i];

		tx_printf(t, "%s", i ? ", " : "");
		tx_events(t, ev->events);
		tx_printf(t, ":");
		tx_u64(t, ev->data);
	}
	tx_printf(t, "]");
}

/* A step's own result: a value, "blocked" or "skipped (blocked)". */
static void tx_record(struct text *t, const struct outcome *o,
		      const struct step_record *rec)
{
	switch ((enum step_state)rec->state) {
	case STEP_DONE:
		tx_result(t, o, &rec->res);
		break;
	case STEP_BLOCKED:
		tx_printf(t, "blocked");
		break;
	case STEP_SKIPPED:
		tx_printf(t, "skipped (blocked)");
		break;
	case STEP_UNSUPPORTED:
		tx_printf(t, "unsupported");
		break;
	}
}

/* The blocked steps a step completed: "t1 step 3 = 1 [EPOLLIN:4], ...". */
static void tx_woke(struct text *t, const struct outcome *o,
		    const struct step_record *rec)
{
	for (uint32_t i = 0; i < rec->done_count; i++) {
		const struct completion *c = &o->done[rec->done_first + i];

		tx_printf(t, "%st%u step %u = ", i ? ", " : "", c->t, c->step);
		tx_result(t, o, &c->res);
	}
}

static void tx_still_blocked(struct text *t, const struct outcome *o)
{
	for (uint32_t i = 0; i < o->nblocked; i++)
		tx_printf(t, "%st%u step %u", i ? ", " : "", o->blocked[i].t,
			  o->blocked[i].step);
}

/* The op as epollfuzz prints it, without its thread. */
static void tx_call(struct text *t, const struct op *op)
{
	struct op bare = *op;

	bare.t = 0;
	op_format(&bare, t->buf + t->used, sizeof(t->buf) - t->used);
	t->used += strlen(t->buf + t->used);
}

/* ------------------------------------------------------------------------
 * Field values as C expressions.
 */

/* Named bits, then the rest in hex: "EPOLLIN|EPOLLET|0x4000000". */
static void tx_c_flags(struct text *t, const struct flag_name *names,
		       int64_t v)
{
	uint64_t left = (uint64_t)v;
	const char *sep = "";

	if (v <= 0) {
		tx_printf(t, "%" PRId64, v);
		return;
	}
	for (const struct flag_name *n = names; n->name; n++)
		if (n->bits && n->mask == n->bits && (left & n->bits) == n->bits) {
			tx_printf(t, "%s%s", sep, n->name);
			left &= ~n->bits;
			sep = "|";
		}
	if (left)
		tx_printf(t, "%s0x%" PRIx64, sep, left);
}

static void tx_c_enum(struct text *t, const struct flag_name *names,
		      int64_t v)
{
	char text[256];

	if (v >= 0 && flags_format(names, (uint64_t)v, text, sizeof(text)))
		tx_printf(t, "%s", text);
	else
		tx_printf(t, "%" PRId64, v);
}

static void tx_c_u64(struct text *t, uint64_t v)
{
	if (v <= INT64_MAX)
		tx_printf(t, "%" PRIu64, v);
	else
		tx_printf(t, "(long long)0x%" PRIx64 "ULL", v);
}

/*
 * A field an op leaves out whose value is decided when it runs: epoll_ctl's
 * data is the fd's number, known now; a read or write length depends on
 * whether the fd is an eventfd then, so it stays -1 and io_len() decides.
 */
static int64_t runtime_default(const struct op *op, const struct field_desc *fd)
{
	if (fd->id == F_DATA)
		return (int64_t)op_data(op);
	return -1;
}

static void tx_c_field(struct text *t, const struct op *op,
		       const struct field_desc *fd)
{
	int64_t v = op->f[fd->id];

	if (fd->defkind == DEF_RUNTIME && !op_has(op, fd->id))
		v = runtime_default(op, fd);
	switch (fd->kind) {
	case FK_FLAGS:
		tx_c_flags(t, fd->names, v);
		break;
	case FK_ENUM:
		tx_c_enum(t, fd->names, v);
		break;
	case FK_U64:
		if (fd->defkind == DEF_RUNTIME || op_has(op, fd->id) || v < 0)
			tx_c_u64(t, (uint64_t)v);
		else
			tx_printf(t, "%" PRId64, v);
		break;
	case FK_FD:
	case FK_INT:
	case FK_COUNT:
	case FK_U32:
		tx_printf(t, "%" PRId64, v);
		break;
	}
}

/* ------------------------------------------------------------------------
 * The generated parts.
 */

/* Who the export is for: the source file and the tool, for the header. */
struct export_context {
	const struct program *p;
	const struct outcome *rec;   /* the recording the program checks */
	const struct export_options *opt;
	const json_t *meta;          /* the trace's meta, or NULL */
	struct outcome model;        /* meta.outcomes.model, when has_model */
	bool has_model;
};

static const char *meta_string(const json_t *meta, const char *key)
{
	const json_t *v = meta ? json_object_get(meta, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const struct step_record *record_of(const struct outcome *o,
					   uint32_t step)
{
	for (uint32_t i = 0; i < o->nsteps; i++)
		if (o->steps[i].step == step)
			return &o->steps[i];
	return NULL;
}

/* "  recorded: 1 [EPOLLIN:4]; woke t1 step 3 = 0 []" */
static void comment_outcome_at(FILE *f, const char *who,
			       const struct outcome *o, uint32_t step)
{
	const struct step_record *rec = record_of(o, step);
	struct text t = { .used = 0 };

	tx_printf(&t, "    %-9s ", who);
	if (!rec) {
		tx_printf(&t, "(no record)");
	} else {
		tx_record(&t, o, rec);
		if (rec->done_count) {
			tx_printf(&t, "; woke ");
			tx_woke(&t, o, rec);
		}
	}
	comment(f, "%s", t.buf);
}

/* What meta.verdict says, and both targets' results at its step. */
static void comment_verdict(FILE *f, const struct export_context *cx)
{
	const json_t *v = json_object_get(cx->meta, "verdict");
	const json_t *step = json_object_get(v, "step");
	const char *cls = meta_string(v, "class");
	const char *sig = meta_string(v, "signature");
	const char *detail = meta_string(v, "detail");
	struct text call = { .used = 0 };
	json_int_t n;

	if (!cls || strcmp(cls, "agree") == 0)
		return;
	comment_blank(f);
	if (!json_is_integer(step)) {
		comment(f, "The finding (meta.verdict): %s%s%s.", cls,
			sig ? ", " : "", sig ? sig : "");
		return;
	}
	n = json_integer_value(step);
	comment(f, "The finding (meta.verdict): %s at step %" JSON_INTEGER_FORMAT
		"%s%s%s.", cls, n, sig ? " (" : "", sig ? sig : "", sig ? ")" : "");
	if (detail && *detail)
		comment(f, "  %s", detail);
	if (n < 0 || (uint64_t)n >= cx->p->nops)
		return;
	tx_call(&call, &cx->p->ops[n]);
	if (cx->p->ops[n].t)
		tx_printf(&call, " on t%u", cx->p->ops[n].t);
	comment(f, "  step %" JSON_INTEGER_FORMAT " %s", n, call.buf);
	comment_outcome_at(f, "recorded:", cx->rec, (uint32_t)n);
	if (cx->has_model)
		comment_outcome_at(f, "model:", &cx->model, (uint32_t)n);
}

static const char how_it_runs[] =
	"It runs the trace below with real system calls, as epollfuzz's Linux\n"
	"oracle does, and compares every result with the recorded outcome:\n"
	"\n"
	"  - one pthread per simulated thread; an op that may block (epoll_wait\n"
	"    with a non-zero timeout, read or write on a blocking fd) runs on its\n"
	"    own thread, the others on the main thread;\n"
	"  - after each step it waits until every thread has returned or sleeps\n"
	"    in its call, read from /proc/self/task/TID/{stat,syscall,schedstat};\n"
	"  - timeouts follow a virtual clock that only `sleep` steps move: a\n"
	"    blocked wait is interrupted by a signal when a sleep passes its\n"
	"    deadline, and reported as the timeout (0);\n"
	"  - fds 0-2 are /dev/null, RLIMIT_NOFILE is 1024, SIGPIPE is ignored;\n"
	"    fd numbers the trace did not open (this program keeps its own above\n"
	"    1024) are passed as -1, which fails wherever a closed fd fails.\n";

static void emit_header(FILE *f, const struct export_context *cx)
{
	const char *kernel = meta_string(cx->meta, "kernel");
	const char *target = meta_string(cx->meta, "target");
	char *trace = trace_dump(cx->p, cx->rec);

	fputs("/*\n", f);
	comment(f, "Reproducer for an epoll trace, exported by %s%s%s.",
		cx->opt->tool, cx->opt->source ? " from " : "",
		cx->opt->source ? cx->opt->source : "");
	comment_blank(f);
	comment(f, "  gcc -Wall -Werror -pthread -o repro THIS.c && ./repro [-v]");
	comment_blank(f);
	comment_text(f, how_it_runs);
	comment_blank(f);
	if (target && strcmp(target, "model") == 0)
		comment(f, "The outcome checked was recorded by the model, not by Linux\n"
			"(meta.target): a difference is where Linux disagrees with the model.");
	else
		comment(f, "The outcome checked was recorded on Linux%s%s.",
			kernel ? " " : "", kernel ? kernel : "");
	comment(f, "Exit status: 0 every result as recorded; 1 a result differs (the\n"
		"first difference is printed); 2 the program could not run.  -v prints\n"
		"each step and its result.");
	if (cx->meta)
		comment_verdict(f, cx);
	comment_blank(f);
	comment(f, "The trace (epollfuzz trace format %d), with the recorded outcome:",
		TRACE_VERSION);
	comment_blank(f);
	comment_text(f, trace ? trace : "(out of memory)\n");
	fputs(" */\n", f);
	free(trace);
}

/* struct NAME_args for every op, union args of them all, and the sizes. */
static void emit_args(FILE *f, const struct program *p)
{
	const char *lens = "";
	size_t io_max = 8;
	unsigned nctl = 0;

	fputs("\n/* Each op's fields, in the order of its call. */\n", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct op_desc *d = &op_table[k];

		fprintf(f, "struct %s_args { long long ", d->name);
		for (unsigned i = 0; i < d->nfields; i++)
			fprintf(f, "%s%s", i ? ", " : "", d->fields[i].name);
		fputs("; };\n", f);
	}
	fputs("\nunion args {\n", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++)
		fprintf(f, "\tstruct %s_args %s;\n", op_table[k].name, op_table[k].name);
	fputs("};\n", f);

	fputs("\n/* A length the trace leaves out (-1 below): 8 on an eventfd, else these. */\nenum {", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct field_desc *fd = op_field(k, F_LEN);

		if (fd && fd->defkind == DEF_RUNTIME) {
			fprintf(f, "%s %s_len_default = %" PRId64, lens,
				op_table[k].name, fd->def);
			lens = ",";
		}
	}
	fputs(" };\n", f);

	for (unsigned i = 0; i < p->nops; i++) {
		const struct op *op = &p->ops[i];

		if (op->kind == OP_READ || op->kind == OP_WRITE) {
			size_t len = op_io_len(op, false);

			io_max = len > io_max ? len : io_max;
		}
		nctl += op->kind == OP_EPOLL_CTL;
	}
	fprintf(f, "\nenum {\n"
		"\tNTHREADS = %u, /* simulated threads */\n"
		"\tFD_LIMIT = %d, /* RLIMIT_NOFILE while the trace runs */\n"
		"\tIO_MAX = %zu, /* the longest read or write */\n"
		"\tMAX_EVENTS = %u, /* epoll_wait reports one event per interest at most */\n"
		"};\n", p->threads, FD_LIMIT, io_max, nctl + 1);
}

static void emit_step(FILE *f, const struct export_context *cx, unsigned i)
{
	const struct op *op = &cx->p->ops[i];
	const struct op_desc *d = &op_table[op->kind];
	const struct step_record *rec = &cx->rec->steps[i];
	struct text t = { .used = 0 };

	fprintf(f, "\t/* %u */ { %u, &op_%s, { .%s = { ", i, op->t, d->name, d->name);
	for (unsigned k = 0; k < d->nfields; k++) {
		tx_reset(&t);
		tx_c_field(&t, op, &d->fields[k]);
		fprintf(f, "%s%s", k ? ", " : "", t.buf);
	}
	fputs(" } },\n\t\t", f);
	tx_reset(&t);
	tx_call(&t, op);
	put_c_string(f, t.buf);
	fputs(", ", f);
	tx_reset(&t);
	tx_record(&t, cx->rec, rec);
	put_c_string(f, t.buf);
	fputs(",", f);
	if (rec->done_count) {
		fputs("\n\t\t", f);
		tx_reset(&t);
		tx_woke(&t, cx->rec, rec);
		put_c_string(f, t.buf);
	} else {
		fputs(" NULL", f);
	}
	fputs(" },\n", f);
}

static bool op_used(const struct program *p, unsigned kind)
{
	for (unsigned i = 0; i < p->nops; i++)
		if (p->ops[i].kind == kind)
			return true;
	return false;
}

static void emit_steps(FILE *f, const struct export_context *cx)
{
	struct text t = { .used = 0 };

	fputs("\n/* The ops this trace uses (defined below). */\n", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++)
		if (op_used(cx->p, k))
			fprintf(f, "static const struct op_kind op_%s;\n", op_table[k].name);
	fputs("\n/*\n"
	      " * The trace: { thread, op, its fields }, the op as epollfuzz prints it,\n"
	      " * the recorded result, and the blocked steps it woke (thread, step, result).\n"
	      " */\n"
	      "static const struct step steps[] = {\n", f);
	for (unsigned i = 0; i < cx->p->nops; i++)
		emit_step(f, cx, i);
	fputs("};\n\n/* Threads still blocked after the last step. */\n"
	      "static const char *const still_blocked_at_end = ", f);
	tx_still_blocked(&t, cx->rec);
	if (t.used)
		put_c_string(f, t.buf);
	else
		fputs("NULL", f);
	fputs(";\n", f);
}

/* The names the runtime prints results with, from the project's tables. */
static void emit_names(FILE *f)
{
	unsigned col = 0;

	fputs("\nstruct flag_name {\n\tconst char *name;\n\tuint32_t bits;\n};\n\n"
	      "static const struct flag_name epoll_event_names[] = {\n", f);
	for (const struct flag_name *n = epoll_event_names; n->name; n++)
		fprintf(f, "\t{ \"%s\", %s },\n", n->name, n->name);
	fputs("\t{ NULL, 0 },\n};\n\n"
	      "struct errno_name {\n\tconst char *name;\n\tint err;\n};\n\n"
	      "static const struct errno_name errno_names[] = {", f);
	for (int e = 1; e < 256; e++) {
		const char *name = errno_name(e);

		if (name[1] >= '0' && name[1] <= '9')
			continue; /* unnamed: "E<number>" */
		fprintf(f, "%s{ \"%s\", %s },", col++ % 4 ? " " : "\n\t", name, name);
	}
	fputs("\n\t{ NULL, 0 },\n};\n", f);
}

static void emit_function(FILE *f, const char *head, const char *name,
			  const char *args_name, const char *body)
{
	fprintf(f, "%s\n{\n\tconst struct %s_args *a = &arg->%s;\n\n", head,
		args_name, name);
	put_indented(f, body, 1);
	fputs("}\n", f);
}

/* call_NAME(), blocks_in_NAME() and op_NAME for each op the trace uses. */
static void emit_calls(FILE *f, const struct program *p)
{
	char head[256];

	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const char *name = op_table[k].name;
		const struct call_code *cc = &call_code[k];

		if (!op_used(p, k))
			continue;
		fprintf(f, "\n/* %s */\n", op_table[k].call);
		snprintf(head, sizeof(head),
			 "static long call_%s(const union args *arg, struct buffers *b,\n"
			 "\t\t%*s struct call_result *r)", name, (int)strlen(name), "");
		emit_function(f, head, name, name, cc->body);
		if (cc->blocks_in) {
			snprintf(head, sizeof(head),
				 "\nstatic long blocks_in_%s(const union args *arg, long long *timeout_ms)",
				 name);
			emit_function(f, head, name, name, cc->blocks_in);
		}
		fprintf(f, "\nstatic const struct op_kind op_%s = { call_%s, %s%s, %s };\n",
			name, name, cc->blocks_in ? "blocks_in_" : "NULL",
			cc->blocks_in ? name : "", cc->moves_clock ? "true" : "false");
	}
}

/* ------------------------------------------------------------------------
 * Checks and the model's outcome.
 */

/* The recording must hold one record per op, in order, each one a result
 * the program can compare with. */
static int check_recording(const struct program *p, const struct outcome *rec,
			   struct error *err)
{
	if (rec->nsteps == 0)
		return fail(err, "the trace has no outcome");
	if (rec->nsteps != p->nops)
		return fail(err, "the outcome has %u step records for %u ops (%s)",
			    rec->nsteps, p->nops,
			    rec->unsupported[0] ? rec->unsupported : "a partial run");
	for (uint32_t i = 0; i < rec->nsteps; i++) {
		if (rec->steps[i].step != i)
			return fail(err, "outcome record %u is for step %u", i,
				    rec->steps[i].step);
		if (rec->steps[i].state == STEP_UNSUPPORTED)
			return fail(err, "outcome step %u: unsupported", i);
	}
	return 0;
}

/* meta.outcomes.model, parsed with the trace codec: the program with that
 * outcome in place of its own. */
static bool load_model_outcome(const struct program *p, const json_t *meta,
			       struct outcome *model)
{
	const json_t *m = json_object_get(json_object_get(meta, "outcomes"), "model");
	struct program bare = *p, parsed;
	struct error err;
	json_t *root;
	char *text = NULL;
	int rc = -1;

	if (!m)
		return false;
	bare.extras = NULL;
	root = trace_to_json(&bare, NULL);
	if (root && json_object_set(root, "outcome", (json_t *)m) == 0)
		text = json_dumps(root, 0);
	json_decref(root);
	if (text)
		rc = trace_parse(text, strlen(text), &parsed, model, &err);
	free(text);
	if (rc < 0)
		return false;
	program_free(&parsed);
	return true;
}

int export_c(FILE *f, const struct program *p, const struct outcome *rec,
	     const struct export_options *opt, struct error *err)
{
	struct export_context cx = { .p = p, .rec = rec, .opt = opt };

	if (check_recording(p, rec, err) < 0)
		return -1;
	cx.meta = p->extras ? json_object_get(p->extras, "meta") : NULL;
	outcome_init(&cx.model);
	cx.has_model = cx.meta && load_model_outcome(p, cx.meta, &cx.model);

	emit_header(f, &cx);
	fputc('\n', f);
	fputs(runtime_head, f);
	emit_args(f, p);
	fputs(runtime_types, f);
	emit_steps(f, &cx);
	emit_names(f);
	fputs(runtime_helpers, f);
	emit_calls(f, p);
	fputs(runtime_main, f);

	outcome_free(&cx.model);
	if (fflush(f) != 0 || ferror(f))
		return fail(err, "write error");
	return 0;
}
