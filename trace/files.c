/*
 * files.c - how every piece writes files: whole or not at all, so that a
 * reader (libFuzzer, a person, a second fuzzing job) never sees half of one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace.h"

int path_printf(char *buf, size_t len, struct error *err, const char *fmt, ...)
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

int make_dir(const char *path, struct error *err)
{
	struct stat st;

	if (mkdir(path, 0777) == 0)
		return 0;
	if (errno != EEXIST)
		return fail(err, "%s: %s", path, strerror(errno));
	/* Something is there: only a directory (or a link to one) will do. */
	if (stat(path, &st) < 0)
		return fail(err, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, "%s: not a directory", path);
	return 0;
}

/*
 * What a write to path replaces.  A regular file (or a name not taken yet)
 * is replaced by a rename, so that nobody sees half of it.  A symlink is
 * followed first: the file it names is replaced the same way, beside
 * itself, and the link stays.  Anything else (a device, a FIFO) is written
 * in place: renaming over "-o /dev/null" would put a plain file where the
 * device was, for every process on the machine.
 */
static int resolve(const char *path, char *real, size_t len, bool *in_place,
		   struct error *err)
{
	struct stat st;
	char *r;

	*in_place = false;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return fail(err, "%s: %s", path, strerror(errno));
		return path_printf(real, len, err, "%s", path);
	}
	if (!S_ISLNK(st.st_mode)) {
		*in_place = !S_ISREG(st.st_mode);
		return path_printf(real, len, err, "%s", path);
	}
	r = realpath(path, NULL);
	if (!r) /* a dangling link: write in place, which creates its target */
		return *in_place = true, path_printf(real, len, err, "%s", path);
	*in_place = stat(r, &st) == 0 && !S_ISREG(st.st_mode);
	int rc = path_printf(real, len, err, "%s", r);

	free(r);
	return rc;
}

static int write_in_place(const char *path, const void *data, size_t len,
			  struct error *err)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (!f)
		return fail(err, "%s: %s", path, strerror(errno));
	ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	return ok ? 0 : fail(err, "%s: cannot write", path);
}

int write_atomically(const char *path, const void *data, size_t len,
		     struct error *err)
{
	char real[4096], tmp[4096 + 32];
	bool in_place;
	FILE *f;
	bool ok;

	if (resolve(path, real, sizeof(real), &in_place, err) < 0)
		return -1;
	if (in_place)
		return write_in_place(real, data, len, err);
	/* The pid keeps parallel fuzzing jobs off each other's temp files. */
	if (path_printf(tmp, sizeof(tmp), err, "%s.tmp.%ld", real,
			(long)getpid()) < 0)
		return -1;
	f = fopen(tmp, "wb");
	if (!f)
		return fail(err, "%s: %s", tmp, strerror(errno));
	ok = fwrite(data, 1, len, f) == len;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, real) < 0) {
		int e = errno;

		unlink(tmp);
		return fail(err, "%s: cannot write: %s (nothing changed)", path,
			    strerror(e));
	}
	return 0;
}

uint64_t hash_bytes(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
