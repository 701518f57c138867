/*
 * abi.c - the tables between trace.h's numbers and the plugin ABI's.
 *
 * trace.h may renumber its enums (they are internal); the ABI may not.
 * Each table lists pairs, so that a missing op kind or field is a compile
 * error (the count checks below) rather than a silent zero.
 */
#include "abi.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct pair {
	uint32_t trace, abi;
};

static const struct pair op_kinds[] = {
	{ OP_EPOLL_CREATE, EPOLLFUZZ_OP_EPOLL_CREATE },
	{ OP_EPOLL_CREATE1, EPOLLFUZZ_OP_EPOLL_CREATE1 },
	{ OP_EPOLL_CTL, EPOLLFUZZ_OP_EPOLL_CTL },
	{ OP_EPOLL_WAIT, EPOLLFUZZ_OP_EPOLL_WAIT },
	{ OP_PIPE2, EPOLLFUZZ_OP_PIPE2 },
	{ OP_EVENTFD, EPOLLFUZZ_OP_EVENTFD },
	{ OP_SOCKETPAIR, EPOLLFUZZ_OP_SOCKETPAIR },
	{ OP_DUP, EPOLLFUZZ_OP_DUP },
	{ OP_DUP2, EPOLLFUZZ_OP_DUP2 },
	{ OP_DUP3, EPOLLFUZZ_OP_DUP3 },
	{ OP_CLOSE, EPOLLFUZZ_OP_CLOSE },
	{ OP_WRITE, EPOLLFUZZ_OP_WRITE },
	{ OP_READ, EPOLLFUZZ_OP_READ },
	{ OP_SHUTDOWN, EPOLLFUZZ_OP_SHUTDOWN },
	{ OP_SLEEP, EPOLLFUZZ_OP_SLEEP },
	/* plugin.h named these before the host sent them (ABI v1 unchanged) */
	{ OP_EPOLL_PWAIT, EPOLLFUZZ_OP_EPOLL_PWAIT },
	{ OP_EPOLL_PWAIT2, EPOLLFUZZ_OP_EPOLL_PWAIT2 },
	{ OP_CLOSE_RANGE, EPOLLFUZZ_OP_CLOSE_RANGE },
	{ OP_FCNTL, EPOLLFUZZ_OP_FCNTL },
	{ OP_FORK, EPOLLFUZZ_OP_FORK },
	{ OP_EXIT, EPOLLFUZZ_OP_EXIT },
};
_Static_assert(COUNT(op_kinds) == OP_KIND_COUNT,
	       "every op kind needs its number in include/epollfuzz/plugin.h "
	       "and its line in plugin/abi.c");

static const struct pair fields[] = {
	{ F_SIZE, EPOLLFUZZ_F_SIZE },
	{ F_FLAGS, EPOLLFUZZ_F_FLAGS },
	{ F_EPFD, EPOLLFUZZ_F_EPFD },
	{ F_CTL, EPOLLFUZZ_F_CTL },
	{ F_FD, EPOLLFUZZ_F_FD },
	{ F_EVENTS, EPOLLFUZZ_F_EVENTS },
	{ F_DATA, EPOLLFUZZ_F_DATA },
	{ F_MAXEVENTS, EPOLLFUZZ_F_MAXEVENTS },
	{ F_TIMEOUT, EPOLLFUZZ_F_TIMEOUT },
	{ F_INITVAL, EPOLLFUZZ_F_INITVAL },
	{ F_TYPE, EPOLLFUZZ_F_TYPE },
	{ F_NEWFD, EPOLLFUZZ_F_NEWFD },
	{ F_LEN, EPOLLFUZZ_F_LEN },
	{ F_VALUE, EPOLLFUZZ_F_VALUE },
	{ F_HOW, EPOLLFUZZ_F_HOW },
	{ F_MS, EPOLLFUZZ_F_MS },
	{ F_TIMEOUT_NS, EPOLLFUZZ_F_TIMEOUT_NS },
	{ F_FIRST, EPOLLFUZZ_F_FIRST },
	{ F_LAST, EPOLLFUZZ_F_LAST },
	{ F_CMD, EPOLLFUZZ_F_CMD },
	{ F_ARG, EPOLLFUZZ_F_ARG },
	{ F_CHILD, EPOLLFUZZ_F_CHILD },
};
_Static_assert(COUNT(fields) == FIELD_COUNT,
	       "every field needs its number in include/epollfuzz/plugin.h "
	       "and its line in plugin/abi.c");
_Static_assert(FIELD_COUNT <= EPOLLFUZZ_FIELD_SLOTS,
	       "more fields than the ABI has slots for: a new ABI version");

static const struct pair step_states[] = {
	{ STEP_DONE, EPOLLFUZZ_STEP_DONE },
	{ STEP_BLOCKED, EPOLLFUZZ_STEP_BLOCKED },
	{ STEP_SKIPPED, EPOLLFUZZ_STEP_SKIPPED },
	{ STEP_UNSUPPORTED, EPOLLFUZZ_STEP_UNSUPPORTED },
};

static const struct pair result_bits[] = {
	{ RES_FDS, EPOLLFUZZ_HAS_FDS },
	{ RES_VALUE, EPOLLFUZZ_HAS_VALUE },
	{ RES_EVENTS, EPOLLFUZZ_HAS_EVENTS },
};

/* The layouts that plugin.h promises; a change here breaks every plugin
 * built before it. */
_Static_assert(sizeof(struct epollfuzz_op) == 272, "ABI: epollfuzz_op");
_Static_assert(sizeof(struct epollfuzz_result) == 80, "ABI: epollfuzz_result");
_Static_assert(MAX_THREADS == EPOLLFUZZ_MAX_THREADS && MAX_OPS <= 4096,
	       "plugin.h promises at most 8 threads and 4096 ops");

static int to_abi(const struct pair *t, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].trace == v)
			return (int)t[i].abi;
	return -1;
}

static int to_trace(const struct pair *t, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].abi == v)
			return (int)t[i].trace;
	return -1;
}

uint32_t abi_op_kind(enum op_kind kind)
{
	return (uint32_t)to_abi(op_kinds, COUNT(op_kinds), kind);
}

uint32_t abi_field(enum field_id id)
{
	return (uint32_t)to_abi(fields, COUNT(fields), id);
}

int abi_op_kind_to_trace(uint32_t abi)
{
	return to_trace(op_kinds, COUNT(op_kinds), abi);
}

int abi_field_to_trace(uint32_t abi)
{
	return to_trace(fields, COUNT(fields), abi);
}

uint32_t abi_step_state(enum step_state state)
{
	return (uint32_t)to_abi(step_states, COUNT(step_states), state);
}

int abi_step_state_to_trace(uint32_t abi)
{
	return to_trace(step_states, COUNT(step_states), abi);
}

uint32_t abi_result_has(uint8_t has)
{
	uint32_t out = 0;

	for (size_t i = 0; i < COUNT(result_bits); i++)
		if (has & result_bits[i].trace)
			out |= result_bits[i].abi;
	return out;
}

int abi_result_has_to_trace(uint32_t abi)
{
	int out = 0;

	for (size_t i = 0; i < COUNT(result_bits); i++)
		if (abi & result_bits[i].abi) {
			out |= (int)result_bits[i].trace;
			abi &= ~result_bits[i].abi;
		}
	return abi ? -1 : out;
}

void abi_op_from_trace(const struct op *op, struct epollfuzz_op *out)
{
	const struct op_desc *d = &op_table[op->kind];

	*out = (struct epollfuzz_op){
		.kind = abi_op_kind(op->kind),
		.thread = op->t,
	};
	for (unsigned i = 0; i < d->nfields; i++) {
		enum field_id id = d->fields[i].id;
		uint32_t slot = abi_field(id);

		out->field[slot] = op->f[id];
		if (op_has(op, id))
			out->present |= UINT64_C(1) << slot;
	}
	/* data's default depends on nothing that happens at run time, so
	 * the plugin is spared it. */
	if (op->kind == OP_EPOLL_CTL)
		out->field[EPOLLFUZZ_F_DATA] = (int64_t)op_data(op);
}

int abi_op_to_trace(const struct epollfuzz_op *in, struct op *out,
		    struct error *err)
{
	int kind = abi_op_kind_to_trace(in->kind);

	if (kind < 0)
		return fail(err, "op kind %u unknown", in->kind);
	if (in->thread >= MAX_THREADS)
		return fail(err, "thread %u out of range", in->thread);
	op_init(out, (enum op_kind)kind, in->thread);
	for (uint32_t slot = 0; slot < EPOLLFUZZ_FIELD_SLOTS; slot++) {
		int id = abi_field_to_trace(slot);
		bool given = in->present & (UINT64_C(1) << slot);

		if (id < 0) {
			if (given || in->field[slot])
				return fail(err, "field %u unknown", slot);
			continue;
		}
		out->f[id] = in->field[slot];
		if (given)
			out->present |= (uint32_t)(1u << id);
	}
	if (in->present >> EPOLLFUZZ_FIELD_SLOTS)
		return fail(err, "present bits beyond the field slots");
	return 0;
}
