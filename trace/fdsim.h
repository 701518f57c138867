/*
 * fdsim.h - a cheap simulation of a program's fd table.  The fuzzer's
 * byte decoder and mutator (fuzz/) steer fd arguments with it, towards fds
 * the program has made of the kind the field wants.  Driven by a recorded
 * outcome instead of guesses it is exact, and profiles (profile.h) and the
 * exporters read the kind of file each fd argument names from it.
 */
#ifndef EPOLLFUZZ_FDSIM_H
#define EPOLLFUZZ_FDSIM_H

#include "trace.h"

/* What the simulation believes an fd number holds. */
enum fd_kind {
	FDK_FREE,   /* never used by the program */
	FDK_CLOSED, /* free again after the program used it */
	FDK_NULL,   /* the initial fds, /dev/null */
	FDK_EPOLL,
	FDK_PIPE_R,
	FDK_PIPE_W,
	FDK_EVENTFD,
	FDK_SOCKET,
	FDK_NEGATIVE, /* not a descriptor at all: fd_sim_kind() of a number < 0 */
};

#define FD_KIND_BIT(k) (1u << (k))
/* The kinds of file a program makes. */
#define FD_MADE_KINDS                                                   \
	(FD_KIND_BIT(FDK_EPOLL) | FD_KIND_BIT(FDK_PIPE_R) |             \
	 FD_KIND_BIT(FDK_PIPE_W) | FD_KIND_BIT(FDK_EVENTFD) |           \
	 FD_KIND_BIT(FDK_SOCKET))

/*
 * Creation failures are not simulated (an epoll_create(0) is assumed to
 * make an fd): the simulation only steers fd choices towards the likely
 * interesting ones, and the encoder runs the same one, so it need not be
 * exact.
 */
struct fd_sim {
	uint8_t kind[FD_LIMIT]; /* enum fd_kind */
	int top;                /* one above the highest number ever used */
	unsigned made;          /* open fds the program made */
};

void fd_sim_init(struct fd_sim *s);
/* Updates s for op having run (creations, dups and closes). */
void fd_sim_apply(struct fd_sim *s, const struct op *op);
/* The same for op having run with result res, as a recording says: new
 * fds where the result put them, nothing for a call that failed. */
void fd_sim_apply_result(struct fd_sim *s, const struct op *op,
			 const struct result *res);
/* How many fds an op of this kind makes when it succeeds: 2 (pipe2,
 * socketpair), 1 (the other creations and the dups) or 0. */
unsigned fd_sim_made_by(enum op_kind kind);
/* The same for one op, whose arguments may say (fcntl: F_DUPFD and
 * F_DUPFD_CLOEXEC make one, its other commands none). */
unsigned fd_sim_op_made(const struct op *op);
/* What fd names: FDK_NEGATIVE below 0, FDK_FREE at or above FD_LIMIT. */
enum fd_kind fd_sim_kind(const struct fd_sim *s, int64_t fd);
/* The n-th (modulo their count) fd whose kind is in kinds (FD_KIND_BIT
 * bits), newest first; -1 when there is none. */
int fd_sim_pick(const struct fd_sim *s, unsigned kinds, unsigned n);
/* Its inverse: the n that picks fd (how many fds of those kinds are newer),
 * or -1 when fd is not one of them. */
int fd_sim_rank(const struct fd_sim *s, unsigned kinds, int64_t fd);

#endif
