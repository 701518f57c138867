/*
 * rust_fmt.c - Rust expressions laid out as rustfmt lays them out, so that
 * an exported test is rustfmt-clean as written.
 *
 * The exporter only writes a few shapes: calls, macro calls, tuples,
 * arrays and vec!s of those, closures, and atoms (paths, literals, short
 * chains).  rustfmt's rules for them, as far as those shapes go:
 *
 *   - a list goes on one line when it fits in max_width and its items,
 *     joined by ", ", are no wider than fn_call_width (calls, macros,
 *     tuples) or array_width (arrays, vec!), each nested list likewise;
 *     a single item that cannot overflow (below) counts in max_width only;
 *   - else a list of one item that is itself a list or a closure keeps its
 *     head on the line and lays that item out from there ("overflow":
 *     `Ok(vec![` ... `])`); a list laid out so never goes on one line
 *     (it would have, with its head, had it been narrow enough), a
 *     closure does where it fits;
 *   - else each item goes on its own line, 4 columns in, with a trailing
 *     comma, except anywhere inside a macro call in parentheses
 *     (assert_eq!), where rustfmt adds none (vec! is laid out as an array);
 *   - a closure whose body does not fit gets braces around it;
 *   - a chain of one method call goes on one line where it fits in
 *     max_width (chain_width is for longer chains), else the call goes on
 *     the next line;
 *   - `a | b | c` that does not fit puts each `| operand` on a line of its
 *     own, 4 columns in;
 *   - `let x = e;` breaks after `=` when e then fits on one line, or when
 *     e is a method call whose receiver then fits.
 */
#include <stdlib.h>
#include <string.h>

#include "rust.h"

const struct rs_style rs_style_default = { 100, 60, 60 };
const struct rs_style rs_style_miri = { 100, 100, 100 };

enum rx_kind { RX_ATOM, RX_LIST, RX_CLOSURE, RX_METHOD, RX_OR };

struct rx {
	enum rx_kind kind;
	const char *text; /* an atom's text, a list's head, "move ||", ".method()" */
	char open;        /* a list's '(' or '[' */
	bool macro;       /* a macro call: no trailing comma in it */
	struct rx *first, *last, *next;
	unsigned n;
};

/* Every allocation, to be freed at once. */
struct rx_arena {
	void **ptrs;
	size_t n, cap;
	bool ok;
};

struct rx_arena *rx_arena_new(void)
{
	struct rx_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->ok = true;
	return a;
}

bool rx_arena_ok(const struct rx_arena *a)
{
	return a->ok;
}

void rx_arena_free(struct rx_arena *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	free(a);
}

static void *arena_alloc(struct rx_arena *a, size_t size)
{
	void *p;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 256;
		void **grown = realloc(a->ptrs, cap * sizeof(*grown));

		if (!grown) {
			a->ok = false;
			return NULL;
		}
		a->ptrs = grown;
		a->cap = cap;
	}
	if (!(p = calloc(1, size))) {
		a->ok = false;
		return NULL;
	}
	a->ptrs[a->n++] = p;
	return p;
}

static struct rx *node(struct rx_arena *a, enum rx_kind kind, const char *text)
{
	struct rx *e = arena_alloc(a, sizeof(*e));
	char *copy = arena_alloc(a, strlen(text) + 1);

	if (!e || !copy)
		return NULL;
	strcpy(copy, text);
	e->kind = kind;
	e->text = copy;
	return e;
}

struct rx *rx_atom(struct rx_arena *a, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return node(a, RX_ATOM, text);
}

struct rx *rx_list(struct rx_arena *a, const char *head, char open)
{
	struct rx *e = node(a, RX_LIST, head);

	if (e)
		e->open = open;
	return e;
}

struct rx *rx_macro(struct rx_arena *a, const char *name, char open)
{
	struct rx *e = rx_list(a, name, open);

	if (e)
		e->macro = true;
	return e;
}

struct rx *rx_closure(struct rx_arena *a, struct rx *body)
{
	struct rx *e = node(a, RX_CLOSURE, "move ||");

	if (e && body)
		e->first = e->last = body;
	else if (e)
		a->ok = false;
	return e;
}

struct rx *rx_method(struct rx_arena *a, struct rx *receiver, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	struct rx *e;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e = node(a, RX_METHOD, text);
	if (e && receiver)
		e->first = e->last = receiver;
	else if (e)
		a->ok = false;
	return e;
}

struct rx *rx_or(struct rx_arena *a)
{
	return node(a, RX_OR, " | ");
}

struct rx *rx_push(struct rx *list, struct rx *item)
{
	if (!list || !item)
		return list;
	if (list->last)
		list->last->next = item;
	else
		list->first = item;
	list->last = item;
	list->n++;
	return list;
}

struct rx *rx_call(struct rx_arena *a, const char *head, ...)
{
	struct rx *e = rx_list(a, head, '(');
	struct rx *item;
	va_list ap;

	va_start(ap, head);
	while ((item = va_arg(ap, struct rx *)))
		rx_push(e, item);
	va_end(ap);
	return e;
}

/* ------------------------------------------------------------------------
 * Widths.
 */

static char closer(char open)
{
	return open == '[' ? ']' : ')';
}

static unsigned width(const struct rx *e);

/* Whether rustfmt may lay e out from the end of the line its list starts
 * on, as the list's only item ("overflow"): lists, closures, calls. */
static bool overflowable(const struct rx *e)
{
	return e->kind == RX_LIST || e->kind == RX_CLOSURE || e->kind == RX_METHOD;
}

/* The items joined by ", ". */
static unsigned items_width(const struct rx *e)
{
	unsigned w = 0;

	for (const struct rx *i = e->first; i; i = i->next)
		w += width(i) + (i->next ? 2 : 0);
	return w;
}

/* On one line. */
static unsigned width(const struct rx *e)
{
	switch (e->kind) {
	case RX_ATOM:
		return (unsigned)strlen(e->text);
	case RX_CLOSURE:
		return (unsigned)strlen(e->text) + 1 + width(e->first);
	case RX_METHOD:
		return width(e->first) + (unsigned)strlen(e->text);
	case RX_OR:
		return items_width(e) + (e->n ? e->n - 1 : 0); /* ", " -> " | " */
	case RX_LIST:
		break;
	}
	return (unsigned)strlen(e->text) + 2 + items_width(e);
}

/* Whether rustfmt's width heuristics let e go on one line (max_width
 * aside). */
static bool one_line_ok(const struct rs_style *st, const struct rx *e)
{
	unsigned limit = e->open == '[' ? st->array_width : st->call_width;

	if (e->kind == RX_CLOSURE || e->kind == RX_METHOD)
		return one_line_ok(st, e->first);
	if (e->kind == RX_ATOM || e->kind == RX_OR)
		return true;
	if (items_width(e) > limit && (e->n != 1 || overflowable(e->first)))
		return false;
	for (const struct rx *i = e->first; i; i = i->next)
		if (!one_line_ok(st, i))
			return false;
	return true;
}

/* Whether e fits on one line from column col, with suffix columns after. */
static bool fits_at(const struct rs_style *st, const struct rx *e, unsigned col,
		    unsigned suffix)
{
	return col + width(e) + suffix <= st->max_width && one_line_ok(st, e);
}

/* ------------------------------------------------------------------------
 * Output.
 */

static void put(struct rs_out *o, const char *s)
{
	for (; *s; s++) {
		fputc(*s, o->f);
		o->col = *s == '\n' ? 0 : o->col + 1;
	}
}

static void put_char(struct rs_out *o, char c)
{
	char s[2] = { c, '\0' };

	put(o, s);
}

static void new_line(struct rs_out *o, unsigned indent)
{
	put(o, "\n");
	for (unsigned i = 0; i < indent; i++)
		put(o, " ");
}

static void put_one_line(struct rs_out *o, const struct rx *e)
{
	if (e->kind == RX_METHOD) {
		put_one_line(o, e->first);
		put(o, e->text);
		return;
	}
	if (e->kind == RX_OR) {
		for (const struct rx *i = e->first; i; i = i->next) {
			put_one_line(o, i);
			if (i->next)
				put(o, e->text);
		}
		return;
	}
	put(o, e->text);
	if (e->kind == RX_ATOM)
		return;
	if (e->kind == RX_CLOSURE) {
		put(o, " ");
		put_one_line(o, e->first);
		return;
	}
	put_char(o, e->open);
	for (const struct rx *i = e->first; i; i = i->next) {
		put_one_line(o, i);
		if (i->next)
			put(o, ", ");
	}
	put_char(o, closer(e->open));
}

static void emit(struct rs_out *o, const struct rx *e, unsigned indent,
		 unsigned suffix, bool in_macro, bool one_line);

/* Each item on its own line, 4 columns in. */
static void emit_vertical(struct rs_out *o, const struct rx *e, unsigned indent,
			  bool in_macro)
{
	for (const struct rx *i = e->first; i; i = i->next) {
		bool comma = i->next || !in_macro;

		new_line(o, indent + 4);
		emit(o, i, indent + 4, comma ? 1 : 0, in_macro, true);
		if (comma)
			put(o, ",");
	}
	new_line(o, indent);
}

static void emit_list(struct rs_out *o, const struct rx *e, unsigned indent,
		      unsigned suffix, bool in_macro)
{
	bool inside = in_macro || (e->macro && e->open == '(');
	const struct rx *only = e->n == 1 ? e->first : NULL;

	put(o, e->text);
	put_char(o, e->open);
	if (only && overflowable(only))
		emit(o, only, indent, suffix + 1, inside, only->kind == RX_CLOSURE);
	else
		emit_vertical(o, e, indent, inside);
	put_char(o, closer(e->open));
}

/* A method call that does not fit after its receiver goes on the next
 * line, 4 columns in; after a receiver laid out over several lines, at the
 * receiver's indent. */
static void emit_method(struct rs_out *o, const struct rx *e, unsigned indent,
			bool in_macro)
{
	if (fits_at(o->style, e->first, o->col, 1)) { /* rustfmt keeps a column */
		put_one_line(o, e->first);
		new_line(o, indent + 4);
	} else {
		emit(o, e->first, indent, 0, in_macro, false);
		new_line(o, indent);
	}
	put(o, e->text);
}

/* e from the current column; on one line where it fits, if one_line. */
static void emit(struct rs_out *o, const struct rx *e, unsigned indent,
		 unsigned suffix, bool in_macro, bool one_line)
{
	if (one_line && fits_at(o->style, e, o->col, suffix)) {
		put_one_line(o, e);
		return;
	}
	switch (e->kind) {
	case RX_ATOM:
		put(o, e->text); /* nothing rustfmt could break */
		break;
	case RX_CLOSURE:
		put(o, e->text);
		put(o, " {");
		new_line(o, indent + 4);
		emit(o, e->first, indent + 4, 0, in_macro, true);
		new_line(o, indent);
		put(o, "}");
		break;
	case RX_LIST:
		emit_list(o, e, indent, suffix, in_macro);
		break;
	case RX_OR:
		for (const struct rx *i = e->first; i; i = i->next) {
			if (i != e->first) {
				new_line(o, indent + 4);
				put(o, "| ");
			}
			put_one_line(o, i);
		}
		break;
	case RX_METHOD:
		emit_method(o, e, indent, in_macro);
		break;
	}
}

static void put_indent(struct rs_out *o, unsigned indent)
{
	for (unsigned i = 0; i < indent; i++)
		put(o, " ");
}

void rs_statement(struct rs_out *o, unsigned indent, const char *lead,
		  const struct rx *e)
{
	unsigned n = (unsigned)strlen(lead);
	bool next_line = n && !fits_at(o->style, e, indent + n, 1) &&
			 fits_at(o->style, e, indent + 4, 1);
	/* a method call whose receiver only fits on the next line */
	bool chain_next = n && e->kind == RX_METHOD &&
			  !fits_at(o->style, e->first, indent + n, 1) &&
			  fits_at(o->style, e->first, indent + 4, 1);

	put_indent(o, indent);
	if (next_line || chain_next) {
		/* `let x =`, and the value on the next line, where it fits */
		fprintf(o->f, "%.*s", (int)(n - 1), lead);
		new_line(o, indent + 4);
		emit(o, e, indent + 4, 1, false, true);
	} else {
		put(o, lead);
		emit(o, e, indent, 1, false, true);
	}
	put(o, ";\n");
}

void rs_line(struct rs_out *o, unsigned indent, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	put_indent(o, indent);
	put(o, line);
	put(o, "\n");
}

/* One comment line of at most room columns from text (up to a newline),
 * broken at a space; returns where the rest starts. */
static const char *comment_line(struct rs_out *o, unsigned indent,
				const char *text, size_t room)
{
	size_t n = strcspn(text, "\n"), cut = n, next;

	if (n > room) {
		cut = room;
		while (cut > 0 && text[cut] != ' ')
			cut--;
		if (cut == 0) /* one long word: let it run over */
			cut = strcspn(text, " \n");
	}
	next = cut;
	while (cut > 0 && text[cut - 1] == ' ')
		cut--;
	put_indent(o, indent);
	fprintf(o->f, "%s%.*s\n", cut ? "// " : "//", (int)cut, text);
	o->col = 0;
	text += next;
	while (*text == ' ')
		text++;
	return *text == '\n' ? text + 1 : text;
}

void rs_comment(struct rs_out *o, unsigned indent, const char *text)
{
	size_t room = o->style->max_width - indent - 3;

	do
		text = comment_line(o, indent, text, room);
	while (*text);
}
