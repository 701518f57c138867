/*
 * files.c - open file descriptions, wait queues, and the syscalls that act
 * on any kind of file (read, write, shutdown).
 */
#include <errno.h>
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

void waitq_remove(struct wait_entry *e)
{
	list_del_init(&e->link);
}

bool waitq_active(const struct wait_queue *q)
{
	return !list_empty(&q->head);
}

/* Wakes a thread asleep in epoll_wait (ep_autoremove_wake_function): it
 * leaves the queue and will scan when the step settles. */
static int wake_thread(struct model *m, struct thread *t)
{
	waitq_remove(&t->wait);
	t->woken = true;
	t->wake_seq = ++m->wake_counter;
	return 1;
}

void wake_up(struct model *m, struct wait_queue *q, uint32_t key,
	     int nr_exclusive)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &q->head) {
		struct wait_entry *e = list_entry(pos, struct wait_entry, link);
		bool exclusive = e->exclusive;
		int ret = e->thread ? wake_thread(m, e->thread)
				    : ep_poll_callback(m, e->epi, key);

		if (ret && exclusive && !--nr_exclusive)
			break;
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
	if (--f->refs > 0 || f->pinned)
		return;
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

static int64_t devnull_read(struct model *m, struct file *f, size_t len,
			    struct result *res)
{
	return 0;
}

static int64_t devnull_write(struct model *m, struct file *f, size_t len,
			     uint64_t value)
{
	return (int64_t)len;
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

/* ksys_read -> vfs_read: EBADF without FMODE_READ, EINVAL without a read
 * method, then the file's own read. */
int64_t sys_read(struct model *m, int64_t fd, const struct op *op,
		 struct result *res)
{
	struct file *f = fd_lookup(m, fd);

	if (!f || !f->readable)
		return -EBADF;
	if (!f->ops->read)
		return -EINVAL;
	return f->ops->read(m, f, io_len(op, f), res);
}

int64_t sys_write(struct model *m, int64_t fd, const struct op *op)
{
	struct file *f = fd_lookup(m, fd);

	if (!f || !f->writable)
		return -EBADF;
	if (!f->ops->write)
		return -EINVAL;
	return f->ops->write(m, f, io_len(op, f), (uint64_t)op->f[F_VALUE]);
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
