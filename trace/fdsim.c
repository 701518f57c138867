/*
 * fdsim.c - the fd table simulation of decode.c and mutate.c (fdsim.h).
 */
#include <limits.h>
#include <string.h>

#include "fdsim.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define KIND_BIT(k) (1u << (k))
#define MADE_KINDS                                                          \
	(KIND_BIT(FDK_EPOLL) | KIND_BIT(FDK_PIPE_R) | KIND_BIT(FDK_PIPE_W) | \
	 KIND_BIT(FDK_EVENTFD) | KIND_BIT(FDK_SOCKET))

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
	s->made -= (KIND_BIT(s->kind[fd]) & MADE_KINDS) != 0;
	s->made += (KIND_BIT(kind) & MADE_KINDS) != 0;
	s->kind[fd] = (uint8_t)kind;
	if (fd >= s->top)
		s->top = fd + 1;
}

static void sim_install(struct fd_sim *s, enum fd_kind kind)
{
	sim_set(s, sim_lowest_free(s), kind);
}

void fd_sim_apply(struct fd_sim *s, const struct op *op)
{
	int64_t fd = op->f[F_FD], newfd = op->f[F_NEWFD];

	switch ((enum op_kind)op->kind) {
	case OP_EPOLL_CREATE:
	case OP_EPOLL_CREATE1:
		sim_install(s, FDK_EPOLL);
		break;
	case OP_PIPE2:
		sim_install(s, FDK_PIPE_R);
		sim_install(s, FDK_PIPE_W);
		break;
	case OP_EVENTFD:
		sim_install(s, FDK_EVENTFD);
		break;
	case OP_SOCKETPAIR:
		sim_install(s, FDK_SOCKET);
		sim_install(s, FDK_SOCKET);
		break;
	case OP_DUP:
		if (sim_open(s, fd))
			sim_install(s, (enum fd_kind)s->kind[fd]);
		break;
	case OP_DUP2:
	case OP_DUP3:
		if (sim_open(s, fd) && newfd != fd && newfd >= 0 && newfd < FD_LIMIT)
			sim_set(s, (int)newfd, (enum fd_kind)s->kind[fd]);
		break;
	case OP_CLOSE:
		if (sim_open(s, fd))
			sim_set(s, (int)fd, FDK_CLOSED);
		break;
	default:
		break;
	}
}

/* The n-th fd (newest, i.e. highest, first) whose kind is in mask, or -1. */
static int sim_pick(const struct fd_sim *s, unsigned mask, unsigned n)
{
	unsigned count = 0;

	for (int fd = 0; fd < s->top; fd++)
		count += (KIND_BIT(s->kind[fd]) & mask) != 0;
	if (count == 0)
		return -1;
	n %= count;
	for (int fd = s->top - 1; fd >= 0; fd--)
		if ((KIND_BIT(s->kind[fd]) & mask) && n-- == 0)
			return fd;
	return -1;
}

/* The kinds of fd an op's field would most sensibly name. */
static unsigned preferred_kinds(enum op_kind kind, enum field_id id)
{
	if (id == F_EPFD)
		return KIND_BIT(FDK_EPOLL);
	switch (kind) {
	case OP_EPOLL_CTL:
		return MADE_KINDS & ~KIND_BIT(FDK_EPOLL);
	case OP_WRITE:
		return KIND_BIT(FDK_PIPE_W) | KIND_BIT(FDK_EVENTFD) | KIND_BIT(FDK_SOCKET);
	case OP_READ:
		return KIND_BIT(FDK_PIPE_R) | KIND_BIT(FDK_EVENTFD) | KIND_BIT(FDK_SOCKET);
	case OP_SHUTDOWN:
		return KIND_BIT(FDK_SOCKET);
	default:
		return MADE_KINDS;
	}
}

static const int64_t big_fds[] = {
	5000, FD_LIMIT - 1, FD_LIMIT, FD_LIMIT + 1, 65536, INT_MAX, -2, INT_MIN, 100000,
};

int64_t fd_sim_choose(const struct fd_sim *s, enum op_kind kind,
		      enum field_id id, uint8_t sel)
{
	int fd = -1;

	if (sel < 144) {
		fd = sim_pick(s, preferred_kinds(kind, id), sel);
		if (fd < 0)
			fd = sim_pick(s, MADE_KINDS, sel);
	} else if (sel < 184) {
		fd = sim_pick(s, MADE_KINDS, sel - 144);
	} else if (sel < 200) {
		fd = sim_pick(s, KIND_BIT(FDK_CLOSED), sel - 184);
		if (fd < 0) /* nothing closed yet: a number never opened */
			return s->top + (sel - 184) % 4;
	} else if (sel < 228) {
		return sel - 200;
	} else if (sel < 236) {
		return -1;
	} else {
		return big_fds[(sel - 236) % ARRAY_LEN(big_fds)];
	}
	/* Nothing of the kind exists yet: a small number, often 0-2. */
	return fd >= 0 ? fd : sel % 8;
}
