/*
 * fdtable.c - the fd table: counted references to open file descriptions
 * (fs/file.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>

#include "internal.h"

static int fd_alloc_above_lowest(struct model *m, int reserved)
{
	for (int fd = reserved + 1; fd < FD_LIMIT; fd++)
		if (!m->fd_table[fd])
			return fd;
	return -EMFILE;
}

/* alloc_fd(): the lowest free number; EMFILE at RLIMIT_NOFILE. */
int fd_alloc(struct model *m)
{
	return fd_alloc_above(m, -1);
}

/* The lowest free number above one already reserved (the second fd of
 * pipe2() and socketpair(), taken while the first is not yet installed). */
int fd_alloc_above(struct model *m, int reserved)
{
	int start = reserved + 1;

	if (injected(m, INJECT_NOT_LOWEST_FD) && m->next_fd_hint > start)
		start = m->next_fd_hint;
	for (int fd = start; fd < FD_LIMIT; fd++)
		if (!m->fd_table[fd]) {
			m->next_fd_hint = fd + 1;
			return fd;
		}
	return start > reserved + 1 ? fd_alloc_above_lowest(m, reserved) : -EMFILE;
}

/* fd_install(), after alloc_fd() or do_dup2() cleared the number's
 * close-on-exec bit (__clear_close_on_exec; set again by the callers that
 * were asked for O_CLOEXEC: fd_set_cloexec). */
void fd_install(struct model *m, int fd, struct file *f)
{
	m->fd_table[fd] = f;
	m->fd_cloexec[fd] = false;
	if (fd >= m->fd_top)
		m->fd_top = fd + 1;
}

void fd_set_cloexec(struct model *m, int fd, bool on)
{
	m->fd_cloexec[fd] = on;
}

/* fdget(): fds are unsigned in the kernel, so a negative one is just a
 * very large number that is not open. */
struct file *fd_lookup(struct model *m, int64_t fd)
{
	if (fd < 0 || fd >= FD_LIMIT)
		return NULL;
	return m->fd_table[fd];
}

int64_t sys_dup(struct model *m, int64_t fd)
{
	struct file *f = fd_lookup(m, fd);
	int newfd;

	if (!f)
		return -EBADF;
	newfd = fd_alloc(m);
	if (newfd < 0)
		return newfd;
	file_get(f);
	fd_install(m, newfd, f);
	return newfd;
}

/*
 * ksys_dup3() and do_dup2(): flags, then equal numbers, then the rlimit on
 * newfd, then oldfd.  The file is installed first and the one it replaces
 * closed after (filp_close), so a release caused by the replacement sees the
 * new file already in place.
 */
int64_t sys_dup3(struct model *m, int64_t fd, int64_t newfd, int64_t flags,
		 bool is_dup2)
{
	struct file *f, *old;

	if (is_dup2 && fd == newfd) /* dup2(): "newfd if valid, else EBADF" */
		return fd_lookup(m, fd) ? fd : -EBADF;
	if ((uint32_t)flags & ~(uint32_t)O_CLOEXEC)
		return -EINVAL;
	if ((uint32_t)fd == (uint32_t)newfd)
		return -EINVAL;
	if ((uint32_t)newfd >= FD_LIMIT)
		return -EBADF;
	f = fd_lookup(m, (uint32_t)fd);
	if (!f)
		return -EBADF;
	old = m->fd_table[newfd];
	file_get(f);
	fd_install(m, (int)newfd, f);
	fd_set_cloexec(m, (int)newfd, (uint32_t)flags & O_CLOEXEC);
	if (old)
		file_put(m, old);
	return newfd;
}

/*
 * file_close_fd() and filp_close() of an open fd: the number is free at
 * once; the file lives while referenced.  Returns the file when this was
 * its last reference: the caller releases it (__fput), as the syscall's
 * task work does on the way out.
 */
static struct file *close_fd(struct model *m, int fd)
{
	struct file *f = m->fd_table[fd];

	m->fd_table[fd] = NULL;
	if (injected(m, INJECT_WAKE_ON_EPFD_CLOSE) && file_is_epoll(f))
		threads_return_zero(m, f->priv);
	return file_unref(f) ? f : NULL;
}

/* close(): the number is free at once; the file lives while referenced. */
int64_t sys_close(struct model *m, int64_t fd)
{
	struct file *f = fd_lookup(m, fd), *last;

	if (!f)
		return -EBADF;
	if ((last = close_fd(m, (int)fd)))
		file_release(m, last);
	return 0;
}

/*
 * close_range() (fs/file.c: __close_range): unknown flags, then first >
 * last, are EINVAL; the numbers are unsigned (-1 is ~0U).  Every open fd in
 * [first, last] is closed in ascending order, as close() would; the last
 * references dropped queue their files' release as task work
 * (fput -> task_work_add), which runs when the syscall returns, newest
 * first: task_work_run() takes the list as task_work_add() pushed it
 * (LIFO since c82199061009, "task_work: remove fifo ordering guarantee").
 * So the file of the highest fd closed is released first, and the wakeups
 * and ready-list order its release makes come before the others'.  Between
 * two releases task_work_run() calls cond_resched(): a thread the first
 * woke may run (and scan) before the next (threads_preempt_point).
 * CLOSE_RANGE_CLOEXEC closes nothing and marks the open fds close-on-exec
 * (__range_cloexec; bits on free numbers are not seen: alloc_fd() sets
 * them afresh).  CLOSE_RANGE_UNSHARE was dealt with by the caller
 * (fd_table_unshare), which left the current table the one to work on.
 */
int64_t sys_close_range(struct model *m, int64_t first, int64_t last,
			int64_t flags)
{
	uint32_t fd = (uint32_t)first, max_fd = (uint32_t)last, fl = (uint32_t)flags;
	struct file *released[FD_LIMIT];
	unsigned n = 0;

	if (fl & ~(uint32_t)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (fd > max_fd)
		return -EINVAL;
	if (max_fd > FD_LIMIT - 1)
		max_fd = FD_LIMIT - 1; /* nothing is open at or above RLIMIT_NOFILE */
	if (max_fd >= (uint32_t)m->fd_top)
		max_fd = (uint32_t)m->fd_top - 1; /* nor at or above fd_top */
	for (; fd <= max_fd; fd++) {
		if (!m->fd_table[fd])
			continue;
		if (fl & CLOSE_RANGE_CLOEXEC)
			fd_set_cloexec(m, (int)fd, true);
		else if ((released[n] = close_fd(m, (int)fd)))
			n++;
	}
	while (n > 0) {
		file_release(m, released[--n]);
		if (n > 0) /* task_work_run()'s cond_resched() between works */
			threads_preempt_point(m);
	}
	return 0;
}

void fd_table_use(struct model *m, unsigned proc)
{
	m->fd_table = m->procs[proc].fd;
	m->fd_cloexec = m->procs[proc].cloexec;
}

/* A copy of the current table (dup_fd): every open fd on the same
 * description, one more reference each (get_file), with its close-on-exec
 * bit.  No file changes state: nothing wakes. */
static void fd_table_copy(struct model *m, unsigned proc)
{
	struct fd_table *to = &m->procs[proc];

	for (int fd = 0; fd < m->fd_top; fd++) { /* above: empty in both */
		to->fd[fd] = m->fd_table[fd];
		to->cloexec[fd] = to->fd[fd] ? m->fd_cloexec[fd] : false;
		if (to->fd[fd])
			file_get(to->fd[fd]);
	}
	to->live = true;
	to->forked = false;
}

/*
 * copy_files() -> dup_fd(): the child's table holds every open fd of its
 * parent's, on the same descriptions, one more reference each
 * (get_file), with the same close-on-exec bits (which matter only to an
 * exec, which no program makes).  No file changes state: nothing wakes.
 */
void fd_table_fork(struct model *m, unsigned child)
{
	fd_table_copy(m, child + 1);
	m->procs[child + 1].forked = true;
	m->proc_of[child] = (uint8_t)(child + 1);
}

/*
 * close_range(CLOSE_RANGE_UNSHARE) by thread t, past the flag and range
 * checks (__close_range): when its table is shared (files->count > 1), t
 * gets a copy of its own first (dup_fd; without CLOSE_RANGE_CLOEXEC the
 * fds of the range are left out, which is the same as closing them in the
 * copy: the old table still holds every file, so no file is released), and
 * works on it from then on; the other threads keep the old one.  A table
 * with one task is used in place.  Process 0's table is always shared
 * (the program's threads run there beside the harness's own: the
 * executor's and the reproducer's); a forked child is single-threaded, and
 * so is a table a thread unshared.  t's own table is procs[t + 1], which
 * no fork can take: a fork's child is a thread no earlier op named.
 */
void fd_table_unshare(struct model *m, unsigned t)
{
	if (m->proc_of[t] != 0)
		return;
	fd_table_copy(m, t + 1);
	m->proc_of[t] = (uint8_t)(t + 1);
	fd_table_use(m, t + 1);
}

/*
 * do_exit() -> exit_files() -> put_files_struct() -> close_files(): every
 * open fd, in ascending order, through filp_close() and fput().  The task
 * is exiting but its task work still runs (exit_task_work() comes after
 * exit_files()), so the last references queue their releases as
 * close_range's do, and they run newest first with a cond_resched()
 * between two: the same as close_range(0, ~0U, 0), whose code this is.
 * All of it is over before the parent's waitpid() can return (the task
 * becomes a zombie in exit_notify(), later still).
 */
void fd_table_exit(struct model *m)
{
	sys_close_range(m, 0, -1, 0);
	for (unsigned p = 1; p <= MAX_THREADS; p++)
		if (m->procs[p].fd == m->fd_table)
			m->procs[p].live = false;
}
