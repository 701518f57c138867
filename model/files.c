/*
 * files.c - open file descriptions, wait queues, and the syscalls that act
 * on any kind of file (read, write, shutdown).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* ------------------------------------------------------------ arena */

void *model_alloc(struct model *m, size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		abort(); /* a fuzzer has no way on without memory */
	if (m->nallocs == m->cap_allocs) {
		m->cap_allocs = m->cap_allocs ? m->cap_allocs * 2 : 64;
		m->allocs = realloc(m->allocs, m->cap_allocs * sizeof(*m->allocs));
		if (!m->allocs)
			abort();
	}
	m->allocs[m->nallocs++] = p;
	return p;
}

void model_free_early(struct model *m, void *p)
{
	/* Most early frees are of the newest allocations: search backwards. */
	for (size_t i = m->nallocs; i-- > 0;)
		if (m->allocs[i] == p) {
			m->allocs[i] = m->allocs[--m->nallocs];
			free(p);
			return;
		}
}

int model_unsupported(struct model *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->unsupported, sizeof(m->unsupported), fmt, ap);
	va_end(ap);
	return MODEL_UNSUPPORTED;
}

/* ------------------------------------------------------------ wait queues */

void waitq_init(struct wait_queue *q)
{
	list_init(&q->head);
}

void waitq_add(struct wait_queue *q, struct wait_entry *e)
{
	e->exclusive = false;
	list_add(&e->link, &q->head);
}

void waitq_add_exclusive_tail(struct wait_queue *q, struct wait_entry *e)
{
	e->exclusive = true;
	list_add_tail(&e->link, &q->head);
}

void waitq_add_exclusive_head(struct wait_queue *q, struct wait_entry *e)
{
	e->exclusive = true;
	list_add(&e->link, &q->head);
}

void waitq_add_tail(struct wait_queue *q, struct wait_entry *e)
{
	e->exclusive = false;
	list_add_tail(&e->link, &q->head);
}

void waitq_remove(struct wait_entry *e)
{
	list_del_init(&e->link);
}

bool waitq_active(const struct wait_queue *q)
{
	return !list_empty(&q->head);
}

/*
 * Wakes a sleeping thread (autoremove_wake_function, and for epoll_wait
 * ep_autoremove_wake_function): it leaves the queue and runs when the step
 * settles (it scans, or its read or write goes on).  A datagram reader's
 * entry ignores keys without EPOLLIN or EPOLLERR and says it woke nobody
 * (receiver_wake_function), so an exclusive walk goes on past it.
 */
static int wake_thread(struct model *m, struct wait_entry *e, uint32_t key)
{
	struct thread *t = e->thread;

	if (key && e->keys && !(key & e->keys))
		return 0;
	waitq_remove(&t->wait);
	t->woken = true;
	t->wake_seq = ++m->wake_counter;
	return 1;
}

/*
 * A wake-one walk that an EPOLLEXCLUSIVE interest ended (its instance had
 * a waiter) never calls the entries behind it: a thread asleep there in a
 * read or write is not woken, whatever it waits for (the kernel's own
 * starvation, which the lost-wakeup invariant must tell from the model's).
 */
static void pass_over(struct wait_queue *q, struct wait_entry *stop)
{
	for (struct list_head *pos = stop->link.next; pos != &q->head; pos = pos->next) {
		struct wait_entry *e = list_entry(pos, struct wait_entry, link);

		if (e->thread)
			e->thread->passed_over = true;
	}
}

void wake_up(struct model *m, struct wait_queue *q, uint32_t key,
	     int nr_exclusive)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &q->head) {
		struct wait_entry *e = list_entry(pos, struct wait_entry, link);
		bool exclusive = e->exclusive;
		int ret = e->thread ? wake_thread(m, e, key)
				    : ep_poll_callback(m, e->epi, key);

		if (ret && exclusive && !--nr_exclusive) {
			if (e->epi)
				pass_over(q, e);
			break;
		}
	}
}

/* ------------------------------------------------------------ files */

struct file *file_new(struct model *m, const struct file_ops *ops, void *priv,
		      unsigned flags)
{
	struct file *f = model_alloc(m, sizeof(*f));

	f->ops = ops;
	f->id = m->next_file_id++;
	f->refs = 1;
	f->live = true;
	f->readable = f->writable = true;
	f->flags = flags;
	f->priv = priv;
	list_init(&f->f_ep);
	list_add_tail(&f->m_link, &m->files);
	return f;
}

void file_get(struct file *f)
{
	f->refs++;
}

/*
 * __fput(): eventpoll_release() comes first, so a file's own interests are
 * gone before its release method wakes anyone.
 */
void file_put(struct model *m, struct file *f)
{
	if (file_unref(f))
		file_release(m, f);
}

bool file_unref(struct file *f)
{
	return --f->refs <= 0 && !f->pinned;
}

void file_release(struct model *m, struct file *f)
{
	eventpoll_release(m, f);
	if (f->ops->release)
		f->ops->release(m, f);
	f->live = false;
}

bool file_is_epoll(const struct file *f)
{
	return f->ops == &epoll_ops;
}

/* ------------------------------------------------------------ /dev/null */

static int64_t devnull_read(struct model *m, struct file *f, struct io *io,
			    struct result *res)
{
	return 0;
}

static int64_t devnull_write(struct model *m, struct file *f, struct io *io)
{
	return (int64_t)io->len;
}

/* /dev/null has no poll method: epoll_ctl ADD says EPERM. */
const struct file_ops devnull_ops = {
	.name = "/dev/null",
	.read = devnull_read,
	.write = devnull_write,
};

/* ------------------------------------------------------------ syscalls */

/* The byte count the kernel sees (vfs_read/vfs_write clamp at MAX_RW_COUNT,
 * far above MAX_IO_LEN, so the op's length is used as is). */
static size_t io_len(const struct op *op, const struct file *f)
{
	return op_io_len(op, f && f->ops == &eventfd_ops);
}

/* A new read or write by the op's thread; its frame is the thread's. */
static struct io *io_start(struct model *m, const struct op *op,
			   const struct file *f, bool write)
{
	struct thread *t = &m->threads[op->t];
	struct io *io = &t->io;

	*io = (struct io){
		.thread = t,
		.write = write,
		.len = io_len(op, f),
		.value = (uint64_t)op->f[F_VALUE],
		.nonblock = (f->flags & O_NONBLOCK) != 0,
	};
	return io;
}

/*
 * Sleeping in a read or write (wait_event_interruptible_exclusive(),
 * wait_event_interruptible_locked_irq(), prepare_to_wait() and their
 * kin): the thread's entry goes on the object's queue where the kernel's
 * wait puts it.  Woken, the entry has left the queue (autoremove); a call
 * that finds it must sleep again queues itself anew, at the same end.
 */
int64_t io_sleep(struct io *io, struct wait_queue *q, enum sleep_how how,
		 uint32_t keys)
{
	struct thread *t = io->thread;

	t->woken = false;
	t->passed_over = false;
	t->wq = q;
	t->wait.keys = keys;
	switch (how) {
	case SLEEP_EXCLUSIVE:
		waitq_add_exclusive_tail(q, &t->wait);
		break;
	case SLEEP_TAIL:
		waitq_add_tail(q, &t->wait);
		break;
	case SLEEP_HEAD:
		waitq_add(q, &t->wait);
		break;
	}
	return MODEL_BLOCKED;
}

/*
 * ksys_read -> vfs_read: EBADF without FMODE_READ, EINVAL without a read
 * method, then the file's own read.  One that sleeps holds the file
 * (fdget() takes a reference in a process with several threads), so a
 * close() of the fd by another thread leaves it asleep on the description.
 */
int64_t sys_read(struct model *m, int64_t fd, const struct op *op,
		 struct result *res)
{
	struct file *f = fd_lookup(m, fd);
	int64_t ret;

	if (!f || !f->readable)
		return -EBADF;
	if (!f->ops->read)
		return -EINVAL;
	ret = f->ops->read(m, f, io_start(m, op, f, false), res);
	if (ret == MODEL_BLOCKED)
		thread_block_io(m, op->t, f);
	return ret;
}

int64_t sys_write(struct model *m, int64_t fd, const struct op *op)
{
	struct file *f = fd_lookup(m, fd);
	int64_t ret;

	if (!f || !f->writable)
		return -EBADF;
	if (!f->ops->write)
		return -EINVAL;
	ret = f->ops->write(m, f, io_start(m, op, f, true));
	if (ret == MODEL_BLOCKED)
		thread_block_io(m, op->t, f);
	return ret;
}

/* __sys_shutdown: sockfd_lookup_light gives EBADF, then ENOTSOCK; the how
 * check belongs to the protocol (unix_shutdown). */
int64_t sys_shutdown(struct model *m, int64_t fd, int64_t how)
{
	struct file *f = fd_lookup(m, fd);

	if (!f)
		return -EBADF;
	if (!f->ops->shutdown)
		return -ENOTSOCK;
	return f->ops->shutdown(m, f, (int)how);
}
