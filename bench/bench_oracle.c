/*
 * bench_oracle.c - rough programs/second of the linux target, for a
 * 20-op program that never blocks and a 4-thread program that blocks and
 * wakes.  Usage: bench_oracle [seconds per program kind]
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "oracle.h"
#include "prog.h"
#include "now.h"

/* pipe, epoll, eventfd; writes, reads and non-blocking waits: 20 ops. */
static void build_flat(struct program *p)
{
	prog_push(p, op_pipe2(O_NONBLOCK));                   /* 3,4 */
	prog_push(p, op_epoll());                              /* 5 */
	prog_push(p, prog_op(OP_EVENTFD, 0));                  /* 6 */
	prog_push(p, op_ctl(5, EPOLL_CTL_ADD, 3, EPOLLIN));
	prog_push(p, op_ctl(5, EPOLL_CTL_ADD, 6, EPOLLIN | EPOLLET));
	for (int i = 0; i < 3; i++) {
		prog_push(p, op_write(0, 4, 10));
		prog_push(p, op_write_value(0, 6, 1));
		prog_push(p, op_wait(0, 5, 8, 0));
		prog_push(p, op_read(0, 3));
	}
	prog_push(p, FD1(OP_DUP, 0, F_FD, 3));
	prog_push(p, FD1(OP_CLOSE, 0, F_FD, 7));
	prog_push(p, FD1(OP_CLOSE, 0, F_FD, 4));
}

/* Three threads block in epoll_wait, a write wakes them all (LT cascade),
 * they block again and a sleep times them out. */
static void build_blocking(struct program *p)
{
	prog_push(p, op_pipe2(O_NONBLOCK));
	prog_push(p, op_epoll());
	prog_push(p, op_ctl(5, EPOLL_CTL_ADD, 3, EPOLLIN));
	for (unsigned t = 1; t <= 3; t++)
		prog_push(p, op_wait(t, 5, 8, -1));
	prog_push(p, op_write(0, 4, 1));
	prog_push(p, op_read(0, 3));
	for (unsigned t = 1; t <= 3; t++)
		prog_push(p, op_wait(t, 5, 8, 5));
	prog_push(p, op_sleep(10));
}

static int bench(struct target *t, const char *name, struct program *p,
		 double seconds)
{
	struct outcome out;
	struct error err;
	double start = now(), end;
	unsigned n = 0;

	outcome_init(&out);
	do {
		for (int i = 0; i < 20; i++, n++)
			if (linux_target.run(t, p, &out, &err) < 0) {
				fprintf(stderr, "%s: %s\n", name, err.msg);
				return -1;
			}
		end = now();
	} while (end - start < seconds);
	printf("%-28s %4u ops %8.0f programs/s\n", name, p->nops,
	       n / (end - start));
	outcome_free(&out);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	struct target_config cfg = { 0 };
	struct program flat, blocking;
	struct error err;
	struct target *t = linux_target.open(&cfg, &err);
	int rc;

	if (!t) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 1;
	}
	program_init(&flat);
	program_init(&blocking);
	build_flat(&flat);
	build_blocking(&blocking);
	rc = bench(t, "non-blocking, 1 thread", &flat, seconds) ||
	     bench(t, "blocking, 4 threads", &blocking, seconds);
	program_free(&flat);
	program_free(&blocking);
	linux_target.close(t);
	return rc ? 1 : 0;
}
