/*
 * fdsim.c - the fd table simulation of the fuzzer's decoder and mutator,
 * the profiles and the exporters (fdsim.h).
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <string.h>

#include "fdsim.h"

/* What each creating op makes: the kind of its one fd, or of its two. */
static const struct {
	uint8_t n;
	uint8_t kind[2];
} creates[OP_KIND_COUNT] = {
	[OP_EPOLL_CREATE] = { 1, { FDK_EPOLL } },
	[OP_EPOLL_CREATE1] = { 1, { FDK_EPOLL } },
	[OP_PIPE2] = { 2, { FDK_PIPE_R, FDK_PIPE_W } },
	[OP_EVENTFD] = { 1, { FDK_EVENTFD } },
	[OP_SOCKETPAIR] = { 2, { FDK_SOCKET, FDK_SOCKET } },
};

void fd_sim_init(struct fd_sim *s)
{
	memset(s, 0, sizeof(*s));
	for (int fd = 0; fd < FD_INITIAL_OPEN; fd++)
		s->kind[fd] = FDK_NULL;
	s->top = FD_INITIAL_OPEN;
}

static bool sim_open(const struct fd_sim *s, int64_t fd)
{
	return fd >= 0 && fd < FD_LIMIT && s->kind[fd] > FDK_CLOSED;
}

static int sim_lowest_free(const struct fd_sim *s)
{
	for (int fd = 0; fd < FD_LIMIT; fd++)
		if (s->kind[fd] <= FDK_CLOSED)
			return fd;
	return -1;
}

static void sim_set(struct fd_sim *s, int fd, enum fd_kind kind)
{
	if (fd < 0 || fd >= FD_LIMIT)
		return;
	s->made -= (FD_KIND_BIT(s->kind[fd]) & FD_MADE_KINDS) != 0;
	s->made += (FD_KIND_BIT(kind) & FD_MADE_KINDS) != 0;
	s->kind[fd] = (uint8_t)kind;
	if (fd >= s->top)
		s->top = fd + 1;
}

static void sim_install(struct fd_sim *s, enum fd_kind kind)
{
	sim_set(s, sim_lowest_free(s), kind);
}

/* fcntl's F_DUPFD and F_DUPFD_CLOEXEC make an fd; its other commands
 * none. */
static bool is_dupfd(const struct op *op)
{
	return op->kind == OP_FCNTL &&
	       ((int)op->f[F_CMD] == F_DUPFD || (int)op->f[F_CMD] == F_DUPFD_CLOEXEC);
}

/* F_DUPFD: the lowest free fd at or above arg (below FD_LIMIT: EINVAL). */
static void sim_dupfd(struct fd_sim *s, const struct op *op)
{
	uint32_t from = (uint32_t)op->f[F_ARG];

	if (!sim_open(s, op->f[F_FD]))
		return;
	for (uint32_t fd = from; fd < FD_LIMIT; fd++)
		if (s->kind[fd] <= FDK_CLOSED) {
			sim_set(s, (int)fd, (enum fd_kind)s->kind[op->f[F_FD]]);
			return;
		}
}

/* close_range that succeeds without CLOSE_RANGE_CLOEXEC closes every open
 * fd in [first, last] (unsigned numbers). */
static void sim_close_range(struct fd_sim *s, const struct op *op)
{
	uint32_t first = (uint32_t)op->f[F_FIRST], last = (uint32_t)op->f[F_LAST];
	uint32_t flags = (uint32_t)op->f[F_FLAGS];

	if (flags & ~(uint32_t)CLOSE_RANGE_UNSHARE || first > last)
		return;
	for (uint32_t fd = first; fd <= last && fd < FD_LIMIT; fd++)
		if (sim_open(s, fd))
			sim_set(s, (int)fd, FDK_CLOSED);
}

/* What close and close_range drop, whether guessed or recorded (a close
 * of a number that is not open changes nothing). */
static void sim_closes(struct fd_sim *s, const struct op *op)
{
	if (op->kind == OP_CLOSE && sim_open(s, op->f[F_FD]))
		sim_set(s, (int)op->f[F_FD], FDK_CLOSED);
	else if (op->kind == OP_CLOSE_RANGE)
		sim_close_range(s, op);
}

/* The bits a field's names cover: flags (mask == bits) when enums is
 * false, else the enum values' masks. */
static uint64_t named_bits(const struct flag_name *names, bool enums)
{
	uint64_t bits = 0;

	for (unsigned i = 0; names && names[i].name; i++)
		if ((names[i].mask != names[i].bits) == enums)
			bits |= names[i].mask;
	return bits;
}

/* An enum field's value (its flags taken off) is one of its names'. */
static bool enum_named(const struct flag_name *names, uint64_t v)
{
	v &= ~named_bits(names, false);
	for (unsigned i = 0; names && names[i].name; i++)
		if (names[i].mask != names[i].bits && (v & names[i].mask) == names[i].bits &&
		    !(v & ~names[i].mask))
			return true;
	return false;
}

/* A creation that surely fails makes no fd: a flag bit none of its names
 * has, an enum value none of its names is (EINVAL, ESOCKTNOSUPPORT), and
 * epoll_create's size <= 0.  The guess only: a named flag may fail too
 * (fd_sim_apply_result knows). */
static bool creation_fails(const struct op *op)
{
	const struct op_desc *d = &op_table[op->kind];

	if (op->kind == OP_EPOLL_CREATE && op->f[F_SIZE] <= 0)
		return true;
	for (unsigned i = 0; i < d->nfields && i < OP_MAX_FIELDS; i++) {
		const struct field_desc *fd = &d->fields[i];
		uint64_t v = (uint64_t)op->f[fd->id];

		if (fd->kind == FK_FLAGS && fd->names && (v & ~named_bits(fd->names, false)))
			return true;
		if (fd->kind == FK_ENUM && fd->names && !enum_named(fd->names, v))
			return true;
	}
	return false;
}

void fd_sim_apply(struct fd_sim *s, const struct op *op)
{
	int64_t fd = op->f[F_FD], newfd = op->f[F_NEWFD];

	for (unsigned i = 0; i < creates[op->kind].n && !creation_fails(op); i++)
		sim_install(s, (enum fd_kind)creates[op->kind].kind[i]);
	switch ((enum op_kind)op->kind) {
	case OP_DUP:
		if (sim_open(s, fd))
			sim_install(s, (enum fd_kind)s->kind[fd]);
		break;
	case OP_DUP2:
	case OP_DUP3:
		if (sim_open(s, fd) && newfd != fd && newfd >= 0 && newfd < FD_LIMIT)
			sim_set(s, (int)newfd, (enum fd_kind)s->kind[fd]);
		break;
	case OP_FCNTL:
		if (is_dupfd(op))
			sim_dupfd(s, op);
		break;
	default:
		sim_closes(s, op);
		break;
	}
}

/* A call that succeeded put its fds where its result says: the return
 * value, or fds[] for the ops that make two. */
void fd_sim_apply_result(struct fd_sim *s, const struct op *op,
			 const struct result *res)
{
	int64_t fd = op->f[F_FD];

	if (res->ret < 0)
		return;
	if (creates[op->kind].n == 2 && (res->has & RES_FDS)) {
		sim_set(s, res->fds[0], (enum fd_kind)creates[op->kind].kind[0]);
		sim_set(s, res->fds[1], (enum fd_kind)creates[op->kind].kind[1]);
		return;
	}
	if (creates[op->kind].n == 1) {
		sim_set(s, (int)res->ret, (enum fd_kind)creates[op->kind].kind[0]);
		return;
	}
	switch ((enum op_kind)op->kind) {
	case OP_DUP:
	case OP_DUP2:
	case OP_DUP3:
		if (sim_open(s, fd))
			sim_set(s, (int)res->ret, (enum fd_kind)s->kind[fd]);
		break;
	case OP_FCNTL:
		if (is_dupfd(op) && sim_open(s, fd))
			sim_set(s, (int)res->ret, (enum fd_kind)s->kind[fd]);
		break;
	default:
		sim_closes(s, op);
		break;
	}
}

unsigned fd_sim_made_by(enum op_kind kind)
{
	if (kind == OP_DUP || kind == OP_DUP2 || kind == OP_DUP3)
		return 1;
	return creates[kind].n;
}

unsigned fd_sim_op_made(const struct op *op)
{
	return is_dupfd(op) ? 1 : fd_sim_made_by((enum op_kind)op->kind);
}

enum fd_kind fd_sim_kind(const struct fd_sim *s, int64_t fd)
{
	if (fd < 0)
		return FDK_NEGATIVE;
	if (fd >= FD_LIMIT)
		return FDK_FREE;
	return (enum fd_kind)s->kind[fd];
}

int fd_sim_pick(const struct fd_sim *s, unsigned mask, unsigned n)
{
	unsigned count = 0;

	for (int fd = 0; fd < s->top; fd++)
		count += (FD_KIND_BIT(s->kind[fd]) & mask) != 0;
	if (count == 0)
		return -1;
	n %= count;
	for (int fd = s->top - 1; fd >= 0; fd--)
		if ((FD_KIND_BIT(s->kind[fd]) & mask) && n-- == 0)
			return fd;
	return -1;
}

int fd_sim_rank(const struct fd_sim *s, unsigned mask, int64_t fd)
{
	int n = 0;

	if (fd < 0 || fd >= s->top || !(FD_KIND_BIT(s->kind[fd]) & mask))
		return -1;
	for (int newer = s->top - 1; newer > fd; newer--)
		n += (FD_KIND_BIT(s->kind[newer]) & mask) != 0;
	return n;
}
