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

/*
 * Selector bands: 0-199 (four in five) an fd of the kind the field wants,
 * so that most calls get past their checks to the states behind them (an
 * op with two fds, epoll_ctl, has both right two times in three; with
 * the older split, nearer one in two, three epoll_ctl in four failed);
 * 200-215 any fd the program made (nested epolls, a read of a write end);
 * 216-223 a closed one; 224-235 a small number (0-2 are /dev/null); 236-239
 * -1; 240-255 a big or negative one.  The error paths stay reachable, and
 * the literal selectors reach any number.
 */
int64_t fd_sim_choose(const struct fd_sim *s, enum op_kind kind,
		      enum field_id id, uint8_t sel)
{
	int fd = -1;

	if (sel < 200) {
		fd = fd_sim_pick(s, preferred_kinds(kind, id), sel);
		if (fd < 0)
			fd = fd_sim_pick(s, FD_MADE_KINDS, sel);
	} else if (sel < 216) {
		fd = fd_sim_pick(s, FD_MADE_KINDS, sel - 200);
	} else if (sel < 224) {
		fd = fd_sim_pick(s, FD_KIND_BIT(FDK_CLOSED), sel - 216);
		if (fd < 0) /* nothing closed yet: a number never opened */
			return s->top + (sel - 216) % 4;
	} else if (sel < 236) {
		return sel - 224;
	} else if (sel < 240) {
		return -1;
	} else {
		return big_fds[(sel - 240) % ARRAY_LEN(big_fds)];
	}
	/* Nothing of the kind exists yet: a small number, often 0-2. */
	return fd >= 0 ? fd : sel % 8;
}

/* The bands above, read backwards: the first (the most relative) that
 * names fd.  fd_sim_choose(s, kind, id, fd_sim_selector(...)) == fd. */
int fd_sim_selector(const struct fd_sim *s, enum op_kind kind,
		    enum field_id id, int64_t fd)
{
	unsigned wanted = preferred_kinds(kind, id);
	int n;

	if (fd_sim_pick(s, wanted, 0) < 0)
		wanted = FD_MADE_KINDS; /* none of them: the first band's fallback */
	if ((n = fd_sim_rank(s, wanted, fd)) >= 0 && n < 200)
		return n;
	if ((n = fd_sim_rank(s, FD_MADE_KINDS, fd)) >= 0 && n < 16)
		return 200 + n;
	if ((n = fd_sim_rank(s, FD_KIND_BIT(FDK_CLOSED), fd)) >= 0 && n < 8)
		return 216 + n;
	if (fd >= s->top && fd < s->top + 4 &&
	    fd_sim_pick(s, FD_KIND_BIT(FDK_CLOSED), 0) < 0)
		return 216 + (int)(fd - s->top);
	if (fd >= 0 && fd < 12)
		return 224 + (int)fd;
	if (fd == -1)
		return 236;
	for (unsigned i = 0; i < ARRAY_LEN(big_fds); i++)
		if (big_fds[i] == fd)
			return 240 + (int)i;
	return -1;
}
