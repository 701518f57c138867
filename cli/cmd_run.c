/*
 * cmd_run.c - `epollfuzz run`: replay JSON traces on targets and judge them.
 *
 * Every trace is loaded before anything runs, so that bad input costs exit
 * status 2 and no output at all.  Each target is opened once for all traces.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RUN_TARGETS 2

struct run_options {
	const struct target_ops *targets[MAX_RUN_TARGETS];
	unsigned ntargets;
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

static void print_help(FILE *f)
{
	fputs("usage: epollfuzz run [--target model|linux|both] [--json] [--quiet] TRACE.json...\n"
	      "\n"
	      "Runs each trace on the targets.  With both (the default) the model's outcome\n"
	      "is compared with Linux's; a broken model invariant is a finding too.  With\n"
	      "one target, each step and its result is shown.\n"
	      "\n"
	      "  --target T   model, linux or both\n"
	      "  --json       print each trace with its outcome as JSON instead (with both:\n"
	      "               Linux's outcome, and meta.outcomes.model and meta.verdict)\n"
	      "  --quiet      print findings only, one line each\n"
	      "  -h, --help   this text\n"
	      "\n"
	      "Exit status: 0 every trace passed, 1 a divergence, broken invariant or\n"
	      "unsupported op, 2 bad input or usage, or a target that failed.\n", f);
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

/* "--target T" or "--target=T"; advances *i past the value. */
static int target_option(int argc, char **argv, int *i, struct run_options *o)
{
	const char *arg = argv[*i];

	if (arg[8] == '=')
		return set_targets(o, arg + 9);
	if (*i + 1 >= argc)
		return usage_error("run", "--target needs a value");
	return set_targets(o, argv[++*i]);
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
		else if (strncmp(arg, "--target", 8) == 0 &&
			 (arg[8] == '\0' || arg[8] == '=')) {
			if (target_option(argc, argv, &i, o) != 0)
				return EXIT_TROUBLE;
		} else
			return usage_error("run", "unknown option '%s'", arg);
	}
	if (o->nfiles == 0)
		return usage_error("run", "no trace files given");
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

static void print_summary(FILE *f, const char *path, const struct program *p,
			  const struct session *s, const struct finding *fd)
{
	const struct violation *vio = &s->out[fd->target].violation;

	switch (fd->v.cls) {
	case VERDICT_AGREE:
		fprintf(f, "PASS %s (%u ops)\n", path, p->nops);
		break;
	case VERDICT_DIVERGE:
		fprintf(f, "DIVERGE %s: step %u %s\n", path, fd->v.step,
			fd->v.signature);
		break;
	case VERDICT_INVARIANT:
		fprintf(f, "INVARIANT %s: step %u %s: %s\n", path, fd->v.step,
			vio->cls, vio->msg);
		break;
	case VERDICT_UNSUPPORTED:
		fprintf(f, "UNSUPPORTED %s: step %u: %s\n", path, fd->v.step,
			fd->v.detail);
		break;
	}
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

static const char *verdict_class_name(enum verdict_class cls)
{
	switch (cls) {
	case VERDICT_AGREE: return "agree";
	case VERDICT_DIVERGE: return "diverge";
	case VERDICT_INVARIANT: return "invariant";
	case VERDICT_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}

static json_t *verdict_to_json(const struct verdict *v)
{
	if (v->cls == VERDICT_AGREE)
		return json_pack("{ss}", "class", verdict_class_name(v->cls));
	return json_pack("{sssIssss}", "class", verdict_class_name(v->cls),
			 "step", (json_int_t)v->step, "field", v->field,
			 "signature", v->signature);
}

/* The trace's extras with meta.outcomes (every target but the last) and
 * meta.verdict set; the trace's own meta keys are kept. */
static json_t *extras_with_results(const struct program *p,
				   const struct session *s,
				   const struct finding *fd)
{
	json_t *extras = p->extras ? json_deep_copy(p->extras) : json_object();
	json_t *meta, *outcomes = json_object();

	if (!extras || !outcomes)
		abort();
	if (!(meta = json_object_get(extras, "meta"))) {
		meta = json_object();
		if (json_object_set_new(extras, "meta", meta) < 0)
			abort();
	}
	for (unsigned k = 0; k + 1 < s->opt->ntargets; k++)
		json_object_set_new(outcomes, s->opt->targets[k]->name,
				    outcome_to_json(p, &s->out[k]));
	if (json_object_set_new(meta, "outcomes", outcomes) < 0 ||
	    json_object_set_new(meta, "verdict", verdict_to_json(&fd->v)) < 0)
		abort();
	return extras;
}

static int print_json(FILE *f, const struct program *p,
		      const struct session *s, const struct finding *fd)
{
	unsigned last = s->opt->ntargets - 1;
	struct program shown = *p; /* shares p's ops: never freed */
	char *text;

	shown.extras = last ? extras_with_results(p, s, fd) : p->extras;
	text = trace_dump(&shown, &s->out[last]);
	if (last)
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
 * Targets with a single outcome run first; the first of them is the
 * reference that targets allowing several outcomes (the model, where Linux
 * races) are matched against.
 */
static int run_targets(struct session *s, const struct program *p,
		       struct error *err)
{
	const struct run_options *o = s->opt;
	const struct outcome *ref = NULL;

	for (int pass = 0; pass < 2; pass++)
		for (unsigned k = 0; k < o->ntargets; k++) {
			const struct target_ops *t = o->targets[k];
			bool several = t->run_like != NULL;
			int rc;

			if (several != (pass == 1))
				continue;
			outcome_reset(&s->out[k]);
			if (several && ref)
				rc = t->run_like(s->open[k], p, ref, &s->out[k], err);
			else
				rc = t->run(s->open[k], p, &s->out[k], err);
			if (rc < 0) {
				print_target_error(t->name, err);
				return -1;
			}
			if (!several && !ref)
				ref = &s->out[k];
		}
	return 0;
}

static int run_trace(struct session *s, const char *path,
		     const struct program *p)
{
	const struct run_options *o = s->opt;
	struct finding fd;
	struct error err;

	if (run_targets(s, p, &err) < 0)
		return EXIT_TROUBLE;
	judge(s, p, &fd);
	if (o->json) {
		if (print_json(stdout, p, s, &fd) < 0) {
			fprintf(stderr, "error: %s: out of memory\n", path);
			return EXIT_TROUBLE;
		}
	} else if (!o->quiet || fd.v.cls != VERDICT_AGREE) {
		print_summary(stdout, path, p, s, &fd);
		if (!o->quiet)
			print_details(stdout, p, s, &fd);
	}
	return fd.v.cls == VERDICT_AGREE ? EXIT_AGREE : EXIT_FINDING;
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
