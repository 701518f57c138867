/*
 * prog.h - building programs in C for the oracle's tests and benchmark.
 */
#ifndef EPOLLFUZZ_TESTS_ORACLE_PROG_H
#define EPOLLFUZZ_TESTS_ORACLE_PROG_H

#include <stdio.h>
#include <stdlib.h>

#include "trace.h"

static inline struct op prog_op(enum op_kind kind, unsigned t)
{
	struct op op;

	op_init(&op, kind, t);
	return op;
}

static inline struct op prog_set(struct op op, enum field_id id, int64_t v)
{
	op.f[id] = v;
	op.present |= (uint32_t)(1u << id);
	return op;
}

/* Appends op to p; a test program that cannot be built is a bug. */
static inline void prog_push(struct program *p, struct op op)
{
	struct error err;

	if (program_push(p, &op, &err) < 0) {
		fprintf(stderr, "program_push: %s\n", err.msg);
		exit(2);
	}
	if (op.t + 1u > p->threads)
		p->threads = op.t + 1u;
}

#define FD1(kind, t, field, v) prog_set(prog_op(kind, t), field, v)

static inline struct op op_pipe2(unsigned flags)
{
	return prog_set(prog_op(OP_PIPE2, 0), F_FLAGS, flags);
}

static inline struct op op_epoll(void)
{
	return prog_op(OP_EPOLL_CREATE1, 0);
}

static inline struct op op_ctl(int epfd, int ctl, int fd, uint32_t events)
{
	struct op op = prog_op(OP_EPOLL_CTL, 0);

	op = prog_set(op, F_EPFD, epfd);
	op = prog_set(op, F_CTL, ctl);
	op = prog_set(op, F_FD, fd);
	return prog_set(op, F_EVENTS, events);
}

static inline struct op op_wait(unsigned t, int epfd, int maxevents,
				int timeout)
{
	struct op op = prog_op(OP_EPOLL_WAIT, t);

	op = prog_set(op, F_EPFD, epfd);
	op = prog_set(op, F_MAXEVENTS, maxevents);
	return prog_set(op, F_TIMEOUT, timeout);
}

static inline struct op op_write(unsigned t, int fd, int64_t len)
{
	return prog_set(FD1(OP_WRITE, t, F_FD, fd), F_LEN, len);
}

static inline struct op op_write_value(unsigned t, int fd, uint64_t value)
{
	return prog_set(FD1(OP_WRITE, t, F_FD, fd), F_VALUE, (int64_t)value);
}

static inline struct op op_read(unsigned t, int fd)
{
	return FD1(OP_READ, t, F_FD, fd);
}

static inline struct op op_sleep(int ms)
{
	return prog_set(prog_op(OP_SLEEP, 0), F_MS, ms);
}

#endif
