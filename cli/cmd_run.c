/*
 * cmd_run.c - `epollfuzz run`: replay JSON traces on targets and judge them.
 *
 * Every trace is loaded before anything runs, so that bad input costs exit
 * status 2 and no output at all.  The targets (targets/: the reference and
 * those compared with it) are opened once for all traces.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_REPEAT 100000

struct run_options {
	const char *targets[TARGET_SET_MAX];
	unsigned ntargets;
	const char *reference; /* NULL: linux */
	const char *inject;    /* --inject, else each trace's meta.inject */
	bool expect;           /* the reference is the trace's own outcome */
	bool no_model;
	unsigned repeat; /* runs of the reference target per trace */
	bool json, quiet;
	const char **files; /* argc long: on the heap */
	int nfiles;
};

enum { RUN_TARGET, RUN_REFERENCE, RUN_EXPECT, RUN_NO_MODEL, RUN_INJECT,
       RUN_REPEAT, RUN_JSON, RUN_QUIET };

static const struct cli_option run_option_table[] = {
	{ "target", 0, "SPEC",
	  "a target to check (repeatable; default: model).  Alone, model or "
	  "linux just runs and shows each step; both is model against linux "
	  "(the default)", RUN_TARGET },
	{ "reference", 0, "SPEC",
	  "what the targets are compared with (default: linux)", RUN_REFERENCE },
	{ "expect", 0, NULL,
	  "the reference is the outcome the trace recorded (its \"outcome\"): "
	  "replays a finding or a corpus trace against any target without "
	  "running Linux; with no --target, checks that Linux still gives it",
	  RUN_EXPECT },
	{ "no-model", 0, NULL, "do not add the model beside other targets",
	  RUN_NO_MODEL },
	{ "inject", 0, "NAME",
	  "the model's injected bugs (default: each trace's meta.inject, as a "
	  "finding of an injected bug has it)", RUN_INJECT },
	{ "repeat", 0, "N",
	  "run the reference N times on each trace (default 1), the targets "
	  "once per run, judged against that run.  Reports whether the N "
	  "reference outcomes were identical and in how many runs every target "
	  "agreed: PASS when all are identical and agreed, NONDETERMINISTIC "
	  "when they differ but every run agreed, else the finding of the "
	  "first run that did not", RUN_REPEAT },
	{ "json", 0, NULL,
	  "print each trace with its outcome as JSON instead (the reference's "
	  "outcome; the others' in meta.outcomes by target name; meta.verdict "
	  "with the target it is about; meta.targets, name to spec; with "
	  "--repeat, the run shown and meta.repeat: {runs, identical, "
	  "distinct, inside_model_set})", RUN_JSON },
	{ "quiet", 0, NULL, "print findings only, one line each", RUN_QUIET },
};

static const struct cli_command run_command = {
	.name = "run",
	.usage = " [--target SPEC]... [--reference SPEC | --expect]\n"
		 "                     [--no-model] [--inject NAME] [--repeat N] [--json] [--quiet]\n"
		 "                     TRACE.json...",
	.about = "Runs each trace on the reference (linux unless told otherwise) and on every\n"
		 "target, and judges each target against the reference: the first step where\n"
		 "it departs, a broken model invariant, or an op a target cannot run.  Where\n"
		 "woken threads race, the model allows every order the kernel allows, and the\n"
		 "reference's outcome must be one of them.  The model runs beside any other\n"
		 "target, so that its outcome explains each verdict.\n",
	.options = CLI_OPTIONS(run_option_table),
	.list_targets = true,
	.epilogue = "Exit status: 0 every trace passed, 1 a divergence, broken invariant,\n"
		    "unsupported op, or (with --repeat) reference outcomes that differ between\n"
		    "runs, 2 bad input or usage, or a target that failed.\n",
};

/* What the targets made of one trace. */
struct session {
	const struct run_options *opt;
	struct target_set set;
};

/* The verdict, and which target a finding is about. */
struct finding {
	struct verdict v;
	unsigned target;
};

/*
 * What the --repeat runs of one trace made: the reference target's (Linux's)
 * different outcomes, how many runs every target agreed with it, and the
 * run shown: the first with a finding, else the first.
 */
struct repeat_tally {
	unsigned runs;
	unsigned inside;           /* runs judged to agree */
	struct outcome *distinct;  /* the reference target's different outcomes */
	unsigned ndistinct;
	unsigned second_run;       /* the run that gave distinct[1] */
	struct verdict difference; /* distinct[0] against distinct[1] */
	struct finding shown_fd;
	unsigned shown_run;
	struct outcome shown[TARGET_SET_MAX];
};

/* ----------------------------------------------------------- options */

static int add_target(struct run_options *o, const char *spec)
{
	if (strcmp(spec, "both") == 0)
		spec = "model";
	if (o->ntargets == TARGET_SET_MAX)
		return usage_error("run", "at most %d targets", TARGET_SET_MAX);
	o->targets[o->ntargets++] = spec;
	return 0;
}

static int set_repeat(struct run_options *o, const char *text)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || n < 1 ||
	    n > MAX_REPEAT)
		return usage_error("run", "--repeat needs a number of runs from 1 to %d, not '%s'",
				   MAX_REPEAT, text);
	o->repeat = (unsigned)n;
	return 0;
}

/* The target set the options describe, checked before any trace loads. */
/* What one trace is run on: the options' targets, or, where they name
 * none, the finding's own (meta.verdict.target against its reference), and
 * the model's injected bugs. */
struct trace_targets {
	char target[TARGET_SPEC_MAX], reference[TARGET_SPEC_MAX];
	const char *inject; /* "" for none */
};

static int build_set(const struct run_options *o, const struct trace_targets *tt,
		     struct target_set *set)
{
	static const char *const linux_only[] = { "linux" };
	const char *finding_target[1] = { tt ? tt->target : "" };
	struct target_set_choice c = {
		.targets = o->targets, .ntargets = o->ntargets,
		.reference = o->expect ? "recorded" : o->reference,
		.add_model = !o->no_model, .alone_ok = !o->expect,
	};
	struct error err;

	if (o->expect && o->ntargets == 0) {
		c.targets = linux_only;
		c.ntargets = 1;
	}
	if (tt && tt->target[0]) {
		c.targets = finding_target;
		c.ntargets = 1;
	}
	if (tt && tt->reference[0])
		c.reference = tt->reference;
	if (target_set_init(set, &c, &err) < 0)
		return usage_error("run", "%s", err.msg);
	if (o->repeat > 1 && set->spec[0].ops->run_like)
		return usage_error("run", "--repeat needs a reference with one outcome per run (linux)");
	return 0;
}

static int run_apply(void *ctx, int id, const char *value)
{
	struct run_options *o = ctx;

	switch (id) {
	case CLI_OPERAND:
		o->files[o->nfiles++] = value;
		break;
	case RUN_TARGET:
		return add_target(o, value);
	case RUN_REFERENCE:
		o->reference = value;
		break;
	case RUN_EXPECT:
		o->expect = true;
		break;
	case RUN_NO_MODEL:
		o->no_model = true;
		break;
	case RUN_INJECT:
		o->inject = value;
		return check_inject("run", value);
	case RUN_REPEAT:
		return set_repeat(o, value);
	case RUN_JSON:
		o->json = true;
		break;
	case RUN_QUIET:
		o->quiet = true;
		break;
	}
	return 0;
}

/* Options may come anywhere among the file names.  Returns -1 to go on,
 * or the exit status; o->files is to be freed either way. */
static int parse_options(int argc, char **argv, struct run_options *o)
{
	int status;

	memset(o, 0, sizeof(*o));
	o->repeat = 1;
	if (!(o->files = calloc((size_t)argc, sizeof(*o->files)))) {
		fprintf(stderr, "epollfuzz run: out of memory\n");
		return EXIT_TROUBLE;
	}
	status = cli_parse(&run_command, argc, argv, run_apply, o, NULL);
	if (status >= 0)
		return status;
	if (o->nfiles == 0)
		return usage_error("run", "no trace files given");
	if (o->expect && o->reference)
		return usage_error("run", "--expect and --reference both name the reference");
	return -1;
}

/* ----------------------------------------------------------- judging */

static void judge_session(const struct session *s, const struct program *p,
			  struct finding *f)
{
	target_set_judge(&s->set, p, &f->v, &f->target);
	/* The verdict may be about the reference itself (its own invariant). */
	int k = target_set_find(&s->set, f->v.target);

	if (k >= 0)
		f->target = (unsigned)k;
}

/* ---------------------------------------------------------- human text */

/* "  [4] t0 epoll_wait(3, 16, 0) = 1 [EPOLLIN:4]", then what the step woke. */
static void print_record(FILE *f, const struct program *p,
			 const struct outcome *o, const struct step_record *r)
{
	char call[256], res[512];

	if (r->step < p->nops) {
		struct op op = p->ops[r->step];

		op.t = 0; /* the thread is in the line already */
		op_format(&op, call, sizeof(call));
	} else
		snprintf(call, sizeof(call), "(no op %u)", r->step);
	result_format(o, &r->res, res, sizeof(res));
	fprintf(f, "  [%u] t%u %s %s\n", r->step, r->t, call, res);
	for (uint32_t i = 0; i < r->done_count; i++) {
		const struct completion *c = &o->done[r->done_first + i];

		result_format(o, &c->res, res, sizeof(res));
		fprintf(f, "      wakes [%u] t%u %s\n", c->step, c->t, res);
	}
}

static void print_steps(FILE *f, const struct program *p,
			const struct outcome *o)
{
	for (uint32_t i = 0; i < o->nsteps; i++)
		print_record(f, p, o, &o->steps[i]);
	for (uint32_t i = 0; i < o->nblocked; i++)
		fprintf(f, "  still blocked: [%u] t%u\n", o->blocked[i].step,
			o->blocked[i].t);
	if (o->violation.broken)
		fprintf(f, "  invariant broken at step %u: %s: %s\n",
			o->violation.step, o->violation.cls, o->violation.msg);
}

/* The summary line without its newline, which --repeat extends. */
static void print_summary_head(FILE *f, const char *path,
			       const struct program *p, const struct session *s,
			       const struct finding *fd)
{
	const struct violation *vio = &s->set.out[fd->target].violation;

	switch (fd->v.cls) {
	case VERDICT_AGREE:
		fprintf(f, "PASS %s (%u ops)", path, p->nops);
		break;
	case VERDICT_DIVERGE:
		fprintf(f, "DIVERGE %s: step %u %s", path, fd->v.step,
			fd->v.signature);
		if (s->set.n > 2 || strcmp(fd->v.target, "model") != 0 ||
		    strcmp(fd->v.reference, "linux") != 0)
			fprintf(f, ": %s departs from %s", fd->v.target,
				fd->v.reference);
		break;
	case VERDICT_INVARIANT:
		fprintf(f, "INVARIANT %s: step %u %s: %s", path, fd->v.step,
			vio->cls, vio->msg);
		break;
	case VERDICT_UNSUPPORTED:
		fprintf(f, "UNSUPPORTED %s: step %u: %s %s", path, fd->v.step,
			fd->v.target, fd->v.detail);
		break;
	}
}

static void print_summary(FILE *f, const char *path, const struct program *p,
			  const struct session *s, const struct finding *fd)
{
	print_summary_head(f, path, p, s, fd);
	fputc('\n', f);
}

/* How every other target stands against the reference at the finding:
 * the model's line explains who departs. */
static void print_explanations(FILE *f, const struct program *p,
			       const struct session *s, const struct finding *fd)
{
	const struct target_set *set = &s->set;

	for (unsigned k = 1; k < set->n; k++) {
		struct verdict v;

		if (k == fd->target)
			continue;
		target_set_judge_one(set, p, k, &v);
		if (v.cls == VERDICT_AGREE)
			fprintf(f, "   %s agrees with %s\n", set->spec[k].name,
				set->spec[0].name);
		else if (v.step > fd->v.step)
			fprintf(f, "   %s agrees with %s up to step %u (then %s)\n",
				set->spec[k].name, set->spec[0].name, v.step,
				v.signature);
		else
			fprintf(f, "   %s departs too: step %u %s\n",
				set->spec[k].name, v.step, v.signature);
	}
}

static void print_details(FILE *f, const struct program *p,
			  const struct session *s, const struct finding *fd)
{
	const struct target_set *set = &s->set;

	if (set->ref < 0)
		print_steps(f, p, &set->out[0]);
	else if (fd->v.cls == VERDICT_DIVERGE)
		target_set_print(f, set, p, &fd->v);
	else if (fd->v.cls != VERDICT_AGREE)
		print_steps(f, p, &set->out[fd->target]);
	if (set->ref >= 0 && fd->v.cls != VERDICT_AGREE)
		print_explanations(f, p, s, fd);
}

/* ---------------------------------------------------------------- JSON */

static json_t *repeat_to_json(const struct session *s,
			      const struct repeat_tally *r)
{
	json_t *j = json_pack("{sIsbsI}", "runs", (json_int_t)r->runs,
			      "identical", r->ndistinct == 1,
			      "distinct", (json_int_t)r->ndistinct);

	if (!j)
		abort();
	if (s->set.n > 1 &&
	    json_object_set_new(j, "inside_model_set", json_integer(r->inside)) < 0)
		abort();
	return j;
}

/* The trace's extras with the set's results in meta (target_set_meta())
 * and, with --repeat, meta.repeat; the trace's own meta keys are kept. */
static json_t *extras_with_results(const struct program *p,
				   const struct session *s,
				   const struct finding *fd,
				   const struct repeat_tally *r)
{
	json_t *meta;
	json_t *extras = extras_with_meta(p, &meta);

	if (target_set_meta(&s->set, p, &fd->v, meta) < 0)
		abort(); /* out of memory: nothing sensible is left to do */
	if (r && json_object_set_new(meta, "repeat", repeat_to_json(s, r)) < 0)
		abort();
	return extras;
}

/* r: the --repeat tally, or NULL after a single run. */
static int print_json(FILE *f, const struct program *p,
		      const struct session *s, const struct finding *fd,
		      const struct repeat_tally *r)
{
	bool with_meta = s->set.n > 1 || r;
	struct program shown = *p; /* shares p's ops: never freed */
	char *text;

	shown.extras = with_meta ? extras_with_results(p, s, fd, r) : p->extras;
	text = trace_dump(&shown, target_set_own(&s->set));
	if (with_meta)
		json_decref(shown.extras);
	if (!text)
		return -1;
	fputs(text, f);
	free(text);
	return 0;
}

/* ------------------------------------------------------------- running */

static int run_targets(struct session *s, const struct program *p,
		       struct error *err)
{
	if (target_set_run(&s->set, p, NULL, err) < 0) {
		fprintf(stderr, "error: %s\n", err->msg);
		return -1;
	}
	return 0;
}

static int out_of_memory(const char *path)
{
	fprintf(stderr, "error: %s: out of memory\n", path);
	return EXIT_TROUBLE;
}

static int run_once(struct session *s, const char *path,
		    const struct program *p)
{
	const struct run_options *o = s->opt;
	struct finding fd;
	struct error err;
	int status;

	if (run_targets(s, p, &err) < 0)
		return EXIT_TROUBLE;
	judge_session(s, p, &fd);
	status = fd.v.cls == VERDICT_AGREE ? EXIT_AGREE : EXIT_FINDING;
	if (o->json)
		return print_json(stdout, p, s, &fd, NULL) < 0 ? out_of_memory(path)
							       : status;
	if (!o->quiet || status != EXIT_AGREE) {
		print_summary(stdout, path, p, s, &fd);
		if (!o->quiet)
			print_details(stdout, p, s, &fd);
	}
	return status;
}

/* ----------------------------------------------------------- repeating */

static void tally_init(struct repeat_tally *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned k = 0; k < TARGET_SET_MAX; k++)
		outcome_init(&r->shown[k]);
}

static void tally_free(struct repeat_tally *r)
{
	for (unsigned i = 0; i < r->ndistinct; i++)
		outcome_free(&r->distinct[i]);
	free(r->distinct);
	for (unsigned k = 0; k < TARGET_SET_MAX; k++)
		outcome_free(&r->shown[k]);
}

/* Adds out to the distinct outcomes unless an equal one is there. */
static int note_distinct(struct repeat_tally *r, const struct program *p,
			 const struct outcome *out)
{
	struct outcome *grown;
	struct verdict v;

	for (unsigned i = 0; i < r->ndistinct; i++) {
		compare_outcomes(p, &r->distinct[i], out, &v);
		if (v.cls == VERDICT_AGREE)
			return 0;
	}
	if (r->ndistinct == 1) {
		compare_outcomes(p, &r->distinct[0], out, &r->difference);
		r->second_run = r->runs;
	}
	grown = realloc(r->distinct, (r->ndistinct + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	r->distinct = grown;
	if (outcome_copy(&r->distinct[r->ndistinct], out) < 0)
		return -1;
	r->ndistinct++;
	return 0;
}

/* Keeps the session's outcomes (this run's) as the ones shown. */
static int keep_shown(struct repeat_tally *r, const struct session *s,
		      const struct finding *fd)
{
	for (unsigned k = 0; k < s->set.n; k++) {
		outcome_free(&r->shown[k]);
		if (outcome_copy(&r->shown[k], &s->set.out[k]) < 0)
			return -1;
	}
	r->shown_fd = *fd;
	r->shown_run = r->runs;
	return 0;
}

static int tally_add(struct repeat_tally *r, const struct session *s,
		     const struct program *p, const struct finding *fd)
{
	bool first_outside = r->shown_fd.v.cls == VERDICT_AGREE &&
			     fd->v.cls != VERDICT_AGREE;

	r->runs++;
	r->inside += fd->v.cls == VERDICT_AGREE;
	if (note_distinct(r, p, &s->set.out[0]) < 0)
		return -1;
	if (r->runs == 1 || first_outside)
		return keep_shown(r, s, fd);
	return 0;
}

/* Puts the shown run's outcomes into the session, where the printers look. */
static void show_kept_run(struct session *s, struct repeat_tally *r)
{
	for (unsigned k = 0; k < s->set.n; k++) {
		struct outcome mine = s->set.out[k];

		s->set.out[k] = r->shown[k];
		r->shown[k] = mine;
	}
}

static int tally_status(const struct repeat_tally *r)
{
	if (r->shown_fd.v.cls != VERDICT_AGREE || r->ndistinct > 1)
		return EXIT_FINDING;
	return EXIT_AGREE;
}

static const char *reference_name(const struct session *s)
{
	return s->set.spec[0].name;
}

/* What agreeing means: "inside the model's set" when one target is
 * compared, "agreed by every target" with several; "" with none. */
static void agreed_phrase(const struct session *s, char *buf, size_t len)
{
	if (s->set.n == 2)
		snprintf(buf, len, "inside the %s's set", s->set.spec[1].name);
	else if (s->set.n > 2)
		snprintf(buf, len, "agreed by every target");
	else
		buf[0] = '\0';
}

/* "linux identical in 20/20 runs", or "linux gave 2 different outcomes in
 * 20 runs (first difference at step 6 epoll_wait.events)". */
static void print_identity(FILE *f, const struct session *s,
			   const struct repeat_tally *r)
{
	const char *name = reference_name(s);

	if (r->ndistinct == 1)
		fprintf(f, "%s identical in %u/%u runs", name, r->runs, r->runs);
	else
		fprintf(f, "%s gave %u different outcomes in %u runs (first difference at step %u %s)",
			name, r->ndistinct, r->runs, r->difference.step,
			r->difference.signature);
}

/* "; 17/20 inside the model's set", nothing when the reference ran alone. */
static void print_inside(FILE *f, const struct session *s,
			 const struct repeat_tally *r)
{
	char agreed[TARGET_NAME_MAX + 32];

	agreed_phrase(s, agreed, sizeof(agreed));
	if (agreed[0])
		fprintf(f, "; %u/%u %s", r->inside, r->runs, agreed);
}

static void print_repeat_summary(FILE *f, const char *path,
				 const struct program *p,
				 const struct session *s,
				 const struct repeat_tally *r)
{
	char agreed[TARGET_NAME_MAX + 32];

	agreed_phrase(s, agreed, sizeof(agreed));
	if (r->shown_fd.v.cls != VERDICT_AGREE) {
		print_summary_head(f, path, p, s, &r->shown_fd);
		fprintf(f, " in run %u of %u; ", r->shown_run, r->runs);
		print_identity(f, s, r);
		print_inside(f, s, r);
		fputc('\n', f);
	} else if (r->ndistinct > 1) {
		fprintf(f, "NONDETERMINISTIC %s: ", path);
		print_identity(f, s, r);
		print_inside(f, s, r);
		fputc('\n', f);
	} else {
		print_summary_head(f, path, p, s, &r->shown_fd);
		fputs(": ", f);
		print_identity(f, s, r);
		if (agreed[0])
			fprintf(f, ", all %s", agreed);
		fputc('\n', f);
	}
}

/* The shown run's details; for a program that is nondeterministic but
 * inside the model's set, the first two different Linux outcomes. */
static void print_repeat_details(FILE *f, const struct program *p,
				 const struct session *s,
				 const struct repeat_tally *r)
{
	const char *name = reference_name(s);
	char a[TARGET_NAME_MAX + 32], b[TARGET_NAME_MAX + 32];

	if (r->shown_fd.v.cls != VERDICT_AGREE || r->ndistinct == 1) {
		print_details(f, p, s, &r->shown_fd);
		return;
	}
	snprintf(a, sizeof(a), "%s run 1", name);
	snprintf(b, sizeof(b), "%s run %u", name, r->second_run);
	verdict_print(f, p, a, &r->distinct[0], b, &r->distinct[1],
		      &r->difference);
}

static int report_repeated(struct session *s, const char *path,
			   const struct program *p, struct repeat_tally *r)
{
	const struct run_options *o = s->opt;
	int status = tally_status(r);

	show_kept_run(s, r);
	if (o->json)
		return print_json(stdout, p, s, &r->shown_fd, r) < 0 ?
			       out_of_memory(path) : status;
	if (!o->quiet || status != EXIT_AGREE) {
		print_repeat_summary(stdout, path, p, s, r);
		if (!o->quiet)
			print_repeat_details(stdout, p, s, r);
	}
	return status;
}

/* --repeat: the reference target N times, the others matched each time. */
static int run_repeated(struct session *s, const char *path,
			const struct program *p)
{
	struct repeat_tally r;
	int status = EXIT_AGREE;

	tally_init(&r);
	for (unsigned i = 0; i < s->opt->repeat && status == EXIT_AGREE; i++) {
		struct finding fd;
		struct error err;

		if (run_targets(s, p, &err) < 0) {
			status = EXIT_TROUBLE;
			break;
		}
		judge_session(s, p, &fd);
		if (tally_add(&r, s, p, &fd) < 0)
			status = out_of_memory(path);
	}
	if (status == EXIT_AGREE)
		status = report_repeated(s, path, p, &r);
	tally_free(&r);
	return status;
}

static int run_trace(struct session *s, const char *path,
		     const struct program *p)
{
	if (s->opt->repeat > 1)
		return run_repeated(s, path, p);
	return run_once(s, path, p);
}

/* The model bugs a trace was found with (meta.inject), "" for none: a
 * finding of an injected bug replays with the same bug, as minimize does;
 * and a finding's targets, where the options name none. */
static int trace_targets(const struct run_options *o, const char *path,
			 const struct program *p, struct trace_targets *tt)
{
	const json_t *meta = p->extras ? json_object_get(p->extras, "meta") : NULL;
	const json_t *inject = meta ? json_object_get(meta, "inject") : NULL;

	memset(tt, 0, sizeof(*tt));
	tt->inject = o->inject ? o->inject
		     : json_is_string(inject) ? json_string_value(inject) : "";
	if (o->ntargets || o->reference || o->expect)
		return 0;
	if (finding_targets(path, p, tt->target, tt->reference,
			    sizeof(tt->target)) < 0)
		return -1;
	if (strcmp(tt->target, "model") == 0 && strcmp(tt->reference, "linux") == 0)
		tt->target[0] = tt->reference[0] = '\0'; /* the default anyway */
	return 0;
}

static bool same_targets(const struct trace_targets *a, const struct trace_targets *b)
{
	return strcmp(a->target, b->target) == 0 &&
	       strcmp(a->reference, b->reference) == 0 &&
	       strcmp(a->inject, b->inject) == 0;
}

/* The set opened for tt (reopened when a trace wants other targets). */
static int open_for(struct session *s, const struct trace_targets *tt,
		    struct trace_targets *open, bool *is_open)
{
	struct error err;

	if (*is_open && same_targets(open, tt))
		return 0;
	if (*is_open)
		target_set_close(&s->set);
	*is_open = false;
	if (build_set(s->opt, tt, &s->set) != 0)
		return -1;
	if (target_set_open(&s->set, &(struct target_config){
		    .inject = *tt->inject ? tt->inject : NULL }, &err) < 0) {
		fprintf(stderr, "error: %s\n", err.msg);
		return -1;
	}
	*open = *tt;
	*is_open = true;
	return 0;
}

static int run_all(const struct run_options *o, const struct program *progs)
{
	struct session s = { .opt = o };
	struct trace_targets tt, open;
	bool is_open = false;
	int status = EXIT_AGREE;

	for (int i = 0; i < o->nfiles && status != EXIT_TROUBLE; i++) {
		int rc;

		if (trace_targets(o, o->files[i], &progs[i], &tt) < 0 ||
		    open_for(&s, &tt, &open, &is_open) < 0)
			return EXIT_TROUBLE;
		rc = run_trace(&s, o->files[i], &progs[i]);
		if (rc > status)
			status = rc;
	}
	if (is_open)
		target_set_close(&s.set);
	return status;
}

/* The traces, and the outcomes they recorded (for the recorded target). */
struct loaded {
	struct program *progs;
	struct outcome *recs;
	int n;
};

static void loaded_free(struct loaded *l)
{
	for (int i = 0; i < l->n; i++) {
		program_free(&l->progs[i]);
		outcome_free(&l->recs[i]);
	}
	free(l->progs);
	free(l->recs);
}

/* Loads every trace or none. */
static int load_all(const struct run_options *o, struct loaded *l)
{
	struct error err;

	l->n = 0;
	l->progs = calloc((size_t)o->nfiles, sizeof(*l->progs));
	l->recs = calloc((size_t)o->nfiles, sizeof(*l->recs));
	if (!l->progs || !l->recs) {
		fprintf(stderr, "epollfuzz run: out of memory\n");
		loaded_free(l);
		return -1;
	}
	for (int i = 0; i < o->nfiles; i++, l->n++) {
		if (trace_load_file(o->files[i], &l->progs[i], &l->recs[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			loaded_free(l);
			return -1;
		}
		if (l->recs[i].nsteps)
			l->progs[i].recorded = &l->recs[i];
	}
	return 0;
}

static int run_files(const struct run_options *o)
{
	struct target_set check;
	struct loaded l;
	int status;

	if (build_set(o, NULL, &check) != 0) /* bad specs before any loading */
		return EXIT_TROUBLE;
	if (load_all(o, &l) < 0)
		return EXIT_TROUBLE;
	status = run_all(o, l.progs);
	loaded_free(&l);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_options o;
	int status = parse_options(argc, argv, &o);

	if (status < 0)
		status = run_files(&o);
	free(o.files);
	return status;
}
