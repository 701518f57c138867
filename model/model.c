/* model.c - placeholder */
#include <stdlib.h>
#include "model.h"
struct model { int unused; };
struct model *model_new(const struct target_config *cfg, struct error *err) { fail(err, "model: not implemented"); return NULL; }
void model_free(struct model *m) { free(m); }
int model_run(struct model *m, const struct program *p, struct outcome *out, struct error *err) { return fail(err, "model: not implemented"); }
bool model_check(struct model *m, struct violation *v) { return true; }
bool model_damage(struct model *m, enum model_damage what) { return false; }
int model_run_prefix(struct model *m, const struct program *p, unsigned n, struct outcome *out, struct error *err) { return fail(err, "model: not implemented"); }
static struct target *open_(const struct target_config *cfg, struct error *err) { return (struct target *)model_new(cfg, err); }
static int run_(struct target *t, const struct program *p, struct outcome *out, struct error *err) { return model_run((struct model *)t, p, out, err); }
static void close_(struct target *t) { model_free((struct model *)t); }
const struct target_ops model_target = { "model", "in-process model of the kernel objects", open_, run_, close_ };
