/*
 * seedgen.c - turns JSON traces into binary fuzz seeds.
 *
 *   seedgen OUTDIR INPUT...
 *
 * Each INPUT is a trace or a directory of *.json traces; each trace becomes
 * OUTDIR/<name>.seed, bytes that the fuzz targets decode to the trace's
 * program, bent into the limits of EPOLLFUZZ_THREADS and EPOLLFUZZ_PROFILE
 * (fuzz_limits()) where it exceeds them.
 * Seeds already in OUTDIR are removed first, so that a trace deleted from
 * the corpus loses its seed.  Exit status: 0, or 2 with one message when an
 * input or EPOLLFUZZ_THREADS is bad.
 */
#include "fuzz.h"

int main(int argc, char **argv)
{
	struct error err = { "" };
	struct decode_limits lim;
	const char *outdir = argv[1];

	if (argc < 2) {
		fprintf(stderr, "usage: seedgen OUTDIR [TRACE.json | DIR]...\n");
		return 2;
	}
	if (fuzz_limits(&lim, &err) < 0 || make_dir(outdir, &err) < 0 ||
	    seeds_remove(outdir, &err) < 0)
		goto bad;
	for (int i = 2; i < argc; i++)
		if (seeds_from_traces(outdir, argv[i], &lim, &err) < 0)
			goto bad;
	return 0;
bad:
	fprintf(stderr, "seedgen: %s\n", err.msg);
	return 2;
}
