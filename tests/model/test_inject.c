/*
 * test_inject.c - every injected model bug is exposed by at least one
 * shipped corpus trace, run against Linux; and without injection the
 * same traces agree.  Usage: test_inject CORPUS_DIR
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

static unsigned load_corpus(const char *dir, struct trace **out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct trace *v = NULL;
	unsigned n = 0;
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

/* Traces on which a model with these injected bugs departs from Linux. */
static unsigned count_exposing(struct trace *v, unsigned n, const char *inject,
			       const char **example)
{
	struct target_config cfg = { .inject = inject };
	struct error err;
	struct model *m = model_new(&cfg, &err);
	struct outcome out;
	unsigned found = 0;

	if (!m) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	outcome_init(&out);
	for (unsigned i = 0; i < n; i++) {
		struct verdict verdict;

		model_run_like(m, &v[i].p, &v[i].linux_out, &out, NULL, &err);
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
	struct trace *v;
	struct target *lx;
	const char *example = NULL;
	unsigned n, failures = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test_inject CORPUS_DIR\n");
		return 2;
	}
	unsetenv("EPOLLFUZZ_INJECT");
	n = load_corpus(argv[1], &v);
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

	unsigned clean = count_exposing(v, n, "", &example);
	if (clean) {
		printf("FAIL the model without injected bugs departs on %u traces (e.g. %s)\n",
		       clean, example);
		failures++;
	}
	for (unsigned k = 0; k < INJECT_COUNT; k++) {
		unsigned found = count_exposing(v, n, bugs[k].name, &example);

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
