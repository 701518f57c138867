/*
 * eventfd.c - eventfd counters (fs/eventfd.c).
 *
 * Blocking: a read of a zero counter, or a write that would take it to
 * ULLONG_MAX, sleeps on ctx->wqh with wait_event_interruptible_locked_irq():
 * at the tail and not exclusive, so every wakeup of wqh (each successful
 * read or write, keyed OUT or IN) wakes every sleeper, readers and writers
 * alike; they race for the counter in whatever order the scheduler runs
 * them, and those that find it still unfit sleep again at the tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "internal.h"

struct eventfd_ctx {
	uint64_t count;
	bool semaphore;
	struct wait_queue wqh;
};

/* efd_poll(): IN while the count is non-zero, OUT while another write
 * of 1 fits (count < ULLONG_MAX - 1), ERR at ULLONG_MAX (which only the
 * kernel's own eventfd_signal can reach). */
static uint32_t efd_poll(struct model *m, struct file *f, int depth,
			     bool peek)
{
	struct eventfd_ctx *ctx = f->priv;
	uint32_t mask = 0;

	if (ctx->count > 0)
		mask |= EPOLLIN;
	if (ctx->count == UINT64_MAX)
		mask |= EPOLLERR;
	if (UINT64_MAX - 1 > ctx->count)
		mask |= EPOLLOUT;
	return mask;
}

static struct wait_queue *eventfd_queue(struct file *f)
{
	return &((struct eventfd_ctx *)f->priv)->wqh;
}

/* Whether a write of value fits (eventfd_write(): the count may reach
 * ULLONG_MAX - 1, never ULLONG_MAX). */
static bool efd_fits(const struct eventfd_ctx *ctx, uint64_t value)
{
	return UINT64_MAX - ctx->count > value;
}

/* Every change of the count wakes wqh, and every sleeper on it: one whose
 * read or write could go on when the step has settled was forgotten. */
static bool efd_io_ready(const struct file *f, const struct io *io)
{
	const struct eventfd_ctx *ctx = f->priv;

	return io->write ? efd_fits(ctx, io->value) : ctx->count > 0;
}

/* efd_read(): a short buffer is EINVAL; a zero count is EAGAIN, or a sleep
 * until it is not zero; a read takes the whole count (or 1 with
 * EFD_SEMAPHORE) and wakes with key OUT. */
static int64_t efd_read(struct model *m, struct file *f, struct io *io,
			    struct result *res)
{
	struct eventfd_ctx *ctx = f->priv;
	uint64_t value;

	if (io->len < sizeof(uint64_t))
		return -EINVAL;
	if (!ctx->count) {
		if (!io->resumed && (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return io_sleep(io, &ctx->wqh, SLEEP_TAIL, 0);
	}
	value = ctx->semaphore ? 1 : ctx->count;
	ctx->count -= value;
	res->value = value;
	res->has |= RES_VALUE;
	if (waitq_active(&ctx->wqh))
		wake_up(m, &ctx->wqh, EPOLLOUT, 1);
	return sizeof(uint64_t);
}

/*
 * efd_write(): exactly 8 bytes since Linux 6.9 ("eventfd: strictly
 * check the count parameter"; older kernels accepted more); ULLONG_MAX is
 * EINVAL; a value that would reach ULLONG_MAX is EAGAIN, or a sleep until
 * reads make room for it.  Every successful write wakes with key IN, a
 * write of 0 too.
 */
static int64_t efd_write(struct model *m, struct file *f, struct io *io)
{
	struct eventfd_ctx *ctx = f->priv;
	uint64_t value = io->value;

	if (io->len != sizeof(uint64_t))
		return -EINVAL;
	if (value == UINT64_MAX)
		return -EINVAL;
	if (!efd_fits(ctx, value)) {
		if (!io->resumed && (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return io_sleep(io, &ctx->wqh, SLEEP_TAIL, 0);
	}
	ctx->count += value;
	if (value == 0 && injected(m, INJECT_NO_EVENTFD_ZERO_WAKE))
		return sizeof(uint64_t);
	if (waitq_active(&ctx->wqh))
		wake_up(m, &ctx->wqh, EPOLLIN, 1);
	return sizeof(uint64_t);
}

/* eventfd_release() wakes with EPOLLHUP only after eventpoll_release()
 * removed the file's own interests: nothing an epoll can see. */
const struct file_ops eventfd_ops = {
	.name = "eventfd",
	.poll = efd_poll,
	.poll_queue = eventfd_queue,
	.read = efd_read,
	.write = efd_write,
	.io_ready = efd_io_ready,
};

/* do_eventfd(): unknown flags are EINVAL; initval is an unsigned int. */
int64_t sys_eventfd(struct model *m, uint64_t initval, int64_t flags)
{
	uint32_t fl = (uint32_t)flags;
	struct eventfd_ctx *ctx;
	int fd;

	if (fl & ~(uint32_t)(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK))
		return -EINVAL;
	fd = fd_alloc(m);
	if (fd < 0)
		return fd;
	ctx = model_alloc(m, sizeof(*ctx));
	ctx->count = (uint32_t)initval;
	ctx->semaphore = fl & EFD_SEMAPHORE;
	waitq_init(&ctx->wqh);
	fd_install(m, fd, file_new(m, &eventfd_ops, ctx, fl & O_NONBLOCK));
	return fd;
}
