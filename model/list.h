/*
 * list.h - a circular doubly linked list, as in the kernel's <linux/list.h>.
 *
 * The model's ready lists and wait queues must keep the kernel's order
 * exactly (insert at head or tail, splice back at head), so they use the
 * same structure the kernel does.
 */
#ifndef EPOLLFUZZ_MODEL_LIST_H
#define EPOLLFUZZ_MODEL_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list_head *h)
{
	h->next = h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_insert_(struct list_head *n, struct list_head *prev,
				struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *h)
{
	list_insert_(n, h, h->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	list_insert_(n, h->prev, h);
}

/* Unlinks n and leaves it pointing at itself, so list_empty(n) says
 * "not on any list" (the kernel's list_del_init). */
static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* Moves every entry of from to the head of to, in order; from is emptied. */
static inline void list_splice_init(struct list_head *from, struct list_head *to)
{
	if (list_empty(from))
		return;
	struct list_head *first = from->next, *last = from->prev;

	first->prev = to;
	last->next = to->next;
	to->next->prev = last;
	to->next = first;
	list_init(from);
}

/* Moves every entry of from to the tail of to, in order. */
static inline void list_splice_tail_init(struct list_head *from,
					 struct list_head *to)
{
	if (list_empty(from))
		return;
	struct list_head *first = from->next, *last = from->prev;

	first->prev = to->prev;
	to->prev->next = first;
	last->next = to;
	to->prev = last;
	list_init(from);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); \
	     pos = tmp, tmp = pos->next)

#define list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)

#endif
