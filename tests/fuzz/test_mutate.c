/*
 * test_mutate.c - the structure-aware mutator (fuzz/mutate.c) and its
 * AFL++ face (fuzz/afl_mutator.c).
 *
 *   test_mutate [AFL_MUTATOR_LIBRARY]
 *
 * Properties over random inputs and seeds, at 1 and 4 threads: results fit,
 * decode to valid programs, repeat for a seed and vary across seeds; every
 * kind of mutation happens; crossovers mix both parents; forks and exits
 * come and go, keeping the rules among processes.  With the library,
 * the AFL++ entry points are loaded with dlopen and checked the same way.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "check.h"
#include "fuzz.h"
#include "valid.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum {
	INPUTS = 10000, /* per thread setting: 20k in all */
	CROSSOVERS = 1000,
	PROCESS_INPUTS = 4000, /* programs of several threads, no fork or exit */
	MAX_INPUT = 128,
	BIG_MAX_SIZE = 4096, /* room for any 64-op program */
	FAILURES_SHOWN = 10,
};

static const struct decode_limits limits[] = { { 64, 1, 0 }, { 64, 4, 0 } };

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t random_input(uint64_t *s, uint8_t *buf, size_t cap)
{
	size_t n = xorshift(s) % cap;

	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)xorshift(s);
	return n;
}

/* Mostly roomy, sometimes so tight that ops must be dropped. */
static size_t random_max_size(uint64_t *s, size_t size)
{
	switch (xorshift(s) % 8) {
	case 0:
		return size ? size : 1;
	case 1:
		return 1 + xorshift(s) % 16;
	default:
		return BIG_MAX_SIZE;
	}
}

/* ------------------------------------------------------- program checks */

/* Whether x and y differ in field fd (an absent run-time default's value
 * does not count). */
static bool field_differs(const struct op *x, const struct op *y,
			  const struct field_desc *fd)
{
	if (op_has(x, fd->id) != op_has(y, fd->id))
		return true;
	if (fd->defkind == DEF_RUNTIME && !op_has(x, fd->id))
		return false;
	return x->f[fd->id] != y->f[fd->id];
}

/* Equal as the targets see them. */
static bool ops_equal(const struct op *x, const struct op *y)
{
	const struct op_desc *d = &op_table[x->kind];

	if (x->kind != y->kind || x->t != y->t)
		return false;
	for (unsigned i = 0; i < d->nfields; i++)
		if (field_differs(x, y, &d->fields[i]))
			return false;
	return true;
}

/* x without its op `skip` (skip >= x->nops: all of x) equals y, from y's
 * op `from` on. */
static bool equal_but(const struct program *x, unsigned skip,
		      const struct program *y)
{
	unsigned j = 0;

	for (unsigned i = 0; i < x->nops; i++) {
		if (i == skip)
			continue;
		if (j >= y->nops || !ops_equal(&x->ops[i], &y->ops[j++]))
			return false;
	}
	return j == y->nops;
}

static bool has_op(const struct program *p, const struct op *op)
{
	for (unsigned i = 0; i < p->nops; i++)
		if (ops_equal(&p->ops[i], op))
			return true;
	return false;
}

/* ------------------------------------------------- what a mutation did */

enum change {
	CH_NONE,
	CH_INSERT,
	CH_DELETE,
	CH_DUPLICATE,
	CH_SWAP,
	CH_THREAD,
	CH_THREAD_COUNT,
	CH_FIELD_FD,
	CH_FIELD_FLAGS,
	CH_FIELD_ENUM,
	CH_FIELD_NUMBER,
	CH_OTHER, /* several mutations at once */
	CH_COUNT
};

static const char *const change_names[CH_COUNT] = {
	"none", "insert", "delete", "duplicate", "swap", "thread", "thread count",
	"fd field", "flags field", "enum field", "number field", "several",
};

/* The one field by which x and y (same kind and thread) differ, or -1. */
static int only_field(const struct op *x, const struct op *y)
{
	const struct op_desc *d = &op_table[x->kind];
	int which = -1;

	for (unsigned i = 0; i < d->nfields; i++) {
		if (!field_differs(x, y, &d->fields[i]))
			continue;
		if (which >= 0)
			return -1;
		which = (int)i;
	}
	return which;
}

static enum change field_change(const struct op *x, const struct op *y)
{
	int i = only_field(x, y);

	if (i < 0)
		return CH_OTHER;
	switch (op_table[x->kind].fields[i].kind) {
	case FK_FD:
		return CH_FIELD_FD;
	case FK_FLAGS:
		return CH_FIELD_FLAGS;
	case FK_ENUM:
		return CH_FIELD_ENUM;
	default:
		return CH_FIELD_NUMBER;
	}
}

static enum change same_length_change(const struct program *p,
				      const struct program *q)
{
	unsigned diff[3], n = 0;

	for (unsigned i = 0; i < p->nops && n < 3; i++)
		if (!ops_equal(&p->ops[i], &q->ops[i]))
			diff[n++] = i;
	if (n == 0)
		return CH_NONE;
	if (n == 2 && ops_equal(&p->ops[diff[0]], &q->ops[diff[1]]) &&
	    ops_equal(&p->ops[diff[1]], &q->ops[diff[0]]))
		return CH_SWAP;
	if (n != 1)
		return CH_OTHER;
	{
		const struct op *x = &p->ops[diff[0]], *y = &q->ops[diff[0]];
		struct op moved = *x;

		if (x->kind != y->kind)
			return CH_OTHER;
		moved.t = y->t;
		if (x->t != y->t)
			return ops_equal(&moved, y) ? CH_THREAD : CH_OTHER;
		return field_change(x, y);
	}
}

/* The op q has and p has not, when that is all: an insert or a copy. */
static enum change grown_change(const struct program *p, const struct program *q)
{
	for (unsigned i = 0; i < q->nops; i++) {
		if (!equal_but(q, i, p))
			continue;
		return has_op(p, &q->ops[i]) ? CH_DUPLICATE : CH_INSERT;
	}
	return CH_OTHER;
}

static enum change classify(const struct program *p, const struct program *q)
{
	if (p->threads != q->threads)
		return CH_THREAD_COUNT;
	if (q->nops == p->nops)
		return same_length_change(p, q);
	if (q->nops == p->nops + 1)
		return grown_change(p, q);
	if (q->nops + 1 == p->nops) {
		for (unsigned i = 0; i < p->nops; i++)
			if (equal_but(p, i, q))
				return CH_DELETE;
	}
	return CH_OTHER;
}

/* ------------------------------------------------------------ mutation */

struct tally {
	unsigned runs, seed_pairs, same_across_seeds;
	unsigned changes[CH_COUNT];
};

static void check_result(struct checks *c, const char *what, const uint8_t *out,
			 size_t len, size_t max_size,
			 const struct decode_limits *lim, struct program *q)
{
	char why[160] = "";

	CHECK(c, len <= max_size, "%s: %zu bytes for max_size %zu", what, len, max_size);
	program_decode(out, len, lim, q);
	CHECK(c, program_valid(q, lim, why, sizeof(why)), "%s: invalid result: %s",
	      what, why);
}

/* Every few inputs, the same mutation again and one with the next seed. */
#define REPEAT_ONE_IN 8

static void check_one_mutation(struct checks *c, const uint8_t *in, size_t size,
			       size_t max_size, unsigned seed,
			       const struct decode_limits *lim, struct tally *t)
{
	uint8_t a[BIG_MAX_SIZE], b[BIG_MAX_SIZE];
	size_t na, nb;
	struct program p, q;

	memcpy(a, in, size);
	na = program_mutate(a, size, max_size, seed, lim);
	check_result(c, "mutate", a, na, max_size, lim, &q);
	program_decode(in, size, lim, &p);
	t->runs++;
	if (max_size == BIG_MAX_SIZE)
		t->changes[classify(&p, &q)]++;
	program_free(&q);
	program_free(&p);
	if (seed % REPEAT_ONE_IN)
		return;
	memcpy(b, in, size);
	nb = program_mutate(b, size, max_size, seed, lim);
	CHECK(c, na == nb && memcmp(a, b, na) == 0,
	      "seed %u: two runs differ (%zu and %zu bytes)", seed, na, nb);
	if (max_size != BIG_MAX_SIZE) /* a tight one may leave the input as it was */
		return;
	memcpy(b, in, size);
	nb = program_mutate(b, size, max_size, seed + 1, lim);
	t->seed_pairs++;
	t->same_across_seeds += na == nb && memcmp(a, b, na) == 0;
}

static void test_mutate(struct checks *c, const struct decode_limits *lim)
{
	uint64_t s = 0x1234567887654321ull + lim->max_threads;
	struct tally t = { 0 };
	unsigned before = c->failed;

	for (unsigned i = 0; i < INPUTS && c->failed - before < FAILURES_SHOWN; i++) {
		uint8_t in[MAX_INPUT];
		size_t size = random_input(&s, in, sizeof(in));

		/* Mostly inputs of this campaign's corpus (their header fits
		 * lim); every fourth one from another's, which the result must
		 * bring inside lim. */
		if (i % 4)
			input_fit(in, size, lim);
		check_one_mutation(c, in, size, random_max_size(&s, size),
				   (unsigned)xorshift(&s), lim, &t);
	}
	printf("%u threads: %u mutations; %u of %u the same for the next seed\n",
	       lim->max_threads, t.runs, t.same_across_seeds, t.seed_pairs);
	CHECK(c, t.same_across_seeds * 10 < t.seed_pairs,
	      "%u of %u mutations the same for two seeds", t.same_across_seeds,
	      t.seed_pairs);
	for (unsigned k = 0; k < CH_COUNT; k++) {
		bool expected = k != CH_NONE && k != CH_OTHER &&
				(lim->max_threads > 1 ||
				 (k != CH_THREAD && k != CH_THREAD_COUNT));

		printf("  %-13s %u\n", change_names[k], t.changes[k]);
		if (expected)
			CHECK(c, t.changes[k] * 500 >= t.runs,
			      "%u threads: %s in only %u of %u", lim->max_threads,
			      change_names[k], t.changes[k], t.runs);
	}
	CHECK(c, t.changes[CH_NONE] * 50 < t.runs, "%u of %u mutations changed nothing",
	      t.changes[CH_NONE], t.runs);
}

/* ----------------------------------------------------------- crossover */

/* Whether q holds an op of x that y lacks. */
static bool has_own_op(const struct program *q, const struct program *x,
		       const struct program *y)
{
	for (unsigned i = 0; i < x->nops; i++)
		if (!has_op(y, &x->ops[i]) && has_op(q, &x->ops[i]))
			return true;
	return false;
}

static bool has_any_own_op(const struct program *x, const struct program *y)
{
	for (unsigned i = 0; i < x->nops; i++)
		if (!has_op(y, &x->ops[i]))
			return true;
	return false;
}

static void test_crossover(struct checks *c, const struct decode_limits *lim)
{
	uint64_t s = 0xfeedfacecafebeefull + lim->max_threads;
	unsigned distinct = 0, mixed = 0, before = c->failed;

	for (unsigned i = 0; i < CROSSOVERS && c->failed - before < FAILURES_SHOWN; i++) {
		uint8_t in1[MAX_INPUT], in2[MAX_INPUT], out[BIG_MAX_SIZE], again[BIG_MAX_SIZE];
		size_t n1 = random_input(&s, in1, sizeof(in1));
		size_t n2 = random_input(&s, in2, sizeof(in2));
		size_t max = random_max_size(&s, n1), len, len2;
		unsigned seed = (unsigned)xorshift(&s);
		struct program a, b, q;

		len = program_crossover(in1, n1, in2, n2, out, max, seed, lim);
		len2 = program_crossover(in1, n1, in2, n2, again, max, seed, lim);
		CHECK(c, len == len2 && memcmp(out, again, len) == 0,
		      "crossover seed %u: two runs differ", seed);
		check_result(c, "crossover", out, len, max, lim, &q);
		program_decode(in1, n1, lim, &a);
		program_decode(in2, n2, lim, &b);
		if (max == BIG_MAX_SIZE && has_any_own_op(&a, &b) && has_any_own_op(&b, &a)) {
			distinct++;
			mixed += has_own_op(&q, &a, &b) && has_own_op(&q, &b, &a);
		}
		program_free(&q);
		program_free(&b);
		program_free(&a);
	}
	printf("%u threads: %u of %u crossovers of distinct parents hold ops of both\n",
	       lim->max_threads, mixed, distinct);
	CHECK(c, mixed * 2 > distinct, "only %u of %u crossovers mix both parents",
	      mixed, distinct);
}

/* ----------------------------------------------------------- processes */

static unsigned count_kind(const struct program *p, enum op_kind kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->nops; i++)
		n += p->ops[i].kind == kind;
	return n;
}

/*
 * Forks and exits: mutants of programs of several threads that hold
 * neither gain a fork, and an exit, at a useful rate; mutants of those
 * with a fork lose it at a useful rate; every one keeps the rules among
 * processes (check_result: program_valid, program_check_processes).
 */
static void test_processes(struct checks *c)
{
	const struct decode_limits lim = { 64, 4, 0 };
	uint64_t s = 0x0f0e0d0c0b0a0908ull;
	unsigned inputs = 0, forks = 0, exits = 0, parents = 0, removed = 0,
		 before = c->failed;

	for (unsigned i = 0; inputs < PROCESS_INPUTS && c->failed - before < FAILURES_SHOWN;
	     i++) {
		uint8_t in[MAX_INPUT], out[BIG_MAX_SIZE], again[BIG_MAX_SIZE];
		size_t size = random_input(&s, in, sizeof(in)), len, len2;
		struct program p, q, r;

		if (size < 2)
			continue;
		/* 2 to 4 threads, blocking or not, no profile */
		in[0] = (uint8_t)((1 + xorshift(&s) % 3) | (xorshift(&s) & 0x08));
		program_decode(in, size, &lim, &p);
		if (count_kind(&p, OP_FORK) || count_kind(&p, OP_EXIT)) {
			program_free(&p);
			continue;
		}
		inputs++;
		memcpy(out, in, size);
		len = program_mutate(out, size, BIG_MAX_SIZE, (unsigned)xorshift(&s), &lim);
		check_result(c, "mutate (processes)", out, len, BIG_MAX_SIZE, &lim, &q);
		forks += count_kind(&q, OP_FORK) > 0;
		exits += count_kind(&q, OP_EXIT) > 0;
		/* the mutant with a fork, mutated a few times: some lose one */
		for (unsigned k = 0; count_kind(&q, OP_FORK) && k < 8; k++) {
			memcpy(again, out, len);
			len2 = program_mutate(again, len, BIG_MAX_SIZE, (unsigned)xorshift(&s), &lim);
			check_result(c, "mutate (a fork's)", again, len2, BIG_MAX_SIZE, &lim, &r);
			parents++;
			removed += count_kind(&r, OP_FORK) < count_kind(&q, OP_FORK);
			program_free(&r);
		}
		program_free(&q);
		program_free(&p);
	}
	printf("processes: of %u mutants of programs without fork or exit, %u hold a fork,"
	       " %u an exit; %u of %u mutants of those with a fork lose one\n",
	       inputs, forks, exits, removed, parents);
	/* about 1.3%: a fork is one kind in 21 when an insertion draws any
	 * kind, which it does half the time (the other half repeats a kind
	 * the program has: never a fork here), and one mutation in 8 is a
	 * fresh program instead; a third of them with an exit; some 10% */
	CHECK(c, forks * 160 >= inputs, "only %u of %u mutants hold a fork", forks, inputs);
	CHECK(c, exits * 500 >= inputs, "only %u of %u mutants hold an exit", exits, inputs);
	CHECK(c, removed * 100 >= parents * 3, "only %u of %u mutants lose a fork", removed,
	      parents);
}

/* ------------------------------------------------------------- AFL++ */

struct afl_api {
	void *(*init)(void *afl, unsigned int seed);
	size_t (*fuzz)(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
	void (*deinit)(void *data);
};

/* A few rounds of one mutator instance; the outputs, concatenated. */
static size_t afl_rounds(struct checks *c, const struct afl_api *api,
			 unsigned seed, uint8_t *log, size_t log_cap)
{
	const struct decode_limits lim = { 64, 4, 0 };
	uint64_t s = 0xa5a5a5a5a5a5a5a5ull;
	void *m = api->init(NULL, seed);
	size_t logged = 0;

	CHECK(c, m != NULL, "afl_custom_init failed");
	if (!m)
		return 0;
	for (unsigned i = 0; i < 200; i++) {
		uint8_t in[MAX_INPUT], add[MAX_INPUT], *out = NULL;
		size_t n = random_input(&s, in, sizeof(in));
		size_t nadd = random_input(&s, add, sizeof(add));
		size_t max = 64 + xorshift(&s) % 512, len;
		struct program q;

		len = api->fuzz(m, in, n, &out, i % 2 ? add : NULL, i % 2 ? nadd : 0, max);
		CHECK(c, out != NULL, "afl_custom_fuzz gave no buffer");
		if (!out)
			break;
		check_result(c, "afl_custom_fuzz", out, len, max, &lim, &q);
		program_free(&q);
		if (logged + len <= log_cap) {
			memcpy(log + logged, out, len);
			logged += len;
		}
	}
	api->deinit(m);
	return logged;
}

static void test_afl(struct checks *c, const char *path)
{
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	static uint8_t log1[1 << 17], log2[1 << 17], log3[1 << 17];
	struct afl_api api;
	size_t n1, n2, n3;

	CHECK(c, lib != NULL, "dlopen %s: %s", path, dlerror());
	if (!lib)
		return;
	*(void **)&api.init = dlsym(lib, "afl_custom_init");
	*(void **)&api.fuzz = dlsym(lib, "afl_custom_fuzz");
	*(void **)&api.deinit = dlsym(lib, "afl_custom_deinit");
	CHECK(c, api.init && api.fuzz && api.deinit, "%s lacks an AFL++ entry point", path);
	if (api.init && api.fuzz && api.deinit) {
		setenv("EPOLLFUZZ_THREADS", "4", 1);
		n1 = afl_rounds(c, &api, 7, log1, sizeof(log1));
		n2 = afl_rounds(c, &api, 7, log2, sizeof(log2));
		n3 = afl_rounds(c, &api, 8, log3, sizeof(log3));
		CHECK(c, n1 == n2 && memcmp(log1, log2, n1) == 0,
		      "AFL++ mutator: the same seed gave other outputs");
		CHECK(c, n1 != n3 || memcmp(log1, log3, n1) != 0,
		      "AFL++ mutator: seeds 7 and 8 gave the same outputs");
		setenv("EPOLLFUZZ_THREADS", "9", 1);
		CHECK(c, api.init(NULL, 1) == NULL,
		      "afl_custom_init accepted EPOLLFUZZ_THREADS=9");
		unsetenv("EPOLLFUZZ_THREADS");
	}
	dlclose(lib);
}

int main(int argc, char **argv)
{
	struct checks c = { 0, 0 };

	for (unsigned i = 0; i < ARRAY_LEN(limits); i++) {
		test_mutate(&c, &limits[i]);
		test_crossover(&c, &limits[i]);
	}
	test_processes(&c);
	if (argc > 1)
		test_afl(&c, argv[1]);
	return checks_report(&c, "test_mutate");
}
