/*
 * cmd_minimize.c - `epollfuzz minimize`: shrink a finding, keeping its
 * signature.
 *
 * The finding is a JSON trace; meta.verdict says what to keep (without it
 * the trace is run first and its own finding is kept), meta.inject which
 * injected model bug made it, meta.verdict.target and meta.targets which
 * target departed from which reference.  The work is trace/minimize.c's;
 * this file reads the finding, opens the two targets, reports and writes.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "profile.h"

#define CMD "minimize"

struct minimize_options {
	const char *input;
	const char *output; /* NULL: stdout */
	const char *inject; /* --inject, or NULL */
	const char *target, *reference; /* --target, --reference, or NULL */
	const char *profile; /* --profile, or NULL (EPOLLFUZZ_PROFILE) */
};

/* The two targets a finding is minimised on. */
struct pair {
	struct target_spec ref, like;
	struct minimize_targets t;
};

/* What the finding file says besides its program. */
struct finding_meta {
	bool has_verdict;
	struct verdict verdict;
	char inject[256];   /* injected bug names; "" when none */
	/* The specs of the departing target and of the reference, from
	 * meta.verdict.target/reference through meta.targets; "" when the
	 * finding does not say (then: model against linux). */
	char target[TARGET_SPEC_MAX], reference[TARGET_SPEC_MAX];
};

enum { MIN_OUTPUT, MIN_TARGET, MIN_REFERENCE, MIN_PROFILE, MIN_INJECT };

static const struct cli_option minimize_option_table[] = {
	{ "output", 'o', "OUT.json",
	  "write the minimised trace there (default: stdout), with the "
	  "reference's outcome, meta.verdict and meta.outcomes.TARGET",
	  MIN_OUTPUT },
	{ "target", 0, "SPEC",
	  "the target that departs (default: the finding's)", MIN_TARGET },
	{ "reference", 0, "SPEC",
	  "the reference (default: the finding's, or linux)", MIN_REFERENCE },
	{ "profile", 0, "NAME",
	  "keep only versions inside a profile: miri (what 'epollfuzz export "
	  "--rust' takes) or any (default EPOLLFUZZ_PROFILE, else any)",
	  MIN_PROFILE },
	{ "inject", 0, "NAME[,NAME]",
	  "the model's injected bugs (default: meta.inject, else "
	  "EPOLLFUZZ_INJECT)", MIN_INJECT },
};

static const struct cli_command minimize_command = {
	.name = CMD,
	.usage = " FINDING.json [-o OUT.json] [--inject NAME]\n"
		 "                          [--target SPEC] [--reference SPEC] [--profile NAME]",
	.about = "Shrinks a finding while it keeps its signature (meta.verdict.signature,\n"
		 "e.g. \"epoll_wait.ret\" or \"invariant:dangling-interest\"; without one the\n"
		 "trace is run first and its own finding is kept) and its target.  The\n"
		 "targets are the finding's own (meta.verdict.target against\n"
		 "meta.verdict.reference, opened through meta.targets; without them, the\n"
		 "model against linux).  A smaller program is kept when the reference, then\n"
		 "the target (matched against the reference's outcome where it allows\n"
		 "several), give a finding of the same class, signature and target.  Passes,\n"
		 "repeated until none changes anything: remove chunks of ops (halves,\n"
		 "quarters, ... single ops), drop whole threads, move ops to thread 0,\n"
		 "simplify arguments (clear flag bits, first enum names, numbers toward 0, 1\n"
		 "or the default, leave out defaults).  Fd arguments follow the objects they\n"
		 "named, not their numbers: when an op that made fds goes, later arguments\n"
		 "are renumbered.  The result must show the signature in 5 runs out of 5;\n"
		 "else the newest earlier version that does is kept.\n",
	.options = CLI_OPTIONS(minimize_option_table),
	.epilogue = "A report goes to stderr: ops and threads before and after, runs, time.\n"
		    "\n"
		    "Exit status: 0 minimised, 1 the signature could not be reproduced (or the\n"
		    "targets agree: nothing to minimise), 2 bad input or usage, or a target\n"
		    "that failed.\n",
};

/* ----------------------------------------------------------- options */

static int minimize_apply(void *ctx, int id, const char *value)
{
	struct minimize_options *o = ctx;

	switch (id) {
	case CLI_OPERAND:
		if (o->input)
			return usage_error(CMD, "one finding at a time ('%s' and '%s')",
					   o->input, value);
		o->input = value;
		break;
	case MIN_OUTPUT:
		o->output = value;
		break;
	case MIN_TARGET:
		o->target = value;
		break;
	case MIN_REFERENCE:
		o->reference = value;
		break;
	case MIN_PROFILE:
		o->profile = value;
		break;
	case MIN_INJECT:
		o->inject = value;
		return check_inject("minimize", value);
	}
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct minimize_options *o)
{
	int status;

	memset(o, 0, sizeof(*o));
	status = cli_parse(&minimize_command, argc, argv, minimize_apply, o, NULL);
	if (status >= 0)
		return status;
	if (!o->input)
		return usage_error(CMD, "no finding given");
	return -1;
}

/* ------------------------------------------------------------ reading */

static int class_by_name(const char *name, enum verdict_class *cls)
{
	static const enum verdict_class all[] = {
		VERDICT_AGREE, VERDICT_DIVERGE, VERDICT_INVARIANT, VERDICT_UNSUPPORTED,
	};

	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		if (strcmp(verdict_class_name(all[k]), name) == 0) {
			*cls = all[k];
			return 0;
		}
	return -1;
}

/* A class the file does not give follows from the signature. */
static enum verdict_class class_of_signature(const char *signature)
{
	if (strncmp(signature, "invariant:", 10) == 0)
		return VERDICT_INVARIANT;
	if (strncmp(signature, "unsupported:", 12) == 0)
		return VERDICT_UNSUPPORTED;
	return VERDICT_DIVERGE;
}

static int read_verdict(const char *path, const json_t *j, struct verdict *v)
{
	const json_t *sig = json_object_get(j, "signature");
	const json_t *cls = json_object_get(j, "class");
	const json_t *what;

	memset(v, 0, sizeof(*v));
	if (!json_is_object(j)) {
		fprintf(stderr, "%s: meta.verdict: expected an object\n", path);
		return -1;
	}
	if (cls && (!json_is_string(cls) ||
		    class_by_name(json_string_value(cls), &v->cls) < 0)) {
		fprintf(stderr, "%s: meta.verdict.class: expected one of agree, diverge, invariant, unsupported\n",
			path);
		return -1;
	}
	if (cls && v->cls == VERDICT_AGREE)
		return 0;
	if (!json_is_string(sig) || json_string_length(sig) == 0 ||
	    json_string_length(sig) >= sizeof(v->signature)) {
		fprintf(stderr, "%s: meta.verdict.signature: expected a signature such as \"epoll_wait.ret\"\n",
			path);
		return -1;
	}
	snprintf(v->signature, sizeof(v->signature), "%s", json_string_value(sig));
	what = json_object_get(j, "what");
	if (what && (!json_is_string(what) || json_string_length(what) >= sizeof(v->what))) {
		fprintf(stderr, "%s: meta.verdict.what: expected a short string such as \"EINVAL-vs-EBADF\"\n",
			path);
		return -1;
	}
	snprintf(v->what, sizeof(v->what), "%s", what ? json_string_value(what) : "");
	if (!cls)
		v->cls = class_of_signature(v->signature);
	return 0;
}

static int read_meta(const char *path, const struct program *p,
		     struct finding_meta *fm)
{
	const json_t *meta = p->extras ? json_object_get(p->extras, "meta") : NULL;
	const json_t *verdict = meta ? json_object_get(meta, "verdict") : NULL;
	const json_t *inject = meta ? json_object_get(meta, "inject") : NULL;

	memset(fm, 0, sizeof(*fm));
	if (verdict) {
		if (read_verdict(path, verdict, &fm->verdict) < 0)
			return -1;
		fm->has_verdict = fm->verdict.cls != VERDICT_AGREE;
		if (finding_targets(path, p, fm->target, fm->reference,
				    sizeof(fm->target)) < 0)
			return -1;
	}
	if (inject && !json_is_string(inject)) {
		fprintf(stderr, "%s: meta.inject: expected a string of injected bug names\n",
			path);
		return -1;
	}
	if (inject && json_string_length(inject) >= sizeof(fm->inject)) {
		fprintf(stderr, "%s: meta.inject: too long\n", path);
		return -1;
	}
	snprintf(fm->inject, sizeof(fm->inject), "%s",
		 inject ? json_string_value(inject) : "");
	return 0;
}

/* ------------------------------------------------------------ writing */

static void set(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		abort();
}

/* The finding's extras with meta.verdict, meta.outcomes.TARGET,
 * meta.targets and meta.inject of the minimised program; what described
 * the old program's runs (meta.repeat, other targets' outcomes) goes. */
static json_t *result_extras(const struct program *p, const struct pair *t,
			     const struct minimize_result *r, const char *inject)
{
	json_t *meta;
	json_t *extras = extras_with_meta(p, &meta);

	json_object_del(meta, "repeat");
	set(meta, "verdict", verdict_to_json(&r->verdict));
	set(meta, "outcomes", json_pack("{so}", t->like.name,
					outcome_to_json(p, &r->like_out)));
	set(meta, "targets", json_pack("{ssss}", t->ref.name, t->ref.text,
				       t->like.name, t->like.text));
	if (inject)
		set(meta, "inject", json_string(inject));
	else
		json_object_del(meta, "inject");
	return extras;
}

static bool ends_with_newline(const char *text)
{
	size_t n = strlen(text);

	return n > 0 && text[n - 1] == '\n';
}

/* Writes text, with a final newline, to path (whole or not at all). */
static int write_output(const char *path, const char *text)
{
	struct error err;
	size_t len = strlen(text);
	char *buf = malloc(len + 2);
	int rc;

	if (!buf)
		return -1;
	memcpy(buf, text, len);
	if (!ends_with_newline(text))
		buf[len++] = '\n';
	rc = write_atomically(path, buf, len, &err);
	free(buf);
	if (rc < 0)
		fprintf(stderr, "epollfuzz minimize: %s\n", err.msg);
	return rc;
}

static int write_result(const struct minimize_options *o,
			const struct program *p, const struct pair *t,
			const struct minimize_result *r, const char *inject)
{
	struct program shown = *p; /* shares p's ops: never freed */
	char *text;
	int rc = 0;

	shown.extras = result_extras(p, t, r, inject);
	text = trace_dump(&shown, &r->ref_out);
	json_decref(shown.extras);
	if (!text) {
		fprintf(stderr, "epollfuzz minimize: out of memory\n");
		return -1;
	}
	if (o->output)
		rc = write_output(o->output, text);
	else if (fputs(text, stdout) < 0 ||
		 (!ends_with_newline(text) && fputc('\n', stdout) == EOF) ||
		 fflush(stdout) != 0)
		rc = -1;
	free(text);
	return rc;
}

/* ------------------------------------------------------------ running */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void report(const char *path, const struct minimize_result *r,
		   const struct timespec *t0)
{
	fprintf(stderr, "%s: %s (%s step %u): %u -> %u ops, %u -> %u threads, %u runs, %.2f s\n",
		path, r->verdict.signature, verdict_class_name(r->verdict.cls),
		r->verdict.step, r->ops_before, r->ops_after, r->threads_before,
		r->threads_after, r->runs, seconds_since(t0));
	if (r->fell_back)
		fprintf(stderr, "%s: note: the smallest version (%u ops) did not show the signature in every one of 5 runs; kept the last version that did (%u ops)\n",
			path, r->smallest_ops, r->ops_after);
	else if (!r->stable)
		fprintf(stderr, "%s: warning: no version showed the signature in every one of 5 runs; kept the smallest\n",
			path);
}

/* Explains a status other than success; returns the exit status. */
static int explain(const char *path, enum minimize_status status,
		   const struct finding_meta *fm, const struct minimize_result *r,
		   const struct error *err)
{
	switch (status) {
	case MINIMIZE_FAILED:
		fprintf(stderr, "error: %s\n", err->msg);
		return EXIT_TROUBLE;
	case MINIMIZE_AGREE:
		fprintf(stderr, "%s: nothing to minimise: the targets agree\n", path);
		return EXIT_FINDING;
	case MINIMIZE_NOT_REPRODUCED:
		fprintf(stderr, "%s: the signature %s (%s) could not be reproduced: the run gave %s%s%s%s\n",
			path, fm->verdict.signature, verdict_class_name(fm->verdict.cls),
			r->verdict.cls == VERDICT_AGREE ? "agreement"
							: r->verdict.signature,
			/* what a target cannot run, or what a profile refuses */
			r->verdict.cls == VERDICT_UNSUPPORTED ? " (" : "",
			r->verdict.cls == VERDICT_UNSUPPORTED ? r->verdict.detail : "",
			r->verdict.cls == VERDICT_UNSUPPORTED ? ")" : "");
		return EXIT_FINDING;
	case MINIMIZE_DONE:
		break;
	}
	return EXIT_AGREE;
}

static void close_targets(struct minimize_targets *t)
{
	if (t->ref)
		t->ref_ops->close(t->ref);
	if (t->like)
		t->like_ops->close(t->like);
}

/* The finding's target against its reference, unless the options say
 * otherwise; without either, the model against linux. */
static int open_targets(const struct minimize_options *o,
			const struct finding_meta *fm, struct pair *pr,
			const char *inject)
{
	const char *like = o->target ? o->target : fm->target[0] ? fm->target : "model";
	const char *ref = o->reference ? o->reference
				       : fm->reference[0] ? fm->reference : "linux";
	struct minimize_targets *t = &pr->t;
	struct target_config common = { .inject = inject };
	struct error err;

	memset(pr, 0, sizeof(*pr));
	if (target_spec_parse(ref, &pr->ref, &err) < 0 ||
	    target_spec_parse(like, &pr->like, &err) < 0)
		return usage_error(CMD, "%s", err.msg);
	t->ref_ops = pr->ref.ops;
	t->ref_name = pr->ref.name;
	t->like_ops = pr->like.ops;
	t->like_name = pr->like.name;
	/* the target first: a bad injected bug name fails without a Linux start */
	if (!(t->like = target_spec_open(&pr->like, &common, &err)) ||
	    !(t->ref = target_spec_open(&pr->ref, &common, &err))) {
		fprintf(stderr, "error: %s\n", err.msg);
		close_targets(t);
		return EXIT_TROUBLE;
	}
	return 0;
}

/* Under a profile, a version outside it is unsupported on the reference,
 * which is never the finding: none is kept. */
static int keep_inside_profile(const struct minimize_options *o,
			       struct minimize_targets *t)
{
	const char *name = o->profile ? o->profile : getenv("EPOLLFUZZ_PROFILE");
	struct target *wrapped;
	enum profile prof;
	struct error err;

	if (!name || !*name)
		return 0;
	if (profile_by_name(name, &prof, &err) < 0)
		return usage_error(CMD, "%s", err.msg);
	if (prof == PROFILE_ANY)
		return 0;
	if (!(wrapped = profile_wrap_target(prof, t->ref_ops, t->ref))) {
		fprintf(stderr, "error: out of memory\n");
		return EXIT_TROUBLE;
	}
	t->ref_ops = &profile_target;
	t->ref = wrapped;
	return 0;
}

static int minimize_file(const struct minimize_options *o, struct program *p,
			 const struct finding_meta *fm)
{
	const char *inject = o->inject ? o->inject
				       : fm->inject[0] ? fm->inject
						    : getenv("EPOLLFUZZ_INJECT");
	struct pair t;
	struct minimize_result r;
	struct timespec t0;
	struct error err;
	enum minimize_status status;
	int rc;

	if (inject && !*inject)
		inject = NULL;
	if ((rc = open_targets(o, fm, &t, inject)) != 0)
		return rc;
	if ((rc = keep_inside_profile(o, &t.t)) != 0) {
		close_targets(&t.t);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = minimize_program(&t.t, p, fm->has_verdict ? &fm->verdict : NULL,
				  &r, &err);
	close_targets(&t.t);
	rc = explain(o->input, status, fm, &r, &err);
	if (status == MINIMIZE_DONE) {
		report(o->input, &r, &t0);
		if (write_result(o, p, &t, &r, inject) < 0)
			rc = EXIT_TROUBLE;
	}
	if (status != MINIMIZE_FAILED)
		minimize_result_free(&r);
	return rc;
}

static int minimize_path(const struct minimize_options *o)
{
	struct finding_meta fm;
	struct program p;
	struct error err;
	int status;

	if (trace_load_file(o->input, &p, NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_TROUBLE;
	}
	if (read_meta(o->input, &p, &fm) < 0)
		status = EXIT_TROUBLE;
	else
		status = minimize_file(o, &p, &fm);
	program_free(&p);
	return status;
}

int minimize_in_place(const char *path, const char *inject)
{
	struct minimize_options o = { .input = path, .output = path,
				      .inject = inject };

	return minimize_path(&o);
}

int cmd_minimize(int argc, char **argv)
{
	struct minimize_options o;
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	return minimize_path(&o);
}
