/*
 * afl_mutator.c - the structure-aware mutator (fuzz/mutate.c) as an AFL++
 * custom mutator library:
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=.../libepollfuzz_afl_mutator.so afl-fuzz ...
 *
 * Mutants stay inside the limits of EPOLLFUZZ_THREADS (fuzz/limits.c), as
 * the harness's session skips inputs outside them: set it the same for
 * afl-fuzz and the target.  The
 * signatures are the ones AFL++'s docs/custom_mutators.md gives; afl-fuzz.h
 * is not needed since the afl_state_t argument is never looked into.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Out of every CROSSOVER_ONE_IN mutations with a second input at hand, one
 * splices the two instead of mutating the first. */
#define CROSSOVER_ONE_IN 5

/* Trimming: the input decoded once, ops removed by ddmin's walk, each
 * candidate encoded again for AFL++ to run and keep when its path holds. */
struct afl_trim {
	struct program p;      /* the trimmed program so far */
	struct chunk_walk walk;
	unsigned from, len;    /* the chunk the current candidate lacks */
	bool more;             /* a candidate is out */
	uint8_t *bytes;        /* its encoding */
	size_t nbytes;
};

/* What afl_custom_init hands AFL++ and AFL++ hands back to every call. */
struct afl_mutator {
	struct decode_limits lim;
	uint64_t rng;    /* seeds the mutations; starts from AFL++'s seed */
	uint8_t *buf;    /* the mutant, returned through out_buf */
	size_t buf_cap;
	bool last_crossover; /* for afl_custom_describe */
	struct afl_trim trim;
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size,
		       uint8_t **out_buf, uint8_t *add_buf, size_t add_buf_size,
		       size_t max_size);
void afl_custom_deinit(void *data);
const char *afl_custom_describe(void *data, size_t max_description_len);
int32_t afl_custom_init_trim(void *data, uint8_t *buf, size_t buf_size);
size_t afl_custom_trim(void *data, uint8_t **out_buf);
int32_t afl_custom_post_trim(void *data, unsigned char success);

void *afl_custom_init(void *afl, unsigned int seed)
{
	struct afl_mutator *m = calloc(1, sizeof(*m));
	struct error err = { "" };

	if (!m)
		return NULL;
	if (fuzz_limits(&m->lim, &err) < 0) {
		fprintf(stderr, "epollfuzz AFL++ mutator: %s\n", err.msg);
		free(m);
		return NULL; /* AFL++ stops: the harness would decode differently */
	}
	m->rng = seed;
	return m;
}

/* splitmix64 step: one seed per mutation, from AFL++'s seed onward. */
static unsigned int next_seed(struct afl_mutator *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (unsigned int)(z ^ (z >> 31));
}

static bool reserve(struct afl_mutator *m, size_t cap)
{
	uint8_t *nb;

	if (cap <= m->buf_cap)
		return true;
	nb = realloc(m->buf, cap);
	if (!nb)
		return false;
	m->buf = nb;
	m->buf_cap = cap;
	return true;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size,
		       uint8_t **out_buf, uint8_t *add_buf, size_t add_buf_size,
		       size_t max_size)
{
	struct afl_mutator *m = data;
	unsigned int seed = next_seed(m);
	size_t size = buf_size < max_size ? buf_size : max_size;

	/* At least one byte, so that an empty buffer is still a valid one. */
	if (!reserve(m, max_size ? max_size : 1)) {
		*out_buf = buf; /* out of memory: the input, unchanged */
		return size;
	}
	*out_buf = m->buf;
	m->last_crossover = add_buf && add_buf_size && seed % CROSSOVER_ONE_IN == 0;
	if (m->last_crossover)
		return program_crossover(buf, size, add_buf, add_buf_size, m->buf,
					 max_size, seed / CROSSOVER_ONE_IN, &m->lim);
	if (size)
		memcpy(m->buf, buf, size);
	return program_mutate(m->buf, size, max_size, seed, &m->lim);
}

/* Names the last mutation in the file names AFL++ gives its queue. */
const char *afl_custom_describe(void *data, size_t max_description_len)
{
	struct afl_mutator *m = data;
	const char *what = m->last_crossover ? "epollfuzz-splice" : "epollfuzz-mutate";

	return strlen(what) < max_description_len ? what : "epollfuzz";
}

/* ------------------------------------------------------------- trimming */

static void trim_reset(struct afl_trim *t)
{
	program_free(&t->p);
	free(t->bytes);
	t->bytes = NULL;
	t->nbytes = 0;
	t->more = false;
}

/* The next candidate: the program without the walk's next chunk, encoded.
 * Returns false when the walk is over. */
static bool trim_next(struct afl_mutator *m)
{
	struct afl_trim *t = &m->trim;
	struct program c;
	struct error err;

	free(t->bytes);
	t->bytes = NULL;
	t->more = chunk_walk_next(&t->walk, t->p.nops, &t->from, &t->len);
	if (!t->more)
		return false;
	program_init(&c);
	for (unsigned i = 0; i < t->p.nops; i++)
		if ((i < t->from || i >= t->from + t->len) &&
		    program_push(&c, &t->p.ops[i], &err) < 0) {
			program_free(&c);
			return t->more = false;
		}
	c.threads = t->p.threads;
	if (program_encode(&c, &m->lim, &t->bytes, &t->nbytes) < 0)
		t->more = false;
	program_free(&c);
	return t->more;
}

/* The number of trimming steps AFL++ may take; the walk decides when it
 * is over (post_trim then returns that number). */
enum { TRIM_STEPS_MAX = 1 << 16 };

int32_t afl_custom_init_trim(void *data, uint8_t *buf, size_t buf_size)
{
	struct afl_mutator *m = data;

	trim_reset(&m->trim);
	program_decode(buf, buf_size, &m->lim, &m->trim.p);
	chunk_walk_init(&m->trim.walk, m->trim.p.nops);
	return trim_next(m) ? TRIM_STEPS_MAX : 0;
}

size_t afl_custom_trim(void *data, uint8_t **out_buf)
{
	struct afl_mutator *m = data;

	*out_buf = m->trim.bytes;
	return m->trim.nbytes;
}

int32_t afl_custom_post_trim(void *data, unsigned char success)
{
	struct afl_mutator *m = data;
	struct afl_trim *t = &m->trim;

	if (success) { /* AFL++ kept the candidate: it is the program now */
		struct program kept;

		program_decode(t->bytes, t->nbytes, &m->lim, &kept);
		program_free(&t->p);
		t->p = kept;
	}
	chunk_walk_step(&t->walk, t->len, success);
	return trim_next(m) ? 1 : TRIM_STEPS_MAX;
}

void afl_custom_deinit(void *data)
{
	struct afl_mutator *m = data;

	trim_reset(&m->trim);
	free(m->buf);
	free(m);
}
