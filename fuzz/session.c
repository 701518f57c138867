/*
 * session.c - the one fuzz loop behind every engine face.
 *
 * Per input: decode (total: every byte string is a program), run on Linux
 * and then on the model matched against Linux's outcome (where woken
 * threads race, the model allows every order the kernel allows), or on the
 * model alone; judge; recheck a divergence, since Linux itself may race;
 * write the finding down (findings.c) or abort through its class's function
 * so that the engine keeps the input.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "fuzz.h"
#include "model.h"
#include "oracle.h"

#define NONDET_DIR_ENV "EPOLLFUZZ_NONDET_DIR"
#define NONDET_DIR_DEFAULT "nondeterministic"
#define FINDINGS_ENV "EPOLLFUZZ_FINDINGS"
#define INJECT_ENV "EPOLLFUZZ_INJECT"

enum {
	FAILURES_SHOWN = 10, /* messages about targets that failed, at most */
	STATUS_EVERY_S_ENV_DEFAULT = 10,
};

struct slot {
	const struct target_ops *ops;
	struct target *target; /* NULL: not used by this session */
	struct outcome out;
	unsigned long failures;
};

struct fuzz_session {
	struct fuzz_config cfg;
	char kernel[65]; /* uname release, for findings */
	struct slot model, oracle;
	struct fuzz_counts n;
	unsigned long save_failures;
	double started, last_status; /* seconds, CLOCK_MONOTONIC */
};

/* ------------------------------------------------- finding classes */

void fuzz_found_divergence(void)
{
	fputs("epollfuzz: aborting on a divergence\n", stderr);
	abort();
}

void fuzz_found_invariant(void)
{
	fputs("epollfuzz: aborting on a broken invariant\n", stderr);
	abort();
}

/* ---------------------------------------------------------- targets */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int slot_open(struct slot *s, const struct target_ops *ops,
		     const char *inject, struct error *err)
{
	struct target_config cfg = { .inject = inject };

	s->ops = ops;
	s->target = ops->open(&cfg, err);
	return s->target ? 0 : -1;
}

static void slot_close(struct slot *s)
{
	if (s->target)
		s->ops->close(s->target);
	s->target = NULL;
	outcome_free(&s->out);
}

/* Runs p on s; with a reference outcome, a target that allows several
 * outcomes gives the one that matches it best. */
static int slot_run(const struct fuzz_session *fs, struct slot *s,
		    const struct program *p, const struct outcome *ref)
{
	struct error err = { "" };
	int rc;

	outcome_reset(&s->out);
	if (ref && s->ops->run_like)
		rc = s->ops->run_like(s->target, p, ref, &s->out, &err);
	else
		rc = s->ops->run(s->target, p, &s->out, &err);
	if (rc == 0)
		return 0;
	if (s->failures++ < FAILURES_SHOWN)
		fprintf(stderr, "%s: %s failed to run a program, skipped: %s\n",
			fs->cfg.name, s->ops->name, err.msg);
	return -1;
}

static bool is_diff(const struct fuzz_session *s)
{
	return s->oracle.target != NULL;
}

/*
 * Runs p and judges it.  The model alone is compared with itself: that
 * finds exactly its broken invariants and unsupported ops, through the one
 * comparator.  -1 when a target failed to run p.
 */
static int run_targets(struct fuzz_session *s, const struct program *p,
		       struct verdict *v)
{
	if (!is_diff(s)) {
		if (slot_run(s, &s->model, p, NULL) < 0)
			return -1;
		compare_outcomes(p, &s->model.out, &s->model.out, v);
		return 0;
	}
	if (slot_run(s, &s->oracle, p, NULL) < 0 ||
	    slot_run(s, &s->model, p, &s->oracle.out) < 0)
		return -1;
	compare_outcomes(p, &s->model.out, &s->oracle.out, v);
	return 0;
}

/* ----------------------------------------------------------- status */

void fuzz_session_status(struct fuzz_session *s)
{
	double secs = now_seconds() - s->started;
	long corpus = s->cfg.corpus_dir ? count_files(s->cfg.corpus_dir) : -1;

	fprintf(stderr, "%s: %lu programs (%.0f/s)", s->cfg.name, s->n.runs,
		secs > 0 ? (double)s->n.runs / secs : 0.0);
	if (corpus >= 0)
		fprintf(stderr, ", corpus %ld", corpus);
	fprintf(stderr, ", %lu findings, %lu nondeterministic, %lu unsupported",
		s->n.findings, s->n.nondeterministic, s->n.unsupported);
	if (s->n.failures)
		fprintf(stderr, ", %lu target failures", s->n.failures);
	fputc('\n', stderr);
}

static void maybe_print_status(struct fuzz_session *s)
{
	double now = now_seconds();

	if (!s->cfg.status_every_s || now - s->last_status < s->cfg.status_every_s)
		return;
	s->last_status = now;
	fuzz_session_status(s);
}

/* --------------------------------------------------------- findings */

/* Without a findings directory: everything on stderr, then abort, so that
 * the engine saves the input. */
__attribute__((noreturn))
static void abort_on_finding(struct fuzz_session *s, const struct fuzz_finding *f,
			     const char *how)
{
	fprintf(stderr, "\n==== epollfuzz finding ====\n");
	if (how)
		fprintf(stderr, "(%s)\n", how);
	if (f->linux_out)
		verdict_print(stderr, f->p, "model", f->model, "linux",
			      f->linux_out, f->v);
	else
		fprintf(stderr, "invariant broken at step %u: %s\n   %s\n",
			f->v->step, f->v->signature, f->v->detail);
	if (f->linux_out) {
		fprintf(stderr, "---- trace (linux outcome) ----\n");
		fuzz_print_trace(stderr, f->p, f->linux_out);
	}
	fprintf(stderr, "---- model outcome ----\n");
	fuzz_print_trace(stderr, f->p, f->model);
	fuzz_session_status(s);
	if (f->v->cls == VERDICT_INVARIANT)
		fuzz_found_invariant();
	fuzz_found_divergence();
}

static const char *fate_name(enum finding_fate fate)
{
	switch (fate) {
	case FINDING_NEW: return "new";
	case FINDING_SMALLER: return "smaller program, replaced";
	case FINDING_SEEN: return NULL;
	}
	return NULL;
}

static void write_finding(struct fuzz_session *s, const struct fuzz_finding *f)
{
	struct finding_writer w = { s->cfg.findings_dir, s->cfg.inject, s->kernel };
	struct error err = { "" };
	enum finding_fate fate;
	char path[4096];

	if (finding_write(&w, f, &fate, path, sizeof(path), &err) < 0) {
		if (s->save_failures++ < FAILURES_SHOWN)
			fprintf(stderr, "%s: cannot write a finding: %s\n",
				s->cfg.name, err.msg);
		return;
	}
	if (fate_name(fate))
		fprintf(stderr, "%s: finding %s at step %u (%s, after %.1f s): %s\n",
			s->cfg.name, f->v->signature, f->v->step, fate_name(fate),
			now_seconds() - s->started, path);
}

/* how: what the reruns showed, or NULL. */
static void found(struct fuzz_session *s, const struct program *p,
		  const struct verdict *v, const uint8_t *data, size_t size,
		  const char *how)
{
	struct fuzz_finding f = {
		.p = p, .v = v, .model = &s->model.out,
		.linux_out = is_diff(s) ? &s->oracle.out : NULL,
		.input = data, .input_size = size,
	};

	s->n.findings++;
	if (!s->cfg.findings_dir)
		abort_on_finding(s, &f, how);
	write_finding(s, &f);
}

/* ---------------------------------------------------- nondeterminism */

/* FNV-1a over the program's JSON, so that the same program found twice
 * lands in the same file. */
static uint64_t program_hash(const struct program *p)
{
	char *text = trace_dump(p, NULL);
	uint64_t h = 0xcbf29ce484222325ull;

	if (!text)
		return h;
	for (const char *c = text; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	free(text);
	return h;
}

/* meta.nondeterministic: where the first run left the model's set, and how
 * many of the reruns came back inside it. */
static json_t *nondet_meta(const struct verdict *first, unsigned inside)
{
	json_t *extras = json_pack("{s{s{sIsssisi}}}", "meta", "nondeterministic",
				   "first_divergence_step", (json_int_t)first->step,
				   "first_divergence", first->signature,
				   "reruns", FUZZ_RECHECKS,
				   "reruns_inside_model_set", (int)inside);

	if (!extras)
		abort(); /* out of memory: nothing sensible is left to do */
	return extras;
}

/* Writes p with Linux's first divergent outcome to the nondeterministic
 * directory, atomically, named by a hash of the program. */
static int save_nondeterministic(const struct fuzz_session *s,
				 const struct program *p,
				 const struct outcome *first_linux,
				 const struct verdict *first, unsigned inside,
				 struct error *err)
{
	struct program saved = *p; /* shares p's ops: never freed */
	char path[4096], *text;
	int rc;

	if (make_dir(s->cfg.nondet_dir, err) < 0 ||
	    path_printf(path, sizeof(path), err, "%s/%016llx.json",
			s->cfg.nondet_dir,
			(unsigned long long)program_hash(p)) < 0)
		return -1;
	saved.extras = nondet_meta(first, inside);
	text = trace_dump(&saved, first_linux);
	json_decref(saved.extras);
	if (!text)
		return fail(err, "out of memory");
	rc = write_atomically(path, text, strlen(text), err);
	free(text);
	return rc;
}

static void keep_nondeterministic(struct fuzz_session *s,
				  const struct program *p,
				  const struct outcome *first_linux,
				  const struct verdict *first, unsigned inside)
{
	struct error err = { "" };

	s->n.nondeterministic++;
	if (save_nondeterministic(s, p, first_linux, first, inside, &err) < 0 &&
	    s->save_failures++ < FAILURES_SHOWN)
		fprintf(stderr, "%s: cannot save a nondeterministic program: %s\n",
			s->cfg.name, err.msg);
}

/*
 * Linux's outcome was outside the model's set (first): run p FUZZ_RECHECKS
 * more times.  A broken invariant on the way is a finding at once; all
 * outside the set, a finding; some inside, Linux varied, and p is kept
 * apart.  A target failing leaves it undecided.
 */
static void recheck(struct fuzz_session *s, const struct program *p,
		    const struct verdict *first, const uint8_t *data,
		    size_t size)
{
	struct outcome first_linux;
	unsigned outside = 0, inside = 0;
	struct verdict v;
	char how[64];

	if (outcome_copy(&first_linux, &s->oracle.out) < 0)
		abort(); /* out of memory: nothing sensible is left to do */
	for (unsigned i = 0; i < FUZZ_RECHECKS; i++) {
		if (run_targets(s, p, &v) < 0)
			break;
		if (v.cls == VERDICT_INVARIANT) {
			found(s, p, &v, data, size, NULL);
			outcome_free(&first_linux);
			return;
		}
		if (v.cls == VERDICT_DIVERGE)
			outside++;
		else
			inside++;
	}
	if (outside == FUZZ_RECHECKS) {
		snprintf(how, sizeof(how), "outside the model's set in %u of %u runs",
			 FUZZ_RECHECKS + 1, FUZZ_RECHECKS + 1);
		found(s, p, &v, data, size, how);
	} else if (inside > 0)
		keep_nondeterministic(s, p, &first_linux, first, inside);
	outcome_free(&first_linux);
}

/* ---------------------------------------------------------- the loop */

void fuzz_session_run(struct fuzz_session *s, const uint8_t *data, size_t size)
{
	struct program p;
	struct verdict v;

	program_decode(data, size, &s->cfg.lim, &p);
	s->n.runs++;
	if (run_targets(s, &p, &v) < 0)
		s->n.failures++;
	else if (v.cls == VERDICT_INVARIANT)
		found(s, &p, &v, data, size, NULL);
	else if (v.cls == VERDICT_DIVERGE)
		recheck(s, &p, &v, data, size);
	else if (v.cls == VERDICT_UNSUPPORTED)
		s->n.unsupported++;
	program_free(&p);
	maybe_print_status(s);
}

/* ------------------------------------------------------ open, close */

static void read_kernel_release(char *buf, size_t len)
{
	struct utsname u;

	snprintf(buf, len, "%s", uname(&u) == 0 ? u.release : "unknown");
}

struct fuzz_session *fuzz_session_open(const struct fuzz_config *cfg,
				       struct error *err)
{
	struct fuzz_session *s = calloc(1, sizeof(*s));

	if (!s) {
		fail(err, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	read_kernel_release(s->kernel, sizeof(s->kernel));
	outcome_init(&s->model.out);
	outcome_init(&s->oracle.out);
	if ((cfg->findings_dir && make_dir(cfg->findings_dir, err) < 0) ||
	    slot_open(&s->model, &model_target, cfg->inject, err) < 0 ||
	    (cfg->target == FUZZ_TARGET_DIFF &&
	     slot_open(&s->oracle, &linux_target, NULL, err) < 0)) {
		fuzz_session_close(s);
		return NULL;
	}
	s->started = s->last_status = now_seconds();
	return s;
}

void fuzz_session_close(struct fuzz_session *s)
{
	if (!s)
		return;
	if (s->started > 0)
		fuzz_session_status(s);
	slot_close(&s->model);
	slot_close(&s->oracle);
	free(s);
}

const struct decode_limits *fuzz_session_limits(const struct fuzz_session *s)
{
	return &s->cfg.lim;
}

struct fuzz_counts fuzz_session_counts(const struct fuzz_session *s)
{
	return s->n;
}

/* --------------------------------------------------- the environment */

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

int fuzz_config_from_env(struct fuzz_config *cfg, enum fuzz_target target,
			 const char *name, struct error *err)
{
	*cfg = (struct fuzz_config){
		.name = name,
		.target = target,
		.inject = env_or(INJECT_ENV, NULL),
		.findings_dir = env_or(FINDINGS_ENV, NULL),
		.nondet_dir = env_or(NONDET_DIR_ENV, NONDET_DIR_DEFAULT),
		.status_every_s = STATUS_EVERY_S_ENV_DEFAULT,
	};
	return fuzz_limits(&cfg->lim, err);
}
