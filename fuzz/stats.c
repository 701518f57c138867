/*
 * stats.c - which ops, flags, fd kinds and errnos a campaign generated and
 * got back (`epollfuzz fuzz --stats`), so that what the generator never
 * makes shows.  One flat tally of counters, filled per run from the program
 * and the reference target's outcome; written and read back as JSON.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fdsim.h"
#include "fuzz.h"

/* The tally is bookkeeping, not the code under test: in a libFuzzer build
 * its branches must not feed the engine's coverage (--stats would change
 * what the campaign keeps), and their tracing would cost more than the
 * counting itself. */
#if defined(__clang__)
#define NOT_FUZZED __attribute__((no_sanitize("coverage")))
#else
#define NOT_FUZZED
#endif

static const char *const fd_kind_names[FUZZ_STATS_FD_KINDS] = {
	[FDK_FREE] = "free",       [FDK_CLOSED] = "closed",
	[FDK_NULL] = "null",       [FDK_EPOLL] = "epoll",
	[FDK_PIPE_R] = "pipe_r",   [FDK_PIPE_W] = "pipe_w",
	[FDK_EVENTFD] = "eventfd", [FDK_SOCKET] = "socket",
	[FDK_NEGATIVE] = "negative",
};
_Static_assert(FDK_NEGATIVE + 1 == FUZZ_STATS_FD_KINDS, "one name per fd kind");

const char *fuzz_stats_fd_kind_name(unsigned k)
{
	return k < FUZZ_STATS_FD_KINDS ? fd_kind_names[k] : "?";
}

NOT_FUZZED static void tally_fields(struct fuzz_stats_op *so, const struct op *op,
			 const struct fd_sim *sim)
{
	const struct op_desc *d = &op_table[op->kind];

	for (unsigned i = 0; i < d->nfields && i < OP_MAX_FIELDS; i++) {
		const struct field_desc *fd = &d->fields[i];
		uint64_t v = (uint64_t)op->f[fd->id];

		if (fd->kind == FK_FD) {
			so->fd_kind[i][fd_sim_kind(sim, op->f[fd->id])]++;
		} else if ((fd->kind == FK_FLAGS || fd->kind == FK_ENUM) && fd->names) {
			uint64_t covered = 0;

			for (unsigned n = 0; fd->names[n].name && n < FUZZ_STATS_NAMES; n++) {
				const struct flag_name *fn = &fd->names[n];

				if ((v & fn->mask) == fn->bits &&
				    (fn->bits || fd->kind == FK_ENUM)) {
					so->named[i][n]++;
					covered |= fn->mask;
				}
			}
			if (v & ~covered)
				so->unnamed[i]++;
		}
	}
}

NOT_FUZZED void fuzz_stats_add(struct fuzz_stats *st, const struct program *p,
			       const struct outcome *out)
{
	struct fd_sim sim;

	fd_sim_init(&sim);
	st->programs++;
	for (uint32_t i = 0; i < p->nops; i++) {
		const struct op *op = &p->ops[i];
		struct fuzz_stats_op *so = &st->op[op->kind];
		const struct step_record *sr = i < out->nsteps ? &out->steps[i] : NULL;

		st->ops++;
		so->drawn++;
		tally_fields(so, op, &sim);
		if (!sr) {
			so->unrun++;
			continue;
		}
		switch (sr->state) {
		case STEP_DONE:
			if (sr->res.ret >= 0)
				so->ok++;
			else
				so->err[(unsigned)sr->res.err < FUZZ_STATS_ERRNOS ?
					(unsigned)sr->res.err : 0]++;
			fd_sim_apply_result(&sim, op, &sr->res);
			break;
		case STEP_BLOCKED:
			so->blocked++;
			break;
		case STEP_SKIPPED:
			so->skipped++;
			break;
		default:
			so->unrun++;
			break;
		}
	}
}

/* ------------------------------------------------------------ JSON */

#define FOR_COUNTERS(X) X(drawn) X(ok) X(blocked) X(skipped) X(unrun)

static json_t *op_json(const struct fuzz_stats_op *so, const struct op_desc *d)
{
	json_t *o = json_object(), *errs = json_object(), *fields = json_object();

#define PUT(c) json_object_set_new(o, #c, json_integer((json_int_t)so->c));
	FOR_COUNTERS(PUT)
#undef PUT
	for (unsigned e = 0; e < FUZZ_STATS_ERRNOS; e++)
		if (so->err[e])
			json_object_set_new(errs, errno_name((int)e),
					    json_integer((json_int_t)so->err[e]));
	json_object_set_new(o, "errno", errs);
	for (unsigned i = 0; i < d->nfields && i < OP_MAX_FIELDS; i++) {
		const struct field_desc *fd = &d->fields[i];
		json_t *f = json_object();

		if (fd->kind == FK_FD) {
			for (unsigned k = 0; k < FUZZ_STATS_FD_KINDS; k++)
				json_object_set_new(f, fd_kind_names[k],
						    json_integer((json_int_t)so->fd_kind[i][k]));
		} else if ((fd->kind == FK_FLAGS || fd->kind == FK_ENUM) && fd->names) {
			for (unsigned n = 0; fd->names[n].name && n < FUZZ_STATS_NAMES; n++)
				json_object_set_new(f, fd->names[n].name,
						    json_integer((json_int_t)so->named[i][n]));
			json_object_set_new(f, "(unnamed bits)",
					    json_integer((json_int_t)so->unnamed[i]));
		} else {
			json_decref(f);
			continue;
		}
		json_object_set_new(fields, fd->name, f);
	}
	json_object_set_new(o, "fields", fields);
	return o;
}

int fuzz_stats_write(const struct fuzz_stats *st, const char *path,
		     struct error *err)
{
	json_t *root = json_object(), *ops = json_object();
	char *text;
	int rc;

	json_object_set_new(root, "programs", json_integer((json_int_t)st->programs));
	json_object_set_new(root, "ops", json_integer((json_int_t)st->ops));
	for (unsigned k = 0; k < OP_KIND_COUNT; k++)
		json_object_set_new(ops, op_table[k].name, op_json(&st->op[k], &op_table[k]));
	json_object_set_new(root, "op", ops);
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return fail(err, "%s: out of memory", path);
	rc = write_atomically(path, text, strlen(text), err);
	free(text);
	return rc;
}

static unsigned long num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ?
		(unsigned long)json_integer_value(v) : 0;
}

static void op_add_json(struct fuzz_stats_op *so, const struct op_desc *d, json_t *o)
{
	json_t *errs = json_object_get(o, "errno"), *fields = json_object_get(o, "fields");
	const char *key;
	json_t *v;

#define ADD(c) so->c += num(o, #c);
	FOR_COUNTERS(ADD)
#undef ADD
	json_object_foreach(errs, key, v) {
		int e = errno_from_name(key);

		if (e >= 0 && e < FUZZ_STATS_ERRNOS && json_is_integer(v))
			so->err[e] += (unsigned long)json_integer_value(v);
	}
	for (unsigned i = 0; i < d->nfields && i < OP_MAX_FIELDS; i++) {
		const struct field_desc *fd = &d->fields[i];
		json_t *f = json_object_get(fields, fd->name);

		if (!f)
			continue;
		if (fd->kind == FK_FD) {
			for (unsigned k = 0; k < FUZZ_STATS_FD_KINDS; k++)
				so->fd_kind[i][k] += num(f, fd_kind_names[k]);
		} else if (fd->names) {
			for (unsigned n = 0; fd->names[n].name && n < FUZZ_STATS_NAMES; n++)
				so->named[i][n] += num(f, fd->names[n].name);
			so->unnamed[i] += num(f, "(unnamed bits)");
		}
	}
}

int fuzz_stats_read_add(struct fuzz_stats *st, const char *path,
			struct error *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *ops;

	if (!root)
		return fail(err, "%s: %s", path, je.text);
	st->programs += num(root, "programs");
	st->ops += num(root, "ops");
	ops = json_object_get(root, "op");
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		json_t *o = json_object_get(ops, op_table[k].name);

		if (o)
			op_add_json(&st->op[k], &op_table[k], o);
	}
	json_decref(root);
	return 0;
}

/* ---------------------------------------------------------- report */

static double pct(unsigned long a, unsigned long b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* The op's errnos, most frequent first, as "EBADF 40%, EINVAL 12%". */
static void top_errnos(const struct fuzz_stats_op *so, char *buf, size_t len)
{
	unsigned long failed = 0, done[FUZZ_STATS_ERRNOS] = { 0 };
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned e = 0; e < FUZZ_STATS_ERRNOS; e++)
		failed += so->err[e];
	for (unsigned shown = 0; shown < 4; shown++) {
		unsigned best = FUZZ_STATS_ERRNOS;

		for (unsigned e = 0; e < FUZZ_STATS_ERRNOS; e++)
			if (so->err[e] > done[e] &&
			    (best == FUZZ_STATS_ERRNOS || so->err[e] > so->err[best]))
				best = e;
		if (best == FUZZ_STATS_ERRNOS || at >= len)
			break;
		done[best] = so->err[best];
		at += (size_t)snprintf(buf + at, len - at, "%s%s %.0f%%", shown ? ", " : "",
				       errno_name((int)best), pct(so->err[best], failed));
	}
}

#define GAP_SHARE 0.001 /* less than 0.1% of the ops it could appear in */

static bool is_gap(unsigned long n, unsigned long of)
{
	return n == 0 || (double)n < GAP_SHARE * (double)of;
}

void fuzz_stats_print(FILE *f, const struct fuzz_stats *st)
{
	unsigned gaps = 0;

	fprintf(f, "\nepollfuzz fuzz: op coverage: %lu ops in %lu programs\n",
		st->ops, st->programs);
	fprintf(f, "%-14s %10s %6s %6s %8s %8s  %s\n", "op", "drawn", "share",
		"ok", "blocked", "failed", "top errnos (of the failed)");
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct fuzz_stats_op *so = &st->op[k];
		unsigned long failed = 0;
		char errs[160];

		for (unsigned e = 0; e < FUZZ_STATS_ERRNOS; e++)
			failed += so->err[e];
		top_errnos(so, errs, sizeof(errs));
		fprintf(f, "%-14s %10lu %5.1f%% %5.1f%% %8lu %8lu  %s\n", op_table[k].name,
			so->drawn, pct(so->drawn, st->ops), pct(so->ok, so->drawn),
			so->blocked, failed, errs);
	}
	fprintf(f, "GAPS (never drawn, or in less than %.1f%% of the ops they could appear in):\n",
		GAP_SHARE * 100);
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct fuzz_stats_op *so = &st->op[k];
		const struct op_desc *d = &op_table[k];

		if (is_gap(so->drawn, st->ops)) {
			fprintf(f, "  op %s: drawn %lu of %lu ops\n", d->name, so->drawn, st->ops);
			gaps++;
		}
		if (!so->drawn)
			continue;
		for (unsigned i = 0; i < d->nfields && i < OP_MAX_FIELDS; i++) {
			const struct field_desc *fd = &d->fields[i];

			if (fd->kind == FK_FD) {
				for (unsigned c = 0; c < FUZZ_STATS_FD_KINDS; c++)
					if (is_gap(so->fd_kind[i][c], so->drawn)) {
						fprintf(f, "  fd %s.%s: %s in %lu of %lu\n", d->name,
							fd->name, fd_kind_names[c],
							so->fd_kind[i][c], so->drawn);
						gaps++;
					}
			} else if ((fd->kind == FK_FLAGS || fd->kind == FK_ENUM) && fd->names) {
				for (unsigned n = 0; fd->names[n].name && n < FUZZ_STATS_NAMES; n++) {
					if (!fd->names[n].bits && fd->kind == FK_FLAGS)
						continue;
					if (is_gap(so->named[i][n], so->drawn)) {
						fprintf(f, "  flag %s.%s: %s in %lu of %lu\n", d->name,
							fd->name, fd->names[n].name,
							so->named[i][n], so->drawn);
						gaps++;
					}
				}
			}
		}
	}
	if (!gaps)
		fprintf(f, "  none\n");
}
