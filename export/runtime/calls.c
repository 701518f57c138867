/*
 * calls.c - how each op is made, with the system call numbers the oracle
 * uses (oracle/call.c), in one section per op.
 *
 * The exporter copies the part before the first section into every
 * reproducer, then the section of each op the trace uses; a comment line
 * "op: NAME" starts a section.  A call gets its op's fields as struct
 * NAME_args, which the exporter generates from epollfuzz's op table just
 * before this file, so this file compiles only inside a reproducer
 * (tests/export/meson.build builds one that uses every op).  A call
 * returns the syscall's value and leaves errno as the call left it.
 */
#include "repro.h"

/* (MAYBE_UNUSED: a trace uses only some of them) */

/*
 * This program's own fds (the original stdout, /dev/null, the threads'
 * /proc files) live at HIGH_FD and above, past RLIMIT_NOFILE = fd_limit.
 * The trace must see nothing open there, so such numbers are passed as -1,
 * which fails exactly where any fd that is not open fails.
 */
static MAYBE_UNUSED int hide(long long fd)
{
	return fd >= fd_limit ? -1 : (int)fd;
}

/* dup2/dup3 test oldfd == newfd first, on the numbers passed: keep the
 * equality (or inequality) the trace asked for while hiding. */
static MAYBE_UNUSED void hide_pair(long long fd, long long newfd, int *hfd,
				   int *hnewfd)
{
	*hnewfd = (int)newfd;
	if (newfd == fd)
		*hfd = *hnewfd = hide(fd);
	else if ((*hfd = hide(fd)) == *hnewfd)
		*hfd = -2; /* just as closed, and still unequal */
}

static MAYBE_UNUSED bool is_eventfd(int fd)
{
	static const char name[] = "anon_inode:[eventfd]";
	char path[48], link[sizeof(name)];
	ssize_t n;

	if (fd < 0)
		return false;
	/* the calling thread's table, which may be one it unshared */
	snprintf(path, sizeof(path), "/proc/thread-self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	return n == (ssize_t)sizeof(name) - 1 && memcmp(link, name, (size_t)n) == 0;
}

/* A read or write may sleep only on an open fd without O_NONBLOCK. */
static MAYBE_UNUSED bool may_sleep(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && !(fl & O_NONBLOCK);
}

static MAYBE_UNUSED size_t io_len(long long len, bool on_eventfd,
				  size_t otherwise)
{
	if (len >= 0)
		return (size_t)len;
	return on_eventfd ? 8 : otherwise;
}

static MAYBE_UNUSED void set_fds(struct call_result *r, const int fds[2])
{
	r->has_fds = true;
	r->fds[0] = fds[0];
	r->fds[1] = fds[1];
}

/* Grows a buffer to n elements of size sz (at least one); false when out
 * of memory, leaving it as it was. */
static MAYBE_UNUSED bool grow(void **buf, size_t *have, size_t n, size_t sz)
{
	void *p;

	n = n ? n : 1;
	if (n <= *have)
		return true;
	if (!(p = realloc(*buf, n * sz)))
		return false;
	*buf = p;
	*have = n;
	return true;
}

/*
 * epoll_wait's buffer: maxevents entries, as the call may fill.  A count
 * the kernel refuses (<= 0, or above INT_MAX / sizeof(struct epoll_event))
 * is EINVAL before anything is written, so one entry is enough then.
 * (valgrind checks maxevents entries before any call, and reports a
 * refused count such as -1 as unaddressable: nothing can be allocated for
 * that, and the call must still be made as the trace says.)
 */
static MAYBE_UNUSED struct epoll_event *events_buffer(struct buffers *b,
						      long long maxevents)
{
	long long most = INT32_MAX / (long long)sizeof(struct epoll_event);
	size_t n = maxevents > 0 && maxevents <= most ? (size_t)maxevents : 1;

	if (!grow((void **)&b->events, &b->nevents, n, sizeof(*b->events)))
		return NULL;
	return b->events;
}

static MAYBE_UNUSED unsigned char *read_buffer(struct buffers *b, size_t len)
{
	if (!grow((void **)&b->rbuf, &b->rlen, len, 1))
		return NULL;
	return b->rbuf;
}

/* The bytes written are not chosen by the trace: a fixed pattern. */
static MAYBE_UNUSED void fill_pattern(unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)('a' + i % 26);
}

/* len bytes of the pattern, with room for an eventfd's 8-byte value. */
static MAYBE_UNUSED unsigned char *write_buffer(struct buffers *b, size_t len)
{
	size_t had = b->wlen;

	if (!grow((void **)&b->wbuf, &b->wlen, len > 8 ? len : 8, 1))
		return NULL;
	if (b->wlen > had)
		fill_pattern(b->wbuf, b->wlen);
	return b->wbuf;
}

/* A call that cannot be made: the runtime reports it and gives up. */
static MAYBE_UNUSED long cannot(struct call_result *r, const char *why)
{
	r->trouble = why;
	errno = ENOMEM;
	return -1;
}

/* op: epoll_create */
static long call_epoll_create(const union args *arg, struct buffers *b,
			      struct call_result *r)
{
	(void)b;
	(void)r;
	return syscall(SYS_epoll_create, (int)arg->epoll_create.size);
}

static const struct op_kind op_epoll_create = { .call = call_epoll_create };

/* op: epoll_create1 */
static long call_epoll_create1(const union args *arg, struct buffers *b,
			       struct call_result *r)
{
	(void)b;
	(void)r;
	return syscall(SYS_epoll_create1, (int)arg->epoll_create1.flags);
}

static const struct op_kind op_epoll_create1 = { .call = call_epoll_create1 };

/* op: epoll_ctl */
static long call_epoll_ctl(const union args *arg, struct buffers *b,
			   struct call_result *r)
{
	const struct epoll_ctl_args *a = &arg->epoll_ctl;
	struct epoll_event ev = {
		.events = (uint32_t)a->events,
		.data.u64 = (uint64_t)a->data,
	};

	(void)b;
	(void)r;
	return syscall(SYS_epoll_ctl, hide(a->epfd), (int)a->ctl, hide(a->fd), &ev);
}

static const struct op_kind op_epoll_ctl = { .call = call_epoll_ctl };

/* op: epoll_wait */
/* A finite timeout runs on the virtual clock: the call waits forever, and
 * a sleep step that passes the deadline interrupts it. */
static long call_epoll_wait(const union args *arg, struct buffers *b,
			    struct call_result *r)
{
	const struct epoll_wait_args *a = &arg->epoll_wait;
	struct epoll_event *events = events_buffer(b, a->maxevents);
	long n;

	if (!events)
		return cannot(r, "out of memory for epoll_wait's events");
	n = syscall(SYS_epoll_wait, hide(a->epfd), events, (int)a->maxevents,
		    a->timeout > 0 ? -1 : (int)a->timeout);
	r->has_events = n >= 0;
	r->nevents = n > 0 ? (int)n : 0;
	return n;
}

static long blocks_in_epoll_wait(const union args *arg, long long *timeout_ms)
{
	const struct epoll_wait_args *a = &arg->epoll_wait;

	*timeout_ms = a->timeout > 0 ? a->timeout : 0;
	return a->timeout != 0 ? SYS_epoll_wait : -1;
}

static const struct op_kind op_epoll_wait = {
	.call = call_epoll_wait, .blocks_in = blocks_in_epoll_wait
};

/* op: pipe2 */
static long call_pipe2(const union args *arg, struct buffers *b,
		       struct call_result *r)
{
	int fds[2];
	long ret = syscall(SYS_pipe2, fds, (int)arg->pipe2.flags);

	(void)b;
	if (ret == 0)
		set_fds(r, fds);
	return ret;
}

static const struct op_kind op_pipe2 = { .call = call_pipe2 };

/* op: eventfd */
static long call_eventfd(const union args *arg, struct buffers *b,
			 struct call_result *r)
{
	const struct eventfd_args *a = &arg->eventfd;

	(void)b;
	(void)r;
	return syscall(SYS_eventfd2, (unsigned)a->initval, (int)a->flags);
}

static const struct op_kind op_eventfd = { .call = call_eventfd };

/* op: socketpair */
static long call_socketpair(const union args *arg, struct buffers *b,
			    struct call_result *r)
{
	int fds[2];
	long ret = syscall(SYS_socketpair, AF_UNIX, (int)arg->socketpair.type, 0, fds);

	(void)b;
	if (ret == 0)
		set_fds(r, fds);
	return ret;
}

static const struct op_kind op_socketpair = { .call = call_socketpair };

/* op: dup */
static long call_dup(const union args *arg, struct buffers *b,
		     struct call_result *r)
{
	(void)b;
	(void)r;
	return syscall(SYS_dup, hide(arg->dup.fd));
}

static const struct op_kind op_dup = { .call = call_dup };

/* op: dup2 */
static long call_dup2(const union args *arg, struct buffers *b,
		      struct call_result *r)
{
	int fd, newfd;

	(void)b;
	(void)r;
	hide_pair(arg->dup2.fd, arg->dup2.newfd, &fd, &newfd);
	return syscall(SYS_dup2, fd, newfd);
}

static const struct op_kind op_dup2 = { .call = call_dup2 };

/* op: dup3 */
static long call_dup3(const union args *arg, struct buffers *b,
		      struct call_result *r)
{
	const struct dup3_args *a = &arg->dup3;
	int fd, newfd;

	(void)b;
	(void)r;
	hide_pair(a->fd, a->newfd, &fd, &newfd);
	return syscall(SYS_dup3, fd, newfd, (int)a->flags);
}

static const struct op_kind op_dup3 = { .call = call_dup3 };

/* op: close */
static long call_close(const union args *arg, struct buffers *b,
		       struct call_result *r)
{
	(void)b;
	(void)r;
	return syscall(SYS_close, hide(arg->close.fd));
}

static const struct op_kind op_close = { .call = call_close };

/* op: write */
static long call_write(const union args *arg, struct buffers *b,
		       struct call_result *r)
{
	const struct write_args *a = &arg->write;
	int fd = hide(a->fd);
	bool on_eventfd = is_eventfd(fd);
	size_t len = io_len(a->len, on_eventfd, write_len_default);
	uint64_t value = (uint64_t)a->value;
	unsigned char *buf = write_buffer(b, len);
	long ret;

	if (!buf)
		return cannot(r, "out of memory for write's bytes");
	if (!on_eventfd)
		return syscall(SYS_write, fd, buf, len);
	/* An eventfd takes its 8-byte value from the start of the buffer. */
	memcpy(buf, &value, sizeof(value));
	ret = syscall(SYS_write, fd, buf, len);
	fill_pattern(buf, sizeof(value)); /* keeps errno */
	return ret;
}

static long blocks_in_write(const union args *arg, long long *timeout_ms)
{
	(void)timeout_ms;
	return may_sleep(hide(arg->write.fd)) ? SYS_write : -1;
}

static const struct op_kind op_write = {
	.call = call_write, .blocks_in = blocks_in_write
};

/* op: read */
static long call_read(const union args *arg, struct buffers *b,
		      struct call_result *r)
{
	const struct read_args *a = &arg->read;
	int fd = hide(a->fd);
	bool on_eventfd = is_eventfd(fd);
	size_t len = io_len(a->len, on_eventfd, read_len_default);
	unsigned char *buf = read_buffer(b, len);
	long ret;

	if (!buf)
		return cannot(r, "out of memory for read's bytes");
	ret = syscall(SYS_read, fd, buf, len);
	if (on_eventfd && ret == 8) {
		r->has_value = true;
		memcpy(&r->value, buf, 8);
	}
	return ret;
}

static long blocks_in_read(const union args *arg, long long *timeout_ms)
{
	(void)timeout_ms;
	return may_sleep(hide(arg->read.fd)) ? SYS_read : -1;
}

static const struct op_kind op_read = {
	.call = call_read, .blocks_in = blocks_in_read
};

/* op: shutdown */
static long call_shutdown(const union args *arg, struct buffers *b,
			  struct call_result *r)
{
	(void)b;
	(void)r;
	return syscall(SYS_shutdown, hide(arg->shutdown.fd), (int)arg->shutdown.how);
}

static const struct op_kind op_shutdown = { .call = call_shutdown };

/* op: epoll_pwait */
/* epoll_wait's, made as epoll_pwait with no signal mask. */
static long call_epoll_pwait(const union args *arg, struct buffers *b,
			     struct call_result *r)
{
	const struct epoll_pwait_args *a = &arg->epoll_pwait;
	struct epoll_event *events = events_buffer(b, a->maxevents);
	long n;

	if (!events)
		return cannot(r, "out of memory for epoll_pwait's events");
	n = syscall(SYS_epoll_pwait, hide(a->epfd), events, (int)a->maxevents,
		    a->timeout > 0 ? -1 : (int)a->timeout, NULL, (size_t)8);
	r->has_events = n >= 0;
	r->nevents = n > 0 ? (int)n : 0;
	return n;
}

static long blocks_in_epoll_pwait(const union args *arg, long long *timeout_ms)
{
	const struct epoll_pwait_args *a = &arg->epoll_pwait;

	*timeout_ms = a->timeout > 0 ? a->timeout : 0;
	return a->timeout != 0 ? SYS_epoll_pwait : -1;
}

static const struct op_kind op_epoll_pwait = {
	.call = call_epoll_pwait, .blocks_in = blocks_in_epoll_pwait
};

/* op: epoll_pwait2 */
/* timeout_ns is the timespec {ns / 10^9, ns % 10^9}: negative is invalid
 * (EINVAL before anything else), 0 polls; a finite one runs on the virtual
 * clock, its deadline the first whole ms at or after it, so the call gets
 * no timespec (it waits forever) and a sleep step interrupts it; so does
 * a trace that leaves it out (NO_TIMEOUT_NS). */
static long call_epoll_pwait2(const union args *arg, struct buffers *b,
			      struct call_result *r)
{
	const struct epoll_pwait2_args *a = &arg->epoll_pwait2;
	struct epoll_event *events = events_buffer(b, a->maxevents);
	struct timespec ts = { 0, 0 };
	long n;

	if (!events)
		return cannot(r, "out of memory for epoll_pwait2's events");
	if (a->timeout_ns < 0 && a->timeout_ns != NO_TIMEOUT_NS) {
		ts.tv_sec = (time_t)(a->timeout_ns / 1000000000);
		ts.tv_nsec = (long)(a->timeout_ns % 1000000000);
	}
	n = syscall(SYS_epoll_pwait2, hide(a->epfd), events, (int)a->maxevents,
		    a->timeout_ns > 0 || a->timeout_ns == NO_TIMEOUT_NS ? NULL : &ts,
		    NULL, (size_t)8);
	r->has_events = n >= 0;
	r->nevents = n > 0 ? (int)n : 0;
	return n;
}

static long blocks_in_epoll_pwait2(const union args *arg, long long *timeout_ms)
{
	long long ns = arg->epoll_pwait2.timeout_ns;

	*timeout_ms = ns > 0 ? ns / 1000000 + (ns % 1000000 != 0) : 0;
	return ns > 0 || ns == NO_TIMEOUT_NS ? SYS_epoll_pwait2 : -1;
}

static const struct op_kind op_epoll_pwait2 = {
	.call = call_epoll_pwait2, .blocks_in = blocks_in_epoll_pwait2
};

/* op: close_range */
/*
 * The range stays inside the trace's fd space, as the executor keeps it:
 * this program's own fds live at HIGH_FD and above, past fd_limit, where
 * the trace can have nothing open, and nothing is open at fd_limit itself.
 * A range that passes the kernel's checks gets both ends clamped to
 * fd_limit: the same trace fds are closed, none of ours.  first > last
 * goes as it is (EINVAL before any fd is touched).  A call that unshares
 * (CLOSE_RANGE_UNSHARE past the checks) is made by the thread's own
 * pthread, which works on its copy of the table from then on.
 */
static long call_close_range(const union args *arg, struct buffers *b,
			     struct call_result *r)
{
	const struct close_range_args *a = &arg->close_range;
	unsigned first = (unsigned)a->first, last = (unsigned)a->last;
	unsigned flags = (unsigned)a->flags;

	(void)b;
	(void)r;
	if (first <= last) {
		if (first > (unsigned)fd_limit)
			first = (unsigned)fd_limit;
		if (last > (unsigned)fd_limit)
			last = (unsigned)fd_limit;
	}
	return syscall(SYS_close_range, first, last, flags);
}

/* __close_range(): the flag, once the flags and the range pass. */
static bool unshares_close_range(const union args *arg)
{
	const struct close_range_args *a = &arg->close_range;
	unsigned flags = (unsigned)a->flags;

	return (flags & CLOSE_RANGE_UNSHARE) &&
	       !(flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	       (unsigned)a->first <= (unsigned)a->last;
}

static const struct op_kind op_close_range = {
	.call = call_close_range, .unshares = unshares_close_range
};

/* op: fcntl */
/* The commands epollfuzz runs: the six below, and negative numbers (no
 * command: EINVAL).  It records no other (they may write to memory at arg
 * or signal a process). */
static long call_fcntl(const union args *arg, struct buffers *b,
		       struct call_result *r)
{
	const struct fcntl_args *a = &arg->fcntl;
	int cmd = (int)a->cmd;

	(void)b;
	if (cmd >= 0 && cmd != F_GETFL && cmd != F_SETFL && cmd != F_GETFD &&
	    cmd != F_SETFD && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return cannot(r, "an fcntl command epollfuzz does not run");
	return syscall(SYS_fcntl, hide(a->fd), cmd, (long)a->arg);
}

static const struct op_kind op_fcntl = { .call = call_fcntl };

/* op: sleep */
/* No syscall: the runtime moves the virtual clock. */
static long long advance_sleep(const union args *arg)
{
	return arg->sleep.ms;
}

static const struct op_kind op_sleep = { .advance_ms = advance_sleep };

/* op: fork */
/* Made by whichever task makes the forking thread's calls, so that the
 * copy is of that thread's fd table (start_process, in runtime.c). */
static long call_fork(const union args *arg, struct buffers *b,
		      struct call_result *r)
{
	(void)b;
	return start_process((unsigned)arg->fork.child, r);
}

static unsigned child_of_fork(const union args *arg)
{
	return (unsigned)arg->fork.child;
}

static const struct op_kind op_fork = {
	.call = call_fork, .child = child_of_fork
};

/* op: exit */
/* No call: the runtime tells the thread's process to end, and reaps it. */
static const struct op_kind op_exit = { .exits = true };
