/*
 * cmd_fuzz.c - `epollfuzz fuzz`: the one-command front door to fuzzing, and
 * `epollfuzz inject`: the injected model bugs it can be pointed at.
 *
 * The libFuzzer engine runs inside this binary (LLVMFuzzerRunDriver), one
 * forked job per --jobs, each driving the fuzz session core (fuzz/session.c)
 * and sharing one corpus directory; the AFL++ engine runs afl-fuzz on the
 * AFL-instrumented harness with the structure-aware custom mutator.  Either
 * way findings are written to the findings directory, named by signature,
 * and the files written or seen again during the run are listed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "model.h"
#include "profile.h"

#ifndef EPOLLFUZZ_LIBFUZZER
#define EPOLLFUZZ_LIBFUZZER 0
#endif
#ifndef EPOLLFUZZ_CORPUS_DIR
#define EPOLLFUZZ_CORPUS_DIR "corpus"
#endif
/* Where the build put the AFL++ pieces ("" when it could not). */
#ifndef EPOLLFUZZ_AFL_FUZZ
#define EPOLLFUZZ_AFL_FUZZ ""
#endif
#ifndef EPOLLFUZZ_AFL_DIR
#define EPOLLFUZZ_AFL_DIR ""
#endif

#define DEFAULT_CORPUS "fuzz-corpus"
#define DEFAULT_FINDINGS "findings"
#define NONDET_SUBDIR "nondeterministic"
#define LOG_SUBDIR "logs"

enum {
	DEFAULT_SECONDS = 60,
	MAX_JOBS = 64,
	STATUS_EVERY_S = 5,
	MAX_ENGINE_ARGS = 32,
	MAX_MERGE = 16,
	MAX_ARGS = 64, /* the engine's whole command line */
};

enum engine { ENGINE_LIBFUZZER, ENGINE_AFL };

struct fuzz_options {
	enum engine engine;
	enum fuzz_target target;
	const char *targets[TARGET_SET_MAX]; /* specs checked against reference */
	unsigned ntargets;
	const char *reference;
	const char *known;     /* --known FILE, or NULL */
	bool engine_log;       /* the engine's own lines to FINDINGS/logs/ */
	bool no_minimize;      /* keep findings as found */
	bool stats;            /* --stats: op coverage, FINDINGS/logs/stats-jobN.json */
	bool feedback;         /* --feedback: outcome features as coverage too */
	unsigned jobs;
	unsigned long seconds; /* 0: unlimited (only with runs) */
	unsigned long runs;    /* 0: unlimited */
	unsigned long seed;
	bool seed_given;
	const char *corpus, *findings, *inject;
	struct decode_limits lim;
	char nondet[4096]; /* findings/nondeterministic */
	char dict[4096];   /* findings/logs/epollfuzz.dict, the format's dictionary */
	const char *merge[MAX_MERGE]; /* --merge DIR: corpora merged in first */
	unsigned nmerge;
	char *engine_args[MAX_ENGINE_ARGS]; /* after "--", for the engine */
	unsigned nengine_args;
};

enum { FUZZ_ENGINE, FUZZ_TARGET, FUZZ_REFERENCE, FUZZ_KNOWN, FUZZ_NO_MINIMIZE,
       FUZZ_ENGINE_OUTPUT, FUZZ_JOBS, FUZZ_TIME, FUZZ_RUNS, FUZZ_CORPUS,
       FUZZ_FINDINGS, FUZZ_INJECT, FUZZ_SEED, FUZZ_THREADS, FUZZ_PROFILE,
       FUZZ_MERGE, FUZZ_STATS, FUZZ_FEEDBACK, FUZZ_ENGINE_ARGS };

static const struct cli_option fuzz_option_table[] = {
	{ "engine", 0, "E",
	  "libfuzzer (default: in this binary) or afl (afl-fuzz on the AFL++ "
	  "harness, output in CORPUS-afl/)", FUZZ_ENGINE },
	{ "target", 0, "SPEC",
	  "a target to check (repeatable; default: the model); diff is the "
	  "default, model alone the model with its invariants", FUZZ_TARGET },
	{ "reference", 0, "SPEC",
	  "what targets are compared with (default: linux)", FUZZ_REFERENCE },
	{ "known", 0, "FILE",
	  "known divergences to step over (docs/known.md): programs that hit "
	  "one are counted apart, not written, and not kept in the corpus",
	  FUZZ_KNOWN },
	{ "no-minimize", 0, NULL,
	  "keep findings as found (by default each finding written during the "
	  "run is minimised in place at the end, as 'epollfuzz minimize' does, "
	  "its .bin re-encoded)", FUZZ_NO_MINIMIZE },
	{ "engine-output", 0, NULL,
	  "let libFuzzer write to stderr (by default its own lines go to "
	  "FINDINGS/" LOG_SUBDIR "/libfuzzer-jobN.log)", FUZZ_ENGINE_OUTPUT },
	{ "jobs", 0, "N",
	  "parallel fuzzing processes sharing the corpus (default 1); with "
	  "libFuzzer, job k runs on the k-th CPU it may use", FUZZ_JOBS },
	{ "time", 0, "S",
	  "stop after S seconds (default 60 unless --runs is given)", FUZZ_TIME },
	{ "runs", 0, "N", "stop after N programs per job", FUZZ_RUNS },
	{ "corpus", 0, "DIR", "the work corpus", FUZZ_CORPUS },
	{ "merge", 0, "DIR",
	  "first add DIR's inputs to the work corpus (repeatable): those that "
	  "fit this campaign's --threads and --profile and that it does not "
	  "hold yet.  Inputs mean the same program under every setting, so "
	  "corpora of any run can be merged", FUZZ_MERGE },
	{ "findings", 0, "DIR", "where findings go", FUZZ_FINDINGS },
	{ "inject", 0, "NAME",
	  "fuzz a model with an injected bug ('epollfuzz inject' lists them)",
	  FUZZ_INJECT },
	{ "seed", 0, "N",
	  "the engine's random seed (job k gets N+k), for repeatable runs",
	  FUZZ_SEED },
	{ "threads", 0, "N",
	  "the most threads programs spread over, 1 to 8 (default "
	  "EPOLLFUZZ_THREADS or 4); with 1 nothing blocks.  Inputs of more "
	  "threads (a corpus of another run) are skipped", FUZZ_THREADS },
	{ "profile", 0, "NAME",
	  "draw only programs NAME can run: miri (Miri's epoll subset, so that "
	  "'epollfuzz export --rust' takes every finding) or any (default "
	  "EPOLLFUZZ_PROFILE, else any).  Inputs drawn outside it are skipped",
	  FUZZ_PROFILE },
	{ "stats", 0, NULL,
	  "report at the end how often each op, named flag, fd kind and errno "
	  "was generated and returned, and the GAPS: what was (almost) never "
	  "drawn.  Each job's tally is in FINDINGS/" LOG_SUBDIR "/stats-jobN.json "
	  "(libFuzzer engine only)", FUZZ_STATS },
	{ "feedback", 0, NULL,
	  "also count as coverage what each run's outcome shows (what each step "
	  "did to which kind of file, what waits returned and steps woke): more "
	  "states kept, but a corpus several times larger and about 30% fewer "
	  "programs a second (libFuzzer engine)", FUZZ_FEEDBACK },
	{ NULL, 0, "-- ARGS",
	  "passed to the engine (libFuzzer flags, afl-fuzz options)",
	  FUZZ_ENGINE_ARGS },
};

static const struct cli_command fuzz_command = {
	.name = "fuzz",
	.usage = " [--engine libfuzzer|afl] [--target SPEC]... [--reference SPEC]\n"
		 "                      [--known FILE] [--jobs N] [--time SECONDS] [--runs N]\n"
		 "                      [--corpus DIR] [--findings DIR] [--inject NAME] [--seed N]\n"
		 "                      [--threads N] [--profile NAME] [--stats] [-- ENGINE_ARGS...]",
	.about = "Fuzzes targets against a reference: by default the model against Linux; with\n"
		 "--target SPEC any implementation (exec:qemu-x86_64, plugin:./libmine.so), the\n"
		 "model running beside it to explain each verdict; --target model alone fuzzes\n"
		 "the model with its invariants.  The corpus directory (default " DEFAULT_CORPUS "/) is\n"
		 "created and, when empty, seeded from the shipped corpus.  Each finding is\n"
		 "written to the findings directory (default " DEFAULT_FINDINGS "/) as NAME.json, a trace\n"
		 "with every target's outcome and meta.verdict, beside NAME.bin, its raw input;\n"
		 "NAME is the finding's class, target and signature\n"
		 "(divergence-exec-qemu-x86_64-epoll_ctl.errno, invariant-model-lost-wakeup), so\n"
		 "repeats replace it only with a smaller program.  Programs on which the\n"
		 "reference itself varied go to FINDINGS/" NONDET_SUBDIR "/.  Fuzzing goes on\n"
		 "after a finding.\n",
	.options = CLI_OPTIONS(fuzz_option_table),
	.epilogue = "A status line every few seconds on stderr; at the end, the findings written\n"
		    "and a summary.  Exit status: 0 no finding, 1 findings, 2 usage, or no\n"
		    "fuzzing engine in this build.\n",
};

/* ----------------------------------------------------------- options */

static int parse_number(const char *name, const char *text, unsigned long min,
			unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || n < min || n > max)
		return usage_error("fuzz", "%s needs a number from %lu to %lu, not '%s'",
				   name, min, max, text);
	*out = n;
	return 0;
}

static int set_engine(struct fuzz_options *o, const char *name)
{
	if (strcmp(name, "libfuzzer") == 0)
		o->engine = ENGINE_LIBFUZZER;
	else if (strcmp(name, "afl") == 0)
		o->engine = ENGINE_AFL;
	else
		return usage_error("fuzz", "unknown engine '%s' (libfuzzer or afl)", name);
	return 0;
}

/* diff: the default set; model alone: the model with its invariants; any
 * other spec joins the targets checked against the reference. */
static int set_target(struct fuzz_options *o, const char *spec)
{
	struct target_spec check;
	struct error err;

	if (strcmp(spec, "diff") == 0)
		return 0;
	if (strcmp(spec, "model") == 0 && o->ntargets == 0) {
		o->target = FUZZ_TARGET_MODEL;
		return 0;
	}
	if (target_spec_parse(spec, &check, &err) < 0)
		return usage_error("fuzz", "%s", err.msg);
	if (o->ntargets == TARGET_SET_MAX)
		return usage_error("fuzz", "at most %d targets", TARGET_SET_MAX);
	o->target = FUZZ_TARGET_DIFF;
	o->targets[o->ntargets++] = spec;
	return 0;
}

static int check_spec(const char *spec)
{
	struct target_spec check;
	struct error err;

	if (target_spec_parse(spec, &check, &err) < 0)
		return usage_error("fuzz", "%s", err.msg);
	return 0;
}

static int check_known(const char *path)
{
	struct known_list *k;
	struct error err;

	if (!(k = known_load(path, &err)))
		return usage_error("fuzz", "%s", err.msg);
	known_free(k);
	return 0;
}

static int set_profile(struct fuzz_options *o, const char *name)
{
	enum profile prof;
	struct error err;

	if (profile_by_name(name, &prof, &err) < 0)
		return usage_error("fuzz", "%s", err.msg);
	o->lim.profile = prof;
	/* afl-fuzz's harness and the minimisation of findings read it there */
	setenv("EPOLLFUZZ_PROFILE", name, 1);
	return 0;
}

/* The numbers; 0 to go on, else the exit status. */
static int set_number(struct fuzz_options *o, int id, const char *v)
{
	unsigned long n;

	switch (id) {
	case FUZZ_JOBS:
		if (parse_number("--jobs", v, 1, MAX_JOBS, &n))
			return EXIT_TROUBLE;
		o->jobs = (unsigned)n;
		return 0;
	case FUZZ_THREADS:
		if (parse_number("--threads", v, 1, FUZZ_MAX_THREADS, &n))
			return EXIT_TROUBLE;
		o->lim.max_threads = (unsigned)n;
		return 0;
	case FUZZ_TIME:
		return parse_number("--time", v, 1, 100L * 24 * 3600, &o->seconds);
	case FUZZ_RUNS:
		return parse_number("--runs", v, 1, 1000000000000UL, &o->runs);
	default: /* FUZZ_SEED */
		o->seed_given = true;
		return parse_number("--seed", v, 1, 1000000000UL, &o->seed);
	}
}

static int fuzz_apply(void *ctx, int id, const char *v)
{
	struct fuzz_options *o = ctx;

	switch (id) {
	case CLI_OPERAND:
		return usage_error("fuzz", "unexpected argument '%s' (engine arguments go after --)",
				   v);
	case FUZZ_ENGINE:
		return set_engine(o, v);
	case FUZZ_TARGET:
		return set_target(o, v);
	case FUZZ_REFERENCE:
		o->reference = v;
		return check_spec(v);
	case FUZZ_KNOWN:
		o->known = v;
		return check_known(v);
	case FUZZ_NO_MINIMIZE:
		o->no_minimize = true;
		return 0;
	case FUZZ_STATS:
		o->stats = true;
		return 0;
	case FUZZ_FEEDBACK:
		o->feedback = true;
		return 0;
	case FUZZ_ENGINE_OUTPUT:
		o->engine_log = false;
		return 0;
	case FUZZ_CORPUS:
		o->corpus = v;
		return 0;
	case FUZZ_MERGE:
		if (o->nmerge == MAX_MERGE)
			return usage_error("fuzz", "at most %d --merge directories", MAX_MERGE);
		o->merge[o->nmerge++] = v;
		return 0;
	case FUZZ_FINDINGS:
		o->findings = v;
		return 0;
	case FUZZ_INJECT:
		o->inject = v;
		return check_inject("fuzz", v);
	case FUZZ_PROFILE:
		return set_profile(o, v);
	}
	return set_number(o, id, v);
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct fuzz_options *o)
{
	struct error err = { "" };
	int status, rest;

	memset(o, 0, sizeof(*o));
	o->jobs = 1;
	o->engine_log = true;
	o->corpus = DEFAULT_CORPUS;
	o->findings = DEFAULT_FINDINGS;
	if (fuzz_limits(&o->lim, &err) < 0)
		return usage_error("fuzz", "%s", err.msg);
	status = cli_parse(&fuzz_command, argc, argv, fuzz_apply, o, &rest);
	if (status >= 0)
		return status;
	for (int i = rest; i < argc; i++) {
		if (o->nengine_args == MAX_ENGINE_ARGS)
			return usage_error("fuzz", "more than %d engine arguments",
					   MAX_ENGINE_ARGS);
		o->engine_args[o->nengine_args++] = argv[i];
	}
	if (o->stats && o->engine == ENGINE_AFL)
		return usage_error("fuzz", "--stats needs the libFuzzer engine "
				   "(afl-fuzz restarts its harness, whose tally would be lost)");
	if (o->feedback && o->engine == ENGINE_AFL)
		return usage_error("fuzz", "--feedback needs the libFuzzer engine "
				   "(its extra counters: afl-fuzz sees only edges)");
	if (!o->seconds && !o->runs) /* --time is never 0 */
		o->seconds = DEFAULT_SECONDS;
	if (path_printf(o->nondet, sizeof(o->nondet), &err, "%s/%s", o->findings,
			NONDET_SUBDIR) < 0 ||
	    path_printf(o->dict, sizeof(o->dict), &err, "%s/" LOG_SUBDIR "/epollfuzz.dict",
			o->findings) < 0)
		return usage_error("fuzz", "%s", err.msg);
	return -1;
}

/* ----------------------------------------------------- preparations */

/* The shipped corpus: where the build found it, else ./corpus. */
static const char *shipped_corpus(void)
{
	struct stat st;

	if (stat(EPOLLFUZZ_CORPUS_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return EPOLLFUZZ_CORPUS_DIR;
	return "corpus";
}

/* The format's dictionary, for every job's engine (-dict=, -x). */
static int write_dictionary(const struct fuzz_options *o, struct error *err)
{
	char dir[4096];
	FILE *f;
	int rc;

	if (path_printf(dir, sizeof(dir), err, "%s/" LOG_SUBDIR, o->findings) < 0 ||
	    make_dir(dir, err) < 0)
		return -1;
	if (!(f = fopen(o->dict, "w")))
		return fail(err, "%s: %s", o->dict, strerror(errno));
	rc = fuzz_dict_print(f);
	if (fclose(f) != 0 || rc < 0)
		return fail(err, "%s: cannot write the dictionary", o->dict);
	return 0;
}

/* --merge: each directory's inputs that fit, into the work corpus. */
static int merge_corpora(const struct fuzz_options *o, struct error *err)
{
	for (unsigned i = 0; i < o->nmerge; i++) {
		struct merge_counts n;

		if (corpus_merge(o->corpus, o->merge[i], &o->lim, &n, err) < 0)
			return -1;
		fprintf(stderr, "epollfuzz fuzz: merged %u inputs of %s/ into %s/ (%u there "
			"already, %u outside --threads %u%s%s)\n", n.copied, o->merge[i],
			o->corpus, n.present, n.outside, o->lim.max_threads,
			o->lim.profile ? ", --profile " : "",
			o->lim.profile ? profile_name((enum profile)o->lim.profile) : "");
	}
	return 0;
}

/* Creates the corpus directory, seeded from the shipped corpus when empty,
 * and the findings directory; writes the dictionary; merges --merge. */
static int prepare_dirs(const struct fuzz_options *o)
{
	struct error err = { "" };

	/* The findings directory first: a bad one stops the run before the
	 * corpus is touched. */
	if (make_dir(o->findings, &err) < 0 || make_dir(o->corpus, &err) < 0)
		goto bad;
	if (count_files(o->corpus) == 0) {
		const char *from = shipped_corpus();

		if (seeds_from_traces(o->corpus, from, &o->lim, &err) < 0) {
			/* Half a seed corpus would be taken for a whole one by
			 * the next run: none, so that it seeds again. */
			struct error ignored;

			seeds_remove(o->corpus, &ignored);
			fprintf(stderr, "epollfuzz fuzz: seeding %s/ failed, nothing kept: %s\n",
				o->corpus, err.msg);
			return -1;
		}
		fprintf(stderr, "epollfuzz fuzz: seeded %s/ with %ld programs from %s/ (%u threads)\n",
			o->corpus, count_files(o->corpus), from, o->lim.max_threads);
	}
	if (write_dictionary(o, &err) < 0 || merge_corpora(o, &err) < 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "epollfuzz fuzz: %s\n", err.msg);
	return -1;
}

/* --stats: FINDINGS/logs/stats-jobN.json, job N's tally. */
static int stats_path(const struct fuzz_options *o, unsigned job, char *buf,
		      size_t len)
{
	struct error err;

	return path_printf(buf, len, &err, "%s/" LOG_SUBDIR "/stats-job%u.json",
			   o->findings, job);
}

/* ------------------------------------------------------------- jobs */

/* What the jobs left behind. */
struct jobs_result {
	unsigned failed;  /* jobs that did not end normally */
	unsigned stopped; /* by SIGINT or SIGTERM: asked to, not failed */
	int signal;       /* the stop signal the parent got, or 0 */
	struct fuzz_counts *counts; /* each job's, in memory shared with it */
};

/*
 * The stop signal the parent got while it waits for its jobs.  A signal
 * handler has nowhere else to put it; it only records, the waiting loop
 * acts (forwards the signal to every job that is still running).
 */
static volatile sig_atomic_t stop_signal;

static void note_stop(int sig)
{
	stop_signal = sig;
}

static void catch_stop_signals(bool on)
{
	struct sigaction sa = { .sa_handler = on ? note_stop : SIG_DFL };

	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: waitpid() returns EINTR, and the loop forwards */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void forward_stop(const pid_t *pids, const bool *done, unsigned n,
			 int sig)
{
	for (unsigned k = 0; k < n; k++)
		if (!done[k])
			kill(pids[k], sig);
}

static void note_job_end(unsigned k, int status, const char *engine,
			 struct jobs_result *r)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (r->signal && ((WIFSIGNALED(status) && WTERMSIG(status) == r->signal) ||
			  WIFEXITED(status))) {
		r->stopped++; /* it was told to stop: a clean end */
		return;
	}
	r->failed++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == FUZZ_EXIT_LOST)
		fprintf(stderr, "epollfuzz fuzz: job %u stopped: a finding could not be written\n", k);
	else if (WIFEXITED(status))
		fprintf(stderr, "epollfuzz fuzz: job %u: %s exited with status %d\n",
			k, engine, WEXITSTATUS(status));
	else
		fprintf(stderr, "epollfuzz fuzz: job %u: %s killed by signal %d\n",
			k, engine, WTERMSIG(status));
}

/* Waits for every job; SIGINT or SIGTERM to this process is passed on to
 * the jobs, which stop (libFuzzer and afl-fuzz end cleanly on either), and
 * the summary follows as after a normal end. */
static void wait_jobs(const pid_t *pids, unsigned n, const char *engine,
		      struct jobs_result *r)
{
	bool done[MAX_JOBS] = { false };
	unsigned left = n;

	while (left > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno == EINTR) {
			if (stop_signal && !r->signal) {
				r->signal = stop_signal;
				fprintf(stderr, "epollfuzz fuzz: %s: stopping the jobs\n",
					strsignal(stop_signal));
				forward_stop(pids, done, n, stop_signal);
			}
			continue;
		}
		if (pid < 0)
			break;
		for (unsigned k = 0; k < n; k++)
			if (pids[k] == pid && !done[k]) {
				done[k] = true;
				left--;
				note_job_end(k, status, engine, r);
			}
	}
}

/* In a job, before it starts its engine: it dies with the parent (a kill
 * -9 of `epollfuzz fuzz` ends its jobs, and each job's executors die with
 * the job), even when the parent is already gone. */
static void die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(EXIT_TROUBLE);
	catch_stop_signals(false);
}

/*
 * Starts n jobs (start(o, k) in each child, never returning) and waits for
 * them.  ^C reaches the jobs (one process group) and the parent passes it
 * on as well, as it does SIGTERM; the parent then lists what they found.
 */
static int run_jobs(const struct fuzz_options *o, const char *engine,
		    void (*start)(const struct fuzz_options *, unsigned,
				  struct fuzz_counts *),
		    struct jobs_result *r)
{
	pid_t pids[MAX_JOBS], parent = getpid();
	unsigned started = 0;

	fflush(NULL);
	stop_signal = 0;
	catch_stop_signals(true);
	for (; started < o->jobs && !stop_signal; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "epollfuzz fuzz: fork: %s\n", strerror(errno));
			break;
		}
		if (pid == 0) {
			die_with_parent(parent);
			start(o, started, r->counts ? &r->counts[started] : NULL);
		}
		pids[started] = pid;
	}
	wait_jobs(pids, started, engine, r);
	catch_stop_signals(false);
	return started == o->jobs || r->signal ? 0 : -1;
}

/* A growing argv for an engine. */
struct args {
	char *v[MAX_ARGS + 1];
	unsigned n;
	char text[MAX_ARGS][128];
};

static void args_add(struct args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void args_add(struct args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n == MAX_ARGS)
		return;
	va_start(ap, fmt);
	vsnprintf(a->text[a->n], sizeof(a->text[a->n]), fmt, ap);
	va_end(ap);
	a->v[a->n] = a->text[a->n];
	a->v[++a->n] = NULL;
}

/* Engine arguments given after "--", kept as they are. */
static void args_add_engine_args(struct args *a, const struct fuzz_options *o)
{
	for (unsigned i = 0; i < o->nengine_args && a->n < MAX_ARGS; i++) {
		a->v[a->n] = o->engine_args[i];
		a->v[++a->n] = NULL;
	}
}

/* ------------------------------------------------------- libFuzzer */

#if EPOLLFUZZ_LIBFUZZER
int LLVMFuzzerRunDriver(int *argc, char ***argv,
			int (*user_cb)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The engine's own lines (libFuzzer's INFO, NEW_FUNC and dictionary dumps,
 * a sanitizer's report) go to FINDINGS/logs/libfuzzer-jobN.log, which the
 * summary names: fd 2 is pointed there, and the session tells its status
 * and findings on a copy of the original stderr.  NULL (everything stays
 * on stderr) when the log cannot be made.
 */
static FILE *engine_log(const struct fuzz_options *o, unsigned job)
{
	char dir[4096], path[4200];
	struct error err;
	FILE *console;
	int fd, keep;

	if (path_printf(dir, sizeof(dir), &err, "%s/" LOG_SUBDIR, o->findings) < 0 ||
	    make_dir(dir, &err) < 0 ||
	    path_printf(path, sizeof(path), &err, "%s/libfuzzer-job%u.log", dir, job) < 0)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	keep = fcntl(2, F_DUPFD_CLOEXEC, 3);
	console = keep >= 0 ? fdopen(keep, "w") : NULL;
	if (!console || dup2(fd, 2) < 0) {
		if (console)
			fclose(console);
		close(fd);
		return NULL;
	}
	close(fd);
	setvbuf(console, NULL, _IOLBF, 0);
	return console;
}

static struct fuzz_session *open_job_session(const struct fuzz_options *o,
					     unsigned job,
					     struct fuzz_counts *counts)
{
	static char name[64]; /* the session keeps the pointer: one per process */
	static char stats[4200];
	struct fuzz_config cfg = {
		.name = name, .target = o->target, .inject = o->inject,
		.ntargets = o->ntargets, .reference = o->reference,
		.known = o->known, .shared_counts = counts,
		.findings_dir = o->findings, .nondet_dir = o->nondet,
		.corpus_dir = o->corpus, .lim = o->lim,
		.status_every_s = STATUS_EVERY_S,
		.console = o->engine_log ? engine_log(o, job) : NULL,
		.feedback = o->feedback,
		.schedule_seed = 1 + job + (unsigned)o->seed,
	};
	struct error err = { "" };
	struct fuzz_session *s;

	memcpy(cfg.targets, o->targets, sizeof(cfg.targets));
	if (o->stats && stats_path(o, job, stats, sizeof(stats)) == 0)
		cfg.stats_path = stats;
	if (o->jobs > 1)
		snprintf(name, sizeof(name), "epollfuzz fuzz [job %u]", job);
	else
		snprintf(name, sizeof(name), "epollfuzz fuzz");
	s = fuzz_session_open(&cfg, &err);
	if (!s) {
		fprintf(stderr, "%s: cannot start: %s\n", name, err.msg);
		_exit(EXIT_TROUBLE);
	}
	return s;
}

/*
 * libFuzzer's own lines are quietened (-verbosity=0): the session's status
 * line says what matters.  Crashes it catches itself (a sanitizer report, a
 * timeout) land in the findings directory.
 */
static void libfuzzer_args(struct args *a, const struct fuzz_options *o,
			   unsigned job)
{
	args_add(a, "epollfuzz-fuzz");
	args_add(a, "-verbosity=0");
	args_add(a, "-print_final_stats=0");
	/* A slow program is a hung target, which the watchdog already
	 * reports and restarts: never a "slow unit" finding. */
	args_add(a, "-report_slow_units=%d", 24 * 3600);
	args_add(a, "-timeout=60");
	/* Inputs are programs, and a short one is a poor one: libFuzzer's
	 * ramp from tiny inputs (-len_control) kept a campaign from an empty
	 * corpus to a few ops for most of its first minute.  The mutator
	 * keeps programs within max_ops anyway. */
	args_add(a, "-len_control=0");
	args_add(a, "-artifact_prefix=%s/", o->findings);
	args_add(a, "-dict=%s", o->dict);
	if (o->runs)
		args_add(a, "-runs=%lu", o->runs);
	if (o->seconds)
		args_add(a, "-max_total_time=%lu", o->seconds);
	if (o->seed_given)
		args_add(a, "-seed=%lu", o->seed + job);
	args_add_engine_args(a, o);
	args_add(a, "%s", o->corpus);
}

/*
 * Job k of several runs on the k-th CPU this command may use (modulo their
 * number), with its executor: a job's session and executor wait for each
 * other, so one CPU serves a job, and jobs that the scheduler left on one
 * CPU would share it for good, since the executor follows its session
 * (oracle.c).  One job stays free: its session keeps the executor on its
 * CPU only while a program runs.  AFL++ places its jobs itself.
 */
static void place_job(const struct fuzz_options *o, unsigned job)
{
	cpu_set_t allowed, one;
	unsigned n, k = 0;

	if (o->jobs < 2 || sched_getaffinity(0, sizeof(allowed), &allowed) != 0 ||
	    (n = (unsigned)CPU_COUNT(&allowed)) < 2)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || k++ != job % n)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
		return;
	}
}

__attribute__((noreturn))
static void start_libfuzzer_job(const struct fuzz_options *o, unsigned job,
				struct fuzz_counts *counts)
{
	static struct args a; /* one per process: libFuzzer keeps argv */
	int argc;
	char **argv = a.v;

	place_job(o, job);
	libfuzzer_attach(open_job_session(o, job, counts));
	libfuzzer_args(&a, o, job);
	argc = (int)a.n;
	exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput));
}

static int run_libfuzzer(const struct fuzz_options *o, struct jobs_result *r)
{
	return run_jobs(o, "libFuzzer", start_libfuzzer_job, r);
}
#else
static int run_libfuzzer(const struct fuzz_options *o, struct jobs_result *r)
{
	fputs("epollfuzz fuzz: THIS BUILD HAS NO FUZZING ENGINE.\n"
	      "The libFuzzer engine needs epollfuzz built with clang and libFuzzer:\n"
	      "  apt-get install clang libclang-rt-14-dev   # Debian 12\n"
	      "  CC=clang meson setup build-fuzz -Dfuzzing=enabled && ninja -C build-fuzz\n"
	      "  build-fuzz/cli/epollfuzz fuzz\n"
	      "(or ./setup.sh fuzz); with afl++ installed, such a build also has --engine afl.\n",
	      stderr);
	return -1;
}
#endif

/* ----------------------------------------------------------- AFL++ */

/* The AFL++ pieces this build made: afl-fuzz, the instrumented harness of
 * the target, the custom mutator library. */
struct afl_pieces {
	char fuzz[4096], harness[4096], mutator[4096];
};

static bool is_file(const char *path)
{
	struct stat st;

	return path[0] && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int find_afl_pieces(const struct fuzz_options *o, struct afl_pieces *a)
{
	const char *harness = o->target == FUZZ_TARGET_DIFF ? "afl_fuzz_diff"
							   : "afl_fuzz_model";
	struct error err = { "" };
	bool ok;

	snprintf(a->fuzz, sizeof(a->fuzz), "%s", EPOLLFUZZ_AFL_FUZZ);
	ok = path_printf(a->harness, sizeof(a->harness), &err, "%s/%s",
			 EPOLLFUZZ_AFL_DIR, harness) == 0 &&
	     path_printf(a->mutator, sizeof(a->mutator), &err,
			 "%s/libepollfuzz_afl_mutator.so", EPOLLFUZZ_AFL_DIR) == 0;
	if (ok && !is_file(a->mutator))
		snprintf(a->mutator, sizeof(a->mutator), "%s/epollfuzz_afl_mutator.so",
			 EPOLLFUZZ_AFL_DIR);
	if (ok && is_file(a->fuzz) && is_file(a->harness) && is_file(a->mutator))
		return 0;
	fprintf(stderr, "epollfuzz fuzz: THIS BUILD HAS NO AFL++ ENGINE:%s%s%s%s\n"
		"Install afl++ (apt-get install afl++), build with clang so that the\n"
		"harness and the custom mutator are made, and run this build's epollfuzz:\n"
		"  CC=clang meson setup build-fuzz -Dfuzzing=enabled && ninja -C build-fuzz\n",
		EPOLLFUZZ_AFL_DIR[0] ? "" : " the build found no afl-clang-fast",
		is_file(a->fuzz) ? "" : " no afl-fuzz;",
		EPOLLFUZZ_AFL_DIR[0] && !is_file(a->harness) ? " no harness;" : "",
		EPOLLFUZZ_AFL_DIR[0] && !is_file(a->mutator) ? " no custom mutator;" : "");
	return -1;
}

/* One process of the AFL++ cluster keeps the pieces: afl_job. */
static struct afl_pieces afl_job;

static void set_env(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
}

/* What afl-fuzz needs to run unattended, and what the harness reads. */
static void afl_environment(const struct fuzz_options *o)
{
	char threads[16];

	snprintf(threads, sizeof(threads), "%u", o->lim.max_threads);
	set_env("AFL_CUSTOM_MUTATOR_LIBRARY", afl_job.mutator);
	set_env("AFL_NO_UI", "1");
	set_env("AFL_SKIP_CPUFREQ", "1");
	set_env("AFL_NO_AFFINITY", "1");
	set_env("AFL_AUTORESUME", "1");
	set_env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1");
	set_env("EPOLLFUZZ_THREADS", threads);
	set_env("EPOLLFUZZ_FINDINGS", o->findings);
	set_env("EPOLLFUZZ_NONDET_DIR", o->nondet);
	/* One target at most through the environment (AFL_TARGET_ENV). */
	if (o->ntargets)
		set_env("EPOLLFUZZ_TARGET", o->targets[0]);
	set_env("EPOLLFUZZ_REFERENCE", o->reference);
	set_env("EPOLLFUZZ_KNOWN", o->known);
	if (o->inject)
		set_env("EPOLLFUZZ_INJECT", o->inject);
	else
		unsetenv("EPOLLFUZZ_INJECT");
}

/* -M main for the first job, -S secN for the others, one output folder. */
static void afl_args(struct args *a, const struct fuzz_options *o, unsigned job)
{
	args_add(a, "%s", afl_job.fuzz);
	args_add(a, "-i");
	args_add(a, "%s", o->corpus);
	args_add(a, "-o");
	args_add(a, "%s-afl", o->corpus);
	if (job == 0)
		args_add(a, "-M"), args_add(a, "main");
	else
		args_add(a, "-S"), args_add(a, "sec%u", job);
	args_add(a, "-t");
	args_add(a, "20000");
	args_add(a, "-x");
	args_add(a, "%s", o->dict);
	if (o->seconds)
		args_add(a, "-V"), args_add(a, "%lu", o->seconds);
	if (o->runs)
		args_add(a, "-E"), args_add(a, "%lu", o->runs);
	if (o->seed_given)
		args_add(a, "-s"), args_add(a, "%lu", o->seed + job);
	args_add_engine_args(a, o);
	args_add(a, "--");
	args_add(a, "%s", afl_job.harness);
}

__attribute__((noreturn))
static void start_afl_job(const struct fuzz_options *o, unsigned job,
			  struct fuzz_counts *counts)
{
	static struct args a;

	(void)counts; /* afl-fuzz runs the harness in processes of its own */
	afl_environment(o);
	afl_args(&a, o, job);
	execv(a.v[0], a.v);
	fprintf(stderr, "epollfuzz fuzz: %s: %s\n", a.v[0], strerror(errno));
	_exit(EXIT_TROUBLE);
}

static int run_afl(const struct fuzz_options *o, struct jobs_result *r)
{
	if (find_afl_pieces(o, &afl_job) < 0)
		return -1;
	fprintf(stderr, "epollfuzz fuzz: afl-fuzz on %s, output in %s-afl/\n",
		afl_job.harness, o->corpus);
	return run_jobs(o, "afl-fuzz", start_afl_job, r);
}

/* --------------------------------------------------------- findings */

/* Not a finding: temporary files, the raw inputs beside findings, and
 * libFuzzer's slow-unit files (a slow program is a target that hung). */
static bool is_tmp_or_input(const char *name)
{
	size_t n = strlen(name);

	return strstr(name, ".tmp.") || strncmp(name, "slow-unit-", 10) == 0 ||
	       (n > 4 && strcmp(name + n - 4, ".bin") == 0);
}

static bool newer_than(const struct stat *st, const struct timespec *t)
{
	return st->st_mtim.tv_sec > t->tv_sec ||
	       (st->st_mtim.tv_sec == t->tv_sec && st->st_mtim.tv_nsec >= t->tv_nsec);
}

/* What list_finding() counts. */
struct findings_seen {
	const struct timespec *since;
	unsigned n;
	char **json;   /* the .json findings among them, to minimise */
	unsigned njson;
};

/* Prints a file of the findings directory written or seen again (touched)
 * since the run started: findings, and crash files an engine wrote. */
static bool is_json(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && strcmp(path + n - 5, ".json") == 0;
}

/* Prints a file of the findings directory written or seen again (touched)
 * since the run started: findings, and crash files an engine wrote. */
static int list_finding(const char *path, const void *arg, struct error *err)
{
	struct findings_seen *seen = (struct findings_seen *)arg;
	const char *name = strrchr(path, '/');
	struct stat st;
	char **grown;

	if (is_tmp_or_input(name ? name + 1 : path) || stat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode) || !newer_than(&st, seen->since))
		return 0;
	printf("  %s\n", path);
	seen->n++;
	if (!is_json(path))
		return 0;
	grown = realloc(seen->json, (seen->njson + 1) * sizeof(*grown));
	if (!grown || !(grown[seen->njson] = strdup(path))) {
		free(grown ? grown : seen->json);
		seen->json = NULL;
		seen->njson = 0;
		return fail(err, "out of memory");
	}
	seen->json = grown;
	seen->njson++;
	return 0;
}

/* The .bin beside a minimised finding, encoded again from its program, so
 * that the pair still describes one program. */
static void reencode_input(const struct fuzz_options *o, const char *json_path)
{
	struct program p;
	struct error err;
	uint8_t *bytes = NULL;
	size_t len = 0;
	char bin[4096];

	if (trace_load_file(json_path, &p, NULL, &err) < 0)
		return;
	if (snprintf(bin, sizeof(bin), "%.*s.bin", (int)(strlen(json_path) - 5),
		     json_path) < (int)sizeof(bin) &&
	    program_encode(&p, &o->lim, &bytes, &len) == 0 &&
	    write_atomically(bin, bytes, len, &err) < 0)
		fprintf(stderr, "epollfuzz fuzz: %s\n", err.msg);
	free(bytes);
	program_free(&p);
}

/* Each finding written or seen during the run, minimised in place. */
static void minimize_findings(const struct fuzz_options *o,
			      const struct findings_seen *seen)
{
	if (o->no_minimize || seen->njson == 0)
		return;
	fprintf(stderr, "epollfuzz fuzz: minimising %u finding%s\n", seen->njson,
		seen->njson == 1 ? "" : "s");
	for (unsigned i = 0; i < seen->njson; i++)
		if (minimize_in_place(seen->json[i], o->inject) == EXIT_AGREE)
			reencode_input(o, seen->json[i]);
}

static unsigned list_findings(const struct fuzz_options *o,
			      const struct timespec *since, bool stopped)
{
	struct findings_seen seen = { since, 0, NULL, 0 };
	struct error err = { "" };

	printf("findings in %s/ from this run:\n", o->findings);
	if (for_each_in_dir(o->findings, "", list_finding, &seen, &err) < 0)
		fprintf(stderr, "epollfuzz fuzz: %s\n", err.msg);
	if (seen.n == 0)
		printf("  (none)\n");
	fflush(stdout);
	if (!stopped) /* asked to stop: not now */
		minimize_findings(o, &seen);
	for (unsigned i = 0; i < seen.njson; i++)
		free(seen.json[i]);
	free(seen.json);
	return seen.n;
}

/* The jobs' counts, summed (from the memory they share with us). */
static struct fuzz_counts sum_counts(const struct fuzz_options *o,
				     const struct jobs_result *r)
{
	struct fuzz_counts t = { 0 };

	for (unsigned k = 0; r->counts && k < o->jobs; k++) {
		t.runs += r->counts[k].runs;
		t.findings += r->counts[k].findings;
		t.nondeterministic += r->counts[k].nondeterministic;
		t.unsupported += r->counts[k].unsupported;
		t.known += r->counts[k].known;
		t.lost += r->counts[k].lost;
		t.failures += r->counts[k].failures;
	}
	return t;
}

static void print_summary(const struct fuzz_options *o, unsigned found,
			  long nondet, double secs, const struct jobs_result *r)
{
	struct fuzz_counts c = sum_counts(o, r);
	char targets[512] = "";

	for (unsigned k = 0; k < o->ntargets; k++)
		snprintf(targets + strlen(targets), sizeof(targets) - strlen(targets),
			 "%s%s", k ? " " : "", o->targets[k]);
	printf("epollfuzz fuzz: %s, target %s%s%s, %u job%s, %.0f s",
	       o->engine == ENGINE_AFL ? "afl" : "libfuzzer",
	       o->target == FUZZ_TARGET_MODEL ? "model" : o->ntargets ? targets : "diff",
	       o->inject && *o->inject ? ", inject " : "", o->inject ? o->inject : "", o->jobs,
	       o->jobs == 1 ? "" : "s", secs);
	if (r->counts)
		printf(", %lu programs", c.runs);
	printf(": %u finding%s, %ld nondeterministic program%s in %s/",
	       found, found == 1 ? "" : "s", nondet < 0 ? 0 : nondet,
	       nondet == 1 ? "" : "s", o->nondet);
	if (c.known)
		printf(", %lu known", c.known);
	if (c.failures)
		printf(", %lu target failure%s (programs skipped)", c.failures,
		       c.failures == 1 ? "" : "s");
	if (c.lost)
		printf(", %lu finding%s LOST (could not be written)", c.lost,
		       c.lost == 1 ? "" : "s");
	if (r->failed)
		printf(", %u job%s failed", r->failed, r->failed == 1 ? "" : "s");
	if (r->signal)
		printf(" (stopped by %s)", strsignal(r->signal));
	putchar('\n');
	if (o->engine == ENGINE_LIBFUZZER && o->engine_log)
		printf("epollfuzz fuzz: libFuzzer's own output: %s/" LOG_SUBDIR "/libfuzzer-job*.log\n",
		       o->findings);
}

/* A previous run's tallies are not this run's. */
static void remove_stats(const struct fuzz_options *o)
{
	char path[4200];

	for (unsigned k = 0; o->stats && k < MAX_JOBS; k++)
		if (stats_path(o, k, path, sizeof(path)) == 0)
			unlink(path);
}

/* The jobs' tallies, summed, and the report. */
static void print_stats(const struct fuzz_options *o)
{
	struct fuzz_stats *st = calloc(1, sizeof(*st));
	char path[4200];
	unsigned read = 0;

	if (!st) {
		fprintf(stderr, "epollfuzz fuzz: --stats: out of memory\n");
		return;
	}
	for (unsigned k = 0; k < o->jobs; k++) {
		struct error err = { "" };

		if (stats_path(o, k, path, sizeof(path)) < 0 ||
		    fuzz_stats_read_add(st, path, &err) < 0)
			fprintf(stderr, "epollfuzz fuzz: --stats: job %u left no tally: %s\n",
				k, err.msg);
		else
			read++;
	}
	if (read)
		fuzz_stats_print(stdout, st);
	free(st);
}

/* Memory the jobs write their counts into, and the parent reads. */
static struct fuzz_counts *shared_counts(unsigned jobs)
{
	void *m = mmap(NULL, jobs * sizeof(struct fuzz_counts),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* ------------------------------------------------------------- main */

int cmd_fuzz(int argc, char **argv)
{
	struct fuzz_options o;
	struct jobs_result r = { 0 };
	struct timespec since, end;
	unsigned found;
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	if (o.engine == ENGINE_LIBFUZZER && !EPOLLFUZZ_LIBFUZZER) {
		run_libfuzzer(&o, &r); /* says there is no engine */
		return EXIT_TROUBLE;
	}
	if (prepare_dirs(&o) < 0)
		return EXIT_TROUBLE;
	remove_stats(&o);
	r.counts = o.engine == ENGINE_LIBFUZZER ? shared_counts(o.jobs) : NULL;
	clock_gettime(CLOCK_REALTIME, &since);
	since.tv_nsec -= since.tv_nsec % 1000000; /* some file systems round */
	if ((o.engine == ENGINE_AFL ? run_afl(&o, &r) : run_libfuzzer(&o, &r)) < 0 &&
	    r.failed == 0)
		return EXIT_TROUBLE;
	clock_gettime(CLOCK_REALTIME, &end);
	found = list_findings(&o, &since, r.signal != 0);
	print_summary(&o, found, count_files(o.nondet),
		      (double)(end.tv_sec - since.tv_sec), &r);
	if (o.stats)
		print_stats(&o);
	status = r.failed ? EXIT_TROUBLE : found ? EXIT_FINDING : EXIT_AGREE;
	if (r.counts)
		munmap(r.counts, o.jobs * sizeof(*r.counts));
	return status;
}

static const struct cli_command inject_command = {
	.name = "inject",
	.usage = "",
	.about = "Lists the bugs that can be injected into the model (epollfuzz fuzz --inject\n"
		 "NAME, EPOLLFUZZ_INJECT=NAME): one line 'NAME: what it breaks' each.\n",
};

static int inject_apply(void *ctx, int id, const char *value)
{
	return usage_error("inject", "unexpected argument '%s'", value);
}

int cmd_inject(int argc, char **argv)
{
	const struct injected_bug *bugs = model_injected_bugs();
	int status = cli_parse(&inject_command, argc, argv, inject_apply, NULL, NULL);

	if (status >= 0)
		return status;
	for (unsigned k = 0; k < INJECT_COUNT; k++)
		printf("%s: %s\n", bugs[k].name, bugs[k].what);
	return EXIT_AGREE;
}
