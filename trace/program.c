/*
 * program.c - programs, outcomes, flag names and errors: the plain data that
 * flows between the pieces.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

int fail(struct error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---------------------------------------------------------------- flags */

bool flags_format(const struct flag_name *names, uint64_t value, char *buf,
		  size_t len)
{
	uint64_t left = value;
	size_t used = 0;

	buf[0] = '\0';
	for (const struct flag_name *n = names; n->name; n++) {
		bool is_enum = n->mask != n->bits;
		bool match = is_enum ? (value & n->mask) == n->bits
				     : n->bits && (left & n->bits) == n->bits;
		if (!match)
			continue;
		int w = snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
				 n->name);
		if (w < 0 || (size_t)w >= len - used)
			return false;
		used += (size_t)w;
		left &= ~n->mask;
	}
	return left == 0 && used > 0;
}

int flags_parse(const struct flag_name *names, const char *text,
		uint64_t *value, struct error *err)
{
	const char *p = text;

	*value = 0;
	while (*p) {
		const char *end = strchr(p, '|');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const struct flag_name *f;

		for (f = names; f->name; f++)
			if (strlen(f->name) == n && strncmp(f->name, p, n) == 0)
				break;
		if (!f->name)
			return fail(err, "unknown flag name '%.*s'", (int)n, p);
		*value |= f->bits;
		p += n;
		if (*p == '|') {
			p++;
			if (!*p)
				return fail(err, "flag list ends with '|'");
		}
	}
	return 0;
}

/* ------------------------------------------------------------- programs */

void program_init(struct program *p)
{
	memset(p, 0, sizeof(*p));
	p->threads = 1;
}

void program_free(struct program *p)
{
	for (unsigned i = 0; i < p->nops; i++)
		json_decref(p->ops[i].extras);
	json_decref(p->extras);
	free(p->ops);
	program_init(p);
}

int program_push(struct program *p, const struct op *op, struct error *err)
{
	if (p->nops >= MAX_OPS)
		return fail(err, "a program holds at most %d ops", MAX_OPS);
	if ((p->nops & (p->nops - 1)) == 0 || p->ops == NULL) {
		unsigned cap = p->nops ? p->nops * 2 : 8;
		struct op *n = realloc(p->ops, cap * sizeof(*n));

		if (!n)
			return fail(err, "out of memory");
		p->ops = n;
	}
	p->ops[p->nops] = *op;
	p->ops[p->nops].extras = op->extras ? json_deep_copy(op->extras) : NULL;
	p->nops++;
	return 0;
}

int program_copy(struct program *dst, const struct program *src,
		 struct error *err)
{
	program_init(dst);
	for (unsigned i = 0; i < src->nops; i++)
		if (program_push(dst, &src->ops[i], err) < 0) {
			program_free(dst);
			return -1;
		}
	dst->threads = src->threads;
	dst->threads_given = src->threads_given;
	dst->extras = src->extras ? json_deep_copy(src->extras) : NULL;
	return 0;
}

unsigned program_min_threads(const struct program *p)
{
	unsigned n = 1;

	for (unsigned i = 0; i < p->nops; i++)
	{
		if (p->ops[i].t + 1u > n)
			n = p->ops[i].t + 1u;
		if (p->ops[i].kind == OP_FORK && p->ops[i].f[F_CHILD] >= 0 &&
			 p->ops[i].f[F_CHILD] < MAX_THREADS &&
			 p->ops[i].f[F_CHILD] + 1 > (int64_t)n)
			n = (unsigned)p->ops[i].f[F_CHILD] + 1u;
	}
	return n;
}

unsigned program_check_processes(const struct program *p, struct error *why)
{
	bool used[MAX_THREADS] = { false }, forked[MAX_THREADS] = { false },
	     exited[MAX_THREADS] = { false };

	for (unsigned i = 0; i < p->nops; i++) {
		const struct op *op = &p->ops[i];
		unsigned t = op->t;
		int64_t c;

		if (t >= MAX_THREADS)
			return i; /* the loaders refuse these on their own */
		if (exited[t]) {
			fail(why, "ops[%u].t: thread %u's process exited (exit) before", i, t);
			return i;
		}
		used[t] = true;
		if (op->kind == OP_FORK) {
			c = op->f[F_CHILD];
			if (c < 0 || c >= (int64_t)p->threads) {
				fail(why, "ops[%u].child: thread %" PRId64 " is not a thread of "
				     "the program (0..%u)", i, c, p->threads - 1);
				return i;
			}
			if (used[c]) {
				fail(why, "ops[%u].child: thread %" PRId64 " is already in use "
				     "(an earlier op or this one names it)", i, c);
				return i;
			}
			used[c] = forked[c] = true;
		} else if (op->kind == OP_EXIT) {
			if (!forked[t]) {
				fail(why, "ops[%u].t: exit by thread %u, which no earlier fork "
				     "started (process 0 never exits)", i, t);
				return i;
			}
			exited[t] = true;
		}
	}
	return p->nops;
}

/* ------------------------------------------------------------- outcomes */

void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
}

void outcome_reset(struct outcome *o)
{
	o->nsteps = o->nevents = o->ndone = o->nblocked = 0;
	o->unsupported[0] = '\0';
	memset(&o->violation, 0, sizeof(o->violation));
}

void outcome_free(struct outcome *o)
{
	free(o->steps);
	free(o->events);
	free(o->done);
	outcome_init(o);
}

/* Grows *buf (of elements of size sz) to hold one more; aborts on ENOMEM,
 * which a fuzzer cannot recover from anyway. */
static void *grow(void *buf, uint32_t n, uint32_t *cap, size_t sz)
{
	if (n < *cap)
		return buf;
	*cap = *cap ? *cap * 2 : 16;
	buf = realloc(buf, (size_t)*cap * sz);
	if (!buf)
		abort();
	return buf;
}

struct step_record *outcome_add_step(struct outcome *o, uint32_t step,
				     unsigned t)
{
	struct step_record *r;

	o->steps = grow(o->steps, o->nsteps, &o->cap_steps, sizeof(*o->steps));
	r = &o->steps[o->nsteps++];
	memset(r, 0, sizeof(*r));
	r->step = step;
	r->t = (uint8_t)t;
	r->done_first = o->ndone;
	r->res.ev_first = o->nevents;
	return r;
}

void outcome_add_event(struct outcome *o, struct result *res, uint32_t events,
		       uint64_t data)
{
	o->events = grow(o->events, o->nevents, &o->cap_events,
			 sizeof(*o->events));
	if (res->ev_count == 0)
		res->ev_first = o->nevents;
	o->events[o->nevents].events = events;
	o->events[o->nevents].data = data;
	o->nevents++;
	res->ev_count++;
}

struct completion *outcome_add_completion(struct outcome *o,
					  struct step_record *rec,
					  uint32_t step, unsigned t)
{
	struct completion *c;

	o->done = grow(o->done, o->ndone, &o->cap_done, sizeof(*o->done));
	if (rec->done_count == 0)
		rec->done_first = o->ndone;
	c = &o->done[o->ndone++];
	memset(c, 0, sizeof(*c));
	c->step = step;
	c->t = (uint8_t)t;
	rec->done_count++;
	return c;
}

void result_set_error(struct result *res, int err)
{
	res->ret = -1;
	res->err = err;
}

int outcome_copy(struct outcome *dst, const struct outcome *src)
{
	outcome_init(dst);
	*dst = *src;
	dst->steps = NULL;
	dst->events = NULL;
	dst->done = NULL;
	dst->cap_steps = src->nsteps;
	dst->cap_events = src->nevents;
	dst->cap_done = src->ndone;
	if (src->nsteps && !(dst->steps = malloc(src->nsteps * sizeof(*src->steps))))
		goto nomem;
	if (src->nevents && !(dst->events = malloc(src->nevents * sizeof(*src->events))))
		goto nomem;
	if (src->ndone && !(dst->done = malloc(src->ndone * sizeof(*src->done))))
		goto nomem;
	if (src->nsteps)
		memcpy(dst->steps, src->steps, src->nsteps * sizeof(*src->steps));
	if (src->nevents)
		memcpy(dst->events, src->events, src->nevents * sizeof(*src->events));
	if (src->ndone)
		memcpy(dst->done, src->done, src->ndone * sizeof(*src->done));
	return 0;
nomem:
	outcome_free(dst);
	return -1;
}

/* --------------------------------------------------------------- errnos */

#define E(x) { #x, x }
static const struct {
	const char *name;
	int err;
} errno_names[] = {
	E(EPERM),  E(ENOENT), E(EINTR),  E(EIO),     E(EBADF),  E(EAGAIN),
	E(ENOMEM), E(EFAULT), E(EBUSY),  E(EEXIST),  E(EINVAL), E(ENFILE),
	E(EMFILE), E(ENOSPC), E(ESPIPE), E(EPIPE),   E(ELOOP),  E(ENOTSOCK),
	E(EMSGSIZE), E(EOPNOTSUPP), E(ENOTCONN), E(ECONNRESET), E(ENOBUFS),
	E(EDESTADDRREQ), E(EISCONN), E(ENOSYS), E(ENOPKG), E(ESOCKTNOSUPPORT),
	E(ECONNREFUSED),
};

const char *errno_name(int err)
{
	static _Thread_local char buf[16];

	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

int errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (strcmp(errno_names[i].name, name) == 0)
			return errno_names[i].err;
	if (name[0] == 'E' && name[1] >= '0' && name[1] <= '9')
		return atoi(name + 1);
	return -1;
}
