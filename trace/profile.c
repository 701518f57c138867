/*
 * profile.c - the profiles of profile.h: each one a table of rules over the
 * op table, and the functions that read the tables.
 *
 * Miri's rules are read from its shims (src/shims/unix/linux_like/epoll.rs
 * and eventfd.rs, src/shims/unix/virtual_socket.rs and fd.rs): what they
 * answer with throw_unsup_format!, which ends a test as "unsupported", and
 * what a test in Miri's suite must not do (name fds it did not get from a
 * call, leave a thread blocked forever).  Where Miri returns a wrong errno
 * or wrong events, the op stays inside the profile: that is a finding.
 *
 * A number the program never opened is one a test gets by opening an fd
 * and closing it again (not open, like the trace's, and the next fd made
 * gets it back as it would have): fine where a call looks the fd up, not
 * as dup2's newfd, not where the program makes that number later, nor two
 * such numbers in one call (a test's would be equal).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "profile.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum rule_test {
	RULE_NEVER,   /* the op itself */
	RULE_BITS,    /* a flag field: no bit outside arg */
	RULE_ENUM_IS, /* an enum field: its named part (its names' mask) is arg */
	RULE_NAMED,   /* an enum field: one of the field's own names */
	RULE_MIN,     /* a number: at least arg */
	RULE_MAX,     /* a number: at most arg */
	RULE_NOT,     /* a number: not arg (profile_bend puts alt instead) */
	RULE_FD_NOT,  /* an fd: of none of the kinds in arg (FD_KIND_BIT bits) */
};

#define ANY_OP OP_KIND_COUNT /* a rule for every op, */
#define ANY_FD FIELD_COUNT   /* on each of its fd fields */

struct rule {
	unsigned op;    /* enum op_kind, or ANY_OP */
	unsigned field; /* enum field_id, or ANY_FD; none for RULE_NEVER */
	enum rule_test test;
	int64_t arg;
	int64_t alt;
	/* Where the rule does not hold; NULL: everywhere. */
	bool (*exempt)(const struct op *op);
	/* Only for drawing programs (profile_bend): profile_refuses() lets
	 * the op through, what it guards against is judged on the run. */
	bool draw_only;
	const char *why;
};

struct profile_desc {
	const char *name;
	const struct rule *rules;
	unsigned nrules;
	/* Whether a run must also be one a test can repeat: no thread left
	 * blocked forever, no result that depends on RLIMIT_NOFILE, no fd
	 * number a test cannot stand a closed one in for (profile_check_run). */
	bool repeatable_runs;
};

/* ------------------------------------------------------------------ Miri */

/* Miri's epoll_ctl checks epfd == fd first, and fails it with EFAULT
 * (Linux: EINVAL), before it looks at what either fd is. */
static bool epfd_is_fd(const struct op *op)
{
	return op->f[F_EPFD] == op->f[F_FD];
}

/* EPOLL_CTL_DEL ignores the event, in Miri as in Linux. */
static bool ctl_is_del(const struct op *op)
{
	return op->f[F_CTL] == EPOLL_CTL_DEL;
}

/* A read of 0 bytes returns 0 before Miri looks at the pipe end. */
static bool reads_nothing(const struct op *op)
{
	return op_has(op, F_LEN) && op->f[F_LEN] == 0;
}

/* fcntl rules that hold for some commands only (Miri's fcntl, fd.rs). */
static bool not_setfl(const struct op *op)
{
	return (int)op->f[F_CMD] != F_SETFL;
}

static bool not_getfl_setfl(const struct op *op)
{
	return (int)op->f[F_CMD] != F_GETFL && (int)op->f[F_CMD] != F_SETFL;
}

static bool not_dupfd(const struct op *op)
{
	return (int)op->f[F_CMD] != F_DUPFD && (int)op->f[F_CMD] != F_DUPFD_CLOEXEC;
}

#define KIND(k) FD_KIND_BIT(k)
#define MIRI_EVENTS \
	((int64_t)(uint32_t)(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLET))
/* Miri checks the whole buffer epoll_wait is given, whatever the kernel
 * would do first; a test has to allocate it. */
#define MIRI_MAX_EVENTS 65536
/* A wait drawn without a timeout gets this one (virtual ms). */
#define MIRI_DRAWN_TIMEOUT 100
/* The most a drawn F_DUPFD asks for: the fds up to the limit could not
 * all be taken by a drawn program, so no EMFILE. */
#define MIRI_DRAWN_DUPFD 64

/* In the order a refusal names them: ops first, the test's own rules last. */
static const struct rule miri_rules[] = {
	{ .op = OP_EPOLL_CREATE, .test = RULE_NEVER, .why = "Miri has epoll_create1 only" },
	{ .op = OP_EPOLL_CREATE1, .field = F_FLAGS, .test = RULE_BITS, .arg = EPOLL_CLOEXEC,
	  .why = "Miri aborts on it" },
	{ .op = OP_EPOLL_CTL, .field = F_EPFD, .test = RULE_FD_NOT,
	  .arg = FD_MADE_KINDS & ~KIND(FDK_EPOLL), .exempt = epfd_is_fd,
	  .why = "not an epoll instance: Miri aborts (Linux: EINVAL)" },
	{ .op = OP_EPOLL_CTL, .field = F_CTL, .test = RULE_NAMED,
	  .why = "Miri aborts on an op it does not know" },
	{ .op = OP_EPOLL_CTL, .field = F_FD, .test = RULE_FD_NOT, .arg = KIND(FDK_EPOLL),
	  .exempt = epfd_is_fd, .why = "an epoll instance: Miri cannot watch one (nested epoll)" },
	{ .op = OP_EPOLL_CTL, .field = F_EVENTS, .test = RULE_BITS, .arg = MIRI_EVENTS,
	  .exempt = ctl_is_del, .why = "Miri aborts on it" },
	{ .op = OP_EPOLL_WAIT, .field = F_TIMEOUT, .test = RULE_MIN, .arg = -1,
	  .why = "Miri aborts on a timeout below -1" },
	{ .op = OP_EPOLL_WAIT, .field = F_TIMEOUT, .test = RULE_NOT, .arg = -1,
	  .alt = MIRI_DRAWN_TIMEOUT, .draw_only = true,
	  .why = "a wait without a timeout may block forever, which a test cannot" },
	{ .op = OP_EPOLL_WAIT, .field = F_MAXEVENTS, .test = RULE_MAX, .arg = MIRI_MAX_EVENTS,
	  .why = "Miri checks a buffer of maxevents events, which a test must allocate" },
	{ .op = OP_PIPE2, .field = F_FLAGS, .test = RULE_BITS, .arg = O_NONBLOCK | O_CLOEXEC,
	  .why = "Miri aborts on it" },
	{ .op = OP_EVENTFD, .field = F_FLAGS, .test = RULE_BITS,
	  .arg = EFD_NONBLOCK | EFD_CLOEXEC, .why = "Miri aborts on it" },
	{ .op = OP_SOCKETPAIR, .field = F_TYPE, .test = RULE_ENUM_IS, .arg = SOCK_STREAM,
	  .why = "Miri has SOCK_STREAM socketpairs only" },
	{ .op = OP_SOCKETPAIR, .field = F_TYPE, .test = RULE_BITS,
	  .arg = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, .why = "Miri aborts on it" },
	{ .op = OP_DUP3, .test = RULE_NEVER, .why = "Miri has no dup3" },
	{ .op = OP_READ, .field = F_FD, .test = RULE_FD_NOT, .arg = KIND(FDK_PIPE_W),
	  .exempt = reads_nothing, .why = "a pipe's write end: Miri aborts on reading one" },
	{ .op = OP_READ, .field = F_FD, .test = RULE_FD_NOT, .arg = KIND(FDK_EPOLL),
	  .why = "an epoll instance: Miri cannot read one" },
	{ .op = OP_WRITE, .field = F_FD, .test = RULE_FD_NOT, .arg = KIND(FDK_EPOLL),
	  .why = "an epoll instance: Miri cannot write one" },
	{ .op = OP_SHUTDOWN, .test = RULE_NEVER, .why = "Miri cannot shut a socketpair down" },
	{ .op = OP_DUP2, .field = F_NEWFD, .test = RULE_FD_NOT, .arg = KIND(FDK_FREE),
	  .why = "never opened by the program: a test only dups onto fds its calls returned" },
	{ .op = OP_EPOLL_PWAIT, .test = RULE_NEVER, .why = "Miri has no epoll_pwait" },
	{ .op = OP_EPOLL_PWAIT2, .test = RULE_NEVER, .why = "Miri has no epoll_pwait2" },
	{ .op = OP_CLOSE_RANGE, .test = RULE_NEVER, .why = "Miri has no close_range" },
	{ .op = OP_FORK, .test = RULE_NEVER,
	  .why = "Miri does not support fork (and a Rust test is one process)" },
	{ .op = OP_EXIT, .test = RULE_NEVER,
	  .why = "Miri does not support fork, so no process of a test can exit" },
	{ .op = OP_FCNTL, .field = F_CMD, .test = RULE_NAMED,
	  .why = "Miri aborts on a command it does not know" },
	{ .op = OP_FCNTL, .field = F_CMD, .test = RULE_NOT, .arg = F_SETFD, .alt = F_GETFD,
	  .why = "Miri aborts on F_SETFD" },
	{ .op = OP_FCNTL, .field = F_FD, .test = RULE_FD_NOT,
	  .arg = KIND(FDK_EVENTFD) | KIND(FDK_EPOLL), .exempt = not_getfl_setfl,
	  .why = "Miri has F_GETFL and F_SETFL on pipes and socketpairs only" },
	{ .op = OP_FCNTL, .field = F_ARG, .test = RULE_BITS,
	  .arg = O_NONBLOCK | O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC,
	  .exempt = not_setfl,
	  .why = "Miri aborts on F_SETFL of a status flag other than O_NONBLOCK" },
	{ .op = OP_FCNTL, .field = F_ARG, .test = RULE_MAX, .arg = FD_LIMIT - 1,
	  .exempt = not_dupfd,
	  .why = "F_DUPFD at or above RLIMIT_NOFILE (1024 in a trace): a test's "
		 "result depends on its own limit" },
	{ .op = OP_FCNTL, .field = F_ARG, .test = RULE_MAX, .arg = MIRI_DRAWN_DUPFD,
	  .exempt = not_dupfd, .draw_only = true,
	  .why = "a drawn F_DUPFD stays far below RLIMIT_NOFILE (EMFILE depends on it)" },
	{ .op = ANY_OP, .field = ANY_FD, .test = RULE_FD_NOT, .arg = KIND(FDK_FREE),
	  .draw_only = true, .why = "never opened: drawn programs name fds they made" },
	{ .op = ANY_OP, .field = ANY_FD, .test = RULE_FD_NOT, .arg = KIND(FDK_NULL),
	  .why = "fds 0-2 are /dev/null in a trace but stdin, stdout and stderr in a test" },
};

static const struct profile_desc profiles[PROFILE_COUNT] = {
	[PROFILE_ANY] = { "any", NULL, 0, false },
	[PROFILE_MIRI] = { "miri", miri_rules, ARRAY_LEN(miri_rules), true },
};

const char *profile_name(enum profile prof)
{
	return profiles[prof].name;
}

int profile_by_name(const char *name, enum profile *prof, struct error *err)
{
	for (unsigned k = 0; k < PROFILE_COUNT; k++)
		if (strcmp(profiles[k].name, name) == 0) {
			*prof = (enum profile)k;
			return 0;
		}
	return fail(err, "unknown profile '%s' (any or miri)", name);
}

/* ----------------------------------------------------------- one rule */

/* The mask of the enum part whose value is bits, from the field's names. */
static uint64_t enum_mask(const struct flag_name *names, uint64_t bits)
{
	for (const struct flag_name *n = names; n && n->name; n++)
		if (n->bits == bits && n->mask != n->bits)
			return n->mask;
	return bits;
}

static bool is_named(const struct flag_name *names, int64_t v)
{
	for (const struct flag_name *n = names; n && n->name; n++)
		if ((uint64_t)v == n->bits)
			return true;
	return false;
}

static bool rule_covers(const struct rule *r, const struct op *op,
			const struct field_desc *fd)
{
	if ((r->op != ANY_OP && r->op != op->kind) || r->test == RULE_NEVER)
		return false;
	if (r->field == ANY_FD ? fd->kind != FK_FD : r->field != fd->id)
		return false;
	return !r->exempt || !r->exempt(op);
}

static bool violates(const struct rule *r, const struct field_desc *fd,
		     int64_t v, const struct fd_sim *s)
{
	uint64_t u = (uint64_t)v, arg = (uint64_t)r->arg;

	switch (r->test) {
	case RULE_BITS:
		return (u & ~arg) != 0;
	case RULE_ENUM_IS:
		return (u & enum_mask(fd->names, arg)) != arg;
	case RULE_NAMED:
		return !is_named(fd->names, v);
	case RULE_MIN:
		return v < r->arg;
	case RULE_MAX:
		return v > r->arg;
	case RULE_NOT:
		return v == r->arg;
	case RULE_FD_NOT:
		return (FD_KIND_BIT(fd_sim_kind(s, v)) & arg) != 0;
	case RULE_NEVER:
		break;
	}
	return false;
}

/* The value as the reason names it: the offending bits of a flag field,
 * by name where they have one; an enum by its names; else the number. */
static void describe_value(const struct rule *r, const struct field_desc *fd,
			   int64_t v, char *buf, size_t len)
{
	uint64_t shown = r->test == RULE_BITS ? (uint64_t)v & ~(uint64_t)r->arg
					      : (uint64_t)v;

	if (r->test == RULE_BITS && fd->max <= UINT32_MAX)
		shown &= UINT32_MAX; /* the call takes 32 bits: -1 is 0xffffffff */

	if ((fd->kind == FK_FLAGS || fd->kind == FK_ENUM) && fd->names &&
	    (int64_t)shown >= 0 && flags_format(fd->names, shown, buf, len))
		return;
	if (fd->kind == FK_FLAGS || r->test == RULE_BITS)
		snprintf(buf, len, "0x%llx", (unsigned long long)shown);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

static bool refused_by(const struct rule *r, const struct op *op,
		       const struct fd_sim *s, char *why, size_t len)
{
	const struct op_desc *d = &op_table[op->kind];
	char value[128];

	if (r->draw_only || (r->op != ANY_OP && r->op != op->kind))
		return false;
	if (r->test == RULE_NEVER) {
		snprintf(why, len, "%s: %s", d->name, r->why);
		return true;
	}
	for (unsigned i = 0; i < d->nfields; i++) {
		const struct field_desc *fd = &d->fields[i];

		if (!rule_covers(r, op, fd) || !violates(r, fd, op->f[fd->id], s))
			continue;
		describe_value(r, fd, op->f[fd->id], value, sizeof(value));
		snprintf(why, len, "%s %s %s: %s", d->name, fd->name, value, r->why);
		return true;
	}
	return false;
}

bool profile_refuses(enum profile prof, const struct op *op,
		     const struct fd_sim *s, char *why, size_t len)
{
	const struct profile_desc *pd = &profiles[prof];

	for (unsigned i = 0; i < pd->nrules; i++)
		if (refused_by(&pd->rules[i], op, s, why, len))
			return true;
	if (len)
		why[0] = '\0';
	return false;
}

bool profile_allows_kind(enum profile prof, enum op_kind kind)
{
	const struct profile_desc *pd = &profiles[prof];

	for (unsigned i = 0; i < pd->nrules; i++)
		if (pd->rules[i].test == RULE_NEVER && pd->rules[i].op == kind)
			return false;
	return true;
}

/* ------------------------------------------------------------ bending */

static int64_t bend_value(const struct rule *r, const struct field_desc *fd,
			  int64_t v)
{
	uint64_t arg = (uint64_t)r->arg;

	switch (r->test) {
	case RULE_BITS:
		return (int64_t)((uint64_t)v & arg);
	case RULE_ENUM_IS:
		return (int64_t)(((uint64_t)v & ~enum_mask(fd->names, arg)) | arg);
	case RULE_NAMED:
		return is_named(fd->names, v) ? v : (int64_t)fd->names[0].bits;
	case RULE_MIN:
		return v < r->arg ? r->arg : v;
	case RULE_MAX:
		return v > r->arg ? r->arg : v;
	case RULE_NOT:
		return v == r->arg ? r->alt : v;
	case RULE_FD_NOT:
	case RULE_NEVER:
		break;
	}
	return v;
}

/* An fd of a kind some rule refuses becomes a made (or closed) fd of a kind
 * none refuses, picked by the old number; -1 when there is none. */
static void bend_fd(const struct profile_desc *pd, struct op *op,
		    const struct field_desc *fd, const struct fd_sim *s)
{
	unsigned refused = 0;

	for (unsigned i = 0; i < pd->nrules; i++)
		if (pd->rules[i].test == RULE_FD_NOT && rule_covers(&pd->rules[i], op, fd))
			refused |= (unsigned)pd->rules[i].arg;
	if (!(FD_KIND_BIT(fd_sim_kind(s, op->f[fd->id])) & refused))
		return;
	op->f[fd->id] = fd_sim_pick(s, (FD_MADE_KINDS | FD_KIND_BIT(FDK_CLOSED)) & ~refused,
				    (unsigned)op->f[fd->id]);
}

static void bend_fields(const struct profile_desc *pd, struct op *op,
			const struct fd_sim *s)
{
	const struct op_desc *d = &op_table[op->kind];

	for (unsigned i = 0; i < d->nfields; i++) {
		const struct field_desc *fd = &d->fields[i];

		if (fd->kind == FK_FD) {
			bend_fd(pd, op, fd, s);
			continue;
		}
		for (unsigned k = 0; k < pd->nrules; k++)
			if (rule_covers(&pd->rules[k], op, fd))
				op->f[fd->id] = bend_value(&pd->rules[k], fd, op->f[fd->id]);
	}
}

/* Bending one field can end another's exemption (epoll_ctl's epfd == fd):
 * again until nothing changes, which takes a pass or two. */
void profile_bend(enum profile prof, struct op *op, const struct fd_sim *s)
{
	int64_t before[FIELD_COUNT];

	for (int pass = 0; pass < 4; pass++) {
		memcpy(before, op->f, sizeof(before));
		bend_fields(&profiles[prof], op, s);
		if (memcmp(before, op->f, sizeof(before)) == 0)
			return;
	}
}

/* ------------------------------------------------------- whole runs */

struct refusals {
	struct profile_refusal *out;
	unsigned max, n;
};

/* Keeps out in step order: a thread blocked forever is found at the end. */
static void refuse(struct refusals *r, uint32_t step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct refusals *r, uint32_t step, const char *fmt, ...)
{
	unsigned kept = r->n < r->max ? r->n : r->max, at = kept;
	va_list ap;

	while (at > 0 && r->out[at - 1].step > step)
		at--;
	r->n++;
	if (at >= r->max)
		return;
	/* the ones after it move up; when out is full, the last falls off */
	memmove(&r->out[at + 1], &r->out[at],
		((kept < r->max ? kept : r->max - 1) - at) * sizeof(*r->out));
	r->out[at].step = step;
	va_start(ap, fmt);
	vsnprintf(r->out[at].why, sizeof(r->out[at].why), fmt, ap);
	va_end(ap);
}

static bool hits_fd_limit(const struct result *res)
{
	return res->ret == -1 && (res->err == EMFILE || res->err == ENFILE);
}

/* A result that depends on RLIMIT_NOFILE, which a test does not set. */
static void check_limits(struct refusals *r, const struct program *p,
			 const struct outcome *rec, const struct step_record *sr)
{
	const char *name = op_table[p->ops[sr->step].kind].name;

	if (sr->state == STEP_DONE && hits_fd_limit(&sr->res))
		refuse(r, sr->step, "%s: %s depends on RLIMIT_NOFILE (%d in a trace)",
		       name, errno_name(sr->res.err), FD_LIMIT);
	for (uint32_t k = 0; k < sr->done_count; k++) {
		const struct completion *c = &rec->done[sr->done_first + k];

		if (hits_fd_limit(&c->res))
			refuse(r, c->step, "%s: %s depends on RLIMIT_NOFILE (%d in a trace)",
			       op_table[p->ops[c->step].kind].name,
			       errno_name(c->res.err), FD_LIMIT);
	}
}

/* The numbers step i names that the program never opened, where a test
 * could not stand in a closed number for them (see the top). */
static void check_unopened(struct refusals *r, const struct op *op, uint32_t i,
			   const struct fd_sim *now, const struct fd_sim *at_end)
{
	const struct op_desc *d = &op_table[op->kind];
	int64_t seen = -1;

	for (unsigned k = 0; k < d->nfields; k++) {
		const struct field_desc *fd = &d->fields[k];
		int64_t n = op->f[fd->id];

		if (fd->kind != FK_FD || fd->id == F_NEWFD || fd_sim_kind(now, n) != FDK_FREE)
			continue;
		if (fd_sim_kind(at_end, n) != FDK_FREE) /* a number, once made, is never free again */
			refuse(r, i, "%s %s %" PRId64 ": never opened here, and a later call "
			       "makes it: a test cannot name it before", d->name, fd->name, n);
		else if (seen >= 0 && seen != n)
			refuse(r, i, "%s %s %" PRId64 ": a second number never opened in one "
			       "call (a test's would equal the first)", d->name, fd->name, n);
		seen = n;
	}
}

/* A thread still blocked at the end sleeps forever unless its wait has a
 * timeout: a test would hang, and Miri reports a deadlock. */
static void check_blocked_forever(struct refusals *r, const struct program *p,
				  const struct outcome *rec)
{
	for (uint32_t i = 0; i < rec->nblocked; i++) {
		const struct op *op = &p->ops[rec->blocked[i].step];
		uint64_t ms;

		if (op_is_epoll_wait(op->kind) && op_wait_timeout(op, &ms) == WAIT_TIMED)
			continue;
		refuse(r, rec->blocked[i].step,
		       "%s on t%u blocks forever: Linux leaves it asleep at the end, "
		       "and Miri reports a deadlock", op_table[op->kind].name,
		       rec->blocked[i].t);
	}
}

/* The fd table after the recorded run. */
static void run_through(struct fd_sim *s, const struct program *p,
			const struct outcome *rec)
{
	fd_sim_init(s);
	for (uint32_t i = 0; i < p->nops && i < rec->nsteps; i++)
		if (rec->steps[i].state == STEP_DONE)
			fd_sim_apply_result(s, &p->ops[i], &rec->steps[i].res);
}

unsigned profile_check_run(enum profile prof, const struct program *p,
			   const struct outcome *rec,
			   struct profile_refusal *out, unsigned max)
{
	struct refusals r = { out, max, 0 };
	struct fd_sim s, at_end;
	char why[sizeof(out->why)];

	run_through(&at_end, p, rec);
	fd_sim_init(&s);
	for (uint32_t i = 0; i < p->nops && i < rec->nsteps; i++) {
		const struct step_record *sr = &rec->steps[i];

		if (sr->state == STEP_SKIPPED)
			continue;
		if (profile_refuses(prof, &p->ops[i], &s, why, sizeof(why)))
			refuse(&r, i, "%s", why);
		if (profiles[prof].repeatable_runs) {
			check_limits(&r, p, rec, sr);
			check_unopened(&r, &p->ops[i], i, &s, &at_end);
		}
		if (sr->state == STEP_DONE)
			fd_sim_apply_result(&s, &p->ops[i], &sr->res);
	}
	if (profiles[prof].repeatable_runs)
		check_blocked_forever(&r, p, rec);
	return r.n;
}

/* ------------------------------------------------- the minimize wrapper */

/* This file's own target: the profile, and the target it wraps. */
struct target {
	enum profile prof;
	const struct target_ops *inner_ops;
	struct target *inner;
};

static struct target *wrapper_open(const struct target_config *cfg,
				   struct error *err)
{
	(void)cfg;
	fail(err, "the profile target wraps another one: profile_wrap_target()");
	return NULL;
}

/* A program outside the profile is unsupported at step 0, whatever ran:
 * the earliest verdict there is, so no candidate outside keeps a finding. */
static int wrapper_run(struct target *t, const struct program *p,
		       struct outcome *out, struct error *err)
{
	struct profile_refusal first;
	struct step_record *rec;
	char why[sizeof(first.why) + 64];

	if (t->inner_ops->run(t->inner, p, out, err) < 0)
		return -1;
	if (out->nsteps != p->nops || p->nops == 0 ||
	    profile_check_run(t->prof, p, out, &first, 1) == 0)
		return 0;
	outcome_reset(out);
	if (!(rec = outcome_add_step(out, 0, p->ops[0].t)))
		return fail(err, "out of memory");
	rec->state = STEP_UNSUPPORTED;
	snprintf(why, sizeof(why), "outside profile %s: step %u %s",
		 profile_name(t->prof), first.step, first.why);
	/* the outcome keeps what fits */
	snprintf(out->unsupported, sizeof(out->unsupported), "%.*s",
		 (int)sizeof(out->unsupported) - 1, why);
	return 0;
}

static void wrapper_close(struct target *t)
{
	t->inner_ops->close(t->inner);
	free(t);
}

const struct target_ops profile_target = {
	.name = "profile",
	.summary = "another target, refusing programs outside a profile",
	.open = wrapper_open,
	.run = wrapper_run,
	.close = wrapper_close,
};

struct target *profile_wrap_target(enum profile prof,
				   const struct target_ops *inner_ops,
				   struct target *inner)
{
	struct target *t = malloc(sizeof(*t));

	if (t)
		*t = (struct target){ prof, inner_ops, inner };
	return t;
}
