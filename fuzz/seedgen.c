/*
 * seedgen.c - turns JSON traces into binary fuzz seeds.
 *
 *   seedgen OUTDIR INPUT...
 *
 * Each INPUT is a trace or a directory of *.json traces; each trace becomes
 * OUTDIR/<name>.seed, bytes that the fuzz targets decode (with the limits in
 * fuzz.h) to the trace's program.  Seeds already in OUTDIR are removed
 * first, so that a trace deleted from the corpus loses its seed.  Exit
 * status: 0, or 2 with one message when an input is bad.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A path built from pieces, or an error when it does not fit. */
__attribute__((format(printf, 4, 5)))
static int path_printf(char *buf, size_t len, struct error *err,
		       const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return fail(err, "path too long: %.64s...", buf);
	return 0;
}

/* Writes data to path through a temporary file and a rename, so that a
 * reader never sees half a seed. */
static int write_atomically(const char *path, const uint8_t *data, size_t len,
			    struct error *err)
{
	char tmp[4096];
	FILE *f;
	bool ok;

	if (path_printf(tmp, sizeof(tmp), err, "%s.tmp", path) < 0)
		return -1;
	f = fopen(tmp, "wb");
	if (!f)
		return fail(err, "%s: %s", tmp, strerror(errno));
	ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return fail(err, "%s: cannot write", path);
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int seed_from_trace(const char *path, const char *outdir,
			   struct error *err)
{
	struct decode_limits lim = fuzz_limits();
	struct program p;
	uint8_t *bytes = NULL;
	size_t len = 0;
	char out[4096];
	const char *name = base_name(path);
	int rc;

	if (trace_load_file(path, &p, NULL, err) < 0)
		return -1;
	rc = program_encode(&p, &lim, &bytes, &len);
	program_free(&p);
	if (rc < 0)
		return fail(err, "out of memory");
	rc = path_printf(out, sizeof(out), err, "%s/%.*s.seed", outdir,
			 (int)(strlen(name) - strlen(".json")), name);
	if (rc == 0)
		rc = write_atomically(out, bytes, len, err);
	free(bytes);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct name_list {
	char **v;
	size_t n;
};

static void name_list_free(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int name_list_add(struct name_list *l, const char *name)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	l->v = v;
	if (!(l->v[l->n] = strdup(name)))
		return -1;
	l->n++;
	return 0;
}

/* The names in dir ending in suffix, sorted so that runs repeat. */
static int list_dir(const char *dir, const char *suffix, struct name_list *out,
		    struct error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*out = (struct name_list){ NULL, 0 };
	if (!d)
		return fail(err, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		if (has_suffix(e->d_name, suffix) && name_list_add(out, e->d_name) < 0) {
			closedir(d);
			return fail(err, "out of memory");
		}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), compare_names);
	return 0;
}

static int for_each_in_dir(const char *dir, const char *suffix,
			   int (*fn)(const char *path, const char *arg, struct error *),
			   const char *arg, struct error *err)
{
	struct name_list names;
	char path[4096];
	int rc = list_dir(dir, suffix, &names, err);

	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		rc = path_printf(path, sizeof(path), err, "%s/%s", dir, names.v[i]);
		if (rc == 0)
			rc = fn(path, arg, err);
	}
	name_list_free(&names);
	return rc;
}

static int remove_seed(const char *path, const char *unused, struct error *err)
{
	if (unlink(path) < 0)
		return fail(err, "%s: %s", path, strerror(errno));
	return 0;
}

static int seed_from_input(const char *outdir, const char *input,
			   struct error *err)
{
	struct stat st;

	if (stat(input, &st) < 0)
		return fail(err, "%s: %s", input, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return for_each_in_dir(input, ".json", seed_from_trace, outdir, err);
	if (!has_suffix(input, ".json"))
		return fail(err, "%s: not a .json trace", input);
	return seed_from_trace(input, outdir, err);
}

int main(int argc, char **argv)
{
	struct error err = { "" };
	const char *outdir;

	if (argc < 2) {
		fprintf(stderr, "usage: seedgen OUTDIR [TRACE.json | DIR]...\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "seedgen: %s: %s\n", outdir, strerror(errno));
		return 2;
	}
	if (for_each_in_dir(outdir, ".seed", remove_seed, NULL, &err) < 0)
		goto bad;
	for (int i = 2; i < argc; i++)
		if (seed_from_input(outdir, argv[i], &err) < 0)
			goto bad;
	return 0;
bad:
	fprintf(stderr, "seedgen: %s\n", err.msg);
	return 2;
}
