/*
 * epoll.c - epoll instances (fs/eventpoll.c).
 *
 * An interest is found by (description, fd number), hooks itself on the
 * watched file's wait queue at ADD, and is queued on the ready list by
 * wakeups (ep_poll_callback), not by level.  A scan (ep_send_events) re-polls
 * each queued interest, drops the ones with nothing to report, re-queues
 * level-triggered ones at the tail and puts what it did not reach back at
 * the head.  Nested instances are files like any other: polling one scans
 * (and purges) its ready list, and queueing on one wakes its watchers with
 * EPOLLIN.
 */
#include <errno.h>
#include <limits.h>
#include <sys/epoll.h>

#include "internal.h"

#define EP_MAX_NESTS 4
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLINOUT_BITS (EPOLLIN | EPOLLOUT)

/* reverse_path_check(): wakeup paths of length 1..5 allowed from one file;
 * index 0 (direct) is not limited. */
static const int path_limits[EP_MAX_NESTS + 1] = { 1000, 500, 100, 50, 10 };

static struct epoll *ep_of(struct file *f)
{
	return f->priv;
}

static bool ep_is_linked(const struct interest *epi)
{
	return !list_empty(&epi->rdllink);
}

bool ep_events_available(const struct epoll *ep)
{
	return !list_empty(&ep->rdllist);
}

/* ------------------------------------------------------------ polling */

static uint32_t ep_eventpoll_poll(struct model *m, struct file *f, int depth,
				  bool peek);

/*
 * ep_item_poll(): the file's current mask, limited to the interest.  It
 * first takes a reference with epi_fget() (file_ref_get, since
 * 4efaa5acf0a1 "epoll: be better about file lifetimes"), which fails once
 * the last one is gone: a file whose last fd was dropped but whose __fput
 * is still queued as task work (close_range's other releases, between
 * task_work_run()'s works) polls 0, "file doesn't exist, poll didn't
 * happen", so a scan drops its item unreported (ep_send_events), and an
 * epoll file in that state is never readable to an outer instance.
 */
static uint32_t ep_item_poll(struct model *m, struct interest *epi, int depth,
			     bool peek)
{
	if (epi->file->refs <= 0 && !epi->file->pinned)
		return 0;
	return epi->file->ops->poll(m, epi->file, depth, peek) & epi->events;
}

/* Wakes the instance's pollers (ep_poll_safewake): outer instances see the
 * key EPOLLIN, whatever woke the inner one.  A chain deeper than the
 * kernel's nesting limit is a cycle of the model's own making: cut. */
static void ep_poll_safewake(struct model *m, struct epoll *ep)
{
	if (m->wake_depth > EP_MAX_NESTS) {
		m->wake_cycle = true;
		return;
	}
	m->wake_depth++;
	wake_up(m, &ep->poll_wait, EPOLLIN, 1);
	m->wake_depth--;
}

/*
 * ep_done_scan(): unreached items go back to the head of the ready list;
 * if anything is left and someone sleeps in epoll_wait, one more of them is
 * woken, so level-triggered events cascade to every waiter.
 */
static void ep_done_scan(struct model *m, struct epoll *ep,
			 struct list_head *txlist)
{
	if (injected(m, INJECT_REMAINDER_AT_TAIL))
		list_splice_tail_init(txlist, &ep->rdllist);
	else
		list_splice_init(txlist, &ep->rdllist);
	if (ep_events_available(ep) && waitq_active(&ep->wq))
		wake_up(m, &ep->wq, 0, 1);
}

/*
 * __ep_eventpoll_poll(): an epoll file is readable when some queued item
 * re-polls non-zero.  Items found not ready on the way are removed from the
 * ready list: polling an epoll changes its later order.
 */
static uint32_t ep_eventpoll_poll(struct model *m, struct file *f, int depth,
				  bool peek)
{
	struct epoll *ep = ep_of(f);
	struct list_head txlist, *pos, *tmp;
	uint32_t res = 0;

	if (peek) {
		list_for_each(pos, &ep->rdllist)
			if (ep_item_poll(m, list_entry(pos, struct interest, rdllink),
					 depth + 1, true))
				return EPOLLIN | EPOLLRDNORM;
		return 0;
	}
	list_init(&txlist);
	list_splice_init(&ep->rdllist, &txlist);
	list_for_each_safe(pos, tmp, &txlist) {
		struct interest *epi = list_entry(pos, struct interest, rdllink);

		if (ep_item_poll(m, epi, depth + 1, false)) {
			res = EPOLLIN | EPOLLRDNORM;
			break;
		}
		list_del_init(&epi->rdllink);
	}
	ep_done_scan(m, ep, &txlist);
	return res;
}

bool ep_has_reportable(struct model *m, struct epoll *ep)
{
	return ep_eventpoll_poll(m, ep->file, 0, true) != 0;
}

static struct wait_queue *ep_poll_queue(struct file *f)
{
	return &ep_of(f)->poll_wait;
}

/* ------------------------------------------------------------ callback */

/*
 * ep_poll_callback().  A disarmed (ONESHOT) item ignores wakeups, and so
 * does one whose interest misses a non-zero key.  Otherwise it is queued at
 * the tail unless already queued (it keeps its place), one epoll_wait
 * sleeper is woken, and the instance's own pollers are told.  Non-exclusive
 * items always count as a wake; exclusive ones only when they woke a
 * sleeper with an event they want.
 */
/* Only for the epoll-fd-number injected bug: the instance looked up by the
 * number epfd had at ADD, as an emulator keyed by fd numbers would. */
static struct epoll *ep_by_number(struct model *m, int epfd)
{
	struct file *f = fd_lookup(m, epfd);

	return f && file_is_epoll(f) ? f->priv : NULL;
}

int ep_poll_callback(struct model *m, struct interest *epi, uint32_t key)
{
	struct epoll *ep = epi->ep;

	if (injected(m, INJECT_EPOLL_FD_NUMBER) &&
	    !(ep = ep_by_number(m, epi->ep_fd)))
		return !(epi->events & EPOLLEXCLUSIVE); /* the event is lost */
	bool exclusive = epi->events & EPOLLEXCLUSIVE;
	int ewake = 0;

	if (!(epi->events & ~EP_PRIVATE_BITS))
		return !exclusive;
	if (key && !(key & epi->events))
		return !exclusive;
	if (!ep_is_linked(epi))
		list_add_tail(&epi->rdllink, &ep->rdllist);
	if (waitq_active(&ep->wq)) {
		if (exclusive) {
			switch (key & EPOLLINOUT_BITS) {
			case EPOLLIN:
				ewake = !!(epi->events & EPOLLIN);
				break;
			case EPOLLOUT:
				ewake = !!(epi->events & EPOLLOUT);
				break;
			case 0:
				ewake = 1;
				break;
			}
		}
		if (!injected(m, INJECT_NO_WAKE_ON_READY))
			wake_up(m, &ep->wq, 0, 1);
	}
	if (waitq_active(&ep->poll_wait))
		ep_poll_safewake(m, ep);
	return exclusive ? ewake : 1;
}

/* ------------------------------------------------------------ the scan */

/*
 * ep_send_events(): the ready list is taken whole; each item is re-polled
 * and reported with its current mask and data, or dropped when the mask is
 * empty.  ONESHOT items are disarmed (only private bits stay), level-
 * triggered ones go back on the tail; edge-triggered ones leave the list.
 */
int ep_send_events(struct model *m, struct epoll *ep, int maxevents,
		   struct result *res)
{
	struct list_head txlist, *pos, *tmp;
	int n = 0;

	list_init(&txlist);
	list_splice_init(&ep->rdllist, &txlist);
	list_for_each_safe(pos, tmp, &txlist) {
		struct interest *epi = list_entry(pos, struct interest, rdllink);
		uint32_t revents;

		if (n >= maxevents)
			break;
		list_del_init(&epi->rdllink);
		revents = ep_item_poll(m, epi, 1, false);
		if (!revents)
			continue;
		outcome_add_event(m->out, res, revents, epi->data);
		n++;
		if ((epi->events & EPOLLONESHOT) &&
		    !injected(m, INJECT_ONESHOT_STAYS_ARMED))
			epi->events &= EP_PRIVATE_BITS;
		else if (!(epi->events & EPOLLET) || injected(m, INJECT_ET_REQUEUE))
			list_add_tail(&epi->rdllink, &ep->rdllist);
	}
	ep_done_scan(m, ep, &txlist);
	res->has |= RES_EVENTS;
	return n;
}

/* ------------------------------------------------------------ interests */

static struct interest *ep_find(struct model *m, struct epoll *ep,
				 struct file *f, int fd)
{
	bool by_number = injected(m, INJECT_INTEREST_BY_FD);
	struct list_head *pos;

	list_for_each(pos, &ep->items) {
		struct interest *epi = list_entry(pos, struct interest, ep_link);

		if ((epi->file == f || by_number) && epi->fd == fd)
			return epi;
	}
	return NULL;
}

/* ep_remove(): unhooked from the file's queue, off the ready list, gone.
 * No wakeup. */
static void ep_remove(struct interest *epi)
{
	waitq_remove(&epi->wait);
	list_del_init(&epi->f_link);
	list_del_init(&epi->ep_link);
	list_del_init(&epi->rdllink);
	epi->live = false;
}

void eventpoll_release(struct model *m, struct file *f)
{
	struct list_head *pos, *tmp;

	if (injected(m, INJECT_SURVIVE_LAST_CLOSE))
		return;

	list_for_each_safe(pos, tmp, &f->f_ep)
		ep_remove(list_entry(pos, struct interest, f_link));
}

/* ------------------------------------------------------------ loop checks */

/*
 * ep_loop_check_proc(): the longest chain of nested instances below ep, or
 * more than EP_MAX_NESTS if the instance being inserted into is reachable
 * (a cycle).  Plain files met on the way are listed for the reverse path
 * check.  Results are memoised per check by generation, as in the kernel
 * (the upward pass shares the memo).
 */
struct loop_check {
	struct model *m;
	struct epoll *inserting_into;
	unsigned gen;
	struct file **files; /* tfile_check_list */
	size_t nfiles, cap;
};

static void list_file(struct loop_check *lc, struct file *f)
{
	for (size_t i = 0; i < lc->nfiles; i++)
		if (lc->files[i] == f)
			return;
	if (lc->nfiles == lc->cap) {
		size_t cap = lc->cap ? lc->cap * 2 : 8;
		struct file **n = model_alloc(lc->m, cap * sizeof(*n));

		for (size_t i = 0; i < lc->nfiles; i++)
			n[i] = lc->files[i];
		if (lc->files)
			model_free_early(lc->m, lc->files);
		lc->files = n;
		lc->cap = cap;
	}
	lc->files[lc->nfiles++] = f;
}

static int ep_loop_check_proc(struct loop_check *lc, struct epoll *ep, int depth)
{
	struct list_head *pos;
	int result = 0;

	if (ep->gen == lc->gen)
		return ep->loop_check_depth;
	ep->gen = lc->gen;
	list_for_each(pos, &ep->items) {
		struct interest *epi = list_entry(pos, struct interest, ep_link);

		if (!file_is_epoll(epi->file)) {
			list_file(lc, epi->file);
			continue;
		}
		struct epoll *to_visit = ep_of(epi->file);
		if (to_visit == lc->inserting_into || depth > EP_MAX_NESTS) {
			result = EP_MAX_NESTS + 1;
		} else {
			int d = ep_loop_check_proc(lc, to_visit, depth + 1) + 1;
			if (d > result)
				result = d;
		}
		if (result > EP_MAX_NESTS)
			break;
	}
	ep->loop_check_depth = result;
	return result;
}

/* ep_get_upwards_depth_proc(): the longest chain of instances above ep. */
static int ep_upwards_depth(struct loop_check *lc, struct epoll *ep)
{
	struct list_head *pos;
	int result = 0;

	if (ep->gen == lc->gen)
		return ep->loop_check_depth;
	list_for_each(pos, &ep->file->f_ep) {
		struct interest *epi = list_entry(pos, struct interest, f_link);
		int d = ep_upwards_depth(lc, epi->ep) + 1;

		if (d > result)
			result = d;
	}
	ep->gen = lc->gen;
	ep->loop_check_depth = result;
	return result;
}

/* ep_loop_check(): since Linux 6.17 (f2e467a48287) the whole chain through
 * the new link counts, built in whichever order; before, only the part
 * below it did. */
static bool ep_loop_check(struct loop_check *lc, struct epoll *ep,
			  struct epoll *to)
{
	int depth = ep_loop_check_proc(lc, to, 0);

	if (depth > EP_MAX_NESTS)
		return false;
	return depth + 1 + ep_upwards_depth(lc, ep) <= EP_MAX_NESTS;
}

/* reverse_path_check_proc(): counts the wakeup paths from a file up to
 * instances nobody watches, by length. */
static int reverse_path_check_proc(struct list_head *refs, int depth,
				   int *path_count)
{
	struct list_head *pos;

	if (depth > EP_MAX_NESTS)
		return -1;
	list_for_each(pos, refs) {
		struct interest *epi = list_entry(pos, struct interest, f_link);
		struct list_head *up = &epi->ep->file->f_ep;
		int error = 0;

		if (list_empty(up)) {
			if (depth && ++path_count[depth] > path_limits[depth])
				error = -1;
		} else {
			error = reverse_path_check_proc(up, depth + 1, path_count);
		}
		if (error)
			return error;
	}
	return 0;
}

static int reverse_path_check(struct loop_check *lc)
{
	for (size_t i = 0; i < lc->nfiles; i++) {
		int path_count[EP_MAX_NESTS + 1] = { 0 };

		if (reverse_path_check_proc(&lc->files[i]->f_ep, 0, path_count))
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ ctl */

/* Queues a ready item after ADD or MOD: tail of the ready list, one
 * sleeper woken, pollers told. */
static void ep_queue_ready(struct model *m, struct interest *epi)
{
	struct epoll *ep = epi->ep;

	if (ep_is_linked(epi))
		return;
	list_add_tail(&epi->rdllink, &ep->rdllist);
	if (waitq_active(&ep->wq))
		wake_up(m, &ep->wq, 0, 1);
	if (waitq_active(&ep->poll_wait))
		ep_poll_safewake(m, ep);
}

/*
 * ep_insert(): attach the item to the file, check the wakeup paths (when a
 * full check runs), then poll the file with a queueing poll table: the item
 * hooks on the file's queue (head for normal items, tail for exclusive
 * ones) and is queued at once if the file is ready.
 */
static int ep_insert(struct model *m, struct epoll *ep, int epfd,
		     struct file *tf, int fd, uint32_t events, uint64_t data,
		     struct loop_check *lc)
{
	struct interest *epi = model_alloc(m, sizeof(*epi));
	struct wait_queue *q = tf->ops->poll_queue(tf);

	epi->ep = ep;
	epi->file = tf;
	epi->fd = fd;
	epi->ep_fd = epfd;
	epi->events = events;
	epi->data = data;
	epi->live = true;
	epi->wait.epi = epi;
	list_init(&epi->rdllink);
	list_init(&epi->wait.link);
	list_add(&epi->f_link, &tf->f_ep);
	list_add_tail(&epi->ep_link, &ep->items);
	if (lc) {
		if (!file_is_epoll(tf))
			list_file(lc, tf);
		if (reverse_path_check(lc)) {
			ep_remove(epi);
			return -EINVAL;
		}
	}
	if (events & EPOLLEXCLUSIVE)
		waitq_add_exclusive_tail(q, &epi->wait);
	else
		waitq_add(q, &epi->wait);
	if (ep_item_poll(m, epi, 1, false))
		ep_queue_ready(m, epi);
	return 0;
}

/* ep_modify(): new mask and data, then a re-poll; a ready item not yet
 * queued is queued at the tail, a queued one keeps its place. */
static int ep_modify(struct model *m, struct interest *epi, uint32_t events,
		     uint64_t data)
{
	epi->events = events;
	epi->data = data;
	if (ep_item_poll(m, epi, 1, false))
		ep_queue_ready(m, epi);
	return 0;
}

/*
 * ep_ctl() is do_epoll_ctl(), in the kernel's order of checks: both fds (EBADF), a
 * target that cannot be polled (EPERM, before the epoll checks), same file
 * or not an epoll (EINVAL), EPOLLEXCLUSIVE misuse (EINVAL), loops (ELOOP),
 * then the op itself (EEXIST, ENOENT, or EINVAL for an unknown op).
 */
int ep_ctl(struct model *m, int64_t epfd, int64_t op, int64_t fd,
	      uint32_t events, uint64_t data)
{
	struct file *f = fd_lookup(m, epfd), *tf;
	struct loop_check lc = { .m = m };
	bool full_check = false;
	struct interest *epi;
	struct epoll *ep;

	if (!f)
		return -EBADF;
	tf = fd_lookup(m, fd);
	if (!tf)
		return -EBADF;
	if (injected(m, INJECT_ERRNO_ORDER) && (f == tf || !file_is_epoll(f)))
		return -EINVAL;
	if (!tf->ops->poll_queue)
		return -EPERM;
	if (f == tf || !file_is_epoll(f))
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && (events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == EPOLL_CTL_ADD &&
		    (file_is_epoll(tf) || (events & ~EPOLLEXCLUSIVE_OK_BITS)))
			return -EINVAL;
	}
	ep = ep_of(f);
	if (op == EPOLL_CTL_ADD &&
	    (!list_empty(&f->f_ep) || file_is_epoll(tf))) {
		full_check = true;
		lc.inserting_into = ep;
		lc.gen = ++m->loop_check_gen;
		if (file_is_epoll(tf) && !ep_loop_check(&lc, ep, ep_of(tf)))
			return -ELOOP;
	}
	epi = ep_find(m, ep, tf, (int)fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (epi)
			return -EEXIST;
		return ep_insert(m, ep, (int)epfd, tf, (int)fd, events | EPOLLERR | EPOLLHUP,
				 data, full_check ? &lc : NULL);
	case EPOLL_CTL_DEL:
		if (!epi)
			return -ENOENT;
		ep_remove(epi);
		return 0;
	case EPOLL_CTL_MOD:
		if (!epi)
			return -ENOENT;
		if (epi->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		return ep_modify(m, epi, events | EPOLLERR | EPOLLHUP, data);
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------ the file */

/*
 * ep_eventpoll_release() -> ep_clear_and_put(): the instance's own items are
 * unhooked from the files they watch; no wakeup reaches anyone (the
 * instance's watchers were already removed by eventpoll_release()).
 */
static void ep_release(struct model *m, struct file *f)
{
	struct epoll *ep = ep_of(f);
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &ep->items)
		ep_remove(list_entry(pos, struct interest, ep_link));
	ep->live = false;
}

const struct file_ops epoll_ops = {
	.name = "epoll",
	.poll = ep_eventpoll_poll,
	.poll_queue = ep_poll_queue,
	.release = ep_release,
};

struct epoll *epoll_new(struct model *m)
{
	struct epoll *ep = model_alloc(m, sizeof(*ep));

	list_init(&ep->items);
	list_init(&ep->rdllist);
	waitq_init(&ep->poll_wait);
	waitq_init(&ep->wq);
	ep->live = true;
	return ep;
}

/* do_epoll_create(): flags other than EPOLL_CLOEXEC are EINVAL. */
int64_t sys_epoll_create1(struct model *m, int64_t flags)
{
	struct epoll *ep;
	int fd;

	if ((uint32_t)flags & ~(uint32_t)EPOLL_CLOEXEC)
		return -EINVAL;
	fd = fd_alloc(m);
	if (fd < 0)
		return fd;
	ep = epoll_new(m);
	ep->file = file_new(m, &epoll_ops, ep, 0);
	fd_install(m, fd, ep->file);
	return fd;
}
