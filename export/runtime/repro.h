/*
 * repro.h - what the reproducer's runtime and the tables generated for one
 * trace share.
 *
 * A reproducer is one C file: this header (with settle.h in place of its
 * #include), settle.c, the tables the exporter writes for the trace, the
 * calls the trace uses (calls.c), and the runtime (runtime.c).  The bottom
 * of this header declares what the exporter generates, so that runtime.c
 * also compiles on its own (export/meson.build does, to keep it honest).
 */
#ifndef EPOLLFUZZ_REPRO_H
#define EPOLLFUZZ_REPRO_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "settle.h"

#ifndef SYS_epoll_wait
#error "this program makes the x86-64 Linux system calls epollfuzz makes (SYS_epoll_wait, SYS_dup2, ...)"
#endif
#ifndef EPOLLNVAL /* the kernel's uapi header has it, glibc's does not */
#define EPOLLNVAL 0x00000020
#endif
#define MAYBE_UNUSED __attribute__((unused))
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441 /* x86-64; glibc before 2.35 lacks the name */
#endif
#ifndef CLOSE_RANGE_UNSHARE /* <linux/close_range.h>; glibc 2.34's <unistd.h> */
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* epoll_pwait2's timeout_ns when the trace leaves it out (a NULL timespec:
 * no timeout); epollfuzz never takes this value in a trace. */
#define NO_TIMEOUT_NS LLONG_MIN

#define MAX_THREADS 8   /* simulated threads, as epollfuzz allows */
#define MAX_OUTCOMES 64 /* allowed outcomes: one bit each in an outcome_set */

/* Allowed outcomes by number: bit 0 is the recording, bit k the k-th
 * other outcome the kernel allows. */
typedef uint64_t outcome_set;

/* What one call returned. */
struct call_result {
	long ret;
	int err;           /* errno when ret is -1 */
	bool has_fds;      /* pipe2, socketpair */
	int fds[2];
	bool has_value;    /* an 8-byte read from an eventfd */
	uint64_t value;
	bool has_events;   /* epoll_wait: the first nevents of its buffer */
	int nevents;
	const char *trouble; /* the call could not be made: why (out of memory) */
};

/*
 * Each thread's own buffers, so that calls on several threads never share.
 * They grow to what a call's own arguments say it may touch (epoll_wait's
 * maxevents, read's len), and the events stay until the result is read.
 */
struct buffers {
	struct epoll_event *events;
	size_t nevents;
	unsigned char *rbuf;
	size_t rlen;
	unsigned char *wbuf; /* a fixed pattern */
	size_t wlen;
};

union args; /* each op's fields: generated from epollfuzz's op table */

/* How one kind of op is made (calls.c). */
struct op_kind {
	long (*call)(const union args *a, struct buffers *b, struct call_result *r);
	/* The syscall the op may sleep in, or -1; *timeout_ms gets a finite
	 * timeout on the virtual clock (0: none).  NULL: never sleeps. */
	long (*blocks_in)(const union args *a, long long *timeout_ms);
	/* sleep: no syscall; how far the virtual clock moves.  NULL otherwise. */
	long long (*advance_ms)(const union args *a);
	/* fork: the simulated thread that the new process runs.  NULL otherwise. */
	unsigned (*child)(const union args *a);
	/* exit: no call here; the runtime ends the thread's process. */
	bool exits;
	/* close_range: whether the call unshares the caller's fd table (its
	 * own thread must make it).  NULL otherwise. */
	bool (*unshares)(const union args *a);
};

/* One step of the trace and what it gave when it was recorded: results as
 * text, as epollfuzz prints them, so that comparing is comparing strings. */
struct step {
	int t; /* the simulated thread */
	const struct op_kind *op;
	const union args *arg; /* NULL for an op without fields (exit) */
	const char *call;   /* as epollfuzz prints it: "epoll_wait(3, 16, -1)" */
	const char *result; /* "3", "-1 EBADF", "1 [EPOLLIN:4]", "blocked",
			       "skipped (blocked)" */
	const char *woke;   /* the blocked steps it completed, by thread:
			       "t1 step 3 = 1 [EPOLLIN:4]"; NULL: none */
};

/* Where other allowed outcomes differ from the recording: at this step
 * (nsteps: what is still blocked at the end), those outcomes have this. */
struct other {
	unsigned step;
	outcome_set outcomes;
	const char *result; /* at the end: "t1 step 3", or "" for nothing */
	const char *woke;
};

struct flag_name {
	const char *name;
	uint32_t bits;
};

struct errno_name {
	const char *name;
	int err;
};

/*
 * fork, as the runtime makes it (runtime.c), for calls.c: a new process
 * whose fd table is a copy of the calling task's and whose only thread
 * runs simulated thread `thread`.  0 in the calling task, or -1 with errno
 * (r->trouble says why when it is not the kernel's refusal).
 */
long start_process(unsigned thread, struct call_result *r);

/* ------------------------------------------------------------------------
 * Generated by the exporter for each trace (the tables after this header).
 */
extern const unsigned nthreads;  /* 1 .. MAX_THREADS */
extern const int fd_limit;       /* RLIMIT_NOFILE while the trace runs */
extern const unsigned nsteps;
extern const struct step steps[];
extern const char *const still_blocked_at_end; /* "t1 step 3"; NULL: none */
extern const unsigned noutcomes; /* 1 .. MAX_OUTCOMES: the recording, others */
extern const unsigned nothers;
extern const struct other others[];
extern const struct flag_name epoll_event_names[]; /* NULL-terminated */
extern const struct errno_name errno_names[];      /* NULL-terminated */

#endif
