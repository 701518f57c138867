/*
 * test_plugin.c - the plugin:PATH.so target and its ABI.
 *
 *   test_plugin abi
 *       every op kind and field has one ABI number and comes back from it
 *   test_plugin corpus MODEL_PLUGIN.so CORPUS_DIR
 *       the model as a plugin agrees with the model target on every trace,
 *       without and with each injected bug (violations cross the ABI too)
 *   test_plugin errors MODEL_PLUGIN.so NO_SYMBOL.so VERSION_99.so OUT_OF_ORDER.so
 *       each way of not being a usable plugin gets its one-line message
 *   test_plugin skeleton SKELETON.so
 *       docs/plugin.md's skeleton, compiled from the header alone, loads
 *       and reports what it says it does
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/check.h"
#include "abi.h"
#include "model.h"
#include "plugin_target.h"
#include "targets.h"

/* ------------------------------------------------------------ the ABI */

static void check_abi(struct checks *c)
{
	uint64_t seen_ops = 0, seen_fields = 0;

	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		uint32_t abi = abi_op_kind((enum op_kind)k);

		CHECK(c, abi > 0 && abi < 64, "%s: ABI number %u", op_table[k].name, abi);
		CHECK(c, !(seen_ops & (UINT64_C(1) << (abi & 63))), "%s: ABI number %u twice",
		      op_table[k].name, abi);
		seen_ops |= UINT64_C(1) << (abi & 63);
		CHECK(c, abi_op_kind_to_trace(abi) == (int)k, "%s does not come back",
		      op_table[k].name);
	}
	for (unsigned f = 0; f < FIELD_COUNT; f++) {
		uint32_t abi = abi_field((enum field_id)f);

		CHECK(c, abi < EPOLLFUZZ_FIELD_SLOTS, "%s: slot %u", field_name(f), abi);
		CHECK(c, !(seen_fields & (UINT64_C(1) << (abi & 63))), "%s: slot %u twice",
		      field_name(f), abi);
		seen_fields |= UINT64_C(1) << (abi & 63);
		CHECK(c, abi_field_to_trace(abi) == (int)f, "%s does not come back",
		      field_name(f));
	}
	CHECK(c, abi_op_kind_to_trace(0) < 0, "0 is not an op");
	CHECK(c, abi_result_has_to_trace(8) < 0, "an unknown result bit is refused");
}

/* ------------------------------------------------------------ helpers */

static struct target *open_spec(const char *text, const char *inject,
				const struct target_ops **ops, struct error *err)
{
	struct target_spec spec;

	if (target_spec_parse(text, &spec, err) < 0)
		return NULL;
	*ops = spec.ops;
	return target_spec_open(&spec, &(struct target_config){ .inject = inject }, err);
}

static struct target *must_open(const char *text, const char *inject,
				const struct target_ops **ops)
{
	struct error err;
	struct target *t = open_spec(text, inject, ops, &err);

	if (!t) {
		fprintf(stderr, "%s: %s\n", text, err.msg);
		exit(2);
	}
	return t;
}

/* Equal outcomes: the comparator finds nothing, and any broken invariant
 * is the same one (the comparator stops at a violation, so it is compared
 * apart, and the records with the violations set aside). */
static bool same_outcome(const struct program *p, const struct outcome *a,
			 const struct outcome *b, struct verdict *v)
{
	struct outcome x = *a, y = *b;

	if (a->violation.broken != b->violation.broken ||
	    (a->violation.broken &&
	     (a->violation.step != b->violation.step ||
	      strcmp(a->violation.cls, b->violation.cls) != 0 ||
	      strcmp(a->violation.msg, b->violation.msg) != 0))) {
		snprintf(v->detail, sizeof(v->detail), "violations differ: %s vs %s",
			 a->violation.cls, b->violation.cls);
		return false;
	}
	memset(&x.violation, 0, sizeof(x.violation));
	memset(&y.violation, 0, sizeof(y.violation));
	compare_outcomes(p, &x, &y, v);
	return v->cls == VERDICT_AGREE;
}

/* ------------------------------------------------------------ the corpus */

struct corpus {
	unsigned n;
	char (*path)[512];
	struct program *p;
};

static void load_corpus(const char *dir, struct corpus *cp)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct error err;

	if (!d) {
		perror(dir);
		exit(2);
	}
	memset(cp, 0, sizeof(*cp));
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		cp->path = realloc(cp->path, (cp->n + 1) * sizeof(*cp->path));
		cp->p = realloc(cp->p, (cp->n + 1) * sizeof(*cp->p));
		snprintf(cp->path[cp->n], sizeof(cp->path[0]), "%s/%s", dir, e->d_name);
		if (trace_load_file(cp->path[cp->n], &cp->p[cp->n], NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			exit(2);
		}
		cp->n++;
	}
	closedir(d);
}

/* Runs the corpus on the model and on the plugin, both with inject (the
 * plugin's model reads EPOLLFUZZ_INJECT); returns how many traces broke
 * an invariant on both, so that the violation path is seen to work. */
static unsigned corpus_agrees(struct checks *c, const struct corpus *cp,
			      const char *plugin_spec, const char *inject)
{
	const struct target_ops *mops, *pops;
	struct target *m, *pl;
	struct outcome mo, po;
	struct error err;
	unsigned violations = 0;

	setenv("EPOLLFUZZ_INJECT", inject, 1);
	m = must_open("model", inject, &mops);
	pl = must_open(plugin_spec, NULL, &pops);
	outcome_init(&mo);
	outcome_init(&po);
	for (unsigned i = 0; i < cp->n; i++) {
		struct verdict v = { 0 };
		int rm = mops->run(m, &cp->p[i], &mo, &err);
		int rp = rm < 0 ? -1 : pops->run(pl, &cp->p[i], &po, &err);

		CHECK(c, rm == 0 && rp == 0, "%s [%s]: %s", cp->path[i], inject, err.msg);
		if (rm < 0 || rp < 0)
			continue;
		if (!*inject) {
			compare_outcomes(&cp->p[i], &mo, &po, &v);
			CHECK(c, v.cls == VERDICT_AGREE, "%s: %s %s", cp->path[i],
			      v.signature, v.detail);
		} else {
			CHECK(c, same_outcome(&cp->p[i], &mo, &po, &v), "%s [%s]: %s %s",
			      cp->path[i], inject, v.signature, v.detail);
		}
		violations += mo.violation.broken && po.violation.broken;
	}
	outcome_free(&mo);
	outcome_free(&po);
	pops->close(pl);
	mops->close(m);
	return violations;
}

static void check_corpus(struct checks *c, const char *plugin, const char *dir)
{
	const struct injected_bug *bugs = model_injected_bugs();
	char spec[600];
	struct corpus cp;
	unsigned violations = 0;

	snprintf(spec, sizeof(spec), "plugin:%s", plugin);
	load_corpus(dir, &cp);
	CHECK(c, cp.n > 0, "no traces in %s", dir);
	corpus_agrees(c, &cp, spec, "");
	for (unsigned k = 0; k < INJECT_COUNT; k++)
		violations += corpus_agrees(c, &cp, spec, bugs[k].name);
	unsetenv("EPOLLFUZZ_INJECT");
	CHECK(c, violations > 0, "no injected bug broke an invariant: the violation path went unseen");
	if (!c->failed)
		printf("%u traces agree, plain and under %d injected bugs (%u with the same violation)\n",
		       cp.n, INJECT_COUNT, violations);
	for (unsigned i = 0; i < cp.n; i++)
		program_free(&cp.p[i]);
	free(cp.p);
	free(cp.path);
}

/* ------------------------------------------------------------ errors */

/* Opening spec fails, and the message names the path and has want. */
static void check_open_fails(struct checks *c, const char *path, const char *want)
{
	const struct target_ops *ops;
	struct error err = { "" };
	char spec[600];
	struct target *t;

	snprintf(spec, sizeof(spec), "plugin:%s", path);
	t = open_spec(spec, NULL, &ops, &err);
	CHECK(c, t == NULL, "%s opened", path);
	if (t) {
		ops->close(t);
		return;
	}
	CHECK(c, strstr(err.msg, path) && strstr(err.msg, want) && !strchr(err.msg, '\n'),
	      "got \"%s\", want the path and \"%s\" on one line", err.msg, want);
}

static void check_errors(struct checks *c, char **so)
{
	const struct target_ops *ops;
	struct target_spec spec;
	struct error err = { "" };
	struct program p;
	struct outcome out;
	struct op op;
	struct target *t;
	char text[600];

	snprintf(text, sizeof(text), "plugin:%s", so[0]);
	CHECK(c, target_spec_parse(text, &spec, &err) == 0, "%s", err.msg);
	CHECK_STR(c, spec.name, "plugin-libepollfuzz-model-plugin");
	CHECK(c, target_spec_parse("plugin", &spec, &err) < 0, "plugin without a path parsed");

	check_open_fails(c, "/nonexistent/libnothing.so", "no such file");
	check_open_fails(c, so[1], "not an epollfuzz plugin: no symbol epollfuzz_plugin_v1");
	check_open_fails(c, so[2], "ABI version 99 not supported");

	/* A plugin that reports step 1 first: the run fails, saying so. */
	snprintf(text, sizeof(text), "plugin:%s", so[3]);
	t = must_open(text, NULL, &ops);
	program_init(&p);
	op_init(&op, OP_SLEEP, 0);
	program_push(&p, &op, &err);
	program_push(&p, &op, &err);
	outcome_init(&out);
	CHECK(c, ops->run(t, &p, &out, &err) < 0, "an out-of-order report was taken");
	CHECK(c, strstr(err.msg, "step 1 reported where step 0 was due") != NULL,
	      "got \"%s\"", err.msg);
	outcome_free(&out);
	program_free(&p);
	ops->close(t);
}

/* ------------------------------------------------------------ skeleton */

static void check_skeleton(struct checks *c, const char *so)
{
	const struct target_ops *ops;
	struct error err = { "" };
	struct program p;
	struct outcome out;
	struct op op;
	struct target *t;
	char text[600];

	snprintf(text, sizeof(text), "plugin:%s", so);
	t = must_open(text, NULL, &ops);
	program_init(&p);
	op_init(&op, OP_SLEEP, 0);
	program_push(&p, &op, &err);
	op_init(&op, OP_CLOSE, 0);
	op.f[F_FD] = 3;
	op.present = 1u << F_FD;
	program_push(&p, &op, &err);
	outcome_init(&out);
	CHECK(c, ops->run(t, &p, &out, &err) == 0, "%s", err.msg);
	CHECK(c, out.nsteps == 2, "%u step records", out.nsteps);
	if (out.nsteps == 2) {
		CHECK(c, out.steps[0].state == STEP_DONE && out.steps[0].res.ret == 0,
		      "sleep: state %u ret %lld", out.steps[0].state,
		      (long long)out.steps[0].res.ret);
		CHECK(c, out.steps[1].state == STEP_UNSUPPORTED, "close: state %u",
		      out.steps[1].state);
		CHECK(c, strstr(out.unsupported, "skeleton") != NULL, "unsupported: \"%s\"",
		      out.unsupported);
	}
	outcome_free(&out);
	program_free(&p);
	ops->close(t);
}

int main(int argc, char **argv)
{
	struct checks c = { 0 };

	if (argc == 2 && strcmp(argv[1], "abi") == 0)
		check_abi(&c);
	else if (argc == 4 && strcmp(argv[1], "corpus") == 0)
		check_corpus(&c, argv[2], argv[3]);
	else if (argc == 6 && strcmp(argv[1], "errors") == 0)
		check_errors(&c, argv + 2);
	else if (argc == 3 && strcmp(argv[1], "skeleton") == 0)
		check_skeleton(&c, argv[2]);
	else {
		fprintf(stderr, "usage: test_plugin abi | corpus PLUGIN.so DIR | "
				"errors MODEL.so NOSYM.so V99.so ORDER.so | skeleton SO\n");
		return 2;
	}
	return checks_report(&c, argv[1]);
}
