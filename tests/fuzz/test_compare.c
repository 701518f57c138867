/*
 * test_compare.c - the comparator's verdicts and the formatters' text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "check.h"
#include "trace.h"

/*
 * The program every test compares outcomes of:
 *   0 epoll_create1(0)                     = 3
 *   1 pipe2(O_NONBLOCK)                    = 0 fds=[4,5]
 *   2 epoll_ctl(3, ADD, 4, EPOLLIN)        = 0
 *   3 t1: epoll_wait(3, 16, -1)            blocked
 *   4 write(5, len=1)                      = 1, completes step 3
 *   5 epoll_wait(3, 16, 0)                 = 2 events
 */
static void build_program(struct program *p)
{
	struct op op;

	program_init(p);
	p->threads = 2;
	op_init(&op, OP_EPOLL_CREATE1, 0);
	program_push(p, &op, NULL);
	op_init(&op, OP_PIPE2, 0);
	op.f[F_FLAGS] = O_NONBLOCK;
	program_push(p, &op, NULL);
	op_init(&op, OP_EPOLL_CTL, 0);
	op.f[F_EPFD] = 3, op.f[F_CTL] = EPOLL_CTL_ADD, op.f[F_FD] = 4;
	op.f[F_EVENTS] = EPOLLIN;
	program_push(p, &op, NULL);
	op_init(&op, OP_EPOLL_WAIT, 1);
	op.f[F_EPFD] = 3;
	program_push(p, &op, NULL);
	op_init(&op, OP_WRITE, 0);
	op.f[F_FD] = 5, op.f[F_LEN] = 1, op.present = 1u << F_LEN;
	program_push(p, &op, NULL);
	op_init(&op, OP_EPOLL_WAIT, 0);
	op.f[F_EPFD] = 3, op.f[F_TIMEOUT] = 0;
	program_push(p, &op, NULL);
}

/* Knobs for building variants of the one outcome. */
struct variant {
	int64_t pipe_ret;
	int ctl_errno;
	bool swap_events;
	uint32_t woken_events;
	bool ctl_unsupported;
};

static const struct variant plain = { 0, 0, false, EPOLLIN, false };

static void build_outcome(struct outcome *o, const struct variant *v)
{
	struct step_record *r;
	struct completion *c;
	uint32_t ev[2] = { EPOLLIN, EPOLLOUT };

	outcome_init(o);
	r = outcome_add_step(o, 0, 0);
	r->res.ret = 3;
	r = outcome_add_step(o, 1, 0);
	r->res.ret = v->pipe_ret;
	r->res.has = RES_FDS;
	r->res.fds[0] = 4, r->res.fds[1] = 5;
	r = outcome_add_step(o, 2, 0);
	if (v->ctl_unsupported)
		r->state = STEP_UNSUPPORTED;
	else if (v->ctl_errno)
		result_set_error(&r->res, v->ctl_errno);
	r = outcome_add_step(o, 3, 1);
	r->state = STEP_BLOCKED;
	r = outcome_add_step(o, 4, 0);
	r->res.ret = 1;
	c = outcome_add_completion(o, r, 3, 1);
	c->res.ret = 1;
	c->res.has = RES_EVENTS;
	outcome_add_event(o, &c->res, v->woken_events, 4);
	r = outcome_add_step(o, 5, 0);
	r->res.ret = 2;
	r->res.has = RES_EVENTS;
	outcome_add_event(o, &r->res, ev[v->swap_events], 4);
	outcome_add_event(o, &r->res, ev[!v->swap_events], 5);
}

static void check_verdict(struct checks *c, const char *name,
			  const struct verdict *v, enum verdict_class cls,
			  uint32_t step, const char *field, const char *signature)
{
	CHECK(c, v->cls == cls, "%s: class %d, want %d", name, v->cls, cls);
	if (cls == VERDICT_AGREE)
		return;
	CHECK(c, v->step == step, "%s: step %u, want %u", name, v->step, step);
	CHECK(c, v->record == step, "%s: record %u, want %u", name, v->record, step);
	CHECK_STR(c, v->field, field);
	CHECK_STR(c, v->signature, signature);
	CHECK(c, v->detail[0] != '\0', "%s: no detail", name);
}

static void compare_variant(struct checks *c, const char *name,
			    const struct program *p, const struct variant *va,
			    const struct variant *vb, enum verdict_class cls,
			    uint32_t step, const char *field, const char *signature)
{
	struct outcome a, b;
	struct verdict v;

	build_outcome(&a, va);
	build_outcome(&b, vb);
	compare_outcomes(p, &a, &b, &v);
	check_verdict(c, name, &v, cls, step, field, signature);
	outcome_free(&a);
	outcome_free(&b);
}

static void test_verdicts(struct checks *c, const struct program *p)
{
	struct variant ret = plain, err = plain, order = plain, woken = plain,
		       unsup = plain;

	ret.pipe_ret = -1;
	err.ctl_errno = EBADF;
	order.swap_events = true;
	woken.woken_events = EPOLLIN | EPOLLHUP;
	unsup.ctl_unsupported = true;
	compare_variant(c, "agree", p, &plain, &plain, VERDICT_AGREE, 0, "", "");
	compare_variant(c, "ret", p, &plain, &ret, VERDICT_DIVERGE, 1, "ret", "pipe2.ret");
	compare_variant(c, "errno", p, &err, &plain, VERDICT_DIVERGE, 2, "ret",
			"epoll_ctl.ret");
	compare_variant(c, "events order", p, &plain, &order, VERDICT_DIVERGE, 5,
			"events", "epoll_wait.events");
	compare_variant(c, "completion", p, &plain, &woken, VERDICT_DIVERGE, 4,
			"completed", "write.completed");
	compare_variant(c, "unsupported", p, &plain, &unsup, VERDICT_UNSUPPORTED, 2,
			"unsupported", "unsupported:epoll_ctl");
}

static void test_errno_only(struct checks *c, const struct program *p)
{
	struct outcome a, b;
	struct verdict v;

	build_outcome(&a, &plain);
	build_outcome(&b, &plain);
	result_set_error(&a.steps[2].res, EBADF);
	result_set_error(&b.steps[2].res, EINVAL);
	compare_outcomes(p, &a, &b, &v);
	check_verdict(c, "errno", &v, VERDICT_DIVERGE, 2, "errno", "epoll_ctl.errno");
	outcome_free(&a);
	outcome_free(&b);
}

static void break_invariant(struct outcome *o, uint32_t step)
{
	o->violation.broken = true;
	o->violation.step = step;
	snprintf(o->violation.cls, sizeof(o->violation.cls), "dangling-interest");
	snprintf(o->violation.msg, sizeof(o->violation.msg), "an interest outlives its epoll");
}

static void test_invariant(struct checks *c, const struct program *p)
{
	struct variant order = plain, ret = plain;
	struct outcome a, b;
	struct verdict v;

	order.swap_events = true;
	ret.pipe_ret = -1;
	/* the violation comes before the divergence: it wins */
	build_outcome(&a, &plain);
	build_outcome(&b, &order);
	break_invariant(&a, 2);
	compare_outcomes(p, &a, &b, &v);
	check_verdict(c, "invariant", &v, VERDICT_INVARIANT, 2, "invariant",
		      "invariant:dangling-interest");
	outcome_free(&b);
	/* a divergence before the violation wins */
	build_outcome(&b, &ret);
	compare_outcomes(p, &a, &b, &v);
	check_verdict(c, "divergence first", &v, VERDICT_DIVERGE, 1, "ret", "pipe2.ret");
	outcome_free(&b);
	/* with nothing else different, the violation is the verdict */
	build_outcome(&b, &plain);
	compare_outcomes(p, &a, &b, &v);
	check_verdict(c, "invariant alone", &v, VERDICT_INVARIANT, 2, "invariant",
		      "invariant:dangling-interest");
	outcome_free(&a);
	outcome_free(&b);
}

static void test_still_blocked(struct checks *c, const struct program *p)
{
	struct outcome a, b;
	struct verdict v;

	build_outcome(&a, &plain);
	build_outcome(&b, &plain);
	b.blocked[b.nblocked++] = (struct blocked_rec){ 3, 1 };
	compare_outcomes(p, &a, &b, &v);
	CHECK(c, v.cls == VERDICT_DIVERGE && v.step == 3, "still blocked: class %d step %u",
	      v.cls, v.step);
	CHECK_STR(c, v.signature, "epoll_wait.still_blocked");
	outcome_free(&a);
	outcome_free(&b);
}

static void test_outcome_set(struct checks *c, const struct program *p)
{
	struct variant ret = plain, order = plain;
	struct outcome allowed[2], actual;
	struct verdict v;

	ret.pipe_ret = -1;
	order.swap_events = true;
	build_outcome(&actual, &order);
	build_outcome(&allowed[0], &plain);
	build_outcome(&allowed[1], &order);
	compare_outcome_set(p, allowed, 2, &actual, &v);
	check_verdict(c, "set: second allowed", &v, VERDICT_AGREE, 0, "", "");
	outcome_free(&allowed[1]);
	/* neither: report against the one that follows actual longest */
	build_outcome(&allowed[1], &ret);
	compare_outcome_set(p, allowed + 1, 1, &actual, &v);
	check_verdict(c, "set: one", &v, VERDICT_DIVERGE, 1, "ret", "pipe2.ret");
	compare_outcome_set(p, allowed, 2, &actual, &v);
	check_verdict(c, "set: longest prefix", &v, VERDICT_DIVERGE, 5, "events",
		      "epoll_wait.events");
	outcome_free(&allowed[0]);
	outcome_free(&allowed[1]);
	outcome_free(&actual);
}

/* ------------------------------------------------------------- text */

static void test_op_format(struct checks *c, const struct program *p)
{
	struct op op;
	char buf[160];

	op_init(&op, OP_EPOLL_CTL, 0);
	op.f[F_EPFD] = 3, op.f[F_CTL] = EPOLL_CTL_ADD, op.f[F_FD] = 4;
	op.f[F_EVENTS] = EPOLLIN | EPOLLET, op.f[F_DATA] = 4;
	op.present = 1u << F_DATA;
	op_format(&op, buf, sizeof(buf));
	CHECK_STR(c, buf, "epoll_ctl(3, EPOLL_CTL_ADD, 4, EPOLLIN|EPOLLET, data=4)");
	op_format(&p->ops[3], buf, sizeof(buf));
	CHECK_STR(c, buf, "t1: epoll_wait(3, 16, -1)");
	op_format(&p->ops[4], buf, sizeof(buf));
	CHECK_STR(c, buf, "write(5, len=1)");
	op_format(&p->ops[1], buf, sizeof(buf));
	CHECK_STR(c, buf, "pipe2(O_NONBLOCK)");
	op_init(&op, OP_SOCKETPAIR, 0);
	op.f[F_TYPE] |= 04000;
	op_format(&op, buf, sizeof(buf));
	CHECK_STR(c, buf, "socketpair(SOCK_STREAM|SOCK_NONBLOCK)");
	op_init(&op, OP_WRITE, 0);
	op.f[F_FD] = 6, op.f[F_VALUE] = -2;
	op_format(&op, buf, sizeof(buf));
	CHECK_STR(c, buf, "write(6, value=0xfffffffffffffffe)");
	op_format(&op, buf, 8);
	CHECK_STR(c, buf, "write(6");
}

static void test_result_format(struct checks *c)
{
	struct outcome o;
	char buf[160];

	build_outcome(&o, &plain);
	result_format(&o, &o.steps[0].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "= 3");
	result_format(&o, &o.steps[1].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "= 0 fds=[4,5]");
	result_format(&o, &o.steps[3].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "blocked");
	result_format(&o, &o.done[0].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "= 1 [EPOLLIN:4]");
	result_format(&o, &o.steps[5].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "= 2 [EPOLLIN:4, EPOLLOUT:5]");
	result_set_error(&o.steps[2].res, EBADF);
	result_format(&o, &o.steps[2].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "= -1 EBADF");
	o.steps[2].res = (struct result){ .ret = 8, .has = RES_VALUE, .value = 5 };
	result_format(&o, &o.steps[2].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "= 8 value=5");
	o.steps[2].state = STEP_SKIPPED;
	result_format(&o, &o.steps[2].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "skipped (blocked)");
	o.steps[2].state = STEP_UNSUPPORTED;
	result_format(&o, &o.steps[2].res, buf, sizeof(buf));
	CHECK_STR(c, buf, "unsupported");
	outcome_free(&o);
}

/* The table is for people; check it has the parts and show it. */
static void test_verdict_print(struct checks *c, const struct program *p)
{
	struct variant woken = plain;
	struct outcome a, b;
	struct verdict v;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	woken.woken_events = EPOLLIN | EPOLLHUP;
	build_outcome(&a, &plain);
	build_outcome(&b, &woken);
	compare_outcomes(p, &a, &b, &v);
	verdict_print(f, p, "model", &a, "linux", &b, &v);
	fclose(f);
	fputs(text, stdout);
	CHECK(c, strstr(text, ">> 4") != NULL, "no marked row");
	CHECK(c, strstr(text, "write.completed") != NULL, "no signature");
	CHECK(c, strstr(text, "EPOLLIN|EPOLLHUP:4") != NULL, "no completion row");
	free(text);
	outcome_free(&a);
	outcome_free(&b);
}

int main(void)
{
	struct checks c = { 0 };
	struct program p;

	build_program(&p);
	test_verdicts(&c, &p);
	test_errno_only(&c, &p);
	test_invariant(&c, &p);
	test_still_blocked(&c, &p);
	test_outcome_set(&c, &p);
	test_op_format(&c, &p);
	test_result_format(&c);
	test_verdict_print(&c, &p);
	program_free(&p);
	return checks_report(&c, "test_compare");
}
