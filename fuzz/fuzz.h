/*
 * fuzz.h - what the fuzz targets and the seed generator agree on.
 */
#ifndef EPOLLFUZZ_FUZZ_H
#define EPOLLFUZZ_FUZZ_H

#include <stdio.h>

#include "trace.h"

/*
 * The shape of fuzzed programs.  The thread count is a runtime setting,
 * EPOLLFUZZ_THREADS (1..FUZZ_MAX_THREADS, default FUZZ_DEFAULT_THREADS):
 * with 1 nothing blocks and every run is deterministic on both targets;
 * with more, threads block in epoll_wait and may race.  seedgen encodes the
 * corpus with the same limits, read the same way, so that seeds decode to
 * the corpus programs: build the seeds and fuzz under the same setting.
 */
#define FUZZ_MAX_OPS 64
#define FUZZ_DEFAULT_THREADS 4
#define FUZZ_MAX_THREADS MAX_THREADS
#define FUZZ_THREADS_ENV "EPOLLFUZZ_THREADS"

/* The decode limits under EPOLLFUZZ_THREADS; -1 when it is malformed. */
int fuzz_limits(struct decode_limits *lim, struct error *err);

/* The program with one outcome, as JSON when the codec can, else as one
 * line per step. */
void fuzz_print_trace(FILE *f, const struct program *p,
		      const struct outcome *out);

/* ------------------------------------------------------------ files.c */

/* A path built from pieces, or an error when it does not fit. */
int path_printf(char *buf, size_t len, struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* mkdir, where a directory already there is fine. */
int make_dir(const char *path, struct error *err);
/* Writes data to path through a temporary file and a rename, so that a
 * reader never sees half a file. */
int write_atomically(const char *path, const void *data, size_t len,
		     struct error *err);

#endif
