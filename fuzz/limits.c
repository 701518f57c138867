/*
 * limits.c - the shape of fuzzed programs, read once from the environment.
 *
 * The fuzz targets decode their inputs with these limits and seedgen
 * encodes the corpus with them, so both read the same variable with the
 * same default: a seed decodes to its trace only under the thread count it
 * was encoded for.  EPOLLFUZZ_PROFILE names the profile programs are drawn
 * inside (profile.h; `epollfuzz fuzz --profile` sets it for afl-fuzz).
 */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "profile.h"

#define PROFILE_ENV "EPOLLFUZZ_PROFILE"

static int profile_from_env(struct decode_limits *lim, struct error *err)
{
	const char *name = getenv(PROFILE_ENV);
	enum profile prof;
	struct error why;

	if (!name || !*name)
		return 0;
	if (profile_by_name(name, &prof, &why) < 0)
		return fail(err, "%s: %s", PROFILE_ENV, why.msg);
	lim->profile = prof;
	return 0;
}

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
	*lim = (struct decode_limits){ FUZZ_MAX_OPS, (unsigned)threads, PROFILE_ANY };
	return profile_from_env(lim, err);
}
