/*
 * fcntl.c - fcntl() on the model's fds and descriptions (fs/fcntl.c): the
 * close-on-exec bit of an fd, the status flags of a description, and
 * F_DUPFD.
 *
 * F_GETFL reports f_flags as the kernel keeps it for each kind of file,
 * which is not what the creating call was given:
 *
 *   pipe read end   O_RDONLY | O_NONBLOCK          (create_pipe_files: the
 *   pipe write end  O_WRONLY | O_NONBLOCK | O_DIRECT  read end never gets
 *                                                      O_DIRECT)
 *   eventfd         O_RDWR | O_NONBLOCK            (EFD_CLOEXEC is not kept)
 *   unix socket     O_RDWR | O_NONBLOCK            (sock_alloc_file)
 *   epoll           O_RDWR                         (EPOLL_CLOEXEC is not kept)
 *   /dev/null 0-2   O_RDWR | O_LARGEFILE           (open() forces O_LARGEFILE
 *                                                   on 64-bit kernels)
 *
 * each with the flags the call asked for; O_CLOEXEC is the fd's, never the
 * description's.
 */
#include <errno.h>
#include <fcntl.h>

#include "internal.h"

/* The kernel's O_LARGEFILE; x86_64's <fcntl.h> defines O_LARGEFILE as 0
 * for user space, where it means nothing. */
#define KERNEL_O_LARGEFILE 0100000

/* setfl()'s SETFL_MASK: what F_SETFL may change (O_NDELAY is O_NONBLOCK
 * on x86_64).  FASYNC is not in it: ->fasync sets and clears it. */
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

/* S_ISFIFO(inode): an anonymous pipe's inode is a FIFO, and on a FIFO
 * O_DIRECT is packet mode (fs/pipe.c: is_packetized). */
static bool is_fifo(const struct file *f)
{
	return f->ops == &pipe_read_ops || f->ops == &pipe_write_ops;
}

/* Files with an ->fasync method: pipes (pipe_fasync) and sockets
 * (sock_fasync).  eventfd, epoll and /dev/null have none, so F_SETFL
 * leaves their FASYNC bit clear without an error. */
static bool has_fasync(const struct file *f)
{
	return is_fifo(f) || f->ops == &unix_stream_ops || f->ops == &unix_dgram_ops;
}

/* inode_owner_or_capable(): pipe and socket inodes are made with the
 * caller's fsuid (get_pipe_inode, sock_alloc); the anonymous inode of
 * eventfd and epoll, and /dev/null, are root's. */
static bool owner_or_capable(const struct model *m, const struct file *f)
{
	bool own = is_fifo(f) || f->ops == &unix_stream_ops || f->ops == &unix_dgram_ops;

	return own || m->cap_fowner;
}

uint32_t file_getfl(const struct file *f)
{
	uint32_t mode = f->readable && f->writable ? O_RDWR
		      : f->writable ? O_WRONLY : O_RDONLY;

	return mode | f->flags | (f->ops == &devnull_ops ? KERNEL_O_LARGEFILE : 0);
}

/*
 * setfl(): O_NOATIME needs the owner or CAP_FOWNER (EPERM); O_DIRECT needs
 * a FIFO or a file with FMODE_CAN_ODIRECT, which none of the model's have
 * (EINVAL); a change of FASYNC goes through ->fasync, which sets the bit
 * (fasync_helper) where there is one; then the bits of SETFL_MASK are
 * taken from arg and every other bit (the access mode, O_CREAT, O_CLOEXEC,
 * ...) is ignored.  The flags belong to the description, so every fd of
 * it sees them: a read or write on it blocks, or not, by O_NONBLOCK now.
 */
static int64_t setfl(struct model *m, struct file *f, uint32_t arg)
{
	if ((arg & O_NOATIME) && !(f->flags & O_NOATIME) && !owner_or_capable(m, f))
		return -EPERM;
	if ((arg & O_DIRECT) && !is_fifo(f))
		return -EINVAL;
	if (((arg ^ f->flags) & FASYNC) && has_fasync(f))
		f->flags ^= FASYNC;
	f->flags = (arg & SETFL_MASK) | (f->flags & ~(unsigned)SETFL_MASK);
	return 0;
}

/*
 * f_dupfd(): the lowest free fd at or above arg (an unsigned int: the low
 * 32 bits of the long the call passes), EINVAL at or above RLIMIT_NOFILE,
 * EMFILE when none is free below it.
 */
static int64_t dupfd(struct model *m, struct file *f, uint32_t from, bool cloexec)
{
	int fd;

	if (from >= FD_LIMIT)
		return -EINVAL;
	fd = fd_alloc_above(m, (int)from - 1);
	if (fd < 0)
		return fd;
	file_get(f);
	fd_install(m, fd, f);
	fd_set_cloexec(m, fd, cloexec);
	return fd;
}

/*
 * SYSCALL fcntl -> do_fcntl(): EBADF for an fd that is not open, then the
 * command; a number that is no command is EINVAL.  arg reaches each
 * command as the int or unsigned int it takes.
 */
int64_t sys_fcntl(struct model *m, int64_t fd, int64_t cmd, int64_t arg)
{
	struct file *f = fd_lookup(m, fd);

	if (!f)
		return -EBADF;
	switch ((int)cmd) {
	case F_DUPFD:
		return dupfd(m, f, (uint32_t)arg, false);
	case F_DUPFD_CLOEXEC:
		return dupfd(m, f, (uint32_t)arg, true);
	case F_GETFD:
		return m->fd_cloexec[fd] ? FD_CLOEXEC : 0;
	case F_SETFD:
		fd_set_cloexec(m, (int)fd, (uint32_t)arg & FD_CLOEXEC);
		return 0;
	case F_GETFL:
		return file_getfl(f);
	case F_SETFL:
		return setfl(m, f, (uint32_t)arg);
	default:
		if (!fcntl_cmd_runs(cmd))
			return model_unsupported(m, "fcntl command %d is not modelled "
						 "(only F_GETFL, F_SETFL, F_GETFD, F_SETFD, "
						 "F_DUPFD, F_DUPFD_CLOEXEC)", (int)cmd);
		return -EINVAL;
	}
}
