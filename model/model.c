/*
 * model.c - the model target: runs a program op by op on the model's
 * kernel objects and records what each call returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* At most this many scan orders are tried for one program. */
#define MAX_SCHEDULES 256

/* EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event), 12 bytes on x86_64. */
#define EP_MAX_EVENTS (0x7fffffff / 12)

/* ------------------------------------------------------------ the calls */

typedef int64_t (*op_handler)(struct model *m, const struct op *op,
			      struct result *res);

/* What a creation asked for with its O_CLOEXEC-like flag: get_unused_fd_flags
 * sets the new fds' close-on-exec bits (the description keeps no trace of it). */
static void set_cloexec(struct model *m, int64_t ret, const struct result *res,
			bool on)
{
	if (ret < 0 || !on)
		return;
	if (res->has & RES_FDS) {
		fd_set_cloexec(m, res->fds[0], true);
		fd_set_cloexec(m, res->fds[1], true);
	} else {
		fd_set_cloexec(m, (int)ret, true);
	}
}

static int64_t do_epoll_create(struct model *m, const struct op *op,
			       struct result *res)
{
	if ((int)op->f[F_SIZE] <= 0)
		return -EINVAL;
	return sys_epoll_create1(m, 0);
}

static int64_t do_epoll_create1(struct model *m, const struct op *op,
				struct result *res)
{
	int64_t ret = sys_epoll_create1(m, op->f[F_FLAGS]);

	set_cloexec(m, ret, res, (uint64_t)op->f[F_FLAGS] & EPOLL_CLOEXEC);
	return ret;
}

static int64_t do_epoll_ctl(struct model *m, const struct op *op,
			    struct result *res)
{
	return ep_ctl(m, op->f[F_EPFD], op->f[F_CTL], op->f[F_FD],
			 (uint32_t)op->f[F_EVENTS], op_data(op));
}

/*
 * The three waits, one wait: epoll_wait, epoll_pwait (sigmask NULL: no
 * mask to set) and epoll_pwait2 go through do_epoll_wait() and ep_poll()
 * alike.  epoll_pwait2 first checks its timespec (do_epoll_pwait2:
 * EINVAL before the fd is looked at); then EBADF, EINVAL for maxevents,
 * EINVAL for a file that is not an epoll.  Events are always tried first;
 * a zero timeout is all; else the thread sleeps, until its deadline on the
 * virtual clock if it has one (op_wait_timeout says which).
 */
static int64_t do_epoll_wait(struct model *m, const struct op *op,
			     struct result *res)
{
	struct file *f = fd_lookup(m, op->f[F_EPFD]);
	int maxevents = (int)op->f[F_MAXEVENTS];
	uint64_t ms;
	enum wait_timeout timeout = op_wait_timeout(op, &ms);
	struct epoll *ep;
	int n = 0;

	if (timeout == WAIT_EINVAL)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	if (!file_is_epoll(f))
		return -EINVAL;
	ep = f->priv;
	res->has |= RES_EVENTS;
	if (ep_events_available(ep))
		n = ep_send_events(m, ep, maxevents, res);
	if (n || timeout == WAIT_POLL)
		return n;
	return thread_block(m, op->t, f, maxevents,
			    timeout == WAIT_TIMED ? (int64_t)ms : -1);
}

static int64_t do_pipe2(struct model *m, const struct op *op, struct result *res)
{
	int64_t ret = sys_pipe2(m, op->f[F_FLAGS], res);

	set_cloexec(m, ret, res, (uint64_t)op->f[F_FLAGS] & O_CLOEXEC);
	return ret;
}

static int64_t do_eventfd(struct model *m, const struct op *op,
			  struct result *res)
{
	int64_t ret = sys_eventfd(m, (uint64_t)op->f[F_INITVAL], op->f[F_FLAGS]);

	set_cloexec(m, ret, res, (uint64_t)op->f[F_FLAGS] & EFD_CLOEXEC);
	return ret;
}

static int64_t do_socketpair(struct model *m, const struct op *op,
			     struct result *res)
{
	int64_t ret = sys_socketpair(m, op->f[F_TYPE], res);

	set_cloexec(m, ret, res, (uint64_t)op->f[F_TYPE] & SOCK_CLOEXEC);
	return ret;
}

static int64_t do_dup(struct model *m, const struct op *op, struct result *res)
{
	return sys_dup(m, op->f[F_FD]);
}

static int64_t do_dup2(struct model *m, const struct op *op, struct result *res)
{
	return sys_dup3(m, op->f[F_FD], op->f[F_NEWFD], 0, true);
}

static int64_t do_dup3(struct model *m, const struct op *op, struct result *res)
{
	return sys_dup3(m, op->f[F_FD], op->f[F_NEWFD], op->f[F_FLAGS], false);
}

static int64_t do_close(struct model *m, const struct op *op, struct result *res)
{
	return sys_close(m, op->f[F_FD]);
}

static int64_t do_write(struct model *m, const struct op *op, struct result *res)
{
	return sys_write(m, op->f[F_FD], op);
}

static int64_t do_read(struct model *m, const struct op *op, struct result *res)
{
	return sys_read(m, op->f[F_FD], op, res);
}

static int64_t do_shutdown(struct model *m, const struct op *op,
			   struct result *res)
{
	return sys_shutdown(m, op->f[F_FD], op->f[F_HOW]);
}

static int64_t do_close_range(struct model *m, const struct op *op,
			      struct result *res)
{
	if (close_range_unshares(op))
		fd_table_unshare(m, op->t);
	return sys_close_range(m, op->f[F_FIRST], op->f[F_LAST], op->f[F_FLAGS]);
}

static int64_t do_fcntl(struct model *m, const struct op *op, struct result *res)
{
	return sys_fcntl(m, op->f[F_FD], op->f[F_CMD], op->f[F_ARG]);
}

/* The child's table is a copy of the caller's (its process's, or the
 * one it unshared).  fork() returns a pid in the parent; a trace records
 * 0, which says it succeeded. */
static int64_t do_fork(struct model *m, const struct op *op, struct result *res)
{
	fd_table_fork(m, (unsigned)op->f[F_CHILD]);
	return 0;
}

/* The calling thread's process (started by a fork; its only thread is the
 * caller) ends: its table is closed.  The step is recorded as 0 once the
 * parent has reaped it. */
static int64_t do_exit(struct model *m, const struct op *op, struct result *res)
{
	if (!m->procs[m->proc_of[op->t]].forked)
		return model_unsupported(m, "exit by thread %u, whose fork did not run "
					 "(the forking thread was blocked): process 0 "
					 "never exits", op->t);
	fd_table_exit(m);
	return 0;
}

/* No syscall: the virtual clock moves, and waits whose deadline passed
 * return 0. */
static int64_t do_sleep(struct model *m, const struct op *op, struct result *res)
{
	threads_advance_clock(m, (uint64_t)op->f[F_MS]);
	return 0;
}

static const op_handler handlers[OP_KIND_COUNT] = {
	[OP_EPOLL_CREATE] = do_epoll_create,
	[OP_EPOLL_CREATE1] = do_epoll_create1,
	[OP_EPOLL_CTL] = do_epoll_ctl,
	[OP_EPOLL_WAIT] = do_epoll_wait,
	[OP_PIPE2] = do_pipe2,
	[OP_EVENTFD] = do_eventfd,
	[OP_SOCKETPAIR] = do_socketpair,
	[OP_DUP] = do_dup,
	[OP_DUP2] = do_dup2,
	[OP_DUP3] = do_dup3,
	[OP_CLOSE] = do_close,
	[OP_WRITE] = do_write,
	[OP_READ] = do_read,
	[OP_SHUTDOWN] = do_shutdown,
	[OP_SLEEP] = do_sleep,
	[OP_EPOLL_PWAIT] = do_epoll_wait,
	[OP_EPOLL_PWAIT2] = do_epoll_wait,
	[OP_CLOSE_RANGE] = do_close_range,
	[OP_FCNTL] = do_fcntl,
	[OP_FORK] = do_fork,
	[OP_EXIT] = do_exit,
};

/* ------------------------------------------------------------ state */

/* net.core.wmem_default sizes a unix socket's send buffer; read it from the
 * running kernel so the model's writability matches the oracle's. */
static int read_wmem_default(void)
{
	FILE *f = fopen("/proc/sys/net/core/wmem_default", "r");
	int v = 212992; /* the kernel's default (SK_WMEM_MAX) */

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 212992;
		fclose(f);
	}
	return v;
}

static void model_reset(struct model *m)
{
	for (size_t i = 0; i < m->nallocs; i++)
		free(m->allocs[i]);
	m->nallocs = 0;
	for (unsigned p = 0; p <= MAX_THREADS; p++) {
		struct fd_table *t = &m->procs[p];

		memset(t->fd, 0, (size_t)m->fd_top * sizeof(t->fd[0]));
		memset(t->cloexec, 0, (size_t)m->fd_top * sizeof(t->cloexec[0]));
		t->live = t->forked = false;
	}
	m->fd_top = 0;
	memset(m->proc_of, 0, sizeof(m->proc_of));
	m->procs[0].live = true;
	fd_table_use(m, 0);
	list_init(&m->files);
	memset(m->threads, 0, sizeof(m->threads));
	for (unsigned t = 0; t < MAX_THREADS; t++) {
		m->threads[t].index = t;
		m->threads[t].wait.thread = &m->threads[t];
		list_init(&m->threads[t].wait.link);
	}
	m->next_file_id = 0;
	m->next_fd_hint = 0;
	m->clock = 0;
	m->wake_counter = 0;
	m->wake_depth = 0;
	m->wake_cycle = false;
	m->sched.npoints = 0;
	m->unsupported[0] = '\0';

	/* fds 0-2: one /dev/null description, as the executor sets them up
	 * (dup2 of its own /dev/null fd, which also pins it). */
	struct file *devnull = file_new(m, &devnull_ops, NULL, 0);

	devnull->pinned = true;
	devnull->refs = FD_INITIAL_OPEN;
	for (int fd = 0; fd < FD_INITIAL_OPEN; fd++)
		fd_install(m, fd, devnull);
}

struct model *model_new(const struct target_config *cfg, struct error *err)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m) {
		fail(err, "model: out of memory");
		return NULL;
	}
	if (cfg)
		m->cfg = *cfg;
	const char *inject = m->cfg.inject ? m->cfg.inject : getenv("EPOLLFUZZ_INJECT");
	if (inject && inject_parse(inject, &m->inject, err) < 0) {
		free(m);
		return NULL;
	}
	m->sndbuf = read_wmem_default();
	m->cap_fowner = geteuid() == 0;
	m->sched.seed = m->cfg.schedule_seed;
	model_reset(m);
	return m;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nallocs; i++)
		free(m->allocs[i]);
	free(m->allocs);
	free(m->sched.points);
	free(m->sched.script);
	free(m);
}

/* ------------------------------------------------------------ running */

/* Completions are listed by thread, whatever order they came in. */
static void sort_completions(struct outcome *o, struct step_record *rec)
{
	if (rec->done_count < 2)
		return;
	struct completion *c = o->done + rec->done_first;

	for (uint32_t i = 1; i < rec->done_count; i++)
		for (uint32_t j = i; j > 0 && c[j - 1].t > c[j].t; j--) {
			struct completion tmp = c[j];

			c[j] = c[j - 1];
			c[j - 1] = tmp;
		}
}

/* Runs one op, lets the step settle, and records both; returns false when
 * the run must stop. */
static bool run_step(struct model *m, const struct program *p, uint32_t i)
{
	const struct op *op = &p->ops[i];
	struct step_record *rec = outcome_add_step(m->out, i, op->t);
	int64_t ret;

	m->step = i;
	if (m->threads[op->t].state == THREAD_BLOCKED) {
		rec->state = STEP_SKIPPED;
		return true;
	}
	if (i == m->bad_op) {
		rec->state = STEP_UNSUPPORTED;
		snprintf(m->out->unsupported, sizeof(m->out->unsupported), "%s",
			 m->unsupported);
		return false;
	}
	fd_table_use(m, m->proc_of[op->t]);
	ret = handlers[op->kind](m, op, &rec->res);
	if (ret == MODEL_UNSUPPORTED) {
		rec->state = STEP_UNSUPPORTED;
		snprintf(m->out->unsupported, sizeof(m->out->unsupported), "%s",
			 m->unsupported);
		return false;
	}
	if (ret == MODEL_BLOCKED) {
		rec->state = STEP_BLOCKED;
		rec->res = (struct result){ 0 };
	} else if (ret < 0) {
		rec->state = STEP_DONE;
		rec->res.has &= (uint8_t)~(RES_FDS | RES_VALUE | RES_EVENTS);
		result_set_error(&rec->res, (int)-ret);
	} else {
		rec->state = STEP_DONE;
		rec->res.ret = ret;
	}
	threads_settle(m);
	sort_completions(m->out, &m->out->steps[m->out->nsteps - 1]);
	return true;
}

static void record_still_blocked(struct model *m)
{
	for (unsigned t = 0; t < m->nthreads; t++)
		if (m->threads[t].state == THREAD_BLOCKED)
			m->out->blocked[m->out->nblocked++] = (struct blocked_rec){
				.step = m->threads[t].step, .t = (uint8_t)t,
			};
}

int model_run_prefix(struct model *m, const struct program *p, unsigned n,
		     struct outcome *out, struct error *err)
{
	bool stopped = false;

	if (n > p->nops)
		n = p->nops;
	model_reset(m);
	m->nthreads = p->threads;
	{
		struct error why;

		m->bad_op = program_check_processes(p, &why);
		if (m->bad_op < p->nops)
			snprintf(m->unsupported, sizeof(m->unsupported),
				 "not a valid program: %.130s", why.msg);
	}
	m->out = out;
	outcome_reset(out);
	for (uint32_t i = 0; i < n && !stopped; i++) {
		stopped = !run_step(m, p, i);
		if (!stopped && !model_check(m, &out->violation)) {
			out->violation.step = i;
			stopped = true;
		}
	}
	if (!stopped)
		record_still_blocked(m);
	m->out = NULL;
	return 0;
}

int model_run(struct model *m, const struct program *p, struct outcome *out,
	      struct error *err)
{
	m->sched.nscript = 0;
	return model_run_prefix(m, p, p->nops, out, err);
}

/*
 * The next schedule to try after a run that diverged from the reference at
 * step div_step: the last choice made at or before that step that has an
 * untried option, with every earlier choice kept.  Choices made after the
 * divergence cannot mend it.  The choices up to it become the schedule's
 * script for the next run.  Returns false when none is left.
 */
static bool next_schedule(struct schedule *s, uint32_t div_step)
{
	for (unsigned i = s->npoints; i-- > 0;) {
		const struct choice_point *c = &s->points[i];

		if (c->step > div_step || c->taken + 1 >= c->options)
			continue;
		for (unsigned k = 0; k < i; k++)
			s->script[k] = s->points[k].taken;
		s->script[i] = (uint8_t)(c->taken + 1);
		s->nscript = i + 1;
		return true;
	}
	return false;
}

int model_run_like(struct model *m, const struct program *p,
		   const struct outcome *ref, struct outcome *out,
		   unsigned *runs, struct error *err)
{
	struct outcome tmp;
	uint32_t best_step = 0;
	bool have_best = false;
	unsigned n = 0;

	outcome_init(&tmp);
	m->sched.nscript = 0;
	for (;;) {
		struct verdict v;

		model_run_prefix(m, p, p->nops, &tmp, err);
		n++;
		compare_outcomes(p, &tmp, ref, &v);
		if (!have_best || v.cls != VERDICT_DIVERGE || v.step > best_step) {
			outcome_free(out);
			if (outcome_copy(out, &tmp) < 0) {
				outcome_free(&tmp);
				return fail(err, "model: out of memory");
			}
			have_best = true;
			best_step = v.step;
		}
		if (v.cls != VERDICT_DIVERGE || n >= MAX_SCHEDULES ||
		    !next_schedule(&m->sched, v.step))
			break;
	}
	outcome_free(&tmp);
	if (runs)
		*runs = n;
	return 0;
}

/*
 * Whether two runs of one program gave the same outcome.  A run the model
 * could not finish (a broken invariant, an op it cannot run) agrees with
 * nothing, not even itself, so two of those are the same when they stop
 * at the same step in the same way.
 */
static bool same_outcome(const struct program *p, const struct outcome *a,
			 const struct outcome *b)
{
	struct verdict v;

	compare_outcomes(p, a, b, &v);
	switch (v.cls) {
	case VERDICT_AGREE:
		return true;
	case VERDICT_INVARIANT:
		return a->violation.broken && b->violation.broken &&
		       a->violation.step == b->violation.step &&
		       strcmp(a->violation.cls, b->violation.cls) == 0;
	case VERDICT_UNSUPPORTED:
		return a->nsteps == b->nsteps &&
		       a->steps[v.record].state == b->steps[v.record].state;
	default:
		return false;
	}
}

static bool seen_before(const struct program *p, const struct outcome *outs,
			unsigned n, const struct outcome *o)
{
	for (unsigned i = 0; i < n; i++)
		if (same_outcome(p, &outs[i], o))
			return true;
	return false;
}

/* Depth first over the choice points: after each run the next order
 * changes the last choice with an untried option, whatever step met it
 * (next_schedule with no step to stop at). */
int model_run_all(struct model *m, const struct program *p,
		  struct outcome *outs, unsigned max, unsigned *n, bool *cut,
		  struct error *err)
{
	struct outcome tmp;
	unsigned runs = 0;
	bool more = true;
	int rc = 0;

	*n = 0;
	*cut = false;
	outcome_init(&tmp);
	m->sched.nscript = 0;
	while (more) {
		model_run_prefix(m, p, p->nops, &tmp, err);
		runs++;
		if (!seen_before(p, outs, *n, &tmp)) {
			if (*n == max) {
				*cut = true;
				break;
			}
			if (outcome_copy(&outs[*n], &tmp) < 0) {
				rc = fail(err, "model: out of memory");
				break;
			}
			++*n;
		}
		more = next_schedule(&m->sched, UINT32_MAX);
		if (more && runs >= MAX_SCHEDULES) {
			*cut = true;
			more = false;
		}
	}
	outcome_free(&tmp);
	return rc;
}

/* ------------------------------------------------------------ the target */

static struct target *model_open(const struct target_config *cfg,
				 struct error *err)
{
	return (struct target *)model_new(cfg, err);
}

static int model_target_run(struct target *t, const struct program *p,
			    struct outcome *out, struct error *err)
{
	return model_run((struct model *)t, p, out, err);
}

static int model_target_run_like(struct target *t, const struct program *p,
				 const struct outcome *ref, struct outcome *out,
				 struct error *err)
{
	return model_run_like((struct model *)t, p, ref, out, NULL, err);
}

static void model_close(struct target *t)
{
	model_free((struct model *)t);
}

const struct target_ops model_target = {
	.name = "model",
	.summary = "in-process model of the kernel objects (fd table, files, epoll)",
	.open = model_open,
	.run = model_target_run,
	.run_like = model_target_run_like,
	.close = model_close,
};
