/* json.c - placeholder, replaced by the JSON codec */
#include <stdlib.h>
#include "trace.h"
int trace_parse(const char *text, size_t len, struct program *p, struct outcome *out, struct error *err) { return fail(err, "json: not implemented"); }
int trace_load_file(const char *path, struct program *p, struct outcome *out, struct error *err) { return fail(err, "json: not implemented"); }
struct json_t *trace_to_json(const struct program *p, const struct outcome *out) { return NULL; }
struct json_t *outcome_to_json(const struct program *p, const struct outcome *out) { return NULL; }
char *trace_dump(const struct program *p, const struct outcome *out) { return NULL; }
