/*
 * harness.c - what the standalone harnesses (fuzz_diff, fuzz_model, and
 * their AFL++ builds) share: a session configured from the environment,
 * attached to the libFuzzer face.
 */
#include <stdlib.h>

#include "fuzz.h"

int harness_start(enum fuzz_target target, const char *name)
{
	struct error err = { "" };
	struct fuzz_config cfg;
	struct fuzz_session *s;

	if (fuzz_config_from_env(&cfg, target, name, &err) < 0) {
		fprintf(stderr, "%s: %s\n", name, err.msg);
		exit(1);
	}
	s = fuzz_session_open(&cfg, &err);
	if (!s) {
		fprintf(stderr, "%s: cannot start: %s\n", name, err.msg);
		exit(1);
	}
	libfuzzer_attach(s);
	return 0;
}
