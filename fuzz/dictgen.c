/*
 * dictgen.c - prints the byte format's dictionary (dict.c) for the
 * standalone harnesses and OSS-Fuzz.  Usage: dictgen > fuzz_diff.dict
 */
#include "fuzz.h"

int main(void)
{
	return fuzz_dict_print(stdout) < 0 || fflush(stdout) != 0;
}
