/*
 * mutate.c - structure-aware mutation of the fuzzer's byte format, one core
 * behind libFuzzer's custom mutator and AFL++'s.
 *
 * Bytes are decoded into a program, changed as a program (ops inserted,
 * deleted, duplicated, swapped; one argument changed; an op moved to
 * another thread; the thread count changed; two programs spliced), and
 * encoded back.  Byte-level mutation of this format mostly reshuffles what
 * every later byte means; working on the program keeps the rest of it
 * intact, so that a mutant stays near its parent.
 *
 * Fd arguments are absolute numbers in a program: a new or changed one is
 * drawn from the fd table simulation the decoder uses (fdsim.h), at the
 * op's place in the program, so that it mostly names an fd that is open
 * there.  Every other field is handled by its kind in the op table.
 *
 * Forks and exits follow the rules among processes (trace.h) through the
 * decoder's own bookkeeping (internal.h: struct procs), replayed up to the
 * op's place: a fork goes where a thread is free for its child (sometimes
 * a new thread), often with its child's exit somewhere after the child's
 * last op; an exit goes to a living forked thread after its last op;
 * deleting a fork deletes its child's exit, or its whole process.  What a
 * mutation elsewhere breaks (a swap that puts an exit before its fork, an
 * op moved onto an exited thread) the encoder bends back as the decoder
 * bends what it draws (procs_bend), so every result keeps the rules.
 *
 * Everything is a function of the inputs and the seed (a splitmix64
 * stream), so a fuzzer can replay a mutation.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"


enum {
	MAX_MUTATIONS = 4, /* per program_mutate call: 1..MAX_MUTATIONS */
	MAX_ROUNDS = 4,    /* rounds of mutations tried until one changes the program */
	MAX_TRIES = 8,     /* attempts at a mutation that applies, or a new value */
	FD_SELECTORS = 254, /* the decoder's fd selectors, literals excluded */
};

/* --------------------------------------------------------------- context */

/* The limits as the decoder applies them (decode.c: decoder_start). */
struct shape {
	unsigned max_ops;
	unsigned max_threads;
	enum profile profile;
};

static struct shape shape_of(const struct decode_limits *lim)
{
	struct shape s = { lim->max_ops, lim->max_threads, PROFILE_ANY };

	s.max_ops = s.max_ops < 1 ? 1 : s.max_ops > MAX_OPS ? MAX_OPS : s.max_ops;
	s.max_threads = s.max_threads < 1 ? 1
		      : s.max_threads > MAX_THREADS ? MAX_THREADS : s.max_threads;
	if (lim->profile < PROFILE_COUNT)
		s.profile = (enum profile)lim->profile;
	return s;
}

struct mutator {
	struct rng rng;
	struct shape shape;
	struct program *p;
};

/* The fd table as it stands when op `at` of p is about to run. */
static void fd_sim_before(const struct program *p, unsigned at,
			  struct fd_sim *sim)
{
	fd_sim_init(sim);
	for (unsigned i = 0; i < at && i < p->nops; i++)
		fd_sim_apply(sim, &p->ops[i]);
}

/* The threads the encoder gives p (decode.c: header_for). */
static unsigned threads_of(const struct mutator *m)
{
	unsigned n = program_min_threads(m->p);

	n = m->p->threads > n ? m->p->threads : n;
	return n > m->shape.max_threads ? m->shape.max_threads : n;
}

/* Op i of p joins ps as the encoder, and so the decoder, takes it: left
 * out when its kind keeps no rule there (a fork with no thread free, an
 * exit with no living child), else bent (procs_bend).  last[t], when
 * given, becomes i + 1 for each thread the op names (its t, a fork's
 * child). */
static void procs_step(const struct program *p, unsigned i, struct procs *ps,
		       unsigned *last)
{
	struct op op = p->ops[i];

	if (!procs_allow(ps, (enum op_kind)op.kind))
		return;
	procs_bend(ps, &op);
	procs_note(ps, &op);
	if (!last)
		return;
	last[op.t] = i + 1;
	if (op.kind == OP_FORK)
		last[op.f[F_CHILD]] = i + 1;
}

/* The processes when op `at` of p is about to run; last (optional, per
 * thread): 1 + the last op before it that names the thread, or 0. */
static void procs_before(const struct mutator *m, unsigned at, struct procs *ps,
			 unsigned *last)
{
	procs_start(ps, threads_of(m));
	if (last)
		memset(last, 0, MAX_THREADS * sizeof(*last));
	for (unsigned i = 0; i < at && i < m->p->nops; i++)
		procs_step(m->p, i, ps, last);
}

/* ---------------------------------------------------------- field values */

static int64_t clamp(int64_t v, int64_t min, int64_t max)
{
	return v < min ? min : v > max ? max : v;
}

static void set_field(struct op *op, const struct field_desc *fd, int64_t v)
{
	op->f[fd->id] = clamp(v, fd->min, fd->max);
	if (fd->defkind == DEF_RUNTIME)
		op->present |= (uint32_t)(1u << fd->id);
}

/* A field with a run-time default left to its default (len, data). */
static void clear_field(struct op *op, const struct field_desc *fd)
{
	op->f[fd->id] = fd->def;
	op->present &= (uint32_t)~(1u << fd->id);
}

/* The names of a flag or enum field: plain flags (mask == bits) or enum
 * values, as the table orders them. */
static unsigned count_names(const struct flag_name *names, bool enums)
{
	unsigned n = 0;

	for (const struct flag_name *f = names; f && f->name; f++)
		n += (f->mask != f->bits) == enums;
	return n;
}

static const struct flag_name *nth_name(const struct flag_name *names,
					bool enums, unsigned n)
{
	for (const struct flag_name *f = names; f && f->name; f++)
		if ((f->mask != f->bits) == enums && n-- == 0)
			return f;
	return NULL;
}

static const struct flag_name *random_name(struct rng *r,
					   const struct flag_name *names,
					   bool enums)
{
	unsigned n = count_names(names, enums);

	return n ? nth_name(names, enums, rng_below(r, n)) : NULL;
}

static uint64_t toggle_named_flag(struct rng *r, const struct field_desc *fd,
				  uint64_t v)
{
	const struct flag_name *f = random_name(r, fd->names, false);

	return f ? v ^ f->bits : v;
}

/* Values that break code: edges of the usual integer types, the field's
 * own range and default, and the neighbours of the current value. */
static int64_t interesting_number(struct rng *r, const struct field_desc *fd,
				  int64_t cur)
{
	const int64_t fixed[] = {
		0, 1, -1, 2, 3, 7, 8, 16, 64, 4095, 4096, 65536,
		INT_MAX, INT_MIN, UINT_MAX, INT64_MAX, INT64_MIN,
	};
	uint64_t u = (uint64_t)cur; /* wrapping arithmetic, no overflow */

	switch (rng_below(r, 8)) {
	case 0:
		return (int64_t)(u + 1);
	case 1:
		return (int64_t)(u - 1);
	case 2:
		return rng_percent(r, 50) ? (int64_t)(u << 1) : cur / 2;
	case 3:
		return rng_percent(r, 50) ? fd->min : fd->max;
	case 4:
		return fd->def;
	case 5:
		return (int64_t)(u + 1 + rng_below(r, 16));
	default:
		return fixed[rng_below(r, ARRAY_LEN(fixed))];
	}
}

/* A plausible subset of a flag field's names: each with chance 1/4. */
static uint64_t random_flags(struct rng *r, const struct field_desc *fd)
{
	uint64_t v = 0;

	for (const struct flag_name *f = fd->names; f && f->name; f++)
		if (f->mask == f->bits && rng_percent(r, 25))
			v |= f->bits;
	return v;
}

static uint64_t changed_flags(struct rng *r, const struct field_desc *fd,
			      uint64_t cur)
{
	unsigned how = rng_below(r, 10);

	if (how < 7)
		return toggle_named_flag(r, fd, cur);
	if (how < 9)
		return cur ^ (1ull << rng_below(r, 32)); /* a raw bit, named or not */
	return random_flags(r, fd);
}

/* An enum value with its or-ed flags kept: SOCK_DGRAM|SOCK_NONBLOCK becomes
 * SOCK_SEQPACKET|SOCK_NONBLOCK. */
static uint64_t another_enum(struct rng *r, const struct field_desc *fd,
			     uint64_t cur)
{
	const struct flag_name *e = random_name(r, fd->names, true);

	return e ? (cur & ~e->mask) | e->bits : cur;
}

static uint64_t changed_enum(struct rng *r, const struct field_desc *fd,
			     uint64_t cur)
{
	unsigned how = rng_below(r, 10);

	if (how < 7)
		return another_enum(r, fd, cur);
	if (how < 9 && count_names(fd->names, false))
		return toggle_named_flag(r, fd, cur);
	return (uint64_t)((int64_t)rng_below(r, 32) - 4); /* small, named or not */
}

/* A new value for field fd of op, the op standing where sim says. */
static int64_t changed_value(struct rng *r, const struct fd_sim *sim,
			     const struct op *op, const struct field_desc *fd)
{
	int64_t cur = op->f[fd->id];

	switch (fd->kind) {
	case FK_FD:
		return fd_sim_choose(sim, (enum op_kind)op->kind, fd->id,
				     (uint8_t)rng_below(r, FD_SELECTORS));
	case FK_FLAGS:
		return (int64_t)changed_flags(r, fd, (uint64_t)cur);
	case FK_ENUM:
		return (int64_t)changed_enum(r, fd, (uint64_t)cur);
	default:
		return interesting_number(r, fd, cur);
	}
}

/* Changes one field of op (a run-time default may also come or go).
 * False when every try left it as it was. */
static bool change_field(struct rng *r, const struct fd_sim *sim, struct op *op,
			 const struct field_desc *fd)
{
	if (fd->defkind == DEF_RUNTIME && rng_percent(r, 25)) {
		if (op_has(op, fd->id)) {
			clear_field(op, fd);
			return true;
		}
		set_field(op, fd, interesting_number(r, fd, fd->def));
		return true;
	}
	for (unsigned i = 0; i < MAX_TRIES; i++) {
		int64_t before = op->f[fd->id];
		bool was_present = op_has(op, fd->id);

		set_field(op, fd, changed_value(r, sim, op, fd));
		if (op->f[fd->id] != before || op_has(op, fd->id) != was_present)
			return true;
	}
	return false;
}

/* A field as a new op of its kind might have it: mostly the default where
 * there is one, else a fresh value. */
static void fresh_field(struct rng *r, const struct fd_sim *sim, struct op *op,
			const struct field_desc *fd)
{
	if (fd->defkind != DEF_REQUIRED && rng_percent(r, 50))
		return; /* op_init's default; run-time ones stay absent */
	switch (fd->kind) {
	case FK_FLAGS:
		set_field(op, fd, (int64_t)random_flags(r, fd));
		break;
	case FK_ENUM:
		set_field(op, fd, (int64_t)another_enum(r, fd, (uint64_t)op->f[fd->id]));
		break;
	default:
		set_field(op, fd, changed_value(r, sim, op, fd));
		break;
	}
}

/* ---------------------------------------------------------- op mutations */

/* Kinds the decoder gives under the limits (decode.c: kind_drawn; forks
 * and exits need a place too, see insert_fork and insert_exit). */
static bool kind_allowed(const struct mutator *m, enum op_kind kind)
{
	if (kind == OP_SLEEP && m->shape.max_threads < 2) /* decode.c drops it */
		return false;
	return profile_allows_kind(m->shape.profile, kind);
}

/* Inserts a copy of op before position at (at == nops appends). */
static void insert_op(struct program *p, unsigned at, const struct op *op)
{
	struct op copy = *op;

	copy.extras = NULL; /* program_push would copy them; ops never share */
	if (program_push(p, &copy, NULL) < 0)
		abort(); /* out of memory: a fuzzer cannot go on */
	memmove(&p->ops[at + 1], &p->ops[at], (p->nops - 1 - at) * sizeof(*p->ops));
	p->ops[at] = copy;
}

/* A new op of this kind (not fork or exit) that could stand at position
 * `at`: not on a thread that exited there. */
static void random_op(struct mutator *m, enum op_kind kind, unsigned at,
		      struct op *op)
{
	struct fd_sim sim;
	struct procs ps;
	const struct op_desc *desc = &op_table[kind];

	op_init(op, kind, rng_below(&m->rng, m->p->threads));
	fd_sim_before(m->p, at, &sim);
	for (unsigned i = 0; i < desc->nfields; i++)
		fresh_field(&m->rng, &sim, op, &desc->fields[i]);
	procs_before(m, at, &ps, NULL);
	procs_bend(&ps, op);
}

/* An exit of thread c, a living forked one, somewhere after the last op
 * that names it. */
static bool insert_exit_of(struct mutator *m, unsigned c)
{
	struct program *p = m->p;
	unsigned last[MAX_THREADS];
	struct procs ps;
	struct op op;

	if (p->nops >= m->shape.max_ops)
		return false;
	procs_before(m, p->nops, &ps, last);
	if (c >= ps.threads || ps.proc[c] != TP_CHILD)
		return false;
	op_init(&op, OP_EXIT, c);
	insert_op(p, last[c] + rng_below(&m->rng, p->nops + 1 - last[c]), &op);
	return true;
}

/* An exit of a living forked thread (the decoder's choice, from a random
 * one), after its last op. */
static bool insert_exit(struct mutator *m)
{
	struct procs ps;
	struct op op;

	procs_before(m, m->p->nops, &ps, NULL);
	if (!procs_allow(&ps, OP_EXIT))
		return false;
	op_init(&op, OP_EXIT, rng_below(&m->rng, ps.threads));
	procs_bend(&ps, &op);
	return insert_exit_of(m, op.t);
}

/* Positions (0..nops) where a fork keeps the rules: the r-th of them
 * (r < the count), with the processes there in *ps; or the count, when r
 * is past it. */
static unsigned fork_places(const struct mutator *m, unsigned r, struct procs *ps,
			    unsigned *at)
{
	unsigned n = 0;

	procs_start(ps, threads_of(m));
	for (unsigned i = 0;; i++) {
		if (procs_allow(ps, OP_FORK) && n++ == r) {
			*at = i;
			return n;
		}
		if (i == m->p->nops)
			return n;
		procs_step(m->p, i, ps, NULL);
	}
}

/*
 * A fork where one keeps the rules, its child a free thread (the
 * decoder's choice, from a random one); now and then, or when no thread
 * is free anywhere, a new thread for the child.  Half the time, with the
 * child's exit after its last op.
 */
static bool insert_fork(struct mutator *m)
{
	struct program *p = m->p;
	unsigned threads = threads_of(m), n, at = 0, child;
	bool grow = threads < m->shape.max_threads;
	struct procs ps;
	struct op op;

	if (p->nops >= m->shape.max_ops)
		return false;
	n = fork_places(m, UINT_MAX, &ps, &at);
	if (grow && (n == 0 || rng_percent(&m->rng, 20))) {
		p->threads = ++threads;
		n = fork_places(m, UINT_MAX, &ps, &at);
	} else {
		grow = false;
	}
	if (n == 0)
		return false;
	fork_places(m, rng_below(&m->rng, n), &ps, &at);
	op_init(&op, OP_FORK, rng_below(&m->rng, threads));
	op.f[F_CHILD] = grow ? threads - 1 : rng_below(&m->rng, threads);
	procs_bend(&ps, &op);
	insert_op(p, at, &op);
	child = (unsigned)op.f[F_CHILD];
	if (rng_percent(&m->rng, 50))
		insert_exit_of(m, child);
	return true;
}

static bool mutate_insert(struct mutator *m)
{
	enum op_kind kind;
	unsigned at;
	struct op op;

	if (m->p->nops >= m->shape.max_ops)
		return false;
	/* Half the time, the kind of an op the program already has: one that
	 * happens to hammer something (seqpacket shutdowns, nested epolls,
	 * dups over watched fds) hammers it more, as swarm testing's programs
	 * do; the other half, any kind. */
	kind = m->p->nops ? (enum op_kind)m->p->ops[rng_below(&m->rng, m->p->nops)].kind
			  : OP_KIND_COUNT;
	if (kind == OP_KIND_COUNT || !kind_allowed(m, kind) || rng_percent(&m->rng, 50))
		do
			kind = (enum op_kind)rng_below(&m->rng, OP_KIND_COUNT);
		while (!kind_allowed(m, kind));
	if (kind == OP_FORK)
		return insert_fork(m);
	if (kind == OP_EXIT)
		return insert_exit(m);
	at = rng_below(&m->rng, m->p->nops + 1);
	random_op(m, kind, at, &op);
	insert_op(m->p, at, &op);
	return true;
}

/*
 * Marks fork `at` for deletion with what of its child's process goes with
 * it: all of the child's later ops (whole: the process goes, and the
 * processes it forked), or only its exit (its other ops stay, now on a
 * thread of process 0, where no exit may stand).  Returns how many ops
 * it marked.
 */
static unsigned mark_process(const struct program *p, unsigned at, bool whole,
			     bool *del)
{
	int64_t child = p->ops[at].f[F_CHILD];
	unsigned n = 1;

	del[at] = true;
	for (unsigned i = at + 1; i < p->nops; i++) {
		const struct op *op = &p->ops[i];

		if (op->t != child || del[i])
			continue;
		if (whole && op->kind == OP_FORK) {
			n += mark_process(p, i, true, del);
		} else if (whole || op->kind == OP_EXIT) {
			del[i] = true;
			n++;
		}
	}
	return n;
}

/* A fork goes with its child's exit, or with its whole process (half the
 * time, when ops are left). */
static bool mutate_delete(struct mutator *m)
{
	struct program *p = m->p;
	unsigned at = rng_below(&m->rng, p->nops), kept = 0;
	bool del[MAX_OPS];

	if (p->nops <= 1) /* a program has at least one op */
		return false;
	if (p->ops[at].kind != OP_FORK) {
		memmove(&p->ops[at], &p->ops[at + 1], (p->nops - 1 - at) * sizeof(*p->ops));
		p->nops--;
		return true;
	}
	memset(del, 0, p->nops * sizeof(*del));
	if (!rng_percent(&m->rng, 50) || mark_process(p, at, true, del) >= p->nops) {
		memset(del, 0, p->nops * sizeof(*del));
		if (mark_process(p, at, false, del) >= p->nops)
			return false;
	}
	for (unsigned i = 0; i < p->nops; i++)
		if (!del[i])
			p->ops[kept++] = p->ops[i];
	p->nops = kept;
	return true;
}

/* Next to itself half the time (a repeated call), elsewhere otherwise. */
static bool mutate_duplicate(struct mutator *m)
{
	struct program *p = m->p;
	unsigned from = rng_below(&m->rng, p->nops);
	unsigned at = rng_percent(&m->rng, 50) ? from + 1
					       : rng_below(&m->rng, p->nops + 1);
	struct op copy = p->ops[from];
	struct procs ps;

	if (p->nops >= m->shape.max_ops)
		return false;
	/* The copy bent where it lands (procs_bend): a fork's gets a child of
	 * its own, an exit's a living process of its own (each thread is a
	 * child once and exits once), none stays on an exited thread. */
	procs_before(m, at, &ps, NULL);
	if (!procs_allow(&ps, (enum op_kind)copy.kind))
		return false;
	procs_bend(&ps, &copy);
	insert_op(p, at, &copy);
	return true;
}

/* Neighbours half the time: reorderings of adjacent calls are the races. */
static bool mutate_swap(struct mutator *m)
{
	struct program *p = m->p;
	unsigned i, j;
	struct op tmp;

	if (p->nops < 2)
		return false;
	i = rng_below(&m->rng, p->nops);
	if (rng_percent(&m->rng, 50))
		j = i + 1 < p->nops ? i + 1 : i - 1;
	else
		j = (i + 1 + rng_below(&m->rng, p->nops - 1)) % p->nops;
	tmp = p->ops[i];
	p->ops[i] = p->ops[j];
	p->ops[j] = tmp;
	return true;
}

static bool mutate_field(struct mutator *m)
{
	unsigned at = rng_below(&m->rng, m->p->nops);
	struct op *op = &m->p->ops[at];
	const struct op_desc *desc = &op_table[op->kind];
	struct fd_sim sim;

	if (desc->nfields == 0)
		return false;
	fd_sim_before(m->p, at, &sim);
	return change_field(&m->rng, &sim, op,
			    &desc->fields[rng_below(&m->rng, desc->nfields)]);
}

static bool mutate_thread(struct mutator *m)
{
	struct program *p = m->p;
	struct op *op = &p->ops[rng_below(&m->rng, p->nops)];

	if (p->threads < 2)
		return false;
	op->t = (uint8_t)((op->t + 1 + rng_below(&m->rng, p->threads - 1)) % p->threads);
	return true;
}

/* Ops of threads that no longer exist go to the thread of the same number
 * modulo the new count, as the encoder would put them. */
static bool mutate_thread_count(struct mutator *m)
{
	struct program *p = m->p;
	unsigned max = m->shape.max_threads, threads;

	if (max < 2)
		return false;
	threads = 1 + (p->threads + rng_below(&m->rng, max - 1)) % max;
	p->threads = threads;
	for (unsigned i = 0; i < p->nops; i++)
		p->ops[i].t = (uint8_t)(p->ops[i].t % threads);
	return true;
}

static const struct mutation {
	bool (*apply)(struct mutator *m);
	unsigned weight;
} mutations[] = {
	{ mutate_insert, 20 },
	{ mutate_delete, 15 },
	{ mutate_duplicate, 10 },
	{ mutate_swap, 10 },
	{ mutate_field, 30 },
	{ mutate_thread, 10 },
	{ mutate_thread_count, 5 },
};

static const struct mutation *pick_mutation(struct rng *r)
{
	unsigned total = 0, x;

	for (unsigned i = 0; i < ARRAY_LEN(mutations); i++)
		total += mutations[i].weight;
	x = rng_below(r, total);
	for (unsigned i = 0; i < ARRAY_LEN(mutations); i++) {
		if (x < mutations[i].weight)
			return &mutations[i];
		x -= mutations[i].weight;
	}
	return &mutations[0];
}

/* One mutation that applies to the program (some need two ops, or room). */
static void mutate_once(struct mutator *m)
{
	for (unsigned i = 0; i < MAX_TRIES; i++)
		if (pick_mutation(&m->rng)->apply(m))
			return;
}

/* ----------------------------------------------------------- the results */

/* Equal as the targets see them: kinds, threads, field values, and whether
 * a field with a run-time default was given. */
static bool ops_equal(const struct op *x, const struct op *y)
{
	const struct op_desc *desc = &op_table[x->kind];

	if (x->kind != y->kind || x->t != y->t)
		return false;
	for (unsigned i = 0; i < desc->nfields; i++) {
		const struct field_desc *fd = &desc->fields[i];

		if (op_has(x, fd->id) != op_has(y, fd->id))
			return false;
		if ((fd->defkind != DEF_RUNTIME || op_has(x, fd->id)) &&
		    x->f[fd->id] != y->f[fd->id])
			return false;
	}
	return true;
}

static bool programs_equal(const struct program *x, const struct program *y)
{
	if (x->nops != y->nops || x->threads != y->threads)
		return false;
	for (unsigned i = 0; i < x->nops; i++)
		if (!ops_equal(&x->ops[i], &y->ops[i]))
			return false;
	return true;
}

/*
 * Encodes p in at most max_size bytes, dropping ops from its end while the
 * encoding is too long.  Returns the bytes (the caller frees them) or NULL
 * when even one op does not fit, or memory ran out.
 */
static uint8_t *encode_within(struct program *p, const struct decode_limits *lim,
			      size_t max_size, size_t *len)
{
	for (;;) {
		uint8_t *bytes;
		unsigned keep;

		if (program_encode(p, lim, &bytes, len) < 0)
			return NULL;
		if (*len <= max_size)
			return bytes;
		free(bytes);
		if (p->nops <= 1)
			return NULL;
		/* Ops encode to similar lengths: guess the count that fits. */
		keep = (unsigned)((double)p->nops * (double)max_size / (double)*len);
		p->nops = keep < 1 ? 1 : keep < p->nops ? keep : p->nops - 1;
	}
}

/* The bytes decode back to p exactly, so only the shape of the decoded
 * program can tell a mutation that the encoder bent back (a creation made
 * blocking, a timeout where nothing may block) from a real one. */
static bool changes_program(const uint8_t *bytes, size_t len,
			    const struct decode_limits *lim,
			    const struct program *original)
{
	struct program q;
	bool changed;

	program_decode(bytes, len, lim, &q);
	changed = !programs_equal(&q, original);
	program_free(&q);
	return changed;
}

/* Writes bytes (at most max_size, or data truncated) into dst. */
static size_t deliver(uint8_t *dst, const uint8_t *bytes, size_t len,
		      const uint8_t *fallback, size_t fallback_len,
		      size_t max_size, const struct decode_limits *lim)
{
	if (bytes) {
		memcpy(dst, bytes, len);
		return len;
	}
	/* Nothing fits: the fallback cut short still decodes (decoding is
	 * total), with a header inside the limits. */
	len = fallback_len < max_size ? fallback_len : max_size;
	if (dst != fallback)
		memmove(dst, fallback, len);
	input_fit(dst, len, lim);
	return len;
}

/*
 * One mutation in FRESH_ONE_IN (four) is none: a program drawn afresh,
 * half the time from random bytes (any byte string decodes to a valid
 * program) under a header that fits the limits, half the time built to
 * one of the plans of recipes.c (one in eight was too few for the rarer
 * plans: a crowd of a writer and exclusive pollers, docs/mutants.md).  Random programs of tens of ops each expose most of
 * the injected bugs at 0.1 to 6% (docs/mutants.md), while a campaign that
 * grows programs an op at a time from an empty corpus met few of them in
 * its first minute: generation beside guided mutation.  The plans reach
 * what random programs almost never do (nesting and path limits, pokes at
 * an edge-triggered interest, crowds of sleepers).
 */
enum { FRESH_ONE_IN = 4, FRESH_MAX_BYTES = 400 };

static size_t random_program(struct rng *r, uint8_t *data, size_t max_size,
			     const struct decode_limits *lim)
{
	size_t len = 16 + rng_below(r, FRESH_MAX_BYTES - 16);

	if (len > max_size)
		len = max_size;
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)rng_next(r);
	input_fit(data, len, lim);
	return len;
}

static size_t fresh_program(struct rng *r, uint8_t *data, size_t size,
			    size_t max_size, const struct decode_limits *lim)
{
	struct shape shape = shape_of(lim);
	struct program p;
	uint8_t *bytes;
	size_t len = 0;

	if (rng_percent(r, 50))
		return random_program(r, data, max_size, lim);
	program_init(&p);
	recipe_program(r, shape.max_ops, shape.max_threads, &p);
	bytes = p.nops ? encode_within(&p, lim, max_size, &len) : NULL;
	len = bytes ? deliver(data, bytes, len, data, size, max_size, lim)
		    : random_program(r, data, max_size, lim);
	free(bytes);
	program_free(&p);
	return len;
}

size_t program_mutate(uint8_t *data, size_t size, size_t max_size,
		      unsigned int seed, const struct decode_limits *lim)
{
	struct program original, p;
	struct mutator m = { rng_seeded(seed), shape_of(lim), &p };
	uint8_t *bytes = NULL;
	size_t len = 0;

	if (max_size > 0 && rng_below(&m.rng, FRESH_ONE_IN) == 0)
		return fresh_program(&m.rng, data, size, max_size, lim);
	program_decode(data, size, lim, &original);
	if (program_copy(&p, &original, NULL) < 0)
		abort();
	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		unsigned n = 1 + rng_below(&m.rng, MAX_MUTATIONS);

		for (unsigned i = 0; i < n; i++)
			mutate_once(&m);
		free(bytes);
		bytes = encode_within(&p, lim, max_size, &len);
		if (!bytes || changes_program(bytes, len, lim, &original))
			break;
	}
	len = deliver(data, bytes, len, data, size, max_size, lim);
	free(bytes);
	program_free(&p);
	program_free(&original);
	return len;
}

/* -------------------------------------------------------------- splicing */

static void append_ops(struct program *dst, const struct program *src,
		       unsigned from, unsigned count)
{
	for (unsigned i = from; i < from + count && i < src->nops; i++)
		if (program_push(dst, &src->ops[i], NULL) < 0)
			abort();
}

/* a's first ops (at least one) then b's last ones (at least one, room
 * allowing): the two halves of a program meet. */
static void splice_halves(struct rng *r, const struct program *a,
			  const struct program *b, unsigned max_ops,
			  struct program *child)
{
	unsigned head = 1 + rng_below(r, a->nops);
	unsigned from;

	if (head >= max_ops)
		head = max_ops > 1 ? max_ops - 1 : 1;
	from = rng_below(r, b->nops);
	append_ops(child, a, 0, head);
	append_ops(child, b, from, max_ops - head);
}

/* A run of b's ops dropped into a: a scenario grafted into another. */
static void splice_run(struct rng *r, const struct program *a,
		       const struct program *b, unsigned max_ops,
		       struct program *child)
{
	unsigned at = rng_below(r, a->nops + 1);
	unsigned from = rng_below(r, b->nops);
	unsigned room = max_ops > a->nops ? max_ops - a->nops : 0;
	unsigned count = 1 + rng_below(r, b->nops - from);

	if (room == 0) { /* a is full: the run replaces its tail */
		splice_halves(r, a, b, max_ops, child);
		return;
	}
	count = count < room ? count : room;
	append_ops(child, a, 0, at);
	append_ops(child, b, from, count);
	append_ops(child, a, at, a->nops - at);
}

size_t program_crossover(const uint8_t *data1, size_t size1,
			 const uint8_t *data2, size_t size2, uint8_t *out,
			 size_t max_out_size, unsigned int seed,
			 const struct decode_limits *lim)
{
	struct rng r = rng_seeded(seed);
	struct shape shape = shape_of(lim);
	struct program a, b, child;
	uint8_t *bytes;
	size_t len = 0;

	program_decode(data1, size1, lim, &a);
	program_decode(data2, size2, lim, &b);
	program_init(&child);
	child.threads = a.threads > b.threads ? a.threads : b.threads;
	child.threads_given = a.threads_given || b.threads_given;
	if (rng_percent(&r, 50))
		splice_halves(&r, &a, &b, shape.max_ops, &child);
	else
		splice_run(&r, &a, &b, shape.max_ops, &child);
	bytes = encode_within(&child, lim, max_out_size, &len);
	len = deliver(out, bytes, len, data1, size1, max_out_size, lim);
	free(bytes);
	program_free(&child);
	program_free(&b);
	program_free(&a);
	return len;
}
