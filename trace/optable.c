/*
 * optable.c - every operation a trace may hold, described once.
 *
 * The JSON codec, the byte decoder, the C exporter and the generated docs
 * read this table; to add a field or a flag name, change it here only.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "trace.h"

/* include/uapi/linux/eventpoll.h has it; glibc's <sys/epoll.h> does not. */
#ifndef EPOLLNVAL
#define EPOLLNVAL 0x00000020
#endif

#define FLAG(x) { #x, (uint64_t)(x), (uint64_t)(x) }
#define ENUM(x, m) { #x, (uint64_t)(x), (uint64_t)(m) }
#define END { NULL, 0, 0 }

const struct flag_name epoll_event_names[] = {
	FLAG(EPOLLIN),     FLAG(EPOLLPRI),       FLAG(EPOLLOUT),
	FLAG(EPOLLERR),    FLAG(EPOLLHUP),       FLAG(EPOLLNVAL),
	FLAG(EPOLLRDNORM), FLAG(EPOLLRDBAND),    FLAG(EPOLLWRNORM),
	FLAG(EPOLLWRBAND), FLAG(EPOLLMSG),       FLAG(EPOLLRDHUP),
	FLAG(EPOLLEXCLUSIVE), FLAG(EPOLLWAKEUP), FLAG(EPOLLONESHOT),
	FLAG(EPOLLET),     END,
};

static const struct flag_name epoll_create1_names[] = { FLAG(EPOLL_CLOEXEC), END };

static const struct flag_name ctl_names[] = {
	ENUM(EPOLL_CTL_ADD, ~0u), ENUM(EPOLL_CTL_DEL, ~0u),
	ENUM(EPOLL_CTL_MOD, ~0u), END,
};

static const struct flag_name pipe2_names[] = {
	FLAG(O_NONBLOCK), FLAG(O_CLOEXEC), FLAG(O_DIRECT), END,
};

static const struct flag_name eventfd_names[] = {
	FLAG(EFD_NONBLOCK), FLAG(EFD_SEMAPHORE), FLAG(EFD_CLOEXEC), END,
};

/* SOCK_TYPE_MASK is 0xf in the kernel (include/linux/net.h). */
static const struct flag_name socket_type_names[] = {
	ENUM(SOCK_STREAM, 0xf), ENUM(SOCK_DGRAM, 0xf), ENUM(SOCK_SEQPACKET, 0xf),
	FLAG(SOCK_NONBLOCK), FLAG(SOCK_CLOEXEC), END,
};

static const struct flag_name dup3_names[] = { FLAG(O_CLOEXEC), END };

static const struct flag_name shutdown_names[] = {
	ENUM(SHUT_RD, ~0u), ENUM(SHUT_WR, ~0u), ENUM(SHUT_RDWR, ~0u), END,
};

static const struct flag_name close_range_names[] = {
	FLAG(CLOSE_RANGE_UNSHARE), FLAG(CLOSE_RANGE_CLOEXEC), END,
};

/* The commands fcntl_cmd_runs() lets through, F_GETFL first (what the
 * minimiser simplifies a command towards). */
static const struct flag_name fcntl_cmd_names[] = {
	ENUM(F_GETFL, ~0u), ENUM(F_SETFL, ~0u), ENUM(F_GETFD, ~0u),
	ENUM(F_SETFD, ~0u), ENUM(F_DUPFD, ~0u), ENUM(F_DUPFD_CLOEXEC, ~0u), END,
};

/* F_SETFL's status flags (setfl(): SETFL_MASK, and O_ASYNC through the
 * file's ->fasync), then F_SETFD's FD_CLOEXEC.  F_DUPFD's arg is a number:
 * 1 reads back as FD_CLOEXEC, and names no other of its values. */
static const struct flag_name fcntl_arg_names[] = {
	FLAG(O_NONBLOCK), FLAG(O_APPEND), FLAG(O_DIRECT), FLAG(O_NOATIME),
	FLAG(O_ASYNC), FLAG(FD_CLOEXEC), END,
};

/* Field shapes shared by several ops. */
#define FD_FIELD(id_, name_, doc_) \
	{ id_, name_, FK_FD, DEF_REQUIRED, 0, INT_MIN, INT_MAX, NULL, doc_ }
#define INT_FIELD(id_, name_, def_, doc_) \
	{ id_, name_, FK_INT, DEF_VALUE, def_, INT_MIN, INT_MAX, NULL, doc_ }
#define FLAGS_FIELD(id_, names_, doc_) \
	{ id_, "flags", FK_FLAGS, DEF_VALUE, 0, INT_MIN, UINT_MAX, names_, doc_ }

static const char *const field_names_[FIELD_COUNT] = {
	[F_SIZE] = "size",         [F_FLAGS] = "flags",   [F_EPFD] = "epfd",
	[F_CTL] = "ctl",           [F_FD] = "fd",         [F_EVENTS] = "events",
	[F_DATA] = "data",         [F_MAXEVENTS] = "maxevents",
	[F_TIMEOUT] = "timeout",   [F_INITVAL] = "initval", [F_TYPE] = "type",
	[F_NEWFD] = "newfd",       [F_LEN] = "len",       [F_VALUE] = "value",
	[F_HOW] = "how",           [F_MS] = "ms",
	[F_TIMEOUT_NS] = "timeout_ns", [F_FIRST] = "first", [F_LAST] = "last",
	[F_CMD] = "cmd",           [F_ARG] = "arg",       [F_CHILD] = "child",
};

const struct op_desc op_table[OP_KIND_COUNT] = {
	[OP_EPOLL_CREATE] = { "epoll_create", "epoll_create(size)", false, 1, {
		INT_FIELD(F_SIZE, "size", 1, "ignored unless <= 0 (EINVAL)"),
	} },
	[OP_EPOLL_CREATE1] = { "epoll_create1", "epoll_create1(flags)", false, 1, {
		FLAGS_FIELD(F_FLAGS, epoll_create1_names, "EPOLL_CLOEXEC; others EINVAL"),
	} },
	[OP_EPOLL_CTL] = { "epoll_ctl", "epoll_ctl(epfd, ctl, fd, &{events, data})", false, 5, {
		FD_FIELD(F_EPFD, "epfd", "the epoll instance"),
		{ F_CTL, "ctl", FK_ENUM, DEF_REQUIRED, 0, INT_MIN, INT_MAX, ctl_names,
		  "EPOLL_CTL_ADD, EPOLL_CTL_DEL or EPOLL_CTL_MOD" },
		FD_FIELD(F_FD, "fd", "the watched file descriptor"),
		{ F_EVENTS, "events", FK_FLAGS, DEF_VALUE, 0, INT_MIN, UINT_MAX,
		  epoll_event_names, "interest mask; unknown bits are kept" },
		{ F_DATA, "data", FK_U64, DEF_RUNTIME, 0, INT64_MIN, INT64_MAX, NULL,
		  "user data returned with events; default: the value of fd" },
	} },
	[OP_EPOLL_WAIT] = { "epoll_wait", "epoll_wait(epfd, buf, maxevents, timeout)", true, 3, {
		FD_FIELD(F_EPFD, "epfd", "the epoll instance"),
		INT_FIELD(F_MAXEVENTS, "maxevents", 16, "<= 0 is EINVAL"),
		INT_FIELD(F_TIMEOUT, "timeout", -1,
			  "virtual ms; -1 forever, 0 poll once"),
	} },
	[OP_PIPE2] = { "pipe2", "pipe2(fds, flags)", false, 1, {
		FLAGS_FIELD(F_FLAGS, pipe2_names, "O_NONBLOCK, O_CLOEXEC, O_DIRECT"),
	} },
	[OP_EVENTFD] = { "eventfd", "eventfd(initval, flags)", false, 2, {
		{ F_INITVAL, "initval", FK_U32, DEF_VALUE, 0, 0, UINT_MAX, NULL,
		  "initial counter" },
		FLAGS_FIELD(F_FLAGS, eventfd_names, "EFD_NONBLOCK, EFD_SEMAPHORE, EFD_CLOEXEC"),
	} },
	[OP_SOCKETPAIR] = { "socketpair", "socketpair(AF_UNIX, type, 0, fds)", false, 1, {
		{ F_TYPE, "type", FK_ENUM, DEF_VALUE, SOCK_STREAM, INT_MIN, INT_MAX,
		  socket_type_names,
		  "SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET, or-ed with SOCK_NONBLOCK, SOCK_CLOEXEC" },
	} },
	[OP_DUP] = { "dup", "dup(fd)", false, 1, {
		FD_FIELD(F_FD, "fd", "the descriptor to duplicate"),
	} },
	[OP_DUP2] = { "dup2", "dup2(fd, newfd)", false, 2, {
		FD_FIELD(F_FD, "fd", "the descriptor to duplicate"),
		FD_FIELD(F_NEWFD, "newfd", "the number to install it at"),
	} },
	[OP_DUP3] = { "dup3", "dup3(fd, newfd, flags)", false, 3, {
		FD_FIELD(F_FD, "fd", "the descriptor to duplicate"),
		FD_FIELD(F_NEWFD, "newfd", "the number to install it at"),
		FLAGS_FIELD(F_FLAGS, dup3_names, "O_CLOEXEC; others EINVAL"),
	} },
	[OP_CLOSE] = { "close", "close(fd)", false, 1, {
		FD_FIELD(F_FD, "fd", "the descriptor to close"),
	} },
	[OP_WRITE] = { "write", "write(fd, buf, len)", true, 3, {
		FD_FIELD(F_FD, "fd", "where to write"),
		{ F_LEN, "len", FK_COUNT, DEF_RUNTIME, 1, 0, MAX_IO_LEN, NULL,
		  "bytes to write (default 1; 8 on an eventfd)" },
		{ F_VALUE, "value", FK_U64, DEF_VALUE, 1, INT64_MIN, INT64_MAX, NULL,
		  "on an eventfd: the 8-byte value written" },
	} },
	[OP_READ] = { "read", "read(fd, buf, len)", true, 2, {
		FD_FIELD(F_FD, "fd", "where to read from"),
		{ F_LEN, "len", FK_COUNT, DEF_RUNTIME, 4096, 0, MAX_IO_LEN, NULL,
		  "buffer size (default 4096; 8 on an eventfd)" },
	} },
	[OP_SHUTDOWN] = { "shutdown", "shutdown(fd, how)", false, 2, {
		FD_FIELD(F_FD, "fd", "a socket"),
		{ F_HOW, "how", FK_ENUM, DEF_REQUIRED, 0, INT_MIN, INT_MAX, shutdown_names,
		  "SHUT_RD, SHUT_WR or SHUT_RDWR" },
	} },
	[OP_SLEEP] = { "sleep", "(advances the virtual clock)", false, 1, {
		{ F_MS, "ms", FK_COUNT, DEF_VALUE, 1, 0, INT_MAX, NULL,
		  "virtual milliseconds" },
	} },
	[OP_EPOLL_PWAIT] = { "epoll_pwait",
			     "epoll_pwait(epfd, buf, maxevents, timeout, NULL)", true, 3, {
		FD_FIELD(F_EPFD, "epfd", "the epoll instance"),
		INT_FIELD(F_MAXEVENTS, "maxevents", 16, "<= 0 is EINVAL"),
		INT_FIELD(F_TIMEOUT, "timeout", -1,
			  "virtual ms; -1 forever, 0 poll once"),
	} },
	[OP_EPOLL_PWAIT2] = { "epoll_pwait2",
			      "epoll_pwait2(epfd, buf, maxevents, &timeout, NULL)", true, 3, {
		FD_FIELD(F_EPFD, "epfd", "the epoll instance"),
		INT_FIELD(F_MAXEVENTS, "maxevents", 16, "<= 0 is EINVAL"),
		/* INT64_MIN is left out: the C reproducer's mark for "absent" */
		{ F_TIMEOUT_NS, "timeout_ns", FK_INT, DEF_RUNTIME, 0, -INT64_MAX, INT64_MAX,
		  NULL, "virtual ns as the timespec {ns / 10^9, ns % 10^9}; absent: NULL, "
			"forever; 0 poll once; negative EINVAL" },
	} },
	[OP_CLOSE_RANGE] = { "close_range", "close_range(first, last, flags)", false, 3, {
		FD_FIELD(F_FIRST, "first", "the lowest fd to close (an unsigned int)"),
		FD_FIELD(F_LAST, "last", "the highest (an unsigned int: -1 is ~0U, every fd)"),
		FLAGS_FIELD(F_FLAGS, close_range_names,
			    "CLOSE_RANGE_CLOEXEC (only marks them), CLOSE_RANGE_UNSHARE "
			    "(a thread of process 0 gets a copy of the table first); "
			    "others EINVAL"),
	} },
	[OP_FCNTL] = { "fcntl", "fcntl(fd, cmd, arg)", false, 3, {
		FD_FIELD(F_FD, "fd", "the descriptor"),
		{ F_CMD, "cmd", FK_ENUM, DEF_REQUIRED, 0, INT_MIN, INT_MAX, fcntl_cmd_names,
		  "F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD or F_DUPFD_CLOEXEC; a "
		  "negative number is EINVAL; other commands are not run (unsupported)" },
		{ F_ARG, "arg", FK_FLAGS, DEF_VALUE, 0, INT_MIN, UINT_MAX, fcntl_arg_names,
		  "F_SETFL: O_NONBLOCK, O_APPEND, O_DIRECT, O_NOATIME, O_ASYNC; "
		  "F_SETFD: FD_CLOEXEC; F_DUPFD*: the lowest fd wanted" },
	} },
	[OP_FORK] = { "fork", "fork() (the child process runs thread child)", false, 1, {
		{ F_CHILD, "child", FK_COUNT, DEF_REQUIRED, 0, 0, MAX_THREADS - 1, NULL,
		  "the thread that becomes the new process's only thread (not used "
		  "before); the new process's fd table is a copy of t's process's" },
	} },
	[OP_EXIT] = { "exit", "_exit(0) (of t's process, started by a fork)", false, 0, {
	} },
};

const struct op_desc *op_desc_by_name(const char *name)
{
	for (unsigned k = 0; k < OP_KIND_COUNT; k++)
		if (strcmp(op_table[k].name, name) == 0)
			return &op_table[k];
	return NULL;
}

const struct field_desc *op_field(enum op_kind kind, enum field_id id)
{
	const struct op_desc *d = &op_table[kind];

	for (unsigned i = 0; i < d->nfields; i++)
		if (d->fields[i].id == id)
			return &d->fields[i];
	return NULL;
}

const char *field_name(enum field_id id)
{
	return field_names_[id];
}

uint64_t op_data(const struct op *op)
{
	if (op_has(op, F_DATA))
		return (uint64_t)op->f[F_DATA];
	return (uint64_t)(int64_t)(int)op->f[F_FD];
}

size_t op_io_len(const struct op *op, bool on_eventfd)
{
	if (op_has(op, F_LEN))
		return (size_t)op->f[F_LEN];
	if (on_eventfd)
		return 8;
	return (size_t)op_field(op->kind, F_LEN)->def;
}

void op_init(struct op *op, enum op_kind kind, unsigned thread)
{
	const struct op_desc *d = &op_table[kind];

	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	op->t = (uint8_t)thread;
	for (unsigned i = 0; i < d->nfields; i++)
		op->f[d->fields[i].id] = d->fields[i].def;
}

bool op_is_epoll_wait(unsigned kind)
{
	return kind == OP_EPOLL_WAIT || kind == OP_EPOLL_PWAIT || kind == OP_EPOLL_PWAIT2;
}

enum wait_timeout op_wait_timeout(const struct op *op, uint64_t *ms)
{
	int64_t ns;
	int timeout;

	*ms = 0;
	if (op->kind != OP_EPOLL_PWAIT2) {
		/* ep_timeout_to_timespec(): an int of ms, any negative forever */
		timeout = (int)op->f[F_TIMEOUT];
		if (timeout == 0)
			return WAIT_POLL;
		if (timeout < 0)
			return WAIT_FOREVER;
		*ms = (uint64_t)timeout;
		return WAIT_TIMED;
	}
	/* do_epoll_pwait2(): no timespec is forever; poll_select_set_timeout()
	 * refuses an invalid one, takes {0, 0} as a poll */
	if (!op_has(op, F_TIMEOUT_NS))
		return WAIT_FOREVER;
	ns = op->f[F_TIMEOUT_NS];
	if (ns < 0)
		return WAIT_EINVAL;
	if (ns == 0)
		return WAIT_POLL;
	*ms = (uint64_t)ns / 1000000 + ((uint64_t)ns % 1000000 != 0);
	return WAIT_TIMED;
}

bool fcntl_cmd_runs(int64_t cmd)
{
	switch ((int)cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
	case F_GETFD:
	case F_SETFD:
	case F_GETFL:
	case F_SETFL:
		return true;
	default:
		return (int)cmd < 0;
	}
}

bool close_range_unshares(const struct op *op)
{
	uint32_t flags = (uint32_t)op->f[F_FLAGS];

	return op->kind == OP_CLOSE_RANGE && (flags & CLOSE_RANGE_UNSHARE) &&
	       !(flags & ~(uint32_t)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	       (uint32_t)op->f[F_FIRST] <= (uint32_t)op->f[F_LAST];
}

/* Ops that only make new fds (or a new number for one) change no file's
 * state, so they wake no sleeper: nothing needs settling after them. */
bool op_may_wake(const struct op *op)
{
	switch ((enum op_kind)op->kind) {
	case OP_EPOLL_CREATE:
	case OP_EPOLL_CREATE1:
	case OP_PIPE2:
	case OP_EVENTFD:
	case OP_SOCKETPAIR:
	case OP_DUP:
	case OP_FORK: /* takes a reference on every file, releases none */
	case OP_FCNTL: /* and a flag changed (setfl) wakes nobody either */
		return false;
	default:
		return true;
	}
}
