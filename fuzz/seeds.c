/*
 * seeds.c - JSON traces turned into binary fuzz seeds, and the directory
 * chores around them, shared by seedgen and `epollfuzz fuzz` (which seeds
 * an empty work corpus from the shipped one).
 */
#include <dirent.h>
#include <errno.h>
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

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Where seeds go and how they are encoded. */
struct seed_job {
	const char *outdir;
	const struct decode_limits *lim;
};

static int seed_from_trace(const char *path, const void *arg,
			   struct error *err)
{
	const struct seed_job *job = arg;
	struct program p;
	uint8_t *bytes = NULL;
	size_t len = 0;
	char out[4096];
	const char *name = base_name(path);
	int rc;

	if (trace_load_file(path, &p, NULL, err) < 0)
		return -1;
	rc = program_encode(&p, job->lim, &bytes, &len);
	program_free(&p);
	if (rc < 0)
		return fail(err, "out of memory");
	rc = path_printf(out, sizeof(out), err, "%s/%.*s.seed", job->outdir,
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
		if (e->d_name[0] != '.' && has_suffix(e->d_name, suffix) &&
		    name_list_add(out, e->d_name) < 0) {
			closedir(d);
			name_list_free(out);
			return fail(err, "out of memory");
		}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), compare_names);
	return 0;
}

int for_each_in_dir(const char *dir, const char *suffix,
		    int (*fn)(const char *path, const void *arg, struct error *),
		    const void *arg, struct error *err)
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

long count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int remove_seed(const char *path, const void *unused, struct error *err)
{
	if (unlink(path) < 0)
		return fail(err, "%s: %s", path, strerror(errno));
	return 0;
}

int seeds_remove(const char *outdir, struct error *err)
{
	return for_each_in_dir(outdir, ".seed", remove_seed, NULL, err);
}

int seeds_from_traces(const char *outdir, const char *input,
		      const struct decode_limits *lim, struct error *err)
{
	struct seed_job job = { outdir, lim };
	struct stat st;

	if (stat(input, &st) < 0)
		return fail(err, "%s: %s", input, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return for_each_in_dir(input, ".json", seed_from_trace, &job, err);
	if (!has_suffix(input, ".json"))
		return fail(err, "%s: not a .json trace", input);
	return seed_from_trace(input, &job, err);
}
