/*
 * gen_power.c - how often the byte format's random programs expose each of
 * the model's injected bugs: the generator's raw power, without libFuzzer,
 * Linux or a clock (issue 12).
 *
 * N byte strings of random length and content (any one decodes to a valid
 * program) are decoded under --threads T with blocking allowed, run on the
 * clean model, and then on a model with each injected bug, judged against
 * the clean model's outcome the way a campaign judges against Linux's (the
 * bugged model may take any order the kernel allows).  A bug that random
 * programs expose one time in a thousand is found in seconds by a campaign
 * that makes such programs; one they never expose needs guidance, or a
 * better generator.  Deterministic for a seed, so two generators compare
 * exactly.
 *
 * Usage: gen_power [N [SEED [THREADS]]]   (default 20000 1 4)
 * Exits 1 when no program exposed any bug: a generator that broken (or a
 * model whose injected bugs all stopped mattering) must not pass quietly;
 * the test suite runs it so, on 300 programs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "model.h"

#define MAX_BYTES 400

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct model *open_model(const char *inject)
{
	struct error err;
	struct model *m = model_new(&(struct target_config){ .inject = inject }, &err);

	if (!m) {
		fprintf(stderr, "gen_power: %s\n", err.msg);
		exit(2);
	}
	return m;
}

/* Whether the bugged model departs from the clean one's outcome. */
static bool exposes(struct model *bugged, const struct program *p,
		    const struct outcome *clean, struct outcome *out)
{
	struct error err;
	struct verdict v;

	if (model_run_like(bugged, p, clean, out, NULL, &err) < 0)
		return false;
	compare_outcomes(p, out, clean, &v);
	return v.cls == VERDICT_DIVERGE || v.cls == VERDICT_INVARIANT;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	uint64_t s = argc > 2 ? strtoull(argv[2], NULL, 10) * 2654435761u + 1 : 1;
	struct decode_limits lim = { 64, argc > 3 ? (unsigned)atoi(argv[3]) : 4, 0 };
	const struct injected_bug *bugs = model_injected_bugs();
	struct model *clean = open_model(""), *bugged[INJECT_COUNT];
	unsigned hits[INJECT_COUNT] = { 0 }, ran = 0, ops = 0, exposed = 0;
	struct outcome ref, out;
	struct error err;

	for (unsigned k = 0; k < INJECT_COUNT; k++)
		bugged[k] = open_model(bugs[k].name);
	outcome_init(&ref);
	outcome_init(&out);
	for (unsigned i = 0; i < n; i++) {
		uint8_t buf[MAX_BYTES];
		size_t len = 16 + next(&s) % (MAX_BYTES - 16);
		struct program p;

		for (size_t b = 0; b < len; b++)
			buf[b] = (uint8_t)next(&s);
		input_fit(buf, len, &lim);
		program_decode(buf, len, &lim, &p);
		if (model_run(clean, &p, &ref, &err) == 0 && !ref.violation.broken &&
		    !ref.unsupported[0]) {
			ran++;
			ops += p.nops;
			for (unsigned k = 0; k < INJECT_COUNT; k++)
				hits[k] += exposes(bugged[k], &p, &ref, &out);
		}
		program_free(&p);
	}
	printf("gen_power: %u random programs (%u run to the end, %.1f ops each), "
	       "%u threads\n", n, ran, ran ? (double)ops / ran : 0.0, lim.max_threads);
	for (unsigned k = 0; k < INJECT_COUNT; k++) {
		printf("  %-22s %6u  %7.3f%%\n", bugs[k].name, hits[k],
		       ran ? 100.0 * hits[k] / ran : 0.0);
		exposed += hits[k] != 0;
	}
	outcome_free(&ref);
	outcome_free(&out);
	model_free(clean);
	for (unsigned k = 0; k < INJECT_COUNT; k++)
		model_free(bugged[k]);
	if (!exposed)
		fprintf(stderr, "gen_power: no random program exposed any injected bug\n");
	return exposed ? 0 : 1;
}
