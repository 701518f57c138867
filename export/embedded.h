/*
 * embedded.h - the reproducer's runtime sources, as the build embeds them
 * (embed.c): oracle/settle.h and settle.c, and the files in export/runtime.
 */
#ifndef EPOLLFUZZ_EMBEDDED_H
#define EPOLLFUZZ_EMBEDDED_H

struct embedded_file {
	const char *name;          /* its path in the source tree: "oracle/settle.c" */
	const char *const *lines;  /* without their newlines; NULL-terminated */
};

/* Ends with a NULL name. */
extern const struct embedded_file embedded_files[];

#endif
