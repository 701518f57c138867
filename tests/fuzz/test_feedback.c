/*
 * test_feedback.c - the outcome features a run adds to libFuzzer's
 * coverage (fuzz/feedback.c): states that run the same model lines but
 * differ at a kernel boundary or in an interest's mode are told apart; a
 * call that failed counts as one feature however often it fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "model.h"

static unsigned failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);        \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			failed++;                                              \
		}                                                              \
	} while (0)

/* The counters a run of the ops (a JSON array's insides) on the model
 * bumps. */
static uint8_t *features_of(struct model *m, const char *ops)
{
	char text[2048];
	struct program p;
	struct outcome out;
	struct error err;
	uint8_t *c = calloc(FEEDBACK_COUNTERS, 1);

	snprintf(text, sizeof(text), "{\"epollfuzz\": 1, \"ops\": [%s]}", ops);
	outcome_init(&out);
	if (!c || trace_parse(text, strlen(text), &p, NULL, &err) < 0 ||
	    model_run(m, &p, &out, &err) < 0) {
		fprintf(stderr, "%s: %s\n", ops, err.msg);
		exit(2);
	}
	fuzz_feedback_walk(c, &p, &out);
	program_free(&p);
	outcome_free(&out);
	return c;
}

static unsigned count(const uint8_t *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FEEDBACK_COUNTERS; i++)
		n += c[i] != 0;
	return n;
}

/* Counters a has that b has not. */
static unsigned only_in(const uint8_t *a, const uint8_t *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FEEDBACK_COUNTERS; i++)
		n += a[i] && !b[i];
	return n;
}

#define PIPE "{\"op\": \"pipe2\", \"flags\": \"O_NONBLOCK\"}"
#define WATCH(mode)                                                            \
	"{\"op\": \"epoll_create1\"}, " PIPE ", {\"op\": \"epoll_ctl\", "      \
	"\"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 4, \"events\": \""   \
	mode "\"}, {\"op\": \"write\", \"fd\": 5}, "                           \
	"{\"op\": \"epoll_wait\", \"epfd\": 3, \"timeout\": 0}, "              \
	"{\"op\": \"epoll_wait\", \"epfd\": 3, \"timeout\": 0}"

int main(void)
{
	struct error err;
	struct model *m = model_new(NULL, &err);
	uint8_t *one, *full, *lt, *oneshot, *pipe_only, *fails, *again;

	if (!m) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	/* a pipe written one byte, and to its last page: the same lines */
	one = features_of(m, PIPE ", {\"op\": \"write\", \"fd\": 4, \"len\": 1}");
	full = features_of(m, PIPE ", {\"op\": \"write\", \"fd\": 4, \"len\": 65536}");
	CHECK(only_in(full, one) > 0, "a full pipe shows nothing a one-byte write does not");

	/* the second wait of a oneshot interest finds nothing, a level-
	 * triggered one finds the data again */
	lt = features_of(m, WATCH("EPOLLIN"));
	oneshot = features_of(m, WATCH("EPOLLIN|EPOLLONESHOT"));
	CHECK(only_in(oneshot, lt) > 0 && only_in(lt, oneshot) > 0,
	      "a oneshot interest's waits look like a level-triggered one's");

	/* a failing call is one feature, however often it fails */
	pipe_only = features_of(m, PIPE);
	fails = features_of(m, PIPE ", {\"op\": \"write\", \"fd\": 9}");
	again = features_of(m, PIPE ", {\"op\": \"write\", \"fd\": 9}, "
			       "{\"op\": \"write\", \"fd\": 9}, {\"op\": \"write\", \"fd\": 9}");
	CHECK(count(fails) == count(pipe_only) + 1,
	      "a failed write adds %u features, not 1", count(fails) - count(pipe_only));
	CHECK(count(again) == count(fails), "three failed writes add %u features, not 1",
	      count(again) - count(pipe_only));

	printf("test_feedback: features one-byte %u, full page %u, level %u, oneshot %u; "
	       "%u failed\n", count(one), count(full), count(lt), count(oneshot), failed);
	free(one), free(full), free(lt), free(oneshot);
	free(pipe_only), free(fails), free(again);
	model_free(m);
	return failed ? 1 : 0;
}
