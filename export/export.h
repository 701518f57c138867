/*
 * export.h - a trace with its recorded outcome as a standalone program that
 * replays it and checks every result against the outcomes the kernel
 * allows: a C program (libc and pthreads only) that runs it as the oracle
 * does, or a Rust test in the style of Miri's epoll tests (std and the libc
 * crate only), for Miri's test suite.
 */
#ifndef EPOLLFUZZ_EXPORT_H
#define EPOLLFUZZ_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "trace.h"

/* The reproducer tells at most this many allowed outcomes apart (the
 * recording among them). */
#define EXPORT_MAX_OUTCOMES 64

struct export_options {
	const char *source; /* the trace's file name, for the header; may be NULL */
	const char *tool;   /* "epollfuzz 0.1.0" */
	/*
	 * Where woken threads race, the outcomes the kernel allows (the
	 * model's: model_run_all), and whether that set was cut short.  When
	 * the recording is one of them, the program accepts a run equal to
	 * any (the recording first); when it is not, the model departs from
	 * Linux here and only the recording is accepted.  NULL: the recording
	 * alone.
	 */
	const struct outcome *allowed;
	unsigned nallowed;
	bool allowed_cut;
	/* export_rust: export a trace that uses what Miri cannot run anyway,
	 * with a comment at each such op (else that is an error). */
	bool allow_unsupported;
	/* export_rust: lay the test out as Miri's rustfmt.toml wants it
	 * (use_small_heuristics = "Max") rather than as rustfmt's defaults. */
	bool miri_rustfmt;
};

/* rec must hold one record per op (any target's outcome; normally Linux's).
 * The trace's meta (verdict, model outcome, kernel) goes into the opening
 * comment.  Returns -1 when rec does not fit p or writing fails. */
int export_c(FILE *f, const struct program *p, const struct outcome *rec,
	     const struct export_options *opt, struct error *err);

/*
 * The same as one Rust test file for Miri's suite (tests/pass-dep/libc/):
 * Miri's header lines, an opening comment (source, divergence, kernel),
 * and one fn main that makes each call and asserts what Linux returned.
 * A trace outside Miri's subset (profile.h, PROFILE_MIRI) is refused with
 * err naming the step, the op and why, unless opt->allow_unsupported.
 */
int export_rust(FILE *f, const struct program *p, const struct outcome *rec,
		const struct export_options *opt, struct error *err);

#endif
