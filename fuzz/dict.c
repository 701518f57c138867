/*
 * dict.c - a libFuzzer/AFL++ dictionary for the decoder's byte format
 * (decode.c), written by the encoder itself so that it cannot drift:
 * every op kind with its default fields, encoded both where a program has
 * just started and after a few fds exist (kind bytes are weighted
 * differently there), and the selectors of the literals that reach any
 * value.  `epollfuzz fuzz` gives it to every campaign; dictgen.c prints it
 * for the standalone harnesses and OSS-Fuzz.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const struct decode_limits lim = { 64, 4, 0 };

static void print_entry(FILE *f, const char *name, const char *ctx,
			const uint8_t *b, size_t n)
{
	fprintf(f, "%s_%s=\"", name, ctx);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\\x%02x", b[i]);
	fprintf(f, "\"\n");
}

/* The bytes op adds after the program prefix (its encoding's tail). */
static int print_op(FILE *f, const struct program *prefix, enum op_kind kind,
		    const char *ctx)
{
	struct program p;
	struct error err;
	struct op op;
	uint8_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	int rc = -1;

	op_init(&op, kind, 0);
	if (program_copy(&p, prefix, &err) < 0 || program_push(&p, &op, &err) < 0)
		return -1;
	if (program_encode(prefix, &lim, &a, &na) == 0 &&
	    program_encode(&p, &lim, &b, &nb) == 0 && nb > na &&
	    memcmp(a, b, na) == 0) {
		print_entry(f, op_table[kind].name, ctx, b + na, nb - na);
		rc = 0;
	}
	free(a);
	free(b);
	program_free(&p);
	return rc;
}

static int push_kind(struct program *p, enum op_kind kind)
{
	struct error err;
	struct op op;

	op_init(&op, kind, 0);
	return program_push(p, &op, &err);
}

int fuzz_dict_print(FILE *f)
{
	static const uint8_t literals[][9] = {
		{ 254, 0xff, 0xff, 0xff, 0xff }, { 254, 0, 0, 0, 0 },
		{ 254, 0x00, 0x04, 0, 0 },       { 254, 0xff, 0xff, 0xff, 0x7f },
		{ 254, 0, 0, 0, 0x80 },
		{ 255, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 255, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct program early, later;

	program_init(&early);
	program_init(&later);
	early.threads = later.threads = 1;
	if (push_kind(&later, OP_EPOLL_CREATE1) < 0 || push_kind(&later, OP_PIPE2) < 0 ||
	    push_kind(&later, OP_SOCKETPAIR) < 0) {
		program_free(&later);
		return -1;
	}
	fprintf(f, "# epollfuzz: op kinds with default fields, and literal selectors\n");
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		print_op(f, &early, (enum op_kind)k, "first");
		print_op(f, &later, (enum op_kind)k, "later");
	}
	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++)
		print_entry(f, "literal", literals[i][0] == 254 ? "32" : "64", literals[i],
			    literals[i][0] == 254 ? 5 : 9);
	program_free(&early);
	program_free(&later);
	return ferror(f) ? -1 : 0;
}
