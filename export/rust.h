/*
 * rust.h - the Rust exporter's pieces, private to export/.
 *
 *   rust.c       the test for one trace: what it accepts, its schedule,
 *                its opening comment, the file around main
 *   rust_main.c  fn main: each step as Rust statements
 *   rust_fmt.c   Rust expressions, laid out as rustfmt lays them out
 */
#ifndef EPOLLFUZZ_EXPORT_RUST_H
#define EPOLLFUZZ_EXPORT_RUST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "internal.h"
#include "profile.h"

/*
 * The rustfmt settings the layout follows: rustfmt's defaults, or Miri's
 * rustfmt.toml (use_small_heuristics = "Max": every width is max_width).
 */
struct rs_style {
	unsigned max_width;  /* max_width */
	unsigned call_width; /* fn_call_width: a call's (and a tuple's) items */
	unsigned array_width; /* array_width: a vec!'s or an array's items */
};

extern const struct rs_style rs_style_default, rs_style_miri;

/*
 * An expression: an atom (a path, a literal, a short chain: laid out as
 * is), a list (a call, a macro call, a tuple, an array: HEAD(items) or
 * HEAD[items]), a closure (move || body), operands joined by `|`, or one
 * method called on an expression.
 */
struct rx;

/* Where the expressions of a test live until rx_arena_free(). */
struct rx_arena;

struct rx_arena *rx_arena_new(void);
/* Whether every allocation succeeded since rx_arena_new (the expressions
 * are otherwise incomplete: an error to report, not output to write). */
bool rx_arena_ok(const struct rx_arena *a);
void rx_arena_free(struct rx_arena *a);

struct rx *rx_atom(struct rx_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* head(...), name!(...), vec![...], (...) (head ""), &[...] (head "&"):
 * open is '(' or '['; items are added with rx_push. */
struct rx *rx_list(struct rx_arena *a, const char *head, char open);
/* The same for a macro: nothing inside it gets a trailing comma. */
struct rx *rx_macro(struct rx_arena *a, const char *name, char open);
struct rx *rx_closure(struct rx_arena *a, struct rx *body);
/* a | b | c: items are added with rx_push. */
struct rx *rx_or(struct rx_arena *a);
/* receiver.method(...), the method given as text: ".expect(\"step 3\")". */
struct rx *rx_method(struct rx_arena *a, struct rx *receiver, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends item to list and returns list (NULL stays NULL). */
struct rx *rx_push(struct rx *list, struct rx *item);
/* rx_list(head, '(') with the given items, NULL-terminated. */
struct rx *rx_call(struct rx_arena *a, const char *head, ...);

/* Output that knows its column. */
struct rs_out {
	FILE *f;
	const struct rs_style *style;
	unsigned col;
};

/* A statement at indent: "lead expr;" where lead is "", "let x = " or
 * "x = ", laid out as rustfmt does (on the next line when it then fits). */
void rs_statement(struct rs_out *o, unsigned indent, const char *lead,
		  const struct rx *e);
/* Comment lines at indent ("// text"), text wrapped at max_width; "\n"
 * in text starts a new line. */
void rs_comment(struct rs_out *o, unsigned indent, const char *text);
/* A line as it is (already laid out), at indent. */
void rs_line(struct rs_out *o, unsigned indent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------
 * One test (rust.c, rust_main.c).
 */

enum {
	RS_TICK_MS = 10,    /* a blocking call's time to fall asleep (miri.rs too) */
	/* A deadline falls this long, plus twice the time its wait has slept
	 * by then in the plan (natively every sleep runs late), after the step
	 * that times the wait out starts; that step sleeps twice as long. */
	RS_SLACK_MS = 150,
	RS_MAX_REFUSALS = 64,
	RS_MAX_HELPERS = 32,
	RS_MAX_UNOPENED = 32,
};

#define RS_NO_STEP UINT32_MAX

/* What the test does at one step. */
struct rs_step {
	uint32_t plan_ms;  /* when the step starts, in the test's planned time */
	uint32_t slack_ms; /* a sleep that ends waits: their deadlines are this
			      long after it starts; it sleeps twice that */
	uint32_t done_at;  /* a blocked step: the step that ends it in the
			      recording; RS_NO_STEP: none */
	int64_t timeout;   /* an epoll wait: the timeout the test passes (ms;
			      epoll_pwait2 passes it as ns) */
	int64_t maxevents; /* an epoll wait: the maxevents the test passes */
	bool uncertain;    /* a blocked step: which step ends it depends on
			      how woken threads race */
	bool racing;       /* the outcomes Linux allows differ here */
	bool ends_some;    /* some outcome ends a blocked call here */
	bool settle;       /* threads may sleep after it: give any it woke time */
	bool probes;       /* a call (not a sleep) after which blocked calls whose
			      end depends on the race are probed */
	bool forever;      /* blocked to the end with no timeout (unsupported) */
	bool on_eventfd;   /* a read or write whose fd is an eventfd (set by main) */
};

struct rs {
	const struct program *p;
	const struct outcome *rec;
	const struct export_options *opt;
	const json_t *meta;
	struct error *err;

	/* outs[0] is the recording, then the others Linux allows. */
	const struct outcome *outs[EXPORT_MAX_OUTCOMES];
	unsigned nouts;
	struct export_others others;
	bool race_dropped; /* races a test cannot order: recording only */

	struct profile_refusal refusals[RS_MAX_REFUSALS];
	unsigned nrefusals;

	struct rs_step *steps; /* one per op */
	uint32_t *ended;       /* [k * nops + b]: the step that ends blocked step b
				  in outcome k, RS_NO_STEP: none */
	uint32_t end_ms;   /* when the last step has run, in planned time */
	uint32_t end_slack_ms; /* waits still blocked then time out this later */
	bool end_racing;  /* which calls are still blocked at the end differs */
	unsigned nracing; /* racing steps, the end included */

	/* While writing main (rust_main.c). */
	struct rx_arena *ar;
	struct rs_out out;
	struct fd_sim sim;                /* what each fd holds, as recorded */
	bool bound[FD_LIMIT];             /* fdN holds what the program made */
	/* fdN holds a closed number standing in for N, which the program
	 * never opened: until the program next makes an fd, which takes it. */
	int64_t unopened[RS_MAX_UNOPENED];
	unsigned nunopened;
	bool read_fd[FD_LIMIT];           /* fdN is read (learnt in pass one) */
	uint32_t blocked_in[MAX_THREADS]; /* the step a thread sleeps in */
	unsigned racing_seen;
	bool threads;                     /* a thread was spawned */
	const char *helpers[RS_MAX_HELPERS];
	unsigned nhelpers;
};

static inline const struct step_record *rs_record(const struct outcome *o,
						 uint32_t i)
{
	return &o->steps[i];
}

/* An epoll wait's timeout in ms, as epoll_wait takes it (-1: none). */
int64_t rs_wait_ms(const struct op *op);
/* The step that ends blocked step b in outcome k (RS_NO_STEP: none). */
uint32_t rs_ended(const struct rs *r, unsigned k, uint32_t b);
/* What blocked step b returned when it ended in o, or NULL. */
const struct completion *rs_completion(const struct outcome *o, uint32_t b);
/* Whether some outcome ends blocked step b at step i. */
bool rs_ends_here(const struct rs *r, uint32_t b, uint32_t i);
/* Whether some outcome leaves blocked step b blocked at the end. */
bool rs_blocked_at_end(const struct rs *r, uint32_t b);
/* Whether a and b say the same at step i: result and the calls it ended. */
bool rs_same_said(const struct outcome *a, const struct outcome *b, uint32_t i);
/* How many different results the outcomes have at step i. */
unsigned rs_results_at(const struct rs *r, uint32_t i);

/* main's body, both passes (rust_main.c). */
void rs_write_main(struct rs *r, FILE *f);
/* Notes that main calls the helper of miri.rs called name. */
void rs_use_helper(struct rs *r, const char *name);

#endif
