/*
 * chunks.c - ddmin's walk over a sequence: remove chunks of half of it,
 * then a quarter, ... then single items, keeping each removal that works.
 * The minimiser (minimize.c) walks a program's ops with it, and so does
 * AFL++'s trimming (fuzz/afl_mutator.c), so that both shrink alike.
 */
#include "trace.h"

void chunk_walk_init(struct chunk_walk *w, unsigned n)
{
	w->size = n / 2;
	w->start = 0;
}

bool chunk_walk_next(struct chunk_walk *w, unsigned n, unsigned *from,
		     unsigned *len)
{
	while (w->size >= 1) {
		if (w->start < n) {
			unsigned left = n - w->start;

			*from = w->start;
			*len = left < w->size ? left : w->size;
			if (*len < n) /* never the whole sequence */
				return true;
		}
		w->size /= 2;
		w->start = 0;
	}
	return false;
}

void chunk_walk_step(struct chunk_walk *w, unsigned len, bool kept)
{
	/* A removal that was kept shifts what followed into its place. */
	if (!kept)
		w->start += len;
}
