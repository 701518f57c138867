/* mutate.c - placeholder until the structure-aware mutator lands: plain
 * re-decoding, so that the result is at least always valid. */
#include <string.h>

#include "trace.h"

size_t program_mutate(uint8_t *data, size_t size, size_t max_size,
		      unsigned int seed, const struct decode_limits *lim)
{
	return size < max_size ? size : max_size;
}

size_t program_crossover(const uint8_t *data1, size_t size1,
			 const uint8_t *data2, size_t size2, uint8_t *out,
			 size_t max_out_size, unsigned int seed,
			 const struct decode_limits *lim)
{
	size_t n = size1 < max_out_size ? size1 : max_out_size;

	memcpy(out, data1, n);
	return n;
}
