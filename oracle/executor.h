/*
 * executor.h - the oracle's insides, private to oracle/.
 *
 * An executor runs programs with real syscalls and real threads in the
 * process it lives in.  oracle.c puts it in a child process behind a control
 * channel; nothing here knows about that, so the same code can run
 * in-process (an OSS-Fuzz build, which may not fork).
 *
 *   call.c     one op as its real syscall (argument hiding, eventfd probe)
 *   settle.c   whether a thread sleeps in its call; the /proc probe
 *   worker.c   one thread per simulated thread; settling; interrupts
 *   executor.c a whole program: steps, virtual clock, completions, fd reset
 *   channel.c  programs and outcomes over the control socket; the
 *              executor's side of it (channel_serve)
 *   oracle.c   a child process behind a watchdog; the linux target
 *   exec.c     the exec target: the executor program under a wrapper
 *   executor_main.c  that program, epollfuzz-executor
 */
#ifndef EPOLLFUZZ_ORACLE_EXECUTOR_H
#define EPOLLFUZZ_ORACLE_EXECUTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <time.h>

#include "settle.h"
#include "trace.h"

/*
 * The executor's own descriptors (control channel, /dev/null, the workers'
 * /proc files) live at EXEC_FD_BASE and above: outside the programs' fd
 * table, which RLIMIT_NOFILE = FD_LIMIT keeps below FD_LIMIT.
 */
#define EXEC_FD_BASE 2000
_Static_assert(EXEC_FD_BASE > FD_LIMIT,
	       "fd FD_LIMIT is never open: close_range's clamp (call.c) needs it");

/* epoll_wait writes at most one event per interest, and a program cannot
 * make more interests than it has ops. */
#define CALL_MAX_EVENTS (MAX_OPS * 2)

/* ------------------------------------------------------------------ call.c */

/* One op, ready to run: arguments as the kernel will get them. */
struct call {
	const struct op *op;
	int fd, epfd, newfd; /* after hiding the executor's own fds */
	int timeout;         /* epoll_wait's real timeout */
	struct timespec ts;  /* epoll_pwait2's real timeout, when has_ts */
	bool has_ts;         /* (else NULL: forever) */
	unsigned first, last; /* close_range's range, kept off our own fds */
	const char *refuse;  /* not run: why (the step is unsupported) */
	bool on_eventfd;     /* read/write: fd names an eventfd right now */
	size_t len;          /* read/write byte count */
	long block_nr;       /* the syscall it may sleep in, or -1 */
};

/* Per-thread buffers, allocated once and reused by every call. */
struct call_buffers {
	/* The last epoll_wait's buffer: small, or big when its maxevents asked
	 * for more.  Either holds maxevents entries, as a program's buffer
	 * would: an emulator that checks the whole range (qemu-user's
	 * lock_user) or watches the writes (valgrind) sees an honest call. */
	struct epoll_event *events;
	struct epoll_event *small;  /* CALL_MAX_EVENTS */
	struct epoll_event *big;    /* mmap'd, big_cap entries, or NULL */
	size_t big_cap;
	unsigned char *rbuf;        /* MAX_IO_LEN */
	/* MAX_IO_LEN of the fixed pattern, never written: one copy made by
	 * the executor, shared by its workers and table threads, and the
	 * same pages (copy-on-write, never copied) in a forked child. */
	const unsigned char *wbuf;
	unsigned char *own_wbuf;    /* the copy, in the buffers that made it */
};

struct call_result {
	struct result res; /* ev_first/ev_count unused: events stay in buffers */
	uint32_t nevents;  /* epoll_wait: buffers.events[0 .. nevents) */
};

/* pattern: another buffers' wbuf to share, or NULL to make the pattern. */
int call_buffers_init(struct call_buffers *b, const unsigned char *pattern,
		      struct error *err);
void call_buffers_free(struct call_buffers *b);
/* Decides the arguments; for read/write looks at the fd (eventfd? blocking?). */
void call_prepare(const struct op *op, struct call *c);
void call_run(const struct call *c, struct call_buffers *b,
	      struct call_result *r);

/* ------------------------------------------------------------- executor.c */

/* The higher of hi and the highest fd number a result names (its return,
 * pipe2's or socketpair's pair); reset_bound: the last fd the reset's
 * close_range takes, for the highest such number of a program. */
int64_t result_highest_fd(const struct result *r, int64_t hi);
int reset_bound(int64_t highest);

/* ---------------------------------------------------------------- worker.c */

enum worker_state {
	WORKER_IDLE, /* waiting for work */
	WORKER_BUSY, /* running (or asleep in) its call */
	WORKER_DONE, /* result posted, not yet gathered */
	WORKER_EXIT, /* asked to leave */
};

/*
 * A simulated thread whose fd table is not process 0's makes all its ops,
 * blocking or not, where that table is, handed over in a slot:
 * - a thread that a fork made the only thread of a process of its own
 *   (trace.h: processes) runs in a real child process of the executor with
 *   a copy of the forking thread's table, as the program's fork gives;
 * - a thread of process 0 that unshared its table (close_range with
 *   CLOSE_RANGE_UNSHARE) runs in a thread of the executor made for it,
 *   whose first call is that close_range: the kernel gives that thread a
 *   copy of the executor's table (shared by all its threads, so unshared
 *   for real) and it works on the copy from then on.
 * The slots live in a MAP_SHARED mapping made before any fork; their
 * futexes are shared ones (no FUTEX_PRIVATE_FLAG).  The server prepares
 * each call itself (call_prepare looks at its own fds): the executor asks
 * (PREPARE), the server answers with the call's syscall (PREPARED), the
 * executor arms the settle and says go (BUSY).  A fork by the slot's thread
 * is made by the server too (FORK), from its table: a child process
 * clones with CLONE_PARENT, so that every process of a program is the
 * executor's child and is reaped by it.
 */
enum slot_state {
	SLOT_PREPARE = WORKER_EXIT + 1, /* prepare the op in call.op */
	SLOT_PREPARED,                  /* call holds the prepared call */
	SLOT_FORK,                      /* start fork_to's process */
	SLOT_FORKED,                    /* fork_errno says how that went */
};

struct proc_slot {
	_Atomic int state;      /* enum worker_state or slot_state; futex word */
	_Atomic bool interrupt;
	_Atomic pid_t pid;      /* who serves it, as it sees itself: a child's
				   pid, a table thread's tid */
	struct call call;       /* call.op points into the program, which the
				   child has a copy of from its fork on */
	struct call_result result;
	struct proc_slot *fork_to; /* SLOT_FORK: the new process's slot */
	int fork_errno;
	struct epoll_event events[CALL_MAX_EVENTS];
};

struct worker {
	_Atomic int state;      /* enum worker_state; also the futex word */
	_Atomic bool interrupt; /* checked just before the call is made */
	pid_t tid;
	pthread_t thread;
	int sig; /* the interrupt signal */

	/* The work: written before BUSY, the result read after DONE. */
	struct call call;
	uint32_t step;
	struct call_result result;
	struct call_buffers buf;

	/* The executor's bookkeeping. */
	bool pending;     /* dispatched, result not gathered yet */
	bool posted;      /* posted during the current step */
	bool timed;       /* a finite virtual timeout: deadline is valid */
	bool expired;     /* interrupted because its deadline passed */
	int64_t deadline; /* virtual ms */

	/* /proc/self/task/TID/{stat,syscall,schedstat}, at high fds. */
	struct settle_task st;

	/* While its thread's table is not process 0's (slot is set): the
	 * thread's calls go through slot to a child process (pid > 0) or a
	 * table thread (unshared), and pst is that task's /proc files. */
	pid_t pid;
	bool unshared;
	pthread_t table_thread;
	struct proc_slot *slot;
	struct settle_task pst;
};

int worker_start(struct worker *w, int sig, const unsigned char *pattern,
		 struct error *err);
void worker_stop(struct worker *w);
void worker_dispatch(struct worker *w, const struct call *c, uint32_t step);
/* Hands thread w's calls to a new child process, which runs them in
 * slot: forked here when parent (the forking thread's worker) works on
 * process 0's table, else by parent's slot server, from its table.  Fails
 * when the child does not start; a server that cannot fork says why in
 * *refused (an emulator may lack CLONE_PARENT) and nothing starts.  The
 * caller then opens w->pst (settle_task_open_in) where its fds may go
 * above EXEC_FD_BASE. */
int worker_fork(struct worker *w, struct proc_slot *slot,
		const struct worker *parent, const char **refused,
		struct error *err);
/* Hands thread w's calls to a new thread of the executor, which runs
 * them in slot (its first: the close_range that unshares its table).  The
 * caller has every signal blocked, and then opens w->pst. */
int worker_unshare(struct worker *w, struct proc_slot *slot, struct error *err);
/* The child's process ends (exit): its table is closed by the time this
 * returns (the child is reaped).  kill: SIGKILL it instead, whatever it
 * was doing.  The thread is the executor's worker's again. */
int worker_reap(struct worker *w, bool kill, struct error *err);
/* The table thread of an unshared worker, idle, closes its table (every
 * file only it held is released by the time this returns) and ends. */
void worker_end_unshared(struct worker *w);
/* The events of the result gathered (the child's were copied out). */
const struct epoll_event *worker_events(const struct worker *w);
/* The worker posted a result; the caller may read w->result. */
bool worker_has_posted(struct worker *w);
/* Takes the posted result; the worker is idle again. */
void worker_gather(struct worker *w);

/*
 * Waits until no worker can run: each pending worker has posted its result
 * (w->posted is set) or sleeps in its call, as s judges.  Fails after
 * timeout_ms.
 */
int workers_settle(struct worker *ws, unsigned n, const struct settle *s,
		   unsigned timeout_ms, struct error *err);
/* Makes w's sleeping call return (EINTR), and waits for its result. */
int worker_interrupt(struct worker *w, const struct settle *s,
		     unsigned timeout_ms, struct error *err);

/* -------------------------------------------------------------- executor.c */

struct executor;

/*
 * Makes the current process fit to run programs: ignores SIGPIPE, installs
 * the interrupt signal's handler, starts MAX_THREADS workers, probes how
 * to tell that they sleep (settle.c; env EPOLLFUZZ_SETTLE=timed forces
 * the quiet period, EPOLLFUZZ_SETTLE_QUIET_MS sets it), places the
 * executor's fds at EXEC_FD_BASE and above, lowers RLIMIT_NOFILE to
 * FD_LIMIT, and resets the fd table: every fd below FD_LIMIT is closed and
 * 0-2 reopened on /dev/null, before each program too.  So the process must
 * keep nothing of its own below FD_LIMIT, nor need stdin/stdout/stderr:
 * oracle.c's child is such a process.  An in-process host (a fuzzer that
 * may not fork) would first move its own fds above FD_LIMIT and its output
 * elsewhere.
 */
struct executor *executor_open(struct error *err);
void executor_close(struct executor *ex);
/* Where to publish the index of the step being run (shared memory in the
 * child, so the watchdog can say where the executor died). */
void executor_set_progress(struct executor *ex, _Atomic uint32_t *step);
/* Bounds each settle; beyond it the run fails (a worker neither returned
 * nor slept). */
void executor_set_settle_timeout(struct executor *ex, unsigned ms);
/* How the executor settles, as the probe found ("proc", "proc-probed",
 * "timed:20ms"), and the probed aliases ("232:281", or ""). */
void executor_settle_mode(const struct executor *ex, char *buf, size_t len);
void executor_settle_aliases(const struct executor *ex, char *buf, size_t len);
/*
 * Runs p from the initial fd table (FD_INITIAL_OPEN fds on /dev/null) and
 * fills out, on CPU cpu when it is >= 0 and allowed (place_workers).  On
 * failure (-1) the executor's state is unknown: close it.
 */
int executor_run(struct executor *ex, const struct program *p, int cpu,
		 struct outcome *out, struct error *err);

/* --------------------------------------------------------------- channel.c */

enum channel_status {
	CHANNEL_OK = 0,
	CHANNEL_EOF = -1,     /* the other end closed (died) */
	CHANNEL_TIMEOUT = -2, /* the deadline passed */
	CHANNEL_ERROR = -3,   /* an I/O or protocol error, or the executor's own
				 failure: err says which */
};

/* Parent side; the socket is non-blocking, deadline in CLOCK_MONOTONIC ns.
 * cpu: the CPU the parent runs on (-1: unknown), for the executor to run
 * the program on. */
int channel_send_program(int fd, const struct program *p, int cpu,
			 void **scratch, size_t *scratch_cap, int64_t deadline,
			 struct error *err);
int channel_recv_outcome(int fd, struct outcome *out, int64_t deadline,
			 struct error *err);

/*
 * The hello: the first message of a started executor, an outcome message
 * with no steps (or its failure) whose text says what the parent should
 * know (channel.c: the settle mode and the wire layout).  recv checks the
 * layout, so that an executor program built from other sources is refused
 * before it garbles a program, and fills the settle fields.
 */
struct hello {
	char settle[32];  /* "proc", "proc-probed", "timed:20ms" */
	char aliases[64]; /* "232:281", or "" */
};
int channel_recv_hello(int fd, struct hello *h, int64_t deadline,
		       struct error *err);

/* Executor side; blocking socket.  recv returns CHANNEL_EOF when the parent
 * is gone.  The ops array is reused between programs. */
int channel_recv_program(int fd, struct program *p, unsigned *cap, int *cpu,
			 struct error *err);
int channel_send_outcome(int fd, const struct outcome *out,
			 const struct error *failure);

/*
 * The executor's whole life in a process of its own, the control channel
 * at fd ctl: moves the channel to EXEC_FD_BASE, closes every other fd and
 * puts 0-2 on /dev/null, opens the executor, says hello (or why it could
 * not start), then runs program after program, publishing the step it runs
 * in *progress, until the parent closes the channel (returns 0) or
 * something fails (the failure is sent when it can be; returns 1).  The
 * caller exits with the result.  oracle.c's forked child and
 * epollfuzz-executor both end here.
 */
int channel_serve(int ctl, _Atomic uint32_t *progress);

int64_t monotonic_ns(void);

/* ---------------------------------------------------------------- oracle.c */

/*
 * A target whose executor lives in a child process: started at open,
 * watched over a control channel, killed and restarted when it dies or
 * hangs.  The logic is one; a kind says only how its child starts.
 */
struct child_kind {
	const char *label;   /* for messages: "linux", "exec:env" */
	const char *command; /* describe's "command" ("env"), or NULL */
	/*
	 * Runs in the forked child, which has PR_SET_PDEATHSIG set and its
	 * own process group: becomes the executor, with its end of the
	 * channel at ctl (close-on-exec) and the progress page mapped at
	 * *progress and open at progress_fd (close-on-exec).  Should not
	 * return (the child exits if it does).
	 */
	void (*child)(void *arg, int ctl, int progress_fd,
		      _Atomic uint32_t *progress);
	/* Optional, in the parent: what the child left behind that says why
	 * it did not start or died (exec: the wrapper's stderr tail), "" if
	 * nothing. */
	void (*why)(void *arg, char *buf, size_t len);
	/* Optional, in the parent, after each start and each run: room for
	 * the kind's own housekeeping. */
	void (*after_run)(void *arg);
	/* Optional: frees arg (which label and command may point into). */
	void (*free)(void *arg);
	void *arg;
};

/* Opens the target; on failure kind->free(kind->arg) has been called.
 * The kind is copied. */
struct target *child_target_open(const struct child_kind *kind,
				 struct error *err);
int child_target_run(struct target *t, const struct program *p,
		     struct outcome *out, struct error *err);
void child_target_close(struct target *t);
/* "settle", "settle-aliases" (from the last hello), "command". */
const char *child_target_describe(struct target *t, const char *key);

#endif
