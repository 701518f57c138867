/*
 * test_long_race.c - the model's search of racing orders has no length
 * limit: a race met after many others is searched like the first.
 *
 * Two readers sleep on a blocking eventfd and 70 writes of 0 wake them
 * both, one choice point each (eventfd_write wakes every sleeper; the
 * readers find nothing and sleep again); then two other readers sleep on a
 * second eventfd and one write of 1 wakes them: whichever runs first takes
 * the count, and nothing before that choice decides it (its queue is
 * another).  Linux gives either (racy/mt-eventfd-two-blocked-readers-one-
 * write), so the model must allow both: model_run_all yields two
 * outcomes, and model_run_like accepts each as a reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "expect.h"

#define ZERO_WRITES 70
#define MAX 8

static size_t put(char *buf, size_t len, size_t at, const char *text)
{
	size_t n = strlen(text);

	if (at + n < len)
		memcpy(buf + at, text, n + 1);
	return at + n;
}

/* The program as a trace: fds 3 and 4 are the two eventfds. */
static size_t long_race_json(char *buf, size_t len)
{
	size_t at = 0;

	at = put(buf, len, at, "{\"epollfuzz\": 1, \"threads\": 5, \"ops\": ["
			       "{\"op\": \"eventfd\"}, {\"op\": \"eventfd\"},"
			       "{\"op\": \"read\", \"t\": 1, \"fd\": 3},"
			       "{\"op\": \"read\", \"t\": 2, \"fd\": 3},"
			       "{\"op\": \"read\", \"t\": 3, \"fd\": 4},"
			       "{\"op\": \"read\", \"t\": 4, \"fd\": 4}");
	for (unsigned i = 0; i < ZERO_WRITES; i++)
		at = put(buf, len, at, ", {\"op\": \"write\", \"fd\": 3, \"value\": 0}");
	return put(buf, len, at, ", {\"op\": \"write\", \"fd\": 4, \"value\": 1}]}");
}

int main(void)
{
	static char text[8192];
	struct target_config cfg = { 0 };
	struct outcome outs[MAX];
	struct program p;
	struct error err;
	struct model *m;
	unsigned n = 0;
	bool cut = false;
	size_t len = long_race_json(text, sizeof(text));

	if (len >= sizeof(text) || trace_parse(text, len, &p, NULL, &err) < 0) {
		fprintf(stderr, "the program: %s\n", len >= sizeof(text) ? "too long" : err.msg);
		return 1;
	}
	if (!(m = model_new(&cfg, &err))) {
		fprintf(stderr, "model_new: %s\n", err.msg);
		return 1;
	}
	EXPECT(model_run_all(m, &p, outs, MAX, &n, &cut, &err) == 0, "model_run_all: %s", err.msg);
	EXPECT(n == 2, "%u outcomes, want 2: either reader of the second eventfd takes its count", n);
	for (unsigned i = 0; i < n; i++) {
		struct outcome out;
		struct verdict v;

		outcome_init(&out);
		EXPECT(model_run_like(m, &p, &outs[i], &out, NULL, &err) == 0, "run_like: %s", err.msg);
		compare_outcomes(&p, &out, &outs[i], &v);
		EXPECT(v.cls == VERDICT_AGREE, "outcome %u not found by the search (step %u)", i, v.step);
		outcome_free(&out);
		outcome_free(&outs[i]);
	}
	model_free(m);
	program_free(&p);
	printf("%s: %u outcomes of a race after %u others\n", failed ? "FAIL" : "ok", n,
	       ZERO_WRITES);
	return failed ? 1 : 0;
}
