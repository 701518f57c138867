/*
 * fuzz.h - what the fuzz targets and the seed generator agree on.
 */
#ifndef EPOLLFUZZ_FUZZ_H
#define EPOLLFUZZ_FUZZ_H

#include <stdio.h>

#include "trace.h"

/*
 * The shape of fuzzed programs.  One thread for now: nothing blocks, so
 * every run is deterministic on both targets.  seedgen encodes the corpus
 * with the same limits, so that seeds decode to the corpus programs.
 */
#define FUZZ_MAX_OPS 64
#define FUZZ_MAX_THREADS 1

static inline struct decode_limits fuzz_limits(void)
{
	return (struct decode_limits){ FUZZ_MAX_OPS, FUZZ_MAX_THREADS };
}

/* The program with one outcome, as JSON when the codec can, else as one
 * line per step. */
void fuzz_print_trace(FILE *f, const struct program *p,
		      const struct outcome *out);

#endif
