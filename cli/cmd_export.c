/*
 * cmd_export.c - `epollfuzz export`: a finding, ready for a bug report.
 *
 *   --c     a standalone C program that replays the trace on Linux and
 *           checks every result against the recorded outcome, or where
 *           woken threads race, against every outcome the model allows
 *           (export/);
 *   --rust  a Rust test in the style of Miri's epoll tests, for Miri's
 *           suite: the same checks, std threads ordered by sleeps as Miri's
 *           tests order them; a trace outside Miri's subset is refused
 *           (export/rust.c);
 *   --json  the trace normalised by the codec: fields as given, flags by
 *           name, the recorded outcome, and meta with kernel and tool.
 *
 * The input is loaded and checked before anything is written, and -o files
 * are written atomically, so bad input costs exit status 2 and no output.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "model.h"

#define TOOL "epollfuzz " EPOLLFUZZ_VERSION

enum export_format { FORMAT_NONE, FORMAT_C, FORMAT_RUST, FORMAT_JSON };

struct export_request {
	enum export_format format;
	const char *input;
	const char *output; /* NULL: stdout */
	bool allow_unsupported; /* --rust: export what Miri cannot run anyway */
	bool miri_rustfmt;      /* --rust: laid out for Miri's rustfmt.toml */
};

/* The ids of --c, --rust and --json are their formats. */
enum { EXPORT_C = FORMAT_C, EXPORT_RUST = FORMAT_RUST, EXPORT_JSON = FORMAT_JSON,
       EXPORT_ALLOW_UNSUPPORTED, EXPORT_MIRI_RUSTFMT, EXPORT_OUTPUT };

static const struct cli_option export_option_table[] = {
	{ "c", 0, "FILE",
	  "a standalone C program (libc and pthreads only) that runs the trace "
	  "on Linux with the oracle's threads and settling and compares every "
	  "result with the recorded outcome (where woken threads race: with any "
	  "outcome the model allows): exit 0 when all match, 1 after printing "
	  "the first difference.  The trace and the finding's verdict are in "
	  "its opening comment.\n"
	  "Build it with: gcc -Wall -Werror -pthread OUT.c; it also runs under "
	  "qemu-x86_64 and valgrind", EXPORT_C },
	{ "rust", 0, "FILE",
	  "a Rust test for Miri's suite (tests/pass-dep/libc/), in the style of "
	  "Miri's own epoll tests: std and the libc crate only, one fn main that "
	  "makes each call and asserts what Linux returned (where woken threads "
	  "race: any outcome the model allows), blocking calls on std threads "
	  "ordered by 10 ms sleeps; it runs under Miri and natively.  A trace "
	  "that uses what Miri cannot run is refused, one line naming the step, "
	  "the op and why", EXPORT_RUST },
	{ "allow-unsupported", 0, NULL,
	  "with --rust: export such a trace anyway, with a comment at each step "
	  "Miri cannot run", EXPORT_ALLOW_UNSUPPORTED },
	{ "miri-rustfmt", 0, NULL,
	  "with --rust: lay the test out for Miri's rustfmt.toml "
	  "(use_small_heuristics = \"Max\"), not rustfmt's defaults",
	  EXPORT_MIRI_RUSTFMT },
	{ "json", 0, "FILE",
	  "the trace normalised: fields as given, flags by name, the recorded "
	  "outcome, meta (with kernel and tool added when missing: this "
	  "machine's kernel, this tool)", EXPORT_JSON },
	{ NULL, 'o', "OUT",
	  "write to OUT (atomically) instead of standard output", EXPORT_OUTPUT },
};

static const struct cli_command export_command = {
	.name = "export",
	.usage = " --c FINDING.json [-o OUT.c]\n"
		 "       epollfuzz export --rust FINDING.json [-o OUT.rs] [--allow-unsupported]\n"
		 "                        [--miri-rustfmt]\n"
		 "       epollfuzz export --json FINDING.json [-o OUT.json]",
	.about = "Turns a trace with a recorded outcome (a finding, or the output of\n"
		 "'epollfuzz run --target linux --json') into something to attach to a bug\n"
		 "report.\n",
	.options = CLI_OPTIONS(export_option_table),
	.epilogue = "Exit status: 0 written, 2 bad input or usage (a trace without an outcome\n"
		    "among them; with --rust, a trace outside Miri's subset).\n",
};

/* ------------------------------------------------------------- options */

static int export_apply(void *ctx, int id, const char *value)
{
	struct export_request *r = ctx;

	switch (id) {
	case CLI_OPERAND:
		return usage_error("export", "unexpected argument '%s' (the trace goes after --c, --rust or --json)",
				   value);
	case EXPORT_ALLOW_UNSUPPORTED:
		r->allow_unsupported = true;
		return 0;
	case EXPORT_MIRI_RUSTFMT:
		r->miri_rustfmt = true;
		return 0;
	case EXPORT_OUTPUT:
		if (r->output)
			return usage_error("export", "-o given twice");
		r->output = value;
		return 0;
	}
	if (r->format != FORMAT_NONE)
		return usage_error("export", "give one of --c, --rust and --json, once");
	r->format = (enum export_format)id;
	r->input = value;
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct export_request *r)
{
	int status;

	memset(r, 0, sizeof(*r));
	status = cli_parse(&export_command, argc, argv, export_apply, r, NULL);
	if (status >= 0)
		return status;
	if (r->format == FORMAT_NONE)
		return usage_error("export", "say what to export: --c FILE, --rust FILE or --json FILE");
	if ((r->allow_unsupported || r->miri_rustfmt) && r->format != FORMAT_RUST)
		return usage_error("export", "--allow-unsupported and --miri-rustfmt go with --rust");
	return -1;
}

/* ---------------------------------------------------------- the output */

/* "FILE: basename" is what the generated header names. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * The outcomes the kernel allows where woken threads race: the model's
 * (without injected bugs, whatever EPOLLFUZZ_INJECT says).  A program on
 * one thread has one outcome, the recording, and needs none.  The caller
 * frees outs[0..*n).
 */
static int allowed_outcomes(const struct program *p, struct outcome *outs,
			    unsigned *n, bool *cut, struct error *err)
{
	struct target_config cfg = { .inject = "" };
	struct model *m;
	int rc;

	*n = 0;
	*cut = false;
	if (p->threads < 2)
		return 0;
	if (!(m = model_new(&cfg, err)))
		return -1;
	rc = model_run_all(m, p, outs, EXPORT_MAX_OUTCOMES, n, cut, err);
	model_free(m);
	return rc;
}

/* The C reproducer or the Rust test, which check the same outcomes. */
static int export_program(FILE *f, const struct export_request *r,
			  const struct program *p, const struct outcome *rec,
			  struct error *err)
{
	struct outcome allowed[EXPORT_MAX_OUTCOMES];
	struct export_options opt = {
		.source = base_name(r->input),
		.tool = TOOL,
		.allowed = allowed,
		.allow_unsupported = r->allow_unsupported,
		.miri_rustfmt = r->miri_rustfmt,
	};
	int rc = allowed_outcomes(p, allowed, &opt.nallowed, &opt.allowed_cut, err);

	if (rc == 0)
		rc = r->format == FORMAT_RUST ? export_rust(f, p, rec, &opt, err)
					      : export_c(f, p, rec, &opt, err);
	for (unsigned i = 0; i < opt.nallowed; i++)
		outcome_free(&allowed[i]);
	return rc;
}

/* meta.kernel and meta.tool, added where the trace does not say. */
static int complete_meta(struct program *p, struct error *err)
{
	struct utsname u;
	json_t *meta;

	if (!p->extras && !(p->extras = json_object()))
		return fail(err, "out of memory");
	if (!(meta = json_object_get(p->extras, "meta"))) {
		meta = json_object();
		if (json_object_set_new(p->extras, "meta", meta) < 0)
			return fail(err, "out of memory");
	}
	if (!json_object_get(meta, "kernel") && uname(&u) == 0 &&
	    json_object_set_new(meta, "kernel", json_string(u.release)) < 0)
		return fail(err, "out of memory");
	if (!json_object_get(meta, "tool") &&
	    json_object_set_new(meta, "tool", json_string(TOOL)) < 0)
		return fail(err, "out of memory");
	return 0;
}

static int export_as_json(FILE *f, struct program *p,
			  const struct outcome *rec, struct error *err)
{
	char *text;

	if (complete_meta(p, err) < 0)
		return -1;
	if (!(text = trace_dump(p, rec)))
		return fail(err, "out of memory");
	fputs(text, f);
	free(text);
	if (fflush(f) != 0 || ferror(f))
		return fail(err, "write error");
	return 0;
}

static int write_export(FILE *f, const struct export_request *r,
			struct program *p, const struct outcome *rec,
			struct error *err)
{
	if (r->format == FORMAT_JSON)
		return export_as_json(f, p, rec, err);
	return export_program(f, r, p, rec, err);
}

/* Builds the export in memory, then writes it whole to r->output. */
static int write_output(const struct export_request *r, struct program *p,
			const struct outcome *rec, struct error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return fail(err, "out of memory");
	rc = write_export(f, r, p, rec, err);
	if (fclose(f) != 0 && rc == 0)
		rc = fail(err, "out of memory");
	if (rc == 0)
		rc = write_atomically(r->output, buf, len, err);
	free(buf);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct export_request r;
	struct program p;
	struct outcome rec;
	struct error err;
	int status = parse_options(argc, argv, &r);

	if (status >= 0)
		return status;
	outcome_init(&rec);
	if (trace_load_file(r.input, &p, &rec, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		outcome_free(&rec);
		return EXIT_TROUBLE;
	}
	status = EXIT_AGREE;
	if (rec.nsteps == 0) {
		fprintf(stderr, "epollfuzz export: %s has no outcome; run it first: "
			"epollfuzz run --target linux --json %s\n", r.input, r.input);
		status = EXIT_TROUBLE;
	} else if ((r.output ? write_output(&r, &p, &rec, &err)
			     : write_export(stdout, &r, &p, &rec, &err)) < 0) {
		fprintf(stderr, "epollfuzz export: %s: %s\n", r.input, err.msg);
		status = EXIT_TROUBLE;
	}
	program_free(&p);
	outcome_free(&rec);
	return status;
}
