/*
 * text.c - results and field values as text: results exactly as the
 * reproducer's runtime prints them (runtime.c, append_result), so that its
 * checks compare strings; field values as the C the reproducer compiles.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "fdsim.h"
#include "internal.h"

void tx_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (t->used + 1 >= sizeof(t->buf))
		return;
	va_start(ap, fmt);
	w = vsnprintf(t->buf + t->used, sizeof(t->buf) - t->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		t->used += (size_t)w < sizeof(t->buf) - t->used ?
				   (size_t)w : sizeof(t->buf) - t->used - 1;
}

void tx_reset(struct text *t)
{
	t->buf[0] = '\0';
	t->used = 0;
}

/* A C string literal: quotes and backslashes escaped. */
void put_c_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* ------------------------------------------------------------------------
 * Results.
 */

static void tx_u64(struct text *t, uint64_t v)
{
	if (v < 0x100000)
		tx_printf(t, "%" PRIu64, v);
	else
		tx_printf(t, "0x%" PRIx64, v);
}

static void tx_events(struct text *t, uint32_t bits)
{
	const char *sep = "";

	if (bits == 0) {
		tx_printf(t, "0");
		return;
	}
	for (const struct flag_name *n = epoll_event_names; n->name; n++)
		if ((bits & n->bits) == n->bits) {
			tx_printf(t, "%s%s", sep, n->name);
			bits &= ~(uint32_t)n->bits;
			sep = "|";
		}
	if (bits)
		tx_printf(t, "%s0x%x", sep, bits);
}

void tx_result(struct text *t, const struct outcome *o,
		      const struct result *res)
{
	tx_printf(t, "%" PRId64, res->ret);
	if (res->ret == -1)
		tx_printf(t, " %s", errno_name(res->err));
	if (res->has & RES_FDS)
		tx_printf(t, " fds=[%d,%d]", res->fds[0], res->fds[1]);
	if (res->has & RES_VALUE) {
		tx_printf(t, " value=");
		tx_u64(t, res->value);
	}
	if (!(res->has & RES_EVENTS))
		return;
	tx_printf(t, " [");
	for (uint32_t i = 0; i < res->ev_count; i++) {
		const struct event_rec *ev = &o->events[res->ev_first + i];

		tx_printf(t, "%s", i ? ", " : "");
		tx_events(t, ev->events);
		tx_printf(t, ":");
		tx_u64(t, ev->data);
	}
	tx_printf(t, "]");
}

/* A step's own result: a value, "blocked" or "skipped (blocked)". */
void tx_record(struct text *t, const struct outcome *o,
		      const struct step_record *rec)
{
	switch ((enum step_state)rec->state) {
	case STEP_DONE:
		tx_result(t, o, &rec->res);
		break;
	case STEP_BLOCKED:
		tx_printf(t, "blocked");
		break;
	case STEP_SKIPPED:
		tx_printf(t, "skipped (blocked)");
		break;
	case STEP_UNSUPPORTED:
		tx_printf(t, "unsupported");
		break;
	}
}

/* The blocked steps a step completed: "t1 step 3 = 1 [EPOLLIN:4], ...". */
void tx_woke(struct text *t, const struct outcome *o,
		    const struct step_record *rec)
{
	for (uint32_t i = 0; i < rec->done_count; i++) {
		const struct completion *c = &o->done[rec->done_first + i];

		tx_printf(t, "%st%u step %u = ", i ? ", " : "", c->t, c->step);
		tx_result(t, o, &c->res);
	}
}

void tx_still_blocked(struct text *t, const struct outcome *o)
{
	for (uint32_t i = 0; i < o->nblocked; i++)
		tx_printf(t, "%st%u step %u", i ? ", " : "", o->blocked[i].t,
			  o->blocked[i].step);
}

/* The op as epollfuzz prints it, without its thread. */
void tx_call(struct text *t, const struct op *op)
{
	struct op bare = *op;

	bare.t = 0;
	op_format(&bare, t->buf + t->used, sizeof(t->buf) - t->used);
	t->used += strlen(t->buf + t->used);
}

/* ------------------------------------------------------------------------
 * Field values as C expressions.
 */

/* Named bits, then the rest in hex: "EPOLLIN|EPOLLET|0x4000000". */
static void tx_c_flags(struct text *t, const struct flag_name *names,
		       int64_t v)
{
	uint64_t left = (uint64_t)v;
	const char *sep = "";

	if (v <= 0) {
		tx_printf(t, "%" PRId64, v);
		return;
	}
	for (const struct flag_name *n = names; n->name; n++)
		if (n->bits && n->mask == n->bits && (left & n->bits) == n->bits) {
			tx_printf(t, "%s%s", sep, n->name);
			left &= ~n->bits;
			sep = "|";
		}
	if (left)
		tx_printf(t, "%s0x%" PRIx64, sep, left);
}

static void tx_c_enum(struct text *t, const struct flag_name *names,
		      int64_t v)
{
	char text[256];

	if (v >= 0 && flags_format(names, (uint64_t)v, text, sizeof(text)))
		tx_printf(t, "%s", text);
	else
		tx_printf(t, "%" PRId64, v);
}

static void tx_c_u64(struct text *t, uint64_t v)
{
	if (v <= INT64_MAX)
		tx_printf(t, "%" PRIu64, v);
	else
		tx_printf(t, "(long long)0x%" PRIx64 "ULL", v);
}

/*
 * A field an op leaves out whose value is decided when it runs: epoll_ctl's
 * data is the fd's number, known now; a read or write length depends on
 * whether the fd is an eventfd then, so it stays -1 and io_len() decides.
 */
static int64_t runtime_default(const struct op *op, const struct field_desc *fd)
{
	if (fd->id == F_DATA)
		return (int64_t)op_data(op);
	return -1;
}

void tx_c_field(struct text *t, const struct op *op,
		       const struct field_desc *fd)
{
	int64_t v = op->f[fd->id];

	if (fd->id == F_TIMEOUT_NS && !op_has(op, fd->id)) {
		tx_printf(t, "NO_TIMEOUT_NS"); /* repro.h: a NULL timespec */
		return;
	}
	if (fd->defkind == DEF_RUNTIME && !op_has(op, fd->id))
		v = runtime_default(op, fd);
	if (fd->id == F_ARG && fd_sim_op_made(op)) { /* F_DUPFD's: a number */
		tx_printf(t, "%" PRId64, v);
		return;
	}
	switch (fd->kind) {
	case FK_FLAGS:
		tx_c_flags(t, fd->names, v);
		break;
	case FK_ENUM:
		tx_c_enum(t, fd->names, v);
		break;
	case FK_U64:
		if (fd->defkind == DEF_RUNTIME || op_has(op, fd->id) || v < 0)
			tx_c_u64(t, (uint64_t)v);
		else
			tx_printf(t, "%" PRId64, v);
		break;
	case FK_FD:
	case FK_INT:
	case FK_COUNT:
	case FK_U32:
		tx_printf(t, "%" PRId64, v);
		break;
	}
}
