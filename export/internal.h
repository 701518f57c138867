/*
 * internal.h - the exporter's pieces, private to export/.
 *
 *   text.c     results and field values as text, as the reproducer prints
 *              and compiles them
 *   header.c   the reproducer's opening comment
 *   export.c   the tables for one trace, and the runtime around them
 *   rust*.c    the Rust test (rust.h)
 */
#ifndef EPOLLFUZZ_EXPORT_INTERNAL_H
#define EPOLLFUZZ_EXPORT_INTERNAL_H

#include <jansson.h>

#include "export.h"

/* A bounded string being appended to; output past the end is dropped. */
struct text {
	char buf[4096];
	size_t used;
};

void tx_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tx_reset(struct text *t);

/* Results as text, exactly as the runtime's append_result() prints them:
 * "3", "-1 EBADF", "0 fds=[4,5]", "8 value=1", "1 [EPOLLIN|EPOLLET:4]". */
void tx_result(struct text *t, const struct outcome *o, const struct result *res);
/* A step's own result: a value, "blocked" or "skipped (blocked)". */
void tx_record(struct text *t, const struct outcome *o,
	       const struct step_record *rec);
/* The blocked steps a step completed: "t1 step 3 = 1 [EPOLLIN:4], ...". */
void tx_woke(struct text *t, const struct outcome *o,
	     const struct step_record *rec);
/* What is still blocked at the end: "t1 step 3, t2 step 5"; "" for none. */
void tx_still_blocked(struct text *t, const struct outcome *o);
/* The op as epollfuzz prints it, without its thread. */
void tx_call(struct text *t, const struct op *op);
/* A field of op as a C expression, flags by name: "EPOLLIN|EPOLLET". */
void tx_c_field(struct text *t, const struct op *op, const struct field_desc *fd);

/* A C string literal: quotes and backslashes escaped. */
void put_c_string(FILE *f, const char *s);

/* What the opening comment is made from. */
struct export_context {
	const struct program *p;
	const struct outcome *rec;   /* the recording the program checks */
	const struct export_options *opt;
	const json_t *meta;          /* the trace's meta, or NULL */
	struct outcome model;        /* meta.outcomes.model, when has_model */
	bool has_model;
	/* The other outcomes the program accepts (opt->allowed without the
	 * recording), by number: outcome k + 1 is others[k]. */
	const struct outcome *others[EXPORT_MAX_OUTCOMES];
	unsigned nothers;
	bool model_disagrees; /* the model's set lacks the recording */
	bool cut;             /* more than EXPORT_MAX_OUTCOMES: some left out */
};

/* The whole comment, from "/" "*" to its end. */
void emit_header(FILE *f, const struct export_context *cx);

/* ------------------------------------------------------------------------
 * Shared by the exporters (export.c, header.c).
 */

/* -1 (err says why) unless o holds one record per op of p, in order, each
 * a result a test can compare with. */
int export_check_outcome(const struct program *p, const struct outcome *o,
			 struct error *err);

/* The other outcomes a test accepts besides the recording. */
struct export_others {
	const struct outcome *others[EXPORT_MAX_OUTCOMES];
	unsigned n;
	bool model_disagrees; /* the model's set lacks the recording */
	bool cut;             /* more than EXPORT_MAX_OUTCOMES: some left out */
};
void export_pick_others(const struct program *p, const struct outcome *rec,
			const struct export_options *opt, struct export_others *o);

/* meta.outcomes.NAME (a target's outcome in a finding) into out, which the
 * caller has initialised; false when the trace has none. */
bool export_load_outcome(const struct program *p, const json_t *meta,
			 const char *name, struct outcome *out);

/* meta[key] when it is a string, else NULL. */
const char *export_meta_string(const json_t *meta, const char *key);

#endif
