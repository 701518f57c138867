/*
 * test_profile.c - the Miri profile (trace/profile.h), as the decoder,
 * minimize and export --rust use it:
 *
 *   - its check names the op, the field, the value and why;
 *   - bending an op puts it inside the profile, and bending it again
 *     changes nothing;
 *   - every program drawn on one thread runs inside it (on the model: no
 *     refusal at all), and where threads block nearly every one does;
 *   - drawn programs encode and decode back to themselves under it;
 *   - a run that leaves a thread blocked forever is refused.
 *
 *   test_profile
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "fuzz.h"
#include "model.h"
#include "profile.h"

enum { PROGRAMS = 3000 };

static int failures;

static void expect(bool ok, const char *what)
{
	if (!ok) {
		printf("FAIL %s\n", what);
		failures++;
	}
}

/* A repeatable stream of bytes (xorshift). */
static uint8_t next_byte(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint8_t)*state;
}

static size_t random_input(uint64_t *state, uint8_t *buf, size_t max)
{
	size_t len = 16 + next_byte(state) % (max - 16);

	for (size_t i = 0; i < len; i++)
		buf[i] = next_byte(state);
	return len;
}

static void check_reasons(void)
{
	struct fd_sim s;
	struct op op;
	char why[256];

	fd_sim_init(&s);
	op_init(&op, OP_EPOLL_CREATE1, 0);
	fd_sim_apply(&s, &op);
	op_init(&op, OP_EPOLL_CTL, 0);
	op.f[F_EPFD] = 3;
	op.f[F_CTL] = EPOLL_CTL_ADD;
	op.f[F_FD] = 1;
	op.f[F_EVENTS] = EPOLLIN | EPOLLONESHOT;
	expect(profile_refuses(PROFILE_MIRI, &op, &s, why, sizeof(why)) &&
	       strcmp(why, "epoll_ctl events EPOLLONESHOT: Miri aborts on it") == 0,
	       "a flag Miri aborts on is named");
	op.f[F_EVENTS] = EPOLLIN | EPOLLET;
	expect(profile_refuses(PROFILE_MIRI, &op, &s, why, sizeof(why)) &&
	       strstr(why, "epoll_ctl fd 1: fds 0-2"), "fds 0-2 are named");
	op.f[F_FD] = 3; /* epfd == fd: Miri fails it with EFAULT, no abort */
	expect(!profile_refuses(PROFILE_MIRI, &op, &s, why, sizeof(why)),
	       "epoll_ctl(ep, ADD, ep) is inside");
	op_init(&op, OP_DUP3, 0);
	expect(profile_refuses(PROFILE_MIRI, &op, &s, why, sizeof(why)) &&
	       strcmp(why, "dup3: Miri has no dup3") == 0, "an op refused whole");
	expect(!profile_refuses(PROFILE_ANY, &op, &s, why, sizeof(why)),
	       "profile any refuses nothing");
	expect(!profile_allows_kind(PROFILE_MIRI, OP_SHUTDOWN) &&
	       profile_allows_kind(PROFILE_MIRI, OP_SLEEP), "kinds");
}

/* Bending random ops: inside after one bend, unchanged by a second. */
static void check_bending(uint64_t *state)
{
	struct fd_sim s;
	char why[256];

	fd_sim_init(&s);
	for (unsigned i = 0; i < 20000; i++) {
		struct op op, again;
		unsigned kind = next_byte(state) % OP_KIND_COUNT;
		const struct op_desc *d = &op_table[kind];

		if (!profile_allows_kind(PROFILE_MIRI, kind))
			continue;
		op_init(&op, kind, 0);
		for (unsigned k = 0; k < d->nfields; k++) {
			int64_t v = (int8_t)next_byte(state);

			op.f[d->fields[k].id] = v * ((int64_t)1 << (next_byte(state) % 24));
		}
		profile_bend(PROFILE_MIRI, &op, &s);
		again = op;
		profile_bend(PROFILE_MIRI, &again, &s);
		expect(memcmp(op.f, again.f, sizeof(op.f)) == 0, "bending is idempotent");
		if (profile_refuses(PROFILE_MIRI, &op, &s, why, sizeof(why))) {
			printf("  after bending: %s\n", why);
			expect(false, "a bent op is inside the profile");
		}
		if (i % 50 == 0) /* a table that fills up */
			fd_sim_apply(&s, &op);
	}
}

/* Draws programs under the profile and runs them on the model; returns
 * how many the profile refuses on the run. */
static unsigned refused_runs(struct model *m, uint64_t *state, unsigned threads)
{
	struct decode_limits lim = { 48, threads, PROFILE_MIRI };
	unsigned refused = 0;
	uint8_t buf[256];

	for (unsigned i = 0; i < PROGRAMS; i++) {
		struct profile_refusal first;
		struct program p, q;
		struct outcome o;
		struct error err;
		uint8_t *bytes;
		size_t len = random_input(state, buf, sizeof(buf)), n;

		input_fit(buf, len, &lim); /* drawn in the profile, as a campaign's */
		program_decode(buf, len, &lim, &p);
		outcome_init(&o);
		if (model_run(m, &p, &o, &err) == 0 && o.nsteps == p.nops &&
		    profile_check_run(PROFILE_MIRI, &p, &o, &first, 1)) {
			if (threads == 1)
				printf("  one thread, step %u: %s\n", first.step, first.why);
			refused++;
		}
		expect(program_encode(&p, &lim, &bytes, &n) == 0, "encodes");
		program_decode(bytes, n, &lim, &q);
		expect(q.nops == p.nops && (!p.nops || memcmp(q.ops[0].f, p.ops[0].f,
							      sizeof(p.ops[0].f)) == 0),
		       "decodes back to itself under the profile");
		free(bytes);
		program_free(&q);
		outcome_free(&o);
		program_free(&p);
	}
	return refused;
}

/* A wait Linux leaves blocked without a timeout cannot be a test. */
static void check_blocked_forever(struct model *m)
{
	static const char trace[] =
		"{\"epollfuzz\": 1, \"threads\": 2, \"ops\": ["
		"{\"op\": \"epoll_create1\"},"
		"{\"op\": \"epoll_wait\", \"t\": 1, \"epfd\": 3, \"timeout\": -1}]}";
	struct profile_refusal first;
	struct program p;
	struct outcome o;
	struct error err;

	outcome_init(&o);
	expect(trace_parse(trace, sizeof(trace) - 1, &p, NULL, &err) == 0, "parses");
	expect(model_run(m, &p, &o, &err) == 0, "runs");
	expect(profile_check_run(PROFILE_MIRI, &p, &o, &first, 1) == 1 && first.step == 1 &&
	       strstr(first.why, "blocks forever"), "blocked forever is refused");
	outcome_free(&o);
	program_free(&p);
}

int main(void)
{
	struct target_config cfg = { .inject = "" };
	uint64_t state = 0x65706f6c6c;
	struct error err;
	struct model *m = model_new(&cfg, &err);
	unsigned one, four;

	if (!m) {
		printf("model: %s\n", err.msg);
		return 1;
	}
	check_reasons();
	check_bending(&state);
	one = refused_runs(m, &state, 1);
	four = refused_runs(m, &state, 4);
	printf("drawn under the miri profile: %u of %d programs on one thread outside it "
	       "on the run, %u of %d on four (an op given to a thread that turns out "
	       "blocked is skipped, and the fds the decoder had it make do not exist)\n",
	       one, PROGRAMS, four, PROGRAMS);
	expect(one == 0, "one thread: every drawn program is inside");
	expect(four < PROGRAMS / 10, "four threads: nearly every drawn program is inside");
	check_blocked_forever(m);
	model_free(m);
	return failures ? 1 : 0;
}
