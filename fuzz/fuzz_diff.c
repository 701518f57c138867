/*
 * fuzz_diff.c - libFuzzer target: the model against the Linux oracle.
 *
 * Each input decodes to a program on EPOLLFUZZ_THREADS threads (fuzz.h),
 * which runs on Linux and then on the model, matched against Linux's
 * outcome (where woken threads race, the model allows every order the
 * kernel allows).  A broken model invariant is a finding at once.  A Linux
 * outcome outside the model's set is a finding only when Linux repeats it:
 * the program runs RECHECKS more times, and only if every run is outside
 * the set are the verdict and the trace written to stderr and the process
 * aborted, so that libFuzzer saves the input.  If some run falls inside the
 * set, Linux itself varied: the program is saved apart as a JSON trace in
 * EPOLLFUZZ_NONDET_DIR (default nondeterministic/), counted, and fuzzing
 * goes on.  Programs a target cannot run are counted, and a target that
 * fails to run one is reported and the input skipped.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "model.h"
#include "oracle.h"

#define NONDET_DIR_ENV "EPOLLFUZZ_NONDET_DIR"
#define NONDET_DIR_DEFAULT "nondeterministic"

enum {
	FAILURES_SHOWN = 10,
	RECHECKS = 3,        /* runs more before a divergence is believed */
	STATUS_EVERY_S = 10, /* seconds between status lines */
};

struct slot {
	const struct target_ops *ops;
	struct target *target;
	struct outcome out;
	unsigned long failures;
};

/* libFuzzer's entry points take no context argument, hence this one. */
static struct fuzz_ctx {
	struct decode_limits lim; /* EPOLLFUZZ_THREADS, read once */
	const char *nondet_dir;
	struct slot model, oracle;
	unsigned long runs, findings, unsupported, nondeterministic;
	unsigned long save_failures;
	double started, last_status; /* seconds, CLOCK_MONOTONIC */
} ctx;

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

/* "fuzz_diff: N programs (R/s), F findings, U unsupported, D
 * nondeterministic", and at the end the targets' failures too. */
static void print_counts(bool final)
{
	double secs = now_seconds() - ctx.started;

	fprintf(stderr,
		"fuzz_diff: %lu programs (%.0f/s), %lu findings, %lu unsupported, %lu nondeterministic",
		ctx.runs, secs > 0 ? (double)ctx.runs / secs : 0.0, ctx.findings,
		ctx.unsupported, ctx.nondeterministic);
	if (final)
		fprintf(stderr, ", %lu model failures, %lu linux failures",
			ctx.model.failures, ctx.oracle.failures);
	fputc('\n', stderr);
}

static void maybe_print_status(void)
{
	double now = now_seconds();

	if (now - ctx.last_status < STATUS_EVERY_S)
		return;
	ctx.last_status = now;
	print_counts(false);
}

static void report_totals(void)
{
	print_counts(true);
	slot_close(&ctx.model);
	slot_close(&ctx.oracle);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct error err = { "" };
	const char *dir = getenv(NONDET_DIR_ENV);

	if (fuzz_limits(&ctx.lim, &err) < 0) {
		fprintf(stderr, "fuzz_diff: %s\n", err.msg);
		exit(1);
	}
	ctx.nondet_dir = dir && *dir ? dir : NONDET_DIR_DEFAULT;
	if (slot_open(&ctx.model, &model_target, &err) < 0 ||
	    slot_open(&ctx.oracle, &linux_target, &err) < 0) {
		fprintf(stderr, "fuzz_diff: cannot open a target: %s\n", err.msg);
		exit(1);
	}
	ctx.started = ctx.last_status = now_seconds();
	atexit(report_totals);
	return 0;
}

/* Runs p on Linux, then on the model matched against Linux's outcome, and
 * compares them; -1 when a target failed to run it. */
static int run_both(const struct program *p, struct verdict *v)
{
	if (slot_run(&ctx.oracle, p, NULL) < 0 ||
	    slot_run(&ctx.model, p, &ctx.oracle.out) < 0)
		return -1;
	compare_outcomes(p, &ctx.model.out, &ctx.oracle.out, v);
	return 0;
}

/* Reports the last run's verdict and aborts, so that libFuzzer keeps the
 * input.  how: what the reruns showed, or NULL. */
__attribute__((noreturn))
static void finding(const struct program *p, const struct verdict *v,
		    const char *how)
{
	fprintf(stderr, "\n==== epollfuzz finding ====\n");
	if (how)
		fprintf(stderr, "(%s)\n", how);
	verdict_print(stderr, p, "model", &ctx.model.out, "linux",
		      &ctx.oracle.out, v);
	fprintf(stderr, "---- trace (linux outcome) ----\n");
	fuzz_print_trace(stderr, p, &ctx.oracle.out);
	fprintf(stderr, "---- model outcome ----\n");
	fuzz_print_trace(stderr, p, &ctx.model.out);
	ctx.findings++;
	print_counts(true);
	abort();
}

/* FNV-1a over the program's JSON, so that the same program found twice
 * lands in the same file. */
static uint64_t program_hash(const struct program *p)
{
	char *text = trace_dump(p, NULL);
	uint64_t h = 0xcbf29ce484222325ull;

	if (!text)
		return h;
	for (const char *c = text; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	free(text);
	return h;
}

/* meta.nondeterministic: where the first run left the model's set, and how
 * many of the reruns came back inside it. */
static json_t *nondet_meta(const struct verdict *first, unsigned inside)
{
	json_t *extras = json_pack("{s{s{sIsssisi}}}", "meta", "nondeterministic",
				   "first_divergence_step", (json_int_t)first->step,
				   "first_divergence", first->signature,
				   "reruns", RECHECKS,
				   "reruns_inside_model_set", (int)inside);

	if (!extras)
		abort(); /* out of memory: nothing sensible is left to do */
	return extras;
}

/* Writes p with Linux's first divergent outcome to the nondeterministic
 * directory, atomically, named by a hash of the program. */
static int save_nondeterministic(const struct program *p,
				 const struct outcome *first_linux,
				 const struct verdict *first, unsigned inside,
				 struct error *err)
{
	struct program saved = *p; /* shares p's ops: never freed */
	char path[4096], *text;
	int rc;

	if (make_dir(ctx.nondet_dir, err) < 0 ||
	    path_printf(path, sizeof(path), err, "%s/%016llx.json",
			ctx.nondet_dir,
			(unsigned long long)program_hash(p)) < 0)
		return -1;
	saved.extras = nondet_meta(first, inside);
	text = trace_dump(&saved, first_linux);
	json_decref(saved.extras);
	if (!text)
		return fail(err, "out of memory");
	rc = write_atomically(path, text, strlen(text), err);
	free(text);
	return rc;
}

static void keep_nondeterministic(const struct program *p,
				  const struct outcome *first_linux,
				  const struct verdict *first, unsigned inside)
{
	struct error err = { "" };

	ctx.nondeterministic++;
	if (save_nondeterministic(p, first_linux, first, inside, &err) < 0 &&
	    ctx.save_failures++ < FAILURES_SHOWN)
		fprintf(stderr, "fuzz_diff: cannot save a nondeterministic program: %s\n",
			err.msg);
}

/*
 * Linux's outcome was outside the model's set (first): run p RECHECKS more
 * times.  A broken invariant on the way is a finding at once; all outside
 * the set, a finding; some inside (or where the model cannot follow Linux),
 * Linux varied, and p is kept apart.  A target failing leaves it undecided.
 */
static void recheck(const struct program *p, const struct verdict *first)
{
	struct outcome first_linux;
	unsigned outside = 0, inside = 0;
	struct verdict v;
	char how[64];

	if (outcome_copy(&first_linux, &ctx.oracle.out) < 0)
		abort(); /* out of memory: nothing sensible is left to do */
	for (unsigned i = 0; i < RECHECKS; i++) {
		if (run_both(p, &v) < 0)
			break;
		if (v.cls == VERDICT_INVARIANT)
			finding(p, &v, NULL);
		if (v.cls == VERDICT_DIVERGE)
			outside++;
		else
			inside++;
	}
	if (outside == RECHECKS) {
		snprintf(how, sizeof(how), "outside the model's set in %u of %u runs",
			 RECHECKS + 1, RECHECKS + 1);
		finding(p, &v, how);
	}
	if (inside > 0)
		keep_nondeterministic(p, &first_linux, first, inside);
	outcome_free(&first_linux);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct program p;
	struct verdict v;

	program_decode(data, size, &ctx.lim, &p);
	ctx.runs++;
	if (run_both(&p, &v) == 0) {
		if (v.cls == VERDICT_INVARIANT)
			finding(&p, &v, NULL);
		if (v.cls == VERDICT_DIVERGE)
			recheck(&p, &v);
		ctx.unsupported += v.cls == VERDICT_UNSUPPORTED;
	}
	program_free(&p);
	maybe_print_status();
	return 0;
}
