/*
 * fdchoose.c - how a selector byte of the fuzzer's format names an fd:
 * mostly one the program made, of the kind the field wants, by the fd
 * table simulation (trace/fdsim.h); sometimes a closed, wild or absurd one.
 */
#include <limits.h>

#include "internal.h"

/* The kinds of fd an op's field would most sensibly name. */
static unsigned preferred_kinds(enum op_kind kind, enum field_id id)
{
	if (id == F_EPFD)
		return FD_KIND_BIT(FDK_EPOLL);
	switch (kind) {
	case OP_EPOLL_CTL:
		return FD_MADE_KINDS & ~FD_KIND_BIT(FDK_EPOLL);
	case OP_WRITE:
		return FD_KIND_BIT(FDK_PIPE_W) | FD_KIND_BIT(FDK_EVENTFD) |
		       FD_KIND_BIT(FDK_SOCKET);
	case OP_READ:
		return FD_KIND_BIT(FDK_PIPE_R) | FD_KIND_BIT(FDK_EVENTFD) |
		       FD_KIND_BIT(FDK_SOCKET);
	case OP_SHUTDOWN:
		return FD_KIND_BIT(FDK_SOCKET);
	default:
		return FD_MADE_KINDS;
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
		fd = fd_sim_pick(s, preferred_kinds(kind, id), sel);
		if (fd < 0)
			fd = fd_sim_pick(s, FD_MADE_KINDS, sel);
	} else if (sel < 184) {
		fd = fd_sim_pick(s, FD_MADE_KINDS, sel - 144);
	} else if (sel < 200) {
		fd = fd_sim_pick(s, FD_KIND_BIT(FDK_CLOSED), sel - 184);
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
