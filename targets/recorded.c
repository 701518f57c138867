/*
 * recorded.c - the outcome a trace already holds, as a target.
 *
 * Replays a finding or a corpus trace against any target without running
 * Linux: for hosts where Linux is not the reference at hand, and for
 * checking that a recording still holds (`run --expect`, `conform`).
 */
#include <stdlib.h>

#include "targets.h"

struct target {
	int unused;
};

static struct target *recorded_open(const struct target_config *cfg,
				    struct error *err)
{
	struct target *t = calloc(1, sizeof(*t));

	(void)cfg;
	if (!t)
		fail(err, "recorded: out of memory");
	return t;
}

static int recorded_run(struct target *t, const struct program *p,
			struct outcome *out, struct error *err)
{
	(void)t;
	if (!p->recorded)
		return fail(err, "recorded: the trace has no \"outcome\" to replay");
	if (p->recorded->nsteps != p->nops)
		return fail(err, "recorded: the outcome has %u step records for %u ops",
			    p->recorded->nsteps, p->nops);
	outcome_free(out); /* outcome_copy() starts from nothing */
	return outcome_copy(out, p->recorded) < 0
		       ? fail(err, "recorded: out of memory") : 0;
}

static void recorded_close(struct target *t)
{
	free(t);
}

const struct target_ops recorded_target = {
	.name = "recorded",
	.summary = "the outcome stored in the trace (\"outcome\"), as recorded",
	.open = recorded_open,
	.run = recorded_run,
	.close = recorded_close,
};
