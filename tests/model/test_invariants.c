/*
 * test_invariants.c - every model self-check fires on a deliberately broken
 * state, and stays quiet on the healthy state it was broken from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "model.h"
#include "expect.h"

static void push(struct program *p, enum op_kind kind, unsigned t,
		 enum field_id a, int64_t va, enum field_id b, int64_t vb,
		 enum field_id c, int64_t vc)
{
	struct op op;
	struct error err;

	op_init(&op, kind, t);
	op.f[a] = va;
	op.f[b] = vb;
	op.f[c] = vc;
	op.present = (uint32_t)((1u << a) | (1u << b) | (1u << c));
	if (program_push(p, &op, &err) < 0)
		abort();
}

/*
 * Two epolls (3, 4), a pipe (5, 6) whose read end is registered in both
 * and made ready, so every damage has something to work on.
 */
static void build(struct program *p)
{
	program_init(p);
	p->threads = 2;
	push(p, OP_EPOLL_CREATE1, 0, F_FLAGS, 0, F_FLAGS, 0, F_FLAGS, 0);
	push(p, OP_EPOLL_CREATE1, 0, F_FLAGS, 0, F_FLAGS, 0, F_FLAGS, 0);
	push(p, OP_PIPE2, 0, F_FLAGS, 04000, F_FLAGS, 04000, F_FLAGS, 04000);
	push(p, OP_EPOLL_CTL, 0, F_EPFD, 3, F_CTL, EPOLL_CTL_ADD, F_FD, 5);
	p->ops[p->nops - 1].f[F_EVENTS] = EPOLLIN;
	push(p, OP_EPOLL_CTL, 0, F_EPFD, 4, F_CTL, EPOLL_CTL_ADD, F_FD, 5);
	p->ops[p->nops - 1].f[F_EVENTS] = EPOLLIN;
	push(p, OP_WRITE, 0, F_FD, 6, F_LEN, 1, F_LEN, 1);
}

static void expect_class(enum model_damage what, const char *cls)
{
	struct program p;
	struct outcome out;
	struct violation v;
	struct error err;
	struct model *m = model_new(NULL, &err);

	build(&p);
	outcome_init(&out);
	EXPECT(model_run(m, &p, &out, &err) == 0, "run: %s", err.msg);
	EXPECT(!out.violation.broken, "healthy run broke %s: %s",
	      out.violation.cls, out.violation.msg);
	memset(&v, 0, sizeof(v));
	EXPECT(model_check(m, &v), "healthy state fails %s: %s", v.cls, v.msg);
	EXPECT(model_damage(m, what), "damage %d found nothing to break", what);
	memset(&v, 0, sizeof(v));
	EXPECT(!model_check(m, &v), "damage %d went unnoticed", what);
	EXPECT(v.broken && strcmp(v.cls, cls) == 0,
	      "damage %d: class '%s' (%s), expected '%s'", what, v.cls, v.msg, cls);
	outcome_free(&out);
	program_free(&p);
	model_free(m);
}

int main(void)
{
	expect_class(DAMAGE_FREE_EPOLL_UNDER_INTEREST, "dangling-interest");
	expect_class(DAMAGE_FREE_FILE_UNDER_INTEREST, "dangling-interest");
	expect_class(DAMAGE_DUPLICATE_READY, "ready-list");
	expect_class(DAMAGE_FOREIGN_READY, "ready-list");
	expect_class(DAMAGE_REFCOUNT, "refcount");
	expect_class(DAMAGE_FD_TABLE, "fd-table");
	expect_class(DAMAGE_LOST_WAKEUP, "lost-wakeup");
	expect_class(DAMAGE_LOST_IO_WAKEUP, "lost-wakeup");
	if (failed) {
		fprintf(stderr, "%u check(s) failed\n", failed);
		return 1;
	}
	printf("all invariant checks fire\n");
	return 0;
}
