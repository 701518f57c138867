/*
 * fuzz_model.c - fuzz harness: the model alone, checking its invariants
 * after every step (the session core, session.c, does the work).  Fast (no
 * syscalls, no child process).  Environment as fuzz_diff's.
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return harness_start(FUZZ_TARGET_MODEL, "fuzz_model");
}
