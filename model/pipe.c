/*
 * pipe.c - anonymous pipes (fs/pipe.c).
 *
 * A ring of PIPE_DEF_BUFFERS slots of one page each.  Capacity, merging and
 * wakeups follow anon_pipe_write() and anon_pipe_read() of Linux 6.14+
 * exactly, because EPOLLET users see every wakeup and EPOLLOUT depends on
 * the number of slots in use, not on bytes.
 *
 * Blocking: a reader of an empty pipe sleeps on rd_wait, a writer of a full
 * one on wr_wait, both with wait_event_interruptible_exclusive(): at the
 * tail of the queue, woken one at a time in the order they slept (FIFO),
 * and each wakeup goes to the first of them that still sleeps.  The waker
 * hands on what it leaves: a reader that slept and leaves data wakes the
 * next reader, a writer that slept and leaves room wakes the next writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>

#include "internal.h"

#define PIPE_SLOTS 16     /* PIPE_DEF_BUFFERS: pipe->max_usage */
#define PAGE_SIZE 4096

struct pipe_buffer {
	uint32_t offset, len;
	bool can_merge; /* PIPE_BUF_FLAG_CAN_MERGE; else a packet (O_DIRECT) */
};

struct pipe {
	struct pipe_buffer bufs[PIPE_SLOTS];
	uint32_t head, tail; /* free-running; slot = index % PIPE_SLOTS */
	int readers, writers;
	bool poll_usage;     /* sticky: set by any pipe_poll() */
	struct wait_queue rd_wait, wr_wait;
};

static bool pipe_empty(const struct pipe *p)
{
	return p->head == p->tail;
}

static bool pipe_full(const struct pipe *p)
{
	return p->head - p->tail >= PIPE_SLOTS;
}

static struct pipe_buffer *pipe_buf(struct pipe *p, uint32_t index)
{
	return &p->bufs[index % PIPE_SLOTS];
}

/* What a sleeping reader waits for (pipe_readable()): data, or no writer
 * left. */
static bool pipe_readable(const struct pipe *p)
{
	return !pipe_empty(p) || !p->writers;
}

/* What a sleeping writer waits for (pipe_writable()): a free slot, or no
 * reader left. */
static bool pipe_writable(const struct pipe *p)
{
	return !pipe_full(p) || !p->readers;
}

/* Every change that makes a pipe readable or writable for a sleeper wakes
 * its queue (a write into the empty pipe, a read that frees a slot of the
 * full one, the release of the last end of either side), so a sleeper whose
 * condition holds when the step has settled was forgotten. */
static bool pipe_io_ready(const struct file *f, const struct io *io)
{
	const struct pipe *p = f->priv;

	return io->write ? pipe_writable(p) : pipe_readable(p);
}

/* pipe_poll(): a read end sees IN|RDNORM while a slot holds data and HUP
 * once no writer is left; a write end sees OUT|WRNORM while a slot is free
 * and ERR once no reader is left. */
static uint32_t pipe_poll(struct model *m, struct file *f, int depth, bool peek)
{
	struct pipe *p = f->priv;
	uint32_t mask = 0;

	if (!peek)
		p->poll_usage = true;
	if (f->readable) {
		if (!pipe_empty(p))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!p->writers)
			mask |= EPOLLHUP;
	}
	if (f->writable) {
		if (!pipe_full(p))
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (!p->readers)
			mask |= EPOLLERR;
	}
	return mask;
}

static struct wait_queue *pipe_read_queue(struct file *f)
{
	return &((struct pipe *)f->priv)->rd_wait;
}

static struct wait_queue *pipe_write_queue(struct file *f)
{
	return &((struct pipe *)f->priv)->wr_wait;
}

/*
 * anon_pipe_write().  A write of N bytes first tops up the last slot with
 * N % PAGE_SIZE bytes when it can merge (so small writes share a page, and
 * large ones stay page aligned), then takes whole slots.  Non-blocking: a
 * partial count, or EAGAIN when nothing fit.  Every write that got past the
 * zero-length check wakes the readers when the pipe was polled, even the
 * EAGAIN ones: epoll wants a wakeup per write.
 *
 * Blocking, a full pipe puts the writer to sleep on wr_wait (exclusive,
 * FIFO) with what it has written so far, after waking the readers if the
 * pipe was empty when it started (or when it last woke).  A write of at
 * most PAGE_SIZE bytes merges or takes one slot, so it never sleeps half
 * done (PIPE_BUF atomicity); a longer one may.  Woken, it sleeps again
 * unless a slot is free or the readers are gone; otherwise it takes up
 * its loop (no merging now), and when it ends with room left it wakes the
 * next writer (wake_next_writer).  The readers gone, it returns what it
 * wrote, or EPIPE if nothing (SIGPIPE is ignored by the executor).
 */
static int64_t pipe_write(struct model *m, struct file *f, struct io *io)
{
	struct pipe *p = f->priv;
	int64_t ret = io->done;
	size_t left = io->len - (size_t)io->done;
	bool was_empty = false, wake_next_writer = false;

	if (io->len == 0)
		return 0;
	if (io->resumed) {
		/* wait_event_interruptible_exclusive(wr_wait, pipe_writable()) */
		if (!pipe_writable(p))
			return io_sleep(io, &p->wr_wait, SLEEP_EXCLUSIVE, 0);
		was_empty = pipe_empty(p);
		wake_next_writer = true;
	} else {
		if (!p->readers) {
			ret = -EPIPE;
			goto out;
		}
		was_empty = pipe_empty(p);
		size_t chars = left % PAGE_SIZE;
		if (chars && !was_empty) {
			struct pipe_buffer *buf = pipe_buf(p, p->head - 1);

			if (buf->can_merge && buf->offset + buf->len + chars <= PAGE_SIZE) {
				buf->len += (uint32_t)chars;
				ret = (int64_t)chars;
				left -= chars;
				if (!left)
					goto out;
			}
		}
	}
	for (;;) {
		if (!p->readers) {
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (!pipe_full(p)) {
			struct pipe_buffer *buf = pipe_buf(p, p->head++);
			uint32_t copied = left < PAGE_SIZE ? (uint32_t)left : PAGE_SIZE;

			buf->offset = 0;
			buf->len = copied;
			buf->can_merge = !(f->flags & O_DIRECT);
			ret += copied;
			left -= copied;
			if (!left)
				break;
			continue;
		}
		if (f->flags & O_NONBLOCK) {
			if (!ret)
				ret = -EAGAIN;
			break;
		}
		io->done = ret;
		if (was_empty)
			wake_up(m, &p->rd_wait, EPOLLIN | EPOLLRDNORM, 1);
		return io_sleep(io, &p->wr_wait, SLEEP_EXCLUSIVE, 0);
	}
out:
	if (pipe_full(p))
		wake_next_writer = false;
	if (was_empty || p->poll_usage)
		wake_up(m, &p->rd_wait, EPOLLIN | EPOLLRDNORM, 1);
	if (wake_next_writer)
		wake_up(m, &p->wr_wait, EPOLLOUT | EPOLLWRNORM, 1);
	return ret;
}

/*
 * anon_pipe_read().  Consumes slots front to back; a packet slot (O_DIRECT)
 * is consumed whole by one read, which then stops.  Writers are woken only
 * when a slot was emptied while the pipe was full (6.14+: "pipe_read: don't
 * wake up the writer if the pipe is still full").
 *
 * Blocking, an empty pipe with a writer left puts the reader to sleep on
 * rd_wait (exclusive, FIFO).  Woken, it sleeps again unless there is data
 * or no writer; otherwise it reads what is there (a small write satisfies
 * it: it never waits for more once it has some), 0 at EOF, and if it leaves
 * data behind it wakes the next reader (wake_next_reader).
 */
static int64_t pipe_read(struct model *m, struct file *f, struct io *io,
			 struct result *res)
{
	struct pipe *p = f->priv;
	size_t len = io->len;
	int64_t ret = 0;
	bool wake_writer = false, wake_next_reader = false;

	if (len == 0)
		return 0;
	if (io->resumed) {
		/* wait_event_interruptible_exclusive(rd_wait, pipe_readable()) */
		if (!pipe_readable(p))
			return io_sleep(io, &p->rd_wait, SLEEP_EXCLUSIVE, 0);
		wake_next_reader = true;
	}
	for (;;) {
		if (!pipe_empty(p)) {
			struct pipe_buffer *buf = pipe_buf(p, p->tail);
			size_t chars = buf->len < len ? buf->len : len;

			ret += (int64_t)chars;
			buf->offset += (uint32_t)chars;
			buf->len -= (uint32_t)chars;
			if (!buf->can_merge) { /* a packet: the rest of it is dropped */
				len = chars;
				buf->len = 0;
			}
			if (!buf->len) {
				wake_writer |= pipe_full(p);
				p->tail++;
			}
			len -= chars;
			if (!len)
				break;
			if (!pipe_empty(p))
				continue;
		}
		if (!p->writers)
			break;
		if (ret)
			break;
		if (f->flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		/* Nothing read, so no slot was freed: wake_writer is false. */
		return io_sleep(io, &p->rd_wait, SLEEP_EXCLUSIVE, 0);
	}
	if (pipe_empty(p))
		wake_next_reader = false;
	if (wake_writer)
		wake_up(m, &p->wr_wait, EPOLLOUT | EPOLLWRNORM, 1);
	if (wake_next_reader)
		wake_up(m, &p->rd_wait, EPOLLIN | EPOLLRDNORM, 1);
	return ret;
}

/* pipe_release(): when one side is gone but not both, everyone on either
 * queue is woken with no key. */
static void pipe_release(struct model *m, struct file *f)
{
	struct pipe *p = f->priv;

	if (f->readable)
		p->readers--;
	if (f->writable)
		p->writers--;
	if (!p->readers != !p->writers) {
		wake_up(m, &p->rd_wait, 0, 0);
		wake_up(m, &p->wr_wait, 0, 0);
	}
}

const struct file_ops pipe_read_ops = {
	.name = "pipe (read end)",
	.poll = pipe_poll,
	.poll_queue = pipe_read_queue,
	.read = pipe_read,
	.write = pipe_write,
	.io_ready = pipe_io_ready,
	.release = pipe_release,
};

const struct file_ops pipe_write_ops = {
	.name = "pipe (write end)",
	.poll = pipe_poll,
	.poll_queue = pipe_write_queue,
	.read = pipe_read,
	.write = pipe_write,
	.io_ready = pipe_io_ready,
	.release = pipe_release,
};

/*
 * pipe2(): flags are checked first; O_NOTIFICATION_PIPE (== O_EXCL) makes a
 * watch-queue pipe, which needs CONFIG_WATCH_QUEUE: without it the kernel
 * says ENOPKG, which is what the model assumes (kernel-config dependent).
 * The read end takes the lowest free fd, then the write end.
 */
int64_t sys_pipe2(struct model *m, int64_t flags, struct result *res)
{
	uint32_t fl = (uint32_t)flags;
	struct pipe *p;
	struct file *r, *w;
	int rfd, wfd;

	if (fl & ~(uint32_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_EXCL))
		return -EINVAL;
	if (fl & O_EXCL)
		return -ENOPKG;
	rfd = fd_alloc(m);
	if (rfd < 0)
		return rfd;
	wfd = fd_alloc_above(m, rfd);
	if (wfd < 0)
		return wfd;

	p = model_alloc(m, sizeof(*p));
	p->readers = p->writers = 1;
	waitq_init(&p->rd_wait);
	waitq_init(&p->wr_wait);
	/* create_pipe_files(): O_DIRECT (packet mode) is the write end's only */
	r = file_new(m, &pipe_read_ops, p, fl & O_NONBLOCK);
	r->writable = false;
	w = file_new(m, &pipe_write_ops, p, fl & (O_NONBLOCK | O_DIRECT));
	w->readable = false;
	fd_install(m, rfd, r);
	fd_install(m, wfd, w);
	res->fds[0] = rfd;
	res->fds[1] = wfd;
	res->has |= RES_FDS;
	return 0;
}
