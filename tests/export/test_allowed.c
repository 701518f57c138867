/*
 * test_allowed.c - the outcomes an exported reproducer accepts come from
 * model_run_all: on a trace where woken threads race it must yield each
 * distinct allowed outcome once, the default order's first, and say when
 * a bound cut the set short; on a trace with one thread, the one outcome.
 *
 *   test_allowed RACY.json SINGLE.json
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

#define MAX 8

static int failures;

static void expect(bool ok, const char *what)
{
	if (!ok) {
		printf("FAIL %s\n", what);
		failures++;
	}
}

static bool agree(const struct program *p, const struct outcome *a,
		  const struct outcome *b)
{
	struct verdict v;

	compare_outcomes(p, a, b, &v);
	return v.cls == VERDICT_AGREE;
}

static void free_all(struct outcome *outs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		outcome_free(&outs[i]);
}

/* Every outcome once, the first being model_run's (the default order);
 * returns how many. */
static unsigned check_set(struct model *m, const struct program *p,
			  const char *name)
{
	struct outcome outs[MAX], first;
	struct error err;
	unsigned n;
	bool cut;

	outcome_init(&first);
	expect(model_run_all(m, p, outs, MAX, &n, &cut, &err) == 0, "model_run_all");
	expect(!cut, "the whole set, uncut");
	model_run(m, p, &first, &err);
	expect(n > 0 && agree(p, &outs[0], &first), "the default order's outcome first");
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			expect(!agree(p, &outs[i], &outs[j]), "each outcome once");
	printf("%s: %u allowed outcome%s\n", name, n, n == 1 ? "" : "s");
	free_all(outs, n);
	outcome_free(&first);
	return n;
}

/* With room for one, a racing trace's set is cut, and says so. */
static void check_cut(struct model *m, const struct program *p)
{
	struct outcome outs[1];
	struct error err;
	unsigned n;
	bool cut;

	expect(model_run_all(m, p, outs, 1, &n, &cut, &err) == 0, "model_run_all, max 1");
	expect(n == 1 && cut, "a set bigger than max is cut, and says so");
	free_all(outs, n);
}

static int load(const char *path, struct program *p)
{
	struct error err;

	if (trace_load_file(path, p, NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct target_config cfg = { .inject = "" };
	struct program racy, single;
	struct model *m;
	struct error err;

	if (argc != 3) {
		fprintf(stderr, "usage: test_allowed RACY.json SINGLE.json\n");
		return 2;
	}
	if (load(argv[1], &racy) < 0 || load(argv[2], &single) < 0)
		return 2;
	if (!(m = model_new(&cfg, &err))) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	expect(check_set(m, &racy, argv[1]) >= 2, "racing threads: several outcomes");
	check_cut(m, &racy);
	expect(check_set(m, &single, argv[2]) == 1, "one thread: one outcome");
	model_free(m);
	program_free(&racy);
	program_free(&single);
	return failures ? 1 : 0;
}
