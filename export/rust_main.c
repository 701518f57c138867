/*
 * rust_main.c - the exported test's fn main: each step of the trace as
 * Rust statements (rust.h).
 *
 * A step that ran is one call checked with assert_eq! against what Linux
 * returned, Ok(value) or Err(errno); a call that made fds binds them to
 * variables fdN (N: the number in the trace), and a number taken again is
 * asserted equal to the variable, the lowest free fd.  A call that blocked
 * runs through spawn_blocking; the step that ends it asserts it has not
 * returned yet, makes its own call, joins the thread and checks what the
 * blocked call returned.  Where the outcomes Linux allows differ (racing
 * steps), the step's results go into `got`, which must be one of the
 * alternatives still possible (one_of); a blocked call that one outcome
 * ends here and another elsewhere is an Option<JoinHandle> probed with
 * finished() once the woken threads have had their time.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rust.h"

enum { INDENT = 4 };

/*
 * A read or a write on an eventfd: the test calls the helper here, with
 * every field of the op (miri.rs), rather than the helper of the op's name;
 * a plain write leaves value out.  Every other op calls the helper of its
 * name with its fields in op-table order.
 */
static const struct {
	const char *helper;
	uint32_t plain_skips; /* bits by enum field_id */
} eventfd_calls[OP_KIND_COUNT] = {
	[OP_WRITE] = { "write_value", 1u << F_VALUE },
	[OP_READ] = { "read_value", 0 },
};

/* Flag names the libc crate lacks: written as numbers. */
static const char *const not_in_libc[] = { "EPOLLNVAL", NULL };

/* ------------------------------------------------------------------------
 * Values as Rust.
 */

static bool in_libc(const char *name)
{
	for (const char *const *n = not_in_libc; *n; n++)
		if (strcmp(*n, name) == 0)
			return false;
	return true;
}

/* Bits no name covers, as an i32 expression. */
static void append_bits(struct text *t, uint64_t bits)
{
	if (bits > INT32_MAX)
		tx_printf(t, "(0x%" PRIx64 "_u32 as i32)", bits);
	else
		tx_printf(t, "0x%" PRIx64, bits);
}

/* A flag or enum value by its names, as the libc crate spells them:
 * libc::EPOLLIN | libc::EPOLLET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK. */
static struct rx *flags_rx(struct rs *r, const struct flag_name *names, int64_t v)
{
	struct rx *or = rx_or(r->ar), *last = NULL;
	uint64_t left = (uint64_t)v;
	unsigned n = 0;
	struct text t;

	for (const struct flag_name *f = names; v >= 0 && f && f->name; f++) {
		bool is_enum = f->mask != f->bits;
		bool match = is_enum ? ((uint64_t)v & f->mask) == f->bits
				     : f->bits && (left & f->bits) == f->bits;

		if (!match || (!is_enum && !in_libc(f->name)))
			continue;
		rx_push(or, last = rx_atom(r->ar, "libc::%s", f->name));
		left &= ~f->mask;
		n++;
	}
	if (v <= 0 && !n)
		return rx_atom(r->ar, "%" PRId64, v);
	if (left || !n) {
		tx_reset(&t);
		append_bits(&t, left);
		rx_push(or, last = rx_atom(r->ar, "%s", t.buf));
		n++;
	}
	return n == 1 ? last : or;
}

static struct rx *u64_rx(struct rs *r, uint64_t v)
{
	return v < 0x100000 ? rx_atom(r->ar, "%" PRIu64, v)
			    : rx_atom(r->ar, "0x%" PRIx64, v);
}

/* Whether the test has a variable fdN for number n. */
static bool is_bound(const struct rs *r, int64_t n)
{
	if (n >= 0 && n < FD_LIMIT && r->bound[n])
		return true;
	for (unsigned k = 0; k < r->nunopened; k++)
		if (r->unopened[k] == n)
			return true;
	return false;
}

/* The variable that holds fd number n, or the number itself. */
static struct rx *fd_rx(struct rs *r, int64_t n)
{
	if (!is_bound(r, n))
		return rx_atom(r->ar, "%" PRId64, n);
	if (n >= 0 && n < FD_LIMIT)
		r->read_fd[n] = true;
	return rx_atom(r->ar, "fd%" PRId64, n);
}

/* The name a new binding of fd number n gets: "_fdN" when nothing reads it. */
static const char *bind_name(struct rs *r, int n, char *buf, size_t len)
{
	snprintf(buf, len, "%sfd%d", r->read_fd[n] ? "" : "_", n);
	r->bound[n] = true;
	return buf;
}

/* epoll_pwait2's timespec, an Option of ns: a call that blocks takes the
 * planned timeout (ms) as the others do; else the trace's (None: none). */
static struct rx *timeout_ns_rx(struct rs *r, uint32_t i)
{
	const struct op *op = &r->p->ops[i];

	if (rs_record(r->rec, i)->state == STEP_BLOCKED)
		return rx_atom(r->ar, "Some(%" PRId64 ")", r->steps[i].timeout * 1000000);
	if (!op_has(op, F_TIMEOUT_NS))
		return rx_atom(r->ar, "None");
	return rx_atom(r->ar, "Some(%" PRId64 ")", op->f[F_TIMEOUT_NS]);
}

/* A field as the test passes it: the planned timeout and maxevents, the
 * value a run-time default takes. */
static struct rx *field_rx(struct rs *r, uint32_t i, const struct field_desc *fd)
{
	const struct op *op = &r->p->ops[i];
	int64_t v = op->f[fd->id];

	if (fd->id == F_TIMEOUT_NS)
		return timeout_ns_rx(r, i);
	if (fd->id == F_ARG && fd_sim_op_made(op)) /* F_DUPFD's: a number */
		return rx_atom(r->ar, "%" PRId64, v);
	if (op->kind == OP_CLOSE_RANGE && fd->id == F_FLAGS) /* the crate's are u32 */
		return rx_atom(r->ar, "%" PRId64, (int64_t)(int32_t)v);
	if (fd->id == F_MAXEVENTS)
		v = r->steps[i].maxevents;
	else if (fd->id == F_TIMEOUT)
		v = r->steps[i].timeout;
	else if (fd->id == F_DATA)
		v = (int64_t)op_data(op);
	else if (fd->id == F_LEN)
		v = (int64_t)op_io_len(op, r->steps[i].on_eventfd);
	switch (fd->kind) {
	case FK_FD:
		return fd_rx(r, v);
	case FK_FLAGS:
	case FK_ENUM:
		return flags_rx(r, fd->names, v);
	case FK_U64:
		return u64_rx(r, (uint64_t)v);
	case FK_INT:
	case FK_COUNT:
	case FK_U32:
		break;
	}
	return rx_atom(r->ar, "%" PRId64, v);
}

/* Whether step i's call is the eventfd variant of a read or a write. */
static bool eventfd_call(const struct rs *r, uint32_t i)
{
	return r->steps[i].on_eventfd && eventfd_calls[r->p->ops[i].kind].helper;
}

/* Whether step i's call returns the fds it makes. */
static bool makes_fds(const struct rs *r, uint32_t i)
{
	return fd_sim_op_made(&r->p->ops[i]) > 0;
}

/* Step i's call: helper(fields...). */
static struct rx *call_rx(struct rs *r, uint32_t i)
{
	unsigned kind = r->p->ops[i].kind;
	const struct op_desc *d = &op_table[kind];
	bool variant = eventfd_call(r, i);
	const char *helper = variant ? eventfd_calls[kind].helper : d->name;
	uint32_t skips = variant ? 0 : eventfd_calls[kind].plain_skips;
	struct rx *e = rx_list(r->ar, helper, '(');

	rs_use_helper(r, helper);
	for (unsigned k = 0; k < d->nfields; k++)
		if (!(skips & (1u << d->fields[k].id)))
			rx_push(e, field_rx(r, i, &d->fields[k]));
	return e;
}

static struct rx *ok_rx(struct rs *r, struct rx *value)
{
	return rx_call(r->ar, "Ok", value, NULL);
}

static struct rx *events_rx(struct rs *r, const struct outcome *o,
			    const struct result *res)
{
	struct rx *list = rx_macro(r->ar, "vec!", '[');

	for (uint32_t k = 0; k < res->ev_count; k++) {
		const struct event_rec *ev = &o->events[res->ev_first + k];

		rx_push(list, rx_call(r->ar, "", flags_rx(r, epoll_event_names, ev->events),
				      u64_rx(r, ev->data), NULL));
	}
	return list;
}

/* What step i's call returned in o, as the test expects it: Err(errno),
 * or Ok of what the result holds (fds, events, the counter read), of the
 * fd it made, or of the number it returned. */
static struct rx *expected_rx(struct rs *r, const struct outcome *o, uint32_t i,
			      const struct result *res)
{
	const char *name = errno_name(res->err);

	if (res->ret == -1)
		return rx_call(r->ar, "Err",
			       name[1] >= '0' && name[1] <= '9'
				       ? rx_atom(r->ar, "%d", res->err)
				       : rx_atom(r->ar, "libc::%s", name),
			       NULL);
	if (res->has & RES_FDS)
		return ok_rx(r, rx_call(r->ar, "", fd_rx(r, res->fds[0]),
					fd_rx(r, res->fds[1]), NULL));
	if (res->has & RES_EVENTS)
		return ok_rx(r, events_rx(r, o, res));
	if (res->has & RES_VALUE)
		return ok_rx(r, u64_rx(r, res->value));
	if (makes_fds(r, i))
		return ok_rx(r, fd_rx(r, res->ret));
	return ok_rx(r, rx_atom(r->ar, "%" PRId64, res->ret));
}

/* stepB.join().unwrap(): what blocked step b returned. */
static struct rx *joined_rx(struct rs *r, uint32_t b)
{
	return rx_atom(r->ar, "step%" PRIu32 ".join().unwrap()", b);
}

/* ------------------------------------------------------------------------
 * Statements.
 */

static void statement(struct rs *r, const char *lead, const struct rx *e)
{
	rs_statement(&r->out, INDENT, lead, e);
}

static void sleep_ms(struct rs *r, int ms)
{
	rs_line(&r->out, INDENT, "thread::sleep(Duration::from_millis(%d));", ms);
}

static void assert_eq(struct rs *r, struct rx *got, struct rx *want,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void assert_eq(struct rs *r, struct rx *got, struct rx *want,
		      const char *fmt, ...)
{
	struct rx *m = rx_macro(r->ar, "assert_eq!", '(');
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rx_push(rx_push(rx_push(m, got), want), rx_atom(r->ar, "\"%s\"", msg));
	statement(r, "", m);
}

/* Before the step that ends a blocked call on Linux: it has not returned. */
static void assert_asleep(struct rs *r, uint32_t b, uint32_t i)
{
	struct rx *m = rx_macro(r->ar, "assert!", '(');

	rx_push(m, rx_atom(r->ar, "!step%" PRIu32 ".is_finished()", b));
	rx_push(m, rx_atom(r->ar, "\"step %" PRIu32 " returned before step %" PRIu32 "\"",
			   b, i));
	statement(r, "", m);
}

static void comment(struct rs *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void comment(struct rs *r, const char *fmt, ...)
{
	struct text t;
	va_list ap;

	tx_reset(&t);
	va_start(ap, fmt);
	vsnprintf(t.buf, sizeof(t.buf), fmt, ap);
	va_end(ap);
	rs_comment(&r->out, INDENT, t.buf);
}

/* ------------------------------------------------------------------------
 * What a step says.
 */

/* "step 3 (t1), step 5 (t2)" */
static void tx_ended(struct text *t, const struct outcome *o,
		     const struct step_record *sr)
{
	for (uint32_t k = 0; k < sr->done_count; k++) {
		const struct completion *c = &o->done[sr->done_first + k];

		tx_printf(t, "%sstep %" PRIu32 " (t%u)", k ? ", " : "", c->step, c->t);
	}
}

static void tx_blocks(struct text *t, const struct rs *r, uint32_t i)
{
	const struct rs_step *st = &r->steps[i];

	tx_printf(t, " blocks");
	if (st->uncertain)
		tx_printf(t, ": where it ends depends on how woken threads race");
	else if (st->done_at != RS_NO_STEP)
		tx_printf(t, " until step %" PRIu32, st->done_at);
	else
		tx_printf(t, ": Linux leaves it blocked");
	if (op_is_epoll_wait(r->p->ops[i].kind) && rs_wait_ms(&r->p->ops[i]) > 0)
		tx_printf(t, " (timeout %" PRId64 " ms here)", st->timeout);
	else if (op_is_epoll_wait(r->p->ops[i].kind))
		tx_printf(t, " (no timeout; %" PRId64 " ms here, past the end, so that a "
			  "wait nothing wakes fails the test)", st->timeout);
	tx_printf(t, ".");
}

static void step_comment(struct rs *r, uint32_t i)
{
	const struct op *op = &r->p->ops[i];
	const struct step_record *sr = rs_record(r->rec, i);
	struct text t;

	tx_reset(&t);
	tx_printf(&t, "Step %" PRIu32 ": ", i);
	tx_call(&t, op);
	if (op->t)
		tx_printf(&t, " on t%u", op->t);
	if (sr->state == STEP_SKIPPED) {
		tx_printf(&t, " is skipped: t%u is blocked in step %" PRIu32 ".", op->t,
			  r->blocked_in[op->t]);
	} else if (sr->state == STEP_BLOCKED) {
		tx_blocks(&t, r, i);
	} else if (op->kind == OP_SLEEP) {
		tx_printf(&t, ", on the trace's clock: ");
		if (sr->done_count) {
			tx_ended(&t, r->rec, sr);
			tx_printf(&t, " time%s out.", sr->done_count > 1 ? "" : "s");
		} else {
			tx_printf(&t, "no wait's deadline passes.");
		}
	} else {
		tx_printf(&t, " = ");
		tx_record(&t, r->rec, sr);
		if (sr->done_count) {
			tx_printf(&t, "; wakes ");
			tx_ended(&t, r->rec, sr);
		}
		tx_printf(&t, ".");
	}
	if (r->steps[i].racing)
		tx_printf(&t, " Woken threads race: Linux allows %u results here.",
			  rs_results_at(r, i));
	comment(r, "%s", t.buf);
}

static void refusal_comments(struct rs *r, uint32_t i)
{
	for (unsigned k = 0; k < r->nrefusals && k < RS_MAX_REFUSALS; k++)
		if (r->refusals[k].step == i)
			comment(r, "Miri cannot run this: %s.", r->refusals[k].why);
}

/* ------------------------------------------------------------------------
 * Steps.
 */

/* Numbers step i looks up that the program never opened: a test takes a
 * closed one for each (closed_fd; profile.c says when it may), again
 * after the program made an fd, which took the last one. */
static void bind_unopened(struct rs *r, uint32_t i)
{
	const struct op *op = &r->p->ops[i];
	const struct op_desc *d = &op_table[op->kind];
	char lead[48];

	for (unsigned k = 0; k < d->nfields; k++) {
		int64_t n = op->f[d->fields[k].id];

		if (d->fields[k].kind != FK_FD || d->fields[k].id == F_NEWFD ||
		    fd_sim_kind(&r->sim, n) != FDK_FREE || is_bound(r, n))
			continue;
		if (r->nunopened == RS_MAX_UNOPENED)
			continue; /* the number itself, then */
		r->unopened[r->nunopened++] = n;
		snprintf(lead, sizeof(lead), "let fd%" PRId64 " = ", n);
		statement(r, lead, rx_atom(r->ar, "closed_fd()"));
		rs_use_helper(r, "closed_fd");
		rs_use_helper(r, "eventfd");
		rs_use_helper(r, "close");
	}
}

static void emit_spawn(struct rs *r, uint32_t i)
{
	const struct rs_step *st = &r->steps[i];
	struct rx *spawn = rx_call(r->ar, "spawn_blocking",
				   rx_closure(r->ar, call_rx(r, i)), NULL);
	char lead[48];

	if (st->uncertain) { /* probed with finished() */
		snprintf(lead, sizeof(lead), "let mut step%" PRIu32 " = ", i);
		spawn = rx_call(r->ar, "Some", spawn, NULL);
	} else { /* a call blocked forever is never joined (--allow-unsupported) */
		snprintf(lead, sizeof(lead), "let %sstep%" PRIu32 " = ",
			 st->forever && !op_is_epoll_wait(r->p->ops[i].kind) ? "_" : "", i);
	}
	statement(r, lead, spawn);
	rs_use_helper(r, "spawn_blocking");
	r->threads = true;
	r->blocked_in[r->p->ops[i].t] = i;
}

/* A call that made fds: new ones become variables fdN; a number the test
 * holds already (a lowest free fd taken again) is asserted equal. */
static void emit_binding(struct rs *r, uint32_t i)
{
	const struct result *res = &rs_record(r->rec, i)->res;
	struct rx *call = call_rx(r, i), *made;
	char a[16], b[16], lead[48];
	bool bound0, bound1;

	if (!(res->has & RES_FDS)) {
		if (r->bound[res->ret]) {
			assert_eq(r, call, expected_rx(r, r->rec, i, res), "step %" PRIu32, i);
			return;
		}
		made = rx_method(r->ar, call, ".expect(\"step %" PRIu32 "\")", i);
		snprintf(lead, sizeof(lead), "let %s = ",
			 bind_name(r, (int)res->ret, a, sizeof(a)));
		statement(r, lead, made);
		return;
	}
	bound0 = r->bound[res->fds[0]];
	bound1 = r->bound[res->fds[1]];
	if (bound0 && bound1) {
		assert_eq(r, call, expected_rx(r, r->rec, i, res), "step %" PRIu32, i);
		return;
	}
	made = rx_method(r->ar, call, ".expect(\"step %" PRIu32 "\")", i);
	if (!bound0 && !bound1) {
		bind_name(r, res->fds[0], a, sizeof(a));
		snprintf(lead, sizeof(lead), "let (%s, %s) = ", a,
			 bind_name(r, res->fds[1], b, sizeof(b)));
		statement(r, lead, made);
		return;
	}
	statement(r, "let fds = ", made);
	for (int k = 0; k < 2; k++) {
		if (k == 0 ? bound0 : bound1) {
			assert_eq(r, rx_atom(r->ar, "fds.%d", k), fd_rx(r, res->fds[k]),
				  "step %" PRIu32, i);
			continue;
		}
		snprintf(lead, sizeof(lead), "let %s = ",
			 bind_name(r, res->fds[k], a, sizeof(a)));
		statement(r, lead, rx_atom(r->ar, "fds.%d", k));
	}
}

/* Outcome k's results at step i as one value: the call's own, then each
 * blocked call some outcome ends here (Some/None where that differs). */
static struct rx *alternative_rx(struct rs *r, unsigned k, uint32_t i)
{
	const struct outcome *o = r->outs[k];
	struct rx *all = rx_list(r->ar, "", '('), *last = NULL;
	unsigned n = 0;

	if (r->p->ops[i].kind != OP_SLEEP) {
		rx_push(all, last = expected_rx(r, o, i, &rs_record(o, i)->res));
		n++;
	}
	for (uint32_t b = 0; b < i; b++) {
		const struct completion *c = rs_completion(o, b);
		bool here = rs_ended(r, k, b) == i;

		if (!rs_ends_here(r, b, i))
			continue;
		last = here ? expected_rx(r, o, b, &c->res) : NULL;
		if (r->steps[b].uncertain)
			last = here ? rx_call(r->ar, "Some", last, NULL) : rx_atom(r->ar, "None");
		rx_push(all, last);
		n++;
	}
	return n == 1 ? last : all;
}

static void mask_text(const struct rs *r, uint64_t mask, char *buf)
{
	char *b = buf + sprintf(buf, "0b");

	for (unsigned k = r->nouts; k-- > 0;)
		*b++ = (char)('0' + ((mask >> k) & 1));
	*b = '\0';
}

/* What a step (or the end) checks when outcomes differ there. */
struct race {
	const char *label;                /* "step 6", "the end" */
	uint32_t step;                    /* RS_NO_STEP: the end */
	/* Whether outcomes a and b give the same results there. */
	bool (*same)(const struct rs *r, unsigned a, unsigned b, uint32_t step);
	/* Outcome k's results there, as one value. */
	struct rx *(*value)(struct rs *r, unsigned k, uint32_t step);
};

/* got must be one of the alternatives still possible: a value per group
 * of outcomes that agree there. */
static void check_one_of(struct rs *r, const struct race *race, struct rx *got)
{
	struct rx *alternatives = rx_list(r->ar, "", '[');
	uint64_t grouped = 0;
	char mask[80];

	statement(r, "let got = ", got);
	for (unsigned k = 0; k < r->nouts; k++) {
		uint64_t same = 0;

		if (grouped >> k & 1)
			continue;
		for (unsigned j = k; j < r->nouts; j++)
			if (race->same(r, k, j, race->step))
				same |= (uint64_t)1 << j;
		grouped |= same;
		mask_text(r, same, mask);
		rx_push(alternatives, rx_call(r->ar, "", rx_atom(r->ar, "%s", mask),
					      race->value(r, k, race->step), NULL));
	}
	statement(r, "let alternatives = ", alternatives);
	statement(r, ++r->racing_seen < r->nracing ? "possible = " : "",
		  rx_call(r->ar, "one_of", rx_atom(r->ar, "\"%s\"", race->label),
			  rx_atom(r->ar, "got"), rx_atom(r->ar, "possible"),
			  rx_atom(r->ar, "&alternatives"), NULL));
	rs_use_helper(r, "one_of");
}

static bool same_at_step(const struct rs *r, unsigned a, unsigned b, uint32_t i)
{
	return rs_same_said(r->outs[a], r->outs[b], i);
}

/* A step where the outcomes differ: its call, then what the blocked calls
 * some outcome ends here returned, as one value. */
static void emit_race(struct rs *r, uint32_t i)
{
	struct rx *got = rx_list(r->ar, "", '('), *only = NULL;
	char label[32];
	unsigned n = 0;

	struct race race = { label, i, same_at_step, alternative_rx };

	snprintf(label, sizeof(label), "step %" PRIu32, i);
	if (r->steps[i].probes) {
		statement(r, "let ret = ", call_rx(r, i));
		sleep_ms(r, RS_TICK_MS); /* the woken threads' time */
		rx_push(got, only = rx_atom(r->ar, "ret"));
		n++;
	} else if (r->p->ops[i].kind != OP_SLEEP) {
		rx_push(got, only = call_rx(r, i));
		n++;
	}
	for (uint32_t b = 0; b < i; b++) {
		if (!rs_ends_here(r, b, i))
			continue;
		if (r->steps[b].uncertain) {
			rs_use_helper(r, "finished");
			only = rx_atom(r->ar, "finished(&mut step%" PRIu32 ")", b);
		} else {
			only = joined_rx(r, b);
		}
		rx_push(got, only);
		n++;
	}
	check_one_of(r, &race, n == 1 ? only : got);
}

/* What the blocked calls that step i ended returned. */
static void check_ended(struct rs *r, uint32_t i, const char *how)
{
	const struct step_record *sr = rs_record(r->rec, i);

	for (uint32_t k = 0; k < sr->done_count; k++) {
		const struct completion *c = &r->rec->done[sr->done_first + k];

		assert_eq(r, joined_rx(r, c->step), expected_rx(r, r->rec, c->step, &c->res),
			  "step %" PRIu32 ", %s step %" PRIu32, c->step, how, i);
	}
}

/* Before the step that ends them: the blocked calls it surely ends. */
static void assert_all_asleep(struct rs *r, uint32_t i)
{
	for (uint32_t b = 0; b < i; b++)
		if (!r->steps[b].uncertain && rs_ends_here(r, b, i))
			assert_asleep(r, b, i);
}

static void emit_done(struct rs *r, uint32_t i)
{
	const struct step_record *sr = rs_record(r->rec, i);

	assert_all_asleep(r, i);
	if (r->steps[i].racing) {
		emit_race(r, i);
		return;
	}
	if (makes_fds(r, i) && sr->res.ret >= 0)
		emit_binding(r, i);
	else
		assert_eq(r, call_rx(r, i), expected_rx(r, r->rec, i, &sr->res),
			  "step %" PRIu32, i);
	check_ended(r, i, "woken by");
}

/* A sleep that ends timed waits sleeps long enough (slack_ms twice),
 * their deadlines halfway. */
static void emit_sleep(struct rs *r, uint32_t i)
{
	if (!r->steps[i].ends_some)
		return;
	assert_all_asleep(r, i);
	sleep_ms(r, (int)(2 * r->steps[i].slack_ms));
	if (r->steps[i].racing)
		emit_race(r, i);
	else
		check_ended(r, i, "timed out at");
}

static void emit_step(struct rs *r, uint32_t i)
{
	const struct op *op = &r->p->ops[i];
	const struct step_record *sr = rs_record(r->rec, i);

	if (i)
		fputc('\n', r->out.f);
	r->steps[i].on_eventfd = (op->kind == OP_READ || op->kind == OP_WRITE) &&
				 fd_sim_kind(&r->sim, op->f[F_FD]) == FDK_EVENTFD;
	step_comment(r, i);
	refusal_comments(r, i);
	if (sr->state == STEP_BLOCKED || (sr->state == STEP_DONE && op->kind != OP_SLEEP))
		bind_unopened(r, i);
	if (sr->state == STEP_BLOCKED)
		emit_spawn(r, i);
	else if (sr->state == STEP_DONE && op->kind == OP_SLEEP)
		emit_sleep(r, i);
	else if (sr->state == STEP_DONE)
		emit_done(r, i);
	/* time for a thread the step woke for nothing to fall asleep again
	 * (a step that probes had it already) */
	if (r->steps[i].settle && !r->steps[i].probes)
		sleep_ms(r, RS_TICK_MS);
	if (sr->state != STEP_DONE)
		return;
	fd_sim_apply_result(&r->sim, op, &sr->res);
	if (sr->res.ret >= 0 && makes_fds(r, i))
		r->nunopened = 0; /* it took the closed number they hold */
}

/* ------------------------------------------------------------------------
 * The end.
 */

/* Whether outcomes a and b leave the same uncertain calls blocked. */
static bool same_at_end(const struct rs *r, unsigned a, unsigned b, uint32_t unused)
{
	(void)unused;
	for (uint32_t s = 0; s < r->p->nops; s++)
		if (r->steps[s].uncertain &&
		    (rs_ended(r, a, s) == RS_NO_STEP) != (rs_ended(r, b, s) == RS_NO_STEP))
			return false;
	return true;
}

/* Outcome k at the end: each uncertain call it leaves blocked times out. */
static struct rx *end_alternative_rx(struct rs *r, unsigned k, uint32_t unused)
{
	struct rx *all = rx_list(r->ar, "", '('), *last = NULL;
	unsigned n = 0;

	(void)unused;
	for (uint32_t b = 0; b < r->p->nops; b++) {
		if (!r->steps[b].uncertain || !rs_blocked_at_end(r, b))
			continue;
		last = rs_ended(r, k, b) == RS_NO_STEP
			       ? rx_atom(r->ar, "Some(Ok(vec![]))")
			       : rx_atom(r->ar, "None");
		rx_push(all, last);
		n++;
	}
	return n == 1 ? last : all;
}

/* The uncertain calls still pending are joined: they time out. */
static void emit_end_race(struct rs *r)
{
	struct race race = { "the end", RS_NO_STEP, same_at_end, end_alternative_rx };
	struct rx *got = rx_list(r->ar, "", '('), *only = NULL;
	unsigned n = 0;

	fputc('\n', r->out.f);
	comment(r, "The end: whether Linux leaves the calls below blocked depends on how "
		"woken threads raced; those it leaves time out.");
	for (uint32_t b = 0; b < r->p->nops; b++) {
		if (!r->steps[b].uncertain || !rs_blocked_at_end(r, b))
			continue;
		rx_push(got, only = rx_atom(r->ar, "step%" PRIu32 ".map(|h| h.join().unwrap())",
					    b));
		n++;
	}
	check_one_of(r, &race, n == 1 ? only : got);
}

/* The calls Linux leaves blocked: timed waits end after the last step. */
static void emit_end(struct rs *r)
{
	for (uint32_t k = 0; k < r->rec->nblocked; k++) {
		uint32_t b = r->rec->blocked[k].step;

		if (r->steps[b].uncertain)
			continue;
		fputc('\n', r->out.f);
		if (r->steps[b].forever && !op_is_epoll_wait(r->p->ops[b].kind)) {
			comment(r, "Linux leaves step %" PRIu32 " blocked forever: it is not "
				"joined (Miri reports a deadlock).", b);
			continue;
		}
		comment(r, "Linux leaves step %" PRIu32 " blocked at the end%s: its timeout "
			"ends it.", b, r->steps[b].forever ? " and it has none; here" : "");
		assert_eq(r, joined_rx(r, b), rx_atom(r->ar, "Ok(vec![])"),
			  "step %" PRIu32 ", timed out after the last step", b);
	}
	if (r->end_racing)
		emit_end_race(r);
}

void rs_write_main(struct rs *r, FILE *f)
{
	char ones[80];

	r->out = (struct rs_out){ f, r->opt->miri_rustfmt ? &rs_style_miri
							  : &rs_style_default, 0 };
	fd_sim_init(&r->sim);
	memset(r->bound, 0, sizeof(r->bound));
	r->nunopened = 0;
	memset(r->blocked_in, 0, sizeof(r->blocked_in));
	r->racing_seen = 0;
	if (r->threads) { /* known from the first pass */
		comment(r, "One CPU for every thread, as the trace was recorded.");
		rs_line(&r->out, INDENT, "one_cpu();");
		fputc('\n', f);
		rs_use_helper(r, "one_cpu");
	}
	if (r->nracing) {
		comment(r, "Woken threads race in this trace: Linux allows %u outcomes. "
			"`possible` holds those that every result so far agrees with, one "
			"bit each, bit 0 the recorded one.", r->nouts);
		mask_text(r, r->nouts < 64 ? ((uint64_t)1 << r->nouts) - 1 : ~(uint64_t)0,
			  ones);
		rs_line(&r->out, INDENT, "let %spossible = %s;", r->nracing > 1 ? "mut " : "",
			ones);
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < r->p->nops; i++)
		emit_step(r, i);
	emit_end(r);
}
