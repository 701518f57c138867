/*
 * example_model_plugin.c - epollfuzz's own model behind the plugin ABI.
 *
 * The worked example of include/epollfuzz/plugin.h: each program comes in
 * as ABI data, is turned back into a struct program, runs on the model
 * (model/model.h) and its outcome goes out through the host's callbacks.
 * Loaded as plugin:libepollfuzz-model-plugin.so it must agree with the
 * model target on every trace, which tests the loader and the ABI end to
 * end.  Injected bugs come from EPOLLFUZZ_INJECT, as for the model target.
 *
 * Built self-contained (the trace and model sources compiled in, symbols
 * hidden but the entry point), so that its copies never meet the host's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "model.h"

#ifndef EPOLLFUZZ_VERSION
#define EPOLLFUZZ_VERSION "unknown"
#endif

struct instance {
	struct model *m;
	struct program p;
	struct outcome out;
};

static void *model_plugin_open(char *err, uint32_t errlen)
{
	struct instance *in = calloc(1, sizeof(*in));
	struct error e;

	if (!in) {
		snprintf(err, errlen, "model plugin: out of memory");
		return NULL;
	}
	in->m = model_new(NULL, &e);
	if (!in->m) {
		snprintf(err, errlen, "%s", e.msg);
		free(in);
		return NULL;
	}
	program_init(&in->p);
	outcome_init(&in->out);
	return in;
}

static void model_plugin_close(void *instance)
{
	struct instance *in = instance;

	model_free(in->m);
	program_free(&in->p);
	outcome_free(&in->out);
	free(in);
}

/*
 * The ABI program as in->p, up to the first op this build does not know
 * (a newer host's, say): the model runs what comes before it, and that op
 * is reported unsupported with the reason left in unknown.
 */
static int program_from_abi(struct instance *in, const struct epollfuzz_program *ap,
			    struct error *unknown, struct error *e)
{
	program_free(&in->p);
	if (ap->nthreads < 1 || ap->nthreads > MAX_THREADS)
		return fail(e, "model plugin: %u threads (1..%d)", ap->nthreads,
			    MAX_THREADS);
	in->p.threads = ap->nthreads;
	in->p.threads_given = true;
	for (uint32_t i = 0; i < ap->nops; i++) {
		struct op op;
		struct error why;

		if (abi_op_to_trace(&ap->ops[i], &op, &why) < 0) {
			fail(unknown, "model plugin: step %u: %s", i, why.msg);
			break;
		}
		if (program_push(&in->p, &op, e) < 0)
			return -1;
	}
	return 0;
}

/* One result (a step's or a completion's), then its events. */
static int report_result(const struct epollfuzz_host *h, const struct outcome *o,
			 const struct result *res, uint32_t step, uint8_t t,
			 enum step_state state, bool completion)
{
	struct epollfuzz_result r = {
		.size = sizeof(r), .step = step, .thread = t,
		.state = abi_step_state(state), .ret = res->ret, .err = res->err,
		.has = abi_result_has(res->has), .value = res->value,
		.fds = { res->fds[0], res->fds[1] },
	};

	if (state != STEP_DONE)
		r.has = 0;
	if ((completion ? h->completion : h->step)(h->ctx, &r) < 0)
		return -1;
	if (state != STEP_DONE || !(res->has & RES_EVENTS))
		return 0;
	for (uint32_t k = 0; k < res->ev_count; k++) {
		const struct event_rec *ev = &o->events[res->ev_first + k];

		if (h->event(h->ctx, ev->events, ev->data) < 0)
			return -1;
	}
	return 0;
}

static int report_record(const struct epollfuzz_host *h, const struct outcome *o,
			 const struct step_record *rec)
{
	if (report_result(h, o, &rec->res, rec->step, rec->t,
			  (enum step_state)rec->state, false) < 0)
		return -1;
	for (uint32_t k = 0; k < rec->done_count; k++) {
		const struct completion *c = &o->done[rec->done_first + k];

		if (report_result(h, o, &c->res, c->step, c->t, STEP_DONE, true) < 0)
			return -1;
	}
	return 0;
}

/* What ends the run: an unsupported step, a broken invariant, an op this
 * build does not know, or the threads still blocked. */
static int report_end(const struct epollfuzz_host *h, const struct outcome *o,
		      const struct epollfuzz_program *ap, const struct error *e)
{
	const struct step_record *last = o->nsteps ? &o->steps[o->nsteps - 1] : NULL;

	if (last && last->state == STEP_UNSUPPORTED)
		return h->unsupported(h->ctx, o->unsupported);
	if (o->violation.broken)
		return h->violation(h->ctx, o->violation.step, o->violation.cls,
				    o->violation.msg);
	if (o->nsteps < ap->nops) {
		const struct epollfuzz_op *op = &ap->ops[o->nsteps];
		struct epollfuzz_result r = {
			.size = sizeof(r), .step = o->nsteps, .thread = op->thread,
			.state = EPOLLFUZZ_STEP_UNSUPPORTED,
		};

		if (h->step(h->ctx, &r) < 0)
			return -1;
		return h->unsupported(h->ctx, e->msg);
	}
	for (uint32_t i = 0; i < o->nblocked; i++)
		if (h->still_blocked(h->ctx, o->blocked[i].step, o->blocked[i].t) < 0)
			return -1;
	return 0;
}

static int model_plugin_run(void *instance, const struct epollfuzz_program *ap,
			    const struct epollfuzz_host *h, char *err,
			    uint32_t errlen)
{
	struct instance *in = instance;
	struct error e = { "" }, unknown = { "" };

	if (program_from_abi(in, ap, &unknown, &e) < 0 ||
	    model_run(in->m, &in->p, &in->out, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		return -1;
	}
	/* A host that rejects a report has said why; stop there. */
	for (uint32_t i = 0; i < in->out.nsteps; i++)
		if (report_record(h, &in->out, &in->out.steps[i]) < 0)
			return 0;
	report_end(h, &in->out, ap, &unknown);
	return 0;
}

static const struct epollfuzz_plugin model_plugin = {
	.abi_version = EPOLLFUZZ_PLUGIN_ABI_VERSION,
	.size = sizeof(model_plugin),
	.name = "model",
	.version = EPOLLFUZZ_VERSION,
	.open = model_plugin_open,
	.run = model_plugin_run,
	.close = model_plugin_close,
};

const struct epollfuzz_plugin *epollfuzz_plugin_v1(void)
{
	return &model_plugin;
}
