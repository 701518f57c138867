/*
 * afl_mutator.c - the structure-aware mutator (trace/mutate.c) as an AFL++
 * custom mutator library:
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=.../libepollfuzz_afl_mutator.so afl-fuzz ...
 *
 * Programs decode under EPOLLFUZZ_THREADS as the harness decodes them
 * (fuzz/limits.c), so set it the same for afl-fuzz and the target.  The
 * signatures are the ones AFL++'s docs/custom_mutators.md gives; afl-fuzz.h
 * is not needed since the afl_state_t argument is never looked into.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Out of every CROSSOVER_ONE_IN mutations with a second input at hand, one
 * splices the two instead of mutating the first. */
#define CROSSOVER_ONE_IN 5

/* What afl_custom_init hands AFL++ and AFL++ hands back to every call. */
struct afl_mutator {
	struct decode_limits lim;
	uint64_t rng;    /* seeds the mutations; starts from AFL++'s seed */
	uint8_t *buf;    /* the mutant, returned through out_buf */
	size_t buf_cap;
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size,
		       uint8_t **out_buf, uint8_t *add_buf, size_t add_buf_size,
		       size_t max_size);
void afl_custom_deinit(void *data);

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
	if (add_buf && add_buf_size && seed % CROSSOVER_ONE_IN == 0)
		return program_crossover(buf, size, add_buf, add_buf_size, m->buf,
					 max_size, seed / CROSSOVER_ONE_IN, &m->lim);
	if (size)
		memcpy(m->buf, buf, size);
	return program_mutate(m->buf, size, max_size, seed, &m->lim);
}

void afl_custom_deinit(void *data)
{
	struct afl_mutator *m = data;

	free(m->buf);
	free(m);
}
