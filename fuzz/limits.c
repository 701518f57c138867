/*
 * limits.c - the shape of fuzzed programs, read once from the environment.
 *
 * The fuzz targets decode their inputs with these limits and seedgen
 * encodes the corpus with them, so both read the same variable with the
 * same default: a seed decodes to its trace only under the thread count it
 * was encoded for.
 */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"

int fuzz_limits(struct decode_limits *lim, struct error *err)
{
	const char *text = getenv(FUZZ_THREADS_ENV);
	unsigned long threads = FUZZ_DEFAULT_THREADS;

	if (text) {
		char *end;

		errno = 0;
		threads = strtoul(text, &end, 10);
		if (text[0] < '0' || text[0] > '9' || *end || errno ||
		    threads < 1 || threads > FUZZ_MAX_THREADS)
			return fail(err, "%s='%s': expected a thread count from 1 to %d",
				    FUZZ_THREADS_ENV, text, FUZZ_MAX_THREADS);
	}
	*lim = (struct decode_limits){ FUZZ_MAX_OPS, (unsigned)threads };
	return 0;
}
