/*
 * test_decode.c - the fuzzer's byte format: decoding is total, and encoding
 * round-trips.
 *
 *   test_decode [CORPUS_DIR]
 *
 * With a corpus directory, every trace in it also round-trips through the
 * fuzz targets' limits.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "check.h"
#include "fuzz.h"
#include "valid.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct decode_limits one_thread = { 64, 1, 0 };
static const struct decode_limits threads4 = { 200, 4, 0 };

/* --------------------------------------------------------- validity */

/* Every input decodes to a valid program; inside lim when it fits lim. */
static void check_decodes(struct checks *c, const uint8_t *data, size_t size,
			  const struct decode_limits *lim)
{
	const struct decode_limits any = { lim->max_ops, MAX_THREADS, 0 };
	bool fits = input_fits(data, size, lim);
	struct program p;
	char why[160] = "";

	program_decode(data, size, lim, &p);
	CHECK(c, program_valid(&p, fits ? lim : &any, why, sizeof(why)),
	      "%zu bytes decode to an invalid program%s: %s", size,
	      fits ? " inside the limits" : "", why);
	program_free(&p);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_total(struct checks *c)
{
	uint8_t buf[512];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned before = c->failed;

	check_decodes(c, NULL, 0, &one_thread);
	check_decodes(c, NULL, 0, &threads4);
	memset(buf, 0xff, sizeof(buf));
	check_decodes(c, buf, sizeof(buf), &one_thread);
	check_decodes(c, buf, sizeof(buf), &threads4);
	for (unsigned i = 0; i < 100000 && c->failed - before < 10; i++) {
		size_t n = xorshift(&seed) % sizeof(buf);

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)xorshift(&seed);
		check_decodes(c, buf, n, i % 2 ? &threads4 : &one_thread);
	}
}

/* Decoding an empty input gives one harmless op. */
static void test_empty(struct checks *c)
{
	struct program p;

	program_decode(NULL, 0, &one_thread, &p);
	CHECK(c, p.nops == 1 && p.ops[0].kind == OP_EPOLL_CREATE1 &&
		 p.ops[0].f[F_FLAGS] == 0,
	      "empty input: %u ops, first %s", p.nops, op_table[p.ops[0].kind].name);
	program_free(&p);
}

/* ------------------------------------------------------- round trip */

/* Equal as far as a program means anything: kinds, threads, every field
 * value, and the presence of fields whose default is decided at run time
 * (an absent one's value does not matter). */
static bool ops_equal(const struct op *x, const struct op *y, char *why,
		      size_t len)
{
	const struct op_desc *d = &op_table[x->kind];

	if (x->kind != y->kind || x->t != y->t)
		return snprintf(why, len, "%s t%u vs %s t%u", d->name, x->t,
				op_table[y->kind].name, y->t), false;
	for (unsigned i = 0; i < d->nfields; i++) {
		const struct field_desc *fd = &d->fields[i];
		bool runtime = fd->defkind == DEF_RUNTIME;

		if (runtime && op_has(x, fd->id) != op_has(y, fd->id))
			return snprintf(why, len, "%s.%s present %d vs %d", d->name,
					fd->name, op_has(x, fd->id), op_has(y, fd->id)), false;
		if (runtime && !op_has(x, fd->id))
			continue;
		if (x->f[fd->id] != y->f[fd->id])
			return snprintf(why, len, "%s.%s %lld vs %lld", d->name, fd->name,
					(long long)x->f[fd->id], (long long)y->f[fd->id]), false;
	}
	return true;
}

static bool programs_equal(const struct program *x, const struct program *y,
			   char *why, size_t len)
{
	if (x->nops != y->nops || x->threads != y->threads)
		return snprintf(why, len, "%u ops/%u threads vs %u/%u", x->nops,
				x->threads, y->nops, y->threads), false;
	for (unsigned i = 0; i < x->nops; i++) {
		char op_why[128];

		if (!ops_equal(&x->ops[i], &y->ops[i], op_why, sizeof(op_why)))
			return snprintf(why, len, "op %u: %s", i, op_why), false;
	}
	return true;
}

static bool round_trip(const struct program *p, const struct decode_limits *lim,
		       struct program *q, size_t *nbytes)
{
	uint8_t *bytes;

	if (program_encode(p, lim, &bytes, nbytes) < 0)
		return false;
	program_decode(bytes, *nbytes, lim, q);
	free(bytes);
	return true;
}

static void check_round_trip(struct checks *c, const char *name,
			     const struct program *p, const struct decode_limits *lim)
{
	struct program q;
	char why[200] = "";
	size_t n;

	CHECK(c, round_trip(p, lim, &q, &n), "%s: program_encode failed", name);
	CHECK(c, programs_equal(p, &q, why, sizeof(why)), "%s: %s", name, why);
	program_free(&q);
}

/* A program under construction: each op is pushed as built. */
struct builder {
	struct program p;
	struct op op;
};

static void begin(struct builder *b, enum op_kind kind, unsigned t)
{
	op_init(&b->op, kind, t);
}

static void set(struct builder *b, enum field_id id, int64_t v)
{
	b->op.f[id] = v;
	b->op.present |= (uint32_t)(1u << id);
}

static void push(struct builder *b)
{
	const struct op_desc *d = &op_table[b->op.kind];

	/* as the decoder marks them: required always, fixed defaults when off */
	for (unsigned i = 0; i < d->nfields; i++)
		if (d->fields[i].defkind == DEF_REQUIRED)
			b->op.present |= (uint32_t)(1u << d->fields[i].id);
	if (program_push(&b->p, &b->op, NULL) < 0)
		abort();
}

/* Every op and field, with values the decoder names in one byte and values
 * that need literals. */
static void build_everything(struct builder *b, bool threads)
{
	program_init(&b->p);
	b->p.threads = threads ? 3 : 1;
	begin(b, OP_EPOLL_CREATE1, 0), push(b);
	begin(b, OP_EPOLL_CREATE1, 0), set(b, F_FLAGS, EPOLL_CLOEXEC), push(b);
	begin(b, OP_EPOLL_CREATE, threads), set(b, F_SIZE, 0), push(b);
	begin(b, OP_EPOLL_CREATE, 0), set(b, F_SIZE, 12345), push(b);
	begin(b, OP_PIPE2, 0), set(b, F_FLAGS, O_NONBLOCK | O_CLOEXEC), push(b);
	begin(b, OP_PIPE2, 0), set(b, F_FLAGS, O_NONBLOCK | O_DIRECT | 0x40000), push(b);
	begin(b, OP_EVENTFD, 0), set(b, F_INITVAL, 3), set(b, F_FLAGS, EFD_NONBLOCK), push(b);
	begin(b, OP_EVENTFD, 0), set(b, F_INITVAL, 0xfffffff0),
		set(b, F_FLAGS, EFD_NONBLOCK | EFD_SEMAPHORE), push(b);
	begin(b, OP_SOCKETPAIR, 0), set(b, F_TYPE, SOCK_STREAM | SOCK_NONBLOCK), push(b);
	begin(b, OP_SOCKETPAIR, 0),
		set(b, F_TYPE, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC), push(b);
	begin(b, OP_SOCKETPAIR, 0), set(b, F_TYPE, 77 | SOCK_NONBLOCK), push(b);
	begin(b, OP_EPOLL_CTL, 0), set(b, F_EPFD, 3), set(b, F_CTL, EPOLL_CTL_ADD),
		set(b, F_FD, 7), set(b, F_EVENTS, EPOLLIN | EPOLLET), push(b);
	begin(b, OP_EPOLL_CTL, threads * 2), set(b, F_EPFD, 4), set(b, F_CTL, EPOLL_CTL_MOD),
		set(b, F_FD, 8), set(b, F_EVENTS, EPOLLOUT | EPOLLWAKEUP | 0x4000000),
		set(b, F_DATA, 0x123456789abcdef), push(b);
	begin(b, OP_EPOLL_CTL, 0), set(b, F_EPFD, 777), set(b, F_CTL, -77),
		set(b, F_FD, -1), set(b, F_EVENTS, -5), set(b, F_DATA, 4), push(b);
	begin(b, OP_EPOLL_CTL, 0), set(b, F_EPFD, 3), set(b, F_CTL, EPOLL_CTL_DEL),
		set(b, F_FD, INT_MIN), set(b, F_EVENTS, 0xffffffff), push(b);
	begin(b, OP_EPOLL_WAIT, 0), set(b, F_EPFD, 3), set(b, F_MAXEVENTS, 4),
		set(b, F_TIMEOUT, threads ? -1 : 0), push(b);
	begin(b, OP_EPOLL_WAIT, threads), set(b, F_EPFD, 3), set(b, F_MAXEVENTS, 100000),
		set(b, F_TIMEOUT, threads ? 250 : 0), push(b);
	begin(b, OP_WRITE, 0), set(b, F_FD, 8), set(b, F_LEN, 4097), push(b);
	begin(b, OP_WRITE, 0), set(b, F_FD, 9), set(b, F_VALUE, -2), push(b);
	begin(b, OP_WRITE, 0), set(b, F_FD, 9), set(b, F_LEN, 31337),
		set(b, F_VALUE, 0x1122334455), push(b);
	begin(b, OP_READ, 0), set(b, F_FD, 7), push(b);
	begin(b, OP_READ, 0), set(b, F_FD, 7), set(b, F_LEN, MAX_IO_LEN), push(b);
	begin(b, OP_DUP, 0), set(b, F_FD, 5), push(b);
	begin(b, OP_DUP2, 0), set(b, F_FD, 5), set(b, F_NEWFD, 600), push(b);
	begin(b, OP_DUP3, 0), set(b, F_FD, 600), set(b, F_NEWFD, 2),
		set(b, F_FLAGS, O_CLOEXEC), push(b);
	begin(b, OP_CLOSE, 0), set(b, F_FD, 5), push(b);
	begin(b, OP_CLOSE, 0), set(b, F_FD, 5), push(b);
	begin(b, OP_SHUTDOWN, 0), set(b, F_FD, 11), set(b, F_HOW, SHUT_RDWR), push(b);
	begin(b, OP_SHUTDOWN, 0), set(b, F_FD, 12), set(b, F_HOW, 9), push(b);
	if (threads) {
		begin(b, OP_SLEEP, 1), push(b);
		begin(b, OP_SLEEP, 2), set(b, F_MS, 7777), push(b);
	}
	begin(b, OP_EPOLL_CTL, 0), set(b, F_EPFD, 4), set(b, F_CTL, EPOLL_CTL_ADD),
		set(b, F_FD, 600), set(b, F_DATA, 0), push(b);
}

static void test_round_trip(struct checks *c)
{
	struct builder b;

	build_everything(&b, false);
	check_round_trip(c, "every op, one thread", &b.p, &one_thread);
	program_free(&b.p);
	build_everything(&b, true);
	check_round_trip(c, "every op, three threads", &b.p, &threads4);
	program_free(&b.p);
}

/* Decoded programs are fixed points: they encode to bytes that decode to
 * them again. */
static void test_decoded_round_trip(struct checks *c)
{
	uint64_t seed = 42;
	uint8_t buf[256];
	unsigned before = c->failed;

	for (unsigned i = 0; i < 2000 && c->failed - before < 5; i++) {
		const struct decode_limits *lim = i % 2 ? &threads4 : &one_thread;
		size_t n = xorshift(&seed) % sizeof(buf);
		struct program p;

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)xorshift(&seed);
		input_fit(buf, n, lim);
		program_decode(buf, n, lim, &p);
		check_round_trip(c, "decoded program", &p, lim);
		program_free(&p);
	}
}

/* What the one-thread limits must do to a trace: no sleeps, waits that
 * poll, creations that cannot block. */
static void bend_expected(struct program *p)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < p->nops; i++) {
		struct op *op = &p->ops[i];

		json_decref(op->extras); /* x- annotations do not survive */
		op->extras = NULL;
		if (op->kind == OP_SLEEP)
			continue;
		if (op->kind == OP_FORK || op->kind == OP_EXIT)
			continue; /* one thread: no fork (kind_drawn), so no exit */
		op->t = 0;
		if (op->kind == OP_EPOLL_WAIT || op->kind == OP_EPOLL_PWAIT)
			op->f[F_TIMEOUT] = 0;
		if (op->kind == OP_EPOLL_PWAIT2 &&
		    (!op_has(op, F_TIMEOUT_NS) || op->f[F_TIMEOUT_NS] >= 0)) {
			op->f[F_TIMEOUT_NS] = 0;
			op->present |= 1u << F_TIMEOUT_NS;
		}
		if (op->kind == OP_FCNTL && op->f[F_CMD] == F_SETFL)
			op->f[F_ARG] |= O_NONBLOCK;
		if (op->kind == OP_PIPE2)
			op->f[F_FLAGS] |= O_NONBLOCK;
		if (op->kind == OP_EVENTFD)
			op->f[F_FLAGS] |= EFD_NONBLOCK;
		if (op->kind == OP_SOCKETPAIR)
			op->f[F_TYPE] |= SOCK_NONBLOCK;
		p->ops[kept++] = *op;
	}
	p->nops = kept < one_thread.max_ops ? kept : one_thread.max_ops;
	p->threads = 1;
}

static void test_corpus(struct checks *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned files = 0;

	CHECK(c, d != NULL, "cannot open %s", dir);
	while (d && (e = readdir(d))) {
		char path[4096];
		struct program p, q;
		struct error err;
		char why[200] = "";
		size_t n = 0;

		if (!strstr(e->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (trace_load_file(path, &p, NULL, &err) < 0) {
			CHECK(c, false, "%s", err.msg);
			continue;
		}
		files++;
		CHECK(c, round_trip(&p, &one_thread, &q, &n), "%s: encode failed", path);
		bend_expected(&p);
		CHECK(c, programs_equal(&p, &q, why, sizeof(why)), "%s: %s", e->d_name, why);
		program_free(&p);
		program_free(&q);
	}
	if (d)
		closedir(d);
	printf("corpus: %u traces round-trip\n", files);
}

/* An input means one program whatever the campaign's settings (the header
 * says its threads, blocking and profile), so corpora made under any
 * settings can be merged; the settings only say which inputs fit. */
static void test_self_describing(struct checks *c)
{
	static const struct decode_limits settings[] = {
		{ 64, 1, 0 }, { 64, 2, 0 }, { 64, 4, 0 }, { 64, 8, 0 }, { 64, 4, 1 },
	};
	uint64_t seed = 7;
	uint8_t buf[256];
	unsigned before = c->failed;

	for (unsigned i = 0; i < 2000 && c->failed - before < 5; i++) {
		size_t n = 1 + xorshift(&seed) % (sizeof(buf) - 1);
		struct program first;

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)xorshift(&seed);
		program_decode(buf, n, &settings[0], &first);
		for (size_t k = 1; k < sizeof(settings) / sizeof(settings[0]); k++) {
			struct program p;
			char why[200] = "";

			program_decode(buf, n, &settings[k], &p);
			CHECK(c, programs_equal(&first, &p, why, sizeof(why)),
			      "input %u decodes differently at %u threads, profile %u: %s",
			      i, settings[k].max_threads, settings[k].profile, why);
			program_free(&p);
		}
		program_free(&first);
	}
	/* Which inputs fit which settings: threads, blocking, profile. */
	buf[0] = 0x03; /* 4 threads, no blocking, any op */
	CHECK(c, input_fits(buf, 1, &settings[2]) && !input_fits(buf, 1, &settings[1]),
	      "a 4-thread input fits 4 threads, not 2");
	buf[0] = 0x08; /* 1 thread that may block */
	CHECK(c, !input_fits(buf, 1, &settings[0]) && input_fits(buf, 1, &settings[1]),
	      "a blocking input fits only where threads may block");
	buf[0] = 0x13; /* 4 threads drawn in profile 1 (miri) */
	CHECK(c, input_fits(buf, 1, &settings[2]) && input_fits(buf, 1, &settings[4]),
	      "an input of a profile fits that profile's and every setting with no profile");
	buf[0] = 0x03;
	CHECK(c, !input_fits(buf, 1, &settings[4]), "an input of any op does not fit a profile");
	input_fit(buf, 1, &settings[4]);
	CHECK(c, input_fits(buf, 1, &settings[4]), "input_fit brings a header inside a profile");
}

/* An fcntl command the oracle does not run, which the decoder turns into
 * -1 - cmd after reading it: the encoder, as the byte-by-byte search
 * before it, compares the field as read and writes that value as a
 * literal. */
static bool bent_command(const struct op *op)
{
	return op->kind == OP_FCNTL && op->f[F_CMD] < 0 &&
	       !fcntl_cmd_runs(-1 - op->f[F_CMD]);
}

/* Whether some single byte at bytes[at] decodes to q (the value the
 * decoder gave may have been bent to the limits into one no byte gives:
 * then a literal is the shortest form). */
static bool single_byte_form(uint8_t *bytes, size_t n, size_t at,
			     const struct decode_limits *lim, const struct program *q)
{
	uint8_t keep = bytes[at];
	bool found = false;
	char why[200];

	for (unsigned sel = 0; sel < 254 && !found; sel++) {
		struct program t;

		bytes[at] = (uint8_t)sel;
		program_decode(bytes, n, lim, &t);
		found = programs_equal(&t, q, why, sizeof(why));
		program_free(&t);
	}
	bytes[at] = keep;
	return found;
}

/*
 * Shortest forms: a value some single selector byte gives is encoded in
 * one byte again.  The encoder reads each decode path backwards instead of
 * trying all 256 bytes (issue 13), so a path it misses would cost a
 * 5-byte literal silently; this tries every single-byte selector of every
 * field of every op, after creations that fill the fd bands.
 */
static void test_single_bytes_stay_single(struct checks *c)
{
	static const enum op_kind setup[] = {
		OP_PIPE2, OP_EVENTFD, OP_SOCKETPAIR, OP_EPOLL_CREATE1, OP_PIPE2,
		OP_CLOSE,
	};
	const struct decode_limits *lim = &threads4;
	unsigned misses = 0;

	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct op_desc *d = &op_table[k];
		struct program p;
		struct op op;
		uint8_t *base;
		size_t nbase;

		program_init(&p);
		p.threads = 2;
		for (unsigned i = 0; i < ARRAY_LEN(setup); i++) {
			op_init(&op, setup[i], 0);
			program_push(&p, &op, NULL);
		}
		op_init(&op, (enum op_kind)k, 0);
		program_push(&p, &op, NULL);
		if (program_encode(&p, lim, &base, &nbase) < 0 || nbase < d->nfields) {
			program_free(&p);
			continue; /* a kind these limits do not draw */
		}
		for (unsigned f = 0; f < d->nfields; f++) {
			size_t at = nbase - d->nfields + f;
			uint8_t keep = base[at];

			for (unsigned sel = 0; sel < 254; sel++) {
				size_t n;
				struct program q;
				uint8_t *again;

				if (d->fields[f].kind == FK_FLAGS && sel >= 160 && sel < 224)
					continue; /* the two-byte form: a name and a subset */
				base[at] = (uint8_t)sel;
				program_decode(base, nbase, lim, &q);
				if (bent_command(&q.ops[q.nops - 1])) {
					program_free(&q);
					continue;
				}
				if (program_encode(&q, lim, &again, &n) == 0) {
					if (n != nbase && single_byte_form(base, nbase, at, lim, &q)) {
						misses++;
						CHECK(c, misses > 5, "%s.%s: selector %u takes %zu bytes, was %zu",
						      d->name, d->fields[f].name, sel, n, nbase);
					}
					free(again);
				}
				program_free(&q);
			}
			base[at] = keep;
		}
		free(base);
		program_free(&p);
	}
	CHECK(c, misses == 0, "%u single-byte values encoded longer", misses);
}

int main(int argc, char **argv)
{
	struct checks c = { 0 };

	test_total(&c);
	test_empty(&c);
	test_round_trip(&c);
	test_decoded_round_trip(&c);
	test_self_describing(&c);
	test_single_bytes_stay_single(&c);
	if (argc > 1)
		test_corpus(&c, argv[1]);
	return checks_report(&c, "test_decode");
}
