/*
 * recipes.c - fresh programs built to a plan.
 *
 * Random bytes draw the common shapes of programs well; a few shapes where
 * the kernel's limits and edge cases live are too rare to meet by chance in
 * a campaign's first minutes, however the weights are set, because they
 * take many ops that must agree with each other:
 *
 *   nest   instances nested in levels: ep_loop_check's chain of at most
 *          EP_MAX_NESTS + 1 instances and its loops (ELOOP), the wakeup
 *          paths reverse_path_check counts per length (at most 1000, 500,
 *          100, 50, 10: products of the fan-outs of the levels), a long
 *          tfile_check_list (many plain files below one instance);
 *   edge   one edge-triggered interest poked again and again, a wait after
 *          most pokes, with ops that wake a file's queue without changing
 *          its state (an eventfd write of 0, a zero-length write or read, a
 *          dup and close) beside ops that do;
 *   fill   a pipe's or socket's buffer written to its limit and drained
 *          again in pieces of many sizes, a wait between some of them: the
 *          byte counts at which a write comes up short or EAGAIN, and at
 *          which EPOLLOUT comes back, follow the kernel's accounting (pipe
 *          pages and merging, skb truesize against sk_sndbuf);
 *   procs  files and interests made, a fork (sometimes a fork by the
 *          child too), each process closing, duplicating (onto 0-2 too),
 *          close_range-ing and using its copies (a daemon's one end kept
 *          on 0-2 and close_range(3, ~0U)), exits: when the last
 *          reference of a file goes (EOF, EPIPE, HUP, an interest gone)
 *          depends on every table that held it (copy_files, close_files);
 *   crowd  several threads asleep on one object (a read of an empty pipe,
 *          a write to a full socket, a wait on one instance or on
 *          instances sharing a file, exclusively or not, a writer ahead of
 *          exclusive pollers), then the ops that wake some of them
 *          (nr_exclusive, wake order, races the schedule search covers);
 *   storm  dozens of wakeups that change nothing, then one that does;
 *   relay  one unit at a time handed to one of several readers, whose
 *          every round is a race the outcome shows.
 *
 * A recipe names fds by the numbers the fd simulation (fdsim.h) gives the
 * ops before it, as the decoder does; the encoder then bends the program
 * into the campaign's limits (thread count, blocking, profile) like any
 * other, and libFuzzer's own mutations take it from there.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "internal.h"

enum {
	NEST_MAX_EPOLLS = 14,
	NEST_MAX_FILES = 12,
	NEST_LEVELS = 6, /* one more than ep_loop_check allows in a chain */
	MAX_EDGES = 96,
	NEST_TAIL_OPS = 4, /* ops kept for pokes and waits after the links */
};

struct builder {
	struct rng *r;
	struct program *p;
	struct fd_sim sim;
	unsigned max_ops;
	unsigned threads;
	int made[2]; /* the fds the last op emitted made, lowest first */
};

static void set(struct op *op, enum field_id id, int64_t v)
{
	op->f[id] = v;
	op->present |= 1u << id;
}

static bool room(const struct builder *b, unsigned ops)
{
	return b->p->nops + ops <= b->max_ops;
}

/* Appends op, and notes the fds it makes; returns whether there was room. */
static bool emit(struct builder *b, const struct op *op)
{
	struct fd_sim before = b->sim;
	unsigned n = 0;

	if (!room(b, 1))
		return false;
	if (program_push(b->p, op, NULL) < 0)
		abort(); /* out of memory: a fuzzer cannot go on */
	fd_sim_apply(&b->sim, op);
	b->made[0] = b->made[1] = -1;
	for (int fd = 0; fd < b->sim.top && n < 2; fd++)
		if (b->sim.kind[fd] != before.kind[fd] &&
		    (FD_KIND_BIT(b->sim.kind[fd]) & FD_MADE_KINDS))
			b->made[n++] = fd;
	return true;
}

/* One field of an op as a builder gives it. */
struct field_value {
	enum field_id id;
	int64_t v;
};

/* An op of kind by thread t with the fields given (in that order), emitted. */
static bool emit_fields(struct builder *b, enum op_kind kind, unsigned t,
			const struct field_value *fv, unsigned n)
{
	struct op op;

	op_init(&op, kind, t);
	for (unsigned i = 0; i < n; i++)
		set(&op, fv[i].id, fv[i].v);
	return emit(b, &op);
}

#define EMIT(b, kind, t, ...) \
	emit_fields(b, kind, t, (const struct field_value[]){ __VA_ARGS__ }, \
		    ARRAY_LEN(((const struct field_value[]){ __VA_ARGS__ })))

static int64_t pick_of(struct rng *r, const int64_t *v, unsigned n)
{
	return v[rng_below(r, n)];
}

#define PICK(r, ...) \
	pick_of(r, (const int64_t[]){ __VA_ARGS__ }, \
		sizeof((const int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t))

/* ------------------------------------------------------------ the files */

/* A file to watch: the end an interest goes on, and the end its pokes
 * go to (the same fd for an eventfd, the other end of a pipe or socket
 * pair). */
struct watched {
	int fd, peer;
	enum fd_kind kind;
};

static bool make_epoll(struct builder *b, unsigned t, int *fd)
{
	struct op op;

	op_init(&op, OP_EPOLL_CREATE1, t);
	if (!emit(b, &op))
		return false;
	*fd = b->made[0];
	return true;
}

enum file_choice { EVENTFD_FILE, PIPE_FILE, SOCKET_FILE, FILE_CHOICES };

/* One file of kind k, non-blocking unless blocking is asked. */
static bool make_file_of(struct builder *b, enum file_choice k, bool blocking,
			 struct watched *w)
{
	struct rng *r = b->r;
	struct op op;

	memset(w, 0, sizeof(*w));
	if (k == EVENTFD_FILE) {
		op_init(&op, OP_EVENTFD, 0);
		set(&op, F_INITVAL, PICK(r, 0, 0, 1, 1, 2, 0xfffffffe));
		set(&op, F_FLAGS, blocking ? 0 : EFD_NONBLOCK);
		if (!emit(b, &op))
			return false;
		w->kind = FDK_EVENTFD;
		w->fd = w->peer = b->made[0];
	} else if (k == PIPE_FILE) {
		op_init(&op, OP_PIPE2, 0);
		set(&op, F_FLAGS, blocking ? 0 : O_NONBLOCK);
		if (!emit(b, &op))
			return false;
		w->kind = FDK_PIPE_R;
		w->fd = b->made[0]; /* pipe2 takes the lowest free fd first */
		w->peer = b->made[1];
		if (rng_percent(r, 25)) { /* watch the write end */
			int fd = w->fd;

			w->fd = w->peer;
			w->peer = fd;
			w->kind = FDK_PIPE_W;
		}
	} else {
		op_init(&op, OP_SOCKETPAIR, 0);
		set(&op, F_TYPE, PICK(r, SOCK_STREAM, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET) |
				 (blocking ? 0 : SOCK_NONBLOCK));
		if (!emit(b, &op))
			return false;
		w->kind = FDK_SOCKET;
		w->fd = b->made[rng_below(r, 2)];
		w->peer = b->made[0] ^ b->made[1] ^ w->fd;
	}
	return true;
}

/* One file of a kind drawn (or an eventfd when cheap is asked: one op,
 * one fd), non-blocking unless blocking is asked. */
static bool make_file(struct builder *b, bool cheap, bool blocking, struct watched *w)
{
	return make_file_of(b, cheap ? EVENTFD_FILE : rng_below(b->r, FILE_CHOICES), blocking, w);
}

/* -------------------------------------------------------------- the ops */

static void ctl_op(struct op *op, unsigned t, int epfd, int64_t how, int fd,
		   uint64_t events)
{
	op_init(op, OP_EPOLL_CTL, t);
	set(op, F_EPFD, epfd);
	set(op, F_CTL, how);
	set(op, F_FD, fd);
	if (how != EPOLL_CTL_DEL)
		set(op, F_EVENTS, (int64_t)events);
}

static bool ctl(struct builder *b, unsigned t, int epfd, int64_t how, int fd,
		uint64_t events)
{
	struct op op;

	ctl_op(&op, t, epfd, how, fd, events);
	return emit(b, &op);
}

static bool wait_on(struct builder *b, unsigned t, int epfd, int64_t maxevents,
		    int64_t timeout)
{
	return EMIT(b, OP_EPOLL_WAIT, t, { F_EPFD, epfd }, { F_MAXEVENTS, maxevents },
		    { F_TIMEOUT, timeout });
}

static bool on_fd(struct builder *b, enum op_kind kind, unsigned t, int fd)
{
	return EMIT(b, kind, t, { F_FD, fd });
}

static bool dup2_to(struct builder *b, unsigned t, int fd, int64_t newfd)
{
	return EMIT(b, OP_DUP2, t, { F_FD, fd }, { F_NEWFD, newfd });
}

static bool close_range_of(struct builder *b, unsigned t, int64_t first, int64_t last,
			   int64_t flags)
{
	return EMIT(b, OP_CLOSE_RANGE, t, { F_FIRST, first }, { F_LAST, last },
		    { F_FLAGS, flags });
}

/* A socket end shut down one way or both. */
static bool shut(struct builder *b, unsigned t, int fd)
{
	int64_t how = PICK(b->r, SHUT_RD, SHUT_WR, SHUT_RDWR);

	return EMIT(b, OP_SHUTDOWN, t, { F_FD, fd }, { F_HOW, how });
}

static bool setfl(struct builder *b, unsigned t, int fd, int64_t flags)
{
	return EMIT(b, OP_FCNTL, t, { F_FD, fd }, { F_CMD, F_SETFL }, { F_ARG, flags });
}

/* A write to fd (of a file of w's kind): for an eventfd a value that is 0
 * often (it changes no count yet wakes, eventfd_write), else a byte count
 * that is 0 now and then (a zero-length datagram is queued and wakes; a
 * pipe's or stream's zero write does nothing). */
static bool write_to(struct builder *b, unsigned t, int fd, enum fd_kind kind)
{
	struct rng *r = b->r;
	struct op op;

	op_init(&op, OP_WRITE, t);
	set(&op, F_FD, fd);
	if (kind == FDK_EVENTFD)
		set(&op, F_VALUE, PICK(r, 0, 0, 1, 1, 2, (int64_t)0xfffffffffffffffdull));
	else
		set(&op, F_LEN, PICK(r, 0, 1, 1, 8, 4096, 65536, 212992));
	return emit(b, &op);
}

static bool poke_write(struct builder *b, unsigned t, const struct watched *w)
{
	return write_to(b, t, w->peer, w->kind);
}

static bool read_len(struct builder *b, unsigned t, int fd, int64_t len)
{
	struct op op;

	op_init(&op, OP_READ, t);
	set(&op, F_FD, fd);
	if (len >= 0)
		set(&op, F_LEN, len);
	return emit(b, &op);
}

/* A read of a few sizes (an eventfd's is its 8 bytes). */
static bool poke_read(struct builder *b, unsigned t, int fd, enum fd_kind kind)
{
	return read_len(b, t, fd, kind == FDK_EVENTFD ? -1 : PICK(b->r, 0, 1, 1, 4096, 65536));
}

/* One op on w that may or may not change what the interest sees. */
static bool poke(struct builder *b, unsigned t, int epfd, const struct watched *w,
		 uint64_t events)
{
	struct rng *r = b->r;
	int dup;

	switch (rng_below(r, 9)) {
	case 0:
	case 1:
	case 2:
		return poke_write(b, t, w);
	case 3:
		return poke_read(b, t, w->fd, w->kind);
	case 4:
		return poke_read(b, t, w->peer, w->kind);
	case 5: /* a second reference, dropped: nothing an interest sees */
		if (!room(b, 2) || !on_fd(b, OP_DUP, t, w->fd))
			return false;
		dup = b->made[0];
		return dup < 0 || on_fd(b, OP_CLOSE, t, dup);
	case 6: /* re-arm, as after a ONESHOT report */
		return ctl(b, t, epfd, EPOLL_CTL_MOD, w->fd, events);
	case 7:
		if (w->kind == FDK_SOCKET)
			return shut(b, t, rng_percent(r, 50) ? w->fd : w->peer);
		return poke_write(b, t, w);
	default:
		return setfl(b, t, w->fd, PICK(r, O_NONBLOCK, O_NONBLOCK | O_APPEND));
	}
}

static void shuffle(struct rng *r, struct op *ops, unsigned n)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = rng_below(r, i);
		struct op tmp = ops[i - 1];

		ops[i - 1] = ops[j];
		ops[j] = tmp;
	}
}

/* ------------------------------------------------------------------ nest */

/*
 * Instances in levels 1..NEST_LEVELS, plain files below level 1; each
 * instance joins each one of the next level with a chance drawn for the
 * program (sparse or dense fan-outs), a few links go anywhere (loops,
 * skipped levels), and the links are made in a random order, so that the
 * checks run with the structure half built, from below and from above.
 * Then a few pokes and waits send wakeups up the chains.
 */
static void recipe_nest(struct builder *b)
{
	struct rng *r = b->r;
	unsigned nfiles = 1 + rng_below(r, 3);
	unsigned neps = 3 + rng_below(r, NEST_MAX_EPOLLS - 2);
	unsigned dense = PICK(r, 25, 50, 100);
	int ep[NEST_MAX_EPOLLS];
	unsigned level[NEST_MAX_EPOLLS];
	struct watched files[NEST_MAX_FILES];
	struct op links[MAX_EDGES];
	unsigned nlinks = 0;

	if (rng_percent(r, 25)) /* more files than tfile_check_list's first 8 */
		nfiles = 9 + rng_below(r, NEST_MAX_FILES - 8);
	for (unsigned i = 0; i < nfiles; i++)
		if (!make_file(b, nfiles > 3, false, &files[i]))
			return;
	for (unsigned i = 0; i < neps; i++) {
		if (!make_epoll(b, 0, &ep[i]))
			return;
		level[i] = i == 0 ? 1 : 1 + rng_below(r, NEST_LEVELS);
	}
	for (unsigned i = 0; i < neps; i++)
		for (unsigned j = 0; j < neps; j++)
			if (level[j] == level[i] + 1 && nlinks < MAX_EDGES &&
			    rng_percent(r, dense))
				ctl_op(&links[nlinks++], 0, ep[j], EPOLL_CTL_ADD, ep[i], EPOLLIN);
	for (unsigned k = rng_below(r, 3); k > 0 && nlinks < MAX_EDGES; k--) {
		unsigned outer = rng_below(r, neps), inner = rng_below(r, neps);

		ctl_op(&links[nlinks++], 0, ep[outer], EPOLL_CTL_ADD, ep[inner], EPOLLIN);
	}
	for (unsigned i = 0; i < nfiles; i++)
		for (unsigned k = 1 + rng_below(r, 2); k > 0 && nlinks < MAX_EDGES; k--) {
			unsigned e = rng_below(r, neps);

			for (unsigned tries = 0; level[e] != 1 && tries < 4; tries++)
				e = rng_below(r, neps);
			ctl_op(&links[nlinks++], 0, ep[e], EPOLL_CTL_ADD, files[i].fd,
			       PICK(r, EPOLLIN, EPOLLIN, EPOLLIN | EPOLLET, EPOLLIN | EPOLLOUT));
		}
	shuffle(r, links, nlinks);
	for (unsigned i = 0; i < nlinks && room(b, NEST_TAIL_OPS); i++)
		emit(b, &links[i]);
	while (room(b, 1)) {
		const struct watched *w = &files[rng_below(r, nfiles)];

		if (rng_percent(r, 40)) {
			poke_write(b, 0, w);
		} else if (rng_percent(r, 20)) {
			unsigned outer = rng_below(r, neps), inner = rng_below(r, neps);

			ctl(b, 0, ep[outer], EPOLL_CTL_DEL, ep[inner], 0);
		} else {
			unsigned e = rng_below(r, neps);

			wait_on(b, 0, ep[e], PICK(r, 1, 2, 16), 0);
		}
		if (rng_percent(r, 15))
			break;
	}
}

/* ------------------------------------------------------------------ edge */

/* A wakeup with no key on w's queue, which every interest in w passes
 * whatever it asks for (ep_poll_callback tests a key only when there is
 * one): a socket's shutdown (sock_def_wakeup), or a pipe's other end
 * closed (pipe_release wakes both queues).  An eventfd has none. */
static bool keyless_wake(struct builder *b, unsigned t, const struct watched *w)
{
	if (w->kind == FDK_SOCKET)
		return shut(b, t, rng_percent(b->r, 75) ? w->fd : w->peer);
	if (w->kind == FDK_PIPE_R || w->kind == FDK_PIPE_W)
		return on_fd(b, OP_CLOSE, t, w->peer);
	return false;
}

/*
 * One or two files, each watched edge-triggered (sometimes by two
 * instances, or twice through a dup), an optional first event, then
 * pokes, most followed by a wait that returns at most one or two events
 * (a one-shot interest re-armed after a poke of the other file); with
 * more threads, one of them asleep in the wait from the start.
 */
static void recipe_edge(struct builder *b)
{
	struct rng *r = b->r;
	unsigned nfiles = 1 + rng_below(r, 2);
	struct watched files[2];
	uint64_t events[2];
	int epfd, epfd2 = -1;
	bool sleeper = b->threads > 1 && rng_percent(r, 50);

	for (unsigned i = 0; i < nfiles; i++)
		if (!make_file(b, false, false, &files[i]))
			return;
	if (!make_epoll(b, 0, &epfd))
		return;
	if (rng_percent(r, 25) && !make_epoll(b, 0, &epfd2))
		return;
	for (unsigned i = 0; i < nfiles; i++) {
		events[i] = EPOLLET | PICK(r, EPOLLIN, EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT,
					  EPOLLIN | EPOLLRDHUP);
		if (rng_percent(r, 25))
			events[i] |= EPOLLONESHOT;
		ctl(b, 0, epfd, EPOLL_CTL_ADD, files[i].fd, events[i]);
		if (epfd2 >= 0)
			ctl(b, 0, epfd2, EPOLL_CTL_ADD, files[i].fd, events[i]);
	}
	if (rng_percent(r, 60))
		poke_write(b, 0, &files[0]);
	wait_on(b, 0, epfd, PICK(r, 1, 2, 16), 0);
	if (sleeper)
		wait_on(b, 1, epfd, PICK(r, 1, 2), -1);
	while (room(b, 2)) {
		unsigned i = rng_below(r, nfiles);
		int on = epfd2 >= 0 && rng_percent(r, 50) ? epfd2 : epfd;

		poke(b, 0, epfd, &files[i], events[i]);
		/* a one-shot interest re-armed after the other file's turn,
		 * as a server re-arms one it has handled: ep_modify queues
		 * it at the tail, behind what the other file queued; before
		 * that, now and then, a wakeup of the disabled interest's
		 * file with no key, which only ep_poll_callback's test of a
		 * disabled item keeps off the ready list */
		if ((events[i] & EPOLLONESHOT) && nfiles == 2 && rng_percent(r, 50)) {
			if (rng_percent(r, 40))
				keyless_wake(b, 0, &files[i]);
			if (poke(b, 0, epfd, &files[!i], events[!i]))
				ctl(b, 0, epfd, EPOLL_CTL_MOD, files[i].fd, events[i]);
		}
		/* mostly a wait after each poke; sometimes a few pokes in a
		 * row, so that what one queued is still there for the next
		 * (a wait's scan drops items that poll nothing) */
		if (rng_percent(r, 65))
			wait_on(b, 0, on, PICK(r, 1, 1, 2, 16), 0);
		if (rng_percent(r, 8))
			break;
	}
}

/* ------------------------------------------------------------------ fill */

/*
 * Writes of many sizes until the buffer is full, reads of many sizes, waits
 * on an instance watching both ends (the writer's EPOLLOUT edge-triggered
 * half the time).
 */
static void recipe_fill(struct builder *b)
{
	struct rng *r = b->r;
	struct watched w;
	int epfd, wr, rd;
	bool closed = false;

	if (!make_file(b, false, false, &w) || !make_epoll(b, 0, &epfd))
		return;
	if (w.kind == FDK_EVENTFD) { /* a counter has no buffer: a pipe instead */
		struct op op;

		op_init(&op, OP_PIPE2, 0);
		set(&op, F_FLAGS, O_NONBLOCK);
		if (!emit(b, &op))
			return;
		w.kind = FDK_PIPE_R;
		w.fd = b->made[0];
		w.peer = b->made[1];
	}
	wr = w.kind == FDK_PIPE_W ? w.fd : w.peer;
	rd = w.kind == FDK_PIPE_W ? w.peer : w.fd;
	ctl(b, 0, epfd, EPOLL_CTL_ADD, wr, EPOLLOUT | (rng_percent(r, 50) ? EPOLLET : 0));
	if (rng_percent(r, 50))
		ctl(b, 0, epfd, EPOLL_CTL_ADD, rd, EPOLLIN | EPOLLRDHUP);
	while (room(b, 1)) {
		struct op op;
		unsigned what = rng_below(r, 100);

		if (what < 2 && !closed) {
			/* the writer goes: EOF, HUP, ECONNRESET if it had data unread */
			on_fd(b, OP_CLOSE, 0, wr);
			closed = true;
			continue;
		}
		if (what < 65 && !closed) {
			op_init(&op, OP_WRITE, 0);
			/* a socket's other end sends too, so that both have data */
			set(&op, F_FD, w.kind == FDK_SOCKET && what < 15 ? rd : wr);
			set(&op, F_LEN, PICK(r, 1, 7, 100, 512, 4095, 4096, 4097, 8192, 32768,
					     36544, 65536, 100000, 106496, 212992));
		} else {
			op_init(&op, OP_READ, 0);
			set(&op, F_FD, rd);
			set(&op, F_LEN, PICK(r, 1, 100, 4096, 36544, 65536, 212992));
		}
		emit(b, &op);
		if (rng_percent(r, 35))
			wait_on(b, 0, epfd, 2, 0);
	}
}

/* ----------------------------------------------------------------- procs */

/* One op of a process on the files it inherited. */
static bool process_op(struct builder *b, unsigned t, int epfd,
		       const struct watched *files, unsigned nfiles)
{
	struct rng *r = b->r;
	const struct watched *w = &files[rng_below(r, nfiles)];
	int fd = rng_percent(r, 50) ? w->fd : w->peer;
	int64_t first, last;

	switch (rng_below(r, 8)) {
	case 0:
	case 1:
		return on_fd(b, OP_CLOSE, t, fd);
	case 2:
		return dup2_to(b, t, fd, PICK(r, 0, 1, 2, w->fd, w->peer, 20));
	case 3:
		first = PICK(r, 0, 3, fd);
		last = PICK(r, -1, fd, 2);
		return close_range_of(b, t, first, last,
				      PICK(r, 0, 0, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE));
	case 4:
		return poke_write(b, t, w);
	case 5:
		return poke_read(b, t, w->fd, w->kind);
	case 6:
		return ctl(b, t, epfd, PICK(r, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD),
			   fd, EPOLLIN | EPOLLOUT);
	default:
		return wait_on(b, t, epfd, PICK(r, 1, 4), 0);
	}
}

/*
 * Thread 0 makes a few files and an instance watching them, then forks
 * thread 1 (and thread 1 forks thread 2 now and then); the processes take
 * turns at ops on what they share, each child exits at its end most of
 * the time, and thread 0 looks last: a wait, a read, a write.
 */
static void recipe_procs(struct builder *b)
{
	struct rng *r = b->r;
	unsigned nfiles = 1 + rng_below(r, 2), nprocs = 1;
	struct watched files[2];
	bool exited[MAX_THREADS] = { false };
	int epfd;
	struct op op;

	for (unsigned i = 0; i < nfiles; i++)
		if (!make_file(b, false, false, &files[i]))
			return;
	if (!make_epoll(b, 0, &epfd))
		return;
	for (unsigned i = 0; i < nfiles; i++)
		ctl(b, 0, epfd, EPOLL_CTL_ADD, files[i].fd,
		    PICK(r, EPOLLIN, EPOLLIN | EPOLLET, EPOLLIN | EPOLLOUT | EPOLLRDHUP));
	for (unsigned t = 1; t < b->threads && t < 3; t++) {
		if (t == 2 && rng_percent(r, 50))
			break;
		op_init(&op, OP_FORK, t == 2 && rng_percent(r, 50) ? 1 : 0);
		set(&op, F_CHILD, t);
		if (!emit(b, &op))
			return;
		nprocs = t + 1;
		if (rng_percent(r, 30) && room(b, 3)) {
			/* the daemon's idiom: keep one end on 0-2, close the
			 * rest (close_range(3, ~0U)); that end lives as long as
			 * the child does */
			int end = rng_percent(r, 50) ? files[0].peer : files[0].fd;

			dup2_to(b, t, end, PICK(r, 0, 1, 2));
			close_range_of(b, t, 3, -1, 0);
		}
		for (unsigned k = rng_below(r, 3); k > 0; k--)
			process_op(b, rng_below(r, nprocs), epfd, files, nfiles);
	}
	while (room(b, 4)) {
		unsigned t = rng_below(r, nprocs);

		if (t > 0 && !exited[t] && rng_percent(r, 12)) {
			op_init(&op, OP_EXIT, t);
			emit(b, &op);
			exited[t] = true;
		} else if (!exited[t]) {
			process_op(b, t, epfd, files, nfiles);
		}
		if (rng_percent(r, 6))
			break;
	}
	for (unsigned t = 1; t < nprocs; t++)
		if (!exited[t] && rng_percent(r, 80)) {
			op_init(&op, OP_EXIT, t);
			emit(b, &op);
		}
	wait_on(b, 0, epfd, 4, 0);
	poke_read(b, 0, files[0].fd, files[0].kind);
	poke_write(b, 0, &files[0]);
}

/* ----------------------------------------------------------------- crowd */

/* Fills the buffer behind wr (a blocking pipe or socket end) without
 * sleeping, so that the next write sleeps; an eventfd's count goes near
 * its top instead. */
static bool fill(struct builder *b, int wr, enum fd_kind kind)
{
	struct op op;

	op_init(&op, OP_WRITE, 0);
	set(&op, F_FD, wr);
	if (kind == FDK_EVENTFD) {
		set(&op, F_VALUE, (int64_t)0xfffffffffffffffdull);
		return emit(b, &op);
	}
	set(&op, F_LEN, PICK(b->r, 65536, 212992, 262144));
	return setfl(b, 0, wr, O_NONBLOCK) && emit(b, &op) && setfl(b, 0, wr, 0);
}

/*
 * The end of one of a file's ends, or of a range of fds: from the file's
 * lower end, or 3, to the highest of the crowd's files (mostly: the dups
 * above them live on), or every fd.  A
 * close_range runs its releases as task work, newest first, with
 * task_work_run()'s cond_resched() after each: a thread the first release
 * woke (a pipe's write end gone: HUP for its reader's waiters) may run
 * there, before the next release (a neighbour's peer) adds what it would
 * see.  A file whose last number the range closes polls nothing from then
 * on (its fput is queued), unless a dup keeps it; the instances, newer, go
 * first, and nothing of theirs wakes then.
 */
static bool release(struct builder *b, int rd, int wr, int hi, unsigned percent_close)
{
	struct rng *r = b->r;

	if (rng_percent(r, percent_close))
		return on_fd(b, OP_CLOSE, 0, rng_percent(r, 50) ? wr : rd);
	int64_t first = PICK(r, 3, rd < wr ? rd : wr);

	return close_range_of(b, 0, first, PICK(r, -1, hi, hi), 0);
}

/* A neighbour for a crowd's file: a second file in the same instance, and
 * each watched end kept by a dup, so that a range over the original
 * numbers ends both files' peers while their watched ends live on (the
 * server that closes its connections while workers wait). */
static bool neighbour(struct builder *b, int epfd, int watched, int *hi)
{
	struct watched x;

	if (!make_file(b, false, true, &x))
		return false;
	*hi = x.fd > x.peer ? x.fd : x.peer;
	if (x.kind == FDK_PIPE_W) /* its reader's side, like the crowd's */
		x.fd = x.peer;
	return ctl(b, 0, epfd, EPOLL_CTL_ADD, x.fd, EPOLLIN) && on_fd(b, OP_DUP, 0, watched) &&
	       on_fd(b, OP_DUP, 0, x.fd);
}

/* The readers' side of a socket sends a byte and the other side takes it:
 * the readers' queue gets a wakeup with EPOLLOUT and no data
 * (unix_write_space, as sock_wfree gives the byte's charge back), which a
 * datagram reader's entry ignores (receiver_wake_function) and a stream
 * reader's does not: it wakes, finds nothing, and goes back to the head of
 * the queue (prepare_to_wait).  Which reader the next byte goes to shows
 * where each one stood. */
static bool uncharge(struct builder *b, int rd, int wr)
{
	return EMIT(b, OP_WRITE, 0, { F_FD, rd }, { F_LEN, 1 }) && read_len(b, 0, wr, 1);
}

/*
 * One blocking file; each other thread goes to sleep on it: reading it,
 * writing it once full, or waiting on an instance watching it (one shared
 * instance, or one each with EPOLLEXCLUSIVE or not), or a writer first and
 * then exclusive pollers of the same queue (a writer that finishes wakes
 * the next of them: nr_exclusive 1), waiters now and then with a
 * neighbour file in their instance, readers with an exclusive poller
 * between them; then thread 0 does what wakes some of them (data either
 * way, a read that makes room or only uncharges the other side, a close
 * or a range of them, a shutdown), and waits.
 */
static void recipe_crowd(struct builder *b)
{
	struct rng *r = b->r;
	struct watched w;
	/* 0 readers, 1 writers, 2 waiters, 3 a writer and then exclusive
	 * pollers of the writers' queue, each on an instance of its own */
	unsigned how = rng_below(r, 4);
	int epfd = -1, wr, rd;
	uint64_t events = how == 3 ? EPOLLOUT | EPOLLEXCLUSIVE
				   : PICK(r, EPOLLIN, EPOLLIN | EPOLLEXCLUSIVE,
					  EPOLLIN | EPOLLET, EPOLLOUT | EPOLLEXCLUSIVE);
	struct op op;
	/* Readers of a pipe with an exclusive poller between them, now and then:
	 * its instance's entry is queued behind the first reader and ahead of
	 * the next, so a reader that leaves data behind wakes the poller and
	 * not the reader after it (pipe_read's wake_next_reader: nr_exclusive
	 * 1); they read a byte each, and the first waker writes more. */
	bool between = how == 0 && b->threads > 3 && rng_percent(r, 40);

	if (between)
		events = EPOLLIN | EPOLLEXCLUSIVE;
	if (b->threads < 2 ||
	    !make_file_of(b, between ? PIPE_FILE : rng_below(r, FILE_CHOICES), true, &w))
		return;
	wr = w.kind == FDK_PIPE_W ? w.fd : w.peer; /* where the sleepers' data goes */
	rd = w.kind == FDK_PIPE_W ? w.peer : w.fd;
	/* an interest in EPOLLOUT goes on the end whose queue writers sleep on */
	int watched = events & EPOLLOUT ? wr : rd;

	int hi = rd > wr ? rd : wr; /* the highest fd of the crowd's files */
	bool neighboured = false;
	bool sock = w.kind == FDK_SOCKET;

	if (make_epoll(b, 0, &epfd) && ctl(b, 0, epfd, EPOLL_CTL_ADD, watched, events) &&
	    how == 2 && rng_percent(r, 50))
		neighboured = neighbour(b, epfd, watched, &hi);

	if ((how == 1 || how == 3) && !fill(b, wr, w.kind))
		return;
	for (unsigned t = 1; t < b->threads; t++) {
		/* mostly one way for the whole crowd, now and then a mixed one */
		unsigned way = how == 3 ? (t == 1 ? 1 : 2)
			     : between ? (t == 2 ? 2 : 0)
			     : rng_percent(r, 70) ? how : rng_below(r, 3);

		if (way == 0) {
			if (between)
				read_len(b, t, rd, 1);
			else
				poke_read(b, t, rd, w.kind);
		} else if (way == 1) {
			write_to(b, t, wr, w.kind);
		} else {
			int own = epfd;

			if (!neighboured && (how == 3 || between || rng_percent(r, 50)) &&
			    make_epoll(b, t, &own))
				ctl(b, t, own, EPOLL_CTL_ADD, watched, events);
			/* one draw a statement: in which order a call's
			 * arguments are evaluated is the compiler's choice,
			 * and a seed must make one program with gcc and clang */
			int64_t maxevents = neighboured ? PICK(r, 2, 4) : PICK(r, 1, 2);
			int64_t timeout = PICK(r, -1, -1, 10);

			wait_on(b, t, own, maxevents, timeout);
		}
	}
	/* With a neighbour, the first waker is mostly a range, while every
	 * sleeper still sleeps: the one place a woken thread may run in the
	 * middle of a call. */
	if (neighboured && rng_percent(r, 70))
		release(b, rd, wr, hi, 10);
	else if (between)
		EMIT(b, OP_WRITE, 0, { F_FD, wr }, { F_LEN, PICK(r, 8, 4096) });
	else if (how == 0 && sock && rng_percent(r, 80) && uncharge(b, rd, wr))
		EMIT(b, OP_WRITE, 0, { F_FD, wr }, { F_LEN, 1 }); /* for the first reader in line */
	while (room(b, 1)) {
		switch (rng_below(r, 9)) {
		case 0:
		case 1:
			write_to(b, 0, wr, w.kind);
			break;
		case 2: /* the other way: a socket's reader side sends */
			write_to(b, 0, sock ? rd : wr, w.kind);
			break;
		case 3: /* small reads, or one that drains the buffer */
			if (rng_percent(r, 30))
				read_len(b, 0, rd, 262144);
			else
				poke_read(b, 0, rd, w.kind);
			break;
		case 4: /* a socket's other side reads: uncharges the readers' side */
			poke_read(b, 0, sock ? wr : rd, w.kind);
			break;
		case 5:
			release(b, rd, wr, hi, 50);
			break;
		case 6: /* the virtual clock: timed waits expire, in deadline order */
			op_init(&op, OP_SLEEP, 0);
			set(&op, F_MS, PICK(r, 1, 5, 20));
			emit(b, &op);
			break;
		case 7:
			if (sock) {
				shut(b, 0, rng_percent(r, 50) ? wr : rd);
				break;
			}
			/* fall through */
		default:
			if (epfd >= 0)
				wait_on(b, 0, epfd, 1, 0);
			else
				write_to(b, 0, wr, w.kind);
			break;
		}
		if (rng_percent(r, 8))
			break;
	}
}

/* ----------------------------------------------------------------- storm */

/*
 * Wakeups that change nothing, dozens of them: every other thread sleeps on
 * a blocking eventfd whose count is 0, reading it or waiting on an
 * instance of its own that watches it, and the waker writes 0 again and
 * again: eventfd_write wakes the queue on every write that succeeds, so
 * each one wakes every sleeper, which finds nothing and sleeps again, in
 * an order the model chooses; at last a 1, which the first reader to run
 * takes (every level-triggered waiter sees it).  A run meets dozens of
 * choice points (two a write with three sleepers), past what a schedule
 * search with room for 64 would record.  (Waiters share no instance and
 * none is EPOLLEXCLUSIVE: ep_poll waits exclusively on ep->wq, and an
 * exclusive item's entry on the eventfd's queue, so either way a write
 * would wake only one of them.)
 */
static void recipe_storm(struct builder *b)
{
	struct rng *r = b->r;
	int efd;
	struct op op;

	op_init(&op, OP_EVENTFD, 0);
	if (!emit(b, &op))
		return;
	efd = b->made[0];
	for (unsigned t = 1; t < b->threads; t++) {
		int own;
		uint64_t events = PICK(r, EPOLLIN, EPOLLIN | EPOLLET);

		if (rng_percent(r, 50))
			read_len(b, t, efd, -1);
		else if (make_epoll(b, t, &own) && ctl(b, t, own, EPOLL_CTL_ADD, efd, events))
			wait_on(b, t, own, 1, -1);
	}
	while (room(b, 2) && !rng_percent(r, 1))
		EMIT(b, OP_WRITE, 0, { F_FD, efd }, { F_VALUE, 0 });
	EMIT(b, OP_WRITE, 0, { F_FD, efd }, { F_VALUE, 1 });
}

/* ----------------------------------------------------------------- relay */

/* One write to the relay's file: n units (a count, or bytes). */
static bool hand_on(struct builder *b, int wr, bool sock, int64_t n)
{
	return sock ? EMIT(b, OP_WRITE, 0, { F_FD, wr }, { F_LEN, n })
		    : EMIT(b, OP_WRITE, 0, { F_FD, wr }, { F_VALUE, n });
}

/*
 * A count handed on, round after round: every other thread reads one
 * blocking file (an eventfd at 0, or a stream socket's empty end), and each
 * round thread 0 writes one unit (a 1, a byte), which wakes every reader
 * (eventfd_read and unix_stream_data_wait wait non-exclusively): the first
 * to run takes it, the rest find nothing and sleep again.  Then each
 * reader reads again: the round's taker sleeps anew, the others' reads are
 * skipped, so the outcome names every round's taker.  A run holds a dozen
 * races in a row, each visible at its own step: a schedule search must
 * settle them one at a time, keeping the ones before (one that only draws
 * whole orders at random is lost after a few rounds).  Now and then a
 * write of 0 comes first (an eventfd's wakes every reader for nothing; a
 * socket's sends nothing).
 */
static void recipe_relay(struct builder *b)
{
	struct rng *r = b->r;
	bool sock = rng_percent(r, 30);
	int rd, wr;

	if (sock ? !EMIT(b, OP_SOCKETPAIR, 0, { F_TYPE, SOCK_STREAM })
		 : !EMIT(b, OP_EVENTFD, 0, { F_INITVAL, 0 }, { F_FLAGS, 0 }))
		return;
	rd = b->made[0];
	wr = sock ? b->made[1] : rd;
	for (;;) {
		for (unsigned t = 1; t < b->threads; t++)
			read_len(b, t, rd, sock ? 1 : -1);
		if (rng_percent(r, 15))
			hand_on(b, wr, sock, 0);
		if (!room(b, b->threads))
			break;
		hand_on(b, wr, sock, 1);
	}
}

/* ------------------------------------------------------------------ main */

/* Plans are drawn by weight: a relay settles a sleeper at nearly every
 * step, so its programs cost the oracle several times a plain one's, and
 * at half the others' weight a campaign still meets one every few hundred
 * programs. */
static const struct recipe {
	void (*build)(struct builder *b);
	unsigned min_threads, max_threads; /* of those the limits allow */
	unsigned weight;
} recipes[] = {
	{ recipe_nest, 1, 1, 2 },
	{ recipe_edge, 1, MAX_THREADS, 2 },
	{ recipe_fill, 1, 1, 2 },
	{ recipe_procs, 2, 3, 2 },
	{ recipe_crowd, 2, 4, 2 }, /* one object, a few sleepers */
	{ recipe_storm, 3, 4, 2 }, /* wakeups that change nothing */
	{ recipe_relay, 3, 4, 1 }, /* one race after another */
};

/* A plan drawn by weight among those the thread limit allows. */
static const struct recipe *draw_recipe(struct rng *r, unsigned max_threads)
{
	unsigned total = 0, pick;

	for (unsigned i = 0; i < ARRAY_LEN(recipes); i++)
		total += recipes[i].min_threads <= max_threads ? recipes[i].weight : 0;
	pick = rng_below(r, total);
	for (unsigned i = 0;; i++) {
		if (recipes[i].min_threads > max_threads)
			continue;
		if (pick < recipes[i].weight)
			return &recipes[i];
		pick -= recipes[i].weight;
	}
}

void recipe_program(struct rng *r, unsigned max_ops, unsigned max_threads,
		    struct program *p)
{
	struct builder b = { r, p, { { 0 }, 0, 0 }, max_ops, 1, { -1, -1 } };
	const struct recipe *rc;
	unsigned most;

	rc = draw_recipe(r, max_threads);
	most = rc->max_threads < max_threads ? rc->max_threads : max_threads;
	b.threads = rc->min_threads + rng_below(r, most - rc->min_threads + 1);
	p->threads = b.threads;
	fd_sim_init(&b.sim);
	rc->build(&b);
}
