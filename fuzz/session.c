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
#include <unistd.h>

#include "fuzz.h"
#include "profile.h"

#define NONDET_DIR_ENV "EPOLLFUZZ_NONDET_DIR"
#define NONDET_DIR_DEFAULT "nondeterministic"
#define FINDINGS_ENV "EPOLLFUZZ_FINDINGS"
#define INJECT_ENV "EPOLLFUZZ_INJECT"

enum {
	FINDINGS_TRACKED = 1024,
	FAILURES_SHOWN = 10, /* messages about targets that failed, at most */
	STATUS_EVERY_S_ENV_DEFAULT = 10,
};

struct fuzz_session {
	struct fuzz_config cfg;
	char kernel[65]; /* uname release, for findings */
	struct target_set set;
	FILE *out; /* status lines and findings: cfg.console, else stderr */
	struct known_list *known; /* or NULL */
	/* The findings met so far, by a hash of their key (target, signature,
	 * what differs): the status line counts findings as the findings
	 * directory does, not the programs that showed them. */
	uint64_t seen[FINDINGS_TRACKED];
	unsigned nseen;
	struct fuzz_counts n;
	unsigned long save_failures;
	double started, last_status; /* seconds, CLOCK_MONOTONIC */
	struct fuzz_stats *stats; /* cfg.stats_path's tally, or NULL */
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

/* ---------------------------------------------------------- counts */

static uint64_t hash_text(const char *text)
{
	return hash_bytes(text, strlen(text));
}

/* Where the parent reads the job's counts (cfg.shared_counts), kept
 * current after every program so that a killed job's count is right too. */
static void publish_counts(const struct fuzz_session *s)
{
	if (s->cfg.shared_counts)
		*s->cfg.shared_counts = s->n;
}

/* ---------------------------------------------------------- targets */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Runs p on the set and judges it: each target against the reference, or
 * the model alone (its broken invariants and unsupported ops).  -1 when a
 * target failed to run p.
 */
static int run_targets(struct fuzz_session *s, const struct program *p,
		       struct verdict *v)
{
	struct error err = { "" };
	unsigned k = 0;

	if (target_set_run(&s->set, p, &k, &err) < 0) {
		if (s->set.failures[k] <= FAILURES_SHOWN)
			fprintf(s->out, "%s: a target failed to run a program, skipped: %s\n",
				s->cfg.name, err.msg);
		return -1;
	}
	target_set_judge(&s->set, p, v, NULL);
	return 0;
}

/* ----------------------------------------------------------- status */

/* The tally to cfg.stats_path, so that a killed job leaves its stats. */
static void write_stats(struct fuzz_session *s)
{
	struct error err = { "" };

	if (s->stats && fuzz_stats_write(s->stats, s->cfg.stats_path, &err) < 0)
		fprintf(s->out, "%s: cannot write the stats: %s\n", s->cfg.name, err.msg);
}

void fuzz_session_status(struct fuzz_session *s)
{
	double secs = now_seconds() - s->started;
	long corpus = s->cfg.corpus_dir ? count_files(s->cfg.corpus_dir) : -1;

	fprintf(s->out, "%s: %lu programs (%.0f/s)", s->cfg.name, s->n.runs,
		secs > 0 ? (double)s->n.runs / secs : 0.0);
	if (corpus >= 0)
		fprintf(s->out, ", corpus %ld", corpus);
	fprintf(s->out, ", %lu finding%s (in %lu programs), %lu nondeterministic, %lu unsupported",
		s->n.findings, s->n.findings == 1 ? "" : "s",
		s->n.finding_programs, s->n.nondeterministic, s->n.unsupported);
	if (s->known)
		fprintf(s->out, ", %lu known", s->n.known);
	if (s->n.failures)
		fprintf(s->out, ", %lu target failures", s->n.failures);
	if (s->n.outside)
		fprintf(s->out, ", %lu outside the settings", s->n.outside);
	fputc('\n', s->out);
}

static void maybe_print_status(struct fuzz_session *s)
{
	double now = now_seconds();

	if (!s->cfg.status_every_s || now - s->last_status < s->cfg.status_every_s)
		return;
	s->last_status = now;
	fuzz_session_status(s);
	write_stats(s);
}

/* --------------------------------------------------------- findings */

/* Without a findings directory: everything on stderr, then abort, so that
 * the engine saves the input. */
__attribute__((noreturn))
static void abort_on_finding(struct fuzz_session *s, const struct fuzz_finding *f,
			     const char *how)
{
	const struct target_set *set = f->set;
	int k = target_set_find(set, f->v->target);

	fprintf(s->out, "\n==== epollfuzz finding ====\n");
	if (how)
		fprintf(s->out, "(%s)\n", how);
	if (set->ref >= 0 && k > 0 && f->v->cls == VERDICT_DIVERGE)
		target_set_print(s->out, set, f->p, f->v);
	else
		fprintf(s->out, "%s at step %u: %s: %s\n   %s\n",
			verdict_class_name(f->v->cls), f->v->step, f->v->target,
			f->v->signature, f->v->detail);
	for (unsigned i = 0; i < set->n; i++) {
		fprintf(s->out, "---- %s outcome ----\n", set->spec[i].name);
		fuzz_print_trace(s->out, f->p, &set->out[i]);
	}
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
		/* Fuzzing on would lose every finding after this one without a
		 * trace: stop the job, loudly (not through exit(), which the
		 * engine would take for a crash of the program under test). */
		fprintf(s->out, "%s: cannot write a finding, stopping: %s\n",
			s->cfg.name, err.msg);
		s->n.lost++;
		fuzz_session_status(s);
		publish_counts(s);
		_exit(FUZZ_EXIT_LOST);
	}
	if (fate_name(fate)) {
		char key[192];

		verdict_key(f->v, key, sizeof(key));
		fprintf(s->out, "%s: finding %s at step %u (%s, after %.1f s, program %lu): %s\n",
			s->cfg.name, key, f->v->step, fate_name(fate),
			now_seconds() - s->started, s->n.runs, path);
	}
}

/* One more program with a finding; one more finding when its key is new. */
static void count_finding(struct fuzz_session *s, const struct verdict *v)
{
	char key[256];
	uint64_t h;

	s->n.finding_programs++;
	verdict_key(v, key, sizeof(key));
	h = hash_text(key) ^ (uint64_t)v->cls;
	for (unsigned i = 0; i < s->nseen; i++)
		if (s->seen[i] == h)
			return;
	if (s->nseen < FINDINGS_TRACKED)
		s->seen[s->nseen++] = h;
	s->n.findings++;
}

/* how: what the reruns showed, or NULL. */
static void found(struct fuzz_session *s, const struct program *p,
		  const struct verdict *v, const uint8_t *data, size_t size,
		  const char *how)
{
	struct fuzz_finding f = {
		.p = p, .v = v, .set = &s->set,
		.input = data, .input_size = size,
	};

	count_finding(s, v);
	if (!s->cfg.findings_dir)
		abort_on_finding(s, &f, how);
	write_finding(s, &f);
}

/* ---------------------------------------------------- nondeterminism */

/* A hash of the program's JSON, so that the same program found twice
 * lands in the same file. */
static uint64_t program_hash(const struct program *p)
{
	char *text = trace_dump(p, NULL);
	uint64_t h = hash_text(text ? text : "");

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
		fprintf(s->out, "%s: cannot save a nondeterministic program: %s\n",
			s->cfg.name, err.msg);
}

/* A finding the known list names: counted apart, and (-1) kept out of
 * the corpus, so that generation drifts away from it. */
static int step_over(struct fuzz_session *s, const struct verdict *v)
{
	if (known_match(s->known, v) < 0)
		return 0;
	s->n.known++;
	return -1;
}

static bool same_finding(const struct verdict *a, const struct verdict *b)
{
	return a->cls == b->cls && strcmp(a->target, b->target) == 0 &&
	       strcmp(a->signature, b->signature) == 0 &&
	       strcmp(a->what, b->what) == 0;
}

/*
 * The model departed from Linux.  The model is a function of the program
 * and of the reference outcome it is matched to, so a fresh model is asked
 * the same question: if it accepts what the campaign's long-lived model
 * rejected, the answer depended on the programs run before (state left
 * over from an earlier run), a bug of the model, which reruns would
 * otherwise pass off as Linux's nondeterminism.  A divergence is rare, and
 * a model opens in microseconds.
 */
static bool model_changed_its_mind(struct fuzz_session *s, const struct program *p,
				   const struct outcome *first_linux,
				   const struct verdict *first)
{
	int m = target_set_find(&s->set, "model");
	struct error err = { "" };
	struct verdict again;

	if (m <= 0 || s->set.ref != 0 || strcmp(first->target, s->set.spec[m].name) != 0)
		return false;
	if (target_set_rejudge(&s->set, (unsigned)m, p, first_linux, &again, &err) < 0)
		return false;
	return again.cls == VERDICT_AGREE;
}

/*
 * A target departed from the reference (first): run p FUZZ_RECHECKS more
 * times.  A broken invariant on the way is a finding at once, a known
 * divergence is stepped over; the same finding every time is a finding;
 * otherwise the reference or the target varied (the model allowing none
 * of it), and p is kept apart.  First, though, a fresh model must reject
 * what the campaign's model rejected.  A target failing leaves it
 * undecided.
 * Returns -1 when p should not be kept in the corpus (known).
 */
static int recheck(struct fuzz_session *s, const struct program *p,
		   const struct verdict *first, const uint8_t *data, size_t size)
{
	struct outcome first_linux;
	unsigned outside = 0, inside = 0;
	struct verdict v;
	char how[64];
	int keep = 0;

	if (outcome_copy(&first_linux, target_set_own(&s->set)) < 0)
		abort(); /* out of memory: nothing sensible is left to do */
	if (model_changed_its_mind(s, p, &first_linux, first)) {
		found(s, p, first, data, size,
		      "the model rejected Linux's outcome, which a fresh model accepts: "
		      "its answer depends on what it ran before");
		outcome_free(&first_linux);
		return 0;
	}
	for (unsigned i = 0; i < FUZZ_RECHECKS; i++) {
		if (run_targets(s, p, &v) < 0)
			break;
		if ((keep = step_over(s, &v)) < 0)
			break;
		if (v.cls == VERDICT_INVARIANT) {
			found(s, p, &v, data, size, NULL);
			break;
		}
		if (same_finding(&v, first))
			outside++;
		else
			inside++;
	}
	if (outside == FUZZ_RECHECKS) {
		snprintf(how, sizeof(how), "departs from the reference in %u of %u runs",
			 FUZZ_RECHECKS + 1, FUZZ_RECHECKS + 1);
		found(s, p, &v, data, size, how);
	} else if (inside > 0 && keep == 0 && v.cls != VERDICT_INVARIANT)
		keep_nondeterministic(s, p, &first_linux, first, inside);
	outcome_free(&first_linux);
	return keep;
}

/* ---------------------------------------------------------- the loop */

/*
 * Whether the run left the campaign's profile: the decoder guesses the fd
 * table while it bends ops into the profile, and a run can still make fds
 * elsewhere or leave a thread blocked for good (profile_check_run, on the
 * first outcome: the reference's, or the model's alone).
 */
static bool run_left_profile(const struct fuzz_session *s, const struct program *p)
{
	struct profile_refusal why;

	return s->cfg.lim.profile != PROFILE_ANY &&
	       profile_check_run((enum profile)s->cfg.lim.profile, p, &s->set.out[0],
				 &why, 1) > 0;
}

int fuzz_session_run(struct fuzz_session *s, const uint8_t *data, size_t size)
{
	struct program p;
	struct verdict v;
	int keep = 0, ran;

	if (!input_fits(data, size, &s->cfg.lim)) {
		/* made under other settings (a merged corpus): not this campaign's */
		s->n.outside++;
		publish_counts(s);
		return -1;
	}
	program_decode(data, size, &s->cfg.lim, &p);
	s->n.runs++;
	ran = run_targets(s, &p, &v);
	if (ran == 0 && s->cfg.feedback) /* the reference's, before a recheck */
		fuzz_feedback(&p, &s->set.out[0]);
	if (ran == 0 && s->stats)
		fuzz_stats_add(s->stats, &p, &s->set.out[0]);
	if (ran < 0)
		s->n.failures++;
	else if (run_left_profile(s, &p)) {
		s->n.outside++;
		keep = -1;
	} else if ((keep = step_over(s, &v)) < 0)
		; /* known: nothing more to learn here */
	else if (v.cls == VERDICT_INVARIANT)
		found(s, &p, &v, data, size, NULL);
	else if (v.cls == VERDICT_DIVERGE)
		keep = recheck(s, &p, &v, data, size);
	else if (v.cls == VERDICT_UNSUPPORTED)
		s->n.unsupported++;
	program_free(&p);
	publish_counts(s);
	maybe_print_status(s);
	return keep;
}

/* ------------------------------------------------------ open, close */

static void read_kernel_release(char *buf, size_t len)
{
	struct utsname u;

	snprintf(buf, len, "%s", uname(&u) == 0 ? u.release : "unknown");
}

/* The set a configuration asks for: targets against a reference, or the
 * model alone. */
static int session_set(struct fuzz_session *s, const struct fuzz_config *cfg,
		       struct error *err)
{
	static const char *const model_alone[] = { "model" };
	struct target_set_choice c = {
		.targets = cfg->targets, .ntargets = cfg->ntargets,
		.reference = cfg->reference, .add_model = true,
	};

	if (cfg->target == FUZZ_TARGET_MODEL) {
		c = (struct target_set_choice){ .targets = model_alone,
						.ntargets = 1, .alone_ok = true };
	}
	if (target_set_init(&s->set, &c, err) < 0)
		return -1;
	/* the model's search of racing orders starts from another one in
	 * each session: a slip in it shows (trace.h: schedule_seed) */
	return target_set_open(&s->set, &(struct target_config){
		.inject = cfg->inject, .schedule_seed = cfg->schedule_seed }, err);
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
	s->out = cfg->console ? cfg->console : stderr;
	read_kernel_release(s->kernel, sizeof(s->kernel));
	if (cfg->stats_path && !(s->stats = calloc(1, sizeof(*s->stats)))) {
		fail(err, "out of memory");
		fuzz_session_close(s);
		return NULL;
	}
	if ((cfg->findings_dir && make_dir(cfg->findings_dir, err) < 0) ||
	    (cfg->known && !(s->known = known_load(cfg->known, err))) ||
	    session_set(s, cfg, err) < 0) {
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
	if (s->started > 0) {
		fuzz_session_status(s);
		write_stats(s);
	}
	free(s->stats);
	target_set_close(&s->set);
	known_free(s->known);
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
		.reference = env_or("EPOLLFUZZ_REFERENCE", NULL),
		.known = env_or("EPOLLFUZZ_KNOWN", NULL),
		.status_every_s = STATUS_EVERY_S_ENV_DEFAULT,
		.feedback = strcmp(env_or("EPOLLFUZZ_FEEDBACK", "0"), "1") == 0,
		.schedule_seed = (unsigned)strtoul(env_or("EPOLLFUZZ_SCHEDULE_SEED", "1"),
						   NULL, 10),
	};
	if (env_or("EPOLLFUZZ_TARGET", NULL)) {
		cfg->targets[0] = getenv("EPOLLFUZZ_TARGET");
		cfg->ntargets = 1;
	}
	return fuzz_limits(&cfg->lim, err);
}
