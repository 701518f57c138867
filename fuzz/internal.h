/*
 * internal.h - what the byte format's two directions (decode.c) and the
 * mutator (mutate.c) share inside fuzz/.
 */
#ifndef EPOLLFUZZ_FUZZ_INTERNAL_H
#define EPOLLFUZZ_FUZZ_INTERNAL_H

#include "fdsim.h"
#include "fuzz.h"
#include "profile.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The fd that selector byte sel names for field id of an op of the given
 * kind: below 184 a made fd (mostly of a preferred kind), then a closed
 * one, a small wild number, -1, or a big one.
 */
int64_t fd_sim_choose(const struct fd_sim *s, enum op_kind kind,
		      enum field_id id, uint8_t sel);

#endif
