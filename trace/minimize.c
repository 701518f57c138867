/*
 * minimize.c - shrink a finding while it keeps its signature.
 *
 * A candidate is kept when running it (the reference target, then the other
 * matched against that outcome) gives a verdict of the same class and
 * signature as the finding.  Passes, repeated until none changes anything:
 * remove chunks of ops (halves, quarters, ... single ops), drop whole
 * threads, move ops to thread 0, simplify arguments as the op table
 * describes them.
 *
 * Fd arguments follow objects, not numbers.  The original program is run
 * once on the matched target to learn, for every fd argument, which creating
 * op (and which of its results) made the number it names.  Each candidate is
 * run there too (the model is in-process and cheap) to learn the numbers
 * those creations get now, and its arguments are rewritten to match.  An
 * argument naming nothing the program made (0-2, -1, a wild number) stays.
 */
#include <jansson.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>

#include "fdsim.h"
#include "trace.h"

#define RESOLVE_ROUNDS 8  /* rewriting settles in one or two: see resolve_fds */
#define REPRODUCE_TRIES 3 /* a racy finding may need a few runs to show */
#define RECHECK_RUNS 5
#define MAX_SIMPLER 72    /* a flag field offers one candidate per set bit */

/* Which result of a creating op an fd number came from. */
enum fd_slot { SLOT_RET, SLOT_FDS0, SLOT_FDS1, SLOT_COUNT };

struct fd_origin {
	int32_t op; /* index in the original program; -1: nothing it made */
	uint8_t slot;
};

/* What made each fd number, as a program runs. */
struct fd_table {
	struct fd_origin fd[FD_LIMIT];
};

/* A version of the program, and where each of its ops came from. */
struct candidate {
	struct program p;
	uint32_t *orig; /* ops[i] descends from ops[orig[i]] of the original */
};

struct minimizer {
	const struct minimize_targets *t;
	struct verdict want;
	unsigned orig_nops;
	struct fd_origin (*named)[FIELD_COUNT]; /* per original op, fd field */
	int64_t (*made)[SLOT_COUNT]; /* per original op: its fds in the last run */
	struct fd_table table;
	struct outcome ref_out, like_out, scratch;
	struct program *history; /* every version kept, oldest first */
	unsigned nhistory;
	unsigned runs;
	struct error *err;
};

/* --------------------------------------------------------------- judging */

int minimize_judge(const struct minimize_targets *t, const struct program *p,
		   struct outcome *ref_out, struct outcome *like_out,
		   struct verdict *v, struct error *err)
{
	int rc;

	outcome_reset(ref_out);
	outcome_reset(like_out);
	if (t->ref_ops->run(t->ref, p, ref_out, err) < 0)
		return -1;
	if (t->like_ops->run_like)
		rc = t->like_ops->run_like(t->like, p, ref_out, like_out, err);
	else
		rc = t->like_ops->run(t->like, p, like_out, err);
	if (rc < 0)
		return -1;
	judge(p, t->ref_name, ref_out, t->like_name, like_out, v);
	return 0;
}

static bool same_finding(const struct verdict *a, const struct verdict *b)
{
	return a->cls == b->cls && strcmp(a->signature, b->signature) == 0 &&
	       (!a->target[0] || !b->target[0] || strcmp(a->target, b->target) == 0) &&
	       (!a->what[0] || !b->what[0] || strcmp(a->what, b->what) == 0);
}

/* ------------------------------------------------------------ candidates */

static void candidate_free(struct candidate *c)
{
	program_free(&c->p);
	free(c->orig);
	c->orig = NULL;
}

static int candidate_from(struct candidate *c, const struct program *p,
			  struct error *err)
{
	if (program_copy(&c->p, p, err) < 0)
		return -1;
	c->orig = malloc((p->nops ? p->nops : 1) * sizeof(*c->orig));
	if (!c->orig) {
		program_free(&c->p);
		return fail(err, "out of memory");
	}
	for (unsigned i = 0; i < p->nops; i++)
		c->orig[i] = i;
	return 0;
}

static int candidate_copy(struct candidate *dst, const struct candidate *src,
			  struct error *err)
{
	if (candidate_from(dst, &src->p, err) < 0)
		return -1;
	memcpy(dst->orig, src->orig, src->p.nops * sizeof(*src->orig));
	return 0;
}

static void candidate_remove_ops(struct candidate *c, unsigned from, unsigned n)
{
	unsigned rest = c->p.nops - from - n;

	for (unsigned i = from; i < from + n; i++)
		json_decref(c->p.ops[i].extras);
	memmove(&c->p.ops[from], &c->p.ops[from + n], rest * sizeof(*c->p.ops));
	memmove(&c->orig[from], &c->orig[from + n], rest * sizeof(*c->orig));
	c->p.nops -= n;
}

/* Removes thread th's ops; the threads above it move down one. */
static void candidate_drop_thread(struct candidate *c, unsigned th)
{
	unsigned i = 0;

	while (i < c->p.nops) {
		if (c->p.ops[i].t == th) {
			candidate_remove_ops(c, i, 1);
			continue;
		}
		if (c->p.ops[i].t > th)
			c->p.ops[i].t--;
		i++;
	}
	c->p.threads--;
}

/* ------------------------------------------------------- following fds */

static bool is_fd_number(int64_t n)
{
	return n >= 0 && n < FD_LIMIT;
}

struct created {
	enum fd_slot slot;
	int64_t fd;
};

/* The fds a call that returned res made (none when it failed). */
static unsigned op_creates(const struct op *op, const struct result *res,
			   struct created out[2])
{
	if (res->ret < 0)
		return 0;
	switch ((enum op_kind)op->kind) {
	case OP_EPOLL_CREATE:
	case OP_EPOLL_CREATE1:
	case OP_EVENTFD:
	case OP_DUP:
		out[0] = (struct created){ SLOT_RET, res->ret };
		return 1;
	case OP_DUP2:
	case OP_DUP3:
		/* dup2(fd, fd) changes nothing: the number keeps its maker */
		if (res->ret == op->f[F_FD])
			return 0;
		out[0] = (struct created){ SLOT_RET, res->ret };
		return 1;
	case OP_PIPE2:
	case OP_SOCKETPAIR:
		if (!(res->has & RES_FDS))
			return 0;
		out[0] = (struct created){ SLOT_FDS0, res->fds[0] };
		out[1] = (struct created){ SLOT_FDS1, res->fds[1] };
		return 2;
	case OP_FCNTL: /* F_DUPFD, F_DUPFD_CLOEXEC */
		if (!fd_sim_op_made(op))
			return 0;
		out[0] = (struct created){ SLOT_RET, res->ret };
		return 1;
	default:
		return 0;
	}
}

static void table_clear(struct fd_table *tab)
{
	for (unsigned n = 0; n < FD_LIMIT; n++)
		tab->fd[n] = (struct fd_origin){ -1, 0 };
}

/* What a finished call did to the table; who: its op in the original. */
static void table_apply(struct fd_table *tab, const struct op *op,
			const struct result *res, uint32_t who)
{
	struct created c[2];
	unsigned n = op_creates(op, res, c);

	if (op->kind == OP_CLOSE && res->ret == 0 && is_fd_number(op->f[F_FD]))
		tab->fd[op->f[F_FD]] = (struct fd_origin){ -1, 0 };
	if (op->kind == OP_CLOSE_RANGE && res->ret == 0 &&
	    !((uint64_t)op->f[F_FLAGS] & CLOSE_RANGE_CLOEXEC))
		for (uint32_t fd = (uint32_t)op->f[F_FIRST];
		     fd <= (uint32_t)op->f[F_LAST] && fd < FD_LIMIT; fd++)
			tab->fd[fd] = (struct fd_origin){ -1, 0 };
	for (unsigned i = 0; i < n; i++)
		if (is_fd_number(c[i].fd))
			tab->fd[c[i].fd] = (struct fd_origin){ (int32_t)who,
							       (uint8_t)c[i].slot };
}

static const struct result *finished(const struct step_record *r)
{
	return r->state == STEP_DONE ? &r->res : NULL;
}

/* Records, for each fd argument of the original program (c, unchanged),
 * the maker of the number it names when its op runs. */
static void learn_origins(struct minimizer *m, const struct candidate *c,
			  const struct outcome *o)
{
	table_clear(&m->table);
	for (unsigned i = 0; i < m->orig_nops; i++)
		for (unsigned f = 0; f < FIELD_COUNT; f++)
			m->named[i][f] = (struct fd_origin){ -1, 0 };
	for (uint32_t k = 0; k < o->nsteps; k++) {
		const struct step_record *r = &o->steps[k];
		const struct op *op;
		const struct op_desc *d;

		if (r->step >= c->p.nops)
			continue;
		op = &c->p.ops[r->step];
		d = &op_table[op->kind];
		for (unsigned i = 0; i < d->nfields; i++) {
			enum field_id f = d->fields[i].id;

			if (d->fields[i].kind == FK_FD && is_fd_number(op->f[f]))
				m->named[c->orig[r->step]][f] = m->table.fd[op->f[f]];
		}
		if (finished(r))
			table_apply(&m->table, op, &r->res, c->orig[r->step]);
	}
}

/* Notes the numbers c's creations got in outcome o. */
static void note_made(struct minimizer *m, const struct candidate *c,
		      const struct outcome *o)
{
	for (unsigned i = 0; i < m->orig_nops; i++)
		for (unsigned s = 0; s < SLOT_COUNT; s++)
			m->made[i][s] = -1;
	for (uint32_t k = 0; k < o->nsteps; k++) {
		const struct step_record *r = &o->steps[k];
		struct created cr[2];
		unsigned n;

		if (r->step >= c->p.nops || !finished(r))
			continue;
		n = op_creates(&c->p.ops[r->step], &r->res, cr);
		for (unsigned i = 0; i < n; i++)
			m->made[c->orig[r->step]][cr[i].slot] = cr[i].fd;
	}
}

/* Rewrites c's fd arguments to the numbers their makers got; true when
 * something changed. */
static bool renumber(const struct minimizer *m, struct candidate *c)
{
	bool changed = false;

	for (unsigned j = 0; j < c->p.nops; j++) {
		struct op *op = &c->p.ops[j];
		const struct op_desc *d = &op_table[op->kind];

		for (unsigned i = 0; i < d->nfields; i++) {
			enum field_id f = d->fields[i].id;
			struct fd_origin o = m->named[c->orig[j]][f];
			int64_t now;

			if (d->fields[i].kind != FK_FD || o.op < 0)
				continue;
			now = m->made[o.op][o.slot];
			if (now < 0 || now == op->f[f])
				continue;
			op->f[f] = now;
			changed = true;
		}
	}
	return changed;
}

/*
 * Runs c on the matched target and renumbers, until nothing changes.  Each
 * round fixes at least the first op whose numbers were wrong (everything
 * before it ran as it will), so rounds are few; a program still moving
 * after RESOLVE_ROUNDS is judged as it stands.
 */
static int resolve_fds(struct minimizer *m, struct candidate *c)
{
	const struct minimize_targets *t = m->t;

	for (unsigned round = 0; round < RESOLVE_ROUNDS; round++) {
		outcome_reset(&m->scratch);
		if (t->like_ops->run(t->like, &c->p, &m->scratch, m->err) < 0)
			return -1;
		note_made(m, c, &m->scratch);
		if (!renumber(m, c))
			break;
	}
	return 0;
}

/* ----------------------------------------------------------- keeping */

static int remember(struct minimizer *m, const struct program *p)
{
	struct program *grown = realloc(m->history,
					(m->nhistory + 1) * sizeof(*grown));

	if (!grown)
		return fail(m->err, "out of memory");
	m->history = grown;
	if (program_copy(&m->history[m->nhistory], p, m->err) < 0)
		return -1;
	m->nhistory++;
	return 0;
}

/* 1 when c (renumbered first) keeps the finding, 0 when not, -1 on error. */
static int keeps_finding(struct minimizer *m, struct candidate *c)
{
	struct verdict v;

	if (resolve_fds(m, c) < 0)
		return -1;
	if (minimize_judge(m->t, &c->p, &m->ref_out, &m->like_out, &v, m->err) < 0)
		return -1;
	m->runs++;
	return same_finding(&v, &m->want);
}

/* Makes c the current version when it keeps the finding.  c is consumed.
 * Returns 1 when adopted, 0 when not, -1 on error. */
static int adopt_if_kept(struct minimizer *m, struct candidate *cur,
			 struct candidate *c)
{
	int rc = keeps_finding(m, c);

	if (rc == 1 && remember(m, &c->p) < 0)
		rc = -1;
	if (rc == 1) {
		candidate_free(cur);
		*cur = *c;
		return 1;
	}
	candidate_free(c);
	return rc;
}

/* ---------------------------------------------------------- removing */

/* Tries cur without ops [from, from + n). */
static int try_without(struct minimizer *m, struct candidate *cur,
		       unsigned from, unsigned n)
{
	struct candidate c;

	if (candidate_copy(&c, cur, m->err) < 0)
		return -1;
	candidate_remove_ops(&c, from, n);
	return adopt_if_kept(m, cur, &c);
}

/* ddmin's reduction: chunks of half the ops, a quarter, ... one op. */
static int remove_chunks(struct minimizer *m, struct candidate *cur,
			 bool *changed)
{
	struct chunk_walk w;
	unsigned from, n;

	chunk_walk_init(&w, cur->p.nops);
	while (chunk_walk_next(&w, cur->p.nops, &from, &n)) {
		int rc = try_without(m, cur, from, n);

		if (rc < 0)
			return -1;
		*changed |= rc > 0;
		chunk_walk_step(&w, n, rc > 0);
	}
	return 0;
}

static int drop_threads(struct minimizer *m, struct candidate *cur,
			bool *changed)
{
	for (unsigned th = cur->p.threads; th-- > 0 && cur->p.threads > 1;) {
		struct candidate c;
		int rc;

		if (candidate_copy(&c, cur, m->err) < 0)
			return -1;
		candidate_drop_thread(&c, th);
		if (c.p.nops == 0) {
			candidate_free(&c);
			continue;
		}
		rc = adopt_if_kept(m, cur, &c);
		if (rc < 0)
			return -1;
		*changed |= rc == 1;
	}
	return 0;
}

static int move_to_thread0(struct minimizer *m, struct candidate *cur,
			   bool *changed)
{
	for (unsigned i = 0; i < cur->p.nops; i++) {
		struct candidate c;
		int rc;

		if (cur->p.ops[i].t == 0)
			continue;
		if (candidate_copy(&c, cur, m->err) < 0)
			return -1;
		c.p.ops[i].t = 0;
		rc = adopt_if_kept(m, cur, &c);
		if (rc < 0)
			return -1;
		*changed |= rc == 1;
	}
	return 0;
}

/* ------------------------------------------------------- simplifying */

/* A field's value and whether the trace gives it. */
struct setting {
	int64_t v;
	bool present;
};

static const struct flag_name *first_enum_name(const struct field_desc *fd)
{
	for (const struct flag_name *n = fd->names; n && n->name; n++)
		if (n->mask != n->bits)
			return n;
	return NULL;
}

static uint64_t magnitude(const struct field_desc *fd, int64_t v)
{
	if (fd->kind == FK_U64 || v >= 0)
		return (uint64_t)v;
	return -(uint64_t)v;
}

/* How far a setting is from the simplest: absent or the default is 0, and
 * every accepted change lowers it, so the passes end. */
static uint64_t rank(const struct field_desc *fd, struct setting s)
{
	const struct flag_name *first = first_enum_name(fd);

	if ((!s.present && fd->defkind != DEF_REQUIRED) ||
	    (fd->defkind == DEF_VALUE && s.v == fd->def))
		return 0;
	switch (fd->kind) {
	case FK_FLAGS:
		return 1 + (uint64_t)__builtin_popcountll((uint64_t)s.v);
	case FK_ENUM:
		if (!first)
			return 1 + (uint64_t)__builtin_popcountll((uint64_t)s.v);
		return 1 + (((uint64_t)s.v & first->mask) != first->bits) +
		       (uint64_t)__builtin_popcountll((uint64_t)s.v & ~first->mask);
	default:
		return magnitude(fd, s.v) == UINT64_MAX ? UINT64_MAX
							 : 1 + magnitude(fd, s.v);
	}
}

static struct setting setting_of(const struct op *op, const struct field_desc *fd)
{
	return (struct setting){ op->f[fd->id], op_has(op, fd->id) };
}

/* A value as the trace would give it: a default is left out. */
static struct setting given(const struct field_desc *fd, int64_t v)
{
	return (struct setting){ v, !(fd->defkind == DEF_VALUE && v == fd->def) };
}

struct simpler {
	struct setting s[MAX_SIMPLER];
	unsigned n;
};

static void offer(struct simpler *out, const struct field_desc *fd,
		  struct setting cur, struct setting s)
{
	if (out->n == MAX_SIMPLER || s.v < fd->min || s.v > fd->max ||
	    rank(fd, s) >= rank(fd, cur))
		return;
	out->s[out->n++] = s;
}

static void offer_bits_cleared(struct simpler *out, const struct field_desc *fd,
			       struct setting cur, uint64_t keep)
{
	for (unsigned b = 0; b < 64; b++) {
		uint64_t bit = 1ull << b;

		if (((uint64_t)cur.v & bit) && !(keep & bit))
			offer(out, fd, cur, given(fd, (int64_t)((uint64_t)cur.v & ~bit)));
	}
}

/* Simpler settings of one field, the simplest first. */
static void simpler_settings(const struct field_desc *fd, struct setting cur,
			     struct simpler *out)
{
	const struct flag_name *first = first_enum_name(fd);

	out->n = 0;
	if (fd->defkind != DEF_REQUIRED)
		offer(out, fd, cur, (struct setting){ fd->def, false });
	switch (fd->kind) {
	case FK_FD: /* fds follow their objects: see renumber */
		out->n = 0;
		break;
	case FK_FLAGS:
		offer_bits_cleared(out, fd, cur, 0);
		break;
	case FK_ENUM:
		if (first)
			offer(out, fd, cur,
			      given(fd, (int64_t)(((uint64_t)cur.v & ~first->mask) |
						  first->bits)));
		offer_bits_cleared(out, fd, cur, first ? first->mask : 0);
		break;
	default:
		offer(out, fd, cur, given(fd, 0));
		offer(out, fd, cur, given(fd, 1));
		if (fd->kind == FK_U64)
			offer(out, fd, cur, given(fd, (int64_t)((uint64_t)cur.v / 2)));
		else
			offer(out, fd, cur, given(fd, cur.v / 2));
		break;
	}
}

static void apply_setting(struct op *op, enum field_id f, struct setting s)
{
	op->f[f] = s.v;
	if (s.present)
		op->present |= (uint32_t)(1u << f);
	else
		op->present &= (uint32_t)~(1u << f);
}

/* Simplifies field fd of op i as far as the finding allows. */
static int simplify_field(struct minimizer *m, struct candidate *cur,
			  unsigned i, const struct field_desc *fd, bool *changed)
{
	bool progress = true;

	while (progress) {
		struct simpler alt;

		progress = false;
		simpler_settings(fd, setting_of(&cur->p.ops[i], fd), &alt);
		for (unsigned k = 0; k < alt.n && !progress; k++) {
			struct candidate c;
			int rc;

			if (candidate_copy(&c, cur, m->err) < 0)
				return -1;
			apply_setting(&c.p.ops[i], fd->id, alt.s[k]);
			rc = adopt_if_kept(m, cur, &c);
			if (rc < 0)
				return -1;
			progress = rc == 1;
		}
		*changed |= progress;
	}
	return 0;
}

static int simplify_args(struct minimizer *m, struct candidate *cur,
			 bool *changed)
{
	for (unsigned i = 0; i < cur->p.nops; i++) {
		const struct op_desc *d = &op_table[cur->p.ops[i].kind];

		for (unsigned k = 0; k < d->nfields; k++)
			if (simplify_field(m, cur, i, &d->fields[k], changed) < 0)
				return -1;
	}
	return 0;
}

/* Leaves out every field equal to its default: the same program. */
static void omit_defaults(struct program *p)
{
	for (unsigned i = 0; i < p->nops; i++) {
		struct op *op = &p->ops[i];
		const struct op_desc *d = &op_table[op->kind];

		for (unsigned k = 0; k < d->nfields; k++) {
			const struct field_desc *fd = &d->fields[k];

			if (fd->defkind == DEF_VALUE && op->f[fd->id] == fd->def)
				apply_setting(op, fd->id, (struct setting){ fd->def, false });
		}
	}
	p->threads_given = p->threads != program_min_threads(p);
}

/* Every pass, again and again until none changes anything. */
static int shrink(struct minimizer *m, struct candidate *cur)
{
	bool changed = true;

	while (changed) {
		changed = false;
		if (remove_chunks(m, cur, &changed) < 0 ||
		    drop_threads(m, cur, &changed) < 0 ||
		    move_to_thread0(m, cur, &changed) < 0 ||
		    simplify_args(m, cur, &changed) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------- start and finish */

/* Finds the wanted finding (or p's own, want NULL) in a few runs. */
static enum minimize_status reproduce(struct minimizer *m, const struct program *p,
				      const struct verdict *want,
				      struct minimize_result *r)
{
	for (unsigned k = 0; k < REPRODUCE_TRIES; k++) {
		if (minimize_judge(m->t, p, &m->ref_out, &m->like_out, &r->verdict,
				   m->err) < 0)
			return MINIMIZE_FAILED;
		m->runs++;
		if (!want && r->verdict.cls != VERDICT_AGREE) {
			m->want = r->verdict;
			return MINIMIZE_DONE;
		}
		if (want && same_finding(&r->verdict, want)) {
			m->want = *want;
			return MINIMIZE_DONE;
		}
	}
	return want ? MINIMIZE_NOT_REPRODUCED : MINIMIZE_AGREE;
}

/* 1 when p shows the finding in every one of RECHECK_RUNS runs (r then
 * holds the last), 0 when not, -1 on error. */
static int holds_every_time(struct minimizer *m, const struct program *p,
			    struct minimize_result *r)
{
	for (unsigned k = 0; k < RECHECK_RUNS; k++) {
		if (minimize_judge(m->t, p, &r->ref_out, &r->like_out, &r->verdict,
				   m->err) < 0)
			return -1;
		m->runs++;
		if (!same_finding(&r->verdict, &m->want))
			return 0;
	}
	return 1;
}

/* The newest version that holds every time; the newest of all (with a run
 * showing the finding, when one comes) when none does. */
static int choose_stable(struct minimizer *m, struct minimize_result *r,
			 unsigned *chosen)
{
	for (unsigned h = m->nhistory; h-- > 0;) {
		int rc = holds_every_time(m, &m->history[h], r);

		if (rc < 0)
			return -1;
		if (rc) {
			*chosen = h;
			r->stable = true;
			return 0;
		}
	}
	*chosen = m->nhistory - 1;
	for (unsigned k = 0; k < RECHECK_RUNS; k++) {
		if (minimize_judge(m->t, &m->history[*chosen], &r->ref_out,
				   &r->like_out, &r->verdict, m->err) < 0)
			return -1;
		m->runs++;
		if (same_finding(&r->verdict, &m->want))
			break;
	}
	return 0;
}

static int minimizer_init(struct minimizer *m, const struct minimize_targets *t,
			  unsigned nops, struct error *err)
{
	memset(m, 0, sizeof(*m));
	m->t = t;
	m->err = err;
	m->orig_nops = nops;
	outcome_init(&m->ref_out);
	outcome_init(&m->like_out);
	outcome_init(&m->scratch);
	m->named = calloc(nops ? nops : 1, sizeof(*m->named));
	m->made = calloc(nops ? nops : 1, sizeof(*m->made));
	if (!m->named || !m->made)
		return fail(err, "out of memory");
	return 0;
}

static void minimizer_free(struct minimizer *m)
{
	free(m->named);
	free(m->made);
	outcome_free(&m->ref_out);
	outcome_free(&m->like_out);
	outcome_free(&m->scratch);
	for (unsigned h = 0; h < m->nhistory; h++)
		program_free(&m->history[h]);
	free(m->history);
}

/* Runs the original once to learn what each fd argument names. */
static int learn(struct minimizer *m, const struct candidate *orig)
{
	const struct minimize_targets *t = m->t;

	outcome_reset(&m->scratch);
	if (t->like_ops->run(t->like, &orig->p, &m->scratch, m->err) < 0)
		return -1;
	learn_origins(m, orig, &m->scratch);
	return 0;
}

/* Minimises, with the finding to keep already in m->want. */
static enum minimize_status minimize_found(struct minimizer *m,
					   struct program *p,
					   struct minimize_result *r)
{
	struct candidate cur;
	unsigned chosen;

	if (candidate_from(&cur, p, m->err) < 0)
		return MINIMIZE_FAILED;
	if (learn(m, &cur) < 0 || remember(m, &cur.p) < 0 || shrink(m, &cur) < 0) {
		candidate_free(&cur);
		return MINIMIZE_FAILED;
	}
	candidate_free(&cur);
	omit_defaults(&m->history[m->nhistory - 1]);
	r->smallest_ops = m->history[m->nhistory - 1].nops;
	if (choose_stable(m, r, &chosen) < 0)
		return MINIMIZE_FAILED;
	r->fell_back = chosen != m->nhistory - 1;
	omit_defaults(&m->history[chosen]);
	program_free(p);
	*p = m->history[chosen];
	program_init(&m->history[chosen]);
	r->ops_after = p->nops;
	r->threads_after = p->threads;
	return MINIMIZE_DONE;
}

enum minimize_status minimize_program(const struct minimize_targets *t,
				      struct program *p,
				      const struct verdict *want,
				      struct minimize_result *r,
				      struct error *err)
{
	struct minimizer m;
	enum minimize_status status;

	memset(r, 0, sizeof(*r));
	outcome_init(&r->ref_out);
	outcome_init(&r->like_out);
	r->ops_before = r->ops_after = r->smallest_ops = p->nops;
	r->threads_before = r->threads_after = p->threads;
	if (want && want->cls == VERDICT_AGREE)
		want = NULL;
	if (minimizer_init(&m, t, p->nops, err) < 0)
		status = MINIMIZE_FAILED;
	else
		status = reproduce(&m, p, want, r);
	if (status == MINIMIZE_DONE)
		status = minimize_found(&m, p, r);
	r->runs = m.runs;
	minimizer_free(&m);
	if (status == MINIMIZE_FAILED)
		minimize_result_free(r);
	return status;
}

void minimize_result_free(struct minimize_result *r)
{
	outcome_free(&r->ref_out);
	outcome_free(&r->like_out);
}
