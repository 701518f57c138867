/*
 * cmd_conform.c - `epollfuzz conform`: how far a target conforms to Linux,
 * area by area, over a corpus of traces.
 *
 * Every trace directly in the corpus directory (the shipped corpus unless
 * --corpus says otherwise; corpus/racy/ is left out, since those traces race
 * on Linux itself) runs on the reference and on the target through one
 * target set (targets/), is judged, and counts once in every area its
 * program touches (the classifier below).  The report is a table of
 * counts by area and one line per trace that did not pass, or JSON, and
 * optionally a JUnit file for CI dashboards.
 *
 * A trace's result is one of
 *   pass         the target agrees with the reference;
 *   known        it departs, in a way --known lists;
 *   unsupported  it reports a step it cannot run;
 *   fail         it departs (or breaks an invariant of its own);
 *   error        it failed to run the trace at all (crashed, hung), and
 *                restarted for the next one.
 * Exit status: 0 when every trace passed or is known; 1 when any failed,
 * was unsupported (a target that cannot run a trace does not conform to it;
 * list it in --known to accept it) or ended in error; 2 on bad usage or
 * input, or when the reference itself failed to run a trace (the report
 * says nothing true about the target then).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "cli.h"
#include "fdsim.h"

#ifndef EPOLLFUZZ_CORPUS_DIR
#define EPOLLFUZZ_CORPUS_DIR "corpus"
#endif

#define CMD "conform"
#define PROGRESS_EVERY_S 5
#define NAME_MAX_LEN 256
#define TEXT_MAX 1024

struct conform_options {
	const char *targets[TARGET_SET_MAX];
	unsigned ntargets;
	const char *reference; /* NULL: linux */
	const char *corpus;    /* NULL: the shipped corpus */
	const char *known;     /* --known FILE, or NULL */
	const char *junit;     /* --junit FILE, or NULL */
	bool json, quiet;
};

enum { CONFORM_TARGET, CONFORM_REFERENCE, CONFORM_CORPUS, CONFORM_KNOWN,
       CONFORM_JUNIT, CONFORM_JSON, CONFORM_QUIET };

static const struct cli_option conform_option_table[] = {
	{ "target", 0, "SPEC", "the implementation to check (repeatable)",
	  CONFORM_TARGET },
	{ "reference", 0, "SPEC",
	  "what it is compared with (default: linux; recorded: the outcome "
	  "each trace holds)", CONFORM_REFERENCE },
	{ "corpus", 0, "DIR",
	  "the traces to run (default: the shipped corpus)", CONFORM_CORPUS },
	{ "known", 0, "FILE",
	  "known divergences (docs/known.md): a trace whose first divergence "
	  "matches an entry counts as known, not failed", CONFORM_KNOWN },
	{ "junit", 0, "FILE",
	  "also write a JUnit XML report: one testcase per trace and area; a "
	  "failure holds the first divergence, unsupported and known traces "
	  "are skipped", CONFORM_JUNIT },
	{ "json", 0, NULL,
	  "print a JSON report instead of the table: {target, targets, "
	  "reference, kernel, corpus, areas: {AREA: {title, pass, fail, "
	  "unsupported, known, error}}, all: {...}, traces: [{name, file, "
	  "areas, result, verdict, text}]}", CONFORM_JSON },
	{ "quiet", 0, NULL, "print only the summary line", CONFORM_QUIET },
};

static const struct cli_command conform_command = {
	.name = CMD,
	.usage = " --target SPEC [--target SPEC]... [--reference SPEC]\n"
		 "                         [--corpus DIR] [--known FILE] [--junit FILE]\n"
		 "                         [--json] [--quiet]",
	.about = "Runs every trace of a corpus (*.json directly in the directory; the shipped\n"
		 "corpus by default, without racy/) on the reference and on the target, judges\n"
		 "each, and prints a conformance table by area (errno order, ready-list order,\n"
		 "LT/ET/ONESHOT/EXCLUSIVE, nesting, close/dup lifetimes, blocking and wake\n"
		 "order, and one area per fd kind; a trace counts in every area it touches),\n"
		 "then each trace that did not pass with its first divergence.\n",
	.options = CLI_OPTIONS(conform_option_table),
	.list_targets = true,
	.epilogue = "Exit status: 0 every trace passed or is known, 1 a trace failed, was\n"
		    "unsupported or made the target fail, 2 bad input or usage, or a reference\n"
		    "that failed to run a trace.\n",
};

/* ----------------------------------------------------------- options */

static int add_target(struct conform_options *o, const char *spec)
{
	if (o->ntargets == TARGET_SET_MAX - 1) /* the reference takes a slot */
		return usage_error(CMD, "at most %d targets", TARGET_SET_MAX - 1);
	o->targets[o->ntargets++] = spec;
	return 0;
}

static int conform_apply(void *ctx, int id, const char *value)
{
	struct conform_options *o = ctx;

	switch (id) {
	case CLI_OPERAND:
		return usage_error(CMD, "unexpected argument '%s' (the traces come from --corpus DIR)",
				   value);
	case CONFORM_TARGET:
		return add_target(o, value);
	case CONFORM_REFERENCE:
		o->reference = value;
		break;
	case CONFORM_CORPUS:
		o->corpus = value;
		break;
	case CONFORM_KNOWN:
		o->known = value;
		break;
	case CONFORM_JUNIT:
		o->junit = value;
		break;
	case CONFORM_JSON:
		o->json = true;
		break;
	case CONFORM_QUIET:
		o->quiet = true;
		break;
	}
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct conform_options *o)
{
	int status;

	memset(o, 0, sizeof(*o));
	status = cli_parse(&conform_command, argc, argv, conform_apply, o, NULL);
	if (status >= 0)
		return status;
	if (o->ntargets == 0)
		return usage_error(CMD, "no --target given: name the implementation to check");
	return -1;
}

/* ------------------------------------------------------------ text */

/* The length of the valid UTF-8 sequence at s, or 0: no overlong forms,
 * surrogates or code points above U+10FFFF (jansson refuses those). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 :
		   s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/*
 * Copies in to out as one printable line that JSON and XML accept: blanks
 * (a target's message may quote an emulator's stderr) become spaces, other
 * control bytes and bytes that are not UTF-8 become '?'.
 */
static void clean_text(const char *in, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t used = 0;

	while (*s && used + 1 < len) {
		size_t n = utf8_len(s);

		if (n == 1 && (*s == '\n' || *s == '\r' || *s == '\t'))
			out[used++] = ' ';
		else if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f)))
			out[used++] = '?';
		else if (used + n < len) {
			memcpy(out + used, s, n);
			used += n;
		} else
			break;
		s += n ? n : 1;
	}
	out[used] = '\0';
}

/* ----------------------------------------------------------- corpus */

/* The corpus this build ships, or ./corpus when the build's source tree
 * is gone (an installed binary run from a checkout).  Its racy/ is not
 * read: only files directly in the directory are. */
static const char *shipped_corpus(void)
{
	struct stat st;

	if (stat(EPOLLFUZZ_CORPUS_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return EPOLLFUZZ_CORPUS_DIR;
	return "corpus";
}

struct corpus {
	unsigned n;
	char **paths;
	char **names; /* file names without ".json": the traces' names */
	struct program *progs;
	struct outcome *recs; /* what each trace recorded, maybe nothing */
};

/* Frees what there is, also of a corpus loaded halfway. */
static void corpus_free(struct corpus *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		free(c->paths[i]);
		if (c->names)
			free(c->names[i]);
		if (c->progs)
			program_free(&c->progs[i]);
		if (c->recs)
			outcome_free(&c->recs[i]);
	}
	free(c->paths);
	free(c->names);
	free(c->progs);
	free(c->recs);
	memset(c, 0, sizeof(*c));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* Appends dir/file to c's paths (grown as needed) when it is a trace: a
 * regular file named *.json. */
static int add_if_trace(struct corpus *c, unsigned *cap, const char *dir,
			const char *file, struct error *err)
{
	char path[4096];
	struct stat st;

	if (!has_json_suffix(file))
		return 0;
	if (path_printf(path, sizeof(path), err, "%s/%s", dir, file) < 0)
		return -1;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (c->n == *cap) {
		unsigned grown = *cap ? *cap * 2 : 64;
		char **p = realloc(c->paths, grown * sizeof(*p));

		if (!p)
			return fail(err, "out of memory");
		c->paths = p;
		*cap = grown;
	}
	if (!(c->paths[c->n] = strdup(path)))
		return fail(err, "out of memory");
	c->n++;
	return 0;
}

/* The *.json regular files directly in dir, sorted by name. */
static int corpus_list(struct corpus *c, const char *dir, struct error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned cap = 0;
	int rc = 0;

	if (!d)
		return fail(err, "--corpus %s: %s", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)))
		rc = add_if_trace(c, &cap, dir, e->d_name, err);
	closedir(d);
	if (rc == 0 && c->n == 0)
		rc = fail(err, "%s: no *.json traces there", dir);
	if (rc == 0)
		qsort(c->paths, c->n, sizeof(*c->paths), by_name);
	return rc;
}

/* "dir/epoll_ctl-ebadf-fd.json" is named "epoll_ctl-ebadf-fd". */
static char *trace_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char raw[NAME_MAX_LEN], name[NAME_MAX_LEN];

	snprintf(raw, sizeof(raw), "%.*s", (int)(strlen(base) - 5), base);
	clean_text(raw, name, sizeof(name));
	return strdup(name);
}

/* Loads every trace or none: bad input costs exit 2 before anything runs. */
static int corpus_load(struct corpus *c, const char *dir, struct error *err)
{
	memset(c, 0, sizeof(*c));
	if (corpus_list(c, dir, err) < 0)
		goto bad;
	c->names = calloc(c->n, sizeof(*c->names));
	c->progs = calloc(c->n, sizeof(*c->progs));
	c->recs = calloc(c->n, sizeof(*c->recs));
	if (!c->names || !c->progs || !c->recs) {
		fail(err, "out of memory");
		goto bad;
	}
	for (unsigned i = 0; i < c->n; i++) { /* so that corpus_free() may run */
		program_init(&c->progs[i]);
		outcome_init(&c->recs[i]);
	}
	for (unsigned i = 0; i < c->n; i++) {
		if (!(c->names[i] = trace_name(c->paths[i]))) {
			fail(err, "out of memory");
			goto bad;
		}
		if (trace_load_file(c->paths[i], &c->progs[i], &c->recs[i], err) < 0)
			goto bad;
		if (c->recs[i].nsteps)
			c->progs[i].recorded = &c->recs[i];
	}
	return 0;
bad:
	corpus_free(c);
	return -1;
}

/* The recorded target replays what a trace holds: every trace must hold
 * an outcome when it is in the set, or the run would fail halfway. */
static int check_recordings(const struct target_set *s, const struct corpus *c,
			    struct error *err)
{
	bool wanted = false;

	for (unsigned k = 0; k < s->n; k++)
		wanted |= s->spec[k].ops == &recorded_target;
	for (unsigned i = 0; wanted && i < c->n; i++)
		if (!c->progs[i].recorded)
			return fail(err, "%s: no \"outcome\" for the recorded target to replay "
				    "(run --target linux --json writes a trace with one)",
				    c->paths[i]);
	return 0;
}

/* ------------------------------------------------------------ areas */

/*
 * The areas a trace counts in.  A trace is in an area when its program
 * does what the area is about (a fact, gathered in one walk over its ops
 * and the reference's outcome), or when its file name holds one of the
 * area's name parts as whole '-'-separated tokens (the corpus names traces
 * by topic, corpus/README.md).  A trace may count in several areas; one in
 * none counts in "other".
 *
 *   area                     facts                        name parts
 *   errno order              a call the reference failed  any errno ("ebadf"),
 *                                                         errno, errors
 *   ready-list order         an epoll_wait reporting 2+   ready-list, add-order,
 *                            events, or with maxevents    round-robin
 *                            below its epoll's interests
 *   LT/ET/ONESHOT/EXCLUSIVE  EPOLLET, EPOLLONESHOT or      lt, et, oneshot,
 *                            EPOLLEXCLUSIVE in an ADD or  exclusive
 *                            MOD's events
 *   nesting                  an epoll_ctl whose fd is an  nest, nested, eloop
 *                            epoll
 *   close/dup lifetimes      dup/dup2/dup3/close of a     dup, dup2, dup3,
 *                            watched fd or an epoll fd,   dangling, final-close
 *                            or dup2/dup3 onto one
 *   blocking and wake order  threads > 1, or an           mt
 *                            epoll_wait with timeout != 0
 *   pipe, eventfd            pipe2, eventfd               pipe, pipe2, eventfd
 *   unix stream/dgram/       socketpair of that type      unix-stream, unix-dgram,
 *   seqpacket                                             unix-seqpacket
 *
 * fd numbers come from the reference's results when it ran (exact, failed
 * calls included); otherwise every call is taken to succeed with the lowest
 * free number.  "Watched" means added and not deleted; the interests that
 * a last close removes are not tracked: the facts choose areas, no more.
 */
enum area {
	AREA_ERRNO,
	AREA_READY,
	AREA_TRIGGER,
	AREA_NESTING,
	AREA_LIFETIME,
	AREA_BLOCKING,
	AREA_PIPE,
	AREA_EVENTFD,
	AREA_STREAM,
	AREA_DGRAM,
	AREA_SEQPACKET,
	AREA_OTHER, /* none of the above */
	AREA_COUNT
};

enum fact {
	FACT_ERROR_RESULT = 1 << 0,
	FACT_SEVERAL_READY = 1 << 1,
	FACT_TRIGGER_FLAGS = 1 << 2,
	FACT_EPOLL_IN_EPOLL = 1 << 3,
	FACT_LIFETIME_OP = 1 << 4,
	FACT_THREADS = 1 << 5,
	FACT_BLOCKING_WAIT = 1 << 6,
	FACT_PIPE = 1 << 7,
	FACT_EVENTFD = 1 << 8,
	FACT_STREAM = 1 << 9,
	FACT_DGRAM = 1 << 10,
	FACT_SEQPACKET = 1 << 11,
};

/* A name part that matches any token naming an errno ("einval"). */
#define ERRNO_TOKEN "E*"
#define AREA_MAX_NAMES 6

struct area_rule {
	const char *id;    /* for JSON and JUnit: "errno" */
	const char *title; /* for the table: "errno order" */
	unsigned facts;    /* any of these puts a trace in the area */
	/* ... and so does any of these '-'-separated parts of its name */
	const char *names[AREA_MAX_NAMES];
};

static const struct area_rule area_rules[AREA_COUNT] = {
	[AREA_ERRNO] = { "errno", "errno order", FACT_ERROR_RESULT,
			 { ERRNO_TOKEN, "errno", "errors" } },
	[AREA_READY] = { "ready-list", "ready-list order", FACT_SEVERAL_READY,
			 { "ready-list", "add-order", "round-robin" } },
	[AREA_TRIGGER] = { "trigger", "LT/ET/ONESHOT/EXCLUSIVE", FACT_TRIGGER_FLAGS,
			   { "lt", "et", "oneshot", "exclusive" } },
	[AREA_NESTING] = { "nesting", "nesting", FACT_EPOLL_IN_EPOLL,
			   { "nest", "nested", "eloop" } },
	[AREA_LIFETIME] = { "lifetimes", "close/dup lifetimes", FACT_LIFETIME_OP,
			    { "dup", "dup2", "dup3", "dangling", "final-close", "close_range" } },
	[AREA_BLOCKING] = { "blocking", "blocking and wake order",
			    FACT_THREADS | FACT_BLOCKING_WAIT, { "mt" } },
	[AREA_PIPE] = { "pipe", "pipe", FACT_PIPE, { "pipe", "pipe2" } },
	[AREA_EVENTFD] = { "eventfd", "eventfd", FACT_EVENTFD, { "eventfd" } },
	[AREA_STREAM] = { "unix-stream", "unix stream", FACT_STREAM, { "unix-stream" } },
	[AREA_DGRAM] = { "unix-dgram", "unix dgram", FACT_DGRAM, { "unix-dgram" } },
	[AREA_SEQPACKET] = { "unix-seqpacket", "unix seqpacket", FACT_SEQPACKET,
			     { "unix-seqpacket" } },
	[AREA_OTHER] = { "other", "other", 0, { NULL } },
};

/* Whether a '-'-separated token of the name is an errno ("ebadf"). */
static bool name_has_errno(const char *name)
{
	char tok[32];

	while (*name) {
		size_t n = strcspn(name, "-");

		if (n > 1 && n < sizeof(tok) && name[0] == 'e' &&
		    isalpha((unsigned char)name[1])) {
			for (size_t i = 0; i < n; i++)
				tok[i] = (char)toupper((unsigned char)name[i]);
			tok[n] = '\0';
			if (errno_from_name(tok) >= 0)
				return true;
		}
		name += n + (name[n] == '-');
	}
	return false;
}

/* Whether part ("ready-list") is a run of whole tokens of the name. */
static bool name_has_part(const char *name, const char *part)
{
	char padded_name[NAME_MAX_LEN + 2], padded_part[64];

	if (strcmp(part, ERRNO_TOKEN) == 0)
		return name_has_errno(name);
	snprintf(padded_name, sizeof(padded_name), "-%s-", name);
	snprintf(padded_part, sizeof(padded_part), "-%s-", part);
	return strstr(padded_name, padded_part) != NULL;
}

/* What the classifier believes an fd number holds. */
enum file_kind { FILE_OTHER, FILE_EPOLL };

struct file_info {
	uint8_t kind;       /* enum file_kind */
	uint16_t watched;   /* interests that watch it */
	uint16_t interests; /* an epoll's interests */
};

#define SCAN_MAX_FILES (2 * MAX_OPS + FD_INITIAL_OPEN + 1)

/* The walk over one program: an fd table of file numbers (0: free). */
struct scan {
	const struct outcome *ref; /* the reference's outcome, or NULL */
	uint16_t fd[FD_LIMIT];
	struct file_info file[SCAN_MAX_FILES]; /* [0] unused */
	unsigned nfiles;
	unsigned facts;
};

static bool fd_ok(int64_t fd)
{
	return fd >= 0 && fd < FD_LIMIT;
}

/* The file an fd number holds, or NULL. */
static struct file_info *file_at(struct scan *s, int64_t fd)
{
	return fd_ok(fd) && s->fd[fd] ? &s->file[s->fd[fd]] : NULL;
}

static int lowest_free(const struct scan *s)
{
	for (int fd = 0; fd < FD_LIMIT; fd++)
		if (!s->fd[fd])
			return fd;
	return -1;
}

static void new_file(struct scan *s, int64_t fd, enum file_kind kind)
{
	if (!fd_ok(fd) || s->nfiles + 1 >= SCAN_MAX_FILES)
		return;
	s->fd[fd] = (uint16_t)++s->nfiles;
	s->file[s->nfiles] = (struct file_info){ .kind = (uint8_t)kind };
}

/* The reference's record of step i, or NULL when there is none. */
static const struct step_record *record_of(const struct scan *s, uint32_t i)
{
	const struct outcome *o = s->ref;

	if (!o)
		return NULL;
	if (i < o->nsteps && o->steps[i].step == i)
		return &o->steps[i];
	for (uint32_t r = 0; r < o->nsteps; r++)
		if (o->steps[r].step == i)
			return &o->steps[r];
	return NULL;
}

/*
 * The result op i had in the reference (NULL when it has none), and
 * whether the op took effect: it returned, and not an error.  Without a
 * reference outcome every op is taken to succeed.
 */
static bool op_took_effect(const struct scan *s, uint32_t i,
			   const struct result **res)
{
	const struct step_record *r = record_of(s, i);

	*res = NULL;
	if (!s->ref)
		return true;
	if (!r || r->state != STEP_DONE)
		return false;
	*res = &r->res;
	return r->res.ret >= 0;
}

/* The fd(s) a call that makes one or two got: from the reference's
 * result, else the lowest free numbers. */
static void new_fds(struct scan *s, const struct result *res, int nfds,
		    enum file_kind kind)
{
	if (res && nfds == 2 && (res->has & RES_FDS)) {
		new_file(s, res->fds[0], kind);
		new_file(s, res->fds[1], kind);
	} else if (res && nfds == 1) {
		new_file(s, res->ret, kind);
	} else {
		for (int k = 0; k < nfds; k++)
			new_file(s, lowest_free(s), kind);
	}
}

/* Whether an fd names a file a lifetime question is about. */
static bool fd_in_play(struct scan *s, int64_t fd)
{
	const struct file_info *f = file_at(s, fd);

	return f && (f->watched || f->kind == FILE_EPOLL);
}

static void scan_ctl(struct scan *s, const struct op *op, bool done)
{
	const uint32_t triggers = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE;
	struct file_info *ep = file_at(s, op->f[F_EPFD]);
	struct file_info *target = file_at(s, op->f[F_FD]);
	int64_t ctl = op->f[F_CTL];

	if ((ctl == EPOLL_CTL_ADD || ctl == EPOLL_CTL_MOD) &&
	    ((uint64_t)op->f[F_EVENTS] & triggers))
		s->facts |= FACT_TRIGGER_FLAGS;
	if (target && target->kind == FILE_EPOLL)
		s->facts |= FACT_EPOLL_IN_EPOLL;
	if (!done || !ep || !target)
		return;
	if (ctl == EPOLL_CTL_ADD) {
		target->watched++;
		ep->interests++;
	} else if (ctl == EPOLL_CTL_DEL) {
		target->watched -= target->watched > 0;
		ep->interests -= ep->interests > 0;
	}
}

static void scan_wait(struct scan *s, const struct op *op)
{
	const struct file_info *ep = file_at(s, op->f[F_EPFD]);
	uint64_t ms;
	enum wait_timeout timeout = op_wait_timeout(op, &ms);

	if (timeout == WAIT_FOREVER || timeout == WAIT_TIMED)
		s->facts |= FACT_BLOCKING_WAIT;
	if (ep && op->f[F_MAXEVENTS] > 0 && op->f[F_MAXEVENTS] < ep->interests)
		s->facts |= FACT_SEVERAL_READY;
}

/* dup, dup2, dup3 and close: who keeps which file. */
static void scan_fd_table(struct scan *s, const struct op *op, bool done,
			  const struct result *res)
{
	int64_t oldfd = op->f[F_FD], newfd;

	if (fd_in_play(s, oldfd) ||
	    (op->kind != OP_DUP && op->kind != OP_CLOSE && fd_in_play(s, op->f[F_NEWFD])))
		s->facts |= FACT_LIFETIME_OP;
	if (!done || !fd_ok(oldfd))
		return;
	if (op->kind == OP_CLOSE) {
		s->fd[oldfd] = 0;
		return;
	}
	newfd = op->kind == OP_DUP ? (res ? res->ret : lowest_free(s)) : op->f[F_NEWFD];
	if (fd_ok(newfd))
		s->fd[newfd] = s->fd[oldfd];
}

/* close_range: the fds it closes (none with CLOSE_RANGE_CLOEXEC, which
 * only marks them), as close does. */
static void scan_close_range(struct scan *s, const struct op *op, bool done)
{
	uint32_t first = (uint32_t)op->f[F_FIRST], last = (uint32_t)op->f[F_LAST];
	bool closes = !((uint64_t)op->f[F_FLAGS] & CLOSE_RANGE_CLOEXEC);

	for (uint32_t fd = first; fd <= last && fd < FD_LIMIT; fd++) {
		if (fd_in_play(s, fd))
			s->facts |= FACT_LIFETIME_OP;
		if (done && closes)
			s->fd[fd] = 0;
	}
}

/* fcntl's F_DUPFD and F_DUPFD_CLOEXEC are dups; its other commands
 * change no file table entry. */
static void scan_fcntl(struct scan *s, const struct op *op, bool done,
		       const struct result *res)
{
	int64_t fd = op->f[F_FD];

	if (!fd_sim_op_made(op))
		return;
	if (fd_in_play(s, fd))
		s->facts |= FACT_LIFETIME_OP;
	if (done && res && fd_ok(fd) && fd_ok(res->ret))
		s->fd[res->ret] = s->fd[fd];
}

static unsigned socket_fact(int64_t type)
{
	switch (type & 0xf) { /* SOCK_TYPE_MASK */
	case SOCK_STREAM:
		return FACT_STREAM;
	case SOCK_DGRAM:
		return FACT_DGRAM;
	case SOCK_SEQPACKET:
		return FACT_SEQPACKET;
	default:
		return 0;
	}
}

static void scan_op(struct scan *s, const struct program *p, uint32_t i)
{
	const struct op *op = &p->ops[i];
	const struct result *res;
	bool done = op_took_effect(s, i, &res);

	switch ((enum op_kind)op->kind) {
	case OP_EPOLL_CREATE:
	case OP_EPOLL_CREATE1:
		if (done)
			new_fds(s, res, 1, FILE_EPOLL);
		break;
	case OP_PIPE2:
	case OP_EVENTFD:
	case OP_SOCKETPAIR:
		s->facts |= op->kind == OP_PIPE2 ? FACT_PIPE :
			    op->kind == OP_EVENTFD ? FACT_EVENTFD : socket_fact(op->f[F_TYPE]);
		if (done)
			new_fds(s, res, op->kind == OP_EVENTFD ? 1 : 2, FILE_OTHER);
		break;
	case OP_EPOLL_CTL:
		scan_ctl(s, op, done);
		break;
	case OP_EPOLL_WAIT:
	case OP_EPOLL_PWAIT:
	case OP_EPOLL_PWAIT2:
		scan_wait(s, op);
		break;
	case OP_DUP:
	case OP_DUP2:
	case OP_DUP3:
	case OP_CLOSE:
		scan_fd_table(s, op, done, res);
		break;
	case OP_CLOSE_RANGE:
		scan_close_range(s, op, done);
		break;
	case OP_FCNTL:
		scan_fcntl(s, op, done, res);
		break;
	default: /* read, write, shutdown, sleep: no fds made or dropped */
		break;
	}
}

static unsigned result_facts(const struct result *res)
{
	unsigned facts = 0;

	if (res->ret == -1 && res->err)
		facts |= FACT_ERROR_RESULT;
	if ((res->has & RES_EVENTS) && res->ev_count >= 2)
		facts |= FACT_SEVERAL_READY;
	return facts;
}

/* Errors and multi-event waits in the reference, completions included. */
static unsigned outcome_facts(const struct outcome *o)
{
	unsigned facts = 0;

	for (uint32_t i = 0; i < o->nsteps; i++)
		if (o->steps[i].state == STEP_DONE)
			facts |= result_facts(&o->steps[i].res);
	for (uint32_t i = 0; i < o->ndone; i++)
		facts |= result_facts(&o->done[i].res);
	return facts;
}

static unsigned program_facts(const struct program *p, const struct outcome *ref)
{
	/* 2 * MAX_OPS files at most: some 50 KB, on the stack for one call */
	struct scan s;

	memset(&s, 0, sizeof(s));
	s.ref = ref;
	for (int fd = 0; fd < FD_INITIAL_OPEN; fd++)
		new_file(&s, fd, FILE_OTHER);
	if (p->threads > 1)
		s.facts |= FACT_THREADS;
	for (uint32_t i = 0; i < p->nops; i++)
		scan_op(&s, p, i);
	return s.facts | (ref ? outcome_facts(ref) : 0);
}

/* The classifier: a bit (1 << enum area) for each area the trace is in. */
static unsigned classify(const struct program *p, const struct outcome *ref,
			 const char *name)
{
	unsigned facts = program_facts(p, ref), areas = 0;

	for (unsigned a = 0; a < AREA_COUNT; a++) {
		const struct area_rule *r = &area_rules[a];
		bool in = (facts & r->facts) != 0;

		for (unsigned k = 0; !in && k < AREA_MAX_NAMES && r->names[k]; k++)
			in = name_has_part(name, r->names[k]);
		areas |= (unsigned)in << a;
	}
	return areas ? areas : 1u << AREA_OTHER;
}

/* ---------------------------------------------------------- results */

/* In rising order of severity: a trace's result is its worst target's. */
enum trace_result {
	RESULT_PASS,
	RESULT_KNOWN,
	RESULT_UNSUPPORTED,
	RESULT_FAIL,
	RESULT_ERROR,
	RESULT_COUNT
};

static const char *const result_names[RESULT_COUNT] = {
	[RESULT_PASS] = "pass", [RESULT_KNOWN] = "known",
	[RESULT_UNSUPPORTED] = "unsupported", [RESULT_FAIL] = "fail",
	[RESULT_ERROR] = "error",
};

/* The table's columns, in the order shown, and their headings. */
static const enum trace_result columns[RESULT_COUNT] = {
	RESULT_PASS, RESULT_FAIL, RESULT_UNSUPPORTED, RESULT_KNOWN, RESULT_ERROR,
};
static const char *const column_heads[RESULT_COUNT] = {
	"pass", "fail", "unsup", "known", "error",
};

struct trace_report {
	unsigned areas;         /* 1 << enum area */
	enum trace_result result;
	bool judged;            /* v holds a verdict (every result but error) */
	struct verdict v;       /* the worst target's */
	int known_line;         /* the --known entry that matched, or -1 */
	char text[TEXT_MAX];    /* the first divergence, or the error */
	double seconds;
};

struct tally {
	unsigned area[AREA_COUNT][RESULT_COUNT];
	unsigned all[RESULT_COUNT];
};

/* What one conform run holds. */
struct conform {
	const struct conform_options *opt;
	const char *corpus_dir;
	struct target_set set;
	struct known_list *known;
	struct corpus corpus;
	struct trace_report *reports;
	struct tally tally;
	char kernel[65];
	bool reference_failed;
	double seconds;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A step record's result, "= -1 EINVAL", or what stands in for it. */
static void record_text(const struct outcome *o, uint32_t record, char *buf,
			size_t len)
{
	if (record < o->nsteps)
		result_format(o, &o->steps[record].res, buf, len);
	else
		snprintf(buf, len, "(no record)");
}

/* "step 2 epoll_ctl.errno: epoll_ctl(3, EPOLL_CTL_ADD, 4, 0x10000000) = 0
 * on linux, = -1 EINVAL on exec-qemu-x86_64". */
static void describe_divergence(const struct target_set *s,
				const struct program *p, unsigned k,
				const struct verdict *v, char *buf, size_t len)
{
	char call[256] = "(no op)", ref[384], out[384];

	if (v->step < p->nops)
		op_format(&p->ops[v->step], call, sizeof(call));
	record_text(&s->out[0], v->record, ref, sizeof(ref));
	record_text(&s->out[k], v->record, out, sizeof(out));
	snprintf(buf, len, "step %u %s: %s %s on %s, %s on %s", v->step,
		 v->signature, call, ref, s->spec[0].name, out, s->spec[k].name);
	/* Equal results: what differs is elsewhere (completions, still
	 * blocked threads), and the detail says what. */
	if (strcmp(ref, out) == 0) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, " (%s)", v->detail);
	}
}

/* The first divergence, or the invariant or the step that cannot run. */
static void describe_verdict(const struct target_set *s,
			     const struct program *p, unsigned k,
			     const struct verdict *v, char *buf, size_t len)
{
	char raw[TEXT_MAX];

	if (v->cls == VERDICT_DIVERGE)
		describe_divergence(s, p, k, v, raw, sizeof(raw));
	else
		snprintf(raw, sizeof(raw), "step %u %s: %s: %s", v->step,
			 v->signature, v->target, v->detail);
	clean_text(raw, buf, len);
}

static enum trace_result result_of(const struct conform *c,
				   const struct verdict *v, int *known_line)
{
	*known_line = known_match(c->known, v);
	if (v->cls == VERDICT_AGREE)
		return RESULT_PASS;
	if (*known_line >= 0)
		return RESULT_KNOWN;
	return v->cls == VERDICT_UNSUPPORTED ? RESULT_UNSUPPORTED : RESULT_FAIL;
}

/* Judges every target against the reference; the worst one (the first
 * listed on a tie) is the trace's result. */
static void judge_trace(const struct conform *c, const struct program *p,
			struct trace_report *r)
{
	const struct target_set *s = &c->set;

	r->result = RESULT_PASS;
	r->judged = true;
	for (unsigned k = 1; k < s->n; k++) {
		struct verdict v;
		int line;
		enum trace_result res;

		target_set_judge_one(s, p, k, &v);
		res = result_of(c, &v, &line);
		if (k > 1 && res <= r->result)
			continue;
		r->result = res;
		r->v = v;
		r->known_line = line;
		if (res != RESULT_PASS)
			describe_verdict(s, p, k, &v, r->text, sizeof(r->text));
	}
}

/* Runs one trace on the set and fills its report. */
static void run_trace(struct conform *c, unsigned i)
{
	const struct program *p = &c->corpus.progs[i];
	struct trace_report *r = &c->reports[i];
	struct error err = { "" };
	unsigned failed = 0;
	double start = now_seconds();
	bool ref_ran = true;

	r->known_line = -1;
	if (target_set_run(&c->set, p, &failed, &err) < 0) {
		/* The target restarts itself; the next trace runs afresh. */
		r->result = RESULT_ERROR;
		clean_text(err.msg, r->text, sizeof(r->text));
		ref_ran = failed > 0;
		c->reference_failed |= failed == 0;
	} else
		judge_trace(c, p, r);
	r->seconds = now_seconds() - start;
	r->areas = classify(p, ref_ran ? &c->set.out[0] : NULL, c->corpus.names[i]);
}

static void tally_add(struct tally *t, const struct trace_report *r)
{
	t->all[r->result]++;
	for (unsigned a = 0; a < AREA_COUNT; a++)
		if (r->areas & (1u << a))
			t->area[a][r->result]++;
}

static unsigned not_passed(const struct tally *t)
{
	return t->all[RESULT_FAIL] + t->all[RESULT_UNSUPPORTED] + t->all[RESULT_ERROR];
}

struct progress {
	double start, last; /* when the run began, when a line was shown */
};

/* A line on stderr every few seconds of a long run. */
static void show_progress(const struct conform *c, unsigned done,
			  struct progress *pr)
{
	double now = now_seconds();

	if (c->opt->quiet || now - pr->last < PROGRESS_EVERY_S)
		return;
	pr->last = now;
	fprintf(stderr, "epollfuzz conform: %u/%u traces, %u not passed, %.0f s\n",
		done, c->corpus.n, not_passed(&c->tally), now - pr->start);
}

static void run_all(struct conform *c)
{
	struct progress pr = { .start = now_seconds() };

	pr.last = pr.start;
	for (unsigned i = 0; i < c->corpus.n; i++) {
		run_trace(c, i);
		tally_add(&c->tally, &c->reports[i]);
		show_progress(c, i + 1, &pr);
	}
	c->seconds = now_seconds() - pr.start;
}

/* ------------------------------------------------------- the table */

/* "exec:qemu-x86_64" or "exec:qemu-x86_64, plugin:./libmine.so". */
static void targets_text(const struct target_set *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned k = 1; k < s->n && used < len; k++) {
		int n = snprintf(buf + used, len - used, "%s%s", k > 1 ? ", " : "",
				 s->spec[k].text);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* "linux (6.18.44)": the kernel says which Linux the reference was. */
static void reference_text(const struct conform *c, char *buf, size_t len)
{
	const struct target_spec *ref = &c->set.spec[0];

	if (strcmp(ref->text, "linux") == 0)
		snprintf(buf, len, "linux (%s)", c->kernel);
	else
		snprintf(buf, len, "%s", ref->text);
}

static void print_header(FILE *f, const struct conform *c)
{
	char targets[1024], ref[TARGET_SPEC_MAX + 80];

	targets_text(&c->set, targets, sizeof(targets));
	reference_text(c, ref, sizeof(ref));
	fprintf(f, "epollfuzz conform: %s against %s, %u traces", targets, ref,
		c->corpus.n);
	if (c->opt->corpus)
		fprintf(f, " from %s", c->corpus_dir);
	fputc('\n', f);
}

static void print_row(FILE *f, const char *title, const unsigned *counts)
{
	fprintf(f, "%-26s", title);
	for (unsigned col = 0; col < RESULT_COUNT; col++)
		fprintf(f, " %6u", counts[columns[col]]);
	fputc('\n', f);
}

static void print_table(FILE *f, const struct conform *c)
{
	print_header(f, c);
	fprintf(f, "%-26s", "area");
	for (unsigned col = 0; col < RESULT_COUNT; col++)
		fprintf(f, " %6s", column_heads[col]);
	fputc('\n', f);
	for (unsigned a = 0; a < AREA_COUNT; a++) {
		unsigned traces = 0;

		for (unsigned res = 0; res < RESULT_COUNT; res++)
			traces += c->tally.area[a][res];
		if (a != AREA_OTHER || traces)
			print_row(f, area_rules[a].title, c->tally.area[a]);
	}
	print_row(f, "all", c->tally.all);
}

/* One line per trace that did not pass, worst results first. */
static void print_not_passed(FILE *f, const struct conform *c)
{
	static const struct {
		enum trace_result res;
		const char *label;
	} order[] = {
		{ RESULT_ERROR, "ERROR" }, { RESULT_FAIL, "FAIL" },
		{ RESULT_UNSUPPORTED, "UNSUPPORTED" }, { RESULT_KNOWN, "KNOWN" },
	};
	bool blank = false;

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (unsigned i = 0; i < c->corpus.n; i++) {
			const struct trace_report *r = &c->reports[i];

			if (r->result != order[o].res)
				continue;
			if (!blank)
				fputc('\n', f);
			blank = true;
			fprintf(f, "  %s %s: %s", order[o].label, c->corpus.names[i], r->text);
			if (r->result == RESULT_KNOWN)
				fprintf(f, " (%s:%d)", c->opt->known, r->known_line);
			fputc('\n', f);
		}
}

static void print_summary_line(FILE *f, const struct conform *c)
{
	char targets[1024], ref[TARGET_SPEC_MAX + 80];
	const unsigned *n = c->tally.all;

	targets_text(&c->set, targets, sizeof(targets));
	reference_text(c, ref, sizeof(ref));
	fprintf(f, "epollfuzz conform: %s against %s: %u traces, %u pass, %u fail, "
		"%u unsupported, %u known, %u error\n", targets, ref, c->corpus.n,
		n[RESULT_PASS], n[RESULT_FAIL], n[RESULT_UNSUPPORTED],
		n[RESULT_KNOWN], n[RESULT_ERROR]);
}

/* ------------------------------------------------------------ JSON */

static void put(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		abort(); /* out of memory: nothing sensible is left to do */
}

/* {"pass": N, "known": N, ...}, after what obj holds already. */
static json_t *counts_json(json_t *obj, const unsigned *counts)
{
	if (!obj)
		abort();
	for (unsigned res = 0; res < RESULT_COUNT; res++)
		put(obj, result_names[res], json_integer(counts[res]));
	return obj;
}

static json_t *areas_json(const struct tally *t)
{
	json_t *j = json_object();

	if (!j)
		abort();
	for (unsigned a = 0; a < AREA_COUNT; a++) {
		json_t *one = json_pack("{ss}", "title", area_rules[a].title);

		put(j, area_rules[a].id, counts_json(one, t->area[a]));
	}
	return j;
}

static json_t *area_list_json(unsigned areas)
{
	json_t *j = json_array();

	if (!j)
		abort();
	for (unsigned a = 0; a < AREA_COUNT; a++)
		if ((areas & (1u << a)) &&
		    json_array_append_new(j, json_string(area_rules[a].id)) < 0)
			abort();
	return j;
}

static json_t *trace_json(const struct conform *c, unsigned i)
{
	const struct trace_report *r = &c->reports[i];
	char file[4096];
	json_t *j = json_object();

	if (!j)
		abort();
	clean_text(c->corpus.paths[i], file, sizeof(file));
	put(j, "name", json_string(c->corpus.names[i]));
	put(j, "file", json_string(file));
	put(j, "areas", area_list_json(r->areas));
	put(j, "result", json_string(result_names[r->result]));
	put(j, "verdict", r->judged ? verdict_to_json(&r->v) : json_null());
	if (r->result != RESULT_PASS)
		put(j, "text", json_string(r->text));
	if (r->result == RESULT_KNOWN)
		put(j, "known_line", json_integer(r->known_line));
	put(j, "seconds", json_real(r->seconds));
	return j;
}

static json_t *targets_json(const struct target_set *s)
{
	json_t *j = json_array();

	if (!j)
		abort();
	for (unsigned k = 1; k < s->n; k++)
		if (json_array_append_new(j, json_string(s->spec[k].text)) < 0)
			abort();
	return j;
}

static json_t *report_json(const struct conform *c)
{
	json_t *j = json_object(), *traces = json_array();
	char dir[4096];

	if (!j || !traces)
		abort();
	clean_text(c->corpus_dir, dir, sizeof(dir));
	put(j, "target", json_string(c->set.spec[1].text));
	put(j, "targets", targets_json(&c->set));
	put(j, "reference", json_string(c->set.spec[0].text));
	put(j, "kernel", json_string(c->kernel));
	put(j, "corpus", json_string(dir));
	put(j, "areas", areas_json(&c->tally));
	put(j, "all", counts_json(json_object(), c->tally.all));
	for (unsigned i = 0; i < c->corpus.n; i++)
		if (json_array_append_new(traces, trace_json(c, i)) < 0)
			abort();
	put(j, "traces", traces);
	return j;
}

static int print_json(FILE *f, const struct conform *c)
{
	json_t *j = report_json(c);
	int rc = json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(j);
	fputc('\n', f);
	return rc;
}

/* ----------------------------------------------------------- JUnit */

/* Text for an XML attribute or element. */
static void xml_put(FILE *f, const char *text)
{
	char clean[4096];

	clean_text(text, clean, sizeof(clean));
	for (const char *s = clean; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*s, f);
		}
}

/* What a testcase holds besides its name: nothing for a pass. */
static void junit_outcome(FILE *f, const struct conform *c,
			  const struct trace_report *r)
{
	switch (r->result) {
	case RESULT_PASS:
		return;
	case RESULT_FAIL:
		fputs("      <failure type=\"", f);
		xml_put(f, r->v.signature);
		fputs("\" message=\"", f);
		xml_put(f, r->text);
		fputs("\">", f);
		xml_put(f, r->v.detail);
		fputs("</failure>\n", f);
		return;
	case RESULT_ERROR:
		fputs("      <error message=\"", f);
		xml_put(f, r->text);
		fputs("\"/>\n", f);
		return;
	case RESULT_UNSUPPORTED:
		fputs("      <skipped message=\"unsupported: ", f);
		xml_put(f, r->text);
		fputs("\"/>\n", f);
		return;
	case RESULT_KNOWN:
		fputs("      <skipped message=\"known (", f);
		xml_put(f, c->opt->known);
		fprintf(f, ":%d): ", r->known_line);
		xml_put(f, r->text);
		fputs("\"/>\n", f);
		return;
	case RESULT_COUNT:
		break;
	}
}

static void junit_testcases(FILE *f, const struct conform *c)
{
	for (unsigned i = 0; i < c->corpus.n; i++) {
		const struct trace_report *r = &c->reports[i];

		for (unsigned a = 0; a < AREA_COUNT; a++) {
			if (!(r->areas & (1u << a)))
				continue;
			fprintf(f, "    <testcase classname=\"%s\" name=\"", area_rules[a].id);
			xml_put(f, c->corpus.names[i]);
			fprintf(f, "\" time=\"%.6f\"%s\n", r->seconds,
				r->result == RESULT_PASS ? "/>" : ">");
			junit_outcome(f, c, r);
			if (r->result != RESULT_PASS)
				fputs("    </testcase>\n", f);
		}
	}
}

static void junit_property(FILE *f, const char *name, const char *value)
{
	fprintf(f, "      <property name=\"%s\" value=\"", name);
	xml_put(f, value);
	fputs("\"/>\n", f);
}

/* Counts per testcase (trace and area), as JUnit readers add them up. */
static void junit_counts(const struct conform *c, unsigned *tests,
			 unsigned *failures, unsigned *errors, unsigned *skipped)
{
	*tests = *failures = *errors = *skipped = 0;
	for (unsigned a = 0; a < AREA_COUNT; a++) {
		const unsigned *n = c->tally.area[a];

		for (unsigned res = 0; res < RESULT_COUNT; res++)
			*tests += n[res];
		*failures += n[RESULT_FAIL];
		*errors += n[RESULT_ERROR];
		*skipped += n[RESULT_UNSUPPORTED] + n[RESULT_KNOWN];
	}
}

static void junit_write(FILE *f, const struct conform *c)
{
	char targets[1024];
	unsigned tests, failures, errors, skipped;

	targets_text(&c->set, targets, sizeof(targets));
	junit_counts(c, &tests, &failures, &errors, &skipped);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
		tests, failures, errors, skipped, c->seconds);
	fprintf(f, "  <testsuite name=\"epollfuzz-conform\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
		tests, failures, errors, skipped, c->seconds);
	fputs("    <properties>\n", f);
	junit_property(f, "target", targets);
	junit_property(f, "reference", c->set.spec[0].text);
	junit_property(f, "kernel", c->kernel);
	junit_property(f, "corpus", c->corpus_dir);
	fputs("    </properties>\n", f);
	junit_testcases(f, c);
	fputs("  </testsuite>\n</testsuites>\n", f);
}

static int write_junit(const struct conform *c, const char *path,
		       struct error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return fail(err, "--junit %s: out of memory", path);
	junit_write(f, c);
	if (fclose(f) != 0) {
		free(buf);
		return fail(err, "--junit %s: out of memory", path);
	}
	rc = write_atomically(path, buf, len, err);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ main */

static void kernel_release(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(buf, len, "%s", u.release);
	else
		snprintf(buf, len, "unknown");
}

/* The set, the known list and the corpus, all checked before anything
 * runs.  Returns -1 to go on, or the exit status. */
static int prepare(struct conform *c)
{
	const struct conform_options *o = c->opt;
	struct target_set_choice choice = {
		.targets = o->targets, .ntargets = o->ntargets,
		.reference = o->reference, .add_model = false, .alone_ok = false,
	};
	struct error err = { "" };

	if (target_set_init(&c->set, &choice, &err) < 0)
		return usage_error(CMD, "%s", err.msg);
	if (o->known && !(c->known = known_load(o->known, &err)))
		return usage_error(CMD, "%s", err.msg);
	if (corpus_load(&c->corpus, c->corpus_dir, &err) < 0 ||
	    check_recordings(&c->set, &c->corpus, &err) < 0) {
		fprintf(stderr, "epollfuzz %s: %s\n", CMD, err.msg);
		return EXIT_TROUBLE;
	}
	c->reports = calloc(c->corpus.n, sizeof(*c->reports));
	if (!c->reports) {
		fprintf(stderr, "epollfuzz %s: out of memory\n", CMD);
		return EXIT_TROUBLE;
	}
	kernel_release(c->kernel, sizeof(c->kernel));
	return -1;
}

static int report(const struct conform *c)
{
	const struct conform_options *o = c->opt;
	struct error err = { "" };

	if (o->json)
		print_json(stdout, c);
	else if (o->quiet)
		print_summary_line(stdout, c);
	else {
		print_table(stdout, c);
		print_not_passed(stdout, c);
	}
	fflush(stdout);
	if (o->junit && write_junit(c, o->junit, &err) < 0) {
		fprintf(stderr, "epollfuzz %s: %s\n", CMD, err.msg);
		return EXIT_TROUBLE;
	}
	if (c->reference_failed) {
		fprintf(stderr, "epollfuzz %s: the reference %s failed to run some traces\n",
			CMD, c->set.spec[0].text);
		return EXIT_TROUBLE;
	}
	return not_passed(&c->tally) ? EXIT_FINDING : EXIT_AGREE;
}

static int conform_run(struct conform *c)
{
	struct error err = { "" };
	int status = prepare(c);

	if (status >= 0)
		return status;
	if (target_set_open(&c->set, &(struct target_config){ 0 }, &err) < 0) {
		fprintf(stderr, "epollfuzz %s: %s\n", CMD, err.msg);
		return EXIT_TROUBLE;
	}
	run_all(c);
	target_set_close(&c->set);
	return report(c);
}

int cmd_conform(int argc, char **argv)
{
	struct conform_options o;
	struct conform *c;
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	/* A few kilobytes of reports and sets: on the heap, not the stack. */
	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "epollfuzz %s: out of memory\n", CMD);
		return EXIT_TROUBLE;
	}
	c->opt = &o;
	c->corpus_dir = o.corpus ? o.corpus : shipped_corpus();
	status = conform_run(c);
	corpus_free(&c->corpus);
	known_free(c->known);
	free(c->reports);
	free(c);
	return status;
}
