/*
 * test_inject.c - every injected model bug is exposed by at least one
 * shipped corpus trace, run against Linux; and without injection the
 * same traces agree, also when the model's search of racing orders starts
 * from another order (schedule seeds, as campaigns set them), which makes
 * it search.  Usage: test_inject CORPUS_DIR [MORE_DIRS...]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "oracle.h"

struct trace {
	char path[512];
	struct program p;
	struct outcome linux_out;
};

static unsigned load_corpus(const char *dir, struct trace **out, unsigned n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct trace *v = *out;
	struct error err;

	if (!d) {
		perror(dir);
		exit(2);
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		snprintf(v[n].path, sizeof(v[n].path), "%s/%s", dir, e->d_name);
		outcome_init(&v[n].linux_out);
		if (trace_load_file(v[n].path, &v[n].p, NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			exit(2);
		}
		n++;
	}
	closedir(d);
	*out = v;
	return n;
}

/* Traces on which a model with these settings departs from Linux; *runs
 * (when not NULL) gets the model's runs, a search's included. */
static unsigned count_exposing(struct trace *v, unsigned n,
			       const struct target_config *cfg,
			       const char **example, unsigned *runs)
{
	struct error err;
	struct model *m = model_new(cfg, &err);
	struct outcome out;
	unsigned found = 0;

	if (!m) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	outcome_init(&out);
	for (unsigned i = 0; i < n; i++) {
		struct verdict verdict;

		unsigned k = 0;

		model_run_like(m, &v[i].p, &v[i].linux_out, &out, &k, &err);
		if (runs)
			*runs += k;
		compare_outcomes(&v[i].p, &out, &v[i].linux_out, &verdict);
		if (verdict.cls == VERDICT_DIVERGE || verdict.cls == VERDICT_INVARIANT) {
			if (!found++)
				*example = v[i].path;
		}
	}
	outcome_free(&out);
	model_free(m);
	return found;
}

int main(int argc, char **argv)
{
	const struct injected_bug *bugs = model_injected_bugs();
	struct target_config cfg = { 0 };
	struct error err;
	struct trace *v = NULL;
	struct target *lx;
	const char *example = NULL;
	unsigned n = 0, failures = 0, runs_unturned = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: test_inject CORPUS_DIR [MORE_DIRS...]\n");
		return 2;
	}
	unsetenv("EPOLLFUZZ_INJECT");
	for (int a = 1; a < argc; a++)
		n = load_corpus(argv[a], &v, n);
	lx = linux_target.open(&cfg, &err);
	if (!lx) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	for (unsigned i = 0; i < n; i++)
		if (linux_target.run(lx, &v[i].p, &v[i].linux_out, &err) < 0) {
			fprintf(stderr, "%s: %s\n", v[i].path, err.msg);
			return 2;
		}
	linux_target.close(lx);

	unsigned clean = count_exposing(v, n, &(struct target_config){ .inject = "" },
					&example, &runs_unturned);
	if (clean) {
		printf("FAIL the model without injected bugs departs on %u traces (e.g. %s)\n",
		       clean, example);
		failures++;
	}
	/* a turned first order departs from Linux on some racing trace, so
	 * the search must run (more runs), and find Linux's order */
	unsigned searched = 0;
	for (unsigned seed = 1; seed <= 8; seed++) {
		unsigned runs = 0;
		struct target_config seeded = { .inject = "", .schedule_seed = seed };

		clean = count_exposing(v, n, &seeded, &example, &runs);
		printf("%s schedule seed %u: %u of %u traces depart, %u model runs "
		       "(%u from the usual order)\n", clean ? "FAIL" : "ok  ",
		       seed, clean, n, runs, runs_unturned);
		failures += clean != 0;
		searched += runs > runs_unturned;
	}
	if (!searched) {
		printf("FAIL no schedule seed made the model search\n");
		failures++;
	}
	for (unsigned k = 0; k < INJECT_COUNT; k++) {
		unsigned found = count_exposing(v, n, &(struct target_config){
						.inject = bugs[k].name }, &example, NULL);

		printf("%s %-22s %3u of %u traces%s%s\n", found ? "ok  " : "FAIL",
		       bugs[k].name, found, n, found ? ", e.g. " : "",
		       found ? example : "");
		failures += !found;
	}
	for (unsigned i = 0; i < n; i++) {
		program_free(&v[i].p);
		outcome_free(&v[i].linux_out);
	}
	free(v);
	return failures ? 1 : 0;
}
