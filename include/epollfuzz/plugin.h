/*
 * epollfuzz/plugin.h - the plugin ABI of epollfuzz, version 1.
 *
 * An implementation of epoll that lives in a process (a userspace runtime,
 * a unikernel's library, an interpreter's shim) is checked by epollfuzz
 * through a shared library built against this header alone:
 *
 *     epollfuzz run --target plugin:./libmine.so trace.json
 *
 * The library exports one function, epollfuzz_plugin_v1(), returning a
 * struct epollfuzz_plugin.  epollfuzz opens an instance, then hands it
 * programs one at a time (struct epollfuzz_program: plain data, an array of
 * ops) and the plugin tells it, through the callbacks of struct
 * epollfuzz_host, what each step did.  epollfuzz compares that outcome with
 * Linux's (or the model's) and reports the first step where they part.
 *
 * Plain C99, fixed-width types, no epollfuzz struct inside.  Numbers given
 * here (op kinds, field numbers, step states, result bits) never change
 * meaning; new ones are added at the end.  Every struct begins with a size
 * (or the ABI version) and ends with reserved members, so that later
 * versions can grow them.  The trace format these programs come from is
 * described in epollfuzz's docs/TRACE_FORMAT.md; docs/plugin.md explains
 * this ABI with an example.
 *
 * The semantics in one paragraph.  A program is a sequence of ops in global
 * order, each belonging to a simulated thread (0 .. nthreads-1); threads of
 * one program share one fd table, which starts with fds 0 .. fd_initial_open-1
 * open on /dev/null and every other number free.  Ops run one at a time, in
 * order.  An op that the kernel would block in (an epoll wait with a timeout
 * other than 0 and nothing to report; a read or write on a description
 * without O_NONBLOCK that cannot proceed) leaves its thread blocked: it
 * completes at a later step that wakes it (reported with that step), at a
 * sleep that passes its deadline (result 0), or never (reported as still
 * blocked at the end).  An op whose thread is blocked when its turn comes is
 * not run (skipped).  After each step the system settles: every thread the
 * step woke has completed or blocked again before the next op starts.
 * Time is virtual: it moves only at `sleep`.
 */
#ifndef EPOLLFUZZ_PLUGIN_H
#define EPOLLFUZZ_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI; struct epollfuzz_plugin.abi_version must hold
 * it.  An incompatible change gets a new version and a new entry point
 * (epollfuzz_plugin_v2). */
#define EPOLLFUZZ_PLUGIN_ABI_VERSION 1

/* The entry point's name, for hosts that look it up with dlsym(). */
#define EPOLLFUZZ_PLUGIN_ENTRY "epollfuzz_plugin_v1"

/* Marks the entry point exported even when the plugin is built with
 * -fvisibility=hidden (recommended: nothing else needs to be seen). */
#if defined(__GNUC__) || defined(__clang__)
#define EPOLLFUZZ_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define EPOLLFUZZ_PLUGIN_EXPORT
#endif

/* ------------------------------------------------------------------------
 * Operations.
 *
 * Op kinds, with the same names as the "op" of the JSON trace format.
 * Their fields (numbers below) are given with their default in brackets.
 * Flag and enum fields hold the values of this machine's C headers
 * (<sys/epoll.h>, <fcntl.h>, <sys/socket.h>, ...), including bits that are
 * invalid on purpose: invalid input is how error paths are tested.  fds are
 * plain numbers, negative or never opened ones included; the expected
 * result is whatever Linux returns for them.
 *
 * Numbers 16..21 name ops of the trace format that a host sends only once
 * it supports them: 18..21 (fcntl, epoll_pwait, epoll_pwait2, close_range)
 * are sent now, 16 and 17 not yet.  Every plugin must answer an op kind it
 * does not know with EPOLLFUZZ_STEP_UNSUPPORTED, never by guessing.
 */
enum epollfuzz_op_kind {
	/* 0 is never an op: a zeroed op is an error. */
	EPOLLFUZZ_OP_EPOLL_CREATE = 1,   /* epoll_create(size [1]) */
	EPOLLFUZZ_OP_EPOLL_CREATE1 = 2,  /* epoll_create1(flags [0]) */
	EPOLLFUZZ_OP_EPOLL_CTL = 3,      /* epoll_ctl(epfd, ctl, fd,
					    &{events [0], data}) */
	EPOLLFUZZ_OP_EPOLL_WAIT = 4,     /* epoll_wait(epfd, buf, maxevents [16],
					    timeout [-1]); timeout > 0 is in
					    virtual ms */
	EPOLLFUZZ_OP_PIPE2 = 5,          /* pipe2(fds, flags [0]) */
	EPOLLFUZZ_OP_EVENTFD = 6,        /* eventfd(initval [0], flags [0]) */
	EPOLLFUZZ_OP_SOCKETPAIR = 7,     /* socketpair(AF_UNIX, type
					    [SOCK_STREAM], 0, fds) */
	EPOLLFUZZ_OP_DUP = 8,            /* dup(fd) */
	EPOLLFUZZ_OP_DUP2 = 9,           /* dup2(fd, newfd) */
	EPOLLFUZZ_OP_DUP3 = 10,          /* dup3(fd, newfd, flags [0]) */
	EPOLLFUZZ_OP_CLOSE = 11,         /* close(fd) */
	EPOLLFUZZ_OP_WRITE = 12,         /* write(fd, buf, len [1]); on an
					    eventfd the 8 bytes of value [1].
					    The bytes are any pattern: only
					    their count matters */
	EPOLLFUZZ_OP_READ = 13,          /* read(fd, buf, len [4096]) */
	EPOLLFUZZ_OP_SHUTDOWN = 14,      /* shutdown(fd, how) */
	EPOLLFUZZ_OP_SLEEP = 15,         /* no call: the virtual clock moves
					    ms [1]; every blocked wait whose
					    deadline passed returns 0 */
	EPOLLFUZZ_OP_FORK = 16,          /* thread child starts a new process
					    with a copy of thread's fd table */
	EPOLLFUZZ_OP_EXIT = 17,          /* thread's process ends (never
					    process 0) and closes its fds */
	EPOLLFUZZ_OP_FCNTL = 18,         /* fcntl(fd, cmd, arg [0]) */
	EPOLLFUZZ_OP_EPOLL_PWAIT = 19,   /* epoll_pwait(epfd, buf, maxevents
					    [16], timeout [-1], NULL) */
	EPOLLFUZZ_OP_EPOLL_PWAIT2 = 20,  /* epoll_pwait2(epfd, buf, maxevents
					    [16], timeout_ns (absent: NULL,
					    forever), NULL) */
	EPOLLFUZZ_OP_CLOSE_RANGE = 21,   /* close_range(first, last, flags [0]) */
};

/*
 * Field numbers: an op's values are in epollfuzz_op.field[number], and bit
 * (1 << number) of epollfuzz_op.present says the trace gave the field
 * explicitly.  A field the op has but the trace left out holds its default
 * (above), so a plugin can ignore `present` except where noted here.
 * Fields an op does not have are 0, their bit clear.
 */
enum epollfuzz_field {
	EPOLLFUZZ_F_SIZE = 0,        /* epoll_create */
	EPOLLFUZZ_F_FLAGS = 1,       /* epoll_create1, pipe2, eventfd, dup3,
					close_range */
	EPOLLFUZZ_F_EPFD = 2,        /* epoll_ctl, the waits */
	EPOLLFUZZ_F_CTL = 3,         /* epoll_ctl: EPOLL_CTL_ADD/MOD/DEL or any
					integer */
	EPOLLFUZZ_F_FD = 4,
	EPOLLFUZZ_F_EVENTS = 5,      /* epoll_ctl's event mask */
	EPOLLFUZZ_F_DATA = 6,        /* epoll_ctl's user data, 64 bits: read it
					as (uint64_t).  Always filled: when
					absent it is the value of fd,
					sign-extended */
	EPOLLFUZZ_F_MAXEVENTS = 7,
	EPOLLFUZZ_F_TIMEOUT = 8,     /* ms; -1 forever, 0 poll once */
	EPOLLFUZZ_F_INITVAL = 9,     /* eventfd: an unsigned int */
	EPOLLFUZZ_F_TYPE = 10,       /* socketpair: SOCK_* or-ed with
					SOCK_NONBLOCK, SOCK_CLOEXEC */
	EPOLLFUZZ_F_NEWFD = 11,      /* dup2, dup3 */
	EPOLLFUZZ_F_LEN = 12,        /* read, write: a byte count.  When its
					present bit is clear and fd is an
					eventfd, the length is 8 (not the
					default held here) */
	EPOLLFUZZ_F_VALUE = 13,      /* write on an eventfd: 64 bits, read it
					as (uint64_t) */
	EPOLLFUZZ_F_HOW = 14,        /* shutdown: SHUT_RD/SHUT_WR/SHUT_RDWR or
					any integer */
	EPOLLFUZZ_F_MS = 15,         /* sleep: virtual milliseconds */
	EPOLLFUZZ_F_CHILD = 16,      /* fork: the new process's thread */
	EPOLLFUZZ_F_CMD = 17,        /* fcntl: F_GETFL, F_SETFL, ... */
	EPOLLFUZZ_F_ARG = 18,        /* fcntl */
	EPOLLFUZZ_F_TIMEOUT_NS = 19, /* epoll_pwait2; absent means no timeout */
	EPOLLFUZZ_F_FIRST = 20,      /* close_range */
	EPOLLFUZZ_F_LAST = 21,       /* close_range */
};

/* Room for every field number, present and future. */
#define EPOLLFUZZ_FIELD_SLOTS 32

/* One op: 272 bytes, no pointers. */
struct epollfuzz_op {
	uint32_t kind;    /* enum epollfuzz_op_kind */
	uint32_t thread;  /* the simulated thread that runs it */
	uint64_t present; /* bit (1 << field) for each field the trace gave */
	int64_t field[EPOLLFUZZ_FIELD_SLOTS]; /* by enum epollfuzz_field */
};

/* The most threads a program has. */
#define EPOLLFUZZ_MAX_THREADS 8

struct epollfuzz_program {
	uint32_t size;            /* sizeof(struct epollfuzz_program) of the
				     host; members past it are absent */
	uint32_t nops;            /* 1 .. 4096 */
	uint32_t nthreads;        /* 1 .. EPOLLFUZZ_MAX_THREADS */
	uint32_t fd_limit;        /* RLIMIT_NOFILE: new fds are < fd_limit */
	uint32_t fd_initial_open; /* fds 0 .. this-1 are open on /dev/null
				     when the program starts (one open file
				     description; not pollable, so adding
				     them to an epoll fails with EPERM);
				     every other fd is free */
	uint32_t reserved0;
	const struct epollfuzz_op *ops; /* nops ops, valid during run() */
	uint64_t reserved[4];
};

/* ------------------------------------------------------------------------
 * Outcomes: what the plugin reports through struct epollfuzz_host.
 */

/* What became of an op when its turn came. */
enum epollfuzz_step_state {
	/* The call returned during its step: ret, err and the result's
	 * other members hold what it returned. */
	EPOLLFUZZ_STEP_DONE = 0,
	/* The call blocked: its thread sleeps until a later step wakes it
	 * (then that step reports a completion) or the program ends (then it
	 * is still blocked).  ret and the rest are not read. */
	EPOLLFUZZ_STEP_BLOCKED = 1,
	/* The op's thread was blocked when the op's turn came: the op was
	 * not run.  ret and the rest are not read. */
	EPOLLFUZZ_STEP_SKIPPED = 2,
	/* The implementation cannot run this op (or these arguments): call
	 * unsupported() with the reason, report nothing more and return 0
	 * from run().  epollfuzz reports it apart from divergences. */
	EPOLLFUZZ_STEP_UNSUPPORTED = 3,
};

/* Which optional members of a result hold something. */
enum epollfuzz_result_has {
	EPOLLFUZZ_HAS_FDS = 1,    /* fds[]: pipe2 and socketpair that succeeded */
	EPOLLFUZZ_HAS_VALUE = 2,  /* value: a read on an eventfd that succeeded */
	EPOLLFUZZ_HAS_EVENTS = 4, /* an epoll wait that returned >= 0: its
				     events follow through event(), as many as
				     ret, in the order returned */
};

/* A step's result, or a completion's: 80 bytes, no pointers. */
struct epollfuzz_result {
	uint32_t size;    /* sizeof(struct epollfuzz_result) of the plugin;
			     members past it are read as 0 */
	uint32_t step;    /* index of the op in the program */
	uint32_t thread;  /* the op's thread */
	uint32_t state;   /* enum epollfuzz_step_state; completions: DONE */
	int64_t ret;      /* the call's return value; -1 on error */
	int32_t err;      /* errno (this machine's numbers) when ret is -1,
			     else 0 */
	uint32_t has;     /* enum epollfuzz_result_has bits; 0 when ret is -1 */
	int32_t fds[2];   /* the two new fds, with EPOLLFUZZ_HAS_FDS */
	uint64_t value;   /* the counter read, with EPOLLFUZZ_HAS_VALUE */
	uint64_t reserved[4]; /* 0 */
};

/*
 * The host's side: how a plugin reports, from the thread that called run()
 * and before run() returns.  Per op, in program order:
 *
 *   step(result)             once for every op, in order, step = 0, 1, ...
 *   event(events, data)      after a result with EPOLLFUZZ_HAS_EVENTS,
 *                            once per event returned
 *   completion(result)       for each earlier BLOCKED op that this step
 *                            woke and finished (any order: the host sorts
 *                            them by thread), each followed by its events
 *
 * and after the last op:
 *
 *   still_blocked(step, thread)   for each op still blocked at the end
 *
 * Every callback returns 0, or -1 when the report breaks these rules (a
 * step out of order, an event without a result to attach it to, a
 * completion of an op that did not block); the host then fails the run
 * with a message saying what was wrong, whatever run() returns, so the
 * plugin may stop reporting and return at once.
 */
struct epollfuzz_host {
	uint32_t size;        /* sizeof(struct epollfuzz_host) of the host */
	uint32_t abi_version; /* the host's EPOLLFUZZ_PLUGIN_ABI_VERSION */
	void *ctx;            /* the first argument of every callback */

	int (*step)(void *ctx, const struct epollfuzz_result *r);
	/* One event of the last result reported (a step's or a
	 * completion's): the epoll_event's events mask and data. */
	int (*event)(void *ctx, uint32_t events, uint64_t data);
	/* r->step and r->thread name the blocked op that completed; ret,
	 * err and has as for a DONE step.  It is recorded under the step
	 * reported last. */
	int (*completion)(void *ctx, const struct epollfuzz_result *r);
	int (*still_blocked)(void *ctx, uint32_t step, uint32_t thread);
	/* Why the step reported UNSUPPORTED cannot run: one line, shown to
	 * the user ("epoll_pwait2: not implemented"). */
	int (*unsupported)(void *ctx, const char *why);
	/* For implementations with self-checks (calling it is optional):
	 * after step, the implementation found its own state broken.  cls is
	 * a short name ("refcount"), msg one line.  epollfuzz reports it as a
	 * finding of its own class.  Report nothing more after it. */
	int (*violation)(void *ctx, uint32_t step, const char *cls,
			 const char *msg);

	void *reserved[6];
};

/* ------------------------------------------------------------------------
 * The plugin's side.
 */
struct epollfuzz_plugin {
	uint32_t abi_version; /* EPOLLFUZZ_PLUGIN_ABI_VERSION; checked first */
	uint32_t size;        /* sizeof(struct epollfuzz_plugin) */
	const char *name;     /* short, for messages: "mine" */
	const char *version;  /* free text, or NULL */

	/*
	 * A fresh instance, or NULL with a one-line reason in err (errlen
	 * bytes, NUL-terminated).  The host may open several instances, and
	 * use each from one thread at a time.
	 */
	void *(*open)(char *err, uint32_t errlen);
	/*
	 * Runs p from a fresh fd table (nothing of an earlier program left)
	 * and reports its outcome through host.  Returns 0 when the outcome
	 * is reported (including calls that failed, and an unsupported step),
	 * or -1 when the implementation itself failed, with a reason in err.
	 */
	int (*run)(void *instance, const struct epollfuzz_program *p,
		   const struct epollfuzz_host *host, char *err,
		   uint32_t errlen);
	void (*close)(void *instance);

	void *reserved[4];
};

/*
 * The entry point a plugin defines and exports.  It returns a pointer to a
 * struct that stays valid while the library is loaded (normally a static
 * const one); it must not fail or have side effects.
 */
EPOLLFUZZ_PLUGIN_EXPORT const struct epollfuzz_plugin *epollfuzz_plugin_v1(void);

#ifdef __cplusplus
}
#endif

#endif
