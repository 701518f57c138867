/*
 * fuzz_model.c - libFuzzer target: the model alone, checking its own
 * invariants after every step.  Fast (no syscalls), so it explores the
 * model's state space far quicker than fuzz_diff; a broken invariant is a
 * finding, reported on stderr before abort().
 */
#include <stdlib.h>

#include "fuzz.h"
#include "model.h"

enum { FAILURES_SHOWN = 10 };

/* libFuzzer's entry points take no context argument, hence this one. */
static struct fuzz_ctx {
	struct decode_limits lim; /* EPOLLFUZZ_THREADS, read once */
	struct model *model;
	struct outcome out;
	unsigned long runs, failures;
} ctx;

static void finish(void)
{
	fprintf(stderr, "fuzz_model: %lu programs, %lu model failures\n",
		ctx.runs, ctx.failures);
	model_free(ctx.model);
	outcome_free(&ctx.out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct target_config cfg = { NULL };
	struct error err = { "" };

	if (fuzz_limits(&ctx.lim, &err) < 0) {
		fprintf(stderr, "fuzz_model: %s\n", err.msg);
		exit(1);
	}
	ctx.model = model_new(&cfg, &err);
	if (!ctx.model) {
		fprintf(stderr, "fuzz_model: cannot open the model: %s\n", err.msg);
		exit(1);
	}
	outcome_init(&ctx.out);
	atexit(finish);
	return 0;
}

static void report_violation(const struct program *p, const struct outcome *out)
{
	const struct violation *x = &out->violation;

	fprintf(stderr, "\n==== epollfuzz finding ====\n");
	fprintf(stderr, "invariant broken at step %u: invariant:%s\n   %s\n",
		x->step, x->cls, x->msg);
	fuzz_print_trace(stderr, p, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = { "" };
	struct program p;

	program_decode(data, size, &ctx.lim, &p);
	ctx.runs++;
	outcome_reset(&ctx.out);
	if (model_run(ctx.model, &p, &ctx.out, &err) < 0) {
		if (ctx.failures++ < FAILURES_SHOWN)
			fprintf(stderr, "fuzz_model: the model failed to run a program, skipped: %s\n",
				err.msg);
	} else if (ctx.out.violation.broken) {
		report_violation(&p, &ctx.out);
		abort();
	}
	program_free(&p);
	return 0;
}
