/*
 * compare.c - where two outcomes of one program part ways.
 *
 * The comparator knows nothing about targets: it walks the step records of
 * two outcomes in order and reports the first thing that differs, in a
 * fixed order of fields, so that one finding always gets the same
 * signature ("epoll_wait.events") and findings can be deduplicated by it.
 * Outcome a is the model by convention: its self-check violations take
 * precedence over divergences at later steps.
 */
#include <string.h>

#include "trace.h"

static const char *const state_names[] = {
	[STEP_DONE] = "done",
	[STEP_BLOCKED] = "blocked",
	[STEP_SKIPPED] = "skipped",
	[STEP_UNSUPPORTED] = "unsupported",
};

static const char *state_name(uint8_t state)
{
	return state <= STEP_UNSUPPORTED ? state_names[state] : "?";
}

static const char *op_name(const struct program *p, uint32_t step)
{
	if (step >= p->nops || p->ops[step].kind >= OP_KIND_COUNT)
		return "?";
	return op_table[p->ops[step].kind].name;
}

/* What differs between two results, if anything: the field's name and a
 * description with both values. */
struct difference {
	const char *field; /* NULL: no difference */
	char detail[192];
	/* What kind of difference, short and stable, for telling findings
	 * of one op and field apart: "EINVAL-vs-EBADF", "EPOLLHUP", "count",
	 * "fails-vs-succeeds". */
	char what[48];
};

/* The event bits two masks disagree on, by name ("EPOLLHUP|EPOLLRDHUP"),
 * or "data" when only the data token differs. */
static void what_events(uint32_t x, uint32_t y, char *buf, size_t len)
{
	if (x == y)
		snprintf(buf, len, "data");
	else if (!flags_format(epoll_event_names, x ^ y, buf, len))
		snprintf(buf, len, "0x%x", x ^ y);
}

static const char *has_field(uint8_t bit)
{
	return bit & RES_FDS ? "fds" : bit & RES_VALUE ? "value" : "events";
}

static void describe_event(const struct outcome *o, uint32_t k, char *buf,
			   size_t len)
{
	char mask[160];

	if (k >= o->nevents) {
		snprintf(buf, len, "?");
		return;
	}
	if (!flags_format(epoll_event_names, o->events[k].events, mask, sizeof(mask)))
		snprintf(mask, sizeof(mask), "0x%x", o->events[k].events);
	snprintf(buf, len, "%.60s:%llu", mask, (unsigned long long)o->events[k].data);
}

static bool events_differ(const struct outcome *a, const struct result *ra,
			  const struct outcome *b, const struct result *rb,
			  struct difference *d)
{
	char ea[96], eb[96];

	if (ra->ev_count != rb->ev_count) {
		char la[256], lb[256];

		result_format(a, ra, la, sizeof(la));
		result_format(b, rb, lb, sizeof(lb));
		snprintf(d->detail, sizeof(d->detail), "%u events vs %u: %.80s vs %.80s",
			 ra->ev_count, rb->ev_count, la, lb);
		snprintf(d->what, sizeof(d->what), "count");
		return true;
	}
	for (uint32_t i = 0; i < ra->ev_count; i++) {
		const struct event_rec *x = &a->events[ra->ev_first + i];
		const struct event_rec *y = &b->events[rb->ev_first + i];

		if (ra->ev_first + i >= a->nevents || rb->ev_first + i >= b->nevents) {
			snprintf(d->detail, sizeof(d->detail), "event #%u missing from the pool", i);
			return true;
		}
		if (x->events == y->events && x->data == y->data)
			continue;
		describe_event(a, ra->ev_first + i, ea, sizeof(ea));
		describe_event(b, rb->ev_first + i, eb, sizeof(eb));
		snprintf(d->detail, sizeof(d->detail), "event #%u: %.80s vs %.80s", i, ea, eb);
		what_events(x->events, y->events, d->what, sizeof(d->what));
		return true;
	}
	return false;
}

static bool results_differ(const struct outcome *a, const struct result *ra,
			   const struct outcome *b, const struct result *rb,
			   struct difference *d)
{
	uint8_t has = ra->has ^ rb->has;

	if (ra->ret != rb->ret) {
		d->field = "ret";
		snprintf(d->detail, sizeof(d->detail), "ret %lld vs %lld",
			 (long long)ra->ret, (long long)rb->ret);
		snprintf(d->what, sizeof(d->what), "%s",
			 ra->ret < 0 && rb->ret >= 0 ? "fails-vs-succeeds"
			 : ra->ret >= 0 && rb->ret < 0 ? "succeeds-vs-fails" : "value");
	} else if (ra->err != rb->err) {
		d->field = "errno";
		snprintf(d->detail, sizeof(d->detail), "errno %s vs %s",
			 errno_name(ra->err), errno_name(rb->err));
		snprintf(d->what, sizeof(d->what), "%s-vs-%s", errno_name(ra->err),
			 errno_name(rb->err));
	} else if (has) {
		uint8_t bit = has & -has;

		d->field = has_field(bit);
		snprintf(d->detail, sizeof(d->detail), "%s reported by %s only",
			 d->field, ra->has & bit ? "A" : "B");
		snprintf(d->what, sizeof(d->what), "only-one-side");
	} else if ((ra->has & RES_FDS) && (ra->fds[0] != rb->fds[0] ||
					   ra->fds[1] != rb->fds[1])) {
		d->field = "fds";
		snprintf(d->detail, sizeof(d->detail), "fds [%d,%d] vs [%d,%d]",
			 ra->fds[0], ra->fds[1], rb->fds[0], rb->fds[1]);
		snprintf(d->what, sizeof(d->what), "numbers");
	} else if ((ra->has & RES_VALUE) && ra->value != rb->value) {
		d->field = "value";
		snprintf(d->detail, sizeof(d->detail), "value %llu vs %llu",
			 (unsigned long long)ra->value, (unsigned long long)rb->value);
		snprintf(d->what, sizeof(d->what), "value");
	} else if ((ra->has & RES_EVENTS) && events_differ(a, ra, b, rb, d)) {
		d->field = "events";
	}
	return d->field != NULL;
}

static bool completions_differ(const struct outcome *a, const struct step_record *ra,
			       const struct outcome *b, const struct step_record *rb,
			       struct difference *d)
{
	struct difference inner = { 0 };

	d->field = "completed";
	if (ra->done_count != rb->done_count) {
		snprintf(d->detail, sizeof(d->detail),
			 "completes %u blocked op(s) vs %u", ra->done_count,
			 rb->done_count);
		snprintf(d->what, sizeof(d->what), "count");
		return true;
	}
	for (uint32_t i = 0; i < ra->done_count; i++) {
		const struct completion *x = &a->done[ra->done_first + i];
		const struct completion *y = &b->done[rb->done_first + i];

		if (x->step != y->step || x->t != y->t) {
			snprintf(d->detail, sizeof(d->detail),
				 "completion #%u: step %u (t%u) vs step %u (t%u)", i,
				 x->step, x->t, y->step, y->t);
			snprintf(d->what, sizeof(d->what), "which");
			return true;
		}
		if (results_differ(a, &x->res, b, &y->res, &inner)) {
			snprintf(d->detail, sizeof(d->detail),
				 "completion of step %u (t%u): %.140s", x->step, x->t,
				 inner.detail);
			snprintf(d->what, sizeof(d->what), "%s:%.30s", inner.field,
				 inner.what);
			return true;
		}
	}
	d->field = NULL;
	return false;
}

static bool records_differ(const struct outcome *a, const struct step_record *ra,
			   const struct outcome *b, const struct step_record *rb,
			   struct difference *d)
{
	if (ra->step != rb->step || ra->t != rb->t || ra->state != rb->state) {
		d->field = "state";
		snprintf(d->detail, sizeof(d->detail), "step %u t%u %s vs step %u t%u %s",
			 ra->step, ra->t, state_name(ra->state), rb->step, rb->t,
			 state_name(rb->state));
		snprintf(d->what, sizeof(d->what), "%s-vs-%s", state_name(ra->state),
			 state_name(rb->state));
		return true;
	}
	if (ra->state == STEP_DONE && results_differ(a, &ra->res, b, &rb->res, d))
		return true;
	return completions_differ(a, ra, b, rb, d);
}

/* ------------------------------------------------------------- verdicts */

static void verdict_set(struct verdict *v, const struct program *p,
			enum verdict_class cls, uint32_t step, uint32_t record,
			const char *field, const char *detail)
{
	v->cls = cls;
	v->step = step;
	v->record = record;
	snprintf(v->field, sizeof(v->field), "%s", field);
	if (cls == VERDICT_DIVERGE)
		snprintf(v->signature, sizeof(v->signature), "%s.%s",
			 op_name(p, step), field);
	snprintf(v->detail, sizeof(v->detail), "%s", detail);
}

static const struct violation *violation_of(const struct outcome *a,
					    const struct outcome *b)
{
	if (a->violation.broken)
		return &a->violation;
	return b->violation.broken ? &b->violation : NULL;
}

static uint32_t record_of_step(const struct outcome *o, uint32_t step)
{
	for (uint32_t i = 0; i < o->nsteps; i++)
		if (o->steps[i].step == step)
			return i;
	return o->nsteps;
}

/* A broken invariant at or before step wins over what happens at step. */
static bool invariant_first(const struct program *p, const struct outcome *a,
			    const struct outcome *b, uint32_t step,
			    struct verdict *v)
{
	const struct violation *x = violation_of(a, b);

	if (!x || x->step > step)
		return false;
	verdict_set(v, p, VERDICT_INVARIANT, x->step,
		    record_of_step(x == &a->violation ? a : b, x->step),
		    "invariant", x->msg);
	snprintf(v->signature, sizeof(v->signature), "invariant:%s", x->cls);
	return true;
}

static bool unsupported(const struct program *p, const struct outcome *a,
			const struct outcome *b, uint32_t i, struct verdict *v)
{
	const struct step_record *ra = &a->steps[i], *rb = &b->steps[i];
	const struct outcome *o = ra->state == STEP_UNSUPPORTED ? a : b;
	char detail[256];

	if (ra->state != STEP_UNSUPPORTED && rb->state != STEP_UNSUPPORTED)
		return false;
	snprintf(detail, sizeof(detail), "cannot run %s: %s",
		 op_name(p, o->steps[i].step), o->unsupported);
	verdict_set(v, p, VERDICT_UNSUPPORTED, o->steps[i].step, i, "unsupported",
		    detail);
	snprintf(v->signature, sizeof(v->signature), "unsupported:%s",
		 op_name(p, o->steps[i].step));
	return true;
}

/* One outcome has records the other lacks. */
static void diverge_on_length(const struct program *p, const struct outcome *a,
			      const struct outcome *b, struct verdict *v)
{
	uint32_t n = a->nsteps < b->nsteps ? a->nsteps : b->nsteps;
	const struct outcome *longer = a->nsteps > n ? a : b;
	char detail[128];

	snprintf(detail, sizeof(detail), "%s stops after %u records, %s has %u",
		 longer == a ? "B" : "A", n, longer == a ? "A" : "B",
		 longer->nsteps);
	verdict_set(v, p, VERDICT_DIVERGE, longer->steps[n].step, n, "state", detail);
}

static bool still_blocked_differ(const struct program *p, const struct outcome *a,
				 const struct outcome *b, struct verdict *v)
{
	uint32_t n = a->nblocked > b->nblocked ? a->nblocked : b->nblocked;
	char detail[128];

	for (uint32_t i = 0; i < n && i < MAX_THREADS; i++) {
		const struct blocked_rec *x = i < a->nblocked ? &a->blocked[i] : NULL;
		const struct blocked_rec *y = i < b->nblocked ? &b->blocked[i] : NULL;

		if (x && y && x->step == y->step && x->t == y->t)
			continue;
		if (x && y)
			snprintf(detail, sizeof(detail),
				 "still blocked: step %u (t%u) vs step %u (t%u)",
				 x->step, x->t, y->step, y->t);
		else
			snprintf(detail, sizeof(detail),
				 "step %u (t%u) still blocked in %s only",
				 (x ? x : y)->step, (x ? x : y)->t, x ? "A" : "B");
		verdict_set(v, p, VERDICT_DIVERGE, (x ? x : y)->step, a->nsteps,
			    "still_blocked", detail);
		return true;
	}
	return false;
}

void compare_outcomes(const struct program *p, const struct outcome *a,
		      const struct outcome *b, struct verdict *v)
{
	uint32_t n = a->nsteps < b->nsteps ? a->nsteps : b->nsteps;

	memset(v, 0, sizeof(*v));
	v->cls = VERDICT_AGREE;
	for (uint32_t i = 0; i < n; i++) {
		struct difference d = { 0 };

		if (invariant_first(p, a, b, a->steps[i].step, v) ||
		    unsupported(p, a, b, i, v))
			return;
		if (records_differ(a, &a->steps[i], b, &b->steps[i], &d)) {
			verdict_set(v, p, VERDICT_DIVERGE, a->steps[i].step, i,
				    d.field, d.detail);
			snprintf(v->what, sizeof(v->what), "%s", d.what);
			return;
		}
	}
	if (a->nsteps != b->nsteps) {
		const struct outcome *longer = a->nsteps > n ? a : b;

		if (!invariant_first(p, a, b, longer->steps[n].step, v))
			diverge_on_length(p, a, b, v);
		return;
	}
	if (invariant_first(p, a, b, UINT32_MAX, v))
		return;
	still_blocked_differ(p, a, b, v);
}

/* Which of the two outcomes the verdict is about: a divergence is out's
 * (it departs from the reference); an invariant or an unsupported step
 * belongs to the outcome that shows it. */
static bool verdict_is_refs(const struct verdict *v, const struct outcome *ref,
			    const struct outcome *out)
{
	switch (v->cls) {
	case VERDICT_INVARIANT:
		return !(out->violation.broken && out->violation.step == v->step);
	case VERDICT_UNSUPPORTED:
		return !(v->record < out->nsteps &&
			 out->steps[v->record].state == STEP_UNSUPPORTED);
	default:
		return false;
	}
}

/* A step out cannot run, where there is no reference step to pair it
 * with (the reference stopped earlier, or there is none). */
static bool unsupported_alone(const struct program *p, const struct outcome *o,
			      struct verdict *v)
{
	for (uint32_t i = 0; i < o->nsteps; i++)
		if (o->steps[i].state == STEP_UNSUPPORTED)
			return unsupported(p, o, o, i, v);
	return false;
}

void judge(const struct program *p, const char *ref_name,
	   const struct outcome *ref, const char *name,
	   const struct outcome *out, struct verdict *v)
{
	struct verdict alone;

	compare_outcomes(p, out, ref ? ref : out, v);
	memset(&alone, 0, sizeof(alone));
	if (unsupported_alone(p, out, &alone))
		verdict_prefer(v, &alone);
	snprintf(v->target, sizeof(v->target), "%s",
		 ref && verdict_is_refs(v, ref, out) ? ref_name : name);
	snprintf(v->reference, sizeof(v->reference), "%s", ref ? ref_name : "");
}

void verdict_prefer(struct verdict *v, const struct verdict *c)
{
	if (c->cls == VERDICT_AGREE)
		return;
	if (v->cls == VERDICT_AGREE || c->step < v->step)
		*v = *c;
}

void verdict_key(const struct verdict *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", v->target, v->target[0] ? ":" : "",
		 v->signature, v->what[0] ? "[" : "", v->what,
		 v->what[0] ? "]" : "");
}

void compare_outcome_set(const struct program *p, const struct outcome *allowed,
			 unsigned nallowed, const struct outcome *actual,
			 struct verdict *v)
{
	struct verdict best, cur;

	memset(&best, 0, sizeof(best));
	best.cls = VERDICT_DIVERGE;
	snprintf(best.field, sizeof(best.field), "state");
	snprintf(best.signature, sizeof(best.signature), "no-allowed-outcome");
	snprintf(best.detail, sizeof(best.detail), "the model allows no outcome");
	for (unsigned i = 0; i < nallowed; i++) {
		compare_outcomes(p, &allowed[i], actual, &cur);
		if (cur.cls == VERDICT_AGREE) {
			*v = cur;
			return;
		}
		/* The allowed outcome that follows Linux longest explains
		 * the divergence best. */
		if (i == 0 || cur.record > best.record)
			best = cur;
	}
	*v = best;
}

/* ------------------------------------------------------------- printing */

enum {
	ROWS_BEFORE = 3,
	ROWS_AFTER = 2,
	/* about 120 columns with two outcomes, 132 with three */
	W_STEP = 5,
	W_THREAD = 2,
	W_OP = 36,
	W_RESULT = 34,
	W_OP_MANY = 30,
	W_RESULT_MANY = 28,
	MAX_COLUMNS = 4,
};

/* The outcomes shown side by side, and how wide their columns are. */
struct columns {
	unsigned n;
	const char *const *names;
	const struct outcome *const *outs;
	int w_op, w_result;
};

/* Columns a UTF-8 string takes: one per character (no wide ones here). */
static int columns(const char *text, size_t nbytes)
{
	int n = 0;

	for (size_t i = 0; i < nbytes && text[i]; i++)
		n += ((unsigned char)text[i] & 0xc0) != 0x80;
	return n;
}

/* Text in at most width columns, cut with an ellipsis; padded to width
 * unless it ends the line. */
static void put_cell(FILE *f, const char *text, int width, bool pad)
{
	size_t len = strlen(text), cut = 0;
	int n = columns(text, len);

	if (n <= width) {
		fprintf(f, "%s%*s", text, pad ? width - n : 0, "");
		return;
	}
	/* keep width - 1 characters, ending on a character boundary */
	for (int kept = 0; cut < len; cut++) {
		if (((unsigned char)text[cut] & 0xc0) != 0x80 && kept++ == width - 1)
			break;
	}
	fprintf(f, "%.*s\u2026", (int)cut, text);
}

static void put_row(FILE *f, const struct columns *c, bool mark,
		    const char *step, const char *thread, const char *op,
		    char cells[][320])
{
	fputs(mark ? ">> " : "   ", f);
	put_cell(f, step, W_STEP, true);
	fputc(' ', f);
	put_cell(f, thread, W_THREAD, true);
	fputc(' ', f);
	put_cell(f, op, c->w_op, true);
	for (unsigned k = 0; k < c->n; k++) {
		fputs("  ", f);
		put_cell(f, cells[k], c->w_result, k + 1 < c->n);
	}
	fputc('\n', f);
}

static const struct step_record *find_record(const struct outcome *o,
					     uint32_t step)
{
	uint32_t i = record_of_step(o, step);

	return i < o->nsteps ? &o->steps[i] : NULL;
}

static void record_cell(const struct outcome *o, const struct step_record *r,
			char *buf, size_t len)
{
	if (r)
		result_format(o, &r->res, buf, len);
	else
		snprintf(buf, len, "(no record)");
}

static void completion_cell(const struct outcome *o, const struct step_record *r,
			    uint32_t i, char *buf, size_t len)
{
	const struct completion *c;
	char res[256];

	buf[0] = '\0';
	if (!r || i >= r->done_count)
		return;
	c = &o->done[r->done_first + i];
	result_format(o, &c->res, res, sizeof(res));
	snprintf(buf, len, "#%u t%u %s", c->step, c->t, res);
}

/* The blocked ops a step woke, one row each, side by side. */
static void put_completions(FILE *f, const struct columns *c,
			    const struct step_record *const *r)
{
	char cells[MAX_COLUMNS][320];
	uint32_t most = 0;

	for (unsigned k = 0; k < c->n; k++)
		if (r[k] && r[k]->done_count > most)
			most = r[k]->done_count;
	for (uint32_t i = 0; i < most; i++) {
		for (unsigned k = 0; k < c->n; k++)
			completion_cell(c->outs[k], r[k], i, cells[k], sizeof(cells[k]));
		put_row(f, c, false, "", "", "  \u21b3 completes", cells);
	}
}

static void put_step(FILE *f, const struct program *p, const struct columns *c,
		     uint32_t step, bool mark)
{
	const struct step_record *r[MAX_COLUMNS];
	const struct op *op = &p->ops[step];
	struct op untagged = *op;
	char num[16], thread[8], call[160], cells[MAX_COLUMNS][320];

	untagged.t = 0; /* the thread has its own column */
	snprintf(num, sizeof(num), "%u", step);
	snprintf(thread, sizeof(thread), "%u", op->t);
	op_format(&untagged, call, sizeof(call));
	for (unsigned k = 0; k < c->n; k++) {
		r[k] = find_record(c->outs[k], step);
		record_cell(c->outs[k], r[k], cells[k], sizeof(cells[k]));
	}
	put_row(f, c, mark, num, thread, call, cells);
	put_completions(f, c, r);
}

static void put_headline(FILE *f, const struct verdict *v)
{
	const char *who = v->target[0] ? v->target : "";
	const char *sep = v->target[0] ? ": " : "";

	switch (v->cls) {
	case VERDICT_AGREE:
		fprintf(f, "targets agree\n");
		break;
	case VERDICT_DIVERGE:
		fprintf(f, "divergence at step %u: %s%s%s\n", v->step, who, sep,
			v->signature);
		break;
	case VERDICT_INVARIANT:
		fprintf(f, "invariant broken at step %u: %s%s%s\n", v->step, who,
			sep, v->signature);
		break;
	case VERDICT_UNSUPPORTED:
		fprintf(f, "unsupported at step %u: %s%s%s\n", v->step, who, sep,
			v->signature);
		break;
	}
}

static void put_still_blocked(FILE *f, const char *name, const struct outcome *o)
{
	if (!o->nblocked)
		return;
	fprintf(f, "   still blocked in %s:", name);
	for (uint32_t i = 0; i < o->nblocked && i < MAX_THREADS; i++)
		fprintf(f, " #%u (t%u)", o->blocked[i].step, o->blocked[i].t);
	fputc('\n', f);
}

void verdict_print_n(FILE *f, const struct program *p,
		     const char *const *names, const struct outcome *const *outs,
		     unsigned n, const struct verdict *v)
{
	uint32_t focus = v->step < p->nops ? v->step : (p->nops ? p->nops - 1 : 0);
	uint32_t first = focus > ROWS_BEFORE ? focus - ROWS_BEFORE : 0;
	uint32_t last = focus + ROWS_AFTER;
	struct columns c = { n > MAX_COLUMNS ? MAX_COLUMNS : n, names, outs,
			     n > 2 ? W_OP_MANY : W_OP,
			     n > 2 ? W_RESULT_MANY : W_RESULT };
	char heads[MAX_COLUMNS][320];

	put_headline(f, v);
	if (v->cls == VERDICT_AGREE || p->nops == 0)
		return;
	for (unsigned k = 0; k < c.n; k++)
		snprintf(heads[k], sizeof(heads[k]), "%s", names[k]);
	put_row(f, &c, false, "step", "t", "op", heads);
	if (first > 0)
		fputs("   ...\n", f);
	for (uint32_t s = first; s <= last && s < p->nops; s++)
		put_step(f, p, &c, s, s == v->step);
	if (last + 1 < p->nops)
		fputs("   ...\n", f);
	for (unsigned k = 0; k < c.n; k++)
		put_still_blocked(f, names[k], outs[k]);
	fprintf(f, "   %s: %s\n", v->field, v->detail);
}

void verdict_print(FILE *f, const struct program *p, const char *name_a,
		   const struct outcome *a, const char *name_b,
		   const struct outcome *b, const struct verdict *v)
{
	const char *names[2] = { name_a, name_b };
	const struct outcome *outs[2] = { a, b };

	verdict_print_n(f, p, names, outs, 2, v);
}
