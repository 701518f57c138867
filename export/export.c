/*
 * export.c - a trace with its recorded outcome as a standalone C program.
 *
 * The program is the reproducer's runtime, written out of the very files
 * the build compiles (export/runtime/, and the oracle's settle.c and
 * settle.h: embedded.h), around tables generated here for one trace: each
 * op's fields as a struct, from the op table; the steps with their
 * arguments and recorded results as text, in the format the runtime
 * prints, so that checking a result is comparing strings; where the other
 * outcomes the kernel allows differ from the recording; and the names
 * results are printed with.  The generated file is one C file, with
 * nothing to fetch: `#include "X"` of an embedded file writes X in place.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "internal.h"

static bool op_used(const struct program *p, unsigned kind)
{
	for (unsigned i = 0; i < p->nops; i++)
		if (p->ops[i].kind == kind)
			return true;
	return false;
}

/* Whether the trace uses an op of this kind with fields to pass. */
static bool op_has_args(const struct program *p, unsigned kind)
{
	return op_table[kind].nfields > 0 && op_used(p, kind);
}

/* ------------------------------------------------------------------------
 * The runtime, out of the embedded files.
 */

struct writer {
	FILE *f;
	const struct program *p;
	uint32_t written; /* bit i: embedded_files[i] is out already */
	struct error *err;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* An embedded file by its path in the source tree, or by its base name as
 * an #include names it. */
static int embedded_index(const char *name)
{
	for (int i = 0; embedded_files[i].name; i++)
		if (strcmp(embedded_files[i].name, name) == 0 ||
		    strcmp(base_name(embedded_files[i].name), name) == 0)
			return i;
	return -1;
}

/* The NAME of a line `#include "NAME"`; false for any other line. */
static bool local_include(const char *line, char *name, size_t len)
{
	static const char directive[] = "#include \"";
	const char *end;

	if (strncmp(line, directive, sizeof(directive) - 1) != 0)
		return false;
	line += sizeof(directive) - 1;
	if (!(end = strchr(line, '"')) || (size_t)(end - line) >= len)
		return false;
	memcpy(name, line, (size_t)(end - line));
	name[end - line] = '\0';
	return true;
}

enum { NOT_A_SECTION = -1, UNKNOWN_OP = -2 };

/* A line "/" "* op: NAME *" "/" starts the section of calls.c for an op:
 * its kind, UNKNOWN_OP for a name the op table lacks, or NOT_A_SECTION. */
static int section_op(const char *line)
{
	static const char mark[] = "/* op: ";

	if (strncmp(line, mark, sizeof(mark) - 1) != 0)
		return NOT_A_SECTION;
	line += sizeof(mark) - 1;
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		size_t n = strlen(op_table[k].name);

		if (strncmp(line, op_table[k].name, n) == 0 && strcmp(line + n, " */") == 0)
			return (int)k;
	}
	return UNKNOWN_OP;
}

static int put_file(struct writer *w, const char *name);

/*
 * One embedded file as it is, except that `#include "X"` of an embedded
 * file writes X there the first time and nothing after, and that the
 * section of an op the trace does not use is left out.
 */
static int put_lines(struct writer *w, const char *file)
{
	const char *const *line = embedded_files[embedded_index(file)].lines;
	bool keep = true;
	char name[128];

	for (; *line; line++) {
		int op = section_op(*line);

		if (op == UNKNOWN_OP)
			return fail(w->err, "%s: a section for an op the op table lacks: %s",
				    file, *line);
		if (op != NOT_A_SECTION)
			keep = op_used(w->p, (unsigned)op);
		if (!keep)
			continue;
		if (local_include(*line, name, sizeof(name))) {
			if (put_file(w, name) < 0)
				return -1;
			continue;
		}
		fprintf(w->f, "%s\n", *line);
	}
	return 0;
}

static int put_file(struct writer *w, const char *name)
{
	int i = embedded_index(name);

	if (i < 0)
		return fail(w->err, "the runtime file %s is not embedded "
			    "(export/meson.build)", name);
	if (w->written & (1u << i))
		return 0;
	w->written |= 1u << i;
	fprintf(w->f, "\n/* ---- %s ---- */\n\n", embedded_files[i].name);
	return put_lines(w, embedded_files[i].name);
}

/* ------------------------------------------------------------------------
 * The tables for one trace.
 */

/* struct NAME_args and union args for the ops the trace uses, from the op
 * table; the lengths a read or write leaves out. */
static void emit_args(FILE *f, const struct program *p)
{
	const char *sep = "";

	fputs("/* Each op's fields, in the order of its call (epollfuzz's op table);\n"
	      " * an op without fields (exit) has none here. */\n", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct op_desc *d = &op_table[k];

		if (!op_has_args(p, k))
			continue;
		fprintf(f, "struct %s_args { long long ", d->name);
		for (unsigned i = 0; i < d->nfields; i++)
			fprintf(f, "%s%s", i ? ", " : "", d->fields[i].name);
		fputs("; };\n", f);
	}
	fputs("\nunion args {\n", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++)
		if (op_has_args(p, k))
			fprintf(f, "\tstruct %s_args %s;\n", op_table[k].name,
				op_table[k].name);
	fputs("};\n", f);

	fputs("\n/* A length the trace leaves out (-1 below): 8 on an eventfd, else these. */\n"
	      "enum {", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct field_desc *fd = op_field(k, F_LEN);

		if (fd && fd->defkind == DEF_RUNTIME) {
			fprintf(f, "%s %s_len_default = %" PRId64, sep,
				op_table[k].name, fd->def);
			sep = ",";
		}
	}
	fputs(" };\n", f);
}

static void emit_step(FILE *f, const struct export_context *cx, unsigned i)
{
	const struct op *op = &cx->p->ops[i];
	const struct op_desc *d = &op_table[op->kind];
	const struct step_record *rec = &cx->rec->steps[i];
	struct text t = { .used = 0 };

	fprintf(f, "\t/* %u */ { %u, &op_%s, ", i, op->t, d->name);
	if (d->nfields) {
		fprintf(f, "ARGS(%s", d->name);
		for (unsigned k = 0; k < d->nfields; k++) {
			tx_reset(&t);
			tx_c_field(&t, op, &d->fields[k]);
			fprintf(f, ", %s", t.buf);
		}
		fputs(")", f);
	} else {
		fputs("NULL", f);
	}
	fputs(",\n\t\t", f);
	tx_reset(&t);
	tx_call(&t, op);
	put_c_string(f, t.buf);
	fputs(", ", f);
	tx_reset(&t);
	tx_record(&t, cx->rec, rec);
	put_c_string(f, t.buf);
	fputs(",", f);
	if (rec->done_count) {
		fputs("\n\t\t", f);
		tx_reset(&t);
		tx_woke(&t, cx->rec, rec);
		put_c_string(f, t.buf);
	} else {
		fputs(" NULL", f);
	}
	fputs(" },\n", f);
}

static void emit_steps(FILE *f, const struct export_context *cx)
{
	struct text t = { .used = 0 };

	fprintf(f, "\nconst unsigned nthreads = %u; /* simulated threads */\n"
		"const int fd_limit = %d; /* RLIMIT_NOFILE while the trace runs */\n",
		cx->p->threads, FD_LIMIT);
	fputs("\n/* The ops this trace uses (below). */\n", f);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++)
		if (op_used(cx->p, k))
			fprintf(f, "static const struct op_kind op_%s;\n", op_table[k].name);
	fputs("\n#define ARGS(op, ...) (&(const union args){ .op = { __VA_ARGS__ } })\n"
	      "\n/*\n"
	      " * The trace: { thread, op, its fields }, the op as epollfuzz prints it,\n"
	      " * the recorded result, and the blocked steps it woke (thread, step, result).\n"
	      " */\n"
	      "const struct step steps[] = {\n", f);
	for (unsigned i = 0; i < cx->p->nops; i++)
		emit_step(f, cx, i);
	fputs("};\n\nconst unsigned nsteps = sizeof(steps) / sizeof(steps[0]);\n"
	      "\n/* Threads still blocked after the last step. */\n"
	      "const char *const still_blocked_at_end = ", f);
	tx_still_blocked(&t, cx->rec);
	if (t.used)
		put_c_string(f, t.buf);
	else
		fputs("NULL", f);
	fputs(";\n", f);
}

/* What outcome o has at step i, as the tables say it: the result and the
 * blocked steps it woke; at the end (i == nops), what is still blocked. */
static void outcome_said(const struct program *p, const struct outcome *o,
			 unsigned i, struct text *result, struct text *woke)
{
	tx_reset(result);
	tx_reset(woke);
	if (i == p->nops) {
		tx_still_blocked(result, o);
		return;
	}
	tx_record(result, o, &o->steps[i]);
	tx_woke(woke, o, &o->steps[i]);
}

static bool same_said(const struct text *r1, const struct text *w1,
		      const struct text *r2, const struct text *w2)
{
	return strcmp(r1->buf, r2->buf) == 0 && strcmp(w1->buf, w2->buf) == 0;
}

/* Allowed outcome k (0 the recording). */
static const struct outcome *outcome_no(const struct export_context *cx,
					unsigned k)
{
	return k == 0 ? cx->rec : cx->others[k - 1];
}

/* One row of others[] for each step and text where some other allowed
 * outcomes differ from the recording: the outcomes that have it. */
static void emit_other_rows(FILE *f, const struct export_context *cx,
			    unsigned i)
{
	unsigned n = cx->nothers + 1;
	uint64_t done = 0;
	struct text rr, rw, kr, kw, mr, mw;

	outcome_said(cx->p, cx->rec, i, &rr, &rw);
	for (unsigned k = 1; k < n; k++) {
		const char *sep = "";

		outcome_said(cx->p, outcome_no(cx, k), i, &kr, &kw);
		if ((done >> k & 1) || same_said(&kr, &kw, &rr, &rw))
			continue;
		fprintf(f, "\t{ %u, ", i);
		for (unsigned m = k; m < n; m++) {
			outcome_said(cx->p, outcome_no(cx, m), i, &mr, &mw);
			if (!same_said(&kr, &kw, &mr, &mw))
				continue;
			done |= (uint64_t)1 << m;
			fprintf(f, "%sO(%u)", sep, m);
			sep = " | ";
		}
		fputs(", ", f);
		put_c_string(f, kr.buf);
		fputs(", ", f);
		if (kw.used)
			put_c_string(f, kw.buf);
		else
			fputs("NULL", f);
		fputs(" },\n", f);
	}
}

static void emit_others(FILE *f, const struct export_context *cx)
{
	fprintf(f, "\n/* The recording (outcome 0) and the other outcomes the kernel allows. */\n"
		"const unsigned noutcomes = %u;\n", cx->nothers + 1);
	if (cx->nothers == 0) {
		fputs("\n/* Where other allowed outcomes differ from the recording: none, the\n"
		      " * recording is the only outcome allowed. */\n"
		      "const struct other others[1] = { { 0, 0, \"\", NULL } };\n"
		      "const unsigned nothers = 0;\n", f);
		return;
	}
	fprintf(f, "\n#define O(k) ((outcome_set)1 << (k))\n"
		"\n/*\n"
		" * Where the other allowed outcomes differ from the recording (woken\n"
		" * threads raced another way): { step, the outcomes that have it, the\n"
		" * result, the blocked steps it woke }.  Step %u: still blocked at the end.\n"
		" */\n"
		"const struct other others[] = {\n", cx->p->nops);
	for (unsigned i = 0; i <= cx->p->nops; i++)
		emit_other_rows(f, cx, i);
	fputs("};\n\nconst unsigned nothers = sizeof(others) / sizeof(others[0]);\n", f);
}

/* The names the runtime prints results with, from the project's tables. */
static void emit_names(FILE *f)
{
	unsigned col = 0;

	fputs("\nconst struct flag_name epoll_event_names[] = {\n", f);
	for (const struct flag_name *n = epoll_event_names; n->name; n++)
		fprintf(f, "\t{ \"%s\", %s },\n", n->name, n->name);
	fputs("\t{ NULL, 0 },\n};\n\n"
	      "const struct errno_name errno_names[] = {", f);
	for (int e = 1; e < 256; e++) {
		const char *name = errno_name(e);

		if (name[1] >= '0' && name[1] <= '9')
			continue; /* unnamed: "E<number>" */
		fprintf(f, "%s{ \"%s\", %s },", col++ % 4 ? " " : "\n\t", name, name);
	}
	fputs("\n\t{ NULL, 0 },\n};\n", f);
}

static void emit_tables(FILE *f, const struct export_context *cx)
{
	fputs("\n/* ======================================================================\n"
	      " * The trace, generated by epollfuzz.\n"
	      " */\n\n", f);
	emit_args(f, cx->p);
	emit_steps(f, cx);
	emit_others(f, cx);
	emit_names(f);
}

/* ------------------------------------------------------------------------
 * Checks, the allowed outcomes and the model's outcome.
 */

/* An outcome must hold one record per op, in order, each one a result the
 * program can compare with. */
int export_check_outcome(const struct program *p, const struct outcome *o,
			 struct error *err)
{
	if (o->nsteps == 0)
		return fail(err, "the trace has no outcome");
	if (o->nsteps != p->nops)
		return fail(err, "the outcome has %u step records for %u ops (%s)",
			    o->nsteps, p->nops,
			    o->unsupported[0] ? o->unsupported : "a partial run");
	for (uint32_t i = 0; i < o->nsteps; i++) {
		if (o->steps[i].step != i)
			return fail(err, "outcome record %u is for step %u", i,
				    o->steps[i].step);
		if (o->steps[i].state == STEP_UNSUPPORTED)
			return fail(err, "outcome step %u: unsupported", i);
	}
	return 0;
}

static bool same_outcome(const struct program *p, const struct outcome *a,
			 const struct outcome *b)
{
	struct verdict v;

	compare_outcomes(p, a, b, &v);
	return v.cls == VERDICT_AGREE;
}

/*
 * The other outcomes a test accepts: the allowed set without the recording,
 * when the recording is in it (otherwise the model departs from Linux here,
 * and its set is no guide).  Outcomes a test could not check (a step the
 * model cannot run, a broken invariant) are left out.
 */
void export_pick_others(const struct program *p, const struct outcome *rec,
			const struct export_options *opt, struct export_others *o)
{
	bool recorded = false;

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < opt->nallowed; i++)
		recorded |= same_outcome(p, &opt->allowed[i], rec);
	o->model_disagrees = opt->nallowed > 0 && !recorded;
	if (!recorded)
		return;
	for (unsigned i = 0; i < opt->nallowed; i++) {
		const struct outcome *a = &opt->allowed[i];

		if (same_outcome(p, a, rec) || a->violation.broken ||
		    export_check_outcome(p, a, NULL) < 0)
			continue;
		if (o->n + 1 == EXPORT_MAX_OUTCOMES) {
			o->cut = true;
			break;
		}
		o->others[o->n++] = a;
	}
}

static void pick_others(struct export_context *cx)
{
	struct export_others o;

	export_pick_others(cx->p, cx->rec, cx->opt, &o);
	memcpy(cx->others, o.others, sizeof(o.others));
	cx->nothers = o.n;
	cx->model_disagrees = o.model_disagrees;
	cx->cut = o.cut;
}

/* meta.outcomes.NAME, parsed with the trace codec: the program with that
 * outcome in place of its own. */
bool export_load_outcome(const struct program *p, const json_t *meta,
			 const char *name, struct outcome *out)
{
	const json_t *m = json_object_get(json_object_get(meta, "outcomes"), name);
	struct program bare = *p, parsed;
	struct error err;
	json_t *root;
	char *text = NULL;
	int rc = -1;

	if (!m)
		return false;
	bare.extras = NULL;
	root = trace_to_json(&bare, NULL);
	if (root && json_object_set(root, "outcome", (json_t *)m) == 0)
		text = trace_json_dumps(root, 0);
	json_decref(root);
	if (text)
		rc = trace_parse(text, strlen(text), &parsed, out, &err);
	free(text);
	if (rc < 0)
		return false;
	program_free(&parsed);
	return true;
}

/* ------------------------------------------------------------------------
 * The program.
 */

/* The runtime's types (with settle.h), settle.c, the tables, the calls the
 * trace makes, and the runtime proper. */
static int emit_program(FILE *f, const struct export_context *cx,
			struct error *err)
{
	struct writer w = { .f = f, .p = cx->p, .written = 0, .err = err };

	if (put_file(&w, "export/runtime/repro.h") < 0 ||
	    put_file(&w, "oracle/settle.c") < 0)
		return -1;
	emit_tables(f, cx);
	if (put_file(&w, "export/runtime/calls.c") < 0 ||
	    put_file(&w, "export/runtime/runtime.c") < 0)
		return -1;
	return 0;
}

int export_c(FILE *f, const struct program *p, const struct outcome *rec,
	     const struct export_options *opt, struct error *err)
{
	struct export_context cx = { .p = p, .rec = rec, .opt = opt };
	int rc;

	if (export_check_outcome(p, rec, err) < 0)
		return -1;
	if (p->threads < 1 || p->threads > MAX_THREADS)
		return fail(err, "%u threads: the reproducer runs 1 to %d",
			    p->threads, MAX_THREADS);
	pick_others(&cx);
	cx.meta = p->extras ? json_object_get(p->extras, "meta") : NULL;
	outcome_init(&cx.model);
	cx.has_model = cx.meta && export_load_outcome(p, cx.meta, "model", &cx.model);

	emit_header(f, &cx);
	rc = emit_program(f, &cx, err);

	outcome_free(&cx.model);
	if (rc < 0)
		return -1;
	if (fflush(f) != 0 || ferror(f))
		return fail(err, "write error");
	return 0;
}
