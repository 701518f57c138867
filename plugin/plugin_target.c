/*
 * plugin_target.c - the plugin:PATH.so target: loads a shared library that
 * implements include/epollfuzz/plugin.h, hands it each program in the
 * ABI's form and builds an outcome from what it reports.
 *
 * The plugin runs in this process: a crash in it is a crash here.  What it
 * reports is checked for shape (steps in order, events after a result that
 * has them, completions of ops that blocked) so that a plugin's bookkeeping
 * mistake is a clear error naming the plugin, never a corrupt outcome; what
 * the calls returned is for the comparator to judge.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "abi.h"
#include "plugin_target.h"

#define PLUGIN_ERR_LEN 256

struct target {
	void *lib;
	struct epollfuzz_plugin plugin; /* a copy; members past its size NULL */
	void *inst;
	char path[PATH_MAX];
	char command[PATH_MAX + 128]; /* describe("command") */
	struct epollfuzz_op *ops;       /* the program in ABI form, reused */
	uint32_t cap_ops;
};

/* ------------------------------------------------------------ loading */

/* dlopen() searches the library path for a name without a slash; a target
 * names a file, so a bare name means one in the current directory. */
static int plugin_path(const char *arg, char *buf, size_t len,
		       struct error *err)
{
	arg += strspn(arg, " \t");
	if (path_printf(buf, len, err, "%s%s", strchr(arg, '/') ? "" : "./",
			arg) < 0)
		return -1;
	return 0;
}

/* The entry point, through a copy rather than a cast: ISO C has no
 * conversion from an object pointer to a function pointer. */
typedef const struct epollfuzz_plugin *(*plugin_entry)(void);

static int load_library(struct target *t, plugin_entry *entry,
			struct error *err)
{
	struct stat st;
	void *sym;

	if (stat(t->path, &st) < 0)
		return fail(err, "plugin %s: %s", t->path,
			    errno == ENOENT ? "no such file" : strerror(errno));
	t->lib = dlopen(t->path, RTLD_NOW | RTLD_LOCAL);
	if (!t->lib)
		return fail(err, "plugin %s: cannot load: %s", t->path, dlerror());
	dlerror();
	sym = dlsym(t->lib, EPOLLFUZZ_PLUGIN_ENTRY);
	if (!sym)
		return fail(err, "plugin %s: not an epollfuzz plugin: no symbol %s",
			    t->path, EPOLLFUZZ_PLUGIN_ENTRY);
	memcpy(entry, &sym, sizeof(*entry));
	return 0;
}

/* Checks what the entry point returned and keeps a copy. */
static int check_plugin(struct target *t, const struct epollfuzz_plugin *p,
			struct error *err)
{
	size_t need = offsetof(struct epollfuzz_plugin, reserved);

	if (!p)
		return fail(err, "plugin %s: %s() returned NULL", t->path,
			    EPOLLFUZZ_PLUGIN_ENTRY);
	if (p->abi_version != EPOLLFUZZ_PLUGIN_ABI_VERSION)
		return fail(err, "plugin %s: ABI version %u not supported (this epollfuzz supports %d)",
			    t->path, p->abi_version, EPOLLFUZZ_PLUGIN_ABI_VERSION);
	if (p->size < need)
		return fail(err, "plugin %s: struct epollfuzz_plugin of %u bytes, version 1 has %zu",
			    t->path, p->size, need);
	memcpy(&t->plugin, p, p->size < sizeof(*p) ? p->size : sizeof(*p));
	if (!t->plugin.open || !t->plugin.run || !t->plugin.close)
		return fail(err, "plugin %s: open, run or close is NULL", t->path);
	if (!t->plugin.name)
		t->plugin.name = "?";
	snprintf(t->command, sizeof(t->command), "%s%s%s (%s)", t->plugin.name,
		 t->plugin.version ? " " : "",
		 t->plugin.version ? t->plugin.version : "", t->path);
	return 0;
}

static int open_instance(struct target *t, struct error *err)
{
	char why[PLUGIN_ERR_LEN] = "";

	t->inst = t->plugin.open(why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	if (!t->inst)
		return fail(err, "plugin %s: open failed: %s", t->path,
			    why[0] ? why : "no reason given");
	return 0;
}

static void plugin_close(struct target *t)
{
	if (!t)
		return;
	if (t->inst)
		t->plugin.close(t->inst);
	if (t->lib)
		dlclose(t->lib);
	free(t->ops);
	free(t);
}

static struct target *plugin_open(const struct target_config *cfg,
				  struct error *err)
{
	struct target *t;
	plugin_entry entry = NULL;

	if (!cfg->arg) {
		fail(err, "plugin: no library named (plugin:PATH.so)");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		fail(err, "plugin: out of memory");
		return NULL;
	}
	if (plugin_path(cfg->arg, t->path, sizeof(t->path), err) < 0 ||
	    load_library(t, &entry, err) < 0 ||
	    check_plugin(t, entry(), err) < 0 || open_instance(t, err) < 0) {
		plugin_close(t);
		return NULL;
	}
	return t;
}

/* ------------------------------------------------------------ recording */

/*
 * The host's side of one run: builds out from the callbacks.  Events go to
 * the result reported last (a step's or a completion's); blocked[] follows
 * which op each thread sleeps in, so that completions and still-blocked
 * reports can be checked against it.
 */
struct recorder {
	const struct program *p;
	struct outcome *out;
	struct result *(*current)(struct recorder *r); /* events go here */
	int64_t blocked[MAX_THREADS]; /* step each thread sleeps in, or -1 */
	bool stopped;  /* after an unsupported step or a violation */
	bool failed;
	char why[PLUGIN_ERR_LEN]; /* the first broken rule */
};

static int broken(struct recorder *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int broken(struct recorder *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

static struct result *no_result(struct recorder *r)
{
	(void)r;
	return NULL;
}

static struct result *last_step_result(struct recorder *r)
{
	return &r->out->steps[r->out->nsteps - 1].res;
}

static struct result *last_completion_result(struct recorder *r)
{
	return &r->out->done[r->out->ndone - 1].res;
}

/* A result as the plugin sized it: members past its size read as 0. */
static int read_result(struct recorder *r, const struct epollfuzz_result *in,
		       struct epollfuzz_result *res)
{
	size_t need = offsetof(struct epollfuzz_result, reserved);

	if (!in)
		return broken(r, "a NULL result");
	if (in->size < need)
		return broken(r, "a result of %u bytes (size not set?), version 1 has %zu",
			      in->size, need);
	memset(res, 0, sizeof(*res));
	memcpy(res, in, in->size < sizeof(*res) ? in->size : sizeof(*res));
	return 0;
}

/* The returned values of a done call, into res. */
static int fill_result(struct recorder *r, const struct epollfuzz_result *in,
		       struct result *res)
{
	int has = abi_result_has_to_trace(in->has);

	if (has < 0)
		return broken(r, "step %u: unknown bits in has (0x%x)", in->step,
			      in->has);
	*res = (struct result){ .has = (uint8_t)has, .ret = in->ret,
				.err = in->err, .value = in->value,
				.fds = { in->fds[0], in->fds[1] } };
	res->ev_first = r->out->nevents;
	return 0;
}

static int check_running(struct recorder *r, const char *what)
{
	if (r->failed)
		return -1;
	if (r->stopped)
		return broken(r, "%s after the run stopped (an unsupported step or a violation)",
			      what);
	return 0;
}

/* Completions are listed by thread, whatever order they came in (the
 * comparator pairs them one by one). */
static void sort_completions(struct outcome *o)
{
	struct step_record *rec;
	struct completion *c;

	if (o->nsteps == 0)
		return;
	rec = &o->steps[o->nsteps - 1];
	c = o->done + rec->done_first;
	for (uint32_t i = 1; i < rec->done_count; i++)
		for (uint32_t j = i; j > 0 && c[j - 1].t > c[j].t; j--) {
			struct completion tmp = c[j];

			c[j] = c[j - 1];
			c[j - 1] = tmp;
		}
}

static int record_step_state(struct recorder *r, const struct epollfuzz_result *in,
			     struct step_record *rec)
{
	int state = abi_step_state_to_trace(in->state);

	if (state < 0)
		return broken(r, "step %u: unknown state %u", in->step, in->state);
	rec->state = (uint8_t)state;
	if (state == STEP_DONE)
		return fill_result(r, in, &rec->res);
	if (state == STEP_BLOCKED)
		r->blocked[in->thread] = in->step;
	if (state == STEP_UNSUPPORTED)
		r->stopped = true;
	return 0;
}

static int on_step(void *ctx, const struct epollfuzz_result *in)
{
	struct recorder *r = ctx;
	uint32_t due = r->out->nsteps;
	struct epollfuzz_result res;

	if (check_running(r, "a step") < 0 || read_result(r, in, &res) < 0)
		return -1;
	if (res.step != due || due >= r->p->nops)
		return broken(r, "step %u reported where step %u was due", res.step,
			      due);
	if (res.thread != r->p->ops[due].t)
		return broken(r, "step %u reported on thread %u, its op is on thread %u",
			      res.step, res.thread, r->p->ops[due].t);
	sort_completions(r->out);
	r->current = last_step_result;
	return record_step_state(r, &res, outcome_add_step(r->out, due, res.thread));
}

static int on_event(void *ctx, uint32_t events, uint64_t data)
{
	struct recorder *r = ctx;
	struct result *res;

	if (check_running(r, "an event") < 0)
		return -1;
	res = r->current(r);
	if (!res)
		return broken(r, "an event before any result");
	if (!(res->has & RES_EVENTS))
		return broken(r, "step %u: an event after a result without EPOLLFUZZ_HAS_EVENTS",
			      r->out->nsteps - 1);
	outcome_add_event(r->out, res, events, data);
	return 0;
}

static int on_completion(void *ctx, const struct epollfuzz_result *in)
{
	struct recorder *r = ctx;
	struct epollfuzz_result res;
	struct completion *c;

	if (check_running(r, "a completion") < 0 || read_result(r, in, &res) < 0)
		return -1;
	if (r->out->nsteps == 0)
		return broken(r, "a completion before any step");
	if (res.thread >= r->p->threads || r->blocked[res.thread] != res.step)
		return broken(r, "step %u: completes step %u on thread %u, which is not blocked there",
			      r->out->nsteps - 1, res.step, res.thread);
	r->blocked[res.thread] = -1;
	c = outcome_add_completion(r->out, &r->out->steps[r->out->nsteps - 1],
				   res.step, res.thread);
	r->current = last_completion_result;
	return fill_result(r, &res, &c->res);
}

static int on_still_blocked(void *ctx, uint32_t step, uint32_t thread)
{
	struct recorder *r = ctx;

	if (check_running(r, "still_blocked") < 0)
		return -1;
	if (r->out->nsteps != r->p->nops)
		return broken(r, "still_blocked before the last step");
	if (thread >= r->p->threads || r->blocked[thread] != step)
		return broken(r, "still_blocked: step %u on thread %u is not blocked (or reported twice)",
			      step, thread);
	r->blocked[thread] = -1;
	r->out->blocked[r->out->nblocked++] = (struct blocked_rec){
		.step = step, .t = (uint8_t)thread,
	};
	return 0;
}

static int on_unsupported(void *ctx, const char *why)
{
	struct recorder *r = ctx;
	const struct outcome *o = r->out;

	if (r->failed)
		return -1;
	if (o->nsteps == 0 || o->steps[o->nsteps - 1].state != STEP_UNSUPPORTED)
		return broken(r, "unsupported() without a step reported EPOLLFUZZ_STEP_UNSUPPORTED just before");
	snprintf(r->out->unsupported, sizeof(r->out->unsupported), "%s",
		 why ? why : "");
	return 0;
}

static int on_violation(void *ctx, uint32_t step, const char *cls,
			const char *msg)
{
	struct recorder *r = ctx;
	struct violation *v = &r->out->violation;

	if (check_running(r, "a violation") < 0)
		return -1;
	if (step >= r->out->nsteps)
		return broken(r, "a violation at step %u, which was not reported", step);
	v->broken = true;
	v->step = step;
	snprintf(v->cls, sizeof(v->cls), "%s", cls ? cls : "plugin");
	snprintf(v->msg, sizeof(v->msg), "%s", msg ? msg : "");
	r->stopped = true;
	return 0;
}

/* ------------------------------------------------------------ running */

static int program_to_abi(struct target *t, const struct program *p,
			  struct epollfuzz_program *ap, struct error *err)
{
	if (p->nops > t->cap_ops) {
		struct epollfuzz_op *n = realloc(t->ops, p->nops * sizeof(*n));

		if (!n)
			return fail(err, "plugin: out of memory");
		t->ops = n;
		t->cap_ops = p->nops;
	}
	for (unsigned i = 0; i < p->nops; i++)
		abi_op_from_trace(&p->ops[i], &t->ops[i]);
	*ap = (struct epollfuzz_program){
		.size = sizeof(*ap), .nops = p->nops, .nthreads = p->threads,
		.fd_limit = FD_LIMIT, .fd_initial_open = FD_INITIAL_OPEN,
		.ops = t->ops,
	};
	return 0;
}

/* still_blocked[] is listed by thread, as every target lists it. */
static void sort_blocked(struct outcome *o)
{
	for (uint32_t i = 1; i < o->nblocked; i++)
		for (uint32_t j = i; j > 0 && o->blocked[j - 1].t > o->blocked[j].t; j--) {
			struct blocked_rec tmp = o->blocked[j];

			o->blocked[j] = o->blocked[j - 1];
			o->blocked[j - 1] = tmp;
		}
}

/* What the run left to check once the plugin returned. */
static int finish(struct target *t, struct recorder *r, struct error *err)
{
	struct outcome *o = r->out;

	if (!r->stopped && o->nsteps != r->p->nops)
		return fail(err, "plugin %s: reported %u of %u steps", t->path,
			    o->nsteps, r->p->nops);
	sort_completions(o);
	sort_blocked(o);
	if (o->nsteps && o->steps[o->nsteps - 1].state == STEP_UNSUPPORTED &&
	    !o->unsupported[0])
		snprintf(o->unsupported, sizeof(o->unsupported),
			 "%s gives no reason", t->plugin.name);
	return 0;
}

static int plugin_run(struct target *t, const struct program *p,
		      struct outcome *out, struct error *err)
{
	struct recorder r = { .p = p, .out = out, .current = no_result };
	struct epollfuzz_host host = {
		.size = sizeof(host), .abi_version = EPOLLFUZZ_PLUGIN_ABI_VERSION,
		.ctx = &r, .step = on_step, .event = on_event,
		.completion = on_completion, .still_blocked = on_still_blocked,
		.unsupported = on_unsupported, .violation = on_violation,
	};
	struct epollfuzz_program ap;
	char why[PLUGIN_ERR_LEN] = "";
	int rc;

	if (program_to_abi(t, p, &ap, err) < 0)
		return -1;
	for (unsigned i = 0; i < MAX_THREADS; i++)
		r.blocked[i] = -1;
	outcome_reset(out);
	rc = t->plugin.run(t->inst, &ap, &host, why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	/* A rejected report explains a failed run better than the plugin can
	 * (it may just have given up on it). */
	if (r.failed)
		return fail(err, "plugin %s: %s", t->path, r.why);
	if (rc != 0)
		return fail(err, "plugin %s: run failed: %s", t->path,
			    why[0] ? why : "no reason given");
	return finish(t, &r, err);
}

static const char *plugin_describe(struct target *t, const char *key)
{
	return strcmp(key, "command") == 0 ? t->command : NULL;
}

const struct target_ops plugin_target = {
	.name = "plugin",
	.summary = "an implementation in a shared library, through the plugin ABI (docs/plugin.md)",
	.arg_usage = "PATH.so",
	.open = plugin_open,
	.run = plugin_run,
	.close = plugin_close,
	.describe = plugin_describe,
};
