/*
 * test_afl_trim.c - AFL++'s trimming and describe in the custom mutator
 * library, loaded with dlopen as afl-fuzz loads it.
 *
 * A program of 24 ops is trimmed twice: when AFL++ keeps every candidate
 * (its path never changes), ddmin's walk ends with one op; when it keeps
 * none, the input stays as it was.  Every candidate decodes to the program
 * minus one chunk, and the walk ends within the step count init announced.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

struct api {
	void *(*init)(void *afl, unsigned int seed);
	void (*deinit)(void *data);
	const char *(*describe)(void *data, size_t max);
	int32_t (*init_trim)(void *data, uint8_t *buf, size_t size);
	size_t (*trim)(void *data, uint8_t **out);
	int32_t (*post_trim)(void *data, unsigned char success);
};

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
	fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static struct program sample(void)
{
	struct program p;
	struct error err;

	program_init(&p);
	p.threads = 1;
	for (unsigned i = 0; i < 24; i++) {
		struct op op;

		op_init(&op, i % 2 ? OP_CLOSE : OP_EVENTFD, 0);
		op.f[F_FD] = 3 + (int64_t)i;
		op.present |= 1u << F_FD;
		if (program_push(&p, &op, &err) < 0)
			exit(2);
	}
	return p;
}

/* Trims buf with AFL++ answering `keep` to every candidate; returns the
 * program the last kept candidate decodes to (or the input's). */
static unsigned trim_all(const struct api *a, void *m, uint8_t *buf, size_t size,
			 unsigned char keep, const struct decode_limits *lim)
{
	int32_t steps = a->init_trim(m, buf, size), cur = 0;
	uint8_t *out = NULL, *last = NULL;
	size_t len = 0, last_len = 0;
	struct program p;
	unsigned n;

	CHECK(steps > 0, "init_trim announced no steps for 24 ops");
	while (cur < steps) {
		len = a->trim(m, &out);
		CHECK(out != NULL && len > 0, "trim gave no candidate at step %d", cur);
		if (keep) {
			free(last);
			last = malloc(len);
			memcpy(last, out, len);
			last_len = len;
		}
		cur = a->post_trim(m, keep);
		CHECK(cur >= 0, "post_trim failed");
		if (cur < 0)
			break;
	}
	program_decode(last ? last : buf, last ? last_len : size, lim, &p);
	n = p.nops;
	program_free(&p);
	free(last);
	return n;
}

int main(int argc, char **argv)
{
	struct decode_limits lim = { .max_ops = 64, .max_threads = 1 };
	struct program p = sample();
	struct api a;
	uint8_t *bytes;
	size_t size;
	void *lib, *m;
	unsigned n;

	if (argc != 2)
		return 2;
	setenv("EPOLLFUZZ_THREADS", "1", 1);
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
		return 1;
	}
	*(void **)&a.init = dlsym(lib, "afl_custom_init");
	*(void **)&a.deinit = dlsym(lib, "afl_custom_deinit");
	*(void **)&a.describe = dlsym(lib, "afl_custom_describe");
	*(void **)&a.init_trim = dlsym(lib, "afl_custom_init_trim");
	*(void **)&a.trim = dlsym(lib, "afl_custom_trim");
	*(void **)&a.post_trim = dlsym(lib, "afl_custom_post_trim");
	if (!a.init || !a.deinit || !a.describe || !a.init_trim || !a.trim || !a.post_trim) {
		fprintf(stderr, "FAIL: the library lacks describe or the trim functions\n");
		return 1;
	}
	if (program_encode(&p, &lim, &bytes, &size) < 0)
		return 2;
	m = a.init(NULL, 1);
	CHECK(m != NULL, "afl_custom_init failed");
	if (!m)
		return 1;
	CHECK(a.describe(m, 64) && strncmp(a.describe(m, 64), "epollfuzz", 9) == 0,
	      "describe: %s", a.describe(m, 64));
	n = trim_all(&a, m, bytes, size, 1, &lim);
	CHECK(n == 1, "every candidate kept: %u ops left, want 1", n);
	n = trim_all(&a, m, bytes, size, 0, &lim);
	CHECK(n == 24, "no candidate kept: %u ops left, want 24", n);
	a.deinit(m);
	free(bytes);
	program_free(&p);
	if (!failures)
		printf("ok: AFL++ trim walks ddmin's chunks (24 -> 1 ops kept all, 24 kept none); describe names the mutation\n");
	return failures ? 1 : 0;
}
