/*
 * decode.c - the fuzzer's byte format, both ways: every byte string decodes
 * to a valid program (program_decode), and every program encodes to a byte
 * string that decodes back to it (program_encode).  Both directions live in
 * this one file so that they cannot drift apart: the encoder finds its bytes
 * by running the decoder's own functions.
 *
 * The format, read from a cursor that yields 0 once the input is exhausted:
 *
 *   header                     one byte: what the program may be (below)
 *   op*: kind [thread] field*  until the input ends or lim->max_ops ops
 *                              (thread: see pick_thread())
 *
 * The header makes an input mean the same program whatever the campaign's
 * settings, so that corpora made at any EPOLLFUZZ_THREADS or profile can be
 * merged and reused; a campaign skips the inputs outside its own
 * (input_fits()):
 *
 *   bits 0-2   threads - 1
 *   bit  3     threads may block: epoll_wait timeouts as drawn, sleep ops;
 *              without it every timeout is 0 and no sleep is drawn
 *   bits 4-5   the profile (profile.h) every op is bent into; a number past
 *              the last profile reads as PROFILE_ANY
 *   bits 6-7   not used (the encoder writes 0)
 *
 * kind is one byte, weighted (epoll_ctl, epoll_wait, write and read most
 * common; creations common while the program has few fds; fork and exit
 * rare, and only where the program's processes allow them: see
 * procs_bend()); thread is b % threads.  Each field of the op, in op-table order, starts with a
 * selector byte.  Selectors 0..253 pick a value the way that field kind
 * likes (below); 254 is a 4-byte little-endian literal (sign-extended when
 * the field's range is signed), 255 an 8-byte one, clamped to the field's
 * range.  The literals are what make every value reachable.
 *
 *   FK_FD      mostly an fd the program made, preferring the right kind
 *              (an epoll instance for epfd, a readable end for read, ...);
 *              sometimes a closed one, a small wild number, -1 or a big one.
 *              The decoder keeps a cheap simulation of the fd table
 *              (trace/fdsim.h; fdchoose.c).
 *   FK_FLAGS   a subset of the common names (for events: IN, OUT, ET,
 *              ONESHOT, RDHUP, EXCLUSIVE, PRI); or one name plus a subset
 *              (2 bytes); or one raw bit.
 *   FK_ENUM    the first name half the time, the others otherwise, or-ed
 *              with a subset of the flag names; or a small integer.
 *   others     a per-field table of interesting values; fields whose value
 *              is decided at run time (data, len) are sometimes absent.
 *
 * Creations are non-blocking (O_NONBLOCK, EFD_NONBLOCK, SOCK_NONBLOCK)
 * and fcntl's F_SETFL keeps O_NONBLOCK, except where several threads may
 * block (the header's bit, and more than one thread): there one creation
 * in four is blocking (those drawn with neither the non-blocking nor the
 * close-on-exec flag; under a profile only those on thread 0) and F_SETFL
 * keeps its flags as drawn (under a profile, on thread 0), so reads and
 * writes sleep; a thread that did one on an fd the decoder guesses blocking
 * is presumed asleep for a few ops (note_fds).
 *
 * What no target runs is not drawn: an fcntl command other than the six
 * modelled ones becomes a negative number (EINVAL: fcntl_cmd_runs).
 *
 * Under a profile (the header's, profile.h) the kinds it cannot run get no
 * weight, and each op is bent into it once its fields are drawn: flag bits
 * outside it cleared, fds of kinds it refuses replaced by made ones, and
 * so on, as its rules say.  So a drawn program is inside the profile as far
 * as the decoder's guess of the fd table goes; where threads block, an op
 * given to a blocked thread is skipped, and an fd the guess has it make
 * does not exist (profile_check_run, on the run, tells).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "internal.h"

enum {
	SEL_LITERAL32 = 254,
	SEL_LITERAL64 = 255,
	MAX_NAMES = 32,
};

/* ---------------------------------------------------------------- cursor */

struct cursor {
	const uint8_t *p;
	size_t left;
	bool overrun; /* a read past the end (which gave 0) */
};

static uint8_t next_byte(struct cursor *c)
{
	if (c->left == 0) {
		c->overrun = true;
		return 0;
	}
	c->left--;
	return *c->p++;
}

static uint64_t next_le(struct cursor *c, unsigned nbytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < nbytes; i++)
		v |= (uint64_t)next_byte(c) << (8 * i);
	return v;
}


/* ---------------------------------------------------------------- header */

enum {
	HDR_THREADS = 0x07,   /* threads - 1 */
	HDR_MAY_BLOCK = 0x08,
	HDR_PROFILE_SHIFT = 4,
	HDR_PROFILE = 0x30,
};
_Static_assert(MAX_THREADS == HDR_THREADS + 1, "the header holds every thread count");
_Static_assert(PROFILE_COUNT <= (HDR_PROFILE >> HDR_PROFILE_SHIFT) + 1,
	       "the header holds every profile");

struct header {
	unsigned threads;
	bool may_block;
	enum profile profile;
};

static struct header header_of(uint8_t b)
{
	unsigned prof = (b & HDR_PROFILE) >> HDR_PROFILE_SHIFT;

	return (struct header){
		.threads = 1 + (b & HDR_THREADS),
		.may_block = (b & HDR_MAY_BLOCK) != 0,
		.profile = prof < PROFILE_COUNT ? (enum profile)prof : PROFILE_ANY,
	};
}

static uint8_t header_byte(const struct header *h)
{
	return (uint8_t)((h->threads - 1) | (h->may_block ? HDR_MAY_BLOCK : 0) |
			 (unsigned)h->profile << HDR_PROFILE_SHIFT);
}

/* An empty input has the header 0: one thread, no blocking, any op. */
bool input_fits(const uint8_t *data, size_t size, const struct decode_limits *lim)
{
	struct header h = header_of(size ? data[0] : 0);

	return h.threads <= lim->max_threads && (!h.may_block || lim->max_threads > 1) &&
	       (lim->profile == PROFILE_ANY || h.profile == lim->profile);
}

static unsigned max_threads_of(const struct decode_limits *lim)
{
	return lim->max_threads < 1 ? 1
	     : lim->max_threads > MAX_THREADS ? MAX_THREADS : lim->max_threads;
}

void input_fit(uint8_t *data, size_t size, const struct decode_limits *lim)
{
	struct header h;

	if (!size)
		return;
	h = header_of(data[0]);
	if (h.threads > max_threads_of(lim))
		h.threads = max_threads_of(lim);
	h.may_block = h.may_block && max_threads_of(lim) > 1;
	if (lim->profile != PROFILE_ANY && lim->profile < PROFILE_COUNT)
		h.profile = (enum profile)lim->profile;
	data[0] = header_byte(&h);
}

/* ------------------------------------------------------------ decoding */

struct decoder {
	struct fd_sim sim;
	unsigned max_ops;
	unsigned threads;
	bool may_block;
	enum profile profile;
	unsigned nops;  /* ops decoded so far */
	/* Ops left during which a thread is presumed asleep in epoll_wait or
	 * in a read or write; see pick_thread(). */
	uint8_t asleep[MAX_THREADS];
	/* The guess of which fds name a blocking description (note_fds), and
	 * the fd kinds as the guess last saw them. */
	bool blocking[FD_LIMIT];
	uint8_t seen[FD_LIMIT];
	/* Each thread's place among the processes, so that every fork and
	 * exit drawn keeps the program valid (procs_bend). */
	struct procs procs;
};

/* How long a thread that issued a blocking wait is presumed asleep; a read
 * or write on a blocking fd, which sleeps less often, a third of that. */
#define ASLEEP_OPS 24
#define ASLEEP_IO_OPS (ASLEEP_OPS / 3)

static void decoder_start(struct decoder *d, const struct decode_limits *lim,
			  const struct header *h)
{
	fd_sim_init(&d->sim);
	d->max_ops = lim->max_ops < 1 ? 1 : lim->max_ops > MAX_OPS ? MAX_OPS : lim->max_ops;
	d->threads = h->threads;
	d->may_block = h->may_block;
	d->profile = h->profile;
	d->nops = 0;
	memset(d->asleep, 0, sizeof(d->asleep));
	procs_start(&d->procs, h->threads);
	memset(d->blocking, 0, sizeof(d->blocking));
	memcpy(d->seen, d->sim.kind, sizeof(d->seen));
}

/*
 * An op given to a thread that sleeps in epoll_wait is skipped, wasting the
 * op; most thread bytes (all but the top 32 values) therefore move an op
 * off a thread presumed asleep onto the next one presumed awake.  The
 * decoder cannot know when a wait returns, so a thread is presumed asleep
 * for a few ops after a blocking wait, or until a sleep.
 */
static unsigned pick_thread(const struct decoder *d, uint8_t b)
{
	unsigned t = b % d->threads;

	if (!d->asleep[t] || b >= 0xe0)
		return t;
	for (unsigned k = 1; k < d->threads; k++) {
		unsigned u = (t + k) % d->threads;

		if (!d->asleep[u])
			return u;
	}
	return t;
}

static bool fd_blocking(const struct decoder *d, int64_t fd)
{
	return fd >= 0 && fd < FD_LIMIT && d->blocking[fd];
}

static bool creation_blocks(const struct op *op);

/*
 * Which fds name a blocking description, as far as the guess goes: every
 * number the fd simulation shows changed since the last op was installed
 * by this one, blocking as the creation asked or as the fd it duplicates
 * (dup2 and dup3 may install over an fd of the same kind: named here); an
 * F_SETFL sets the fd it names (not its other fds: a guess).
 */
static void note_fds(struct decoder *d, const struct op *op, bool src_blocking)
{
	bool made = creation_blocks(op) || src_blocking;

	for (int fd = 0; fd < d->sim.top && fd < FD_LIMIT; fd++)
		if (d->sim.kind[fd] != d->seen[fd])
			d->blocking[fd] = made && d->sim.kind[fd] > FDK_CLOSED;
	if ((op->kind == OP_DUP2 || op->kind == OP_DUP3) && op->f[F_NEWFD] >= 0 &&
	    op->f[F_NEWFD] < FD_LIMIT && d->sim.kind[op->f[F_NEWFD]] > FDK_CLOSED &&
	    op->f[F_NEWFD] != op->f[F_FD])
		d->blocking[op->f[F_NEWFD]] = src_blocking;
	if (op->kind == OP_FCNTL && (int)op->f[F_CMD] == F_SETFL &&
	    op->f[F_FD] >= 0 && op->f[F_FD] < FD_LIMIT)
		d->blocking[op->f[F_FD]] = !(op->f[F_ARG] & O_NONBLOCK);
	memcpy(d->seen, d->sim.kind, sizeof(d->seen));
}

static void note_op(struct decoder *d, const struct op *op)
{
	for (unsigned t = 0; t < MAX_THREADS; t++)
		if (d->asleep[t])
			d->asleep[t]--;
	uint64_t ms;

	bool dups = op->kind == OP_DUP || op->kind == OP_DUP2 || op->kind == OP_DUP3 ||
		    (op->kind == OP_FCNTL && ((int)op->f[F_CMD] == F_DUPFD ||
					      (int)op->f[F_CMD] == F_DUPFD_CLOEXEC));

	note_fds(d, op, dups && fd_blocking(d, op->f[F_FD]));
	procs_note(&d->procs, op);
	if (op->kind == OP_SLEEP)
		memset(d->asleep, 0, sizeof(d->asleep));
	else if (op_is_epoll_wait(op->kind) && (op_wait_timeout(op, &ms) == WAIT_FOREVER ||
						 op_wait_timeout(op, &ms) == WAIT_TIMED))
		d->asleep[op->t] = ASLEEP_OPS;
	else if ((op->kind == OP_READ || op->kind == OP_WRITE) &&
		 fd_blocking(d, op->f[F_FD]) && d->asleep[op->t] < ASLEEP_IO_OPS)
		d->asleep[op->t] = ASLEEP_IO_OPS;
}

/* --- kinds */

static const struct kind_weight {
	uint8_t kind;
	uint8_t early, later; /* while the program has few fds; afterwards */
} kind_weights[] = {
	/* first, so that an empty input is epoll_create1(0) */
	{ OP_EPOLL_CREATE1, 12, 2 },
	{ OP_PIPE2, 10, 3 },
	{ OP_SOCKETPAIR, 8, 2 },
	{ OP_EVENTFD, 6, 2 },
	{ OP_EPOLL_CREATE, 2, 1 },
	{ OP_EPOLL_CTL, 10, 16 },
	{ OP_EPOLL_WAIT, 6, 14 },
	{ OP_WRITE, 6, 12 },
	{ OP_READ, 4, 10 },
	{ OP_DUP, 2, 3 },
	{ OP_DUP2, 1, 2 },
	{ OP_DUP3, 1, 1 },
	{ OP_CLOSE, 2, 5 },
	{ OP_SHUTDOWN, 1, 2 },
	{ OP_SLEEP, 1, 3 }, /* only where threads may block */
	{ OP_EPOLL_PWAIT, 1, 4 },
	{ OP_EPOLL_PWAIT2, 1, 4 },
	{ OP_CLOSE_RANGE, 1, 2 },
	{ OP_FCNTL, 2, 5 },
	{ OP_FORK, 1, 1 }, /* only where a thread is free: kind_drawn() */
	{ OP_EXIT, 1, 1 }, /* only where a forked process lives */
};
_Static_assert(ARRAY_LEN(kind_weights) == OP_KIND_COUNT,
	       "every op kind needs a weight");

/* --- processes (internal.h) */

void procs_start(struct procs *ps, unsigned threads)
{
	ps->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	memset(ps->proc, TP_UNUSED, sizeof(ps->proc));
}

static unsigned procs_count(const struct procs *ps, enum thread_proc what)
{
	unsigned n = 0;

	for (unsigned t = 0; t < ps->threads; t++)
		n += ps->proc[t] == what;
	return n;
}

/* The first thread from t on (cyclically) whose place is one of mask's
 * (bits 1 << enum thread_proc), other than not; t when none is. */
static unsigned next_proc(const struct procs *ps, unsigned t, unsigned mask,
			  int not)
{
	for (unsigned k = 0; k < ps->threads; k++) {
		unsigned u = (t + k) % ps->threads;

		if ((mask & (1u << ps->proc[u])) && (int)u != not)
			return u;
	}
	return t;
}

/* A fork needs an unused thread for its child and a living thread to
 * make it (or a second unused one, which becomes one); an exit, a living
 * forked thread. */
bool procs_allow(const struct procs *ps, enum op_kind kind)
{
	if (kind == OP_FORK)
		return ps->threads > 1 && procs_count(ps, TP_UNUSED) >= 1 &&
		       (procs_count(ps, TP_MAIN) + procs_count(ps, TP_CHILD) >= 1 ||
			procs_count(ps, TP_UNUSED) >= 2);
	if (kind == OP_EXIT)
		return procs_count(ps, TP_CHILD) > 0;
	return true;
}

/*
 * Keeps the program valid among processes (program_check_processes): an
 * exit goes to a living forked thread; a fork to a living thread (or an
 * unused one, when another is left for the child), its child to an unused
 * thread; any other op of an exited thread to the next that is not.
 * The caller made sure procs_allow().
 */
void procs_bend(const struct procs *ps, struct op *op)
{
	unsigned t = op->t % ps->threads;

	op->t = (uint8_t)t;
	if (ps->threads < 2)
		return;
	if (op->kind == OP_EXIT) {
		op->t = (uint8_t)next_proc(ps, t, 1u << TP_CHILD, -1);
	} else if (op->kind == OP_FORK) {
		if (!(ps->proc[t] == TP_MAIN || ps->proc[t] == TP_CHILD ||
		      (ps->proc[t] == TP_UNUSED && procs_count(ps, TP_UNUSED) >= 2)))
			t = next_proc(ps, t, 1u << TP_MAIN | 1u << TP_CHILD, -1);
		op->t = (uint8_t)t;
		op->f[F_CHILD] = next_proc(ps, (unsigned)(op->f[F_CHILD] % ps->threads),
					   1u << TP_UNUSED, (int)t);
	} else if (ps->proc[t] == TP_EXITED) {
		op->t = (uint8_t)next_proc(ps, t, ~(1u << TP_EXITED), -1);
	}
}

void procs_note(struct procs *ps, const struct op *op)
{
	if (op->t >= MAX_THREADS)
		return;
	if (ps->proc[op->t] == TP_UNUSED)
		ps->proc[op->t] = TP_MAIN;
	if (op->kind == OP_FORK && op->f[F_CHILD] >= 0 && op->f[F_CHILD] < MAX_THREADS)
		ps->proc[op->f[F_CHILD]] = TP_CHILD;
	else if (op->kind == OP_EXIT)
		ps->proc[op->t] = TP_EXITED;
}

/* Whether the decoder may give an op of this kind under its limits. */
static bool kind_drawn(const struct decoder *d, unsigned kind)
{
	if (kind == OP_SLEEP && !d->may_block)
		return false;
	if (!procs_allow(&d->procs, (enum op_kind)kind))
		return false;
	return profile_allows_kind(d->profile, (enum op_kind)kind);
}

static unsigned kind_weight(const struct decoder *d, unsigned i)
{
	bool early = d->nops < 3 || d->sim.made < 2;

	if (!kind_drawn(d, kind_weights[i].kind))
		return 0;
	return early ? kind_weights[i].early : kind_weights[i].later;
}

/* Maps b proportionally onto the weights: every kind with a weight gets at
 * least one byte value, since the weights add up to less than 256. */
static enum op_kind pick_kind(const struct decoder *d, uint8_t b)
{
	unsigned total = 0, r;

	for (unsigned i = 0; i < ARRAY_LEN(kind_weights); i++)
		total += kind_weight(d, i);
	r = b * total / 256;
	for (unsigned i = 0; i < ARRAY_LEN(kind_weights); i++) {
		unsigned w = kind_weight(d, i);

		if (r < w)
			return (enum op_kind)kind_weights[i].kind;
		r -= w;
	}
	return OP_EPOLL_CREATE1;
}

/* --- flags and enums */

struct name_bits {
	unsigned n;
	uint64_t bits[MAX_NAMES];
};

/* The bits of the names that are plain flags (or enum values, when enums). */
static void names_of(const struct flag_name *names, bool enums,
		     struct name_bits *out)
{
	out->n = 0;
	for (const struct flag_name *f = names; f && f->name && out->n < MAX_NAMES; f++)
		if ((f->mask != f->bits) == enums)
			out->bits[out->n++] = f->bits;
}

/* The flags the fuzzer should combine most: for epoll events, the ones
 * that change how an interest behaves; elsewhere all of the field's.  A
 * subset takes name i when bit i of its selector (below 160) is set, so
 * EPOLLEXCLUSIVE, last, comes in one subset in five: with EPOLLONESHOT, or
 * in an EPOLL_CTL_MOD, it is EINVAL, and half the adds failing on it would
 * leave few interests to watch. */
static void common_flags(const struct field_desc *fd, struct name_bits *out)
{
	static const uint64_t events[] = {
		EPOLLIN, EPOLLOUT, EPOLLET, EPOLLONESHOT, EPOLLRDHUP, EPOLLPRI,
		EPOLLWAKEUP, EPOLLEXCLUSIVE,
	};

	if (fd->id != F_EVENTS) {
		names_of(fd->names, false, out);
		return;
	}
	out->n = ARRAY_LEN(events);
	memcpy(out->bits, events, sizeof(events));
}

static uint64_t subset(const struct name_bits *nb, unsigned pick)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < nb->n && i < 16; i++)
		if (pick & (1u << i))
			v |= nb->bits[i];
	return v;
}

static int64_t decode_flags(const struct field_desc *fd, uint8_t sel,
			    struct cursor *c)
{
	struct name_bits common, all;

	common_flags(fd, &common);
	if (sel < 160)
		return (int64_t)subset(&common, sel);
	if (sel < 224) {
		names_of(fd->names, false, &all);
		if (all.n == 0)
			return 0;
		return (int64_t)(all.bits[(sel - 160) % all.n] |
				 subset(&common, next_byte(c)));
	}
	return (int64_t)(1ull << ((sel - 224) % 32)); /* a raw bit */
}

static int64_t decode_enum(const struct field_desc *fd, uint8_t sel)
{
	struct name_bits enums, flags;
	unsigned r = sel & 7, pick;

	if (sel >= 224)
		return (int64_t)sel - 224 - 4; /* a small integer, named or not */
	names_of(fd->names, true, &enums);
	names_of(fd->names, false, &flags);
	if (enums.n == 0)
		return (int64_t)subset(&flags, sel);
	pick = r < 4 || enums.n == 1 ? 0 : 1 + (r - 4) % (enums.n - 1);
	return (int64_t)(enums.bits[pick] | subset(&flags, sel >> 3));
}

/* --- numbers */

struct value_table {
	const int64_t *v;
	unsigned n;
	uint8_t absent_below; /* DEF_RUNTIME fields: selectors meaning "absent" */
};

static const int64_t size_values[] = { 1, 1, 1, 2, 100, 0, -1, INT_MAX, INT_MIN };
/* maxevents: small counts mostly (1, and just below a ready count), and
 * both sides of EP_MAX_EVENTS (INT_MAX / sizeof(struct epoll_event), 12
 * bytes on x86_64), the largest ep_poll accepts. */
static const int64_t maxevents_values[] = {
	1, 2, 3, 4, 16, 1, 2, 3, 4, 16, 1, 2, 3, 4, 16, 1, 2, 3, 4, 16, 0, -1,
	INT_MAX / 12, INT_MAX / 12 + 1,
};
static const int64_t timeout_values[] = { -1, 0, 1, 2, 5, 10, 100, -1, 0, 1 };
static const int64_t initval_values[] = {
	0, 0, 1, 2, 3, 7, 0xfffffffe, 0xffffffff, 0x7fffffff,
};
/* Byte counts around the kernel's limits: a page and a pipe's 16
 * (pipe_write), a quarter of the unix socket buffer at which a sender is
 * woken (unix_writable: wmem_alloc << 2 <= sndbuf), the largest datagram
 * (unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE) and the buffer
 * itself (net.core.wmem_default, 212992). */
static const int64_t len_values[] = {
	1, 1, 2, 3, 4, 7, 8, 8, 9, 16, 100, 512, 1000, 0,
	4095, 4096, 4097, 65535, 65536, 65537, 100000,
	53248, 106496, 212959, 212960, 212961, 212992,
};
/* eventfd values, as bit patterns; mostly the default 1, since the value
 * only matters when the write lands on an eventfd; 0 one time in eight (it
 * changes no count, yet wakes: eventfd_write calls wake_up_locked_poll on
 * every write that succeeds, which re-fires edge-triggered interests). */
static const int64_t counter_values[] = {
	1, 1, 1, 1, 1, 1, 1, 0, 2, 3, 5, 0, (int64_t)0xfffffffffffffffeull,
	(int64_t)0xffffffffffffffffull, (int64_t)0xfffffffffffffffdull, INT64_MAX,
};
static const int64_t data_values[] = {
	0, 1, 2, 3, 4, 5, 42, -1, INT64_MIN, 0x100000000,
};
static const int64_t ms_values[] = { 1, 1, 2, 5, 10, 100, 0, 1000 };
/* epoll_pwait2's ns: around the ms the virtual clock rounds up to, and
 * invalid ones; absent (NULL, forever) below the table's selector 48. */
static const int64_t timeout_ns_values[] = {
	0, 1, 999999, 1000000, 1000001, 2000000, 5000000, 100000000, 0,
	1000000000, -1, -1000000000, 1000000,
};

#define TABLE(a) { a, ARRAY_LEN(a), 0 }
#define TABLE_ABSENT(a, below) { a, ARRAY_LEN(a), below }

static const struct value_table field_values[FIELD_COUNT] = {
	[F_SIZE] = TABLE(size_values),
	[F_MAXEVENTS] = TABLE(maxevents_values),
	[F_TIMEOUT] = TABLE(timeout_values),
	[F_INITVAL] = TABLE(initval_values),
	[F_LEN] = TABLE_ABSENT(len_values, 64),    /* absent: 8 on an eventfd */
	[F_VALUE] = TABLE(counter_values),
	[F_DATA] = TABLE_ABSENT(data_values, 176), /* absent: the fd */
	[F_MS] = TABLE(ms_values),
	[F_TIMEOUT_NS] = TABLE_ABSENT(timeout_ns_values, 48),
};

static int64_t decode_number(const struct field_desc *fd, uint8_t sel)
{
	const struct value_table *t = &field_values[fd->id];

	if (t->n == 0)
		return sel % 16;
	return t->v[sel % t->n];
}

/* --- fields and ops */

static int64_t decode_literal(const struct field_desc *fd, uint8_t sel,
			      struct cursor *c)
{
	if (sel == SEL_LITERAL64)
		return (int64_t)next_le(c, 8);
	if (fd->min < 0)
		return (int32_t)(uint32_t)next_le(c, 4);
	return (int64_t)(uint32_t)next_le(c, 4);
}

static int64_t clamp(int64_t v, int64_t min, int64_t max)
{
	return v < min ? min : v > max ? max : v;
}

static void decode_field(const struct decoder *d, struct cursor *c,
			 struct op *op, const struct field_desc *fd)
{
	uint8_t sel = next_byte(c);
	int64_t v;

	op->present &= (uint32_t)~(1u << fd->id);
	if (fd->defkind == DEF_RUNTIME && sel < field_values[fd->id].absent_below) {
		op->f[fd->id] = fd->def;
		return;
	}
	if (sel >= SEL_LITERAL32)
		v = decode_literal(fd, sel, c);
	else if (fd->kind == FK_FD)
		v = fd_sim_choose(&d->sim, (enum op_kind)op->kind, fd->id, sel);
	else if (fd->kind == FK_FLAGS)
		v = decode_flags(fd, sel, c);
	else if (fd->kind == FK_ENUM)
		v = decode_enum(fd, sel);
	else
		v = decode_number(fd, sel);
	op->f[fd->id] = clamp(v, fd->min, fd->max);
	if (fd->defkind == DEF_RUNTIME)
		op->present |= (uint32_t)(1u << fd->id);
}

/* Creations that could make a read or write block, the flag that keeps
 * them from it, and their close-on-exec flag (the coin, below). */
static const struct {
	enum op_kind kind;
	enum field_id field;
	int64_t nonblock, cloexec;
} nonblocking[] = {
	{ OP_PIPE2, F_FLAGS, O_NONBLOCK, O_CLOEXEC },
	{ OP_EVENTFD, F_FLAGS, EFD_NONBLOCK, EFD_CLOEXEC },
	{ OP_SOCKETPAIR, F_TYPE, SOCK_NONBLOCK, SOCK_CLOEXEC },
};

/* Whether op, as it stands, makes a blocking description. */
static bool creation_blocks(const struct op *op)
{
	for (unsigned i = 0; i < ARRAY_LEN(nonblocking); i++)
		if (op->kind == nonblocking[i].kind)
			return !(op->f[nonblocking[i].field] & nonblocking[i].nonblock);
	return false;
}

/*
 * Descriptions may block only where several threads may block: one
 * thread asleep for good in a read is a program wasted.  Under a profile
 * (a subset a test suite runs) such a thread is also a program the profile
 * refuses (no test can leave a thread blocked), so there only ops given to
 * thread 0 may make a description blocking, four times fewer: which thread
 * creates or sets flags changes nothing else (the fd table is shared).
 */
static bool blocking_drawn(const struct decoder *d, const struct op *op)
{
	return d->may_block && d->threads > 1 &&
	       (d->profile == PROFILE_ANY || op->t == 0);
}

/*
 * Bends an op to the limits: into the profile, and no blocking where
 * threads may not block.  Where they may, a creation stays blocking only
 * when drawn with neither its non-blocking nor its close-on-exec flag (a
 * flag nothing here observes but F_GETFD): one creation in four, the
 * others non-blocking (under a profile one in sixteen: blocking_drawn); an
 * F_SETFL keeps the flags it was drawn with.
 */
static void apply_limits(const struct decoder *d, struct op *op)
{
	uint64_t ms;

	profile_bend(d->profile, op, &d->sim);
	for (unsigned i = 0; i < ARRAY_LEN(nonblocking); i++)
		if (op->kind == nonblocking[i].kind &&
		    !(blocking_drawn(d, op) &&
		      !(op->f[nonblocking[i].field] &
			(nonblocking[i].nonblock | nonblocking[i].cloexec))))
			op->f[nonblocking[i].field] |= nonblocking[i].nonblock;
	if (op->kind == OP_FCNTL && (int)op->f[F_CMD] == F_SETFL && !blocking_drawn(d, op))
		op->f[F_ARG] |= O_NONBLOCK;
	if (op->kind == OP_FCNTL && !fcntl_cmd_runs(op->f[F_CMD]))
		op->f[F_CMD] = -1 - op->f[F_CMD];
	if (!d->may_block && (op->kind == OP_EPOLL_WAIT || op->kind == OP_EPOLL_PWAIT))
		op->f[F_TIMEOUT] = 0;
	if (!d->may_block && op->kind == OP_EPOLL_PWAIT2 && op_wait_timeout(op, &ms) != WAIT_EINVAL) {
		op->f[F_TIMEOUT_NS] = 0; /* an invalid timespec stays: it never blocks */
		op->present |= 1u << F_TIMEOUT_NS;
	}
}

/* Fixed-default fields count as given when off their default, required
 * ones always; run-time defaults were decided by the bytes. */
static void mark_present(struct op *op)
{
	const struct op_desc *desc = &op_table[op->kind];

	for (unsigned i = 0; i < desc->nfields; i++) {
		const struct field_desc *fd = &desc->fields[i];
		uint32_t bit = (uint32_t)(1u << fd->id);

		if (fd->defkind == DEF_REQUIRED ||
		    (fd->defkind == DEF_VALUE && op->f[fd->id] != fd->def))
			op->present |= bit;
		else if (fd->defkind == DEF_VALUE)
			op->present &= (uint32_t)~bit;
	}
}

static void finish_op(const struct decoder *d, struct op *op)
{
	procs_bend(&d->procs, op);
	apply_limits(d, op);
	mark_present(op);
}

static void decode_op(const struct decoder *d, struct cursor *c, struct op *op)
{
	enum op_kind kind = pick_kind(d, next_byte(c));
	unsigned t = d->threads > 1 ? pick_thread(d, next_byte(c)) : 0;
	const struct op_desc *desc = &op_table[kind];

	op_init(op, kind, t);
	for (unsigned i = 0; i < desc->nfields; i++)
		decode_field(d, c, op, &desc->fields[i]);
	finish_op(d, op);
}

void program_decode(const uint8_t *data, size_t size,
		    const struct decode_limits *lim, struct program *p)
{
	struct cursor c = { data, size, false };
	struct decoder *d = malloc(sizeof(*d));
	struct header h = header_of(next_byte(&c));

	if (!d)
		abort(); /* a fuzzer cannot go on without memory */
	decoder_start(d, lim, &h);
	program_init(p);
	p->threads = d->threads;
	p->threads_given = d->threads > 1 || d->may_block;
	do {
		struct op op;

		decode_op(d, &c, &op);
		if (program_push(p, &op, NULL) < 0)
			abort();
		fd_sim_apply(&d->sim, &op);
		note_op(d, &op);
		d->nops++;
	} while (c.left > 0 && d->nops < d->max_ops);
	free(d);
}

/* ------------------------------------------------------------ encoding */

/*
 * The encoder replays the decoder: it keeps the same fd simulation and, for
 * each choice, tries the shortest byte strings first (the single bytes that
 * read the decode paths backwards, selector_guesses, then the two
 * literals) until the decoder's own function, run on exactly those bytes,
 * gives the wanted value: one pass, in time linear in the program.
 * Single-byte forms are preferred
 * because they name fds relative to the program (the newest pipe end),
 * which keeps seeds meaningful when the fuzzer inserts or removes ops.
 *
 * What does not survive (the decoded program is the input bent to the
 * limits): ops beyond max_ops; sleep where threads may not block (lim's
 * max_threads is 1); ops of
 * kinds outside the profile, and arguments outside it (bent into it);
 * epoll_wait timeouts where threads may not block (0); blocking creations
 * where they may not, or drawn with close-on-exec (made non-blocking), and
 * an F_SETFL without O_NONBLOCK where they may not (it gets it); threads
 * beyond max_threads (t taken modulo); the
 * present bits of fields with a fixed default (set exactly when off the
 * default); the value of an absent field with a run-time default; x-
 * extras.  A program with no ops encodes to its header alone, which decodes
 * to one op.
 */

struct bytes {
	uint8_t *buf;
	size_t len, cap;
};

static int bytes_put(struct bytes *b, const uint8_t *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		uint8_t *nb;

		while (cap < b->len + n)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return -1;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return 0;
}

static bool field_equal(const struct op *x, const struct op *y,
			const struct field_desc *fd)
{
	bool px = op_has(x, fd->id), py = op_has(y, fd->id);

	if (fd->defkind == DEF_RUNTIME && (px != py || !px))
		return px == py;
	return x->f[fd->id] == y->f[fd->id];
}

/* Do exactly these bytes decode to want's value of fd? */
static bool field_from(const struct decoder *d, const struct op *want,
		       const struct field_desc *fd, const uint8_t *bytes,
		       size_t n)
{
	struct cursor c = { bytes, n, false };
	struct op got = *want;

	decode_field(d, &c, &got, fd);
	return !c.overrun && c.left == 0 && field_equal(&got, want, fd);
}

static void put_le(uint8_t *out, uint64_t v, unsigned nbytes)
{
	for (unsigned i = 0; i < nbytes; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* The names of nb whose bits all lie in v, as subset() selects them (bit i
 * for name i); false when they do not make up v exactly. */
static bool subset_of(const struct name_bits *nb, uint64_t v, unsigned *pick)
{
	uint64_t covered = 0;

	*pick = 0;
	for (unsigned i = 0; i < nb->n && i < 16; i++)
		if (nb->bits[i] && !(nb->bits[i] & ~v)) {
			*pick |= 1u << i;
			covered |= nb->bits[i];
		}
	return covered == v;
}

/* decode_flags backwards: a subset of the common flags, or a raw bit. */
static unsigned flags_guesses(const struct field_desc *fd, uint64_t v, uint8_t *out)
{
	struct name_bits common;
	unsigned pick, n = 0;

	common_flags(fd, &common);
	if (subset_of(&common, v, &pick) && pick < 160)
		out[n++] = (uint8_t)pick;
	for (unsigned bit = 0; 224 + bit < SEL_LITERAL32; bit++)
		if (v == 1ull << bit)
			out[n++] = (uint8_t)(224 + bit);
	return n;
}

/* decode_enum backwards: each enum value with the flags that remain, or
 * a small integer. */
static unsigned enum_guesses(const struct field_desc *fd, int64_t v, uint8_t *out)
{
	struct name_bits enums, flags;
	unsigned pick, n = 0;

	names_of(fd->names, true, &enums);
	names_of(fd->names, false, &flags);
	if (enums.n == 0 && subset_of(&flags, (uint64_t)v, &pick) && pick < 224)
		out[n++] = (uint8_t)pick;
	for (unsigned e = 0; e < enums.n && e < 5; e++) {
		uint64_t value = enums.bits[e];
		unsigned r = e == 0 ? 0 : 4 + (e - 1);

		if (((uint64_t)v & value) != value ||
		    !subset_of(&flags, (uint64_t)v ^ value, &pick) ||
		    (pick << 3 | r) >= 224)
			continue;
		out[n++] = (uint8_t)(pick << 3 | r);
	}
	if (v >= -4 && v + 228 < SEL_LITERAL32)
		out[n++] = (uint8_t)(v + 228);
	return n;
}

/* decode_number backwards: the smallest selector that gives the value
 * and is not an "absent" one. */
static unsigned number_guesses(const struct field_desc *fd, int64_t v,
			       unsigned first, uint8_t *out)
{
	const struct value_table *t = &field_values[fd->id];
	unsigned period = t->n ? t->n : 16, best = SEL_LITERAL32;

	for (unsigned i = 0; i < period; i++) {
		unsigned sel = i;

		if (t->n ? t->v[i] != v : (int64_t)i != v)
			continue;
		while (sel < first)
			sel += period;
		if (sel < best)
			best = sel;
	}
	if (best >= SEL_LITERAL32)
		return 0;
	out[0] = (uint8_t)best;
	return 1;
}

/*
 * The single bytes that should decode to want's value of fd, found by
 * reading each decode path backwards instead of trying all 256 (that
 * search was a sixth of a campaign: issue 13); the caller checks each with
 * the decoder itself, so a wrong guess costs a literal, never a wrong
 * program.  Returns how many.
 */
static unsigned selector_guesses(const struct decoder *d, const struct op *want,
				 const struct field_desc *fd, uint8_t *out)
{
	unsigned first = fd->defkind == DEF_RUNTIME ? field_values[fd->id].absent_below : 0;
	int64_t v = want->f[fd->id];
	int sel;

	if (fd->defkind == DEF_RUNTIME && !op_has(want, fd->id)) {
		out[0] = 0; /* absent, where a selector says so */
		return first > 0;
	}
	switch (fd->kind) {
	case FK_FD:
		sel = fd_sim_selector(&d->sim, (enum op_kind)want->kind, fd->id, v);
		if (sel < 0 || sel < (int)first)
			return 0;
		out[0] = (uint8_t)sel;
		return 1;
	case FK_FLAGS:
		return flags_guesses(fd, (uint64_t)v, out);
	case FK_ENUM:
		return enum_guesses(fd, v, out);
	default:
		return number_guesses(fd, v, first, out);
	}
}

static int encode_field(const struct decoder *d, const struct op *want,
			const struct field_desc *fd, struct bytes *out)
{
	uint64_t v = (uint64_t)want->f[fd->id];
	uint8_t guesses[40], trial[9];
	unsigned n = selector_guesses(d, want, fd, guesses);

	for (unsigned i = 0; i < n; i++)
		if (field_from(d, want, fd, &guesses[i], 1))
			return bytes_put(out, &guesses[i], 1);
	trial[0] = SEL_LITERAL32;
	put_le(trial + 1, v, 4);
	if (field_from(d, want, fd, trial, 5))
		return bytes_put(out, trial, 5);
	trial[0] = SEL_LITERAL64;
	put_le(trial + 1, v, 8);
	if (field_from(d, want, fd, trial, 9))
		return bytes_put(out, trial, 9);
	return -1; /* a value outside the field's range */
}

/*
 * The inverse of pick_kind(): the kind owns the values r in [start, start
 * + weight), so the smallest byte with b * total / 256 >= start picks it
 * (the weights add up to less than 256, so r moves by less than one per
 * byte and lands on start exactly).
 */
static int encode_kind(const struct decoder *d, enum op_kind kind,
		       struct bytes *out)
{
	unsigned total = 0, start = 0;
	bool found = false;

	for (unsigned i = 0; i < ARRAY_LEN(kind_weights); i++) {
		unsigned w = kind_weight(d, i);

		if (kind_weights[i].kind == kind) {
			if (!w)
				return -1;
			start = total;
			found = true;
		}
		total += w;
	}
	if (!found)
		return -1;
	uint8_t byte = (uint8_t)((start * 256 + total - 1) / total);

	if (pick_kind(d, byte) != kind)
		return -1;
	return bytes_put(out, &byte, 1);
}

/* want: op as the decoder would give it back, or false when the decoder
 * cannot give this kind of op at all under the limits. */
static bool bend_to_limits(const struct decoder *d, const struct op *op,
			   struct op *want)
{
	const struct op_desc *desc;

	if (op->kind >= OP_KIND_COUNT || !kind_drawn(d, op->kind))
		return false;
	desc = &op_table[op->kind];
	*want = *op;
	want->t = (uint8_t)(op->t % d->threads);
	want->extras = NULL;
	for (unsigned i = 0; i < desc->nfields; i++) {
		const struct field_desc *fd = &desc->fields[i];

		if (fd->defkind == DEF_RUNTIME && !op_has(op, fd->id))
			want->f[fd->id] = fd->def;
		else
			want->f[fd->id] = clamp(op->f[fd->id], fd->min, fd->max);
	}
	finish_op(d, want);
	return true;
}

static int encode_op(const struct decoder *d, const struct op *want,
		     struct bytes *out)
{
	const struct op_desc *desc = &op_table[want->kind];
	unsigned t = want->t;

	if (encode_kind(d, (enum op_kind)want->kind, out) < 0)
		return -1;
	if (d->threads > 1) {
		uint8_t b = (uint8_t)t;

		while (pick_thread(d, b) != t) /* the top 32 values never move */
			b++;
		if (bytes_put(out, &b, 1) < 0)
			return -1;
	}
	for (unsigned i = 0; i < desc->nfields; i++)
		if (encode_field(d, want, &desc->fields[i], out) < 0)
			return -1;
	return 0;
}

/* The header of p under lim: its threads (at most lim's), blocking where
 * lim allows it (so that a mutant may start to block), lim's profile. */
static struct header header_for(const struct program *p,
				const struct decode_limits *lim)
{
	unsigned threads = p->threads > program_min_threads(p) ? p->threads
							       : program_min_threads(p);
	unsigned max = max_threads_of(lim);

	return (struct header){
		.threads = threads > max ? max : threads,
		.may_block = max > 1,
		.profile = lim->profile < PROFILE_COUNT ? (enum profile)lim->profile
							: PROFILE_ANY,
	};
}

int program_encode(const struct program *p, const struct decode_limits *lim,
		   uint8_t **out, size_t *len)
{
	struct bytes b = { NULL, 0, 0 };
	struct decoder *d = malloc(sizeof(*d));
	struct header h = header_for(p, lim);
	uint8_t hb = header_byte(&h);
	int rc = -1;

	if (!d)
		return -1;
	decoder_start(d, lim, &h);
	if (bytes_put(&b, &hb, 1) < 0)
		goto out;
	for (unsigned i = 0; i < p->nops && d->nops < d->max_ops; i++) {
		struct op want;

		if (!bend_to_limits(d, &p->ops[i], &want))
			continue;
		if (encode_op(d, &want, &b) < 0)
			goto out;
		fd_sim_apply(&d->sim, &want);
		note_op(d, &want);
		d->nops++;
	}
	rc = 0;
out:
	free(d);
	if (rc < 0) {
		free(b.buf);
		return -1;
	}
	*out = b.buf;
	*len = b.len;
	return 0;
}
