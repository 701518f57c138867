/*
 * test_json.c - the JSON trace codec (trace/json.c) against TRACE_FORMAT.md.
 *
 *   test_json SCHEMA.json          run every check (the schema is checked
 *                                  against the op table)
 *   test_json --emit-sample FILE   write a trace whose outcome holds every
 *                                  kind of record, for the schema test
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "trace.h"

struct tally {
	int checks, failures;
};

static void check(struct tally *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(struct tally *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	t->checks++;
	if (ok)
		return;
	t->failures++;
	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int parse(const char *text, struct program *p, struct outcome *o,
		 struct error *err)
{
	return trace_parse(text, strlen(text), p, o, err);
}

/* ------------------------------------------------------------ compare */

static bool extras_equal(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal((json_t *)a, (json_t *)b);
}

/* Describes the first difference in why; true when there is none. */
static bool programs_equal(const struct program *a, const struct program *b,
			   char *why, size_t len)
{
	if (a->nops != b->nops || a->threads != b->threads ||
	    a->threads_given != b->threads_given) {
		snprintf(why, len, "nops %u/%u threads %u/%u given %d/%d",
			 a->nops, b->nops, a->threads, b->threads,
			 a->threads_given, b->threads_given);
		return false;
	}
	if (!extras_equal(a->extras, b->extras)) {
		snprintf(why, len, "program extras");
		return false;
	}
	for (unsigned i = 0; i < a->nops; i++) {
		const struct op *x = &a->ops[i], *y = &b->ops[i];

		if (x->kind != y->kind || x->t != y->t || x->present != y->present ||
		    memcmp(x->f, y->f, sizeof(x->f)) != 0 ||
		    !extras_equal(x->extras, y->extras)) {
			snprintf(why, len, "ops[%u]", i);
			return false;
		}
	}
	return true;
}

static bool results_equal(const struct outcome *oa, const struct result *a,
			  const struct outcome *ob, const struct result *b)
{
	if (a->has != b->has || a->ret != b->ret || a->err != b->err)
		return false;
	if ((a->has & RES_FDS) &&
	    (a->fds[0] != b->fds[0] || a->fds[1] != b->fds[1]))
		return false;
	if ((a->has & RES_VALUE) && a->value != b->value)
		return false;
	if (a->ev_count != b->ev_count)
		return false;
	for (uint32_t i = 0; i < a->ev_count; i++) {
		const struct event_rec *x = &oa->events[a->ev_first + i];
		const struct event_rec *y = &ob->events[b->ev_first + i];

		if (x->events != y->events || x->data != y->data)
			return false;
	}
	return true;
}

static bool records_equal(const struct outcome *a, const struct step_record *x,
			  const struct outcome *b, const struct step_record *y)
{
	if (x->step != y->step || x->t != y->t || x->state != y->state ||
	    x->done_count != y->done_count)
		return false;
	if (x->state == STEP_DONE && !results_equal(a, &x->res, b, &y->res))
		return false;
	for (uint32_t i = 0; i < x->done_count; i++) {
		const struct completion *c = &a->done[x->done_first + i];
		const struct completion *d = &b->done[y->done_first + i];

		if (c->step != d->step || c->t != d->t ||
		    !results_equal(a, &c->res, b, &d->res))
			return false;
	}
	return true;
}

static bool outcomes_equal(const struct outcome *a, const struct outcome *b,
			   char *why, size_t len)
{
	if (a->nsteps != b->nsteps || a->nblocked != b->nblocked) {
		snprintf(why, len, "nsteps %u/%u nblocked %u/%u", a->nsteps,
			 b->nsteps, a->nblocked, b->nblocked);
		return false;
	}
	for (uint32_t i = 0; i < a->nsteps; i++)
		if (!records_equal(a, &a->steps[i], b, &b->steps[i])) {
			snprintf(why, len, "steps[%u]", i);
			return false;
		}
	for (uint32_t i = 0; i < a->nblocked; i++)
		if (a->blocked[i].step != b->blocked[i].step ||
		    a->blocked[i].t != b->blocked[i].t) {
			snprintf(why, len, "still_blocked[%u]", i);
			return false;
		}
	if (strcmp(a->unsupported, b->unsupported) != 0) {
		snprintf(why, len, "unsupported");
		return false;
	}
	if (a->violation.broken != b->violation.broken ||
	    a->violation.step != b->violation.step ||
	    strcmp(a->violation.cls, b->violation.cls) != 0 ||
	    strcmp(a->violation.msg, b->violation.msg) != 0) {
		snprintf(why, len, "violation");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------- programs */

/* Every op, every field kind, threads, annotations. */
static const char every_op[] =
	"{\"epollfuzz\": 1, \"threads\": 3, \"x-note\": {\"by\": \"test\"},\n"
	" \"ops\": [\n"
	"  {\"op\": \"epoll_create\", \"size\": 0},\n"
	"  {\"op\": \"epoll_create1\", \"flags\": \"EPOLL_CLOEXEC\", \"x-why\": [1, 2]},\n"
	"  {\"op\": \"pipe2\", \"flags\": \"O_NONBLOCK|O_CLOEXEC\"},\n"
	"  {\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 5,"
	"   \"events\": \"EPOLLIN|EPOLLET\", \"data\": \"0xfedcba9876543210\"},\n"
	"  {\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 7, \"fd\": -1, \"events\": 4194304},\n"
	"  {\"op\": \"epoll_wait\", \"t\": 2, \"epfd\": 3, \"maxevents\": 4, \"timeout\": 10},\n"
	"  {\"op\": \"eventfd\", \"initval\": 4294967295, \"flags\": \"EFD_SEMAPHORE\"},\n"
	"  {\"op\": \"socketpair\", \"type\": \"SOCK_DGRAM|SOCK_NONBLOCK\"},\n"
	"  {\"op\": \"dup\", \"fd\": 4},\n"
	"  {\"op\": \"dup2\", \"fd\": 4, \"newfd\": 100},\n"
	"  {\"op\": \"dup3\", \"fd\": 4, \"newfd\": 101, \"flags\": \"\"},\n"
	"  {\"op\": \"write\", \"t\": 1, \"fd\": 8, \"len\": 0, \"value\": -1},\n"
	"  {\"op\": \"read\", \"fd\": 7},\n"
	"  {\"op\": \"shutdown\", \"fd\": 9, \"how\": \"SHUT_RDWR\"},\n"
	"  {\"op\": \"sleep\", \"ms\": 11},\n"
	"  {\"op\": \"close\", \"fd\": 4}\n"
	" ], \"meta\": {\"kernel\": \"6.18\"}}\n";

static void test_round_trip(struct tally *t)
{
	struct program a, b;
	struct error err;
	char why[128], *text, *again;

	if (parse(every_op, &a, NULL, &err) < 0) {
		check(t, false, "every_op: %s", err.msg);
		return;
	}
	check(t, a.nops == 16 && a.threads == 3 && a.threads_given,
	      "every_op: nops %u threads %u", a.nops, a.threads);
	text = trace_dump(&a, NULL);
	if (parse(text, &b, NULL, &err) < 0) {
		check(t, false, "reparse: %s\n%s", err.msg, text);
	} else {
		check(t, programs_equal(&a, &b, why, sizeof(why)),
		      "round trip differs at %s:\n%s", why, text);
		again = trace_dump(&b, NULL);
		check(t, strcmp(text, again) == 0, "second dump differs:\n%s\n%s",
		      text, again);
		free(again);
		program_free(&b);
	}
	check(t, strncmp(text, "{\"epollfuzz\": 1, \"threads\": 3, \"ops\": [\n  {\"op\": ", 48) == 0,
	      "dump layout:\n%s", text);
	check(t, strstr(text, "\n], \"x-note\": {\"by\": \"test\"}, \"meta\": {\"kernel\": \"6.18\"}}\n") != NULL,
	      "extras after ops, in order:\n%s", text);
	check(t, strstr(text, "{\"op\": \"epoll_create1\", \"flags\": \"EPOLL_CLOEXEC\", \"x-why\": [1, 2]},\n") != NULL,
	      "op line with its extras:\n%s", text);
	free(text);
	program_free(&a);
}

/* Absent fields take the table's default and stay absent on output. */
static void test_defaults(struct tally *t)
{
	struct program p;
	struct error err;
	char *text;

	if (parse("{\"epollfuzz\": 1, \"ops\": [{\"op\": \"epoll_wait\", \"epfd\": 3},"
		  " {\"op\": \"socketpair\", \"t\": 1}]}", &p, NULL, &err) < 0) {
		check(t, false, "defaults: %s", err.msg);
		return;
	}
	check(t, p.ops[0].present == 1u << F_EPFD, "present %#x",
	      p.ops[0].present);
	check(t, p.ops[0].f[F_MAXEVENTS] == 16 && p.ops[0].f[F_TIMEOUT] == -1,
	      "epoll_wait defaults %lld %lld",
	      (long long)p.ops[0].f[F_MAXEVENTS], (long long)p.ops[0].f[F_TIMEOUT]);
	check(t, p.ops[1].present == 0 && p.ops[1].f[F_TYPE] == 1,
	      "socketpair default type %lld", (long long)p.ops[1].f[F_TYPE]);
	check(t, p.threads == 2 && !p.threads_given,
	      "threads from t: %u given %d", p.threads, p.threads_given);
	text = trace_dump(&p, NULL);
	check(t, strcmp(text, "{\"epollfuzz\": 1, \"ops\": [\n"
			      "  {\"op\": \"epoll_wait\", \"epfd\": 3},\n"
			      "  {\"op\": \"socketpair\", \"t\": 1}\n"
			      "]}\n") == 0,
	      "defaults dump:\n%s", text);
	free(text);
	program_free(&p);
}

/* Parses one op and returns how the field was written back, or NULL. */
static char *field_echo(const char *op_json, const char *field,
			int64_t *value, struct error *err)
{
	char text[512];
	struct program p;
	json_t *js, *v;
	char *out = NULL;

	snprintf(text, sizeof(text), "{\"epollfuzz\": 1, \"ops\": [%s]}", op_json);
	if (parse(text, &p, NULL, err) < 0)
		return NULL;
	for (unsigned i = 0; i < op_table[p.ops[0].kind].nfields; i++) {
		const struct field_desc *fd = &op_table[p.ops[0].kind].fields[i];

		if (strcmp(fd->name, field) == 0)
			*value = p.ops[0].f[fd->id];
	}
	js = trace_to_json(&p, NULL);
	v = json_object_get(json_array_get(json_object_get(js, "ops"), 0), field);
	if (v)
		out = trace_json_dumps(v, JSON_ENCODE_ANY);
	json_decref(js);
	program_free(&p);
	return out;
}

static const struct {
	const char *op;
	const char *field;
	int64_t value;
	const char *written; /* JSON as written back */
} echoes[] = {
	/* names both ways */
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"events\": \"EPOLLET|EPOLLIN\"}",
	  "events", (int64_t)0x80000001u, "\"EPOLLIN|EPOLLET\"" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"events\": 2147483653}",
	  "events", 0x80000005, "\"EPOLLIN|EPOLLOUT|EPOLLET\"" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"events\": 4194305}",
	  "events", 0x400001, "4194305" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"events\": \"\"}",
	  "events", 0, "0" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": -1, \"fd\": 4}", "ctl", -1, "-1" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 2, \"fd\": 4}", "ctl", 2,
	  "\"EPOLL_CTL_DEL\"" },
	{ "{\"op\": \"socketpair\", \"type\": \"SOCK_NONBLOCK|SOCK_SEQPACKET\"}", "type",
	  5 | 04000, "\"SOCK_SEQPACKET|SOCK_NONBLOCK\"" },
	{ "{\"op\": \"shutdown\", \"fd\": 4, \"how\": 0}", "how", 0, "\"SHUT_RD\"" },
	/* u64: plain integers over the whole range, written back as such */
	{ "{\"op\": \"write\", \"fd\": 4, \"value\": 18446744073709551614}",
	  "value", -2, "18446744073709551614" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": 16045690985305276141}",
	  "data", (int64_t)0xdeadbeeffacefeedu, "16045690985305276141" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": 18446744073709551615}",
	  "data", -1, "18446744073709551615" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": 9223372036854775808}",
	  "data", INT64_MIN, "9223372036854775808" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": 9223372036854775807}",
	  "data", INT64_MAX, "9223372036854775807" },
	{ "{\"op\": \"write\", \"fd\": 4, \"value\": 0}", "value", 0, "0" },
	/* negative: its two's complement bits */
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": -2}",
	  "data", -2, "18446744073709551614" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": -9223372036854775808}",
	  "data", INT64_MIN, "9223372036854775808" },
	/* the string form, still accepted */
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": \"0xffffffffffffffff\"}",
	  "data", -1, "18446744073709551615" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": \"9223372036854775808\"}",
	  "data", INT64_MIN, "9223372036854775808" },
	{ "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": \"0x10\"}",
	  "data", 16, "16" },
	{ "{\"op\": \"write\", \"fd\": 4, \"value\": \"18446744073709551615\"}",
	  "value", -1, "18446744073709551615" },
};

static void test_echoes(struct tally *t)
{
	for (size_t i = 0; i < sizeof(echoes) / sizeof(echoes[0]); i++) {
		struct error err;
		int64_t value = 0;
		char *out = field_echo(echoes[i].op, echoes[i].field, &value, &err);

		if (!out) {
			check(t, false, "echo %zu: %s", i, err.msg);
			continue;
		}
		check(t, value == echoes[i].value, "echo %zu: %s is %lld, not %lld",
		      i, echoes[i].field, (long long)value,
		      (long long)echoes[i].value);
		check(t, strcmp(out, echoes[i].written) == 0,
		      "echo %zu: written %s, not %s", i, out, echoes[i].written);
		free(out);
	}
}

/* ------------------------------------------------------ big integers */

/* u64 values as plain JSON integers over the whole range, in ops and in an
 * outcome, next to strings and extras that must not be touched. */
static const char big_u64[] =
	"{\"epollfuzz\": 1, \"x-look\": \"\\\\u000018446744073709551615\",\n"
	" \"x-str\": \"18446744073709551615\", \"x-esc\": \"a\\\"18446744073709551615\",\n"
	" \"x-bs\": \"\\\\\", \"x-big\": 18446744073709551616, \"x-neg\": [-99999999999999999999, 1.5],\n"
	" \"ops\": [\n"
	"  {\"op\": \"eventfd\", \"flags\": \"EFD_NONBLOCK\"},\n"
	"  {\"op\": \"write\", \"fd\": 3, \"value\": 18446744073709551614, \"x-v\": \"value 18446744073709551614\"},\n"
	"  {\"op\": \"epoll_create1\"},\n"
	"  {\"op\": \"epoll_ctl\", \"epfd\": 4, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 3, \"events\": \"EPOLLIN\", \"data\": 16045690985305276141},\n"
	"  {\"op\": \"epoll_ctl\", \"epfd\": 4, \"ctl\": 1, \"fd\": 0, \"data\": 18446744073709551615},\n"
	"  {\"op\": \"epoll_ctl\", \"epfd\": 4, \"ctl\": 1, \"fd\": 1, \"data\": 9223372036854775807},\n"
	"  {\"op\": \"epoll_ctl\", \"epfd\": 4, \"ctl\": 1, \"fd\": 2, \"data\": 9223372036854775808},\n"
	"  {\"op\": \"epoll_wait\", \"epfd\": 4, \"timeout\": 0},\n"
	"  {\"op\": \"read\", \"fd\": 3}\n"
	" ], \"outcome\": {\"steps\": [\n"
	"  {\"step\": 0, \"t\": 0, \"ret\": 3},\n"
	"  {\"step\": 1, \"t\": 0, \"ret\": 8},\n"
	"  {\"step\": 2, \"t\": 0, \"ret\": 4},\n"
	"  {\"step\": 3, \"t\": 0, \"ret\": 0},\n"
	"  {\"step\": 4, \"t\": 0, \"ret\": -1, \"errno\": \"EPERM\"},\n"
	"  {\"step\": 5, \"t\": 0, \"ret\": -1, \"errno\": \"EPERM\"},\n"
	"  {\"step\": 6, \"t\": 0, \"ret\": -1, \"errno\": \"EPERM\"},\n"
	"  {\"step\": 7, \"t\": 0, \"ret\": 1, \"events\": [{\"events\": \"EPOLLIN\", \"data\": 16045690985305276141}]},\n"
	"  {\"step\": 8, \"t\": 0, \"ret\": 8, \"value\": 18446744073709551614}\n"
	" ]}, \"meta\": {\"scenario\": \"data 16045690985305276141 and -18446744073709551614 in a string\"}}\n";

static const char *const big_u64_written[] = {
	"{\"op\": \"write\", \"fd\": 3, \"value\": 18446744073709551614, \"x-v\": \"value 18446744073709551614\"}",
	"\"data\": 16045690985305276141}",
	"\"fd\": 0, \"data\": 18446744073709551615}",
	"\"fd\": 1, \"data\": 9223372036854775807}",
	"\"fd\": 2, \"data\": 9223372036854775808}",
	"\"events\": [{\"events\": \"EPOLLIN\", \"data\": 16045690985305276141}]}",
	"\"ret\": 8, \"value\": 18446744073709551614}",
	"\"x-look\": \"\\\\u000018446744073709551615\"",
	"\"x-str\": \"18446744073709551615\"",
	"\"x-esc\": \"a\\\"18446744073709551615\"",
	"\"x-bs\": \"\\\\\"",
	"\"x-big\": 18446744073709551616",
	"\"x-neg\": [-99999999999999999999, 1.5]",
	"\"meta\": {\"scenario\": \"data 16045690985305276141 and -18446744073709551614 in a string\"}",
};

static void test_big_u64(struct tally *t)
{
	static const uint64_t data[] = {
		0xdeadbeeffacefeedu, UINT64_MAX, INT64_MAX, (uint64_t)INT64_MAX + 1,
	};
	struct program p, q;
	struct outcome o, back;
	struct error err;
	char why[128], *text, *again;
	json_t *js;

	outcome_init(&o);
	outcome_init(&back);
	if (parse(big_u64, &p, &o, &err) < 0) {
		check(t, false, "big_u64: %s", err.msg);
		outcome_free(&o);
		outcome_free(&back);
		return;
	}
	check(t, (uint64_t)p.ops[1].f[F_VALUE] == 0xfffffffffffffffeu,
	      "value bits %llx", (unsigned long long)p.ops[1].f[F_VALUE]);
	for (unsigned i = 0; i < 4; i++)
		check(t, (uint64_t)p.ops[3 + i].f[F_DATA] == data[i],
		      "ops[%u].data bits %llx, not %llx", 3 + i,
		      (unsigned long long)p.ops[3 + i].f[F_DATA],
		      (unsigned long long)data[i]);
	check(t, o.nsteps == 9 && o.steps[7].res.ev_count == 1 &&
			 o.events[o.steps[7].res.ev_first].data == data[0] &&
			 o.steps[8].res.value == 0xfffffffffffffffeu,
	      "outcome bits");
	text = trace_dump(&p, &o);
	for (size_t i = 0; i < sizeof(big_u64_written) / sizeof(big_u64_written[0]); i++)
		check(t, strstr(text, big_u64_written[i]) != NULL,
		      "big_u64: written without %s:\n%s", big_u64_written[i], text);
	check(t, !strstr(text, "\"0x") && !strstr(text, "\"\\u0000"),
	      "big_u64: a string form or a marker left:\n%s", text);
	if (parse(text, &q, &back, &err) < 0) {
		check(t, false, "big_u64 reparse: %s\n%s", err.msg, text);
	} else {
		check(t, programs_equal(&p, &q, why, sizeof(why)),
		      "big_u64 round trip differs at %s:\n%s", why, text);
		check(t, outcomes_equal(&o, &back, why, sizeof(why)),
		      "big_u64 outcome round trip differs at %s:\n%s", why, text);
		again = trace_dump(&q, &back);
		check(t, strcmp(text, again) == 0, "big_u64 second dump differs:\n%s\n%s",
		      text, again);
		free(again);
		program_free(&q);
	}
	free(text);

	/* trace_json_dumps() writes what the codec built as plain integers;
	 * json_dumps() could not. */
	js = outcome_to_json(&p, &o);
	text = trace_json_dumps(js, JSON_COMPACT);
	check(t, text && strstr(text, "{\"step\":8,\"t\":0,\"ret\":8,\"value\":18446744073709551614}"),
	      "trace_json_dumps: %s", text ? text : "(null)");
	free(text);
	json_decref(js);
	js = trace_to_json(&p, NULL);
	text = trace_json_dumps(json_object_get(js, "x-big"), JSON_ENCODE_ANY);
	check(t, text && strcmp(text, "18446744073709551616") == 0,
	      "trace_json_dumps of an extra: %s", text ? text : "(null)");
	free(text);
	json_decref(js);

	outcome_free(&o);
	outcome_free(&back);
	program_free(&p);
}

/* Error columns after big integers are those of the text as given: the
 * same as with reals of the same length in their place. */
static void test_big_columns(struct tally *t)
{
	static const char *const texts[][2] = {
		{ "{\"epollfuzz\": 1, \"x-a\": 18446744073709551615, \"x-b\": [-18446744073709551615, 99999999999999999999] \"ops\": []}",
		  "{\"epollfuzz\": 1, \"x-a\": 1.000000000000000000, \"x-b\": [-1.000000000000000000, 1.000000000000000000] \"ops\": []}" },
		{ "{\"epollfuzz\": 1,\n \"x-a\": [18446744073709551615, 18446744073709551615,\n 18446744073709551615, 18446744073709551615}}",
		  "{\"epollfuzz\": 1,\n \"x-a\": [1.000000000000000000, 1.000000000000000000,\n 1.000000000000000000, 1.000000000000000000}}" },
		{ "{\"x-\u00e9\": 18446744073709551615, \"epollfuzz\": 1, \"epollfuzz\": 1}",
		  "{\"x-\u00e9\": 1.000000000000000000, \"epollfuzz\": 1, \"epollfuzz\": 1}" },
		{ "[18446744073709551615, tru]", "[1.000000000000000000, tru]" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct program p;
		struct error a = { "" }, b = { "" };

		check(t, parse(texts[i][0], &p, NULL, &a) < 0 &&
				 parse(texts[i][1], &p, NULL, &b) < 0 &&
				 strstr(a.msg, "JSON syntax error") &&
				 strcmp(a.msg, b.msg) == 0,
		      "big columns %zu: '%s', not '%s'", i, a.msg, b.msg);
	}
}

/* ---------------------------------------------------------- bad input */

#define HEAD "{\"epollfuzz\": 1, \"ops\": ["
#define OPS(...) HEAD __VA_ARGS__ "]}"
#define CLOSE4 "{\"op\": \"close\", \"fd\": 4}, "

static const struct {
	const char *text;
	const char *message; /* the whole message, or its start when it ends in "..." */
} bad[] = {
	{ OPS(CLOSE4 CLOSE4 CLOSE4
	      "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"events\": \"EPOLLIN|EPOLLFOO\"}"),
	  "ops[3].events: unknown flag name 'EPOLLFOO'" },
	{ OPS(CLOSE4 CLOSE4 "{\"op\": \"epol_wait\", \"epfd\": 3}"),
	  "ops[2].op: unknown op 'epol_wait'" },
	{ OPS(CLOSE4 "{\"op\": \"close\"}"), "ops[1]: missing required field 'fd'" },
	{ "{\"epollfuzz\": 1, \"threads\": 2, \"ops\": [{\"op\": \"sleep\", \"t\": 9}]}",
	  "ops[0].t: thread 9 out of range 0..1 (threads is 2)" },
	{ OPS("{\"op\": \"sleep\", \"t\": 8}"), "ops[0].t: thread 8 out of range 0..7" },
	{ OPS("{\"op\": \"sleep\", \"t\": \"1\"}"), "ops[0].t: expected an integer, got string" },
	{ OPS(CLOSE4 CLOSE4 CLOSE4 CLOSE4 "{\"op\": \"close\", \"fd\": \"4\"}"),
	  "ops[4].fd: expected an integer, got string" },
	{ OPS("{\"op\": \"epoll_wait\", \"epfd\": 3, \"maxevents\": 4294967296}"),
	  "ops[0].maxevents: 4294967296 out of range -2147483648..2147483647" },
	{ OPS("{\"op\": \"read\", \"fd\": 3, \"len\": 1.5}"),
	  "ops[0].len: expected an integer, got real" },
	{ OPS("{\"op\": \"read\", \"fd\": 3, \"len\": 1048577}"),
	  "ops[0].len: 1048577 out of range 0..1048576" },
	{ OPS(CLOSE4 CLOSE4 CLOSE4 CLOSE4 CLOSE4
	      "{\"op\": \"pipe2\", \"fds\": [3, 4]}"),
	  "ops[5]: unknown key 'fds'" },
	{ OPS("{\"op\": \"pipe2\", \"fd\": 3}"), "ops[0]: unknown key 'fd'" },
	{ OPS("{\"op\": \"pipe2\", \"flags\": \"O_NONBLOCK|\"}"),
	  "ops[0].flags: flag list ends with '|'" },
	{ OPS("{\"op\": \"pipe2\", \"flags\": [1]}"),
	  "ops[0].flags: expected an integer or flag names, got array" },
	{ OPS("{\"op\": \"epoll_create1\", \"flags\": \"O_NONBLOCK\"}"),
	  "ops[0].flags: unknown flag name 'O_NONBLOCK'" },
	{ OPS("{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 4, \"data\": \"0x\"}"),
	  "ops[0].data: '0x' is not a 64-bit unsigned number" },
	{ OPS("{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 4, \"data\": \"-1\"}"),
	  "ops[0].data: '-1' is not a 64-bit unsigned number" },
	{ OPS("{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 4, \"data\": \"0x10000000000000000\"}"),
	  "ops[0].data: '0x10000000000000000' is not a 64-bit unsigned number" },
	{ OPS("{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 4, \"data\": 1.0}"),
	  "ops[0].data: expected an integer or a \"0x...\" string, got real" },
	{ OPS("{\"op\": 3}"), "ops[0].op: expected a string, got integer" },
	/* integers beyond int64_t: out of range, by place, never a wrap */
	{ OPS("{\"op\": \"write\", \"fd\": 4, \"value\": 18446744073709551616}"),
	  "ops[0].value: 18446744073709551616 out of range -9223372036854775808..18446744073709551615" },
	{ OPS(CLOSE4 "{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"data\": 340282366920938463463374607431768211457}"),
	  "ops[1].data: 340282366920938463463374607431768211457 out of range -9223372036854775808..18446744073709551615" },
	{ OPS("{\"op\": \"write\", \"fd\": 4, \"value\": -9223372036854775809}"),
	  "ops[0].value: -9223372036854775809 out of range -9223372036854775808..18446744073709551615" },
	{ OPS(CLOSE4 CLOSE4 "{\"op\": \"close\", \"fd\": 18446744073709551614}"),
	  "ops[2].fd: 18446744073709551614 out of range -2147483648..2147483647" },
	{ OPS("{\"op\": \"close\", \"fd\": -18446744073709551614}"),
	  "ops[0].fd: -18446744073709551614 out of range -2147483648..2147483647" },
	{ OPS("{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": 1, \"fd\": 4, \"events\": 18446744073709551615}"),
	  "ops[0].events: 18446744073709551615 out of range -2147483648..4294967295" },
	{ OPS("{\"op\": \"read\", \"fd\": 3, \"len\": 123456789012345678901234567890123456789012345678901234567890}"),
	  "ops[0].len: 1234567890123456789012345678901234567890... out of range 0..1048576" },
	{ OPS("{\"op\": \"sleep\", \"t\": 18446744073709551615}"),
	  "ops[0].t: thread 18446744073709551615 out of range 0..7" },
	{ "{\"epollfuzz\": 1, \"threads\": 2, \"ops\": [{\"op\": \"sleep\", \"t\": 9223372036854775808}]}",
	  "ops[0].t: thread 9223372036854775808 out of range 0..1 (threads is 2)" },
	{ OPS("{\"op\": 18446744073709551615}"), "ops[0].op: expected a string, got integer" },
	{ "{\"epollfuzz\": 1, \"threads\": 18446744073709551615, \"ops\": [{\"op\": \"sleep\"}]}",
	  "threads: 18446744073709551615 out of range 1..8" },
	{ "{\"epollfuzz\": 18446744073709551617, \"ops\": []}",
	  "epollfuzz: format version 18446744073709551617 is not supported (this reads version 1)" },
	{ "{\"epollfuzz\": 1, \"meta\": 18446744073709551615, \"ops\": [{\"op\": \"sleep\"}]}",
	  "meta: expected an object, got integer" },
	/* a "\u0000" of the text's own stays refused, big integers or not */
	{ "{\"epollfuzz\": 1, \"x-a\": \"a\\u0000b\", \"x-b\": 18446744073709551615, \"ops\": [{\"op\": \"sleep\"}]}",
	  "line 1 column 34: JSON syntax error: \\u0000 is not allowed..." },
	{ "{\"epollfuzz\": 1, \"x-a\": \"\\u000018446744073709551615\", \"ops\": [{\"op\": \"sleep\"}]}",
	  "line 1 column 52: JSON syntax error: \\u0000 is not allowed..." },
	{ "{\"epollfuzz\": 1, 18446744073709551615: 1, \"ops\": [{\"op\": \"sleep\"}]}",
	  "line 1 column 37: JSON syntax error: string or '}' expected near '18446744073709551615'" },
	/* jansson's columns, in the caller's text */
	{ "{\"epollfuzz\": 1, \"x-a\": 18446744073709551615, \"x-b\": [-18446744073709551615],\n"
	  " \"x-c\": 18446744073709551615, \"ops\" [{\"op\": \"sleep\"}]}",
	  "line 2 column 37: JSON syntax error: ':' expected near '['" },
	{ OPS("{\"t\": 0}"), "ops[0]: missing required field 'op'" },
	{ OPS("[]"), "ops[0]: expected an object, got array" },
	{ "{\"epollfuzz\": 1,\n \"ops\": [\n  {\"op\" \"close\"}]}",
	  "line 3 column 15: JSON syntax error: ..." },
	{ "{\"epollfuzz\": 1, \"epollfuzz\": 1, \"ops\": []}",
	  "line 1 column 28: JSON syntax error: duplicate object key..." },
	{ "", "line 1 column 0: JSON syntax error: ..." },
	{ "{\"ops\": [{\"op\": \"sleep\"}]}", "trace: missing \"epollfuzz\"" },
	{ "{\"epollfuzz\": 2, \"ops\": []}", "epollfuzz: format version 2 is not supported..." },
	{ "{\"epollfuzz\": \"1\", \"ops\": []}", "epollfuzz: expected an integer, got string" },
	{ "[1]", "trace: expected an object, got array" },
	{ "{\"epollfuzz\": 1}", "trace: missing \"ops\"" },
	{ "{\"epollfuzz\": 1, \"ops\": []}", "ops: expected 1..4096 elements, got 0" },
	{ "{\"epollfuzz\": 1, \"ops\": {}}", "ops: expected an array, got object" },
	{ "{\"epollfuzz\": 1, \"threads\": 9, \"ops\": [{\"op\": \"sleep\"}]}",
	  "threads: 9 out of range 1..8" },
	{ "{\"epollfuzz\": 1, \"thread\": 2, \"ops\": [{\"op\": \"sleep\"}]}",
	  "trace: unknown key 'thread'" },
	{ "{\"epollfuzz\": 1, \"meta\": \"x\", \"ops\": [{\"op\": \"sleep\"}]}",
	  "meta: expected an object, got string" },	/* processes: the rules of fork and exit, by op and field */
	{ "{\"epollfuzz\": 1, \"threads\": 2, \"ops\": [{\"op\": \"sleep\", \"t\": 1}, {\"op\": \"fork\", \"child\": 1}]}",
	  "ops[1].child: thread 1 is already in use (an earlier op or this one names it)" },
	{ "{\"epollfuzz\": 1, \"threads\": 2, \"ops\": [{\"op\": \"fork\", \"child\": 0}]}",
	  "ops[0].child: thread 0 is already in use (an earlier op or this one names it)" },
	{ "{\"epollfuzz\": 1, \"threads\": 2, \"ops\": [{\"op\": \"fork\", \"child\": 2}]}",
	  "ops[0].child: thread 2 is not a thread of the program (0..1)" },
	{ OPS("{\"op\": \"fork\", \"child\": 8}"), "ops[0].child: 8 out of range 0..7" },
	{ OPS("{\"op\": \"fork\"}"), "ops[0]: missing required field 'child'" },
	{ OPS("{\"op\": \"exit\"}"),
	  "ops[0].t: exit by thread 0, which no earlier fork started (process 0 never exits)" },
	{ OPS("{\"op\": \"fork\", \"child\": 1}, {\"op\": \"exit\", \"t\": 1}, {\"op\": \"close\", \"fd\": 3, \"t\": 1}"),
	  "ops[2].t: thread 1's process exited (exit) before" },
	{ OPS("{\"op\": \"fork\", \"child\": 1}, {\"op\": \"fork\", \"child\": 2, \"t\": 1}, "
	      "{\"op\": \"exit\", \"t\": 1}, {\"op\": \"fork\", \"child\": 3, \"t\": 1}"),
	  "ops[3].t: thread 1's process exited (exit) before" },
};

static bool message_matches(const char *msg, const char *want)
{
	size_t n = strlen(want);

	if (n > 3 && strcmp(want + n - 3, "...") == 0)
		return strncmp(msg, want, n - 3) == 0 && strchr(msg, '\n') == NULL;
	return strcmp(msg, want) == 0;
}

static void test_bad_input(struct tally *t)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct program p;
		struct error err = { "" };
		int rc = parse(bad[i].text, &p, NULL, &err);

		check(t, rc == -1, "bad %zu accepted: %s", i, bad[i].text);
		check(t, message_matches(err.msg, bad[i].message),
		      "bad %zu: message '%s', not '%s'", i, err.msg,
		      bad[i].message);
		check(t, p.nops == 0 && p.ops == NULL && p.extras == NULL,
		      "bad %zu: program not left empty", i);
	}
}

static void test_load_file(struct tally *t)
{
	struct program p;
	struct error err;

	check(t, trace_load_file("/nonexistent/x.json", &p, NULL, &err) < 0 &&
			 strcmp(err.msg, "/nonexistent/x.json: No such file or directory") == 0,
	      "missing file: '%s'", err.msg);
}

/* ---------------------------------------------------------- outcomes */

/* A program of eight ops with an outcome holding every kind of record. */
static void build_sample(struct program *p, struct outcome *o)
{
	static const char ops[] =
		"{\"epollfuzz\": 1, \"threads\": 3, \"ops\": ["
		"{\"op\": \"epoll_create1\"}, {\"op\": \"pipe2\"},"
		"{\"op\": \"epoll_ctl\", \"epfd\": 3, \"ctl\": \"EPOLL_CTL_ADD\", \"fd\": 4, \"events\": \"EPOLLIN\"},"
		"{\"op\": \"epoll_wait\", \"t\": 1, \"epfd\": 3},"
		"{\"op\": \"read\", \"t\": 1, \"fd\": 4},"
		"{\"op\": \"epoll_wait\", \"t\": 2, \"epfd\": 3, \"timeout\": 5},"
		"{\"op\": \"write\", \"fd\": 5},"
		"{\"op\": \"close\", \"fd\": 99},"
		"{\"op\": \"eventfd\"}, {\"op\": \"read\", \"fd\": 6}]}";
	struct step_record *r;
	struct completion *c;
	struct error err;

	if (parse(ops, p, NULL, &err) < 0) {
		fprintf(stderr, "sample: %s\n", err.msg);
		abort();
	}
	outcome_init(o);
	outcome_add_step(o, 0, 0)->res.ret = 3;
	r = outcome_add_step(o, 1, 0);
	r->res.has = RES_FDS;
	r->res.fds[0] = 4;
	r->res.fds[1] = 5;
	outcome_add_step(o, 2, 0);
	outcome_add_step(o, 3, 1)->state = STEP_BLOCKED;
	outcome_add_step(o, 4, 1)->state = STEP_SKIPPED;
	outcome_add_step(o, 5, 2)->state = STEP_BLOCKED;
	r = outcome_add_step(o, 6, 0);
	r->res.ret = 1;
	c = outcome_add_completion(o, r, 3, 1);
	c->res.ret = 2;
	c->res.has = RES_EVENTS;
	outcome_add_event(o, &c->res, EPOLLIN, 4);
	outcome_add_event(o, &c->res, EPOLLIN | EPOLLHUP | 0x01000000u,
			  0xfedcba9876543210u);
	c = outcome_add_completion(o, r, 5, 2);
	result_set_error(&c->res, EINTR);
	r = outcome_add_step(o, 7, 0);
	result_set_error(&r->res, EBADF);
	r = outcome_add_step(o, 8, 0);
	r->res.ret = 6;
	r = outcome_add_step(o, 9, 0);
	r->res.ret = 8;
	r->res.has = RES_VALUE | RES_EVENTS; /* an empty events list, too */
	r->res.value = 0x8000000000000001u;
	outcome_add_step(o, 9, 0)->state = STEP_UNSUPPORTED;
	o->blocked[o->nblocked++] = (struct blocked_rec){ 5, 2 };
	snprintf(o->unsupported, sizeof(o->unsupported), "read on an eventfd");
	o->violation.broken = true;
	o->violation.step = 7;
	snprintf(o->violation.cls, sizeof(o->violation.cls), "dangling-interest");
	snprintf(o->violation.msg, sizeof(o->violation.msg),
		 "interest on fd 4 of \"epoll\" 3");
}

static void test_outcome_round_trip(struct tally *t)
{
	struct program p, q;
	struct outcome o, back;
	struct error err;
	char why[128], *text, *again;

	build_sample(&p, &o);
	outcome_init(&back);
	text = trace_dump(&p, &o);
	if (parse(text, &q, &back, &err) < 0) {
		check(t, false, "outcome reparse: %s\n%s", err.msg, text);
	} else {
		check(t, programs_equal(&p, &q, why, sizeof(why)),
		      "outcome trace program differs at %s", why);
		check(t, outcomes_equal(&o, &back, why, sizeof(why)),
		      "outcome round trip differs at %s:\n%s", why, text);
		again = trace_dump(&q, &back);
		check(t, strcmp(text, again) == 0,
		      "outcome second dump differs:\n%s\n%s", text, again);
		free(again);
		program_free(&q);
	}
	check(t, strstr(text, "{\"step\": 6, \"t\": 0, \"ret\": 1, \"completed\": [{\"step\": 3, \"t\": 1, \"ret\": 2, "
			      "\"events\": [{\"events\": \"EPOLLIN\", \"data\": 4}, {\"events\": 16777233, "
			      "\"data\": 18364758544493064720}]}, {\"step\": 5, \"t\": 2, \"ret\": -1, "
			      "\"errno\": \"EINTR\"}]}") != NULL,
	      "completion record:\n%s", text);
	check(t, strstr(text, "{\"step\": 3, \"t\": 1, \"blocked\": true},\n  {\"step\": 4, \"t\": 1, \"skipped\": \"blocked\"},") != NULL,
	      "blocked and skipped records:\n%s", text);
	check(t, strstr(text, "{\"step\": 1, \"t\": 0, \"ret\": 0, \"fds\": [4, 5]}") != NULL,
	      "fds record:\n%s", text);
	check(t, strstr(text, "\"value\": 9223372036854775809, \"events\": []}") != NULL,
	      "value record:\n%s", text);
	check(t, strstr(text, "\n], \"still_blocked\": [{\"step\": 5, \"t\": 2}], \"unsupported\": \"read on an eventfd\", "
			      "\"violation\": {\"step\": 7, \"class\": \"dangling-interest\", "
			      "\"message\": \"interest on fd 4 of \\\"epoll\\\" 3\"}}}\n") != NULL,
	      "outcome tail:\n%s", text);

	/* Without an outcome to fill, "outcome" is accepted and ignored. */
	check(t, parse(text, &q, NULL, &err) == 0, "outcome ignored: %s", err.msg);
	program_free(&q);

	free(text);
	outcome_free(&o);
	outcome_free(&back);
	program_free(&p);
}

#define WITH_OUTCOME(steps_) \
	"{\"epollfuzz\": 1, \"ops\": [{\"op\": \"close\", \"fd\": 9}, {\"op\": \"sleep\"}]," \
	" \"outcome\": {\"steps\": [" steps_ "]}}"

static const struct {
	const char *text;
	const char *message;
} bad_outcomes[] = {
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": -1, \"errno\": \"EFOO\"}"),
	  "outcome.steps[0].errno: unknown errno name 'EFOO'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": -1}"),
	  "outcome.steps[0]: missing required field 'errno'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 0, \"errno\": \"EBADF\"}"),
	  "outcome.steps[0].errno: given but ret is 0" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 0}, {\"step\": 2, \"t\": 0, \"ret\": 0}"),
	  "outcome.steps[1].step: 2 out of range 0..1" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 0, \"blocked\": true}"),
	  "outcome.steps[0]: both 'ret' and 'blocked'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"skipped\": true}"),
	  "outcome.steps[0].skipped: expected \"blocked\"" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0}"),
	  "outcome.steps[0]: missing 'ret', 'blocked', 'skipped' or 'unsupported'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"blocked\": true, \"fds\": [1, 2]}"),
	  "outcome.steps[0]: unknown key 'fds'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 0, \"fds\": [1]}"),
	  "outcome.steps[0].fds: expected 2..2 elements, got 1" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 1, \"events\": [{\"events\": \"EPOLLIN|EPOLLFOO\", \"data\": 1}]}"),
	  "outcome.steps[0].events[0].events: unknown flag name 'EPOLLFOO'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 1, \"completed\": [{\"step\": 1, \"t\": 0, \"ret\": 0, \"x\": 1}]}"),
	  "outcome.steps[0].completed[0]: unknown key 'x'" },
	{ "{\"epollfuzz\": 1, \"ops\": [{\"op\": \"sleep\"}], \"outcome\": {}}",
	  "outcome: missing required field 'steps'" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 1, \"events\": [{\"events\": 1, \"data\": 18446744073709551616}]}"),
	  "outcome.steps[0].events[0].data: 18446744073709551616 out of range -9223372036854775808..18446744073709551615" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 8, \"value\": 99999999999999999999}"),
	  "outcome.steps[0].value: 99999999999999999999 out of range -9223372036854775808..18446744073709551615" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": 9223372036854775808}"),
	  "outcome.steps[0].ret: 9223372036854775808 out of range -9223372036854775808..9223372036854775807" },
	{ WITH_OUTCOME("{\"step\": 18446744073709551615, \"t\": 0, \"ret\": 0}"),
	  "outcome.steps[0].step: 18446744073709551615 out of range 0..1" },
	{ WITH_OUTCOME("{\"step\": 0, \"t\": 0, \"ret\": -1, \"errno\": 18446744073709551615}"),
	  "outcome.steps[0].errno: expected a string, got integer" },
	{ "{\"epollfuzz\": 1, \"ops\": [{\"op\": \"sleep\"}], \"outcome\": {\"steps\": [], \"unsupported\": 18446744073709551615}}",
	  "outcome.unsupported: expected a string, got integer" },
	{ "{\"epollfuzz\": 1, \"ops\": [{\"op\": \"sleep\"}], \"outcome\": {\"steps\": [], \"violation\": {\"step\": 0, \"class\": \"x\"}}}",
	  "outcome.violation: missing required field 'message'" },
};

static void test_bad_outcomes(struct tally *t)
{
	struct outcome o;

	outcome_init(&o);
	for (size_t i = 0; i < sizeof(bad_outcomes) / sizeof(bad_outcomes[0]); i++) {
		struct program p;
		struct error err = { "" };
		int rc = parse(bad_outcomes[i].text, &p, &o, &err);

		check(t, rc == -1 && strcmp(err.msg, bad_outcomes[i].message) == 0,
		      "bad outcome %zu: rc %d message '%s', not '%s'", i, rc,
		      err.msg, bad_outcomes[i].message);
		check(t, p.nops == 0 && o.nsteps == 0 && o.nevents == 0 &&
				 o.ndone == 0,
		      "bad outcome %zu: not left empty", i);
	}
	outcome_free(&o);
}

/* ------------------------------------------------------------ schema */

static json_t *schema_def(json_t *schema, const char *name)
{
	return json_object_get(json_object_get(schema, "$defs"), name);
}

/* Follows one "$ref": "#/$defs/NAME". */
static json_t *resolve(json_t *schema, json_t *v)
{
	const char *ref = json_string_value(json_object_get(v, "$ref"));

	if (ref && strncmp(ref, "#/$defs/", 8) == 0)
		return schema_def(schema, ref + 8);
	return v;
}

/* True when some branch of an anyOf (or the schema itself) has the range.
 * The schema is loaded with integers as reals (u64's maximum, 2^64-1, is
 * beyond jansson's integers); every other bound is exact in a double. */
static bool has_integer_range(json_t *s, int64_t min, int64_t max)
{
	json_t *alt = json_object_get(s, "anyOf");

	if (alt) {
		for (size_t i = 0; i < json_array_size(alt); i++)
			if (has_integer_range(json_array_get(alt, i), min, max))
				return true;
		return false;
	}
	return json_number_value(json_object_get(s, "minimum")) == (double)min &&
	       json_number_value(json_object_get(s, "maximum")) == (double)max;
}

static bool pattern_has_names(json_t *s, const struct flag_name *names)
{
	json_t *alt = json_object_get(s, "anyOf");

	for (size_t i = 0; i < json_array_size(alt); i++) {
		const char *pat = json_string_value(
			json_object_get(json_array_get(alt, i), "pattern"));
		bool all = pat != NULL;

		for (const struct flag_name *n = names; all && n->name; n++)
			all = strstr(pat, n->name) != NULL;
		if (all)
			return true;
	}
	return false;
}

static void check_schema_field(struct tally *t, json_t *schema,
			       const struct op_desc *d,
			       const struct field_desc *fd, json_t *prop)
{
	json_t *s = resolve(schema, prop);

	if (fd->kind == FK_U64) {
		check(t, s == schema_def(schema, "u64"), "schema %s.%s: not u64",
		      d->name, fd->name);
		return;
	}
	check(t, has_integer_range(s, fd->min, fd->max),
	      "schema %s.%s: integer range is not %lld..%lld", d->name,
	      fd->name, (long long)fd->min, (long long)fd->max);
	if (fd->names)
		check(t, pattern_has_names(s, fd->names),
		      "schema %s.%s: pattern lacks some flag name", d->name,
		      fd->name);
}

static bool required_has(json_t *required, const char *name)
{
	for (size_t i = 0; i < json_array_size(required); i++)
		if (strcmp(json_string_value(json_array_get(required, i)), name) == 0)
			return true;
	return false;
}

/* The schema's per-op definitions must say what the op table says. */
static void test_schema_matches_table(struct tally *t, const char *path)
{
	json_error_t jerr;
	json_t *schema = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);

	if (!schema) {
		check(t, false, "%s: %s", path, jerr.text);
		return;
	}
	for (unsigned k = 0; k < OP_KIND_COUNT; k++) {
		const struct op_desc *d = &op_table[k];
		char name[64];
		json_t *def, *props, *required;
		unsigned nrequired = 1;

		snprintf(name, sizeof(name), "op_%s", d->name);
		def = schema_def(schema, name);
		props = json_object_get(def, "properties");
		required = json_object_get(def, "required");
		check(t, json_object_size(props) == d->nfields + 2,
		      "schema %s: %zu properties for %u fields", name,
		      json_object_size(props), d->nfields);
		for (unsigned i = 0; i < d->nfields; i++) {
			const struct field_desc *fd = &d->fields[i];
			json_t *prop = json_object_get(props, fd->name);

			if (!prop) {
				check(t, false, "schema %s: no field %s", name,
				      fd->name);
				continue;
			}
			check_schema_field(t, schema, d, fd, prop);
			nrequired += fd->defkind == DEF_REQUIRED;
			check(t, required_has(required, fd->name) ==
					 (fd->defkind == DEF_REQUIRED),
			      "schema %s: %s required or not", name, fd->name);
		}
		check(t, json_array_size(required) == nrequired,
		      "schema %s: required list", name);
	}
	json_decref(schema);
}

/* ------------------------------------------------------------- main */

static int emit_sample(const char *path)
{
	struct program p;
	struct outcome o;
	char *text;
	FILE *f;

	build_sample(&p, &o);
	text = trace_dump(&p, &o);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	free(text);
	outcome_free(&o);
	program_free(&p);
	return 0;
}

int main(int argc, char **argv)
{
	struct tally t = { 0, 0 };

	if (argc == 3 && strcmp(argv[1], "--emit-sample") == 0)
		return emit_sample(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: test_json SCHEMA.json | --emit-sample FILE\n");
		return 2;
	}
	test_round_trip(&t);
	test_defaults(&t);
	test_echoes(&t);
	test_big_u64(&t);
	test_big_columns(&t);
	test_bad_input(&t);
	test_load_file(&t);
	test_outcome_round_trip(&t);
	test_bad_outcomes(&t);
	test_schema_matches_table(&t, argv[1]);
	printf("%d checks, %d failed\n", t.checks, t.failures);
	return t.failures ? 1 : 0;
}
