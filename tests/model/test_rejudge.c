/*
 * test_rejudge.c - target_set_rejudge(), which the fuzz session uses to
 * tell a model whose answer depends on what it ran before from Linux
 * taking another path: a fresh model, asked about an earlier Linux outcome
 * of a program, gives the verdict the long-lived one gave, other programs
 * run on the long-lived one in between; it accepts the outcome Linux gave
 * and rejects one with a step's result altered.
 *
 * Usage: test_rejudge TRACE.json...  (the model against Linux on each)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"
#include "expect.h"

/* The first step with a plain return value, its value moved by one. */
static bool alter(struct outcome *o)
{
	for (unsigned i = 0; i < o->nsteps; i++)
		if (o->steps[i].state == STEP_DONE && o->steps[i].res.ret >= 0) {
			o->steps[i].res.ret++;
			return true;
		}
	return false;
}

static void check_trace(struct target_set *set, int m, const char *path,
			const struct program *other)
{
	struct program p;
	struct outcome linux_out, altered;
	struct verdict v, again;
	struct error err;

	if (trace_load_file(path, &p, NULL, &err) < 0) {
		EXPECT(false, "%s: %s", path, err.msg);
		return;
	}
	EXPECT(target_set_run(set, &p, NULL, &err) == 0, "%s: %s", path, err.msg);
	target_set_judge(set, &p, &v, NULL);
	EXPECT(v.cls == VERDICT_AGREE, "%s: the model departs from Linux", path);
	if (outcome_copy(&linux_out, &set->out[0]) < 0 ||
	    outcome_copy(&altered, &set->out[0]) < 0)
		abort();
	for (int round = 0; round < 2; round++) {
		/* another program in between: nothing of it may stay behind */
		if (other)
			target_set_run(set, other, NULL, &err);
		EXPECT(target_set_rejudge(set, (unsigned)m, &p, &linux_out, &again, &err) == 0,
		       "%s: %s", path, err.msg);
		EXPECT(again.cls == VERDICT_AGREE, "%s: asked again, the model rejects "
		       "the Linux outcome it accepted (round %d)", path, round);
	}
	if (alter(&altered)) {
		EXPECT(target_set_rejudge(set, (unsigned)m, &p, &altered, &again, &err) == 0,
		       "%s: %s", path, err.msg);
		EXPECT(again.cls == VERDICT_DIVERGE, "%s: the model accepts an altered "
		       "outcome", path);
	}
	outcome_free(&linux_out);
	outcome_free(&altered);
	program_free(&p);
}

int main(int argc, char **argv)
{
	static const char *const model_only[] = { "model" };
	struct target_set_choice c = { .targets = model_only, .ntargets = 1 };
	struct target_set set;
	struct program other;
	struct error err;
	int m;

	if (argc < 3)
		return fprintf(stderr, "usage: test_rejudge OTHER.json TRACE.json...\n"), 2;
	if (target_set_init(&set, &c, &err) < 0 ||
	    target_set_open(&set, &(struct target_config){ 0 }, &err) < 0)
		return fprintf(stderr, "targets: %s\n", err.msg), 1;
	m = target_set_find(&set, "model");
	if (m <= 0)
		return fprintf(stderr, "no model beside linux\n"), 1;
	if (trace_load_file(argv[1], &other, NULL, &err) < 0)
		return fprintf(stderr, "%s: %s\n", argv[1], err.msg), 1;
	for (int i = 2; i < argc; i++)
		check_trace(&set, m, argv[i], &other);
	program_free(&other);
	target_set_close(&set);
	printf("rejudge: %d traces, %u failed checks\n", argc - 2, failed);
	return failed ? 1 : 0;
}
