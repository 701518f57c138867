/* check.h - the few assertions the fuzz-suite tests need. */
#ifndef EPOLLFUZZ_TESTS_CHECK_H
#define EPOLLFUZZ_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

struct checks {
	unsigned run, failed;
};

#define CHECK(c, cond, ...)                                                \
	do {                                                               \
		(c)->run++;                                                \
		if (!(cond)) {                                             \
			(c)->failed++;                                     \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

#define CHECK_STR(c, got, want)                                            \
	CHECK(c, strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"", (got), (want))

static inline int checks_report(const struct checks *c, const char *name)
{
	printf("%s: %u checks, %u failed\n", name, c->run, c->failed);
	return c->failed ? 1 : 0;
}

#endif
