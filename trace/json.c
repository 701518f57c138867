/*
 * json.c - the trace format of TRACE_FORMAT.md, read and written with jansson.
 *
 * Reading is strict, because a trace is a bug report: every value is checked
 * against the op table (name, kind, range, flag names) and every error is one
 * line naming its place ("ops[3].events: unknown flag name 'EPOLLFOO'").
 * Writing emits only what reading needs to rebuild the same program: fields
 * given explicitly, in table order, flag values by name where every bit has
 * one.  Outcomes are written and read the same way, as exact inverses.
 * 64-bit values are plain JSON integers up to 2^64-1 both ways, which
 * jansson alone cannot do (see "big integers").
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

/* Large enough for "outcome.steps[4095].completed[7].events[1023].events". */
#define WHERE_LEN 96

/* Traces are small; anything this big is not one. */
#define MAX_TRACE_FILE (64u << 20)

/* ========================================================= big integers */

/*
 * u64 fields (epoll data, eventfd values) take the whole of 0..2^64-1 as
 * plain JSON integers, but jansson holds integers in int64_t and fails the
 * whole text ("too big integer") on any other.  (JSON_DECODE_INT_AS_REAL is
 * no way out: a double keeps 53 bits.)  So integers beyond int64_t pass
 * through jansson as strings in a form that no JSON text can produce, a
 * "big": U+0000 followed by the integer's own digits, sign and all.
 *
 * Reading: big_hide() scans the text for integer tokens outside strings
 * (escapes honoured, reals and their exponents skipped) that do not fit
 * int64_t, and rewrites each as the string "\u0000DIGITS"; jansson then
 * loads it with JSON_ALLOW_NUL.  A decoded string can hold U+0000 only from
 * a "\u0000" escape, which this codec has never accepted: a text with one
 * of its own is left as it is and loaded without JSON_ALLOW_NUL, so jansson
 * rejects it as before.  Hence a string starting with U+0000 is always a
 * big integer: get_u64() takes one in 0..UINT64_MAX, and every other reader
 * takes it for the integer it is, out of range or of the wrong type, and
 * says so at its place ("ops[2].fd: 18446744073709551614 out of range ...").
 * jansson's syntax errors are given back as about the caller's text.
 *
 * Writing: u64_to_json() makes a big for values above INT64_MAX, and
 * big_show() turns every string token "\u0000DIGITS" of the dumped text
 * into the bare DIGITS (jansson writes U+0000 as "\u0000"), in trace_dump()
 * and in trace_json_dumps(), for callers that dump such JSON themselves
 * (plain json_dumps() would leave "\u0000DIGITS" strings).  Nothing else
 * can write such a token: read strings hold no U+0000 (above), json_string()
 * stops at one, and a string holding the six characters \u0000 is written
 * "\\u0000...".  Bigs read in "x-" extras or meta are written back the same
 * way, as the integers they were.
 */

#define BIG_EXTRA 8 /* the bytes a big adds to its token: "\u0000 and " */
#define BIG_SHOWN 40 /* digits of a big quoted in an error message */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A big: a string of U+0000 and then the integer's text. */
static bool is_big(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 1 &&
	       json_string_value(v)[0] == '\0';
}

/* A string that is not a big. */
static bool is_text(const json_t *v)
{
	return json_is_string(v) && !is_big(v);
}

/* A big's integer for a message, cut short when very long. */
static const char *big_quote(const json_t *v, char buf[BIG_SHOWN + 4])
{
	const char *digits = json_string_value(v) + 1;

	snprintf(buf, BIG_SHOWN + 4, "%.*s%s", BIG_SHOWN, digits,
		 strlen(digits) > BIG_SHOWN ? "..." : "");
	return buf;
}

static json_t *big_new(uint64_t v)
{
	char text[24];
	int n;

	text[0] = '\0';
	n = snprintf(text + 1, sizeof(text) - 1, "%" PRIu64, v);
	return json_stringn(text, (size_t)n + 1);
}

/* Whether the n digits (no sign, no leading zero) fit int64_t. */
static bool fits_int64(const char *digits, size_t n, bool negative)
{
	if (n != 19)
		return n < 19;
	return memcmp(digits, negative ? "9223372036854775808"
				       : "9223372036854775807", 19) <= 0;
}

/* A walk over JSON text, outside strings, token by token. */
struct big_scan {
	const char *s;
	size_t len, pos;
	int line;      /* of pos, from 1 */
	bool nul;      /* a "\u0000" escape was seen */
};

static void scan_string(struct big_scan *sc)
{
	for (sc->pos++; sc->pos < sc->len; sc->pos++) {
		const char *c = sc->s + sc->pos;

		if (*c == '"') {
			sc->pos++;
			return;
		}
		if (*c == '\n') {
			sc->line++; /* an error to jansson; lines still count */
		} else if (*c == '\\' && sc->pos + 1 < sc->len) {
			if (c[1] == 'u' && sc->len - sc->pos >= 6 &&
			    memcmp(c + 2, "0000", 4) == 0)
				sc->nul = true;
			sc->pos++; /* the escaped character; \u's hex digits
				    * are plain characters */
		}
	}
}

static void scan_digits(struct big_scan *sc)
{
	while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
		sc->pos++;
}

/* Reads the number token at pos; true when it is an integer (by JSON's
 * grammar, as jansson reads it) that does not fit int64_t. */
static bool scan_number(struct big_scan *sc)
{
	bool negative = sc->s[sc->pos] == '-';
	size_t first, n;

	if (negative)
		sc->pos++;
	first = sc->pos;
	scan_digits(sc);
	n = sc->pos - first;
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		scan_digits(sc);
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		scan_digits(sc);
	}
	/* A real, a lone '-', "0", or a leading zero (which jansson refuses)
	 * is left to jansson. */
	if (n == 0 || sc->pos != first + n || sc->s[first] == '0')
		return false;
	return !fits_int64(sc->s + first, n, negative);
}

/* Moves to the next big integer token, [*start, pos); false at the end. */
static bool scan_next_big(struct big_scan *sc, size_t *start)
{
	while (sc->pos < sc->len) {
		char c = sc->s[sc->pos];

		if (c == '"') {
			scan_string(sc);
		} else if (c == '-' || is_digit(c)) {
			*start = sc->pos;
			if (scan_number(sc))
				return true;
		} else {
			sc->line += c == '\n';
			sc->pos++;
		}
	}
	return false;
}

/* Where big_hide() put a big: its place in the text it made. */
struct big_at {
	size_t start, end;
	int line;
};

struct big_load {
	char *text;         /* the text with bigs; NULL when unchanged */
	size_t len;
	struct big_at *at;
	size_t n;
};

/* Rewrites the big integers of text as bigs, in bt->text; leaves it NULL
 * when there are none, or when the text has a "\u0000" of its own.  -1 when
 * memory runs out. */
static int big_hide(const char *text, size_t len, struct big_load *bt)
{
	struct big_scan sc = { text, len, 0, 1, false };
	size_t start, n = 0, from = 0, to = 0;

	*bt = (struct big_load){ NULL, 0, NULL, 0 };
	while (scan_next_big(&sc, &start))
		n++;
	if (n == 0 || sc.nul)
		return 0;
	bt->len = len + n * BIG_EXTRA;
	bt->text = malloc(bt->len + 1);
	bt->at = calloc(n, sizeof(*bt->at));
	if (!bt->text || !bt->at) {
		free(bt->text);
		free(bt->at);
		return -1;
	}
	sc = (struct big_scan){ text, len, 0, 1, false };
	while (scan_next_big(&sc, &start)) {
		struct big_at *at = &bt->at[bt->n++];

		memcpy(bt->text + to, text + from, start - from);
		to += start - from;
		at->start = to;
		at->line = sc.line;
		memcpy(bt->text + to, "\"\\u0000", 7);
		to += 7;
		memcpy(bt->text + to, text + start, sc.pos - start);
		to += sc.pos - start;
		bt->text[to++] = '"';
		at->end = to;
		from = sc.pos;
	}
	memcpy(bt->text + to, text + from, len - from);
	bt->text[bt->len] = '\0';
	return 0;
}

/* jansson's error column in bt->text, as a column of the caller's text:
 * less the bytes the bigs before it on its line added (all ASCII). */
static int big_column(const struct big_load *bt, const json_error_t *jerr)
{
	size_t pos = jerr->position < 0 ? 0 : (size_t)jerr->position;
	int column = jerr->column;

	for (size_t i = 0; i < bt->n; i++) {
		const struct big_at *at = &bt->at[i];

		if (at->line != jerr->line || at->start >= pos)
			continue;
		if (at->end <= pos)
			column -= BIG_EXTRA;
		else
			column -= (int)(pos - at->start < 7 ? pos - at->start : 7);
	}
	return column;
}

/* jansson's error about a text with bigs, as it would be about the text as
 * given: its column there, and for a big integer in place of an object key
 * (a string holding U+0000 to jansson), the message a number there gets. */
static int big_error(struct error *err, const struct big_load *bt,
		     const json_error_t *jerr)
{
	const struct big_at *key = NULL;

	if (json_error_code(jerr) == json_error_null_byte_in_key)
		for (size_t i = 0; i < bt->n; i++)
			if (bt->at[i].line == jerr->line &&
			    bt->at[i].end <= (size_t)jerr->position)
				key = &bt->at[i];
	if (key)
		return fail(err, "line %d column %d: JSON syntax error: string or"
			    " '}' expected near '%.*s'", jerr->line,
			    big_column(bt, jerr),
			    (int)(key->end - key->start - BIG_EXTRA),
			    bt->text + key->start + 7);
	return fail(err, "line %d column %d: JSON syntax error: %s", jerr->line,
		    big_column(bt, jerr), jerr->text);
}

/* Turns every string token "\u0000DIGITS" of JSON text into DIGITS, in
 * place (the text only gets shorter). */
static void big_show(char *text)
{
	char *from = text, *to = text;

	while (*from) {
		char *end;

		if (*from != '"') {
			*to++ = *from++;
			continue;
		}
		if (strncmp(from, "\"\\u0000", 7) == 0) {
			char *digits = from + 7;

			end = digits + (*digits == '-');
			while (is_digit(*end))
				end++;
			if (*end == '"' && end > digits + (*digits == '-')) {
				memmove(to, digits, (size_t)(end - digits));
				to += end - digits;
				from = end + 1;
				continue;
			}
		}
		/* Any other string, copied whole, escapes and all. */
		*to++ = *from++;
		while (*from && *from != '"') {
			if (*from == '\\' && from[1])
				*to++ = *from++;
			*to++ = *from++;
		}
		if (*from)
			*to++ = *from++;
	}
	*to = '\0';
}

/* ================================================================ reading */

static const char *json_type_name(const json_t *v)
{
	if (is_big(v))
		return "integer";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "value";
}

/* Formats a place in the trace, "ops[3].events", for error messages; one
 * too long for the buffer only shortens its message. */
static const char *place(char buf[WHERE_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *place(char buf[WHERE_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, WHERE_LEN, fmt, ap);
	va_end(ap);
	return buf;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Annotation keys: allowed anywhere, kept verbatim on round trip. */
static bool is_extra_key(const char *key)
{
	return has_prefix(key, "x-");
}

static bool key_in(const char *key, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(key, *allowed) == 0)
			return true;
	return false;
}

/* Rejects any key of obj not listed.  Only outcomes use this: they are
 * written by the tool and have nowhere to keep "x-" annotations. */
static int check_keys(const json_t *obj, const char *where,
		      const char *const *allowed, struct error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
		if (!key_in(key, allowed))
			return fail(err, "%s: unknown key '%s'", where, key);
	return 0;
}

static int expect_object(const json_t *v, const char *where, struct error *err)
{
	if (!json_is_object(v))
		return fail(err, "%s: expected an object, got %s", where,
			    json_type_name(v));
	return 0;
}

static int expect_array(const json_t *v, const char *where, size_t min,
			size_t max, struct error *err)
{
	if (!json_is_array(v))
		return fail(err, "%s: expected an array, got %s", where,
			    json_type_name(v));
	if (json_array_size(v) < min || json_array_size(v) > max)
		return fail(err, "%s: expected %zu..%zu elements, got %zu",
			    where, min, max, json_array_size(v));
	return 0;
}

static int get_int(const json_t *v, const char *where, int64_t min,
		   int64_t max, int64_t *out, struct error *err)
{
	char big[BIG_SHOWN + 4];
	int64_t n;

	if (is_big(v))
		return fail(err, "%s: %s out of range %" PRId64 "..%" PRId64,
			    where, big_quote(v, big), min, max);
	if (!json_is_integer(v))
		return fail(err, "%s: expected an integer, got %s", where,
			    json_type_name(v));
	n = json_integer_value(v);
	if (n < min || n > max)
		return fail(err, "%s: %" PRId64 " out of range %" PRId64
			    "..%" PRId64, where, n, min, max);
	*out = n;
	return 0;
}

/* Looks up a member that must be there and be an integer in [min, max]. */
static int get_int_member(const json_t *obj, const char *key,
			  const char *where, int64_t min, int64_t max,
			  int64_t *out, struct error *err)
{
	char at[WHERE_LEN];
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return fail(err, "%s: missing required field '%s'", where, key);
	return get_int(v, place(at, "%s.%s", where, key), min, max, out, err);
}

/* "0x..." hex or plain decimal, the whole of uint64_t, nothing else. */
static bool parse_u64_text(const char *s, uint64_t *out)
{
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoull would accept a sign, spaces and a second "0x". */
	if (!*s || !(base == 16 ? strchr("0123456789abcdefABCDEF", *s)
				: strchr("0123456789", *s)))
		return false;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* A 64-bit value: a JSON integer, 0..UINT64_MAX or a negative int64_t for
 * its bits, or a string in decimal or "0x" hex (what epollfuzz wrote for
 * values above INT64_MAX before it wrote them as integers). */
static int get_u64(const json_t *v, const char *where, uint64_t *out,
		   struct error *err)
{
	if (is_big(v)) {
		const char *digits = json_string_value(v) + 1;
		char big[BIG_SHOWN + 4];

		/* A big is all digits, but maybe beyond uint64_t or below
		 * INT64_MIN. */
		if (*digits == '-' || !parse_u64_text(digits, out))
			return fail(err, "%s: %s out of range %" PRId64 "..%" PRIu64,
				    where, big_quote(v, big), INT64_MIN, UINT64_MAX);
		return 0;
	}
	if (json_is_integer(v)) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, "%s: expected an integer or a \"0x...\" string, got %s",
			    where, json_type_name(v));
	if (!parse_u64_text(json_string_value(v), out))
		return fail(err, "%s: '%s' is not a 64-bit unsigned number",
			    where, json_string_value(v));
	return 0;
}

/* An integer (any bits in range: invalid flags are test input too) or a
 * string of names joined by '|'. */
static int get_flags(const json_t *v, const char *where,
		     const struct flag_name *names, int64_t min, int64_t max,
		     int64_t *out, struct error *err)
{
	struct error why;
	uint64_t bits;

	if (json_is_integer(v) || is_big(v))
		return get_int(v, where, min, max, out, err);
	if (!json_is_string(v))
		return fail(err, "%s: expected an integer or flag names, got %s",
			    where, json_type_name(v));
	if (flags_parse(names, json_string_value(v), &bits, &why) < 0)
		return fail(err, "%s: %s", where, why.msg);
	*out = (int64_t)bits;
	return 0;
}

static int get_field(const struct field_desc *fd, const json_t *v,
		     const char *where, int64_t *out, struct error *err)
{
	uint64_t u;

	switch (fd->kind) {
	case FK_FLAGS:
	case FK_ENUM:
		return get_flags(v, where, fd->names, fd->min, fd->max, out, err);
	case FK_U64:
		if (get_u64(v, where, &u, err) < 0)
			return -1;
		*out = (int64_t)u;
		return 0;
	case FK_FD:
	case FK_INT:
	case FK_COUNT:
	case FK_U32:
		break;
	}
	return get_int(v, where, fd->min, fd->max, out, err);
}

/* Files an "x-" key (or "meta") in *extras, made on first use. */
static int keep_extra(json_t **extras, const char *key, json_t *v,
		      struct error *err)
{
	if (!*extras && !(*extras = json_object()))
		return fail(err, "out of memory");
	if (json_object_set(*extras, key, v) < 0)
		return fail(err, "out of memory");
	return 0;
}

/* ---------------------------------------------------------------- ops */

static const struct field_desc *field_by_name(const struct op_desc *d,
					      const char *name)
{
	for (unsigned i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return &d->fields[i];
	return NULL;
}

static int get_op_kind(const json_t *obj, const char *where,
		       enum op_kind *kind, struct error *err)
{
	const json_t *v = json_object_get(obj, "op");
	const struct op_desc *d;

	if (!v)
		return fail(err, "%s: missing required field 'op'", where);
	if (!is_text(v))
		return fail(err, "%s.op: expected a string, got %s", where,
			    json_type_name(v));
	d = op_desc_by_name(json_string_value(v));
	if (!d)
		return fail(err, "%s.op: unknown op '%s'", where,
			    json_string_value(v));
	*kind = (enum op_kind)(d - op_table);
	return 0;
}

/* threads, when given, bounds every t; otherwise t decides threads. */
static int get_thread(const json_t *obj, const char *where,
		      const struct program *p, unsigned *t, struct error *err)
{
	const json_t *v = json_object_get(obj, "t");
	unsigned limit = p->threads_given ? p->threads : MAX_THREADS;
	char given[32] = "", big[BIG_SHOWN + 4];

	*t = 0;
	if (!v)
		return 0;
	if (p->threads_given)
		snprintf(given, sizeof(given), " (threads is %u)", limit);
	if (is_big(v))
		return fail(err, "%s.t: thread %s out of range 0..%u%s", where,
			    big_quote(v, big), limit - 1, given);
	if (!json_is_integer(v))
		return fail(err, "%s.t: expected an integer, got %s", where,
			    json_type_name(v));
	if (json_integer_value(v) < 0 || json_integer_value(v) >= limit)
		return fail(err, "%s.t: thread %" JSON_INTEGER_FORMAT
			    " out of range 0..%u%s", where,
			    json_integer_value(v), limit - 1, given);
	*t = (unsigned)json_integer_value(v);
	return 0;
}

/* Reads every key of an op object other than "op" and "t". */
static int get_op_fields(const json_t *obj, const char *where, struct op *op,
			 struct error *err)
{
	const struct op_desc *d = &op_table[op->kind];
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		const struct field_desc *fd;
		char at[WHERE_LEN];

		if (strcmp(key, "op") == 0 || strcmp(key, "t") == 0)
			continue;
		if (is_extra_key(key)) {
			if (keep_extra(&op->extras, key, v, err) < 0)
				return -1;
			continue;
		}
		fd = field_by_name(d, key);
		if (!fd)
			return fail(err, "%s: unknown key '%s'", where, key);
		if (get_field(fd, v, place(at, "%s.%s", where, key),
			      &op->f[fd->id], err) < 0)
			return -1;
		op->present |= (uint32_t)(1u << fd->id);
	}
	for (unsigned i = 0; i < d->nfields; i++)
		if (d->fields[i].defkind == DEF_REQUIRED &&
		    !op_has(op, d->fields[i].id))
			return fail(err, "%s: missing required field '%s'",
				    where, d->fields[i].name);
	return 0;
}

/* Fills op from ops[index]; on error op->extras is released. */
static int get_op(const json_t *obj, unsigned index, const struct program *p,
		  struct op *op, struct error *err)
{
	char where[WHERE_LEN];
	enum op_kind kind = OP_KIND_COUNT;
	unsigned t;

	place(where, "ops[%u]", index);
	if (expect_object(obj, where, err) < 0 ||
	    get_op_kind(obj, where, &kind, err) < 0 ||
	    get_thread(obj, where, p, &t, err) < 0)
		return -1;
	op_init(op, kind, t);
	if (get_op_fields(obj, where, op, err) < 0) {
		json_decref(op->extras);
		op->extras = NULL;
		return -1;
	}
	return 0;
}

static int get_ops(const json_t *ops, struct program *p, struct error *err)
{
	if (!ops)
		return fail(err, "trace: missing \"ops\"");
	if (expect_array(ops, "ops", 1, MAX_OPS, err) < 0)
		return -1;
	for (unsigned i = 0; i < json_array_size(ops); i++) {
		struct op op;
		json_t *extras;

		if (get_op(json_array_get(ops, i), i, p, &op, err) < 0)
			return -1;
		/* Hand our extras over rather than let program_push copy them. */
		extras = op.extras;
		op.extras = NULL;
		if (program_push(p, &op, err) < 0) {
			json_decref(extras);
			return -1;
		}
		p->ops[p->nops - 1].extras = extras;
	}
	return 0;
}

/* ------------------------------------------------------------ outcomes */

static const char *const completion_keys[] = {
	"step", "t", "ret", "errno", "fds", "value", "events", NULL,
};

static int get_event(struct outcome *o, struct result *res, const json_t *v,
		     const char *where, struct error *err)
{
	static const char *const keys[] = { "events", "data", NULL };
	char at[WHERE_LEN];
	const json_t *mask, *data;
	int64_t events;
	uint64_t u;

	if (expect_object(v, where, err) < 0 ||
	    check_keys(v, where, keys, err) < 0)
		return -1;
	mask = json_object_get(v, "events");
	data = json_object_get(v, "data");
	if (!mask || !data)
		return fail(err, "%s: missing required field '%s'", where,
			    mask ? "data" : "events");
	if (get_flags(mask, place(at, "%s.events", where), epoll_event_names,
		      0, UINT32_MAX, &events, err) < 0 ||
	    get_u64(data, place(at, "%s.data", where), &u, err) < 0)
		return -1;
	outcome_add_event(o, res, (uint32_t)events, u);
	return 0;
}

static int get_events(struct outcome *o, struct result *res, const json_t *v,
		      const char *where, struct error *err)
{
	if (expect_array(v, where, 0, UINT32_MAX, err) < 0)
		return -1;
	for (size_t i = 0; i < json_array_size(v); i++) {
		char at[WHERE_LEN];

		if (get_event(o, res, json_array_get(v, i),
			      place(at, "%s[%zu]", where, i), err) < 0)
			return -1;
	}
	res->has |= RES_EVENTS;
	return 0;
}

static int get_fds(const json_t *v, const char *where, struct result *res,
		   struct error *err)
{
	if (expect_array(v, where, 2, 2, err) < 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		char at[WHERE_LEN];
		int64_t fd;

		if (get_int(json_array_get(v, i), place(at, "%s[%zu]", where, i),
			    INT_MIN, INT_MAX, &fd, err) < 0)
			return -1;
		res->fds[i] = (int)fd;
	}
	res->has |= RES_FDS;
	return 0;
}

static int get_errno(const json_t *obj, const char *where, struct result *res,
		     struct error *err)
{
	const json_t *v = json_object_get(obj, "errno");

	if (res->ret != -1) {
		if (v)
			return fail(err, "%s.errno: given but ret is %" PRId64,
				    where, res->ret);
		return 0;
	}
	if (!v)
		return fail(err, "%s: missing required field 'errno'", where);
	if (!is_text(v))
		return fail(err, "%s.errno: expected a string, got %s", where,
			    json_type_name(v));
	res->err = errno_from_name(json_string_value(v));
	if (res->err < 0)
		return fail(err, "%s.errno: unknown errno name '%s'", where,
			    json_string_value(v));
	return 0;
}

/* The members of a finished call: ret, errno and what the op returns. */
static int get_result(struct outcome *o, struct result *res, const json_t *obj,
		      const char *where, struct error *err)
{
	char at[WHERE_LEN];
	const json_t *v;

	if (get_int_member(obj, "ret", where, INT64_MIN, INT64_MAX, &res->ret,
			   err) < 0 ||
	    get_errno(obj, where, res, err) < 0)
		return -1;
	if ((v = json_object_get(obj, "fds")) &&
	    get_fds(v, place(at, "%s.fds", where), res, err) < 0)
		return -1;
	if ((v = json_object_get(obj, "value"))) {
		if (get_u64(v, place(at, "%s.value", where), &res->value, err) < 0)
			return -1;
		res->has |= RES_VALUE;
	}
	if ((v = json_object_get(obj, "events")) &&
	    get_events(o, res, v, place(at, "%s.events", where), err) < 0)
		return -1;
	return 0;
}

static int get_step_ref(const json_t *obj, const char *where,
			const struct program *p, uint32_t *step, uint8_t *t,
			struct error *err)
{
	int64_t s, th;

	if (get_int_member(obj, "step", where, 0, (int64_t)p->nops - 1, &s,
			   err) < 0 ||
	    get_int_member(obj, "t", where, 0, (int64_t)p->threads - 1, &th,
			   err) < 0)
		return -1;
	*step = (uint32_t)s;
	*t = (uint8_t)th;
	return 0;
}

static int get_completion(struct outcome *o, struct step_record *rec,
			  const json_t *v, const char *where,
			  const struct program *p, struct error *err)
{
	struct completion *c;
	uint32_t step;
	uint8_t t;

	if (expect_object(v, where, err) < 0 ||
	    check_keys(v, where, completion_keys, err) < 0 ||
	    get_step_ref(v, where, p, &step, &t, err) < 0)
		return -1;
	c = outcome_add_completion(o, rec, step, t);
	return get_result(o, &c->res, v, where, err);
}

static int get_completions(struct outcome *o, struct step_record *rec,
			   const json_t *v, const char *where,
			   const struct program *p, struct error *err)
{
	if (expect_array(v, where, 0, MAX_THREADS, err) < 0)
		return -1;
	for (size_t i = 0; i < json_array_size(v); i++) {
		char at[WHERE_LEN];

		if (get_completion(o, rec, json_array_get(v, i),
				   place(at, "%s[%zu]", where, i), p, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * A record's state is told by which key it has: "ret" (done), "blocked",
 * "skipped" or "unsupported", each with the one value the writer uses.
 */
static const struct {
	const char *key;
	enum step_state state;
} state_keys[] = {
	{ "ret", STEP_DONE },
	{ "blocked", STEP_BLOCKED },
	{ "skipped", STEP_SKIPPED },
	{ "unsupported", STEP_UNSUPPORTED },
};

/* The writer's one value for each state key; "ret" takes any integer. */
static bool state_value_ok(enum step_state state, const json_t *v)
{
	switch (state) {
	case STEP_DONE:
		return true;
	case STEP_SKIPPED:
		return json_is_string(v) &&
		       strcmp(json_string_value(v), "blocked") == 0;
	case STEP_BLOCKED:
	case STEP_UNSUPPORTED:
		break;
	}
	return json_is_true(v);
}

static int get_state(const json_t *obj, const char *where,
		     enum step_state *state, struct error *err)
{
	const char *found = NULL;

	for (size_t i = 0; i < sizeof(state_keys) / sizeof(state_keys[0]); i++) {
		const json_t *v = json_object_get(obj, state_keys[i].key);

		if (!v)
			continue;
		if (found)
			return fail(err, "%s: both '%s' and '%s'", where, found,
				    state_keys[i].key);
		found = state_keys[i].key;
		*state = state_keys[i].state;
		if (!state_value_ok(*state, v))
			return fail(err, "%s.%s: expected %s", where, found,
				    *state == STEP_SKIPPED ? "\"blocked\"" : "true");
	}
	if (!found)
		return fail(err, "%s: missing 'ret', 'blocked', 'skipped' or 'unsupported'",
			    where);
	return 0;
}

static int get_record(struct outcome *o, const json_t *v, const char *where,
		      const struct program *p, struct error *err)
{
	static const char *const done_keys[] = {
		"step", "t", "ret", "errno", "fds", "value", "events",
		"completed", NULL,
	};
	static const char *const other_keys[] = {
		"step", "t", "blocked", "skipped", "unsupported", "completed", NULL,
	};
	struct step_record *rec;
	enum step_state state = STEP_DONE;
	char at[WHERE_LEN];
	const json_t *done;
	uint32_t step;
	uint8_t t;

	if (expect_object(v, where, err) < 0 ||
	    get_state(v, where, &state, err) < 0 ||
	    check_keys(v, where, state == STEP_DONE ? done_keys : other_keys,
		       err) < 0 ||
	    get_step_ref(v, where, p, &step, &t, err) < 0)
		return -1;
	rec = outcome_add_step(o, step, t);
	rec->state = (uint8_t)state;
	if (state == STEP_DONE && get_result(o, &rec->res, v, where, err) < 0)
		return -1;
	if ((done = json_object_get(v, "completed")))
		return get_completions(o, rec, done,
				       place(at, "%s.completed", where), p, err);
	return 0;
}

static int get_steps(struct outcome *o, const json_t *v,
		     const struct program *p, struct error *err)
{
	if (!v)
		return fail(err, "outcome: missing required field 'steps'");
	if (expect_array(v, "outcome.steps", 0, UINT32_MAX, err) < 0)
		return -1;
	for (size_t i = 0; i < json_array_size(v); i++) {
		char at[WHERE_LEN];

		if (get_record(o, json_array_get(v, i),
			       place(at, "outcome.steps[%zu]", i), p, err) < 0)
			return -1;
	}
	return 0;
}

static int get_still_blocked(struct outcome *o, const json_t *v,
			     const struct program *p, struct error *err)
{
	static const char *const keys[] = { "step", "t", NULL };

	if (expect_array(v, "outcome.still_blocked", 1, MAX_THREADS, err) < 0)
		return -1;
	for (size_t i = 0; i < json_array_size(v); i++) {
		struct blocked_rec *b = &o->blocked[o->nblocked];
		const json_t *rec = json_array_get(v, i);
		char at[WHERE_LEN];

		place(at, "outcome.still_blocked[%zu]", i);
		if (expect_object(rec, at, err) < 0 ||
		    check_keys(rec, at, keys, err) < 0 ||
		    get_step_ref(rec, at, p, &b->step, &b->t, err) < 0)
			return -1;
		o->nblocked++;
	}
	return 0;
}

/* A string member copied into a fixed buffer, which it must fit. */
static int get_text(const json_t *v, const char *where, char *buf,
		    size_t len, struct error *err)
{
	if (!is_text(v))
		return fail(err, "%s: expected a string, got %s", where,
			    json_type_name(v));
	if (json_string_length(v) >= len)
		return fail(err, "%s: longer than %zu bytes", where, len - 1);
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_violation(struct violation *vio, const json_t *v,
			 struct error *err)
{
	static const char *const keys[] = { "step", "class", "message", NULL };
	const char *where = "outcome.violation";
	const json_t *cls = json_object_get(v, "class");
	const json_t *msg = json_object_get(v, "message");
	int64_t step = 0;

	if (expect_object(v, where, err) < 0 ||
	    check_keys(v, where, keys, err) < 0 ||
	    get_int_member(v, "step", where, 0, UINT32_MAX, &step, err) < 0)
		return -1;
	if (!cls || !msg)
		return fail(err, "%s: missing required field '%s'", where,
			    cls ? "message" : "class");
	if (get_text(cls, "outcome.violation.class", vio->cls,
		     sizeof(vio->cls), err) < 0 ||
	    get_text(msg, "outcome.violation.message", vio->msg,
		     sizeof(vio->msg), err) < 0)
		return -1;
	vio->step = (uint32_t)step;
	vio->broken = true;
	return 0;
}

static int get_outcome(const json_t *v, const struct program *p,
		       struct outcome *o, struct error *err)
{
	static const char *const keys[] = {
		"steps", "still_blocked", "unsupported", "violation", NULL,
	};
	const json_t *m;

	if (expect_object(v, "outcome", err) < 0 ||
	    check_keys(v, "outcome", keys, err) < 0 ||
	    get_steps(o, json_object_get(v, "steps"), p, err) < 0)
		return -1;
	if ((m = json_object_get(v, "still_blocked")) &&
	    get_still_blocked(o, m, p, err) < 0)
		return -1;
	if ((m = json_object_get(v, "unsupported")) &&
	    get_text(m, "outcome.unsupported", o->unsupported,
		     sizeof(o->unsupported), err) < 0)
		return -1;
	if ((m = json_object_get(v, "violation")) &&
	    get_violation(&o->violation, m, err) < 0)
		return -1;
	return 0;
}

/* ----------------------------------------------------------- top level */

static int get_version(const json_t *root, struct error *err)
{
	const json_t *v = json_object_get(root, "epollfuzz");

	char big[BIG_SHOWN + 4];

	if (!v)
		return fail(err, "trace: missing \"epollfuzz\"");
	if (is_big(v))
		return fail(err, "epollfuzz: format version %s is not supported"
			    " (this reads version %d)", big_quote(v, big),
			    TRACE_VERSION);
	if (!json_is_integer(v))
		return fail(err, "epollfuzz: expected an integer, got %s",
			    json_type_name(v));
	if (json_integer_value(v) != TRACE_VERSION)
		return fail(err, "epollfuzz: format version %" JSON_INTEGER_FORMAT
			    " is not supported (this reads version %d)",
			    json_integer_value(v), TRACE_VERSION);
	return 0;
}

static int get_threads(const json_t *root, struct program *p,
		       struct error *err)
{
	const json_t *v = json_object_get(root, "threads");
	int64_t n;

	if (!v)
		return 0;
	if (get_int(v, "threads", 1, MAX_THREADS, &n, err) < 0)
		return -1;
	p->threads = (unsigned)n;
	p->threads_given = true;
	return 0;
}

/* "meta" and "x-" keys go to p->extras; other unknown keys are errors. */
static int get_top_extras(const json_t *root, struct program *p,
			  struct error *err)
{
	static const char *const known[] = {
		"epollfuzz", "threads", "ops", "outcome", NULL,
	};
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)root, key, v) {
		if (key_in(key, known))
			continue;
		if (strcmp(key, "meta") == 0 && expect_object(v, "meta", err) < 0)
			return -1;
		if (strcmp(key, "meta") != 0 && !is_extra_key(key))
			return fail(err, "trace: unknown key '%s'", key);
		if (keep_extra(&p->extras, key, v, err) < 0)
			return -1;
	}
	return 0;
}

static int get_trace(const json_t *root, struct program *p, struct outcome *out,
		     struct error *err)
{
	const json_t *outcome;
	struct error why;

	if (!json_is_object(root))
		return fail(err, "trace: expected an object, got %s",
			    json_type_name(root));
	if (get_version(root, err) < 0 || get_top_extras(root, p, err) < 0 ||
	    get_threads(root, p, err) < 0 ||
	    get_ops(json_object_get(root, "ops"), p, err) < 0)
		return -1;
	if (!p->threads_given)
		p->threads = program_min_threads(p);
	if (program_check_processes(p, &why) < p->nops)
		return fail(err, "%s", why.msg);
	outcome = json_object_get(root, "outcome");
	if (out && outcome)
		return get_outcome(outcome, p, out, err);
	return 0;
}

/*
 * p is overwritten (pass an empty or freed program).  out, when given, must
 * be initialised; it is reset, keeping its buffers.  On error p is left
 * empty and out reset.
 */
int trace_parse(const char *text, size_t len, struct program *p,
		struct outcome *out, struct error *err)
{
	struct big_load bt;
	json_error_t jerr;
	json_t *root;
	int rc;

	program_init(p);
	if (out)
		outcome_reset(out);
	if (big_hide(text, len, &bt) < 0)
		return fail(err, "out of memory");
	if (bt.text)
		root = json_loadb(bt.text, bt.len,
				  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	else
		root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root && bt.text)
		big_error(err, &bt, &jerr);
	else if (!root)
		fail(err, "line %d column %d: JSON syntax error: %s", jerr.line,
		     jerr.column, jerr.text);
	free(bt.text);
	free(bt.at);
	if (!root)
		return -1;
	rc = get_trace(root, p, out, err);
	json_decref(root);
	if (rc < 0) {
		program_free(p);
		if (out)
			outcome_reset(out);
	}
	return rc;
}

static int read_file(FILE *f, char **text, size_t *len, struct error *err)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;

	for (;;) {
		if (n == cap) {
			char *more;

			if (cap >= MAX_TRACE_FILE) {
				free(buf);
				return fail(err, "larger than %u bytes",
					    MAX_TRACE_FILE);
			}
			cap = cap ? cap * 2 : 4096;
			if (!(more = realloc(buf, cap))) {
				free(buf);
				return fail(err, "out of memory");
			}
			buf = more;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return fail(err, "read error");
	}
	*text = buf;
	*len = n;
	return 0;
}

/* Errors are "path: message", ready to print. */
int trace_load_file(const char *path, struct program *p, struct outcome *out,
		    struct error *err)
{
	struct error why;
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int rc;

	program_init(p);
	if (!f)
		return fail(err, "%s: %s", path, strerror(errno));
	rc = read_file(f, &text, &len, &why);
	fclose(f);
	if (rc == 0) {
		rc = trace_parse(text, len, p, out, &why);
		free(text);
	}
	if (rc < 0)
		return fail(err, "%s: %s", path, why.msg);
	return 0;
}

/* ================================================================ writing */

/* Building JSON only fails when memory runs out, which a fuzzer cannot
 * recover from anyway (program.c's grow() aborts too). */
static void put(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		abort();
}

static void append(json_t *array, json_t *value)
{
	if (!value || json_array_append_new(array, value) < 0)
		abort();
}

static json_t *new_object(void)
{
	json_t *obj = json_object();

	if (!obj)
		abort();
	return obj;
}

static json_t *new_array(void)
{
	json_t *arr = json_array();

	if (!arr)
		abort();
	return arr;
}

/* Copies (not shares) extras, so callers may edit what they get back. */
static void put_extras(json_t *obj, const json_t *extras)
{
	const char *key;
	json_t *v;

	if (!extras)
		return;
	json_object_foreach((json_t *)extras, key, v)
		put(obj, key, json_deep_copy(v));
}

/* A plain integer; above INT64_MAX a big, which the dump functions write
 * as one (see "big integers"). */
static json_t *u64_to_json(uint64_t v)
{
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	return big_new(v);
}

static json_t *flags_to_json(const struct flag_name *names, int64_t v)
{
	char text[512];

	if (flags_format(names, (uint64_t)v, text, sizeof(text)))
		return json_string(text);
	return json_integer(v);
}

static json_t *field_to_json(const struct field_desc *fd, int64_t v)
{
	switch (fd->kind) {
	case FK_FLAGS:
	case FK_ENUM:
		return flags_to_json(fd->names, v);
	case FK_U64:
		return u64_to_json((uint64_t)v);
	case FK_FD:
	case FK_INT:
	case FK_COUNT:
	case FK_U32:
		break;
	}
	return json_integer(v);
}

static json_t *op_to_json(const struct op *op)
{
	const struct op_desc *d = &op_table[op->kind];
	json_t *obj = new_object();

	put(obj, "op", json_string(d->name));
	if (op->t)
		put(obj, "t", json_integer(op->t));
	for (unsigned i = 0; i < d->nfields; i++) {
		const struct field_desc *fd = &d->fields[i];

		if (op_has(op, fd->id))
			put(obj, fd->name, field_to_json(fd, op->f[fd->id]));
	}
	put_extras(obj, op->extras);
	return obj;
}

static json_t *events_to_json(const struct outcome *o, const struct result *res)
{
	json_t *arr = new_array();

	for (uint32_t i = 0; i < res->ev_count; i++) {
		const struct event_rec *ev = &o->events[res->ev_first + i];
		json_t *obj = new_object();

		put(obj, "events", flags_to_json(epoll_event_names, ev->events));
		put(obj, "data", u64_to_json(ev->data));
		append(arr, obj);
	}
	return arr;
}

static void put_result(json_t *obj, const struct outcome *o,
		       const struct result *res)
{
	put(obj, "ret", json_integer(res->ret));
	if (res->ret == -1)
		put(obj, "errno", json_string(errno_name(res->err)));
	if (res->has & RES_FDS)
		put(obj, "fds", json_pack("[ii]", res->fds[0], res->fds[1]));
	if (res->has & RES_VALUE)
		put(obj, "value", u64_to_json(res->value));
	if (res->has & RES_EVENTS)
		put(obj, "events", events_to_json(o, res));
}

static json_t *step_ref(uint32_t step, unsigned t)
{
	json_t *obj = new_object();

	put(obj, "step", json_integer(step));
	put(obj, "t", json_integer(t));
	return obj;
}

static json_t *completions_to_json(const struct outcome *o,
				   const struct step_record *rec)
{
	json_t *arr = new_array();

	for (uint32_t i = 0; i < rec->done_count; i++) {
		const struct completion *c = &o->done[rec->done_first + i];
		json_t *obj = step_ref(c->step, c->t);

		put_result(obj, o, &c->res);
		append(arr, obj);
	}
	return arr;
}

static json_t *record_to_json(const struct outcome *o,
			      const struct step_record *rec)
{
	json_t *obj = step_ref(rec->step, rec->t);

	switch ((enum step_state)rec->state) {
	case STEP_DONE:
		put_result(obj, o, &rec->res);
		break;
	case STEP_BLOCKED:
		put(obj, "blocked", json_true());
		break;
	case STEP_SKIPPED:
		put(obj, "skipped", json_string("blocked"));
		break;
	case STEP_UNSUPPORTED:
		put(obj, "unsupported", json_true());
		break;
	}
	if (rec->done_count)
		put(obj, "completed", completions_to_json(o, rec));
	return obj;
}

json_t *outcome_to_json(const struct program *p, const struct outcome *out)
{
	json_t *obj = new_object();
	json_t *steps = new_array();

	(void)p;
	for (uint32_t i = 0; i < out->nsteps; i++)
		append(steps, record_to_json(out, &out->steps[i]));
	put(obj, "steps", steps);
	if (out->nblocked) {
		json_t *blocked = new_array();

		for (uint32_t i = 0; i < out->nblocked; i++)
			append(blocked, step_ref(out->blocked[i].step,
						 out->blocked[i].t));
		put(obj, "still_blocked", blocked);
	}
	if (out->unsupported[0])
		put(obj, "unsupported", json_string(out->unsupported));
	if (out->violation.broken)
		put(obj, "violation",
		    json_pack("{sIssss}", "step", (json_int_t)out->violation.step,
			      "class", out->violation.cls, "message",
			      out->violation.msg));
	return obj;
}

json_t *trace_to_json(const struct program *p, const struct outcome *out)
{
	json_t *obj = new_object();
	json_t *ops = new_array();

	put(obj, "epollfuzz", json_integer(TRACE_VERSION));
	/* A program built in code may use fewer threads than it declares;
	 * say so, or the count would be lost. */
	if (p->threads_given || p->threads != program_min_threads(p))
		put(obj, "threads", json_integer(p->threads));
	for (unsigned i = 0; i < p->nops; i++)
		append(ops, op_to_json(&p->ops[i]));
	put(obj, "ops", ops);
	if (out)
		put(obj, "outcome", outcome_to_json(p, out));
	put_extras(obj, p->extras);
	return obj;
}

/* ---------------------------------------------------------------- text */

/* Arrays whose elements each get a line of their own. */
static bool is_line_array(const char *key, const json_t *v)
{
	return json_is_array(v) && key &&
	       (strcmp(key, "ops") == 0 || strcmp(key, "steps") == 0);
}

/* An object worth opening up: it holds a line array, maybe deep down
 * (an outcome kept under "meta"). */
static bool holds_line_array(const json_t *v)
{
	const char *key;
	json_t *m;

	if (!json_is_object(v))
		return false;
	json_object_foreach((json_t *)v, key, m)
		if (is_line_array(key, m) || holds_line_array(m))
			return true;
	return false;
}

static int dump_compact(FILE *f, const json_t *v)
{
	return json_dumpf(v, f, JSON_ENCODE_ANY);
}

static int dump_value(FILE *f, const char *key, const json_t *v);

static int dump_object(FILE *f, const json_t *obj)
{
	const char *key;
	json_t *v;
	bool first = true;

	fputc('{', f);
	json_object_foreach((json_t *)obj, key, v) {
		json_t *name = json_string(key);
		int rc;

		if (!name)
			return -1;
		fputs(first ? "" : ", ", f);
		rc = dump_compact(f, name);
		json_decref(name);
		fputs(": ", f);
		if (rc < 0 || dump_value(f, key, v) < 0)
			return -1;
		first = false;
	}
	fputc('}', f);
	return 0;
}

static int dump_lines(FILE *f, const json_t *arr)
{
	size_t n = json_array_size(arr);

	fputs("[\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("  ", f);
		if (dump_compact(f, json_array_get(arr, i)) < 0)
			return -1;
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputc(']', f);
	return 0;
}

static int dump_value(FILE *f, const char *key, const json_t *v)
{
	if (is_line_array(key, v))
		return dump_lines(f, v);
	if (holds_line_array(v))
		return dump_object(f, v);
	return dump_compact(f, v);
}

/* One line per op and per outcome record, spaces after ':' and ','. */
char *trace_dump(const struct program *p, const struct outcome *out)
{
	json_t *root = trace_to_json(p, out);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f) {
		json_decref(root);
		return NULL;
	}
	rc = dump_object(f, root);
	fputc('\n', f);
	json_decref(root);
	if (fclose(f) != 0 || rc < 0) {
		free(text);
		return NULL;
	}
	big_show(text);
	return text;
}

char *trace_json_dumps(const json_t *json, size_t flags)
{
	char *text = json_dumps(json, flags);

	if (text)
		big_show(text);
	return text;
}

/* ------------------------------------------------------------ verdicts */

const char *verdict_class_name(enum verdict_class cls)
{
	switch (cls) {
	case VERDICT_AGREE: return "agree";
	case VERDICT_DIVERGE: return "diverge";
	case VERDICT_INVARIANT: return "invariant";
	case VERDICT_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}

json_t *verdict_to_json(const struct verdict *v)
{
	json_t *j;

	if (v->cls == VERDICT_AGREE)
		j = json_pack("{ss}", "class", verdict_class_name(v->cls));
	else
		j = json_pack("{sssIssss}", "class", verdict_class_name(v->cls),
			      "step", (json_int_t)v->step, "field", v->field,
			      "signature", v->signature);
	if (j && v->cls != VERDICT_AGREE && v->detail[0] &&
	    json_object_set_new(j, "detail", json_string(v->detail)) < 0) {
		json_decref(j);
		j = NULL;
	}
	if (j && v->cls != VERDICT_AGREE && v->target[0] &&
	    json_object_set_new(j, "target", json_string(v->target)) < 0) {
		json_decref(j);
		j = NULL;
	}
	if (j && v->cls == VERDICT_DIVERGE && v->what[0] &&
	    json_object_set_new(j, "what", json_string(v->what)) < 0) {
		json_decref(j);
		j = NULL;
	}
	if (j && v->reference[0] &&
	    json_object_set_new(j, "reference", json_string(v->reference)) < 0) {
		json_decref(j);
		j = NULL;
	}
	if (!j)
		abort(); /* out of memory: nothing sensible is left to do */
	return j;
}
