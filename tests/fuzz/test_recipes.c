/*
 * test_recipes.c - the planned fresh programs (fuzz/recipes.c): every one
 * is a valid program that the encoder keeps as it is, and each plan
 * reaches the states it is there for, as the clean model runs them:
 *
 *   nest   an add of one instance to another refused by the path limits
 *          (EINVAL: reverse_path_check; no self-add, no EPOLLEXCLUSIVE in
 *          this plan) and one refused by the nesting limit (ELOOP);
 *   edge   an eventfd write of 0 followed by a wait that reports an
 *          edge-triggered interest again;
 *   fill   a write that comes up short (a buffer filled to its limit);
 *   procs  an end of file or a broken pipe met after a child's exit;
 *   crowd  one step that completes two or more blocked threads;
 *   storm  a run with more than 64 racing wakeups: writes of 0 to an
 *          eventfd, each waking every sleeper, of which all but the last
 *          to run are a choice of the model's schedule search (one with
 *          room for 64 would not record them all);
 *   relay  a run with 8 or more writes of one unit, each completing one
 *          of two or more sleeping readers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "check.h"
#include "internal.h"
#include "model.h"
#include "valid.h"

enum { PROGRAMS = 3000 };

/* With --dump DIR [N] (tools/mutants.py --plans): each program, as the
 * decoder gives it to a campaign, is also written to DIR/SEED.json, and N
 * programs are drawn instead of PROGRAMS. */
struct dump {
	const char *dir;
	unsigned programs;
};

static struct dump dump_args(int argc, char **argv)
{
	struct dump d = { NULL, PROGRAMS };

	if (argc >= 3 && strcmp(argv[1], "--dump") == 0) {
		d.dir = argv[2];
		if (argc >= 4)
			d.programs = (unsigned)strtoul(argv[3], NULL, 10);
	}
	return d;
}

static bool dump_program(const struct dump *d, unsigned seed, const struct program *p)
{
	char path[4096], *text;
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%05u.json", d->dir, seed);
	text = trace_dump(p, NULL);
	f = fopen(path, "w");
	ok = text && f && fputs(text, f) >= 0;
	ok = f && fclose(f) == 0 && ok;
	free(text);
	return ok;
}

struct seen {
	unsigned path_limit, nest_limit, zero_rewake, short_write, after_exit, crowd_woken,
		storm, relay, changed;
};

/* The races of a run's writes to an eventfd or a socket, from the threads
 * asleep as each write starts: a write of 0 wakes every sleeper, and who
 * runs first among k of them is k - 1 choices (storm); a write of one
 * unit that completes one of two or more sleepers is a round of a relay,
 * whose taker the outcome shows. */
struct races {
	unsigned zero, handed;
};

static struct races write_races(const struct program *p, const struct outcome *out)
{
	bool asleep[MAX_THREADS] = { false };
	struct races n = { 0, 0 };

	for (unsigned i = 0; i < out->nsteps; i++) {
		const struct step_record *rec = &out->steps[i];
		const struct op *op = &p->ops[rec->step];
		unsigned k = 0;

		for (unsigned t = 0; t < MAX_THREADS; t++)
			k += asleep[t];
		for (uint32_t d = 0; d < rec->done_count; d++)
			asleep[out->done[rec->done_first + d].t] = false;
		if (rec->state == STEP_BLOCKED)
			asleep[rec->t] = true;
		if (rec->state != STEP_DONE || op->kind != OP_WRITE || rec->res.ret <= 0)
			continue;
		if (op_has(op, F_VALUE) && op->f[F_VALUE] == 0)
			n.zero += k > 1 ? k - 1 : 0;
		if (op->f[op_has(op, F_VALUE) ? F_VALUE : F_LEN] == 1 && rec->done_count == 1 &&
		    k >= 2)
			n.handed++;
	}
	return n;
}

static const struct result *result_of(const struct outcome *out, uint32_t step)
{
	for (unsigned i = 0; i < out->nsteps; i++)
		if (out->steps[i].step == step && out->steps[i].state == STEP_DONE)
			return &out->steps[i].res;
	return NULL;
}

static void look(const struct program *p, const struct outcome *out, struct seen *s)
{
	bool zero_written = false, exited = false;

	for (unsigned i = 0; i < p->nops; i++) {
		const struct op *op = &p->ops[i];
		const struct result *res = result_of(out, i);

		if (!res)
			continue;
		if (op->kind == OP_EPOLL_CTL && op->f[F_CTL] == EPOLL_CTL_ADD &&
		    op->f[F_EPFD] != op->f[F_FD] && !(op->f[F_EVENTS] & EPOLLEXCLUSIVE) &&
		    res->ret == -1) {
			s->path_limit += res->err == EINVAL;
			s->nest_limit += res->err == ELOOP;
		}
		if (op->kind == OP_WRITE && op_has(op, F_LEN) && res->ret > 0 &&
		    res->ret < op->f[F_LEN])
			s->short_write++;
		exited |= op->kind == OP_EXIT;
		if (exited && ((op->kind == OP_READ && res->ret == 0 && op->f[F_LEN] > 0) ||
			       (op->kind == OP_WRITE && res->err == EPIPE)))
			s->after_exit++;
		if (op->kind == OP_WRITE && op->f[F_VALUE] == 0 && res->ret == 8)
			zero_written = true;
		if (op_is_epoll_wait(op->kind) && res->ret > 0 && zero_written)
			s->zero_rewake++;
		if (op_is_epoll_wait(op->kind))
			zero_written = false;
	}
	for (unsigned i = 0; i < out->nsteps; i++)
		s->crowd_woken += out->steps[i].done_count >= 2;
	struct races races = write_races(p, out);

	s->storm += races.zero > 64;
	s->relay += races.handed >= 8;
}

int main(int argc, char **argv)
{
	const struct dump d = dump_args(argc, argv);
	const struct decode_limits lim = { .max_ops = FUZZ_MAX_OPS, .max_threads = 4,
					   .profile = PROFILE_ANY };
	struct checks c = { 0, 0 };
	struct seen s = { 0 };
	struct target_config cfg;
	struct error err;
	struct model *m;
	char why[160];

	memset(&cfg, 0, sizeof(cfg));
	m = model_new(&cfg, &err);
	if (!m)
		return fprintf(stderr, "model: %s\n", err.msg), 1;
	for (unsigned seed = 0; seed < d.programs; seed++) {
		struct rng r = rng_seeded(seed);
		struct program p, q;
		struct outcome out;
		uint8_t *bytes;
		size_t len;

		program_init(&p);
		recipe_program(&r, lim.max_ops, lim.max_threads, &p);
		CHECK(&c, program_valid(&p, &lim, why, sizeof(why)), "seed %u: %s", seed, why);
		if (program_encode(&p, &lim, &bytes, &len) < 0)
			return fprintf(stderr, "out of memory\n"), 1;
		program_decode(bytes, len, &lim, &q);
		/* what the encoder bends (a thread count, a blocking op on a
		 * thread presumed asleep) is counted, not failed */
		s.changed += q.nops != p.nops;
		outcome_init(&out);
		CHECK(&c, model_run(m, &q, &out, &err) == 0, "seed %u: %s", seed, err.msg);
		look(&q, &out, &s);
		if (d.dir)
			CHECK(&c, dump_program(&d, seed, &q), "seed %u: cannot write it to %s",
			      seed, d.dir);
		outcome_free(&out);
		free(bytes);
		program_free(&p);
		program_free(&q);
	}
	model_free(m);
	printf("%u programs: %u path-limit refusals, %u nesting-limit refusals, "
	       "%u re-reports after an eventfd write of 0, %u short writes, %u ends "
	       "of file or broken pipes after an exit, %u steps waking two or more "
	       "threads, %u runs with over 64 racing wakeups, %u with 8 or more "
	       "relay rounds; %u programs lost ops in encoding\n", d.programs,
	       s.path_limit, s.nest_limit, s.zero_rewake, s.short_write, s.after_exit,
	       s.crowd_woken, s.storm, s.relay, s.changed);
	CHECK(&c, s.path_limit > 0, "no add refused by reverse_path_check's limits");
	CHECK(&c, s.nest_limit > 0, "no add refused by ep_loop_check");
	CHECK(&c, s.zero_rewake > 0, "no edge-triggered re-report after a write of 0");
	CHECK(&c, s.short_write > 0, "no write came up short");
	CHECK(&c, s.after_exit > 0, "no end of file or broken pipe after an exit");
	CHECK(&c, s.crowd_woken > 0, "no step woke two blocked threads");
	CHECK(&c, s.storm > 0, "no run with over 64 racing wakeups");
	CHECK(&c, s.relay > 0, "no run with 8 relay rounds, each taken by one of two sleepers");
	CHECK(&c, s.changed <= d.programs / 10, "%u of %u programs changed by encoding",
	      s.changed, d.programs);
	return checks_report(&c, "recipes");
}
