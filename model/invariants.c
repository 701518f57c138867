/*
 * invariants.c - the model's self-checks (DESIGN.md "Invariants"), run
 * after every step, and the damage that tests use to prove each one fires.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static bool violated(struct violation *v, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool violated(struct violation *v, const char *cls, const char *fmt, ...)
{
	va_list ap;

	v->broken = true;
	snprintf(v->cls, sizeof(v->cls), "%s", cls);
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	return false;
}

#define for_each_file(m, f) \
	for (struct list_head *pos_ = (m)->files.next; \
	     pos_ != &(m)->files && ((f) = list_entry(pos_, struct file, m_link)); \
	     pos_ = pos_->next)

/*
 * Every slot names a live description, and a description's count equals
 * the references that exist: fd slots of every process that exists and
 * blocked calls.  So a description some process still holds stays live
 * with its interests, and one whose last reference went (in whichever
 * process) must be released with them, or check_interests says the
 * interest dangles.  One pass over the
 * table tallies the references of every file.
 */
static bool check_fd_table_and_refcounts(struct model *m, struct violation *v)
{
	struct file *f;

	for_each_file(m, f)
		f->counted_refs = 0;
	for (unsigned p = 0; p <= MAX_THREADS; p++)
		for (int fd = 0; fd < m->fd_top; fd++) { /* exited: empty */
			f = m->procs[p].fd[fd];
			if (!f)
				continue;
			if (!f->live)
				return violated(v, "fd-table",
						"fd %d of process %u refers to released %s #%u",
						fd, p, f->ops->name, f->id);
			f->counted_refs++;
		}
	for (unsigned t = 0; t < MAX_THREADS; t++)
		if (m->threads[t].state == THREAD_BLOCKED && m->threads[t].file)
			m->threads[t].file->counted_refs++;
	for_each_file(m, f) {
		if (!f->live)
			continue;
		if (f->counted_refs != f->refs)
			return violated(v, "refcount",
					"%s #%u has refcount %d but %d references",
					f->ops->name, f->id, f->refs, f->counted_refs);
		if (f->counted_refs == 0 && !f->pinned)
			return violated(v, "refcount",
					"%s #%u is live with no reference",
					f->ops->name, f->id);
	}
	return true;
}

/* Every interest's instance and target are live, seen from both sides. */
static bool check_interests(struct model *m, struct violation *v)
{
	struct file *f;
	struct list_head *pos;

	for_each_file(m, f) {
		list_for_each(pos, &f->f_ep) {
			struct interest *epi = list_entry(pos, struct interest, f_link);

			if (!epi->live || !epi->ep->live || !f->live)
				return violated(v, "dangling-interest",
						"interest fd %d on %s #%u: %s", epi->fd,
						f->ops->name, f->id,
						!f->live ? "its file was released"
							 : "its epoll instance was released");
		}
		if (!file_is_epoll(f))
			continue;
		struct epoll *ep = f->priv;
		list_for_each(pos, &ep->items) {
			struct interest *epi = list_entry(pos, struct interest, ep_link);

			if (!epi->file->live || !ep->live || epi->ep != ep)
				return violated(v, "dangling-interest",
						"epoll #%u holds interest fd %d on released %s #%u",
						f->id, epi->fd, epi->file->ops->name,
						epi->file->id);
		}
	}
	return true;
}

static size_t count_items(struct epoll *ep)
{
	size_t n = 0;
	struct list_head *pos;

	list_for_each(pos, &ep->items)
		n++;
	return n;
}

/* Every ready item is a live interest of that instance, once: a walk of
 * the list must come home within as many steps as there are items, with
 * consistent back links. */
static bool check_ready_list(struct epoll *ep, struct violation *v)
{
	size_t limit = count_items(ep), n = 0;
	struct list_head *pos = &ep->rdllist;

	for (;;) {
		struct list_head *next = pos->next;

		if (next->prev != pos)
			return violated(v, "ready-list",
					"epoll #%u: ready list is corrupt (an item is on it twice)",
					ep->file->id);
		if (next == &ep->rdllist)
			return true;
		struct interest *epi = list_entry(next, struct interest, rdllink);
		if (epi->ep != ep || !epi->live)
			return violated(v, "ready-list",
					"epoll #%u: ready item fd %d belongs to %s",
					ep->file->id, epi->fd,
					epi->live ? "another instance" : "no instance");
		if (++n > limit)
			return violated(v, "ready-list",
					"epoll #%u: ready list longer than its %zu interests",
					ep->file->id, limit);
		pos = next;
	}
}

/*
 * No thread sleeps on an instance that has something to report for it, nor
 * in a read or write whose description is readable or writable for it (as
 * its file's io_ready says): every change that makes it so wakes the
 * queue it sleeps on, and a woken thread runs before the step settles.
 * Except where the kernel itself starves a sleeper: __wake_up_common stops
 * at the first exclusive entry that says it woke someone, and an
 * EPOLLEXCLUSIVE interest whose instance had a waiter does, so a wake-one
 * walk may end before a thread asleep behind it (passed_over), which then
 * sleeps on beside data until a later walk reaches it.
 */
static bool check_wakeups(struct model *m, struct violation *v)
{
	for (unsigned t = 0; t < MAX_THREADS; t++) {
		struct thread *th = &m->threads[t];

		if (th->state != THREAD_BLOCKED || th->woken)
			continue;
		if (th->call == CALL_EPOLL_WAIT) {
			if (th->ep && ep_has_reportable(m, th->ep))
				return violated(v, "lost-wakeup",
						"thread %u sleeps on epoll #%u, which has events to report",
						t, th->ep->file->id);
			continue;
		}
		struct file *f = th->file;

		if (f && f->ops->io_ready && f->ops->io_ready(f, &th->io) &&
		    !th->passed_over)
			return violated(v, "lost-wakeup",
					"thread %u sleeps in %s on %s #%u, which is %s for it",
					t, th->io.write ? "write" : "read", f->ops->name,
					f->id, th->io.write ? "writable" : "readable");
	}
	return true;
}

bool model_check(struct model *m, struct violation *v)
{
	struct file *f;

	if (m->wake_cycle)
		return violated(v, "wake-cycle",
				"a wakeup went round a cycle of epoll instances, deeper than the %d nested epolls the kernel allows",
				5);
	if (!check_fd_table_and_refcounts(m, v) || !check_interests(m, v))
		return false;
	for_each_file(m, f)
		if (f->live && file_is_epoll(f) && !check_ready_list(f->priv, v))
			return false;
	return check_wakeups(m, v);
}

/* ------------------------------------------------------------ damage */

static struct interest *any_interest(struct model *m)
{
	struct file *f;

	for_each_file(m, f)
		if (f->live && !list_empty(&f->f_ep))
			return list_entry(f->f_ep.next, struct interest, f_link);
	return NULL;
}

static struct epoll *any_other_epoll(struct model *m, struct epoll *not)
{
	struct file *f;

	for_each_file(m, f)
		if (f->live && file_is_epoll(f) && f->priv != not)
			return f->priv;
	return NULL;
}

/* Thread 1 asleep in a read of a description that has data for it, as
 * if the write had not woken it. */
static bool damage_lost_io_wakeup(struct model *m)
{
	struct thread *t = &m->threads[1];
	struct file *f;

	if (m->nthreads < 2 || t->state == THREAD_BLOCKED)
		return false;
	for_each_file(m, f) {
		t->io = (struct io){ .thread = t, .len = 4096 };
		if (!f->live || !f->readable || !f->ops->io_ready ||
		    !f->ops->poll_queue || !f->ops->io_ready(f, &t->io))
			continue;
		t->state = THREAD_BLOCKED;
		t->call = CALL_READ;
		t->wait.thread = t;
		t->file = f;
		f->refs++;
		io_sleep(&t->io, f->ops->poll_queue(f), SLEEP_EXCLUSIVE, 0);
		return true;
	}
	return false;
}

bool model_damage(struct model *m, enum model_damage what)
{
	struct interest *epi = any_interest(m);
	struct epoll *other;

	switch (what) {
	case DAMAGE_FREE_EPOLL_UNDER_INTEREST:
		if (!epi)
			return false;
		epi->ep->live = false;
		return true;
	case DAMAGE_FREE_FILE_UNDER_INTEREST:
		if (!epi)
			return false;
		epi->file->live = false;
		for (unsigned p = 0; p <= MAX_THREADS; p++) /* keep the tables sane */
			for (int fd = 0; fd < m->fd_top; fd++)
				if (m->procs[p].fd[fd] == epi->file)
					m->procs[p].fd[fd] = NULL;
		return true;
	case DAMAGE_DUPLICATE_READY:
		if (!epi || list_empty(&epi->rdllink))
			return false;
		list_add_tail(&epi->rdllink, &epi->ep->rdllist);
		return true;
	case DAMAGE_FOREIGN_READY:
		if (!epi || !(other = any_other_epoll(m, epi->ep)))
			return false;
		list_del_init(&epi->rdllink);
		list_add_tail(&epi->rdllink, &other->rdllist);
		return true;
	case DAMAGE_REFCOUNT:
		for (int fd = FD_INITIAL_OPEN; fd < m->fd_top; fd++)
			if (m->fd_table[fd]) {
				m->fd_table[fd]->refs++;
				return true;
			}
		return false;
	case DAMAGE_FD_TABLE:
		for (int fd = FD_INITIAL_OPEN; fd < m->fd_top; fd++)
			if (m->fd_table[fd]) {
				m->fd_table[fd]->live = false;
				return true;
			}
		return false;
	case DAMAGE_LOST_WAKEUP:
		if (!epi || !ep_has_reportable(m, epi->ep) || m->nthreads < 2)
			return false;
		m->threads[1].state = THREAD_BLOCKED;
		m->threads[1].call = CALL_EPOLL_WAIT;
		m->threads[1].wait.thread = &m->threads[1];
		m->threads[1].ep = epi->ep;
		m->threads[1].file = epi->ep->file;
		epi->ep->file->refs++;
		waitq_add_exclusive_head(&epi->ep->wq, &m->threads[1].wait);
		return true;
	case DAMAGE_LOST_IO_WAKEUP:
		return damage_lost_io_wakeup(m);
	}
	return false;
}
