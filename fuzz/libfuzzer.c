/*
 * libfuzzer.c - the libFuzzer face of the fuzz session: the callbacks
 * libFuzzer looks up by name (the per-input function and the custom
 * mutator and crossover, structure-aware through fuzz/mutate.c), for the
 * standalone harnesses and for `epollfuzz fuzz` alike.
 */
#include <stdlib.h>

#include "fuzz.h"

/* libFuzzer's callbacks take no context argument, hence this one. */
static struct libfuzzer_face {
	struct fuzz_session *session;
} face;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: libFuzzer has it, AFL++'s driver (libAFLDriver) does not. */
__attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t *data, size_t size,
					      size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
				 const uint8_t *data2, size_t size2,
				 uint8_t *out, size_t max_out_size,
				 unsigned int seed);

static void close_at_exit(void)
{
	fuzz_session_close(face.session);
	face.session = NULL;
}

/* libFuzzer ends with exit(): the final status line comes from atexit. */
void libfuzzer_attach(struct fuzz_session *s)
{
	face.session = s;
	atexit(close_at_exit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_session_run(face.session, data, size);
}

/*
 * One mutation in BYTE_MUTATION_ONE_IN stays libFuzzer's own byte-level
 * one: it reaches what the structure-aware mutator does not aim for (the
 * literal selectors, odd lengths) and lets libFuzzer's comparison tracing
 * feed values in.
 */
enum { BYTE_MUTATION_ONE_IN = 4 };

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	if (LLVMFuzzerMutate && seed % BYTE_MUTATION_ONE_IN == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	return program_mutate(data, size, max_size, seed,
			      fuzz_session_limits(face.session));
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
				 const uint8_t *data2, size_t size2,
				 uint8_t *out, size_t max_out_size,
				 unsigned int seed)
{
	return program_crossover(data1, size1, data2, size2, out, max_out_size,
				 seed, fuzz_session_limits(face.session));
}
