/*
 * fdtable.c - the fd table: counted references to open file descriptions
 * (fs/file.c).
 */
#include <errno.h>
#include <fcntl.h>

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

void fd_install(struct model *m, int fd, struct file *f)
{
	m->fd_table[fd] = f;
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
	if (old)
		file_put(m, old);
	return newfd;
}

/* close(): the number is free at once; the file lives while referenced. */
int64_t sys_close(struct model *m, int64_t fd)
{
	struct file *f = fd_lookup(m, fd);

	if (!f)
		return -EBADF;
	m->fd_table[fd] = NULL;
	if (injected(m, INJECT_WAKE_ON_EPFD_CLOSE) && file_is_epoll(f))
		threads_return_zero(m, f->priv);
	file_put(m, f);
	return 0;
}
