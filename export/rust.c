/*
 * rust.c - a trace as a Rust test in the style of Miri's epoll tests
 * (export_rust, export.h): one file with Miri's header lines, an opening
 * comment, one fn main (rust_main.c), and the thin call helpers main uses,
 * copied out of export/runtime/miri.rs.
 *
 * This file decides what the test accepts and when each step happens.
 * The test accepts the recording and, where woken threads race, every
 * other outcome the model allows (export_pick_others) that runs the same
 * steps: the calls that block and those skipped behind them are the same,
 * only their results, and which step ends a blocked call, may differ.
 *
 * The schedule: the trace's clock is virtual and its threads run one step
 * at a time; the test's threads run as Miri's tests order them, a blocking
 * call started RS_TICK_MS before the next step.  Each step gets a planned
 * time from that.  A timed wait's real timeout ends in the middle of the
 * real sleep of the `sleep` step that ends it on the virtual clock (or a
 * while after the last step, when Linux leaves it blocked), never before a
 * step that wakes it: RS_SLACK_MS after that step starts, plus twice the
 * time the wait has slept by then, since natively each sleep runs late, the
 * more so on a busy machine.  A wait without a timeout gets one past the
 * end, so that a wait nothing wakes fails the test rather than hangs it.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "rust.h"

#define RUNTIME "export/runtime/miri.rs"
#define SECTION "// ---- "

/* ------------------------------------------------------------------------
 * Outcomes.
 */

/* An epoll wait's timeout in ms as epoll_wait takes it: > 0 a deadline,
 * 0 a poll, -1 none (epoll_pwait2's ns rounded up to the ms the trace's
 * clock counts; an invalid timespec never waits, so -1 there too). */
int64_t rs_wait_ms(const struct op *op)
{
	uint64_t ms;

	switch (op_wait_timeout(op, &ms)) {
	case WAIT_TIMED:
		return ms > INT32_MAX ? -1 : (int64_t)ms; /* past any test's end */
	case WAIT_POLL:
		return 0;
	case WAIT_FOREVER:
	case WAIT_EINVAL:
		break;
	}
	return -1;
}

uint32_t rs_ended(const struct rs *r, unsigned k, uint32_t b)
{
	return r->ended[k * r->p->nops + b];
}

/* ended[]: for each outcome, which step ends each blocked call. */
static int index_ends(struct rs *r)
{
	uint32_t n = r->p->nops;

	if (!(r->ended = malloc((size_t)r->nouts * (n ? n : 1) * sizeof(*r->ended))))
		return fail(r->err, "out of memory");
	for (unsigned k = 0; k < r->nouts; k++) {
		const struct outcome *o = r->outs[k];

		for (uint32_t b = 0; b < n; b++)
			r->ended[k * n + b] = RS_NO_STEP;
		for (uint32_t s = 0; s < n; s++) {
			const struct step_record *sr = rs_record(o, s);

			for (uint32_t c = 0; c < sr->done_count; c++)
				r->ended[k * n + o->done[sr->done_first + c].step] = s;
		}
	}
	return 0;
}

const struct completion *rs_completion(const struct outcome *o, uint32_t b)
{
	for (uint32_t i = 0; i < o->ndone; i++)
		if (o->done[i].step == b)
			return &o->done[i];
	return NULL;
}

/* What step i's call returned in o: its own result, or its completion. */
static const struct result *result_of(const struct outcome *o, uint32_t i)
{
	const struct step_record *sr = rs_record(o, i);
	const struct completion *c;

	if (sr->state == STEP_DONE)
		return &sr->res;
	if (sr->state == STEP_BLOCKED && (c = rs_completion(o, i)))
		return &c->res;
	return NULL;
}

bool rs_ends_here(const struct rs *r, uint32_t b, uint32_t i)
{
	for (unsigned k = 0; k < r->nouts; k++)
		if (rs_ended(r, k, b) == i)
			return true;
	return false;
}

bool rs_blocked_at_end(const struct rs *r, uint32_t b)
{
	return rs_record(r->rec, b)->state == STEP_BLOCKED &&
	       rs_ends_here(r, b, RS_NO_STEP);
}

/* Step i as text: its result and the blocked calls it ended. */
static void said_at(const struct outcome *o, uint32_t i, struct text *t)
{
	tx_reset(t);
	tx_record(t, o, rs_record(o, i));
	tx_printf(t, " | ");
	tx_woke(t, o, rs_record(o, i));
}

bool rs_same_said(const struct outcome *a, const struct outcome *b, uint32_t i)
{
	struct text ta, tb;

	said_at(a, i, &ta);
	said_at(b, i, &tb);
	return strcmp(ta.buf, tb.buf) == 0;
}

unsigned rs_results_at(const struct rs *r, uint32_t i)
{
	unsigned n = 0;

	for (unsigned k = 0; k < r->nouts; k++) {
		unsigned j = 0;

		while (j < k && !rs_same_said(r->outs[j], r->outs[k], i))
			j++;
		n += j == k;
	}
	return n;
}

/* Why the test cannot accept o besides the recording, or NULL: a step
 * that runs in one and is skipped in the other (its thread still blocked),
 * or a call o leaves blocked forever (a test would hang). */
static const char *unorderable(const struct rs *r, const struct outcome *o,
			       char *why, size_t len)
{
	for (uint32_t i = 0; i < r->p->nops; i++)
		if (rs_record(o, i)->state != rs_record(r->rec, i)->state) {
			snprintf(why, len, "step %" PRIu32 ": woken threads race, and whether "
				 "t%u's %s runs depends on the race", i, r->p->ops[i].t,
				 op_table[r->p->ops[i].kind].name);
			return why;
		}
	for (uint32_t k = 0; k < o->nblocked; k++) {
		const struct op *op = &r->p->ops[o->blocked[k].step];

		if (op_is_epoll_wait(op->kind) && rs_wait_ms(op) > 0)
			continue;
		snprintf(why, len, "step %" PRIu32 ": woken threads race, and Linux may "
			 "leave this %s on t%u blocked forever", o->blocked[k].step,
			 op_table[op->kind].name, o->blocked[k].t);
		return why;
	}
	return NULL;
}

/* The outcomes the test accepts: the recording, and the others Linux
 * allows if the test can order all of them (else the recording alone,
 * with --allow-unsupported). */
static int pick_outcomes(struct rs *r)
{
	char why[224];

	export_pick_others(r->p, r->rec, r->opt, &r->others);
	r->outs[0] = r->rec;
	r->nouts = 1;
	for (unsigned k = 0; k < r->others.n; k++) {
		if (!unorderable(r, r->others.others[k], why, sizeof(why))) {
			r->outs[r->nouts++] = r->others.others[k];
			continue;
		}
		if (!r->opt->allow_unsupported)
			return fail(r->err, "%s (--allow-unsupported checks the recorded "
				    "outcome only)", why);
		r->race_dropped = true;
		r->nouts = 1;
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The schedule.
 */

/* Room for one event more than Linux returned, so that an extra one fails
 * the test; the trace's maxevents when a call failed or filled it. */
static int64_t planned_maxevents(const struct rs *r, uint32_t i)
{
	int64_t m = r->p->ops[i].f[F_MAXEVENTS], most = 0;

	for (unsigned k = 0; k < r->nouts; k++) {
		const struct result *res = result_of(r->outs[k], i);

		if (res && res->ret < 0)
			return m;
		if (res && res->ret > most)
			most = res->ret;
	}
	return most + 1 < m ? most + 1 : m;
}

/* The first sleep step after b by whose end the virtual clock has passed
 * deadline (vclock[i]: the clock as step i starts); RS_NO_STEP if none. */
static uint32_t expiring_sleep(const struct program *p, const int64_t *vclock,
			       uint32_t b, int64_t deadline)
{
	for (uint32_t i = b + 1; i < p->nops; i++)
		if (p->ops[i].kind == OP_SLEEP &&
		    vclock[i] + p->ops[i].f[F_MS] >= deadline)
			return i;
	return RS_NO_STEP;
}

/* A blocked wait's real timeout: its deadline in the middle of the sleep
 * that ends it, or after the end; never before a step that wakes it in some
 * outcome. */
static int64_t planned_timeout(const struct rs *r, const int64_t *vclock,
			       uint32_t b)
{
	const struct program *p = r->p;
	int64_t timeout = rs_wait_ms(&p->ops[b]);
	uint32_t k = rs_ended(r, 0, b), target;

	if (k == RS_NO_STEP || p->ops[k].kind != OP_SLEEP)
		k = timeout > 0 ? expiring_sleep(p, vclock, b, vclock[b] + timeout)
				: RS_NO_STEP;
	target = k != RS_NO_STEP ? r->steps[k].plan_ms + r->steps[k].slack_ms
				 : r->end_ms + r->end_slack_ms;
	for (unsigned o = 0; o < r->nouts; o++) {
		uint32_t e = rs_ended(r, o, b);

		if (e != RS_NO_STEP && p->ops[e].kind != OP_SLEEP &&
		    target < r->steps[e].plan_ms + RS_SLACK_MS)
			target = r->steps[e].plan_ms + RS_SLACK_MS;
	}
	return (int64_t)target - r->steps[b].plan_ms;
}

/* Whether a call blocked at step b may still sleep after step i. */
static bool may_sleep_after(const struct rs *r, uint32_t b, uint32_t i)
{
	if (b > i || rs_record(r->rec, b)->state != STEP_BLOCKED)
		return false;
	for (unsigned k = 0; k < r->nouts; k++) {
		uint32_t e = rs_ended(r, k, b);

		if (e == RS_NO_STEP || e > i)
			return true;
	}
	return false;
}

static bool anyone_asleep_after(const struct rs *r, uint32_t i)
{
	for (uint32_t b = 0; b <= i; b++)
		if (may_sleep_after(r, b, i))
			return true;
	return false;
}

/* Per step: which outcomes differ, and where a blocked call ends. */
static void plan_outcomes(struct rs *r)
{
	const struct program *p = r->p;

	for (uint32_t i = 0; i < p->nops; i++) {
		struct rs_step *st = &r->steps[i];

		st->done_at = rs_ended(r, 0, i);
		for (unsigned k = 0; k < r->nouts; k++) {
			st->racing |= !rs_same_said(r->rec, r->outs[k], i);
			st->ends_some |= rs_record(r->outs[k], i)->done_count > 0;
			if (rs_record(r->rec, i)->state == STEP_BLOCKED &&
			    rs_ended(r, k, i) != st->done_at) {
				st->uncertain = true;
				r->end_racing |= rs_ended(r, k, i) == RS_NO_STEP ||
						 st->done_at == RS_NO_STEP;
			}
		}
		r->nracing += st->racing;
		for (uint32_t b = 0; b < i && p->ops[i].kind != OP_SLEEP; b++)
			st->probes |= r->steps[b].uncertain && rs_ends_here(r, b, i);
	}
	r->nracing += r->end_racing;
}

/* How long after a step at plan time ms waits that may end there time
 * out: RS_SLACK_MS, and twice the longest they have slept by then (a
 * pinned test on a busy machine may run each 10 ms sleep twice that late,
 * or worse).  i: the step, or p->nops for the end. */
static uint32_t slack_at(const struct rs *r, uint32_t i, uint32_t ms)
{
	uint32_t most = 0;

	for (uint32_t b = 0; b < i && b < r->p->nops; b++)
		if (rs_record(r->rec, b)->state == STEP_BLOCKED &&
		    rs_ends_here(r, b, i < r->p->nops ? i : RS_NO_STEP) &&
		    ms - r->steps[b].plan_ms > most)
			most = ms - r->steps[b].plan_ms;
	return RS_SLACK_MS + 2 * most;
}

/* When each step starts, in the test's planned time (vclock: the virtual
 * clock as each starts). */
static void plan_times(struct rs *r, int64_t *vclock)
{
	const struct program *p = r->p;
	uint32_t ms = 0;
	int64_t now = 0;

	for (uint32_t i = 0; i < p->nops; i++) {
		const struct step_record *sr = rs_record(r->rec, i);
		struct rs_step *st = &r->steps[i];

		vclock[i] = now;
		st->plan_ms = ms;
		st->settle = sr->state == STEP_DONE && p->ops[i].kind != OP_SLEEP &&
			     op_may_wake(&p->ops[i]) && anyone_asleep_after(r, i);
		if (sr->state == STEP_BLOCKED || st->settle || st->probes)
			ms += RS_TICK_MS;
		if (p->ops[i].kind == OP_SLEEP && sr->state == STEP_DONE) {
			now += p->ops[i].f[F_MS];
			st->slack_ms = st->ends_some ? slack_at(r, i, ms) : 0;
			ms += 2 * st->slack_ms;
		}
	}
	r->end_ms = ms;
	r->end_slack_ms = slack_at(r, p->nops, ms);
}

static int plan(struct rs *r)
{
	const struct program *p = r->p;
	int64_t *vclock = calloc(p->nops + 1, sizeof(*vclock));

	r->steps = calloc(p->nops + 1, sizeof(*r->steps));
	if (!vclock || !r->steps || index_ends(r) < 0) {
		free(vclock);
		return fail(r->err, "out of memory");
	}
	plan_outcomes(r);
	plan_times(r, vclock);
	for (uint32_t i = 0; i < p->nops; i++) {
		const struct op *op = &p->ops[i];
		struct rs_step *st = &r->steps[i];

		if (!op_is_epoll_wait(op->kind))
			continue;
		st->timeout = rs_wait_ms(op);
		st->maxevents = planned_maxevents(r, i);
		if (rs_record(r->rec, i)->state != STEP_BLOCKED)
			continue;
		/* A wait with no timeout gets one too, past the end: where nothing
		 * wakes it (Linux does), the test fails at its step, not hangs. */
		st->forever = st->timeout <= 0 && st->done_at == RS_NO_STEP;
		st->timeout = planned_timeout(r, vclock, i);
	}
	for (uint32_t k = 0; k < r->rec->nblocked; k++)
		r->steps[r->rec->blocked[k].step].forever |=
			!op_is_epoll_wait(p->ops[r->rec->blocked[k].step].kind);
	free(vclock);
	return 0;
}

/* ------------------------------------------------------------------------
 * The opening comment.
 */

/* A target's result at a step, as epollfuzz prints it. */
static void tx_result_at(struct text *t, const char *who, const struct outcome *o,
			 uint32_t step)
{
	const struct step_record *sr = step < o->nsteps ? rs_record(o, step) : NULL;

	tx_printf(t, "\n    %s: ", who);
	if (!sr) {
		tx_printf(t, "(no record)");
		return;
	}
	tx_record(t, o, sr);
	if (sr->done_count) {
		tx_printf(t, "; woke ");
		tx_woke(t, o, sr);
	}
}

/* What the trace shows: the finding's verdict, or the corpus scenario. */
static void tx_shows(struct text *t, const struct rs *r)
{
	const json_t *v = json_object_get(r->meta, "verdict");
	const json_t *step = json_object_get(v, "step");
	const char *cls = export_meta_string(v, "class");
	const char *target = export_meta_string(v, "target");
	const char *ref = export_meta_string(v, "reference");
	const char *sig = export_meta_string(v, "signature");
	const char *detail = export_meta_string(v, "detail");
	const char *scenario = export_meta_string(r->meta, "scenario");
	struct outcome theirs;
	json_int_t n;

	if (!cls || strcmp(cls, "agree") == 0 || !json_is_integer(step)) {
		tx_printf(t, "%s", scenario ? scenario
					   : "The trace records no finding: the test pins "
					     "down what Linux does.");
		return;
	}
	n = json_integer_value(step);
	tx_printf(t, "The finding: %s departs from %s at step %" JSON_INTEGER_FORMAT
		  " (%s %s)%s%s", target ? target : "a target", ref ? ref : "linux", n, cls,
		  sig ? sig : "", detail ? ": " : "", detail ? detail : "");
	if (n < 0 || (uint64_t)n >= r->p->nops)
		return;
	tx_printf(t, ".\n  step %" JSON_INTEGER_FORMAT ": ", n);
	tx_call(t, &r->p->ops[n]);
	tx_result_at(t, ref ? ref : "linux", r->rec, (uint32_t)n);
	outcome_init(&theirs);
	if (target && export_load_outcome(r->p, r->meta, target, &theirs))
		tx_result_at(t, target, &theirs, (uint32_t)n);
	outcome_free(&theirs);
}

/* What Linux returned, and which results the test takes. */
static void tx_linux(struct text *t, const struct rs *r)
{
	const char *kernel = export_meta_string(r->meta, "kernel");

	tx_printf(t, "Linux %s returned what each step asserts",
		  kernel ? kernel : "(the trace does not say which kernel)");
	if (r->nouts > 1)
		tx_printf(t, "; where woken threads race, Linux allows %u outcomes, and "
			  "a step takes any result still possible", r->nouts);
	tx_printf(t, ".");
	if (r->others.model_disagrees)
		tx_printf(t, " Woken threads race here, but the model's outcomes lack the "
			  "recorded one: only that one is accepted.");
	if (r->others.cut || r->opt->allowed_cut)
		tx_printf(t, " Linux allows more outcomes than the test lists: one of the "
			  "others fails it.");
	if (r->race_dropped)
		tx_printf(t, " Woken threads race in a way a test cannot order: only the "
			  "recorded outcome is accepted.");
	if (r->nrefusals)
		tx_printf(t, " Miri cannot run all of it (exported with "
			  "--allow-unsupported): each such step says why.");
}

static bool has_sleep(const struct program *p)
{
	for (uint32_t i = 0; i < p->nops; i++)
		if (p->ops[i].kind == OP_SLEEP)
			return true;
	return false;
}

static void tx_how(struct text *t, const struct rs *r)
{
	tx_printf(t, "Each step of the trace is one call below, its result asserted as "
		  "Ok(value) or Err(errno), epoll_wait's events as (events, data) with "
		  "room for one event more than Linux returned.");
	if (r->threads)
		tx_printf(t, " A call that blocks runs on a thread of its own, started "
			  "%d ms before the next step so that it is asleep by then, and is "
			  "joined at the step that wakes it; after a step that may wake a "
			  "thread for nothing, the test sleeps %d ms for it to sleep again.",
			  RS_TICK_MS, RS_TICK_MS);
	if (has_sleep(r->p))
		tx_printf(t, " The trace's clock is virtual: here a sleep that ends "
			  "waits sleeps long enough for them to time out halfway through "
			  "it.");
}

static void write_comment(struct rs *r, FILE *f)
{
	struct rs_out o = { f, r->out.style, 0 };
	struct text t;

	tx_reset(&t);
	tx_printf(&t, "%s, exported by %s for Miri's test suite.\n\n",
		  r->opt->source ? r->opt->source : "A trace", r->opt->tool);
	tx_shows(&t, r);
	tx_printf(&t, "\n\n");
	tx_linux(&t, r);
	tx_printf(&t, "\n\n");
	tx_how(&t, r);
	rs_comment(&o, 0, t.buf);
}

/* ------------------------------------------------------------------------
 * The file.
 */

void rs_use_helper(struct rs *r, const char *name)
{
	for (unsigned i = 0; i < r->nhelpers; i++)
		if (strcmp(r->helpers[i], name) == 0)
			return;
	if (r->nhelpers < RS_MAX_HELPERS)
		r->helpers[r->nhelpers++] = name;
}

static bool helper_used(const struct rs *r, const char *name, size_t len)
{
	for (unsigned i = 0; i < r->nhelpers; i++)
		if (strlen(r->helpers[i]) == len && strncmp(r->helpers[i], name, len) == 0)
			return true;
	return false;
}

/* The sections of miri.rs main calls, without their markers. */
static int write_helpers(struct rs *r, FILE *f)
{
	const struct embedded_file *e = embedded_files;
	bool keep = false;

	while (e->name && strcmp(e->name, RUNTIME) != 0)
		e++;
	if (!e->name)
		return fail(r->err, "%s is not embedded (export/meson.build)", RUNTIME);
	for (const char *const *line = e->lines; *line; line++) {
		if (strncmp(*line, SECTION, strlen(SECTION)) == 0) {
			const char *name = *line + strlen(SECTION);

			keep = helper_used(r, name, strcspn(name, " "));
			if (keep)
				fputc('\n', f);
		} else if (keep && **line) {
			fprintf(f, "%s\n", *line);
		}
	}
	return 0;
}

/* main is written twice: the first pass only learns which fd variables are
 * read and which helpers are called, so that the second names nothing that
 * goes unused (the test builds with -D warnings). */
static int write_test(struct rs *r, FILE *f)
{
	char *body = NULL;
	size_t len = 0;
	FILE *m;

	if (!(m = open_memstream(&body, &len)))
		return fail(r->err, "out of memory");
	rs_write_main(r, m);
	fclose(m);
	free(body);
	if (!(m = open_memstream(&body, &len)))
		return fail(r->err, "out of memory");
	rs_write_main(r, m);
	if (fclose(m) != 0 || !rx_arena_ok(r->ar)) {
		free(body);
		return fail(r->err, "out of memory");
	}
	fprintf(f, "//@only-target: linux android\n%s//@run-native\n\n",
		r->threads ? "//@compile-flags: -Zmiri-deterministic-concurrency\n" : "");
	write_comment(r, f);
	if (r->threads)
		fputs("\nuse std::thread;\nuse std::time::Duration;\n", f);
	fprintf(f, "\nfn main() {\n%s}\n", body);
	free(body);
	return write_helpers(r, f);
}

/* ------------------------------------------------------------------------
 * The whole.
 */

static bool fd_in_range(int64_t fd)
{
	return fd >= 0 && fd < FD_LIMIT;
}

/* The fds the recording says its calls made are numbers a process can
 * have (the test names them fdN). */
static int check_made_fds(const struct rs *r)
{
	for (uint32_t i = 0; i < r->p->nops; i++) {
		const struct step_record *sr = rs_record(r->rec, i);
		const struct result *res = &sr->res;
		bool pair = res->has & RES_FDS;

		if (sr->state != STEP_DONE || res->ret < 0 ||
		    !fd_sim_op_made(&r->p->ops[i]))
			continue;
		if (pair ? !fd_in_range(res->fds[0]) || !fd_in_range(res->fds[1])
			 : !fd_in_range(res->ret))
			return fail(r->err, "step %" PRIu32 ": the recording has %s make an fd "
				    "outside 0..%d", i, op_table[r->p->ops[i].kind].name,
				    FD_LIMIT - 1);
	}
	return 0;
}

/* Miri's subset (PROFILE_MIRI): refused, or with --allow-unsupported kept
 * for a comment at each step. */
static int check_subset(struct rs *r)
{
	struct profile_refusal *first = &r->refusals[0];

	r->nrefusals = profile_check_run(PROFILE_MIRI, r->p, r->rec, r->refusals,
					 RS_MAX_REFUSALS);
	if (!r->nrefusals || r->opt->allow_unsupported)
		return 0;
	if (r->nrefusals > 1)
		return fail(r->err, "step %" PRIu32 ": %s (and %u more; "
			    "--allow-unsupported exports it anyway)", first->step,
			    first->why, r->nrefusals - 1);
	return fail(r->err, "step %" PRIu32 ": %s (--allow-unsupported exports it "
		    "anyway)", first->step, first->why);
}

/* fork and exit have no Rust form at all (the test is one process, and
 * Miri does not support fork): refused even with --allow-unsupported.
 * Checked before check_subset(), whose refusal (the profile refuses them
 * too) would say that --allow-unsupported exports the trace anyway. */
static int check_no_processes(const struct program *p, struct error *err)
{
	for (uint32_t i = 0; i < p->nops; i++)
		if (p->ops[i].kind == OP_FORK || p->ops[i].kind == OP_EXIT)
			return fail(err, "step %u: %s: Miri does not support fork, and a "
				    "Rust test has no processes: not exported, even with "
				    "--allow-unsupported", i, op_table[p->ops[i].kind].name);
	return 0;
}

int export_rust(FILE *f, const struct program *p, const struct outcome *rec,
		const struct export_options *opt, struct error *err)
{
	struct rs *r = calloc(1, sizeof(*r));
	int rc = -1;

	if (!r)
		return fail(err, "out of memory");
	r->p = p;
	r->rec = rec;
	r->opt = opt;
	r->err = err;
	r->meta = p->extras ? json_object_get(p->extras, "meta") : NULL;
	rs_use_helper(r, "result");
	if (export_check_outcome(p, rec, err) < 0 || check_made_fds(r) < 0 ||
	    check_no_processes(p, err) < 0 || check_subset(r) < 0 ||
	    pick_outcomes(r) < 0 || plan(r) < 0)
		goto out;
	if (!(r->ar = rx_arena_new())) {
		fail(err, "out of memory");
		goto out;
	}
	rc = write_test(r, f);
	if (rc == 0 && (fflush(f) != 0 || ferror(f)))
		rc = fail(err, "write error");
out:
	rx_arena_free(r->ar);
	free(r->steps);
	free(r->ended);
	free(r);
	return rc;
}
