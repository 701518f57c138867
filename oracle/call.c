/*
 * call.c - one operation as the real system call.
 *
 * Every op is made with syscall(2) and the number of the call the op table
 * names, so that what runs is the kernel's entry point and nothing of libc
 * (glibc's epoll_wait, for one, is epoll_pwait underneath).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441 /* x86-64; glibc before 2.35 lacks the name */
#endif

/* What the sigset argument of epoll_pwait and epoll_pwait2 would measure
 * (the kernel's sigset_t, _NSIG / 8); unread with a NULL sigmask. */
#define KERNEL_SIGSET_SIZE 8

/*
 * Arguments naming the executor's own fds.
 *
 * The executor keeps its descriptors at EXEC_FD_BASE and above, past the
 * programs' RLIMIT_NOFILE (FD_LIMIT); in the model nothing is open there,
 * so a program that names such a number must see a closed fd.  We pass -1
 * instead: every fd lookup in the kernel (fdget, files_lookup_fd_raw,
 * file_close_fd) compares the number as an unsigned int against the table
 * size, so -1 fails exactly where any number that is not open fails, at the
 * same point of the syscall's check order (epoll_ctl still checks epfd
 * before fd, epoll_wait still checks maxevents first, and so on).  Numbers
 * >= FD_LIMIT that are not ours are not open either, so hiding all of them
 * is just as truthful and needs no lookup.
 *
 * dup2/dup3's newfd is passed as given: ksys_dup3 answers EBADF for newfd >=
 * RLIMIT_NOFILE itself, before it touches the table.  Only their first test,
 * oldfd == newfd (dup3: EINVAL, dup2: oldfd's own validity), comes earlier,
 * and it must see what the program passed: when newfd equals a hidden oldfd
 * it is hidden too, and when newfd is -1 a hidden oldfd becomes -2 instead.
 */
static int hide(int64_t fd)
{
	return fd >= FD_LIMIT ? -1 : (int)fd;
}

/*
 * Whether a read or write treats fd as an eventfd: an 8-byte value, from
 * the start of the buffer.  fstat tells without a path walk: a pipe, a
 * socket or a character device (/dev/null on 0-2) has a file type, an
 * anonymous inode has none (alloc_anon_inode sets only the permission
 * bits), and the only anonymous-inode files a program can hold are its
 * eventfds and epoll instances, which share that one inode.  Taking an
 * epoll instance for an eventfd changes nothing: eventpoll_fops has no
 * read or write, so vfs_read and vfs_write answer EINVAL (no
 * FMODE_CAN_READ or FMODE_CAN_WRITE) before they look at the buffer or
 * the length.  (Asking /proc/thread-self/fd/N for "anon_inode:[eventfd]"
 * before every read and write was 6% of a campaign.)  An op that creates
 * another kind of anonymous-inode file must make this ask again.
 */
static bool is_eventfd(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0;
}

/* A read or write may sleep only on a description without O_NONBLOCK
 * (as it is now, just before the call: fcntl F_SETFL may have changed it
 * since the description was made); one that is not open fails at once. */
static bool may_sleep(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && !(fl & O_NONBLOCK);
}

/*
 * close_range's range, kept inside the programs' fd space.  The executor's
 * own fds (control channel, /dev/null, the workers' /proc files) live at
 * EXEC_FD_BASE and above, and close_range(3, ~0U) must not close them.
 * Nothing of a program's can be open at or above FD_LIMIT (its
 * RLIMIT_NOFILE), and nothing at all is open at FD_LIMIT itself (our own
 * fds start above it).  So a range that passes the kernel's checks gets
 * both ends clamped to FD_LIMIT: the same program fds are closed (or
 * marked) and no other, and the clamped range still passes the checks (min
 * keeps first <= last; an empty one stays a valid call that returns 0).
 * A range with first > last (unsigned) goes as it is: __close_range()
 * answers EINVAL before it touches any fd, as it does for unknown flags,
 * which go as they are.  The model clamps the same way (FD_LIMIT - 1: it
 * has nothing at FD_LIMIT either).
 */
static void close_range_args(const struct op *op, struct call *c)
{
	uint32_t first = (uint32_t)op->f[F_FIRST], last = (uint32_t)op->f[F_LAST];

	if (first <= last) {
		if (first > FD_LIMIT)
			first = FD_LIMIT;
		if (last > FD_LIMIT)
			last = FD_LIMIT;
	}
	c->first = first;
	c->last = last;
}

/* epoll_pwait2's timespec: none (NULL) for a wait without a timeout and
 * for a finite one, which runs on the virtual clock (the call waits forever
 * and a sleep op interrupts it); {0, 0} for a poll; an invalid one as the
 * trace gives it, {ns / 10^9, ns % 10^9}, which the kernel refuses first. */
static void pwait2_args(const struct op *op, struct call *c)
{
	int64_t ns = op->f[F_TIMEOUT_NS];
	uint64_t ms;

	switch (op_wait_timeout(op, &ms)) {
	case WAIT_FOREVER:
	case WAIT_TIMED:
		c->block_nr = SYS_epoll_pwait2;
		break;
	case WAIT_POLL:
		c->has_ts = true;
		break;
	case WAIT_EINVAL:
		c->has_ts = true;
		c->ts.tv_sec = (time_t)(ns / 1000000000);
		c->ts.tv_nsec = (long)(ns % 1000000000);
		break;
	}
}

void call_prepare(const struct op *op, struct call *c)
{
	int64_t fd = op->f[F_FD];

	memset(c, 0, sizeof(*c));
	c->op = op;
	c->block_nr = -1;
	switch ((enum op_kind)op->kind) {
	case OP_EPOLL_CTL:
		c->epfd = hide(op->f[F_EPFD]);
		c->fd = hide(fd);
		break;
	case OP_EPOLL_WAIT:
		c->epfd = hide(op->f[F_EPFD]);
		c->timeout = (int)op->f[F_TIMEOUT];
		if (c->timeout != 0) {
			/* Finite timeouts run on the virtual clock: the real
			 * call waits forever and a sleep op interrupts it. */
			if (c->timeout > 0)
				c->timeout = -1;
			c->block_nr = SYS_epoll_wait;
		}
		break;
	case OP_DUP2:
	case OP_DUP3:
		c->newfd = (int)op->f[F_NEWFD];
		if (c->newfd == fd)
			c->fd = c->newfd = hide(fd);
		else if ((c->fd = hide(fd)) == c->newfd)
			c->fd = -2; /* just as closed, and still unequal */
		break;
	case OP_READ:
	case OP_WRITE:
		c->fd = hide(fd);
		c->on_eventfd = is_eventfd(c->fd);
		c->len = op_io_len(op, c->on_eventfd);
		if (may_sleep(c->fd))
			c->block_nr = op->kind == OP_READ ? SYS_read : SYS_write;
		break;
	case OP_EPOLL_PWAIT: /* epoll_wait's, in another call */
		c->epfd = hide(op->f[F_EPFD]);
		c->timeout = (int)op->f[F_TIMEOUT];
		if (c->timeout != 0) {
			if (c->timeout > 0)
				c->timeout = -1;
			c->block_nr = SYS_epoll_pwait;
		}
		break;
	case OP_EPOLL_PWAIT2:
		c->epfd = hide(op->f[F_EPFD]);
		pwait2_args(op, c);
		break;
	case OP_CLOSE_RANGE:
		close_range_args(op, c);
		break;
	case OP_FCNTL:
		c->fd = hide(fd);
		if (!fcntl_cmd_runs(op->f[F_CMD]))
			c->refuse = "this fcntl command is not run: it may write to "
				    "memory at arg, signal a process or act outside "
				    "the program";
		break;
	case OP_DUP:
	case OP_CLOSE:
	case OP_SHUTDOWN:
		c->fd = hide(fd);
		break;
	case OP_EPOLL_CREATE:
	case OP_EPOLL_CREATE1:
	case OP_PIPE2:
	case OP_EVENTFD:
	case OP_SOCKETPAIR:
	case OP_SLEEP:
	case OP_FORK: /* the executor makes these itself (executor.c) */
	case OP_EXIT:
	case OP_KIND_COUNT:
		break;
	}
}

static long do_write(const struct call *c, struct call_buffers *b)
{
	if (!c->on_eventfd)
		return syscall(SYS_write, c->fd, b->wbuf, c->len);
	/* An eventfd reads its 8-byte value from the start of the buffer:
	 * this thread's own read buffer, as long as any (the pattern is
	 * shared and stays as it is). */
	memcpy(b->rbuf, &c->op->f[F_VALUE], 8);
	return syscall(SYS_write, c->fd, b->rbuf, c->len);
}

/*
 * A buffer of maxevents entries for epoll_wait, as a program would pass.
 * Up to CALL_MAX_EVENTS the preallocated one; beyond, a mapping grown to
 * fit (address space only: the kernel writes just the events it returns),
 * up to EP_MAX_EVENTS, past which ep_poll says EINVAL before any write.
 * Should the mapping fail, the small buffer goes: the kernel still writes
 * no more than it reports.
 */
static struct epoll_event *events_for(struct call_buffers *b, int maxevents)
{
	const size_t ep_max = INT_MAX / sizeof(struct epoll_event);
	size_t want = maxevents > 0 ? (size_t)maxevents : 0;
	void *map;

	b->events = b->small;
	if (want <= CALL_MAX_EVENTS || want > ep_max)
		return b->events;
	if (want > b->big_cap) {
		if (b->big)
			munmap(b->big, b->big_cap * sizeof(*b->big));
		b->big = NULL;
		b->big_cap = 0;
		map = mmap(NULL, want * sizeof(*b->big), PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED)
			return b->events;
		b->big = map;
		b->big_cap = want;
	}
	return b->events = b->big;
}

void call_run(const struct call *c, struct call_buffers *b,
	      struct call_result *r)
{
	const struct op *op = c->op;
	const int64_t *f = op->f;
	int fds[2] = { -1, -1 };
	long ret = 0;

	memset(r, 0, sizeof(*r));
	switch ((enum op_kind)op->kind) {
	case OP_EPOLL_CREATE:
		ret = syscall(SYS_epoll_create, (int)f[F_SIZE]);
		break;
	case OP_EPOLL_CREATE1:
		ret = syscall(SYS_epoll_create1, (int)f[F_FLAGS]);
		break;
	case OP_EPOLL_CTL: {
		struct epoll_event ev = {
			.events = (uint32_t)f[F_EVENTS],
			.data.u64 = op_data(op),
		};
		ret = syscall(SYS_epoll_ctl, c->epfd, (int)f[F_CTL], c->fd, &ev);
		break;
	}
	case OP_EPOLL_WAIT:
		ret = syscall(SYS_epoll_wait, c->epfd,
			      events_for(b, (int)f[F_MAXEVENTS]),
			      (int)f[F_MAXEVENTS], c->timeout);
		break;
	case OP_PIPE2:
		ret = syscall(SYS_pipe2, fds, (int)f[F_FLAGS]);
		break;
	case OP_EVENTFD: /* eventfd(3) is eventfd2 */
		ret = syscall(SYS_eventfd2, (unsigned)f[F_INITVAL], (int)f[F_FLAGS]);
		break;
	case OP_SOCKETPAIR:
		ret = syscall(SYS_socketpair, AF_UNIX, (int)f[F_TYPE], 0, fds);
		break;
	case OP_DUP:
		ret = syscall(SYS_dup, c->fd);
		break;
	case OP_DUP2:
		ret = syscall(SYS_dup2, c->fd, c->newfd);
		break;
	case OP_DUP3:
		ret = syscall(SYS_dup3, c->fd, c->newfd, (int)f[F_FLAGS]);
		break;
	case OP_CLOSE:
		ret = syscall(SYS_close, c->fd);
		break;
	case OP_WRITE:
		ret = do_write(c, b);
		break;
	case OP_READ:
		ret = syscall(SYS_read, c->fd, b->rbuf, c->len);
		break;
	case OP_SHUTDOWN:
		ret = syscall(SYS_shutdown, c->fd, (int)f[F_HOW]);
		break;
	case OP_EPOLL_PWAIT:
		ret = syscall(SYS_epoll_pwait, c->epfd,
			      events_for(b, (int)f[F_MAXEVENTS]),
			      (int)f[F_MAXEVENTS], c->timeout, NULL,
			      (size_t)KERNEL_SIGSET_SIZE);
		break;
	case OP_EPOLL_PWAIT2:
		ret = syscall(SYS_epoll_pwait2, c->epfd,
			      events_for(b, (int)f[F_MAXEVENTS]),
			      (int)f[F_MAXEVENTS], c->has_ts ? &c->ts : NULL, NULL,
			      (size_t)KERNEL_SIGSET_SIZE);
		break;
	case OP_CLOSE_RANGE:
		ret = syscall(SYS_close_range, c->first, c->last, (unsigned)f[F_FLAGS]);
		break;
	case OP_FCNTL:
		ret = syscall(SYS_fcntl, c->fd, (int)f[F_CMD], (long)f[F_ARG]);
		break;
	case OP_SLEEP:
	case OP_FORK: /* the executor makes these itself (executor.c) */
	case OP_EXIT:
	case OP_KIND_COUNT:
		break;
	}
	r->res.ret = ret;
	if (ret == -1) {
		r->res.err = errno;
		return;
	}
	switch ((enum op_kind)op->kind) {
	case OP_PIPE2:
	case OP_SOCKETPAIR:
		r->res.has |= RES_FDS;
		r->res.fds[0] = fds[0];
		r->res.fds[1] = fds[1];
		break;
	case OP_EPOLL_WAIT:
	case OP_EPOLL_PWAIT:
	case OP_EPOLL_PWAIT2:
		r->res.has |= RES_EVENTS;
		r->nevents = (uint32_t)ret;
		break;
	case OP_READ:
		if (c->on_eventfd && ret == 8) {
			r->res.has |= RES_VALUE;
			memcpy(&r->res.value, b->rbuf, 8);
		}
		break;
	default:
		break;
	}
}

int call_buffers_init(struct call_buffers *b, const unsigned char *pattern,
		      struct error *err)
{
	memset(b, 0, sizeof(*b));
	b->small = b->events = calloc(CALL_MAX_EVENTS, sizeof(*b->events));
	b->rbuf = malloc(MAX_IO_LEN);
	if (!pattern)
		pattern = b->own_wbuf = malloc(MAX_IO_LEN);
	if (!b->small || !b->rbuf || !pattern) {
		call_buffers_free(b);
		return fail(err, "out of memory for call buffers");
	}
	/* What is written is not chosen by the program: a fixed pattern,
	 * made once per executor (filling a megabyte for every forked child
	 * cost a tenth of a campaign). */
	for (size_t i = 0; b->own_wbuf && i < MAX_IO_LEN; i++)
		b->own_wbuf[i] = (unsigned char)('a' + i % 26);
	b->wbuf = pattern;
	return 0;
}

void call_buffers_free(struct call_buffers *b)
{
	if (b->big)
		munmap(b->big, b->big_cap * sizeof(*b->big));
	free(b->small);
	free(b->rbuf);
	free(b->own_wbuf);
	memset(b, 0, sizeof(*b));
}
