/*
 * executor_main.c - epollfuzz-executor: the executor as a program of its
 * own, for the exec target (exec.c), which runs it under a wrapper:
 *
 *   CMD ARGS... epollfuzz-executor --ctl N [--progress M]
 *
 * N is the inherited control socket, M a memfd holding the page where the
 * step being run is published (the watchdog reads it when the executor
 * dies or hangs).  From there on it is exactly the linux target's forked
 * child: channel_serve (channel.c).
 *
 * Built without sanitizers: ASan's shadow memory does not fit under
 * qemu-user and does not run under valgrind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"

struct args {
	int ctl, progress;
};

static int usage(const char *msg)
{
	fprintf(stderr, "epollfuzz-executor: %s\n"
			"usage: epollfuzz-executor --ctl FD [--progress FD]\n"
			"  (run by epollfuzz's exec target, not by hand)\n",
		msg);
	return 2;
}

static bool parse_fd(const char *text, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > 1 << 20)
		return false;
	*fd = (int)v;
	return true;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	a->ctl = a->progress = -1;
	for (int i = 1; i < argc; i += 2) {
		int *fd = strcmp(argv[i], "--ctl") == 0        ? &a->ctl
			  : strcmp(argv[i], "--progress") == 0 ? &a->progress
							       : NULL;

		if (!fd || i + 1 >= argc || !parse_fd(argv[i + 1], fd))
			return -1;
	}
	return a->ctl >= 0 ? 0 : -1;
}

/* The progress page: the parent's when it gave one, else our own. */
static _Atomic uint32_t *map_progress(int fd, _Atomic uint32_t *own)
{
	void *page;

	if (fd < 0)
		return own;
	page = mmap(NULL, sizeof(*own), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd); /* the mapping stays; channel_serve closes every other fd */
	return page == MAP_FAILED ? own : page;
}

int main(int argc, char **argv)
{
	static _Atomic uint32_t own_progress;
	struct args a;
	struct stat st;

	if (parse_args(argc, argv, &a) < 0)
		return usage("bad arguments");
	if (fstat(a.ctl, &st) < 0 || !S_ISSOCK(st.st_mode))
		return usage("the --ctl fd is not a socket");
	return channel_serve(a.ctl, map_progress(a.progress, &own_progress));
}
