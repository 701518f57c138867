/* oracle.c - placeholder */
#include "oracle.h"
static struct target *open_(const struct target_config *cfg, struct error *err) { fail(err, "linux: not implemented"); return NULL; }
static int run_(struct target *t, const struct program *p, struct outcome *out, struct error *err) { return fail(err, "linux: not implemented"); }
static void close_(struct target *t) {}
const struct target_ops linux_target = { "linux", "real syscalls on the running kernel", open_, run_, close_ };
