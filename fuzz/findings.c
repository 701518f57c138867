/*
 * findings.c - a finding written down as a JSON trace beside its raw input,
 * named by its signature so that the same bug found a thousand times is one
 * file: the first is kept unless a later one is a smaller program.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static const char *class_word(enum verdict_class cls)
{
	switch (cls) {
	case VERDICT_AGREE: return "agree";
	case VERDICT_DIVERGE: return "divergence";
	case VERDICT_INVARIANT: return "invariant";
	case VERDICT_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}

/* Lower case, and '-' for anything outside [a-z0-9._-]: names any file
 * system and any shell take. */
static void sanitize(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			*s = '-';
	}
}

void finding_name(const struct verdict *v, char *buf, size_t len)
{
	const char *sig = v->signature;
	const char *colon = strchr(sig, ':');

	/* "invariant:lost-wakeup" names its class already */
	if (colon && strncmp(sig, class_word(v->cls), (size_t)(colon - sig)) == 0)
		sig = colon + 1;
	snprintf(buf, len, "%s-%s%s%s%s%s", class_word(v->cls), v->target,
		 v->target[0] ? "-" : "", *sig ? sig : "unknown",
		 v->what[0] ? "-" : "", v->what);
	sanitize(buf);
}

/* -------------------------------------------------------------- JSON */

static json_t *finding_meta(const struct finding_writer *w,
			    const struct fuzz_finding *f)
{
	json_t *meta = json_pack("{ssss}", "kernel", w->kernel, "tool", FUZZ_TOOL);

	if (!meta)
		return NULL;
	if (target_set_meta(f->set, f->p, f->v, meta) < 0)
		goto oom;
	if (w->inject && json_object_set_new(meta, "inject", json_string(w->inject)) < 0)
		goto oom;
	return meta;
oom:
	json_decref(meta);
	return NULL;
}

/* The trace: the reference's outcome as the trace's own (the model's where
 * the model ran alone), the others' in meta.outcomes. */
static char *finding_text(const struct finding_writer *w,
			  const struct fuzz_finding *f)
{
	struct program shown = *f->p; /* shares p's ops: never freed */
	json_t *meta = finding_meta(w, f);
	char *text;

	if (!meta)
		return NULL;
	shown.extras = json_pack("{so}", "meta", meta);
	if (!shown.extras)
		return NULL;
	text = trace_dump(&shown, target_set_own(f->set));
	json_decref(shown.extras);
	return text;
}

/* ------------------------------------------------------------ files */

/* The ops of the program already saved under path; -1 when there is none
 * (or it cannot be read, which a new one may then replace). */
static long saved_ops(const char *path)
{
	struct program p;
	struct error err;
	long n;

	if (access(path, F_OK) < 0 || trace_load_file(path, &p, NULL, &err) < 0)
		return -1;
	n = (long)p.nops;
	program_free(&p);
	return n;
}

/* The kept file's time says when its bug was last seen. */
static void touch(const char *path)
{
	utimensat(AT_FDCWD, path, NULL, 0);
}

static int write_pair(const char *json_path, const char *bin_path,
		      const char *text, const struct fuzz_finding *f,
		      struct error *err)
{
	/* the input first: whoever sees the .json finds its .bin beside it */
	if (write_atomically(bin_path, f->input, f->input_size, err) < 0)
		return -1;
	return write_atomically(json_path, text, strlen(text), err);
}

int finding_write(const struct finding_writer *w, const struct fuzz_finding *f,
		  enum finding_fate *fate, char *path, size_t path_len,
		  struct error *err)
{
	char name[160], bin[4096];
	char *text;
	long before;
	int rc;

	finding_name(f->v, name, sizeof(name));
	if (make_dir(w->dir, err) < 0 ||
	    path_printf(path, path_len, err, "%s/%s.json", w->dir, name) < 0 ||
	    path_printf(bin, sizeof(bin), err, "%s/%s.bin", w->dir, name) < 0)
		return -1;
	before = saved_ops(path);
	if (before >= 0 && before <= (long)f->p->nops) {
		*fate = FINDING_SEEN;
		touch(path);
		return 0;
	}
	*fate = before < 0 ? FINDING_NEW : FINDING_SMALLER;
	text = finding_text(w, f);
	if (!text)
		return fail(err, "%s: out of memory", path);
	rc = write_pair(path, bin, text, f, err);
	free(text);
	return rc;
}
