/*
 * merge.c - inputs of other corpora added to a campaign's work corpus
 * (`epollfuzz fuzz --merge DIR`).  An input means the same program under
 * every setting (its header, decode.c), so any corpus can be merged: the
 * inputs that fit the campaign's settings and that the corpus does not
 * hold yet (the same bytes) are copied in, named by a hash of their bytes;
 * the engine then keeps or reduces them as its own.  libFuzzer's
 * `-merge=1` on a standalone harness does the same by coverage.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

enum { MERGE_MAX_INPUT = 1 << 20 }; /* larger files are not inputs */

/* The hashes of the inputs a directory holds, sorted. */
struct hash_set {
	uint64_t *h;
	size_t n, cap;
};

static int hash_set_add(struct hash_set *s, uint64_t h)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint64_t *nh = realloc(s->h, cap * sizeof(*nh));

		if (!nh)
			return -1;
		s->h = nh;
		s->cap = cap;
	}
	s->h[s->n++] = h;
	return 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool hash_set_has(const struct hash_set *s, uint64_t h)
{
	return s->n && bsearch(&h, s->h, s->n, sizeof(h), compare_u64);
}

/* The bytes of a regular file of at most MERGE_MAX_INPUT bytes: 0, 1 when
 * path is not such a file (skipped), -1 on an error. */
static int read_input(const char *path, uint8_t **data, size_t *len,
		      struct error *err)
{
	struct stat st;
	FILE *f;

	if (stat(path, &st) < 0)
		return fail(err, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > MERGE_MAX_INPUT)
		return 1;
	if (!(f = fopen(path, "rb")))
		return fail(err, "%s: %s", path, strerror(errno));
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	if (!*data || fread(*data, 1, *len, f) != *len) {
		fclose(f);
		free(*data);
		return fail(err, "%s: cannot read", path);
	}
	fclose(f);
	return 0;
}

/* Calls fn on each input of dir (regular files, in no order). */
static int each_input(const char *dir,
		      int (*fn)(const char *path, const uint8_t *data, size_t len,
				void *arg, struct error *err),
		      void *arg, struct error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return fail(err, "%s: %s", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		char path[4096];
		uint8_t *data = NULL;
		size_t len = 0;
		int got;

		if (e->d_name[0] == '.')
			continue;
		if (path_printf(path, sizeof(path), err, "%s/%s", dir, e->d_name) < 0 ||
		    (got = read_input(path, &data, &len, err)) < 0) {
			rc = -1;
			break;
		}
		if (got == 0)
			rc = fn(path, data, len, arg, err);
		free(data);
	}
	closedir(d);
	return rc;
}

static int note_hash(const char *path, const uint8_t *data, size_t len,
		     void *arg, struct error *err)
{
	if (hash_set_add(arg, hash_bytes(data, len)) < 0)
		return fail(err, "out of memory");
	return 0;
}

struct merge_job {
	const char *corpus;
	const struct decode_limits *lim;
	struct hash_set have;
	struct merge_counts *n;
};

static int merge_one(const char *path, const uint8_t *data, size_t len,
		     void *arg, struct error *err)
{
	struct merge_job *job = arg;
	uint64_t h = hash_bytes(data, len);
	char out[4096];

	if (!input_fits(data, len, job->lim)) {
		job->n->outside++;
		return 0;
	}
	if (hash_set_has(&job->have, h)) {
		job->n->present++;
		return 0;
	}
	if (path_printf(out, sizeof(out), err, "%s/merged-%016" PRIx64, job->corpus, h) < 0 ||
	    write_atomically(out, data, len, err) < 0)
		return -1;
	job->n->copied++;
	/* the same bytes twice in the source are copied once */
	if (hash_set_add(&job->have, h) < 0)
		return fail(err, "out of memory");
	qsort(job->have.h, job->have.n, sizeof(*job->have.h), compare_u64);
	return 0;
}

int corpus_merge(const char *corpus, const char *from,
		 const struct decode_limits *lim, struct merge_counts *n,
		 struct error *err)
{
	struct merge_job job = { corpus, lim, { NULL, 0, 0 }, n };
	int rc;

	*n = (struct merge_counts){ 0 };
	rc = each_input(corpus, note_hash, &job.have, err);
	if (rc == 0) {
		qsort(job.have.h, job.have.n, sizeof(*job.have.h), compare_u64);
		rc = each_input(from, merge_one, &job, err);
	}
	free(job.have.h);
	return rc;
}
