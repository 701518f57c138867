/*
 * format.c - one op or one result as a line of text, for tables and logs.
 *
 *   epoll_ctl(3, EPOLL_CTL_ADD, 4, EPOLLIN|EPOLLET, data=4)
 *   t1: epoll_wait(3, 16, -1)
 *   = 2 [EPOLLIN:4, EPOLLOUT|EPOLLERR:5]
 *
 * Fields come from the op table.  The leading fields are positional, as in
 * the C call; from the first field whose default is decided at run time
 * (epoll_ctl's data, read/write's len) on, fields are written as name=value
 * and only when they say something: given explicitly, or off their default.
 */
#include <stdarg.h>
#include <string.h>

#include "fdsim.h"
#include "trace.h"

/* A bounded string being appended to; output past the end is dropped. */
struct sbuf {
	char *buf;
	size_t len;
	size_t used;
};

static struct sbuf sbuf_start(char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	return (struct sbuf){ buf, len, 0 };
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (sb->used + 1 >= sb->len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(sb->buf + sb->used, sb->len - sb->used, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	sb->used += (size_t)w < sb->len - sb->used ? (size_t)w : sb->len - sb->used - 1;
}

/* Small numbers read best in decimal, bit patterns such as
 * 0xfffffffffffffffe in hex. */
static void put_u64(struct sbuf *sb, uint64_t v)
{
	if (v < 0x100000)
		sb_printf(sb, "%llu", (unsigned long long)v);
	else
		sb_printf(sb, "0x%llx", (unsigned long long)v);
}

/* Named bits, then any bits without a name in hex: "EPOLLIN|0x4000000". */
static void put_flags(struct sbuf *sb, const struct flag_name *names,
		      uint32_t bits)
{
	uint32_t named = 0;
	char text[256];

	if (bits == 0) {
		sb_printf(sb, "0");
		return;
	}
	for (const struct flag_name *n = names; n->name; n++)
		if (n->mask == n->bits)
			named |= (uint32_t)n->bits;
	if ((bits & named) && flags_format(names, bits & named, text, sizeof(text)))
		sb_printf(sb, "%s%s", text, bits & ~named ? "|" : "");
	if (bits & ~named)
		sb_printf(sb, "0x%x", bits & ~named);
}

static void put_enum(struct sbuf *sb, const struct flag_name *names, int64_t v)
{
	char text[128];

	if (v >= 0 && flags_format(names, (uint64_t)v, text, sizeof(text)))
		sb_printf(sb, "%s", text);
	else
		sb_printf(sb, "%lld", (long long)v);
}

static void put_field(struct sbuf *sb, const struct field_desc *fd, int64_t v)
{
	switch (fd->kind) {
	case FK_FD:
	case FK_INT:
	case FK_COUNT:
	case FK_U32:
		sb_printf(sb, "%lld", (long long)v);
		break;
	case FK_U64:
		put_u64(sb, (uint64_t)v);
		break;
	case FK_FLAGS:
		put_flags(sb, fd->names, (uint32_t)v);
		break;
	case FK_ENUM:
		put_enum(sb, fd->names, v);
		break;
	}
}

static bool worth_naming(const struct op *op, const struct field_desc *fd)
{
	return op_has(op, fd->id) ||
	       (fd->defkind == DEF_VALUE && op->f[fd->id] != fd->def);
}

void op_format(const struct op *op, char *buf, size_t len)
{
	struct sbuf sb = sbuf_start(buf, len);
	const struct op_desc *d;
	bool keyword = false;
	unsigned shown = 0;

	if (op->t)
		sb_printf(&sb, "t%u: ", op->t);
	if (op->kind >= OP_KIND_COUNT) {
		sb_printf(&sb, "op#%u()", op->kind);
		return;
	}
	d = &op_table[op->kind];
	sb_printf(&sb, "%s(", d->name);
	for (unsigned i = 0; i < d->nfields; i++) {
		const struct field_desc *fd = &d->fields[i];

		keyword |= fd->defkind == DEF_RUNTIME;
		if (keyword && !worth_naming(op, fd))
			continue;
		sb_printf(&sb, "%s", shown++ ? ", " : "");
		if (keyword)
			sb_printf(&sb, "%s=", fd->name);
		if (fd->id == F_ARG && fd_sim_op_made(op)) /* F_DUPFD's: a number */
			sb_printf(&sb, "%lld", (long long)op->f[fd->id]);
		else
			put_field(&sb, fd, op->f[fd->id]);
	}
	sb_printf(&sb, ")");
}

/* The state of the step record that holds res, or STEP_DONE when res is a
 * completion's (those always returned). */
static enum step_state state_of(const struct outcome *o, const struct result *res)
{
	for (uint32_t i = 0; i < o->nsteps; i++)
		if (&o->steps[i].res == res)
			return (enum step_state)o->steps[i].state;
	return STEP_DONE;
}

static void put_events(struct sbuf *sb, const struct outcome *o,
		       const struct result *res)
{
	sb_printf(sb, " [");
	for (uint32_t i = 0; i < res->ev_count; i++) {
		uint32_t k = res->ev_first + i;

		if (i)
			sb_printf(sb, ", ");
		if (k >= o->nevents) {
			sb_printf(sb, "?");
			continue;
		}
		put_flags(sb, epoll_event_names, o->events[k].events);
		sb_printf(sb, ":");
		put_u64(sb, o->events[k].data);
	}
	sb_printf(sb, "]");
}

static void put_result(struct sbuf *sb, const struct outcome *o,
		       const struct result *res)
{
	sb_printf(sb, "= %lld", (long long)res->ret);
	if (res->ret == -1)
		sb_printf(sb, " %s", errno_name(res->err));
	if (res->has & RES_FDS)
		sb_printf(sb, " fds=[%d,%d]", res->fds[0], res->fds[1]);
	if (res->has & RES_VALUE) {
		sb_printf(sb, " value=");
		put_u64(sb, res->value);
	}
	if (res->has & RES_EVENTS)
		put_events(sb, o, res);
}

void result_format(const struct outcome *o, const struct result *res,
		   char *buf, size_t len)
{
	struct sbuf sb = sbuf_start(buf, len);

	switch (state_of(o, res)) {
	case STEP_DONE:
		put_result(&sb, o, res);
		break;
	case STEP_BLOCKED:
		sb_printf(&sb, "blocked");
		break;
	case STEP_SKIPPED:
		sb_printf(&sb, "skipped (blocked)");
		break;
	case STEP_UNSUPPORTED:
		sb_printf(&sb, "unsupported");
		break;
	}
}
