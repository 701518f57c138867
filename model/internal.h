/*
 * internal.h - the model's kernel objects.  Private to model/.
 *
 * The model mirrors the kernel's objects rather than the syscalls' surface:
 * open file descriptions with reference counts, an fd table of counted
 * references, wait queues whose entries are called in list order, and epoll
 * instances whose interests (the kernel's epitems) are keyed by
 * (description, fd number).  Function comments name the kernel function
 * whose behaviour they mirror; fs/eventpoll.c, fs/pipe.c, fs/eventfd.c,
 * net/unix/af_unix.c and fs/file.c are the references.
 */
#ifndef EPOLLFUZZ_MODEL_INTERNAL_H
#define EPOLLFUZZ_MODEL_INTERNAL_H

#include <stdint.h>

#include "list.h"
#include "model.h"

/*
 * Returned (instead of a negative errno) by anything the model does not
 * cover; model->unsupported says what.  The run stops there: the model never
 * guesses.
 */
#define MODEL_UNSUPPORTED (-100000)
/* Returned by a call that leaves its thread asleep. */
#define MODEL_BLOCKED (-100001)

struct model;
struct file;
struct interest;
struct thread;
struct io;

/* ------------------------------------------------------------ wait queues */

/*
 * One entry of a wait queue (the kernel's wait_queue_entry_t).  An entry is
 * either an epoll interest hooked on a file's queue (ep_ptable_queue_proc)
 * or a sleeping thread: in epoll_wait on the instance's own queue (ep_poll),
 * or in a read or write on the object's queue.  A thread's entry wakes it
 * and leaves the queue (autoremove_wake_function), unless the key misses
 * the entry's keys (receiver_wake_function: a datagram reader wakes only for
 * EPOLLIN or EPOLLERR, or an unkeyed wakeup).
 */
struct wait_entry {
	struct list_head link;
	bool exclusive;
	struct interest *epi;  /* set for an interest's hook */
	struct thread *thread; /* set for a sleeping thread */
	uint32_t keys;         /* a thread's: the keys that wake it; 0: any */
};

struct wait_queue {
	struct list_head head;
};

void waitq_init(struct wait_queue *q);
/* add_wait_queue: non-exclusive entries go to the head. */
void waitq_add(struct wait_queue *q, struct wait_entry *e);
/* add_wait_queue_exclusive: exclusive entries go to the tail. */
void waitq_add_exclusive_tail(struct wait_queue *q, struct wait_entry *e);
/* __add_wait_queue_exclusive: ep_poll's waiters go to the HEAD. */
void waitq_add_exclusive_head(struct wait_queue *q, struct wait_entry *e);
/* __add_wait_queue_entry_tail without WQ_FLAG_EXCLUSIVE: do_wait_intr_irq()
 * (eventfd's sleepers) queues at the tail and is woken by every wakeup. */
void waitq_add_tail(struct wait_queue *q, struct wait_entry *e);
void waitq_remove(struct wait_entry *e);
bool waitq_active(const struct wait_queue *q);
/*
 * __wake_up_common: calls every entry in order with the poll key; stops
 * after nr_exclusive exclusive entries said they woke someone.
 * nr_exclusive 0 means all (wake_up_all).
 */
void wake_up(struct model *m, struct wait_queue *q, uint32_t key,
	     int nr_exclusive);

/* ------------------------------------------------------------ files */

struct file_ops {
	const char *name;
	/*
	 * f_op->poll: the current readiness mask.  peek asks for a mask with
	 * no side effects (the invariant checker's view); a real poll of an
	 * epoll file purges its ready list, as __ep_eventpoll_poll does.
	 */
	uint32_t (*poll)(struct model *m, struct file *f, int depth, bool peek);
	/* The queue f_op->poll registers on; NULL when the file cannot be
	 * polled (file_can_poll() false: epoll_ctl says EPERM). */
	struct wait_queue *(*poll_queue)(struct file *f);
	/* Return bytes, -errno, MODEL_UNSUPPORTED, or MODEL_BLOCKED when the
	 * call put its thread to sleep (io_sleep); a woken thread calls them
	 * again with io->resumed, and they go on where they slept.  NULL:
	 * EINVAL (no read/write method, as for an epoll file). */
	int64_t (*read)(struct model *m, struct file *f, struct io *io,
			struct result *res);
	int64_t (*write)(struct model *m, struct file *f, struct io *io);
	/* For the lost-wakeup invariant: whether a thread asleep in this
	 * file's read or write (io->write) must have been woken by now: what it
	 * waits for holds, and the change that made it hold wakes its queue.
	 * NULL: its calls never sleep. */
	bool (*io_ready)(const struct file *f, const struct io *io);
	/* NULL: not a socket (ENOTSOCK). */
	int (*shutdown)(struct model *m, struct file *f, int how);
	/* f_op->release, after eventpoll_release() removed f's interests. */
	void (*release)(struct model *m, struct file *f);
};

/* An open file description (struct file). */
struct file {
	const struct file_ops *ops;
	unsigned id;      /* creation order, for messages */
	int refs;         /* fd table slots + blocked calls holding it */
	bool live;        /* false once released (kept until reset for checks) */
	bool pinned;      /* the executor's /dev/null: never released */
	bool readable;    /* FMODE_READ */
	bool writable;    /* FMODE_WRITE */
	unsigned flags;   /* status flags (f_flags less the access mode):
			     O_NONBLOCK, O_DIRECT, ...; F_SETFL changes them */
	struct list_head f_ep; /* interests watching this file (file->f_ep) */
	struct list_head m_link; /* in model->files, released ones too */
	int counted_refs; /* scratch for the refcount invariant */
	void *priv;       /* struct pipe, eventfd_ctx, usock or epoll */
};

extern const struct file_ops devnull_ops, pipe_read_ops, pipe_write_ops,
	eventfd_ops, unix_stream_ops, unix_dgram_ops, epoll_ops;

struct file *file_new(struct model *m, const struct file_ops *ops, void *priv,
		      unsigned flags);
void file_get(struct file *f);
/* fput(): drops one reference; the last one releases the file (__fput). */
void file_put(struct model *m, struct file *f);
/* The two halves of fput() for a caller that defers the release, as the
 * kernel does (task work: ____fput runs when the syscall returns):
 * file_unref() drops one reference and says whether it was the last,
 * file_release() is __fput. */
bool file_unref(struct file *f);
void file_release(struct model *m, struct file *f);
/* F_GETFL: f->f_flags, the access mode and the status flags. */
uint32_t file_getfl(const struct file *f);
bool file_is_epoll(const struct file *f);

/* ------------------------------------------------------------ fd table */

/* Lowest free fd (alloc_fd); -EMFILE when none below FD_LIMIT. */
int fd_alloc(struct model *m);
int fd_alloc_above(struct model *m, int reserved);
void fd_install(struct model *m, int fd, struct file *f);
/* fdget(): the file at fd or NULL. */
struct file *fd_lookup(struct model *m, int64_t fd);

/* ------------------------------------------------------------ epoll */

struct epoll {
	struct file *file;
	struct list_head items;     /* every interest, in ADD order */
	struct list_head rdllist;   /* the ready list */
	struct wait_queue poll_wait; /* interests of epolls watching this one */
	struct wait_queue wq;       /* threads asleep in epoll_wait */
	bool live;
	unsigned gen;               /* loop checks' memo (ep->gen) */
	int loop_check_depth;
};

/* An epitem: one (description, fd number) registered in one instance. */
struct interest {
	struct epoll *ep;     /* the instance itself, never an fd number */
	struct file *file;    /* the watched description; not counted */
	int fd;               /* the number given at ADD, never re-validated */
	int ep_fd;            /* epfd at ADD: only the epoll-fd-number bug uses it */
	uint32_t events;      /* interest mask, with EPOLLERR|EPOLLHUP */
	uint64_t data;
	struct list_head ep_link;  /* in ep->items */
	struct list_head f_link;   /* in file->f_ep */
	struct list_head rdllink;  /* in ep->rdllist; empty when not queued */
	struct wait_entry wait;    /* hooked on the file's poll queue */
	bool live;
};

struct epoll *epoll_new(struct model *m);
/* eventpoll_release(): removes every interest watching f, silently. */
void eventpoll_release(struct model *m, struct file *f);
int ep_ctl(struct model *m, int64_t epfd, int64_t op, int64_t fd,
	      uint32_t events, uint64_t data);
/* ep_poll_callback(): what a wakeup does to one interest; returns whether
 * it counts as an exclusive wake. */
int ep_poll_callback(struct model *m, struct interest *epi, uint32_t key);
/* The scan of epoll_wait (ep_send_events), appending to res. */
int ep_send_events(struct model *m, struct epoll *ep, int maxevents,
		   struct result *res);
bool ep_events_available(const struct epoll *ep);
/* Side-effect free: would a scan of ep report something now? */
bool ep_has_reportable(struct model *m, struct epoll *ep);

/* ------------------------------------------------------------ threads */

enum thread_state { THREAD_RUNNING, THREAD_BLOCKED };

/* What a blocked thread sleeps in. */
enum thread_call { CALL_EPOLL_WAIT, CALL_READ, CALL_WRITE };

/*
 * A read or write as the kernel's call frame holds it.  A call that sleeps
 * keeps it while it sleeps, and when woken goes on where it stopped
 * (pipe_write's and unix_stream_sendmsg's loops), so what the call has done
 * so far and what its loop remembers across the sleep live here.
 */
struct io {
	struct thread *thread; /* who makes the call */
	bool write;
	size_t len;            /* bytes asked for */
	uint64_t value;        /* an eventfd write's value */
	int64_t done;          /* bytes moved before it slept */
	bool resumed;          /* woken: the call goes on from its sleep */
	/* O_NONBLOCK as the call began: a socket call takes MSG_DONTWAIT
	 * from it once (sock_read_iter, sock_write_iter), so an F_SETFL while
	 * it sleeps changes nothing for it; pipes look at f_flags each time. */
	bool nonblock;
};

/* Where a sleeping read or write queues itself. */
enum sleep_how {
	SLEEP_EXCLUSIVE, /* prepare_to_wait_exclusive(): tail, woken one at a time */
	SLEEP_TAIL,      /* do_wait_intr_irq(): tail, woken by every wakeup */
	SLEEP_HEAD,      /* prepare_to_wait(): head, woken by every wakeup */
};

/* Puts io's thread to sleep on q (the object's wait queue), woken only by
 * the keys given (0: any); returns MODEL_BLOCKED for the call to return. */
int64_t io_sleep(struct io *io, struct wait_queue *q, enum sleep_how how,
		 uint32_t keys);

struct thread {
	unsigned index;
	enum thread_state state;
	enum thread_call call; /* what it is blocked in */
	uint32_t step;        /* the blocked op */
	struct epoll *ep;     /* epoll_wait: the instance it sleeps on */
	struct file *file;    /* the reference the blocked call holds (fdget) */
	struct wait_queue *wq; /* read/write: the queue it sleeps on */
	struct io io;         /* read/write: the call in progress */
	int maxevents;
	bool has_deadline;
	uint64_t deadline;    /* virtual ms */
	bool woken;           /* a wake_up() took it off its queue */
	/* read/write: since it last slept, a wake-one walk of its queue
	 * stopped at an EPOLLEXCLUSIVE interest before reaching it */
	bool passed_over;
	unsigned wake_seq;    /* when it was woken, for the scan order */
	struct wait_entry wait;
};

/*
 * The order in which threads woken by one step scan is up to the
 * scheduler: the model makes it a choice, taken from a script (the rest
 * default to the earliest woken), and records every choice it met so that
 * all orders can be enumerated.
 */
struct choice_point {
	uint32_t step;   /* the step whose settling met it */
	uint8_t options; /* threads that could scan next */
	uint8_t taken;
};

struct schedule {
	unsigned seed; /* target_config.schedule_seed: 0, no turning */
	/* Every choice point the run met, and the choices the next run takes
	 * (the first nscript points': a search's, next_schedule; a run
	 * without a search has none).  Both grow to the longest run met and
	 * stay (schedule_grow): a race is searched however many came first. */
	struct choice_point *points;
	uint8_t *script;
	unsigned npoints, nscript, cap;
};

/* ------------------------------------------------------------ the model */

struct fd_table {
	struct file *fd[FD_LIMIT];
	bool cloexec[FD_LIMIT];
	bool live; /* the process exists: process 0 always, a child from its
		      fork to its exit */
	bool forked; /* a process's own (exit closes it), not an unshared
			thread's */
};

struct model {
	struct target_config cfg;
	unsigned inject;   /* enum inject_bug bits */
	int next_fd_hint;  /* only for the not-lowest-fd injected bug */
	/* One past the highest number any table has held since the reset
	 * (a high-water mark: fd_install raises it, nothing lowers it), so
	 * every slot at or above it is empty in every table.  Walks over the
	 * tables (the invariants, a fork's copy, the reset) stop there
	 * instead of at FD_LIMIT: a program holds a few dozen fds, not 1024. */
	int fd_top;
	/* The fd table of the process whose thread makes the current op
	 * (procs[proc_of[t]]): every syscall works on it, as current->files. */
	struct file **fd_table;
	/* Its close_on_exec bitmap: set by O_CLOEXEC-like flags at
	 * creation, dup3(O_CLOEXEC), F_DUPFD_CLOEXEC, F_SETFD and
	 * close_range(CLOSE_RANGE_CLOEXEC); cleared when a number is
	 * installed otherwise (fd_install).  Seen only through F_GETFD. */
	bool *fd_cloexec;
	/* The fd tables (files_structs): process 0's, and at t + 1 thread t's
	 * own: the one of the process a fork started for it, or the one it
	 * unshared (close_range's CLOSE_RANGE_UNSHARE).  A fork copies its
	 * caller's (dup_fd: one more reference on every file); an exit closes
	 * every fd (close_files).  proc_of[t]: the table thread t works on, 0
	 * until a fork that names it runs (a skipped fork starts none) or it
	 * unshares. */
	struct fd_table procs[MAX_THREADS + 1];
	uint8_t proc_of[MAX_THREADS];
	/* The first op that breaks the rules of processes (trace.h:
	 * program_check_processes), or nops: not run, unsupported. */
	unsigned bad_op;
	/* CAP_FOWNER (the model runs as root when the oracle does): F_SETFL
	 * may set O_NOATIME on files it does not own (setfl()). */
	bool cap_fowner;
	struct list_head files; /* every description of this program */
	unsigned next_file_id;
	int sndbuf; /* net.core.wmem_default: a unix socket's sk_sndbuf */

	/* Everything allocated for the current program, freed at reset, so
	 * released objects stay readable for the invariant checks. */
	void **allocs;
	size_t nallocs, cap_allocs;

	struct thread threads[MAX_THREADS];
	unsigned nthreads;
	uint64_t clock; /* virtual ms */
	unsigned wake_counter;
	/* How deep ep_poll_safewake() has gone: the kernel's ELOOP checks keep
	 * real chains within EP_MAX_NESTS, so a deeper one can only come from
	 * a cycle in the model's own state (an injected bug), which is then
	 * cut and reported (wake_cycle) instead of recursing forever. */
	unsigned wake_depth;
	bool wake_cycle;
	struct schedule sched;
	unsigned loop_check_gen;

	/* The step being run, for recording events and completions. */
	struct outcome *out;
	uint32_t step;

	char unsupported[160];
};

static inline bool injected(const struct model *m, enum inject_bug b)
{
	return m->inject & (1u << b);
}

int inject_parse(const char *names, unsigned *mask, struct error *err);

/* Zeroed memory owned by the model until the next reset. */
void *model_alloc(struct model *m, size_t size);
/* Frees one arena allocation early (skbs are many and short-lived). */
void model_free_early(struct model *m, void *p);
/* Says what is not modelled; returns MODEL_UNSUPPORTED. */
int model_unsupported(struct model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Syscalls on files and the fd table (fdtable.c, files.c). */
int64_t sys_dup(struct model *m, int64_t fd);
int64_t sys_dup3(struct model *m, int64_t fd, int64_t newfd, int64_t flags,
		 bool is_dup2);
int64_t sys_close(struct model *m, int64_t fd);
int64_t sys_close_range(struct model *m, int64_t first, int64_t last,
			int64_t flags);
/* fork(): thread child's table becomes a copy of the current one
 * (dup_fd), and child works on it. */
void fd_table_fork(struct model *m, unsigned child);
/* close_range(CLOSE_RANGE_UNSHARE) by thread t: t gets a table of its own
 * if its table is shared, and it becomes the current one. */
void fd_table_unshare(struct model *m, unsigned t);
/* exit(): the current process's table is closed (close_files) and gone. */
void fd_table_exit(struct model *m);
/* Makes process proc's table the current one. */
void fd_table_use(struct model *m, unsigned proc);
/* The close-on-exec bit of an fd that is installed. */
void fd_set_cloexec(struct model *m, int fd, bool on);
int64_t sys_fcntl(struct model *m, int64_t fd, int64_t cmd, int64_t arg);
int64_t sys_read(struct model *m, int64_t fd, const struct op *op,
		 struct result *res);
int64_t sys_write(struct model *m, int64_t fd, const struct op *op);
int64_t sys_shutdown(struct model *m, int64_t fd, int64_t how);
int64_t sys_pipe2(struct model *m, int64_t flags, struct result *res);
int64_t sys_eventfd(struct model *m, uint64_t initval, int64_t flags);
int64_t sys_socketpair(struct model *m, int64_t type, struct result *res);
int64_t sys_epoll_create1(struct model *m, int64_t flags);

/* Threads (threads.c). */
int64_t thread_block(struct model *m, unsigned t, struct file *ep_file,
		     int maxevents, int64_t timeout);
/* Thread t of the current step sleeps in a read or write of f: its io
 * holds the call, and the file's method has queued it (io_sleep). */
void thread_block_io(struct model *m, unsigned t, struct file *f);
void threads_settle(struct model *m);
void threads_advance_clock(struct model *m, uint64_t ms);
void threads_return_zero(struct model *m, struct epoll *ep);
/* cond_resched() in a call: woken threads may run now (a choice point). */
void threads_preempt_point(struct model *m);

/* Unix sockets: the memory an skb of len bytes costs (its truesize). */
int64_t unix_skb_truesize(size_t head_len, size_t data_len);

#endif
