/*
 * bad_plugin.c - plugins that are wrong on purpose, for the loader's
 * messages: it reports a program's last step first (out of order); built
 * with -DBAD_ABI_VERSION=99 it claims an ABI this epollfuzz does not know.
 */
#include <stdlib.h>

#include <epollfuzz/plugin.h>

#ifndef BAD_ABI_VERSION
#define BAD_ABI_VERSION EPOLLFUZZ_PLUGIN_ABI_VERSION
#endif

static void *bad_open(char *err, uint32_t errlen)
{
	(void)err;
	(void)errlen;
	return malloc(1);
}

static int bad_run(void *instance, const struct epollfuzz_program *p,
		   const struct epollfuzz_host *host, char *err, uint32_t errlen)
{
	struct epollfuzz_result r = { .size = sizeof(r), .step = p->nops - 1,
				      .thread = p->ops[p->nops - 1].thread };

	(void)instance;
	(void)err;
	(void)errlen;
	return host->step(host->ctx, &r) < 0 ? -1 : 0;
}

static void bad_close(void *instance)
{
	free(instance);
}

static const struct epollfuzz_plugin bad_plugin = {
	.abi_version = BAD_ABI_VERSION,
	.size = sizeof(bad_plugin),
	.name = "bad",
	.open = bad_open,
	.run = bad_run,
	.close = bad_close,
};

const struct epollfuzz_plugin *epollfuzz_plugin_v1(void)
{
	return &bad_plugin;
}
