/*
 * set.c - a set of targets judged together: the reference and the targets
 * compared with it.  run, fuzz, minimize and conform all build theirs here,
 * so that they agree on who is compared with whom and on the verdict.
 */
#include <jansson.h>
#include <string.h>

#include "targets.h"

static int add_spec(struct target_set *s, const char *text, struct error *err)
{
	if (s->n == TARGET_SET_MAX)
		return fail(err, "at most %d targets", TARGET_SET_MAX);
	if (target_spec_parse(text, &s->spec[s->n], err) < 0)
		return -1;
	for (unsigned k = 0; k < s->n; k++)
		if (strcmp(s->spec[k].name, s->spec[s->n].name) == 0)
			return fail(err, "target '%s' is named twice", text);
	outcome_init(&s->out[s->n]);
	s->n++;
	return 0;
}

static bool plain(const char *text)
{
	return strcmp(text, "model") == 0 || strcmp(text, "linux") == 0;
}

int target_set_init(struct target_set *s, const struct target_set_choice *c,
		    struct error *err)
{
	static const char *const model_only[] = { "model" };
	const char *const *targets = c->ntargets ? c->targets : model_only;
	unsigned ntargets = c->ntargets ? c->ntargets : 1;

	memset(s, 0, sizeof(*s));
	s->ref = -1;
	if (c->alone_ok && ntargets == 1 && !c->reference && c->ntargets &&
	    plain(targets[0]))
		return add_spec(s, targets[0], err);
	if (add_spec(s, c->reference ? c->reference : "linux", err) < 0)
		return -1;
	s->ref = 0;
	for (unsigned i = 0; i < ntargets; i++)
		if (add_spec(s, targets[i], err) < 0)
			return -1;
	if (c->add_model && target_set_find(s, "model") < 0 &&
	    add_spec(s, "model", err) < 0)
		return -1;
	return 0;
}

int target_set_open(struct target_set *s, const struct target_config *common,
		    struct error *err)
{
	s->common = *common;
	for (unsigned k = 0; k < s->n; k++) {
		s->open[k] = target_spec_open(&s->spec[k], common, err);
		if (!s->open[k]) {
			target_set_close(s);
			return -1;
		}
	}
	return 0;
}

void target_set_close(struct target_set *s)
{
	for (unsigned k = 0; k < s->n; k++) {
		if (s->open[k])
			s->spec[k].ops->close(s->open[k]);
		s->open[k] = NULL;
		outcome_free(&s->out[k]);
	}
	outcome_free(&s->scratch);
}

/* Targets often say who they are already ("linux: executor hung"). */
static int name_failure(const struct target_spec *spec, struct error *err)
{
	size_t n = strlen(spec->ops->name);
	struct error inner = *err;

	if (strncmp(inner.msg, spec->ops->name, n) == 0 && inner.msg[n] == ':')
		return fail(err, "%s: %s", spec->text, inner.msg + n + 1 +
			    (inner.msg[n + 1] == ' '));
	return fail(err, "%s: %s", spec->text, inner.msg);
}

static int run_one(struct target_set *s, unsigned k, const struct program *p,
		   struct error *err)
{
	const struct target_ops *ops = s->spec[k].ops;
	const struct outcome *ref = s->ref >= 0 && (int)k != s->ref
					    ? &s->out[s->ref] : NULL;
	int rc;

	outcome_reset(&s->out[k]);
	if (ref && ops->run_like)
		rc = ops->run_like(s->open[k], p, ref, &s->out[k], err);
	else
		rc = ops->run(s->open[k], p, &s->out[k], err);
	if (rc < 0) {
		s->failures[k]++;
		return name_failure(&s->spec[k], err);
	}
	return 0;
}

/*
 * Where racing threads may finish in several orders, Linux (the reference)
 * shows one and a target may show another the kernel allows just as well.
 * The model knows the allowed set: matched against the target's outcome,
 * does it give exactly that outcome?  Only asked when the target departs.
 */
static bool model_allows(struct target_set *s, int m, unsigned k,
			 const struct program *p)
{
	const struct target_ops *ops = s->spec[m].ops;
	struct verdict v;
	struct error err;

	judge(p, s->spec[0].name, &s->out[0], s->spec[k].name, &s->out[k], &v);
	if (v.cls != VERDICT_DIVERGE || !ops->run_like)
		return false;
	outcome_reset(&s->scratch);
	if (ops->run_like(s->open[m], p, &s->out[k], &s->scratch, &err) < 0 ||
	    s->scratch.violation.broken)
		return false;
	compare_outcomes(p, &s->scratch, &s->out[k], &v);
	return v.cls == VERDICT_AGREE;
}

int target_set_run(struct target_set *s, const struct program *p,
		   unsigned *failed, struct error *err)
{
	int m = target_set_find(s, "model");

	/* The reference is spec[0]: it runs first, and the others may be
	 * matched against its outcome. */
	for (unsigned k = 0; k < s->n; k++) {
		s->allowed[k] = false;
		if (run_one(s, k, p, err) < 0) {
			if (failed)
				*failed = k;
			return -1;
		}
	}
	for (unsigned k = 1; k < s->n && s->ref == 0 && m > 0; k++)
		if ((int)k != m)
			s->allowed[k] = model_allows(s, m, k, p);
	return 0;
}

int target_set_rejudge(struct target_set *s, unsigned k, const struct program *p,
		       const struct outcome *ref, struct verdict *v, struct error *err)
{
	const struct target_ops *ops = s->spec[k].ops;
	struct target *fresh = target_spec_open(&s->spec[k], &s->common, err);
	int rc;

	if (!fresh)
		return -1;
	outcome_reset(&s->scratch);
	rc = ops->run_like ? ops->run_like(fresh, p, ref, &s->scratch, err)
			   : ops->run(fresh, p, &s->scratch, err);
	ops->close(fresh);
	if (rc < 0)
		return name_failure(&s->spec[k], err);
	judge(p, s->spec[s->ref >= 0 ? s->ref : 0].name, ref, s->spec[k].name,
	      &s->scratch, v);
	return 0;
}

void target_set_judge_one(const struct target_set *s, const struct program *p,
			  unsigned k, struct verdict *v)
{
	if (s->ref < 0 || (int)k == s->ref)
		judge(p, NULL, NULL, s->spec[k].name, &s->out[k], v);
	else
		judge(p, s->spec[s->ref].name, &s->out[s->ref], s->spec[k].name,
		      &s->out[k], v);
	if (v->cls == VERDICT_DIVERGE && s->allowed[k]) {
		v->cls = VERDICT_AGREE; /* another order the kernel allows */
		snprintf(v->detail, sizeof(v->detail),
			 "differs from %s at step %u, in an order the model allows",
			 s->spec[0].name, v->step);
	}
}

void target_set_judge(const struct target_set *s, const struct program *p,
		      struct verdict *v, unsigned *which)
{
	struct verdict c;
	unsigned best = s->ref >= 0 ? (unsigned)s->ref : 0;

	memset(v, 0, sizeof(*v));
	v->cls = VERDICT_AGREE;
	for (unsigned k = 0; k < s->n; k++) {
		if ((int)k == s->ref && s->n > 1)
			continue; /* judged with every other target */
		target_set_judge_one(s, p, k, &c);
		if (c.cls != VERDICT_AGREE &&
		    (v->cls == VERDICT_AGREE || c.step < v->step)) {
			*v = c;
			best = k;
		} else if (v->cls == VERDICT_AGREE && c.cls == VERDICT_AGREE) {
			*v = c; /* keeps reference and target names */
		}
	}
	if (which)
		*which = best;
}

int target_set_find(const struct target_set *s, const char *name)
{
	for (unsigned k = 0; k < s->n; k++)
		if (strcmp(s->spec[k].name, name) == 0)
			return (int)k;
	return -1;
}

void target_set_print(FILE *f, const struct target_set *s,
		      const struct program *p, const struct verdict *v)
{
	const char *names[TARGET_SET_MAX];
	const struct outcome *outs[TARGET_SET_MAX];
	int about = target_set_find(s, v->target);
	unsigned n = 0;

	if (about >= 0) {
		names[n] = s->spec[about].name;
		outs[n++] = &s->out[about];
	}
	for (unsigned k = 0; k < s->n; k++)
		if ((int)k != about) {
			names[n] = s->spec[k].name;
			outs[n++] = &s->out[k];
		}
	verdict_print_n(f, p, names, outs, n, v);
}

/* ------------------------------------------------------------- JSON */

const struct outcome *target_set_own(const struct target_set *s)
{
	return &s->out[0];
}

static int set_new(json_t *obj, const char *key, json_t *value)
{
	return value ? json_object_set_new(obj, key, value) : -1;
}

int target_set_meta(const struct target_set *s, const struct program *p,
		    const struct verdict *v, json_t *meta)
{
	json_t *outcomes = json_object(), *targets = json_object();
	json_t *settle = json_object();

	if (!outcomes || !targets || !settle)
		goto oom;
	for (unsigned k = 0; k < s->n; k++) {
		const struct target_ops *ops = s->spec[k].ops;
		const char *how = ops->describe && s->open[k]
					  ? ops->describe(s->open[k], "settle") : NULL;

		if (k > 0 && set_new(outcomes, s->spec[k].name,
				     outcome_to_json(p, &s->out[k])) < 0)
			goto oom;
		if (set_new(targets, s->spec[k].name, json_string(s->spec[k].text)) < 0 ||
		    (how && set_new(settle, s->spec[k].name, json_string(how)) < 0))
			goto oom;
	}
	if ((json_object_size(outcomes) && json_object_set(meta, "outcomes", outcomes) < 0) ||
	    json_object_set(meta, "targets", targets) < 0 ||
	    (json_object_size(settle) && json_object_set(meta, "settle", settle) < 0) ||
	    set_new(meta, "verdict", verdict_to_json(v)) < 0)
		goto oom;
	json_decref(outcomes);
	json_decref(targets);
	json_decref(settle);
	return 0;
oom:
	json_decref(outcomes);
	json_decref(targets);
	json_decref(settle);
	return -1;
}
