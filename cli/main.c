/*
 * main.c - the epollfuzz command: global options and subcommand dispatch.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

#ifndef EPOLLFUZZ_VERSION
#define EPOLLFUZZ_VERSION "unknown"
#endif

struct command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

/* Adding a subcommand is adding its row here (and its cmd_ function). */
static const struct command commands[] = {
	{ "run", "run JSON traces on targets and compare their outcomes", cmd_run },
	{ "ops", "list the operations a trace may hold", cmd_ops },
	{ "export", "a finding as a standalone C reproducer or normalised JSON", cmd_export },
	{ "minimize", "shrink a finding, keeping its signature", cmd_minimize },
	{ "fuzz", "fuzz the model against Linux (or alone); write findings", cmd_fuzz },
	{ "inject", "list the bugs that can be injected into the model", cmd_inject },
	{ "conform", "a target's conformance to Linux over a corpus, by area", cmd_conform },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "epollfuzz%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'epollfuzz%s%s --help'.\n", cmd ? " " : "",
		cmd ? cmd : "");
	return EXIT_TROUBLE;
}

static void print_help(FILE *f)
{
	fputs("usage: epollfuzz COMMAND [OPTION...] [ARG...]\n"
	      "       epollfuzz --help | --version\n"
	      "\n"
	      "A differential fuzzer for Linux epoll semantics: programs of epoll, pipe,\n"
	      "eventfd, socketpair, dup, close, read, write and shutdown calls run on an\n"
	      "in-process model and on the real kernel, and their outcomes are compared.\n"
	      "\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\nTargets (--target SPEC, --reference SPEC):\n", f);
	target_kinds_help(f);
	fputs("\n"
	      "Exit status: 0 no finding, 1 a finding (divergence, broken invariant,\n"
	      "unsupported operation), 2 bad input or usage.\n"
	      "'epollfuzz COMMAND --help' describes a command.\n", f);
}

static const struct command *command_by_name(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	const char *first = argc > 1 ? argv[1] : NULL;

	if (!first)
		return usage_error(NULL, "no command given");
	if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0) {
		print_help(stdout);
		return EXIT_AGREE;
	}
	if (strcmp(first, "--version") == 0) {
		printf("epollfuzz %s (trace format %d)\n", EPOLLFUZZ_VERSION,
		       TRACE_VERSION);
		return EXIT_AGREE;
	}
	if (first[0] == '-')
		return usage_error(NULL, "unknown option '%s'", first);
	cmd = command_by_name(first);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", first);
	return cmd->main(argc - 1, argv + 1);
}
