/*
 * fuzz_diff.c - fuzz harness: the model against the Linux oracle (the
 * session core, session.c, does the work).  Environment: EPOLLFUZZ_THREADS,
 * EPOLLFUZZ_INJECT, EPOLLFUZZ_NONDET_DIR, EPOLLFUZZ_FINDINGS (unset: a
 * finding aborts, so that the engine saves the input).
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return harness_start(FUZZ_TARGET_DIFF, "fuzz_diff");
}
