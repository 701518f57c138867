/*
 * expect.h - the model tests' one check: a failed condition is printed
 * with its place and counted in the test's `failed`, and the test goes on.
 */
#ifndef EPOLLFUZZ_TESTS_MODEL_EXPECT_H
#define EPOLLFUZZ_TESTS_MODEL_EXPECT_H

#include <stdio.h>

static unsigned failed;

#define EXPECT(cond, ...)                                                  \
	do {                                                               \
		if (!(cond)) {                                             \
			failed++;                                          \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

#endif
