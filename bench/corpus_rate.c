/*
 * corpus_rate.c - programs/second of the linux target alone on the inputs
 * of a fuzz corpus directory: what a campaign's programs cost the oracle
 * by themselves, beside the campaign's own rate (bench/campaign.sh).
 *
 * Usage: corpus_rate [--seconds S] [--threads N] DIR
 *
 * Every file of DIR that fits --threads (default 4, as the campaign's) is
 * decoded as the campaign decodes it and run, round after round, for S
 * seconds (default 5).  Prints "R programs/s (N programs, M ops each)".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "oracle.h"
#include "profile.h"
#include "now.h"

#define MAX_INPUTS 8192
#define MAX_INPUT_LEN (1 << 16)

struct corpus {
	struct program *p;
	unsigned n;
	unsigned long ops;
};

static _Noreturn void die(const char *what, const char *msg)
{
	fprintf(stderr, "corpus_rate: %s: %s\n", what, msg);
	exit(1);
}

static void add_input(struct corpus *c, const char *path,
		      const struct decode_limits *lim)
{
	static uint8_t buf[MAX_INPUT_LEN];
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!f)
		die(path, strerror(errno));
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (len == 0 || !input_fits(buf, len, lim))
		return;
	program_decode(buf, len, lim, &c->p[c->n]);
	c->ops += c->p[c->n++].nops;
}

static void load(struct corpus *c, const char *dir, const struct decode_limits *lim)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		die(dir, strerror(errno));
	c->p = calloc(MAX_INPUTS, sizeof(*c->p));
	if (!c->p)
		die("programs", "out of memory");
	while ((e = readdir(d)) && c->n < MAX_INPUTS) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		add_input(c, path, lim);
	}
	closedir(d);
	if (!c->n)
		die(dir, "no input fits");
}

int main(int argc, char **argv)
{
	struct decode_limits lim = { FUZZ_MAX_OPS, 4, PROFILE_ANY };
	struct target_config cfg = { 0 };
	double seconds = 5, start;
	unsigned long runs = 0;
	struct corpus c = { 0 };
	struct outcome out;
	struct error err;
	struct target *t;
	int i;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			lim.max_threads = (unsigned)atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: corpus_rate [--seconds S] [--threads N] DIR\n");
		return 2;
	}
	load(&c, argv[i], &lim);
	if (!(t = linux_target.open(&cfg, &err)))
		die("linux", err.msg);
	outcome_init(&out);
	start = now();
	do {
		for (unsigned k = 0; k < c.n; k++, runs++)
			if (linux_target.run(t, &c.p[k], &out, &err) < 0)
				die("linux", err.msg);
	} while (now() - start < seconds);
	printf("%.0f programs/s (%u programs, %.1f ops each)\n",
	       (double)runs / (now() - start), c.n, (double)c.ops / c.n);
	outcome_free(&out);
	linux_target.close(t);
	for (unsigned k = 0; k < c.n; k++)
		program_free(&c.p[k]);
	free(c.p);
	return 0;
}
