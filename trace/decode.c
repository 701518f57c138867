/* decode.c - placeholder */
#include "trace.h"
void program_decode(const uint8_t *data, size_t size, const struct decode_limits *lim, struct program *p) { program_init(p); }
