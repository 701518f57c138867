/*
 * bench_threads.c - what blocking threads cost, on both targets.
 *
 * Two fixed programs with the same ops: "blocking" spreads them over four
 * threads (three block in epoll_wait, a write wakes them all through the
 * level-triggered cascade, timed waits expire at a sleep), "flat" runs them
 * on one thread with every wait non-blocking.  Each runs on the linux
 * target and on the model (run, and run_like with a Linux outcome as the
 * reference), interleaved in rounds; then random byte strings decoded at
 * max_threads 4 run the way the fuzz target runs them (Linux, then the
 * model's run_like against Linux's outcome, then the comparison).
 *
 * Machines are shared and noisy, so what counts are the ratios: every
 * figure is the median over rounds, and every ratio is taken within a
 * round (both sides measured seconds apart) before the median.
 *
 * Usage: bench_threads [--quick] [--rounds N] [--budget SECONDS]
 *                      [--random N] [--chunk N] [--seed S] [--show]
 *
 * Each round runs every fixed cell for --budget seconds, then the next
 * --chunk programs of the --random set on each random cell.
 *
 * --show prints both fixed programs as Linux ran them, and exits.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "fuzz.h"
#include "oracle.h"
#include "prog.h"
#include "now.h"

#define MAX_ROUNDS 64
#define RANDOM_MAX_OPS 64
#define RANDOM_MAX_THREADS 4
#define RANDOM_MIN_LEN 16
#define RANDOM_MAX_LEN 256

static void die(const char *what, const struct error *err)
{
	fprintf(stderr, "bench_threads: %s: %s\n", what, err->msg);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ------------------------------------------------------------ programs */

/*
 * The ops of both programs; blocking says which thread makes each call and
 * whether its waits block.  fds: pipe 3 (read), 4 (write); epoll 5;
 * eventfd 6.
 */
static void build(struct program *p, bool blocking)
{
	unsigned t1 = blocking ? 1 : 0, t2 = blocking ? 2 : 0,
		 t3 = blocking ? 3 : 0;
	int forever = blocking ? -1 : 0, timed = blocking ? 100 : 0;

	prog_push(p, op_pipe2(O_NONBLOCK));
	prog_push(p, op_epoll());
	prog_push(p, prog_set(prog_op(OP_EVENTFD, 0), F_FLAGS, EFD_NONBLOCK));
	prog_push(p, op_ctl(5, EPOLL_CTL_ADD, 3, EPOLLIN));
	prog_push(p, op_ctl(5, EPOLL_CTL_ADD, 6, EPOLLIN | EPOLLET));
	/* Three sleepers; one write wakes all three (LT cascade). */
	prog_push(p, op_wait(t1, 5, 8, forever));
	prog_push(p, op_wait(t2, 5, 8, forever));
	prog_push(p, op_wait(t3, 5, 8, forever));
	prog_push(p, op_write(0, 4, 1));
	prog_push(p, op_read(0, 3));
	/* Two timed sleepers and one untimed; the eventfd write (ET) wakes
	 * one, the last to sleep (waiters queue exclusively, at the head);
	 * the sleep expires the two timed ones. */
	prog_push(p, op_wait(t1, 5, 8, timed));
	prog_push(p, op_wait(t2, 5, 8, timed));
	prog_push(p, op_wait(t3, 5, 8, forever));
	prog_push(p, op_write_value(0, 6, 1));
	prog_push(p, op_read(0, 6));
	prog_push(p, op_sleep(150));
	/* Non-blocking waits from the other threads; one more sleeper, woken
	 * by a write through a dup; the last close's HUP ends a wait at once. */
	prog_push(p, op_write(0, 4, 3));
	prog_push(p, op_wait(t1, 5, 8, 0));
	prog_push(p, op_wait(t2, 5, 8, 0));
	prog_push(p, op_read(0, 3));
	prog_push(p, op_ctl(5, EPOLL_CTL_MOD, 3, EPOLLIN | EPOLLET));
	prog_push(p, FD1(OP_DUP, 0, F_FD, 4));
	prog_push(p, op_wait(t3, 5, 8, forever));
	prog_push(p, op_write(0, 7, 2));
	prog_push(p, FD1(OP_CLOSE, 0, F_FD, 7));
	prog_push(p, op_wait(t1, 5, 8, 0));
	prog_push(p, FD1(OP_CLOSE, 0, F_FD, 4));
	prog_push(p, op_wait(t2, 5, 8, forever));
	prog_push(p, op_read(0, 3));
	prog_push(p, op_wait(0, 5, 8, 0));
	if (!blocking)
		p->threads = 1;
}

/*
 * Steps after which the executor settles blocked threads, read from a Linux
 * outcome: a wait handed to a thread (it may sleep), any op that can wake
 * while a thread sleeps, and a sleep that expires a wait.
 */
static unsigned settling_steps(const struct program *p, const struct outcome *o)
{
	bool pending[MAX_THREADS] = { false };
	unsigned n = 0;

	for (uint32_t i = 0; i < o->nsteps; i++) {
		const struct step_record *rec = &o->steps[i];
		const struct op *op = &p->ops[rec->step];
		bool any = false;

		for (unsigned t = 0; t < MAX_THREADS; t++)
			any |= pending[t];
		if (rec->state == STEP_SKIPPED)
			continue;
		if (op->kind == OP_SLEEP)
			n += rec->done_count > 0;
		else if (op->kind == OP_EPOLL_WAIT && op->f[F_TIMEOUT] != 0)
			n++;
		else
			n += any && op_may_wake(op);
		if (rec->state == STEP_BLOCKED)
			pending[rec->t] = true;
		for (uint32_t k = 0; k < rec->done_count; k++)
			pending[o->done[rec->done_first + k].t] = false;
	}
	return n;
}

/* --------------------------------------------------------------- cells */

enum how { RUN, RUN_LIKE };

struct cell {
	const char *target, *prog, *how_name;
	const struct target_ops *ops;
	struct target *t;
	enum how how;
	const struct program *p;
	const struct outcome *ref;
	double rate[MAX_ROUNDS]; /* programs/s, one per round */
};

static struct outcome scratch;

static void run_one(struct cell *c)
{
	struct error err = { "" };
	int rc;

	outcome_reset(&scratch);
	if (c->how == RUN_LIKE)
		rc = c->ops->run_like(c->t, c->p, c->ref, &scratch, &err);
	else
		rc = c->ops->run(c->t, c->p, &scratch, &err);
	if (rc < 0)
		die(c->target, &err);
}

/* Runs c for about budget seconds; programs/s. */
static double measure(struct cell *c, double budget)
{
	double start = now(), end;
	unsigned n = 0;

	do {
		for (unsigned i = 0; i < 8; i++, n++)
			run_one(c);
		end = now();
	} while (end - start < budget);
	return n / (end - start);
}

/* ------------------------------------------------------- random programs */

static uint64_t prng_state;

static uint64_t prng(void)
{
	/* splitmix64 */
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct input {
	uint8_t *bytes;
	size_t len;
};

struct random_set {
	unsigned n, chunk, next; /* each round runs programs next..next+chunk */
	struct input *in;
	struct program *p;   /* decoded once, for the per-target cells */
	struct outcome *ref; /* a Linux outcome of each */
	double linux_rate[MAX_ROUNDS], model_rate[MAX_ROUNDS],
		loop_rate[MAX_ROUNDS];
	unsigned long ops, settling, blocked_left;
	unsigned long agree, diverge, unsupported, invariant;
};

static const struct decode_limits random_limits = { RANDOM_MAX_OPS,
						    RANDOM_MAX_THREADS, 0 };

static void random_prepare(struct random_set *rs, struct target *lt,
			   struct target *mt)
{
	struct error err = { "" };

	rs->in = calloc(rs->n, sizeof(*rs->in));
	rs->p = calloc(rs->n, sizeof(*rs->p));
	rs->ref = calloc(rs->n, sizeof(*rs->ref));
	if (!rs->in || !rs->p || !rs->ref) {
		fprintf(stderr, "bench_threads: out of memory\n");
		exit(1);
	}
	for (unsigned i = 0; i < rs->n; i++) {
		struct input *in = &rs->in[i];

		in->len = RANDOM_MIN_LEN +
			  prng() % (RANDOM_MAX_LEN - RANDOM_MIN_LEN + 1);
		in->bytes = malloc(in->len);
		if (!in->bytes) {
			fprintf(stderr, "bench_threads: out of memory\n");
			exit(1);
		}
		for (size_t k = 0; k < in->len; k++)
			in->bytes[k] = (uint8_t)prng();
		program_decode(in->bytes, in->len, &random_limits, &rs->p[i]);
		outcome_init(&rs->ref[i]);
		if (linux_target.run(lt, &rs->p[i], &rs->ref[i], &err) < 0)
			die("linux (random)", &err);
		rs->ops += rs->p[i].nops;
		rs->settling += settling_steps(&rs->p[i], &rs->ref[i]);
		rs->blocked_left += rs->ref[i].nblocked;

		struct verdict v;

		outcome_reset(&scratch);
		if (model_target.run_like(mt, &rs->p[i], &rs->ref[i], &scratch,
					  &err) < 0)
			die("model (random)", &err);
		compare_outcomes(&rs->p[i], &scratch, &rs->ref[i], &v);
		rs->agree += v.cls == VERDICT_AGREE;
		rs->diverge += v.cls == VERDICT_DIVERGE;
		rs->unsupported += v.cls == VERDICT_UNSUPPORTED;
		rs->invariant += v.cls == VERDICT_INVARIANT;
	}
}

static void random_free(struct random_set *rs)
{
	for (unsigned i = 0; i < rs->n; i++) {
		free(rs->in[i].bytes);
		program_free(&rs->p[i]);
		outcome_free(&rs->ref[i]);
	}
	free(rs->in);
	free(rs->p);
	free(rs->ref);
}

/* This round's chunk of the set on one target; programs/s. */
static double random_pass(struct random_set *rs, const struct target_ops *ops,
			  struct target *t)
{
	struct error err = { "" };
	double start = now();

	for (unsigned k = 0; k < rs->chunk; k++) {
		unsigned i = (rs->next + k) % rs->n;
		int rc;

		outcome_reset(&scratch);
		if (ops == &linux_target)
			rc = ops->run(t, &rs->p[i], &scratch, &err);
		else
			rc = ops->run_like(t, &rs->p[i], &rs->ref[i], &scratch,
					   &err);
		if (rc < 0)
			die(ops->name, &err);
	}
	return rs->chunk / (now() - start);
}

/* The fuzz target's loop on this round's chunk: decode, Linux, model
 * run_like against Linux's outcome, compare. */
static double random_loop(struct random_set *rs, struct target *lt,
			  struct target *mt, struct outcome *lo)
{
	struct error err = { "" };
	double start = now();

	for (unsigned k = 0; k < rs->chunk; k++) {
		unsigned i = (rs->next + k) % rs->n;
		struct program p;
		struct verdict v;

		program_decode(rs->in[i].bytes, rs->in[i].len, &random_limits, &p);
		if (linux_target.run(lt, &p, lo, &err) < 0)
			die("linux (random)", &err);
		outcome_reset(&scratch);
		if (model_target.run_like(mt, &p, lo, &scratch, &err) < 0)
			die("model (random)", &err);
		compare_outcomes(&p, &scratch, lo, &v);
		(void)v;
		program_free(&p);
	}
	return rs->chunk / (now() - start);
}

/* ---------------------------------------------------------------- main */

/* --show: a program's steps as Linux ran them. */
static void show(const char *name, const struct program *p,
		 const struct outcome *o)
{
	char call[256], res[256];

	printf("%s (linux):\n", name);
	for (uint32_t i = 0; i < o->nsteps; i++) {
		const struct step_record *rec = &o->steps[i];

		op_format(&p->ops[rec->step], call, sizeof(call));
		if (rec->state == STEP_BLOCKED)
			snprintf(res, sizeof(res), "blocked");
		else if (rec->state == STEP_SKIPPED)
			snprintf(res, sizeof(res), "skipped (blocked)");
		else
			result_format(o, &rec->res, res, sizeof(res));
		printf("  [%u] %s %s\n", rec->step, call, res);
		for (uint32_t k = 0; k < rec->done_count; k++) {
			const struct completion *c = &o->done[rec->done_first + k];

			result_format(o, &c->res, res, sizeof(res));
			printf("        completes [%u] t%u %s\n", c->step, c->t, res);
		}
	}
	for (uint32_t k = 0; k < o->nblocked; k++)
		printf("  still blocked: [%u] t%u\n", o->blocked[k].step,
		       o->blocked[k].t);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_threads [--quick] [--rounds N] [--budget SECONDS] "
		"[--random N] [--chunk N] [--seed S] [--show]\n");
	exit(2);
}

static const char *verdict_of(const struct program *p, const struct outcome *a,
			      const struct outcome *b)
{
	struct verdict v;

	compare_outcomes(p, a, b, &v);
	switch (v.cls) {
	case VERDICT_AGREE:
		return "agree";
	case VERDICT_DIVERGE:
		return "DIVERGE";
	case VERDICT_INVARIANT:
		return "INVARIANT";
	default:
		return "UNSUPPORTED";
	}
}

int main(int argc, char **argv)
{
	unsigned rounds = 21, nrandom = 1000, chunk = 100;
	bool show_only = false;
	double budget = 0.12; /* seconds per fixed cell per round */
	uint64_t seed = 0x65706f6c6cull;
	struct target_config cfg = { .inject = NULL };
	struct program blocking, flat;
	struct outcome ref_blocking, ref_flat, model_out;
	struct random_set rs;
	struct error err = { "" };
	struct target *lt, *mt;
	struct model *probe;
	unsigned settle_n, sched_blocking = 0, sched_flat = 0;
	double t0 = now();

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick")) {
			rounds = 11;
			budget = 0.1;
			nrandom = 500;
			chunk = 80;
		} else if (!strcmp(a, "--show")) {
			show_only = true;
		} else if (i + 1 < argc && !strcmp(a, "--rounds")) {
			rounds = (unsigned)atoi(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--budget")) {
			budget = atof(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--random")) {
			nrandom = (unsigned)atoi(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--chunk")) {
			chunk = (unsigned)atoi(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--seed")) {
			seed = strtoull(argv[++i], NULL, 0);
		} else {
			usage();
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || budget <= 0 || nrandom < 1 ||
	    chunk < 1)
		usage();
	prng_state = seed;

	lt = linux_target.open(&cfg, &err);
	if (!lt)
		die("open linux", &err);
	mt = model_target.open(&cfg, &err);
	if (!mt)
		die("open model", &err);
	probe = model_new(&cfg, &err);
	if (!probe)
		die("open model", &err);
	outcome_init(&scratch);
	outcome_init(&ref_blocking);
	outcome_init(&ref_flat);
	outcome_init(&model_out);
	program_init(&blocking);
	program_init(&flat);
	build(&blocking, true);
	build(&flat, false);

	/* Reference outcomes (and a warm-up). */
	if (linux_target.run(lt, &blocking, &ref_blocking, &err) < 0 ||
	    linux_target.run(lt, &flat, &ref_flat, &err) < 0)
		die("linux", &err);
	settle_n = settling_steps(&blocking, &ref_blocking);
	if (show_only) {
		show("blocking", &blocking, &ref_blocking);
		show("flat", &flat, &ref_flat);
		return 0;
	}
	if (model_run_like(probe, &blocking, &ref_blocking, &model_out,
			   &sched_blocking, &err) < 0)
		die("model", &err);
	printf("blocking program: model run_like vs linux: %s\n",
	       verdict_of(&blocking, &model_out, &ref_blocking));
	if (model_run_like(probe, &flat, &ref_flat, &model_out, &sched_flat,
			   &err) < 0)
		die("model", &err);
	printf("flat program:     model run_like vs linux: %s\n",
	       verdict_of(&flat, &model_out, &ref_flat));

	struct cell cells[] = {
		{ "linux", "blocking", "run", &linux_target, lt, RUN, &blocking, NULL, { 0 } },
		{ "linux", "flat", "run", &linux_target, lt, RUN, &flat, NULL, { 0 } },
		{ "model", "blocking", "run", &model_target, mt, RUN, &blocking, NULL, { 0 } },
		{ "model", "flat", "run", &model_target, mt, RUN, &flat, NULL, { 0 } },
		{ "model", "blocking", "run_like", &model_target, mt, RUN_LIKE, &blocking, &ref_blocking, { 0 } },
		{ "model", "flat", "run_like", &model_target, mt, RUN_LIKE, &flat, &ref_flat, { 0 } },
	};
	enum { L_BLK, L_FLAT, M_BLK, M_FLAT, ML_BLK, ML_FLAT, NCELLS };

	memset(&rs, 0, sizeof(rs));
	rs.n = nrandom;
	rs.chunk = chunk;
	random_prepare(&rs, lt, mt);

	for (unsigned r = 0; r < rounds; r++) {
		/* Rotate the order so that no cell always follows another. */
		for (unsigned k = 0; k < NCELLS; k++) {
			struct cell *c = &cells[(r + k) % NCELLS];

			c->rate[r] = measure(c, budget);
		}
		for (unsigned k = 0; k < 3; k++) {
			switch ((r + k) % 3) {
			case 0:
				rs.linux_rate[r] = random_pass(&rs, &linux_target, lt);
				break;
			case 1:
				rs.model_rate[r] = random_pass(&rs, &model_target, mt);
				break;
			default:
				rs.loop_rate[r] = random_loop(&rs, lt, mt, &model_out);
			}
		}
		rs.next = (rs.next + rs.chunk) % rs.n;
		if (isatty(2))
			fprintf(stderr, "\rround %u/%u", r + 1, rounds);
	}

	/* ------------------------------------------------------ report */
	double ratio[MAX_ROUNDS];
	double plain, settle;

	if (isatty(2))
		fprintf(stderr, "\n");
	printf("\n%u rounds, medians; blocking = %u ops on 4 threads, %u of them "
	       "settle blocked threads; flat = the same %u ops on 1 thread, "
	       "never blocking\n\n",
	       rounds, blocking.nops, settle_n, flat.nops);
	printf("%-7s %-9s %-9s %12s %12s\n", "target", "program", "how",
	       "programs/s", "ops/s");
	for (unsigned k = 0; k < NCELLS; k++) {
		double m = median(cells[k].rate, rounds);

		printf("%-7s %-9s %-9s %12.0f %12.0f\n", cells[k].target,
		       cells[k].prog, cells[k].how_name, m, m * cells[k].p->nops);
	}

	printf("\nratios (per round, then median)\n");
#define RATIO(expr) do { \
		for (unsigned r = 0; r < rounds; r++) ratio[r] = (expr); \
	} while (0)
	RATIO(cells[L_FLAT].rate[r] / cells[L_BLK].rate[r]);
	printf("  linux blocking / flat, time per program      %8.2f x\n",
	       median(ratio, rounds));
	RATIO((1e6 / cells[L_BLK].rate[r] - 1e6 / cells[L_FLAT].rate[r]) /
	      settle_n);
	settle = median(ratio, rounds);
	RATIO(1e6 / cells[L_FLAT].rate[r] / flat.nops);
	plain = median(ratio, rounds);
	RATIO((1e6 / cells[L_BLK].rate[r] - 1e6 / cells[L_FLAT].rate[r]) /
	      settle_n / (1e6 / cells[L_FLAT].rate[r] / flat.nops));
	printf("  linux settle cost per settling step          %8.1f us = %.1f "
	       "plain steps (plain step %.2f us)\n",
	       settle, median(ratio, rounds), plain);
	RATIO(cells[M_BLK].rate[r] / cells[L_BLK].rate[r]);
	printf("  model run / linux speed, blocking            %8.1f x\n",
	       median(ratio, rounds));
	RATIO(cells[M_FLAT].rate[r] / cells[L_FLAT].rate[r]);
	printf("  model run / linux speed, flat                %8.1f x\n",
	       median(ratio, rounds));
	RATIO(cells[M_BLK].rate[r] / cells[ML_BLK].rate[r]);
	printf("  model run_like / run, time, blocking         %8.2f x "
	       "(%u schedules tried)\n", median(ratio, rounds), sched_blocking);
	RATIO(cells[M_FLAT].rate[r] / cells[ML_FLAT].rate[r]);
	printf("  model run_like / run, time, flat             %8.2f x "
	       "(%u schedules tried)\n", median(ratio, rounds), sched_flat);

	printf("\nrandom programs: %u byte strings of %d-%d bytes (seed 0x%llx), "
	       "%u per round,\n"
	       "  program_decode max_ops %d max_threads %d: %.1f ops, %.1f "
	       "settling steps, %.2f threads left blocked per program\n",
	       rs.n, RANDOM_MIN_LEN, RANDOM_MAX_LEN, (unsigned long long)seed,
	       rs.chunk, RANDOM_MAX_OPS, RANDOM_MAX_THREADS, (double)rs.ops / rs.n,
	       (double)rs.settling / rs.n, (double)rs.blocked_left / rs.n);
	printf("  %-44s %10.0f programs/s\n", "linux run",
	       median(rs.linux_rate, rounds));
	printf("  %-44s %10.0f programs/s\n", "model run_like (ref: linux)",
	       median(rs.model_rate, rounds));
	printf("  %-44s %10.0f programs/s\n",
	       "fuzz loop: decode + linux + run_like + compare",
	       median(rs.loop_rate, rounds));
	RATIO(rs.model_rate[r] / rs.linux_rate[r]);
	printf("  model run_like / linux speed                 %8.1f x\n",
	       median(ratio, rounds));
	RATIO(rs.loop_rate[r] / rs.linux_rate[r]);
	printf("  fuzz loop / linux alone, speed               %8.2f x\n",
	       median(ratio, rounds));
#undef RATIO
	printf("  verdicts, model run_like vs linux: %lu agree, %lu diverge, %lu unsupported, "
	       "%lu invariant\n",
	       rs.agree, rs.diverge, rs.unsupported, rs.invariant);
	printf("\ntotal %.1f s\n", now() - t0);

	random_free(&rs);
	program_free(&blocking);
	program_free(&flat);
	outcome_free(&ref_blocking);
	outcome_free(&ref_flat);
	outcome_free(&model_out);
	outcome_free(&scratch);
	model_free(probe);
	model_target.close(mt);
	linux_target.close(lt);
	return 0;
}
