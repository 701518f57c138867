/*
 * bench_exec.c - programs/second of the linux target and of the exec
 * target (default exec:env, the executor as its own program under a
 * wrapper that changes nothing), side by side on the same random
 * single-thread programs, and their ratio.  Both executors are the same
 * code; what exec adds is a separate, unsanitized binary and the wrapper,
 * so under env the ratio should stay near 1 (goal: 0.8 or more).
 *
 * Usage: bench_exec [--programs N] [--rounds N] [--seed S] [WRAPPER]
 *
 * The set is decoded once; each round runs it in chunks of 50 programs,
 * each chunk on linux and on exec (who goes first alternating), and the
 * times are summed over all.  One run, no timing asserts: read the ratio.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "oracle.h"
#include "now.h"

#define RANDOM_MAX_OPS 64
#define RANDOM_MIN_LEN 16
#define RANDOM_MAX_LEN 256
#define CHUNK 50 /* programs run on one target before the other's turn */

struct bench {
	unsigned n, rounds;
	uint64_t seed;
	const char *wrapper;
	struct program *p;
	struct target *lt, *et;
	double linux_s, exec_s; /* time spent on each target */
	unsigned long differ;   /* programs whose outcomes differ */
};

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_exec: %s: %s\n", what, msg);
	exit(1);
}

/* splitmix64 */
static uint64_t prng(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Random byte strings decoded at one thread: no op ever blocks. */
static void make_programs(struct bench *b)
{
	static const struct decode_limits lim = { RANDOM_MAX_OPS, 1, 0 };
	uint8_t bytes[RANDOM_MAX_LEN];
	uint64_t state = b->seed;

	b->p = calloc(b->n, sizeof(*b->p));
	if (!b->p)
		die("programs", "out of memory");
	for (unsigned i = 0; i < b->n; i++) {
		size_t len = RANDOM_MIN_LEN +
			     prng(&state) % (RANDOM_MAX_LEN - RANDOM_MIN_LEN + 1);

		for (size_t k = 0; k < len; k++)
			bytes[k] = (uint8_t)prng(&state);
		program_init(&b->p[i]);
		program_decode(bytes, len, &lim, &b->p[i]);
	}
}

/* Runs programs [from, to) of the set on one target; seconds taken. */
static double pass(struct bench *b, const struct target_ops *ops,
		   struct target *t, struct outcome *outs, unsigned from,
		   unsigned to)
{
	struct error err;
	double start = now();

	for (unsigned i = from; i < to; i++)
		if (ops->run(t, &b->p[i], &outs[i], &err) < 0)
			die(ops->name, err.msg);
	return now() - start;
}

static void count_differences(struct bench *b, const struct outcome *lin,
			      const struct outcome *ex)
{
	for (unsigned i = 0; i < b->n; i++) {
		struct verdict v;

		compare_outcomes(&b->p[i], &lin[i], &ex[i], &v);
		b->differ += v.cls != VERDICT_AGREE;
	}
}

/* One chunk on both targets.  Who goes first alternates between chunks:
 * the machine's load drifts, and both should see the same drift. */
static void run_chunk(struct bench *b, bool exec_first, struct outcome *lin,
		      struct outcome *ex, unsigned from, unsigned to)
{
	if (exec_first)
		b->exec_s += pass(b, &exec_target, b->et, ex, from, to);
	b->linux_s += pass(b, &linux_target, b->lt, lin, from, to);
	if (!exec_first)
		b->exec_s += pass(b, &exec_target, b->et, ex, from, to);
}

static void run_rounds(struct bench *b)
{
	struct outcome *lin = calloc(b->n, sizeof(*lin));
	struct outcome *ex = calloc(b->n, sizeof(*ex));

	if (!lin || !ex)
		die("outcomes", "out of memory");
	for (unsigned i = 0; i < b->n; i++) {
		outcome_init(&lin[i]);
		outcome_init(&ex[i]);
	}
	for (unsigned r = 0, k = 0; r < b->rounds; r++)
		for (unsigned from = 0; from < b->n; from += CHUNK, k++)
			run_chunk(b, k % 2 == 1, lin, ex, from,
				  from + CHUNK < b->n ? from + CHUNK : b->n);
	count_differences(b, lin, ex);
	for (unsigned i = 0; i < b->n; i++) {
		outcome_free(&lin[i]);
		outcome_free(&ex[i]);
	}
	free(lin);
	free(ex);
}

static void report(const struct bench *b)
{
	double programs = (double)b->n * b->rounds;
	double lrate = programs / b->linux_s, erate = programs / b->exec_s;
	const char *settle = exec_target.describe(b->et, "settle");
	unsigned long ops = 0;

	for (unsigned i = 0; i < b->n; i++)
		ops += b->p[i].nops;
	printf("%u random single-thread programs (%.1f ops each), %u rounds\n",
	       b->n, (double)ops / b->n, b->rounds);
	printf("%-24s %10.0f programs/s\n", "linux", lrate);
	printf("exec:%-19s %10.0f programs/s  (settle %s)\n", b->wrapper, erate,
	       settle ? settle : "?");
	printf("ratio exec/linux         %10.2f  (goal for env: >= 0.8)\n",
	       erate / lrate);
	printf("outcomes that differ     %10lu of %u\n", b->differ, b->n);
}

static void parse(int argc, char **argv, struct bench *b)
{
	b->n = 2000;
	b->rounds = 6;
	b->seed = 0x65786563ull;
	b->wrapper = "env";
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--programs"))
			b->n = (unsigned)atoi(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--rounds"))
			b->rounds = (unsigned)atoi(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--seed"))
			b->seed = strtoull(argv[++i], NULL, 0);
		else if (argv[i][0] != '-')
			b->wrapper = argv[i];
		else
			die("usage", "bench_exec [--programs N] [--rounds N] "
				     "[--seed S] [WRAPPER]");
	}
	if (b->n < 1 || b->rounds < 1)
		die("usage", "--programs and --rounds must be at least 1");
}

int main(int argc, char **argv)
{
	struct target_config lcfg = { 0 }, ecfg = { 0 };
	struct bench b;
	struct error err;

	memset(&b, 0, sizeof(b));
	parse(argc, argv, &b);
	ecfg.arg = b.wrapper;
	if (!(b.lt = linux_target.open(&lcfg, &err)))
		die("linux", err.msg);
	if (!(b.et = exec_target.open(&ecfg, &err)))
		die("exec", err.msg);
	make_programs(&b);
	run_rounds(&b);
	report(&b);
	for (unsigned i = 0; i < b.n; i++)
		program_free(&b.p[i]);
	free(b.p);
	exec_target.close(b.et);
	linux_target.close(b.lt);
	return 0;
}
