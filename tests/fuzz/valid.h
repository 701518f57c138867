/*
 * valid.h - what the decoder promises of every program it gives (and so
 * what the mutator must keep): checked by test_decode.c and test_mutate.c.
 */
#ifndef EPOLLFUZZ_TESTS_VALID_H
#define EPOLLFUZZ_TESTS_VALID_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "fuzz.h"

static inline bool nonblocking(const struct op *op)
{
	switch (op->kind) {
	case OP_PIPE2:
		return op->f[F_FLAGS] & O_NONBLOCK;
	case OP_EVENTFD:
		return op->f[F_FLAGS] & EFD_NONBLOCK;
	case OP_SOCKETPAIR:
		return op->f[F_TYPE] & SOCK_NONBLOCK;
	default:
		return true;
	}
}

/* A creation's close-on-exec flag: the decoder's coin, never on a
 * blocking one. */
static inline bool cloexec(const struct op *op)
{
	switch (op->kind) {
	case OP_PIPE2:
		return op->f[F_FLAGS] & O_CLOEXEC;
	case OP_EVENTFD:
		return op->f[F_FLAGS] & EFD_CLOEXEC;
	case OP_SOCKETPAIR:
		return op->f[F_TYPE] & SOCK_CLOEXEC;
	default:
		return false;
	}
}

/* Whether op is one a trace could hold; why not in why. */
static inline bool op_valid(const struct op *op, unsigned threads, bool single,
		     char *why, size_t len)
{
	const struct op_desc *d;

	if (op->kind >= OP_KIND_COUNT)
		return snprintf(why, len, "kind %u", op->kind), false;
	if (op->t >= threads)
		return snprintf(why, len, "t %u of %u threads", op->t, threads), false;
	d = &op_table[op->kind];
	for (unsigned i = 0; i < d->nfields; i++) {
		const struct field_desc *fd = &d->fields[i];
		int64_t v = op->f[fd->id];

		if (v < fd->min || v > fd->max)
			return snprintf(why, len, "%s.%s = %lld", d->name, fd->name,
					(long long)v), false;
	}
	if (single && op->kind == OP_EPOLL_WAIT && op->f[F_TIMEOUT] != 0)
		return snprintf(why, len, "timeout %lld with one thread",
				(long long)op->f[F_TIMEOUT]), false;
	uint64_t ms;
	enum wait_timeout wt = op_wait_timeout(op, &ms);

	if (single && op_is_epoll_wait(op->kind) && (wt == WAIT_FOREVER || wt == WAIT_TIMED))
		return snprintf(why, len, "%s that may block with one thread", d->name), false;
	if (op->kind == OP_FCNTL && !fcntl_cmd_runs(op->f[F_CMD]))
		return snprintf(why, len, "fcntl command %lld no target runs",
				(long long)op->f[F_CMD]), false;
	if (single && op->kind == OP_SLEEP)
		return snprintf(why, len, "sleep with one thread"), false;
	/* Blocking descriptions only where several threads may block, and
	 * a blocking creation never with close-on-exec. */
	if (!nonblocking(op) && (single || threads < 2))
		return snprintf(why, len, "blocking %s with one thread", d->name), false;
	if (!nonblocking(op) && cloexec(op))
		return snprintf(why, len, "blocking %s with close-on-exec", d->name), false;
	if (op->kind == OP_FCNTL && (int)op->f[F_CMD] == F_SETFL &&
	    !(op->f[F_ARG] & O_NONBLOCK) && (single || threads < 2))
		return snprintf(why, len, "F_SETFL without O_NONBLOCK with one thread"), false;
	return true;
}

static inline bool program_valid(const struct program *p, const struct decode_limits *lim,
			  char *why, size_t len)
{
	if (p->nops < 1 || p->nops > lim->max_ops)
		return snprintf(why, len, "%u ops", p->nops), false;
	if (p->threads < 1 || p->threads > lim->max_threads)
		return snprintf(why, len, "%u threads", p->threads), false;
	for (unsigned i = 0; i < p->nops; i++)
		if (!op_valid(&p->ops[i], p->threads, lim->max_threads == 1, why, len))
			return false;
	/* forks and exits keep the rules among processes (trace.h) */
	struct error err;

	if (program_check_processes(p, &err) < p->nops)
		return snprintf(why, len, "%.120s", err.msg), false;
	return true;
}

#endif
