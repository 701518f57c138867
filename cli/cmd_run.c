/*
 * cmd_run.c - `epollfuzz run`: replay JSON traces on targets and judge them.
 *
 * Every trace is loaded before anything runs, so that bad input costs exit
 * status 2 and no output at all.  Each target is opened once for all traces.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RUN_TARGETS 2
#define MAX_REPEAT 100000

struct run_options {
	const struct target_ops *targets[MAX_RUN_TARGETS];
	unsigned ntargets;
	unsigned repeat; /* runs of the reference target per trace */
	bool json, quiet;
	char **files;
	int nfiles;
};

/* What the targets made of one trace. */
struct session {
	const struct run_options *opt;
	struct target *open[MAX_RUN_TARGETS];
	struct outcome out[MAX_RUN_TARGETS];
};

/* The verdict, and which target a one-sided finding (an invariant, an
 * unsupported op) is about. */
struct finding {
	struct verdict v;
	unsigned target;
};

/*
 * What the --repeat runs of one trace made: the reference target's (Linux's)
 * different outcomes, how many runs lay inside the model's allowed set, and
 * the run shown: the first outside the set, else the first.
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
	struct outcome shown[MAX_RUN_TARGETS];
};

static void print_help(FILE *f)
{
	fputs("usage: epollfuzz run [--target model|linux|both] [--repeat N] [--json] [--quiet]\n"
	      "                     TRACE.json...\n"
	      "\n"
	      "Runs each trace on the targets.  With both (the default) the model's outcome\n"
	      "is compared with Linux's: where woken threads race, the model allows every\n"
	      "order the kernel allows, and Linux's outcome must be one of them.  A broken\n"
	      "model invariant is a finding too.  With one target, each step and its result\n"
	      "is shown.\n"
	      "\n"
	      "  --target T   model, linux or both\n"
	      "  --repeat N   run Linux N times on each trace (default 1), the model once per\n"
	      "               Linux run, matched against that run.  Reports whether the N\n"
	      "               Linux outcomes were identical and how many lie inside the\n"
	      "               model's allowed set: PASS when all are identical and inside,\n"
	      "               NONDETERMINISTIC when they differ but all lie inside, else the\n"
	      "               finding of the first run outside the set.  Needs linux\n"
	      "  --json       print each trace with its outcome as JSON instead (with both:\n"
	      "               Linux's outcome, and meta.outcomes.model and meta.verdict; with\n"
	      "               --repeat, the run shown is the first outside the model's set,\n"
	      "               else the first, and meta.repeat is {runs, identical, distinct,\n"
	      "               inside_model_set})\n"
	      "  --quiet      print findings only, one line each\n"
	      "  -h, --help   this text\n"
	      "\n"
	      "Exit status: 0 every trace passed, 1 a divergence, broken invariant,\n"
	      "unsupported op, or (with --repeat) Linux outcomes that differ between runs,\n"
	      "2 bad input or usage, or a target that failed.\n", f);
}

/* ----------------------------------------------------------- options */

static int set_targets(struct run_options *o, const char *name)
{
	if (strcmp(name, "both") == 0) {
		o->targets[0] = target_by_name("model");
		o->targets[1] = target_by_name("linux");
		o->ntargets = 2;
	} else {
		o->targets[0] = target_by_name(name);
		o->ntargets = 1;
	}
	for (unsigned k = 0; k < o->ntargets; k++)
		if (!o->targets[k])
			return usage_error("run", "unknown target '%s' (model, linux or both)",
					   name);
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

/* The target whose outcome the others are matched against: the first with
 * a single outcome (Linux); -1 when there is none. */
static int reference_target(const struct run_options *o)
{
	for (unsigned k = 0; k < o->ntargets; k++)
		if (!o->targets[k]->run_like)
			return (int)k;
	return -1;
}

/*
 * Options may come anywhere; file names are gathered at the front of argv
 * (never past the argument being read, so nothing is overwritten unread).
 * Returns -1 to go on, or the exit status.
 */
static int parse_options(int argc, char **argv, struct run_options *o)
{
	bool options_done = false;

	memset(o, 0, sizeof(*o));
	o->repeat = 1;
	if (set_targets(o, "both") != 0)
		return EXIT_TROUBLE;
	o->files = argv + 1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (options_done || arg[0] != '-' || arg[1] == '\0')
			o->files[o->nfiles++] = argv[i];
		else if (strcmp(arg, "--") == 0)
			options_done = true;
		else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			print_help(stdout);
			return EXIT_AGREE;
		} else if (strcmp(arg, "--json") == 0)
			o->json = true;
		else if (strcmp(arg, "--quiet") == 0)
			o->quiet = true;
		else if (option_is(arg, "--target")) {
			const char *value = option_value("run", argc, argv, &i, "--target");

			if (!value || set_targets(o, value) != 0)
				return EXIT_TROUBLE;
		} else if (option_is(arg, "--repeat")) {
			const char *value = option_value("run", argc, argv, &i, "--repeat");

			if (!value || set_repeat(o, value) != 0)
				return EXIT_TROUBLE;
		} else
			return usage_error("run", "unknown option '%s'", arg);
	}
	if (o->nfiles == 0)
		return usage_error("run", "no trace files given");
	if (o->repeat > 1 && reference_target(o) < 0)
		return usage_error("run", "--repeat needs the linux target");
	return -1;
}

/* ----------------------------------------------------------- judging */

/* The earliest finding wins: later steps ran on a state already wrong. */
static void prefer(struct finding *f, const struct finding *c)
{
	if (c->v.cls == VERDICT_AGREE)
		return;
	if (f->v.cls == VERDICT_AGREE || c->v.step < f->v.step)
		*f = *c;
}

static void invariant_finding(const struct session *s, unsigned k,
			      struct finding *f)
{
	const struct violation *vio = &s->out[k].violation;

	memset(f, 0, sizeof(*f));
	if (!vio->broken)
		return;
	f->v.cls = VERDICT_INVARIANT;
	f->v.step = vio->step;
	f->target = k;
	snprintf(f->v.field, sizeof(f->v.field), "%.*s",
		 (int)sizeof(f->v.field) - 1, vio->cls);
	snprintf(f->v.signature, sizeof(f->v.signature), "invariant:%s",
		 vio->cls);
	snprintf(f->v.detail, sizeof(f->v.detail), "%s", vio->msg);
}

static void unsupported_finding(const struct session *s, unsigned k,
				struct finding *f)
{
	const struct outcome *o = &s->out[k];
	bool found = o->unsupported[0] != '\0';

	memset(f, 0, sizeof(*f));
	for (uint32_t i = 0; i < o->nsteps; i++)
		if (o->steps[i].state == STEP_UNSUPPORTED) {
			f->v.step = o->steps[i].step;
			found = true;
			break;
		}
	if (!found)
		return;
	f->v.cls = VERDICT_UNSUPPORTED;
	f->target = k;
	snprintf(f->v.field, sizeof(f->v.field), "unsupported");
	snprintf(f->v.signature, sizeof(f->v.signature), "unsupported:%s",
		 s->opt->targets[k]->name);
	snprintf(f->v.detail, sizeof(f->v.detail), "%s",
		 o->unsupported[0] ? o->unsupported : "unsupported operation");
}

static void judge(const struct session *s, const struct program *p,
		  struct finding *f)
{
	struct finding c;

	memset(f, 0, sizeof(*f));
	for (unsigned k = 0; k < s->opt->ntargets; k++) {
		invariant_finding(s, k, &c);
		prefer(f, &c);
		unsupported_finding(s, k, &c);
		prefer(f, &c);
	}
	if (s->opt->ntargets == 2) {
		memset(&c, 0, sizeof(c));
		compare_outcomes(p, &s->out[0], &s->out[1], &c.v);
		prefer(f, &c);
	}
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
	const struct violation *vio = &s->out[fd->target].violation;

	switch (fd->v.cls) {
	case VERDICT_AGREE:
		fprintf(f, "PASS %s (%u ops)", path, p->nops);
		break;
	case VERDICT_DIVERGE:
		fprintf(f, "DIVERGE %s: step %u %s", path, fd->v.step,
			fd->v.signature);
		break;
	case VERDICT_INVARIANT:
		fprintf(f, "INVARIANT %s: step %u %s: %s", path, fd->v.step,
			vio->cls, vio->msg);
		break;
	case VERDICT_UNSUPPORTED:
		fprintf(f, "UNSUPPORTED %s: step %u: %s", path, fd->v.step,
			fd->v.detail);
		break;
	}
}

static void print_summary(FILE *f, const char *path, const struct program *p,
			  const struct session *s, const struct finding *fd)
{
	print_summary_head(f, path, p, s, fd);
	fputc('\n', f);
}

static void print_details(FILE *f, const struct program *p,
			  const struct session *s, const struct finding *fd)
{
	const struct run_options *o = s->opt;

	if (o->ntargets == 1)
		print_steps(f, p, &s->out[0]);
	else if (fd->v.cls == VERDICT_DIVERGE)
		verdict_print(f, p, o->targets[0]->name, &s->out[0],
			      o->targets[1]->name, &s->out[1], &fd->v);
	else if (fd->v.cls != VERDICT_AGREE)
		print_steps(f, p, &s->out[fd->target]);
}

/* ---------------------------------------------------------------- JSON */

/* Every target's outcome but the last (which is the trace's own). */
static json_t *other_outcomes_to_json(const struct program *p,
				      const struct session *s)
{
	json_t *outcomes = json_object();

	if (!outcomes)
		abort();
	for (unsigned k = 0; k + 1 < s->opt->ntargets; k++)
		json_object_set_new(outcomes, s->opt->targets[k]->name,
				    outcome_to_json(p, &s->out[k]));
	return outcomes;
}

static json_t *repeat_to_json(const struct session *s,
			      const struct repeat_tally *r)
{
	json_t *j = json_pack("{sIsbsI}", "runs", (json_int_t)r->runs,
			      "identical", r->ndistinct == 1,
			      "distinct", (json_int_t)r->ndistinct);

	if (!j)
		abort();
	if (s->opt->ntargets > 1 &&
	    json_object_set_new(j, "inside_model_set", json_integer(r->inside)) < 0)
		abort();
	return j;
}

/* The trace's extras with meta.outcomes (every target but the last, when
 * there are several), meta.verdict and, with --repeat, meta.repeat set; the
 * trace's own meta keys are kept. */
static json_t *extras_with_results(const struct program *p,
				   const struct session *s,
				   const struct finding *fd,
				   const struct repeat_tally *r)
{
	json_t *meta;
	json_t *extras = extras_with_meta(p, &meta);

	if (s->opt->ntargets > 1 &&
	    json_object_set_new(meta, "outcomes", other_outcomes_to_json(p, s)) < 0)
		abort();
	if (json_object_set_new(meta, "verdict", verdict_to_json(&fd->v)) < 0)
		abort();
	if (r && json_object_set_new(meta, "repeat", repeat_to_json(s, r)) < 0)
		abort();
	return extras;
}

/* r: the --repeat tally, or NULL after a single run. */
static int print_json(FILE *f, const struct program *p,
		      const struct session *s, const struct finding *fd,
		      const struct repeat_tally *r)
{
	unsigned last = s->opt->ntargets - 1;
	bool with_meta = last > 0 || r;
	struct program shown = *p; /* shares p's ops: never freed */
	char *text;

	shown.extras = with_meta ? extras_with_results(p, s, fd, r) : p->extras;
	text = trace_dump(&shown, &s->out[last]);
	if (with_meta)
		json_decref(shown.extras);
	if (!text)
		return -1;
	fputs(text, f);
	free(text);
	return 0;
}

/* ------------------------------------------------------------- running */

/* Targets often say who they are already ("linux: not implemented"). */
static void print_target_error(const char *name, const struct error *err)
{
	size_t n = strlen(name);

	if (strncmp(err->msg, name, n) == 0 && strncmp(err->msg + n, ": ", 2) == 0)
		fprintf(stderr, "error: %s\n", err->msg);
	else
		fprintf(stderr, "error: %s: %s\n", name, err->msg);
}

/*
 * Targets with a single outcome run first; the reference among them is what
 * targets allowing several outcomes (the model, where Linux races) are
 * matched against.
 */
static int run_targets(struct session *s, const struct program *p,
		       struct error *err)
{
	const struct run_options *o = s->opt;
	int ref = reference_target(o);

	for (int pass = 0; pass < 2; pass++)
		for (unsigned k = 0; k < o->ntargets; k++) {
			const struct target_ops *t = o->targets[k];
			bool several = t->run_like != NULL;
			int rc;

			if (several != (pass == 1))
				continue;
			outcome_reset(&s->out[k]);
			if (several && ref >= 0)
				rc = t->run_like(s->open[k], p, &s->out[ref], &s->out[k], err);
			else
				rc = t->run(s->open[k], p, &s->out[k], err);
			if (rc < 0) {
				print_target_error(t->name, err);
				return -1;
			}
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
	judge(s, p, &fd);
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
	for (unsigned k = 0; k < MAX_RUN_TARGETS; k++)
		outcome_init(&r->shown[k]);
}

static void tally_free(struct repeat_tally *r)
{
	for (unsigned i = 0; i < r->ndistinct; i++)
		outcome_free(&r->distinct[i]);
	free(r->distinct);
	for (unsigned k = 0; k < MAX_RUN_TARGETS; k++)
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
	for (unsigned k = 0; k < s->opt->ntargets; k++) {
		outcome_free(&r->shown[k]);
		if (outcome_copy(&r->shown[k], &s->out[k]) < 0)
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
	if (note_distinct(r, p, &s->out[reference_target(s->opt)]) < 0)
		return -1;
	if (r->runs == 1 || first_outside)
		return keep_shown(r, s, fd);
	return 0;
}

/* Puts the shown run's outcomes into the session, where the printers look. */
static void show_kept_run(struct session *s, struct repeat_tally *r)
{
	for (unsigned k = 0; k < s->opt->ntargets; k++) {
		struct outcome mine = s->out[k];

		s->out[k] = r->shown[k];
		r->shown[k] = mine;
	}
}

static int tally_status(const struct repeat_tally *r)
{
	if (r->shown_fd.v.cls != VERDICT_AGREE || r->ndistinct > 1)
		return EXIT_FINDING;
	return EXIT_AGREE;
}

static const char *reference_name(const struct run_options *o)
{
	return o->targets[reference_target(o)]->name;
}

/* The target matched against the reference (the model); NULL when the
 * reference runs alone. */
static const char *matched_name(const struct run_options *o)
{
	int ref = reference_target(o);

	for (unsigned k = 0; k < o->ntargets; k++)
		if ((int)k != ref)
			return o->targets[k]->name;
	return NULL;
}

/* "linux identical in 20/20 runs", or "linux gave 2 different outcomes in
 * 20 runs (first difference at step 6 epoll_wait.events)". */
static void print_identity(FILE *f, const struct session *s,
			   const struct repeat_tally *r)
{
	const char *name = reference_name(s->opt);

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
	const char *model = matched_name(s->opt);

	if (model)
		fprintf(f, "; %u/%u inside the %s's set", r->inside, r->runs, model);
}

static void print_repeat_summary(FILE *f, const char *path,
				 const struct program *p,
				 const struct session *s,
				 const struct repeat_tally *r)
{
	const char *model = matched_name(s->opt);

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
		if (model)
			fprintf(f, ", all inside the %s's set", model);
		fputc('\n', f);
	}
}

/* The shown run's details; for a program that is nondeterministic but
 * inside the model's set, the first two different Linux outcomes. */
static void print_repeat_details(FILE *f, const struct program *p,
				 const struct session *s,
				 const struct repeat_tally *r)
{
	const char *name = reference_name(s->opt);
	char a[48], b[48];

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
		judge(s, p, &fd);
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

static int open_targets(struct session *s)
{
	struct target_config cfg = { .inject = NULL };
	struct error err;

	for (unsigned k = 0; k < s->opt->ntargets; k++) {
		const struct target_ops *t = s->opt->targets[k];

		s->open[k] = t->open(&cfg, &err);
		if (!s->open[k]) {
			print_target_error(t->name, &err);
			return -1;
		}
	}
	return 0;
}

static void close_targets(struct session *s)
{
	for (unsigned k = 0; k < s->opt->ntargets; k++) {
		if (s->open[k])
			s->opt->targets[k]->close(s->open[k]);
		outcome_free(&s->out[k]);
	}
}

static int run_all(const struct run_options *o, const struct program *progs)
{
	struct session s = { .opt = o };
	int status = EXIT_AGREE;

	for (unsigned k = 0; k < o->ntargets; k++)
		outcome_init(&s.out[k]);
	if (open_targets(&s) < 0)
		status = EXIT_TROUBLE;
	for (int i = 0; i < o->nfiles && status != EXIT_TROUBLE; i++) {
		int rc = run_trace(&s, o->files[i], &progs[i]);

		if (rc > status)
			status = rc;
	}
	close_targets(&s);
	return status;
}

/* Loads every trace or none: on error *progs is freed. */
static int load_all(const struct run_options *o, struct program **progs)
{
	struct program *p = calloc((size_t)o->nfiles, sizeof(*p));
	struct error err;

	if (!p) {
		fprintf(stderr, "epollfuzz run: out of memory\n");
		return -1;
	}
	for (int i = 0; i < o->nfiles; i++)
		if (trace_load_file(o->files[i], &p[i], NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			while (i-- > 0)
				program_free(&p[i]);
			free(p);
			return -1;
		}
	*progs = p;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_options o;
	struct program *progs;
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	if (load_all(&o, &progs) < 0)
		return EXIT_TROUBLE;
	status = run_all(&o, progs);
	for (int i = 0; i < o.nfiles; i++)
		program_free(&progs[i]);
	free(progs);
	return status;
}
