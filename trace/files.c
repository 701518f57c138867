/*
 * files.c - how every piece writes files: whole or not at all, so that a
 * reader (libFuzzer, a person, a second fuzzing job) never sees half of one.
 */
#include <errno.h>
#include <stdarg.h>
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
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		return fail(err, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * Only a regular file (or a name not taken yet) may be replaced by a
 * rename: renaming over "-o /dev/null" would put a plain file where the
 * device was, for every process on the machine.  Anything else (a device,
 * a FIFO, a symlink) is written in place.
 */
static bool replaceable(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? errno == ENOENT : S_ISREG(st.st_mode);
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
	char tmp[4096];
	FILE *f;
	bool ok;

	if (!replaceable(path))
		return write_in_place(path, data, len, err);
	/* The pid keeps parallel fuzzing jobs off each other's temp files. */
	if (path_printf(tmp, sizeof(tmp), err, "%s.tmp.%ld", path,
			(long)getpid()) < 0)
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
