/*
 * settle.h - is a thread asleep in its blocking call, or may it still run?
 *
 * On Linux, /proc says it exactly: /proc/self/task/TID/stat shows state S
 * and /proc/self/task/TID/syscall the number of the call the thread sleeps
 * in.  Under an emulator /proc may say less.  qemu-user's guest epoll_wait
 * sleeps in the host's epoll_pwait; another emulator may sleep in ppoll or
 * a futex; gVisor may have no syscall file, or no task directory at all.
 * So a probe at start blocks a thread of its own in each blocking call and
 * looks at what /proc reports, and settling then works in one of three
 * modes:
 *
 *   proc         the native numbers were seen: trust /proc as on Linux;
 *   proc-probed  state S was seen, with other numbers: those numbers are
 *                remembered as aliases of the call and trusted as well;
 *   timed:MS     neither: a thread counts as asleep when its state and run
 *                count have not changed for a quiet period (MS ms); with no
 *                /proc task files at all, settling waits out the quiet
 *                period itself.
 *
 * This file pair is self-contained (libc and pthreads, no epollfuzz types)
 * so that a generated C reproducer can embed it as it is.  It returns -1
 * with errno on failure and leaves the messages to its caller.
 */
#ifndef EPOLLFUZZ_ORACLE_SETTLE_H
#define EPOLLFUZZ_ORACLE_SETTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SETTLE_QUIET_MS_DEFAULT 20

/* The blocking calls a probe looks at: epoll_wait, read, write. */
#define SETTLE_MAX_ALIASES 4

enum settle_mode {
	SETTLE_PROC,
	SETTLE_PROC_PROBED,
	SETTLE_TIMED,
};

/* A blocking call seen asleep in another syscall number. */
struct settle_alias {
	long native, seen;
};

struct settle {
	enum settle_mode mode;
	unsigned quiet_ms;
	bool task_files; /* /proc/self/task/TID/stat can be opened */
	unsigned naliases;
	struct settle_alias alias[SETTLE_MAX_ALIASES];
};

/* One look at a thread's /proc files. */
struct settle_look {
	char state;      /* stat's state letter; 0 when unknown */
	long nr;         /* the syscall file's number; -1 when unknown or none */
	uint64_t pcount; /* schedstat's run count; 0 when unknown */
};

/* A watched thread: its /proc files, and what settling remembers. */
struct settle_task {
	int stat, syscall, schedstat; /* fds, -1 where absent */
	long block_nr;   /* the native number of the call it may sleep in */
	uint64_t pcount; /* proc modes: the run count first seen */
	struct settle_look last; /* timed: the last look ... */
	int64_t still_since;     /* ... and since when it has not changed (ns) */
};

/* Mode proc until a probe says otherwise; quiet_ms 0 takes the default. */
void settle_init(struct settle *s, unsigned quiet_ms);

/*
 * Probes what /proc reports for a thread asleep in epoll_wait, read and
 * write, with a thread and fds of its own (closed again before it
 * returns), and sets s->mode and the aliases.  The calling thread should
 * have every signal blocked, so that the probe thread takes none.
 */
void settle_probe(struct settle *s);

/* "proc", "proc-probed" or "timed:20ms"; the aliases as "232:281,..."
 * (native:seen), "" when there are none. */
void settle_describe(const struct settle *s, char *buf, size_t len);
void settle_describe_aliases(const struct settle *s, char *buf, size_t len);

/*
 * Opens tid's /proc files at fd_min or above (close-on-exec).  A file that
 * does not exist stays -1 (the probe decides what is missing); -1 with
 * errno only when an fd cannot be placed.
 */
int settle_task_open(struct settle_task *t, pid_t tid, int fd_min);
/* The same for thread tid of process pid (/proc/PID/task/TID): a thread of
 * a child process; pid 0 is this process. */
int settle_task_open_in(struct settle_task *t, pid_t pid, pid_t tid, int fd_min);
void settle_task_close(struct settle_task *t);
/* The thread is about to make a call that may sleep in syscall block_nr. */
void settle_task_arm(struct settle_task *t, long block_nr);

void settle_look(const struct settle_task *t, struct settle_look *l);

/*
 * Whether every thread in ts[0..n) (those still in a call: the caller
 * leaves out the ones that have returned) sleeps in its call so that none
 * can run before something wakes it.  start_ns is when this settle began
 * (CLOCK_MONOTONIC), now_ns the time now.  The caller polls until true.
 */
bool settle_quiet(const struct settle *s, struct settle_task *const *ts,
		  unsigned n, int64_t start_ns, int64_t now_ns);

/*
 * Whether t may be asleep in its call right now: exactly (proc modes), or
 * as far as can be told (timed: in state S, or no state at all).  For
 * re-sending an interrupt that was spent before the call was made.
 */
bool settle_may_sleep(const struct settle *s, const struct settle_task *t);

/* Between two polls of settle_quiet: a yield in the proc modes (the
 * threads may need the CPU to get to sleep), a short sleep when timed. */
void settle_pause(const struct settle *s);

int64_t settle_now_ns(void);

#endif
