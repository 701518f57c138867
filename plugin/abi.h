/*
 * abi.h - epollfuzz's types to and from the plugin ABI's
 * (include/epollfuzz/plugin.h), shared by the loader and the example
 * plugin.  The ABI's numbers are stable and trace.h's are not, so every
 * crossing goes through the explicit tables in abi.c.
 */
#ifndef EPOLLFUZZ_PLUGIN_ABI_H
#define EPOLLFUZZ_PLUGIN_ABI_H

#include <epollfuzz/plugin.h>

#include "trace.h"

/* The ABI's number for an op kind or a field (every one has one). */
uint32_t abi_op_kind(enum op_kind kind);
uint32_t abi_field(enum field_id id);
/* trace.h's op kind or field for an ABI number; -1 when it has none. */
int abi_op_kind_to_trace(uint32_t abi);
int abi_field_to_trace(uint32_t abi);

/* One op in ABI form: the op's own fields with their values (data always
 * resolved), the others 0; present bits renumbered. */
void abi_op_from_trace(const struct op *op, struct epollfuzz_op *out);
/* Back again.  Returns -1 when the kind, the thread or a present bit has
 * no trace.h counterpart (err says which). */
int abi_op_to_trace(const struct epollfuzz_op *in, struct op *out,
		    struct error *err);

/* Step states and result bits, both ways. */
uint32_t abi_step_state(enum step_state state);
int abi_step_state_to_trace(uint32_t abi);
uint32_t abi_result_has(uint8_t has);
int abi_result_has_to_trace(uint32_t abi); /* -1: a bit it does not know */

#endif
