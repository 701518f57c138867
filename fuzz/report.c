/*
 * report.c - how the fuzz targets write a finding down before aborting.
 */
#include <stdlib.h>

#include "fuzz.h"

static void print_listing(FILE *f, const struct program *p,
			  const struct outcome *out)
{
	char call[160], res[320];

	for (uint32_t i = 0; i < out->nsteps; i++) {
		const struct step_record *r = &out->steps[i];

		if (r->step < p->nops)
			op_format(&p->ops[r->step], call, sizeof(call));
		else
			snprintf(call, sizeof(call), "(step %u)", r->step);
		result_format(out, &r->res, res, sizeof(res));
		fprintf(f, "  %3u  %-48s %s\n", r->step, call, res);
	}
}

void fuzz_print_trace(FILE *f, const struct program *p,
		      const struct outcome *out)
{
	char *json = trace_dump(p, out);

	if (json) {
		fprintf(f, "%s\n", json);
		free(json);
		return;
	}
	fprintf(f, "(no JSON: trace_dump failed; the program step by step)\n");
	print_listing(f, p, out);
}
