/*
 * test_oracle.c - the linux target against what real Linux does.
 *
 * Every program here has a known answer on any recent kernel; the point is
 * that the executor gets it through its machinery: the reset fd table, the
 * hidden executor fds, workers that block and are woken, the virtual clock,
 * and the watchdog.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>

#include "oracle.h"
#include "prog.h"

struct ctx {
	struct target *target;
	struct program p;
	struct outcome out;
	struct error err;
	const char *test;
	int failures;
};

#define CHECK(c, cond, ...)                                                  \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s (line %d): %s: ", (c)->test, \
				__LINE__, #cond);                            \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			(c)->failures++;                                     \
		}                                                            \
	} while (0)

static void begin(struct ctx *c, const char *name)
{
	c->test = name;
	program_free(&c->p);
	program_init(&c->p);
}

/* Runs the program built so far; false (and a failure) if the target did. */
static bool run(struct ctx *c)
{
	if (linux_target.run(c->target, &c->p, &c->out, &c->err) < 0) {
		CHECK(c, false, "run failed: %s", c->err.msg);
		return false;
	}
	CHECK(c, c->out.nsteps == c->p.nops, "%u records for %u ops",
	      c->out.nsteps, c->p.nops);
	return c->out.nsteps == c->p.nops;
}

static const struct step_record *rec(struct ctx *c, unsigned i)
{
	return &c->out.steps[i];
}

static void expect_ret(struct ctx *c, unsigned i, int64_t ret, int err)
{
	const struct step_record *r = rec(c, i);

	CHECK(c, r->state == STEP_DONE, "step %u state %u", i, r->state);
	CHECK(c, r->res.ret == ret && r->res.err == err,
	      "step %u: ret %lld errno %s, want %lld %s", i,
	      (long long)r->res.ret, errno_name(r->res.err), (long long)ret,
	      errno_name(err));
}

static void expect_event(struct ctx *c, const struct result *res,
			 unsigned k, uint32_t events, uint64_t data)
{
	const struct event_rec *e;

	CHECK(c, (res->has & RES_EVENTS) && k < res->ev_count,
	      "no event %u (has %#x, %u events)", k, res->has, res->ev_count);
	if (!(res->has & RES_EVENTS) || k >= res->ev_count)
		return;
	e = &c->out.events[res->ev_first + k];
	CHECK(c, e->events == events && e->data == data,
	      "event %u: %#x:%llu, want %#x:%llu", k, e->events,
	      (unsigned long long)e->data, events, (unsigned long long)data);
}

/* ------------------------------------------------------------- the tests */

static void test_fresh_table(struct ctx *c)
{
	begin(c, "fresh fd table");
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_epoll());
	for (int round = 0; round < 2; round++) {
		if (!run(c))
			return;
		expect_ret(c, 0, 0, 0);
		CHECK(c, (rec(c, 0)->res.has & RES_FDS) &&
			      rec(c, 0)->res.fds[0] == 3 && rec(c, 0)->res.fds[1] == 4,
		      "round %d: pipe2 fds [%d,%d]", round, rec(c, 0)->res.fds[0],
		      rec(c, 0)->res.fds[1]);
		expect_ret(c, 1, 5, 0);
	}
}

static void test_devnull(struct ctx *c)
{
	begin(c, "fds 0-2 are /dev/null");
	prog_push(&c->p, op_epoll());
	prog_push(&c->p, op_ctl(3, EPOLL_CTL_ADD, 0, EPOLLIN));
	prog_push(&c->p, op_write(0, 1, 3));
	prog_push(&c->p, op_read(0, 2));
	prog_push(&c->p, FD1(OP_CLOSE, 0, F_FD, 1));
	if (!run(c))
		return;
	expect_ret(c, 1, -1, EPERM); /* /dev/null has no poll */
	expect_ret(c, 2, 3, 0);
	expect_ret(c, 3, 0, 0);
	expect_ret(c, 4, 0, 0);

	/* The closed fd 1 is back in the next program. */
	begin(c, "fds 0-2 restored");
	prog_push(&c->p, op_write(0, 1, 1));
	prog_push(&c->p, FD1(OP_DUP, 0, F_FD, 0));
	if (!run(c))
		return;
	expect_ret(c, 0, 1, 0);
	expect_ret(c, 1, 3, 0);
}

static void test_hidden_fds(struct ctx *c)
{
	begin(c, "executor fds are closed to programs");
	prog_push(&c->p, op_epoll());
	for (int fd = 2000; fd <= 2010; fd++) {
		prog_push(&c->p, FD1(OP_CLOSE, 0, F_FD, fd));
		prog_push(&c->p, FD1(OP_DUP, 0, F_FD, fd));
		prog_push(&c->p, op_ctl(3, EPOLL_CTL_ADD, fd, EPOLLIN));
		prog_push(&c->p, op_ctl(fd, EPOLL_CTL_ADD, 0, EPOLLIN));
		prog_push(&c->p, op_write(0, fd, 1));
		prog_push(&c->p, op_wait(0, fd, 4, 0));
	}
	/* dup2(x, x): dup2 checks x itself, dup3 answers EINVAL first. */
	prog_push(&c->p, prog_set(FD1(OP_DUP2, 0, F_FD, 2000), F_NEWFD, 2000));
	prog_push(&c->p, prog_set(FD1(OP_DUP3, 0, F_FD, 2000), F_NEWFD, 2000));
	prog_push(&c->p, prog_set(FD1(OP_DUP2, 0, F_FD, 3), F_NEWFD, FD_LIMIT));
	prog_push(&c->p, prog_set(FD1(OP_DUP2, 0, F_FD, 3), F_NEWFD, 2001));
	if (!run(c))
		return;
	for (unsigned i = 1; i < 1 + 11 * 6; i++)
		expect_ret(c, i, -1, EBADF);
	expect_ret(c, 67, -1, EBADF);
	expect_ret(c, 68, -1, EINVAL);
	expect_ret(c, 69, -1, EBADF);
	expect_ret(c, 70, -1, EBADF);

	/* The executor still has its channel. */
	begin(c, "executor fine after hidden fds");
	prog_push(&c->p, op_pipe2(0));
	if (run(c))
		expect_ret(c, 0, 0, 0);
}

static void test_eventfd(struct ctx *c)
{
	const struct step_record *r;

	begin(c, "eventfd value");
	prog_push(&c->p, prog_op(OP_EVENTFD, 0));
	prog_push(&c->p, op_write_value(0, 3, 5));
	prog_push(&c->p, op_read(0, 3));
	if (!run(c))
		return;
	expect_ret(c, 0, 3, 0);
	expect_ret(c, 1, 8, 0);
	expect_ret(c, 2, 8, 0);
	r = rec(c, 2);
	CHECK(c, (r->res.has & RES_VALUE) && r->res.value == 5,
	      "read has %#x value %llu", r->res.has,
	      (unsigned long long)r->res.value);
}

static void test_ready_pipe(struct ctx *c)
{
	begin(c, "epoll_wait on a ready pipe");
	prog_push(&c->p, op_pipe2(O_NONBLOCK));
	prog_push(&c->p, op_epoll());
	prog_push(&c->p, prog_set(op_ctl(5, EPOLL_CTL_ADD, 3, EPOLLIN), F_DATA,
				  0x1234));
	prog_push(&c->p, op_write(0, 4, 1));
	prog_push(&c->p, op_wait(0, 5, 16, 0));
	prog_push(&c->p, op_wait(0, 5, 0, 0));
	if (!run(c))
		return;
	expect_ret(c, 4, 1, 0);
	expect_event(c, &rec(c, 4)->res, 0, EPOLLIN, 0x1234);
	expect_ret(c, 5, -1, EINVAL);
}

/* pipe (3,4), epoll 5 watching 3 for EPOLLIN. */
static void push_watched_pipe(struct ctx *c, uint32_t events)
{
	prog_push(&c->p, op_pipe2(O_NONBLOCK));
	prog_push(&c->p, op_epoll());
	prog_push(&c->p, op_ctl(5, EPOLL_CTL_ADD, 3, events));
}

static void test_wakeup(struct ctx *c)
{
	const struct step_record *r;
	const struct completion *done;

	begin(c, "a write wakes a blocked thread");
	push_watched_pipe(c, EPOLLIN);
	prog_push(&c->p, op_wait(1, 5, 8, -1));
	prog_push(&c->p, op_write(0, 4, 1));
	if (!run(c))
		return;
	CHECK(c, rec(c, 3)->state == STEP_BLOCKED, "wait state %u",
	      rec(c, 3)->state);
	r = rec(c, 4);
	expect_ret(c, 4, 1, 0);
	CHECK(c, r->done_count == 1, "%u completions", r->done_count);
	if (r->done_count != 1)
		return;
	done = &c->out.done[r->done_first];
	CHECK(c, done->step == 3 && done->t == 1 && done->res.ret == 1,
	      "completion step %u t %u ret %lld", done->step, done->t,
	      (long long)done->res.ret);
	expect_event(c, &done->res, 0, EPOLLIN, 3);
	CHECK(c, c->out.nblocked == 0, "%u still blocked", c->out.nblocked);
}

/* Level-triggered: one write wakes the most recent waiter, whose scan
 * (ep_done_scan) wakes the next, and so on: all of them return, in the
 * same step. */
static void test_cascade(struct ctx *c)
{
	const struct step_record *r;

	begin(c, "level-triggered wakeups cascade");
	push_watched_pipe(c, EPOLLIN);
	for (unsigned t = 1; t <= 3; t++)
		prog_push(&c->p, op_wait(t, 5, 8, -1));
	prog_push(&c->p, op_write(0, 4, 1));
	if (!run(c))
		return;
	r = rec(c, 6);
	CHECK(c, r->done_count == 3, "%u completions", r->done_count);
	for (unsigned k = 0; k < r->done_count && k < 3; k++) {
		const struct completion *d = &c->out.done[r->done_first + k];

		CHECK(c, d->t == k + 1 && d->step == 3 + k && d->res.ret == 1,
		      "completion %u: t %u step %u ret %lld", k, d->t, d->step,
		      (long long)d->res.ret);
	}

	/* Edge-triggered: only the last waiter to block returns (LIFO). */
	begin(c, "edge-triggered wakes one");
	push_watched_pipe(c, EPOLLIN | EPOLLET);
	for (unsigned t = 1; t <= 3; t++)
		prog_push(&c->p, op_wait(t, 5, 8, -1));
	prog_push(&c->p, op_write(0, 4, 1));
	if (!run(c))
		return;
	r = rec(c, 6);
	CHECK(c, r->done_count == 1 && c->out.done[r->done_first].t == 3,
	      "%u completions, first t %u", r->done_count,
	      r->done_count ? c->out.done[r->done_first].t : 99);
	CHECK(c, c->out.nblocked == 2, "%u still blocked", c->out.nblocked);
}

static void test_timeout(struct ctx *c)
{
	const struct step_record *r;
	const struct completion *done;

	begin(c, "virtual timeout");
	push_watched_pipe(c, EPOLLIN);
	prog_push(&c->p, op_wait(1, 5, 8, 5));
	prog_push(&c->p, op_sleep(3));
	prog_push(&c->p, op_sleep(3));
	if (!run(c))
		return;
	CHECK(c, rec(c, 3)->state == STEP_BLOCKED, "wait state %u",
	      rec(c, 3)->state);
	CHECK(c, rec(c, 4)->done_count == 0, "sleep 3 completed %u",
	      rec(c, 4)->done_count);
	r = rec(c, 5);
	CHECK(c, r->done_count == 1, "%u completions", r->done_count);
	if (r->done_count != 1)
		return;
	done = &c->out.done[r->done_first];
	CHECK(c, done->step == 3 && done->t == 1 && done->res.ret == 0 &&
		      done->res.err == 0 && done->res.ev_count == 0,
	      "completion step %u t %u ret %lld errno %s", done->step, done->t,
	      (long long)done->res.ret, errno_name(done->res.err));
	CHECK(c, c->out.nblocked == 0, "%u still blocked", c->out.nblocked);

	/* Two deadlines passed by one sleep: both complete, listed by t. */
	begin(c, "two deadlines in one sleep");
	push_watched_pipe(c, EPOLLIN);
	prog_push(&c->p, op_wait(2, 5, 8, 2));
	prog_push(&c->p, op_wait(1, 5, 8, 4));
	prog_push(&c->p, op_sleep(10));
	if (!run(c))
		return;
	r = rec(c, 5);
	CHECK(c, r->done_count == 2 && c->out.done[r->done_first].t == 1 &&
		      c->out.done[r->done_first + 1].t == 2,
	      "%u completions", r->done_count);
}

static void test_skipped_and_still_blocked(struct ctx *c)
{
	begin(c, "an op on a blocked thread is skipped");
	push_watched_pipe(c, EPOLLIN);
	prog_push(&c->p, op_wait(1, 5, 8, -1));
	prog_push(&c->p, FD1(OP_CLOSE, 1, F_FD, 4));
	prog_push(&c->p, op_pipe2(0));
	if (!run(c))
		return;
	CHECK(c, rec(c, 4)->state == STEP_SKIPPED, "state %u", rec(c, 4)->state);
	expect_ret(c, 5, 0, 0);
	CHECK(c, rec(c, 5)->res.fds[0] == 6, "pipe2 fds [%d,%d] (4 was not closed)",
	      rec(c, 5)->res.fds[0], rec(c, 5)->res.fds[1]);
	CHECK(c, c->out.nblocked == 1 && c->out.blocked[0].step == 3 &&
		      c->out.blocked[0].t == 1,
	      "%u still blocked", c->out.nblocked);

	begin(c, "next program after still-blocked");
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_wait(1, 3, 8, 0));
	if (run(c)) {
		expect_ret(c, 0, 0, 0);
		CHECK(c, rec(c, 0)->res.fds[0] == 3, "fds [%d,%d]",
		      rec(c, 0)->res.fds[0], rec(c, 0)->res.fds[1]);
		expect_ret(c, 1, -1, EINVAL);
	}
}

static void test_blocking_read(struct ctx *c)
{
	begin(c, "blocking read on an empty pipe");
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_read(0, 3));
	prog_push(&c->p, op_write(1, 4, 3));
	prog_push(&c->p, op_read(1, 3));
	if (!run(c))
		return;
	CHECK(c, rec(c, 1)->state == STEP_BLOCKED, "read state %u",
	      rec(c, 1)->state);
	expect_ret(c, 2, 3, 0);
	CHECK(c, rec(c, 2)->done_count == 1 &&
		      c->out.done[rec(c, 2)->done_first].res.ret == 3,
	      "the write completed %u reads", rec(c, 2)->done_count);
	CHECK(c, rec(c, 3)->state == STEP_BLOCKED, "second read state %u",
	      rec(c, 3)->state);
	CHECK(c, c->out.nblocked == 1 && c->out.blocked[0].step == 3 &&
		      c->out.blocked[0].t == 1,
	      "%u still blocked", c->out.nblocked);

	begin(c, "blocking read, still blocked at the end");
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_read(0, 3));
	if (!run(c))
		return;
	CHECK(c, rec(c, 1)->state == STEP_BLOCKED, "read state %u",
	      rec(c, 1)->state);
	CHECK(c, c->out.nblocked == 1 && c->out.blocked[0].step == 1 &&
		      c->out.blocked[0].t == 0,
	      "%u still blocked", c->out.nblocked);

	/* A read whose fd another thread closed (the call alone holds the
	 * pipe's read end) and a write into a full pipe, both asleep at the
	 * end: interrupted, they release what they hold before the next
	 * program, whose fd table is fresh and whose workers block again. */
	begin(c, "blocked read of a closed fd and blocked write, still blocked at the end");
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_write(0, 6, 65536));
	prog_push(&c->p, op_read(1, 3));
	prog_push(&c->p, FD1(OP_CLOSE, 0, F_FD, 3));
	prog_push(&c->p, op_write(2, 6, 1));
	if (!run(c))
		return;
	expect_ret(c, 2, 65536, 0);
	expect_ret(c, 4, 0, 0);
	CHECK(c, rec(c, 3)->state == STEP_BLOCKED && rec(c, 5)->state == STEP_BLOCKED,
	      "states %u, %u", rec(c, 3)->state, rec(c, 5)->state);
	CHECK(c, c->out.nblocked == 2, "%u still blocked", c->out.nblocked);

	begin(c, "next program after blocked reads and writes");
	prog_push(&c->p, op_pipe2(0));
	prog_push(&c->p, op_read(1, 3));
	prog_push(&c->p, op_write(2, 4, 2));
	if (run(c)) {
		CHECK(c, rec(c, 0)->res.fds[0] == 3 && rec(c, 0)->res.fds[1] == 4,
		      "fds [%d,%d]", rec(c, 0)->res.fds[0], rec(c, 0)->res.fds[1]);
		CHECK(c, rec(c, 1)->state == STEP_BLOCKED, "read state %u",
		      rec(c, 1)->state);
		expect_ret(c, 2, 2, 0);
		CHECK(c, rec(c, 2)->done_count == 1 &&
			      c->out.done[rec(c, 2)->done_first].res.ret == 2,
		      "the write completed %u reads", rec(c, 2)->done_count);
		CHECK(c, c->out.nblocked == 0, "%u still blocked", c->out.nblocked);
	}
}

static void test_watchdog(struct ctx *c)
{
	pid_t pid;

	begin(c, "watchdog: a killed executor");
	prog_push(&c->p, op_pipe2(0));
	pid = linux_target_pid(c->target);
	CHECK(c, pid > 0, "pid %d", (int)pid);
	kill(pid, SIGKILL);
	CHECK(c, linux_target.run(c->target, &c->p, &c->out, &c->err) < 0,
	      "run after kill succeeded");
	CHECK(c, strstr(c->err.msg, "linux: executor died (signal 9) at step") != NULL,
	      "message '%s'", c->err.msg);
	if (run(c))
		expect_ret(c, 0, 0, 0);
	CHECK(c, linux_target_pid(c->target) != pid, "same pid after restart");

	begin(c, "watchdog: a stopped executor");
	prog_push(&c->p, op_pipe2(0));
	linux_target_set_timeout(c->target, 300);
	kill(linux_target_pid(c->target), SIGSTOP);
	CHECK(c, linux_target.run(c->target, &c->p, &c->out, &c->err) < 0,
	      "run after SIGSTOP succeeded");
	CHECK(c, strstr(c->err.msg, "linux: executor hung at step") != NULL,
	      "message '%s'", c->err.msg);
	linux_target_set_timeout(c->target, LINUX_TARGET_TIMEOUT_MS);
	if (run(c))
		expect_ret(c, 0, 0, 0);
}

int main(void)
{
	struct ctx c;
	struct target_config cfg = { 0 };

	memset(&c, 0, sizeof(c));
	program_init(&c.p);
	outcome_init(&c.out);
	c.target = linux_target.open(&cfg, &c.err);
	if (!c.target) {
		fprintf(stderr, "open: %s\n", c.err.msg);
		return 1;
	}
	test_fresh_table(&c);
	test_devnull(&c);
	test_hidden_fds(&c);
	test_eventfd(&c);
	test_ready_pipe(&c);
	test_wakeup(&c);
	test_cascade(&c);
	test_timeout(&c);
	test_skipped_and_still_blocked(&c);
	test_blocking_read(&c);
	test_watchdog(&c);
	/* Everything again on the restarted executor. */
	test_fresh_table(&c);
	test_wakeup(&c);

	linux_target.close(c.target);
	program_free(&c.p);
	outcome_free(&c.out);
	if (c.failures)
		fprintf(stderr, "%d failure(s)\n", c.failures);
	else
		printf("oracle: all passed\n");
	return c.failures ? 1 : 0;
}
