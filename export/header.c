/*
 * header.c - the reproducer's opening comment: how to build and run it,
 * how it runs the trace, what a finding's verdict said, which outcomes it
 * accepts, and the whole trace with its recording.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One line of the opening comment; a "*\/" inside would end it early. */
static void comment_line(FILE *f, const char *line, size_t n)
{
	fputs(n ? " * " : " *", f);
	for (size_t i = 0; i < n; i++) {
		fputc(line[i], f);
		if (line[i] == '*' && i + 1 < n && line[i + 1] == '/')
			fputc('\\', f);
	}
	fputc('\n', f);
}

static void comment_text(FILE *f, const char *text)
{
	if (!*text)
		comment_line(f, text, 0);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		comment_line(f, text, n);
		text += n + (nl ? 1 : 0);
	}
}

static void comment_blank(FILE *f)
{
	comment_line(f, "", 0);
}

__attribute__((format(printf, 2, 3)))
static void comment(FILE *f, const char *fmt, ...)
{
	struct text t = { .used = 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t.buf, sizeof(t.buf), fmt, ap);
	va_end(ap);
	comment_text(f, t.buf);
}

const char *export_meta_string(const json_t *meta, const char *key)
{
	const json_t *v = meta ? json_object_get(meta, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const struct step_record *record_of(const struct outcome *o,
					   uint32_t step)
{
	for (uint32_t i = 0; i < o->nsteps; i++)
		if (o->steps[i].step == step)
			return &o->steps[i];
	return NULL;
}

/* "  recorded: 1 [EPOLLIN:4]; woke t1 step 3 = 0 []" */
static void comment_outcome_at(FILE *f, const char *who,
			       const struct outcome *o, uint32_t step)
{
	const struct step_record *rec = record_of(o, step);
	struct text t = { .used = 0 };

	tx_printf(&t, "    %-9s ", who);
	if (!rec) {
		tx_printf(&t, "(no record)");
	} else {
		tx_record(&t, o, rec);
		if (rec->done_count) {
			tx_printf(&t, "; woke ");
			tx_woke(&t, o, rec);
		}
	}
	comment(f, "%s", t.buf);
}

/* What meta.verdict says, and both targets' results at its step. */
static void comment_verdict(FILE *f, const struct export_context *cx)
{
	const json_t *v = json_object_get(cx->meta, "verdict");
	const json_t *step = json_object_get(v, "step");
	const char *cls = export_meta_string(v, "class");
	const char *sig = export_meta_string(v, "signature");
	const char *detail = export_meta_string(v, "detail");
	struct text call = { .used = 0 };
	json_int_t n;

	if (!cls || strcmp(cls, "agree") == 0)
		return;
	comment_blank(f);
	if (!json_is_integer(step)) {
		comment(f, "The finding (meta.verdict): %s%s%s.", cls,
			sig ? ", " : "", sig ? sig : "");
		return;
	}
	n = json_integer_value(step);
	comment(f, "The finding (meta.verdict): %s at step %" JSON_INTEGER_FORMAT
		"%s%s%s.", cls, n, sig ? " (" : "", sig ? sig : "", sig ? ")" : "");
	if (detail && *detail)
		comment(f, "  %s", detail);
	if (n < 0 || (uint64_t)n >= cx->p->nops)
		return;
	tx_call(&call, &cx->p->ops[n]);
	if (cx->p->ops[n].t)
		tx_printf(&call, " on t%u", cx->p->ops[n].t);
	comment(f, "  step %" JSON_INTEGER_FORMAT " %s", n, call.buf);
	comment_outcome_at(f, "recorded:", cx->rec, (uint32_t)n);
	if (cx->has_model)
		comment_outcome_at(f, "model:", &cx->model, (uint32_t)n);
}

static bool uses_fork(const struct program *p)
{
	for (unsigned i = 0; i < p->nops; i++)
		if (p->ops[i].kind == OP_FORK)
			return true;
	return false;
}

static const char how_it_runs[] =
	"It runs the trace below with real system calls, as epollfuzz's Linux\n"
	"oracle does, and compares every result with the recorded outcome:\n"
	"\n"
	"  - one pthread per simulated thread; an op that may block (epoll_wait\n"
	"    with a non-zero timeout, read or write on a blocking fd) runs on its\n"
	"    own thread, the others on the main thread;\n";

/* Only for a trace that forks. */
static const char how_processes_run[] =
	"  - a fork starts a child process, with a copy of the forking thread's\n"
	"    fd table, whose only thread runs the fork's child thread: every\n"
	"    call of that thread is made there; an exit ends the process, and\n"
	"    its step is over once the process is reaped; the processes left at\n"
	"    the end are killed, and each dies with this program;\n";

static const char how_it_settles[] =
	"  - after each step it waits until every thread has returned or sleeps\n"
	"    in its call, as the oracle's executor tells (settle.c below): from\n"
	"    /proc/self/task/TID/{stat,syscall,schedstat} (a child process's\n"
	"    thread: /proc/PID/task/PID), with a probe at start that finds out\n"
	"    what /proc shows under an emulator (qemu-user sleeps in the host's\n"
	"    epoll_pwait) and, where /proc cannot tell, a quiet period instead;\n"
	"    the mode goes to stderr (\"settle: proc\");\n"
	"  - timeouts follow a virtual clock that only `sleep` steps move: a\n"
	"    blocked wait is interrupted by a signal when a sleep passes its\n"
	"    deadline, and reported as the timeout (0);\n"
	"  - fds 0-2 are /dev/null, RLIMIT_NOFILE is 1024, SIGPIPE is ignored;\n"
	"    fd numbers the trace did not open (this program keeps its own above\n"
	"    1024) are passed as -1, which fails wherever a closed fd fails;\n"
	"  - each call gets the memory its arguments describe: epoll_wait a\n"
	"    buffer of maxevents events, read one of len bytes.\n";

/* Which outcomes the program accepts, when there is more than the
 * recording to say. */
static void comment_allowed(FILE *f, const struct export_context *cx)
{
	if (cx->model_disagrees) {
		comment_blank(f);
		comment(f, "Woken threads race in this trace, but the model's allowed outcomes\n"
			"do not include the recording (the model departs from Linux here), so\n"
			"only the recording is accepted.");
		return;
	}
	if (cx->nothers == 0)
		return;
	comment_blank(f);
	comment(f, "Woken threads race in this trace: the kernel allows %u outcomes (the\n"
		"model enumerates them), and a run passes when it gives any one of them.\n"
		"Outcome 0 is the recording; others[] says where the rest differ from it.",
		cx->nothers + 1);
	if (cx->opt->allowed_cut || cx->cut)
		comment(f, "The model allows more than that, and stopped counting: a run\n"
			"giving one of the rest fails here although Linux allows it.");
}

void emit_header(FILE *f, const struct export_context *cx)
{
	const char *kernel = export_meta_string(cx->meta, "kernel");
	const char *target = export_meta_string(cx->meta, "target");
	char *trace = trace_dump(cx->p, cx->rec);

	fputs("/*\n", f);
	comment(f, "Reproducer for an epoll trace, exported by %s%s%s.",
		cx->opt->tool, cx->opt->source ? " from " : "",
		cx->opt->source ? cx->opt->source : "");
	comment_blank(f);
	comment(f, "  gcc -Wall -Werror -pthread -o repro THIS.c && ./repro [-v]");
	comment(f, "  (under an emulator: qemu-x86_64 ./repro, valgrind ./repro)");
	comment_blank(f);
	comment_text(f, how_it_runs);
	if (uses_fork(cx->p))
		comment_text(f, how_processes_run);
	comment_text(f, how_it_settles);
	comment_blank(f);
	if (target && strcmp(target, "model") == 0)
		comment(f, "The outcome checked was recorded by the model, not by Linux\n"
			"(meta.target): a difference is where Linux disagrees with the model.");
	else
		comment(f, "The outcome checked was recorded on Linux%s%s.",
			kernel ? " " : "", kernel ? kernel : "");
	comment(f, "Exit status: 0 every result as allowed; 1 a result differs (the\n"
		"first difference is printed); 2 the program could not run.  -v prints\n"
		"each step and its result.");
	comment_allowed(f, cx);
	if (cx->meta)
		comment_verdict(f, cx);
	comment_blank(f);
	comment(f, "The trace (epollfuzz trace format %d), with the recorded outcome:",
		TRACE_VERSION);
	comment_blank(f);
	comment_text(f, trace ? trace : "(out of memory)\n");
	fputs(" */\n", f);
	free(trace);
}
