/*
 * fuzz_diff.c - libFuzzer target: the model against the Linux oracle.
 *
 * Each input decodes to a program (one thread, nothing blocks), which runs
 * on both targets; a divergence or a broken model invariant is a finding:
 * the verdict and the trace go to stderr and the process aborts, so that
 * libFuzzer saves the input.  Programs a target cannot run are counted, and
 * a target that fails to run one is reported and the input skipped.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "model.h"
#include "oracle.h"

enum { FAILURES_SHOWN = 10 };

struct slot {
	const struct target_ops *ops;
	struct target *target;
	struct outcome out;
	unsigned long failures;
};

/* libFuzzer's entry points take no context argument, hence this one. */
static struct fuzz_ctx {
	struct slot model, oracle;
	unsigned long runs, unsupported;
} ctx;

static int slot_open(struct slot *s, const struct target_ops *ops,
		     struct error *err)
{
	struct target_config cfg = { NULL };

	s->ops = ops;
	outcome_init(&s->out);
	s->target = ops->open(&cfg, err);
	return s->target ? 0 : -1;
}

static void slot_close(struct slot *s)
{
	if (s->target)
		s->ops->close(s->target);
	outcome_free(&s->out);
}

/* Runs p on s; with a reference outcome, a target that allows several
 * outcomes gives the one that matches it best. */
static int slot_run(struct slot *s, const struct program *p,
		    const struct outcome *ref)
{
	struct error err = { "" };
	int rc;

	outcome_reset(&s->out);
	if (ref && s->ops->run_like)
		rc = s->ops->run_like(s->target, p, ref, &s->out, &err);
	else
		rc = s->ops->run(s->target, p, &s->out, &err);
	if (rc == 0)
		return 0;
	if (s->failures++ < FAILURES_SHOWN)
		fprintf(stderr, "fuzz_diff: %s failed to run a program, skipped: %s\n",
			s->ops->name, err.msg);
	return -1;
}

static void report_totals(void)
{
	fprintf(stderr,
		"fuzz_diff: %lu programs, %lu unsupported, %lu model failures, %lu linux failures\n",
		ctx.runs, ctx.unsupported, ctx.model.failures, ctx.oracle.failures);
	slot_close(&ctx.model);
	slot_close(&ctx.oracle);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct error err = { "" };

	if (slot_open(&ctx.model, &model_target, &err) < 0 ||
	    slot_open(&ctx.oracle, &linux_target, &err) < 0) {
		fprintf(stderr, "fuzz_diff: cannot open a target: %s\n", err.msg);
		exit(1);
	}
	atexit(report_totals);
	return 0;
}

static void report_finding(const struct program *p, const struct verdict *v)
{
	fprintf(stderr, "\n==== epollfuzz finding ====\n");
	verdict_print(stderr, p, "model", &ctx.model.out, "linux",
		      &ctx.oracle.out, v);
	fprintf(stderr, "---- trace (linux outcome) ----\n");
	fuzz_print_trace(stderr, p, &ctx.oracle.out);
	fprintf(stderr, "---- model outcome ----\n");
	fuzz_print_trace(stderr, p, &ctx.model.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_limits lim = fuzz_limits();
	struct program p;
	struct verdict v;

	program_decode(data, size, &lim, &p);
	ctx.runs++;
	if (slot_run(&ctx.oracle, &p, NULL) == 0 &&
	    slot_run(&ctx.model, &p, &ctx.oracle.out) == 0) {
		compare_outcomes(&p, &ctx.model.out, &ctx.oracle.out, &v);
		if (v.cls == VERDICT_DIVERGE || v.cls == VERDICT_INVARIANT) {
			report_finding(&p, &v);
			abort();
		}
		ctx.unsupported += v.cls == VERDICT_UNSUPPORTED;
	}
	program_free(&p);
	return 0;
}
