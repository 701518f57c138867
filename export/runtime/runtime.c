/*
 * runtime.c - the reproducer's fixed part: threads, settling, running each
 * step, and checking what it gave against the outcomes the trace allows.
 *
 * It replays the trace the way epollfuzz's Linux oracle does: one pthread
 * per simulated thread; an op that may block runs on its own thread, the
 * others on the main thread; after each step it waits until every thread
 * has returned or sleeps in its call (settle.c, the oracle's own code,
 * whose probe also finds out how to tell under qemu-user or valgrind);
 * finite timeouts run on a virtual clock that only sleep steps move.
 *
 * Where woken threads race, Linux allows several outcomes: a run passes
 * when every result equals one allowed outcome (the recording first).
 * Each step narrows the set of outcomes the run still agrees with; a
 * result none of them has is the difference reported.
 */
#include "repro.h"
#include "settle.h"

/* ------------------------------------------------------- results as text */

#define TEXT_MAX 4096

/* Appends to a bounded string; what does not fit is dropped. */
__attribute__((format(printf, 2, 3)))
static void append(char *buf, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + used, TEXT_MAX - used, fmt, ap);
	va_end(ap);
}

/* Small numbers in decimal, bit patterns such as 0xfffffffffffffffe in hex. */
static void append_u64(char *buf, uint64_t v)
{
	if (v < 0x100000)
		append(buf, "%llu", (unsigned long long)v);
	else
		append(buf, "0x%llx", (unsigned long long)v);
}

/* "EPOLLIN|EPOLLET", unnamed bits in hex: "EPOLLIN|0x4000000", none: "0". */
static void append_events(char *buf, uint32_t bits)
{
	const char *sep = "";

	if (bits == 0) {
		append(buf, "0");
		return;
	}
	for (const struct flag_name *n = epoll_event_names; n->name; n++)
		if ((bits & n->bits) == n->bits) {
			append(buf, "%s%s", sep, n->name);
			bits &= ~n->bits;
			sep = "|";
		}
	if (bits)
		append(buf, "%s0x%x", sep, bits);
}

static void append_errno(char *buf, int err)
{
	for (const struct errno_name *e = errno_names; e->name; e++)
		if (e->err == err) {
			append(buf, "%s", e->name);
			return;
		}
	append(buf, "E%d", err);
}

/* "3", "-1 EBADF", "0 fds=[4,5]", "8 value=1", "1 [EPOLLIN:4]" */
static void append_result(char *buf, const struct call_result *r,
			  const struct epoll_event *events)
{
	append(buf, "%ld", r->ret);
	if (r->ret == -1) {
		append(buf, " ");
		append_errno(buf, r->err);
	}
	if (r->has_fds)
		append(buf, " fds=[%d,%d]", r->fds[0], r->fds[1]);
	if (r->has_value) {
		append(buf, " value=");
		append_u64(buf, r->value);
	}
	if (!r->has_events)
		return;
	append(buf, " [");
	for (int i = 0; i < r->nevents; i++) {
		append(buf, "%s", i ? ", " : "");
		append_events(buf, events[i].events);
		append(buf, ":");
		append_u64(buf, events[i].data.u64);
	}
	append(buf, "]");
}

/* ----------------------------------------------------------- the run */

#define HIGH_FD 2000
/* Generous: under an emulator a thread may take long to reach its call,
 * and a reproducer has all the time it needs. */
#define SETTLE_TIMEOUT_MS 10000
#define INTERRUPT_SIGNAL (SIGRTMIN + 2)

enum thread_state { T_IDLE, T_BUSY, T_DONE, T_EXIT };

/* One real thread per simulated thread. */
struct thread {
	pthread_t handle;
	_Atomic pid_t tid;
	_Atomic int state;      /* enum thread_state */
	_Atomic bool interrupt; /* looked at just before the call is made */
	pthread_mutex_t lock;
	pthread_cond_t work;

	/* The work: written before T_BUSY, the result read after T_DONE. */
	const struct step *step;
	unsigned step_no;
	struct call_result result;
	struct buffers buf;

	/* The main thread's bookkeeping. */
	bool pending;       /* dispatched, result not gathered yet */
	bool posted;        /* returned during the current step */
	bool expired;       /* interrupted because its deadline passed */
	long long deadline; /* virtual ms; 0: none */
	struct settle_task task; /* its /proc files, for settling */
};

struct run {
	struct thread threads[MAX_THREADS];
	struct buffers main_buf; /* for the calls made on the main thread */
	long long clock;         /* virtual ms */
	FILE *out;               /* the original stdout: fds 0-2 are /dev/null */
	bool verbose;
	struct settle settle;    /* how to tell that a thread sleeps in its call */
	outcome_set alive;       /* the allowed outcomes the run agrees with so far */
	unsigned recording_left; /* the step where the recording dropped out */
};

static void die(struct run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(struct run *run, const char *fmt, ...)
{
	va_list ap;

	fprintf(run->out, "error: ");
	va_start(ap, fmt);
	vfprintf(run->out, fmt, ap);
	va_end(ap);
	fprintf(run->out, "\n");
	fflush(run->out);
	exit(2);
}

static long long elapsed_ms(int64_t since_ns)
{
	return (settle_now_ns() - since_ns) / 1000000;
}

static void make_call(const struct step *s, struct buffers *b,
		      struct call_result *r)
{
	memset(r, 0, sizeof(*r));
	errno = 0;
	r->ret = s->op->call(s->arg, b, r);
	r->err = r->ret == -1 ? errno : 0;
}

static void *thread_main(void *arg)
{
	struct thread *th = arg;
	sigset_t only_interrupt;

	/* Created with every signal blocked: take only ours, so that nothing
	 * else cuts a call short. */
	sigemptyset(&only_interrupt);
	sigaddset(&only_interrupt, INTERRUPT_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &only_interrupt, NULL);
	atomic_store(&th->tid, (pid_t)syscall(SYS_gettid));
	atomic_store(&th->state, T_IDLE);
	for (;;) {
		pthread_mutex_lock(&th->lock);
		while (atomic_load(&th->state) != T_BUSY &&
		       atomic_load(&th->state) != T_EXIT)
			pthread_cond_wait(&th->work, &th->lock);
		pthread_mutex_unlock(&th->lock);
		if (atomic_load(&th->state) == T_EXIT)
			return NULL;
		/* An interrupt that came before the call was spent on the
		 * handler; the flag catches it. */
		if (atomic_load(&th->interrupt)) {
			memset(&th->result, 0, sizeof(th->result));
			th->result.ret = -1;
			th->result.err = EINTR;
		} else {
			make_call(th->step, &th->buf, &th->result);
		}
		atomic_store(&th->state, T_DONE);
	}
}

static void on_interrupt(int sig)
{
	(void)sig; /* being delivered is the whole point */
}

/* Opens a file and moves it to HIGH_FD or above, out of the trace's reach. */
static int open_above_trace(struct run *run, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), high;

	if (fd < 0)
		die(run, "open %s: %s", path, strerror(errno));
	high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
	if (high < 0)
		die(run, "moving %s above %d: %s", path, HIGH_FD, strerror(errno));
	close(fd);
	return high;
}

static void start_thread(struct run *run, struct thread *th)
{
	pthread_mutex_init(&th->lock, NULL);
	pthread_cond_init(&th->work, NULL);
	atomic_store(&th->state, T_BUSY); /* until the thread says T_IDLE */
	if (pthread_create(&th->handle, NULL, thread_main, th) != 0)
		die(run, "pthread_create failed");
	while (atomic_load(&th->state) != T_IDLE)
		sched_yield();
	/* Files that do not exist stay closed: the probe has chosen a mode
	 * that does without them. */
	if (settle_task_open(&th->task, atomic_load(&th->tid), HIGH_FD) < 0)
		die(run, "placing /proc/self/task/%d files above %d: %s",
		    (int)atomic_load(&th->tid), HIGH_FD, strerror(errno));
}

static void dispatch(struct thread *th, const struct step *s, unsigned step_no,
		     long blocks_in, long long timeout_ms, long long clock)
{
	th->step = s;
	th->step_no = step_no;
	th->pending = true;
	th->posted = false;
	th->expired = false;
	th->deadline = timeout_ms > 0 ? clock + timeout_ms : 0;
	settle_task_arm(&th->task, blocks_in);
	atomic_store(&th->interrupt, false);
	pthread_mutex_lock(&th->lock);
	atomic_store(&th->state, T_BUSY);
	pthread_cond_signal(&th->work);
	pthread_mutex_unlock(&th->lock);
}

static bool has_returned(struct thread *th)
{
	return atomic_load(&th->state) == T_DONE;
}

/* Takes the result: the thread is idle again. */
static void gather(struct thread *th)
{
	th->pending = false;
	th->posted = false;
	atomic_store(&th->state, T_IDLE);
}

/* ------------------------------------------------------------ settling */

/* Marks the threads that have returned; puts the /proc files of those
 * still in a call into ts, and returns how many they are. */
static unsigned collect_returns(struct run *run, struct settle_task **ts)
{
	unsigned in_call = 0;

	for (unsigned t = 0; t < nthreads; t++) {
		struct thread *th = &run->threads[t];

		if (!th->pending || th->posted)
			continue;
		if (has_returned(th))
			th->posted = true;
		else
			ts[in_call++] = &th->task;
	}
	return in_call;
}

static void cannot_settle(struct run *run)
{
	char mode[32], stuck[TEXT_MAX] = "";

	for (unsigned t = 0; t < nthreads; t++) {
		struct thread *th = &run->threads[t];

		if (th->pending && !th->posted)
			append(stuck, "%st%u (step %u)", *stuck ? ", " : "", t,
			       th->step_no);
	}
	settle_describe(&run->settle, mode, sizeof(mode));
	die(run, "cannot settle: %s neither returned nor slept in its call "
	    "within %d ms (settle: %s)", stuck, SETTLE_TIMEOUT_MS, mode);
}

/*
 * Waits until no thread can run: each has returned or sleeps in its call,
 * as settle.c tells in the mode its probe chose (two exact rounds over
 * /proc on Linux, a quiet period where /proc cannot be trusted).
 */
static void settle(struct run *run)
{
	struct settle_task *ts[MAX_THREADS];
	int64_t start = settle_now_ns();

	for (;;) {
		unsigned n = collect_returns(run, ts);

		if (n == 0 || settle_quiet(&run->settle, ts, n, start, settle_now_ns()))
			return;
		if (elapsed_ms(start) > SETTLE_TIMEOUT_MS)
			cannot_settle(run);
		settle_pause(&run->settle);
	}
}

/*
 * Makes th's sleeping call return (EINTR) and waits for it.  A signal that
 * arrives just before the call is spent on the handler and the call then
 * sleeps: so while the thread may be asleep in its call, send another.
 */
static void interrupt(struct run *run, struct thread *th)
{
	int64_t start = settle_now_ns();

	atomic_store(&th->interrupt, true);
	if (!has_returned(th))
		pthread_kill(th->handle, INTERRUPT_SIGNAL);
	while (!has_returned(th)) {
		if (settle_may_sleep(&run->settle, &th->task))
			pthread_kill(th->handle, INTERRUPT_SIGNAL);
		if (elapsed_ms(start) > SETTLE_TIMEOUT_MS)
			die(run, "cannot settle: t%d did not return from an interrupted "
			    "call within %d ms", (int)(th - run->threads),
			    SETTLE_TIMEOUT_MS);
		settle_pause(&run->settle);
	}
	th->posted = true;
}

/* ------------------------------------------------------------ checking */

/* What an outcome has at a step: its result and the blocked steps it
 * woke; at the end (step nsteps), what is still blocked. */
struct said {
	const char *result, *woke;
};

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static bool same(struct said a, struct said b)
{
	return strcmp(a.result, b.result) == 0 &&
	       strcmp(or_empty(a.woke), or_empty(b.woke)) == 0;
}

static struct said recorded(unsigned i)
{
	if (i == nsteps)
		return (struct said){ or_empty(still_blocked_at_end), NULL };
	return (struct said){ steps[i].result, steps[i].woke };
}

static struct said other_said(const struct other *o)
{
	return (struct said){ o->result, o->woke };
}

/* What allowed outcome k has at step i: the recording's, unless a row of
 * others[] says otherwise. */
static struct said wanted(unsigned i, unsigned k)
{
	for (unsigned j = 0; j < nothers; j++)
		if (others[j].step == i && (others[j].outcomes >> k & 1))
			return other_said(&others[j]);
	return recorded(i);
}

/* The allowed outcomes that have what the run gave at step i. */
static outcome_set having(unsigned i, struct said got)
{
	outcome_set differ = 0, have = 0;

	for (unsigned j = 0; j < nothers; j++) {
		if (others[j].step != i)
			continue;
		differ |= others[j].outcomes;
		if (same(other_said(&others[j]), got))
			have |= others[j].outcomes;
	}
	if (same(recorded(i), got))
		have |= ~differ;
	return have;
}

static unsigned count_outcomes(outcome_set set)
{
	unsigned n = 0;

	for (; set; set &= set - 1)
		n++;
	return n;
}

/* The first allowed outcome in a non-empty set: the recording, when it
 * is there. */
static unsigned first_outcome(outcome_set set)
{
	unsigned k = 0;

	while (k < MAX_OUTCOMES - 1 && !(set >> k & 1))
		k++;
	return k;
}

static outcome_set all_outcomes(void)
{
	return noutcomes >= MAX_OUTCOMES ? ~(outcome_set)0 :
					   ((outcome_set)1 << noutcomes) - 1;
}

/* "1; woke t1 step 3 = 1 [EPOLLIN:4]"; at the end, what is still blocked,
 * or "nothing". */
static void append_said(char *buf, struct said s, unsigned i)
{
	append(buf, "%s", i == nsteps && !*s.result ? "nothing" : s.result);
	if (*or_empty(s.woke))
		append(buf, "; woke %s", s.woke);
}

/* "step 6 (t1 epoll_wait)"; "at the end (still blocked)" */
static void name_step(char *buf, unsigned i)
{
	const char *call;

	if (i == nsteps) {
		snprintf(buf, TEXT_MAX, "at the end (still blocked)");
		return;
	}
	call = steps[i].call;
	snprintf(buf, TEXT_MAX, "step %u (t%d %.*s)", i, steps[i].t,
		 (int)strcspn(call, "("), call);
}

/* What the other outcomes still in the running have at step i, where it
 * differs from `want`: one line each. */
static void print_also_allowed(struct run *run, unsigned i, struct said want)
{
	outcome_set shown = 0;

	for (unsigned k = 0; k < noutcomes; k++) {
		struct said s = wanted(i, k);
		char text[TEXT_MAX] = "";

		if (!(run->alive >> k & 1) || (shown >> k & 1) || same(s, want))
			continue;
		for (unsigned m = k; m < noutcomes; m++)
			if (same(wanted(i, m), s))
				shown |= (outcome_set)1 << m;
		append_said(text, s, i);
		fprintf(run->out, "  the kernel also allows: %s\n", text);
	}
}

/*
 * No allowed outcome has what the run gave at step i.  The difference
 * shown is against the first outcome that agreed with every step so far
 * (the recording, when it did): one that matched longest.  What the
 * others still in the running allow here follows it.
 */
__attribute__((noreturn))
static void mismatch(struct run *run, unsigned i, struct said got)
{
	unsigned best = first_outcome(run->alive);
	unsigned others_left = count_outcomes(run->alive) - 1;
	struct said want = wanted(i, best);
	char where[TEXT_MAX], got_text[TEXT_MAX] = "", want_text[TEXT_MAX] = "";

	name_step(where, i);
	append_said(got_text, got, i);
	append_said(want_text, want, i);
	fprintf(run->out, "%s: got %s, want %s", where, got_text, want_text);
	if (others_left == 1)
		fprintf(run->out, " (or the other outcome the kernel allows)");
	else if (others_left)
		fprintf(run->out, " (or one of %u other outcomes the kernel allows)",
			others_left);
	fputc('\n', run->out);
	if (i < nsteps)
		fprintf(run->out, "  the call: t%d %s\n", steps[i].t, steps[i].call);
	print_also_allowed(run, i, want);
	if (best != 0)
		fprintf(run->out, "  (that is allowed outcome %u: the recording itself "
			"differed from this run from step %u on)\n", best, run->recording_left);
	fprintf(run->out, "This is not what Linux %s: the trace is at the top of "
		"this program.\n", noutcomes > 1 ? "allows here" : "did when recorded");
	fflush(run->out);
	exit(1);
}

/* Keeps the allowed outcomes that have what the run gave at step i. */
static void narrow(struct run *run, unsigned i, struct said got)
{
	outcome_set have = having(i, got) & run->alive;

	if (!have)
		mismatch(run, i, got);
	if ((run->alive & 1) && !(have & 1))
		run->recording_left = i;
	run->alive = have;
}

static void check_step(struct run *run, unsigned i, const char *got,
		       const char *woke)
{
	if (run->verbose)
		fprintf(run->out, "step %u t%d %s = %s%s%s\n", i, steps[i].t,
			steps[i].call, got, *woke ? "; woke " : "", woke);
	narrow(run, i, (struct said){ got, woke });
}

/* ----------------------------------------------------------- stepping */

/* A call's result as text; a call that could not be made ends the run. */
static void take_result(struct run *run, unsigned i, char *buf,
			const struct call_result *r, const struct buffers *b)
{
	if (r->trouble)
		die(run, "step %u: %s", i, r->trouble);
	append_result(buf, r, b->events);
}

/* A wait interrupted at its virtual deadline returns what the kernel
 * returns on expiry: 0, no events (unless its last scan found some). */
static void expire(struct call_result *r)
{
	if (r->ret == -1 && r->err == EINTR) {
		memset(r, 0, sizeof(*r));
		r->has_events = true;
	}
}

/* The blocked steps that returned during this step, by thread. */
static void gather_woken(struct run *run, char *woke)
{
	for (unsigned t = 0; t < nthreads; t++) {
		struct thread *th = &run->threads[t];

		if (!th->pending || !th->posted)
			continue;
		if (th->expired)
			expire(&th->result);
		append(woke, "%st%u step %u = ", *woke ? ", " : "", t, th->step_no);
		take_result(run, th->step_no, woke, &th->result, &th->buf);
		gather(th);
	}
}

static bool any_pending(struct run *run)
{
	for (unsigned t = 0; t < nthreads; t++)
		if (run->threads[t].pending)
			return true;
	return false;
}

/* sleep: the clock moves; each blocked wait whose deadline has come is
 * interrupted, earliest first, and the threads settle after each. */
static void run_sleep(struct run *run, long long ms)
{
	run->clock += ms;
	for (;;) {
		struct thread *next = NULL;

		for (unsigned t = 0; t < nthreads; t++) {
			struct thread *th = &run->threads[t];

			if (th->pending && !th->posted && th->deadline &&
			    th->deadline <= run->clock &&
			    (!next || th->deadline < next->deadline))
				next = th;
		}
		if (!next)
			return;
		next->expired = true;
		interrupt(run, next);
		settle(run);
	}
}

/* An op that may sleep runs on its thread, the others here; then the
 * threads settle, and the op's own result is taken if it has one. */
static void run_call(struct run *run, unsigned i, char *got)
{
	const struct step *s = &steps[i];
	struct thread *own = &run->threads[s->t];
	long long timeout_ms = 0;
	long nr = s->op->blocks_in ? s->op->blocks_in(s->arg, &timeout_ms) : -1;

	if (nr >= 0) {
		dispatch(own, s, i, nr, timeout_ms, run->clock);
	} else {
		struct call_result r;

		make_call(s, &run->main_buf, &r);
		take_result(run, i, got, &r, &run->main_buf);
	}
	if (any_pending(run))
		settle(run);
	if (own->pending && own->step_no == i) {
		if (own->posted) {
			take_result(run, i, got, &own->result, &own->buf);
			gather(own);
		} else {
			append(got, "blocked");
		}
	}
}

static void run_step(struct run *run, unsigned i)
{
	const struct step *s = &steps[i];
	char got[TEXT_MAX] = "", woke[TEXT_MAX] = "";

	if (run->threads[s->t].pending) { /* its thread is still blocked */
		append(got, "skipped (blocked)");
	} else if (s->op->advance_ms) {
		run_sleep(run, s->op->advance_ms(s->arg));
		append(got, "0");
	} else {
		run_call(run, i, got);
	}
	gather_woken(run, woke);
	check_step(run, i, got, woke);
}

static void check_still_blocked(struct run *run)
{
	char got[TEXT_MAX] = "";

	for (unsigned t = 0; t < nthreads; t++)
		if (run->threads[t].pending)
			append(got, "%st%u step %u", *got ? ", " : "", t,
			       run->threads[t].step_no);
	if (run->verbose && *got)
		fprintf(run->out, "still blocked at the end: %s\n", got);
	narrow(run, nsteps, (struct said){ got, NULL });
}

/* The first step where allowed outcome k differs from the recording. */
static unsigned first_difference(unsigned k)
{
	unsigned first = nsteps;

	for (unsigned j = 0; j < nothers; j++)
		if ((others[j].outcomes >> k & 1) && others[j].step < first)
			first = others[j].step;
	return first;
}

static void report_success(struct run *run)
{
	unsigned k = first_outcome(run->alive);

	if (run->alive & 1) {
		fprintf(run->out, "ok: all %u steps as recorded\n", nsteps);
		return;
	}
	fprintf(run->out, "ok: all %u steps as in allowed outcome %u of %u, which "
		"differs from the recording from step %u on (woken threads raced "
		"another way)\n", nsteps, k, noutcomes, first_difference(k));
}

/* ------------------------------------------------------------- set-up */

/* Our own fds go to HIGH_FD and above, which needs a soft limit above it
 * while we place them; they stay valid under the lower limit after. */
static void set_fd_limit(struct run *run, rlim_t soft)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die(run, "getrlimit: %s", strerror(errno));
	if (soft == RLIM_INFINITY)
		soft = rl.rlim_max;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < soft)
		die(run, "RLIMIT_NOFILE hard limit %llu is below %llu",
		    (unsigned long long)rl.rlim_max, (unsigned long long)soft);
	rl.rlim_cur = soft;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die(run, "setrlimit: %s", strerror(errno));
}

static void install_signals(struct run *run)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN; /* a write to a widowed pipe: EPIPE */
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		die(run, "sigaction SIGPIPE: %s", strerror(errno));
	sa.sa_handler = on_interrupt;
	sa.sa_flags = 0; /* no SA_RESTART: an interrupted call returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(INTERRUPT_SIGNAL, &sa, NULL) < 0)
		die(run, "sigaction: %s", strerror(errno));
}

/*
 * How to tell that a thread sleeps in its call (settle.h): the probe
 * blocks a thread of its own in each call and looks at /proc, as the
 * oracle's executor does.  EPOLLFUZZ_SETTLE=timed forces the quiet period
 * and EPOLLFUZZ_SETTLE_QUIET_MS sets its length, as for the executor.
 * The mode goes to stderr: "settle: proc-probed (232:281)".
 */
static void probe_settle(struct run *run)
{
	const char *quiet = getenv("EPOLLFUZZ_SETTLE_QUIET_MS");
	const char *mode = getenv("EPOLLFUZZ_SETTLE");
	char how[32], aliases[64];

	settle_init(&run->settle, quiet ? (unsigned)strtoul(quiet, NULL, 10) : 0);
	settle_probe(&run->settle);
	if (mode && strcmp(mode, "timed") == 0) {
		run->settle.mode = SETTLE_TIMED;
		run->settle.naliases = 0;
	}
	settle_describe(&run->settle, how, sizeof(how));
	settle_describe_aliases(&run->settle, aliases, sizeof(aliases));
	fprintf(stderr, "settle: %s%s%s%s\n", how, *aliases ? " (" : "", aliases,
		*aliases ? ")" : "");
	fflush(stderr);
}

/* The threads run on the CPU the main thread is on, as in epollfuzz's
 * oracle: one op runs at a time, and a wakeup on the same CPU is cheap. */
static void place_threads(struct run *run)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	for (unsigned t = 0; t < nthreads; t++)
		pthread_setaffinity_np(run->threads[t].handle, sizeof(set), &set);
}

/* The probe and the threads start with every signal blocked, so that
 * none of them takes a signal meant for another (the threads then let
 * the interrupt in). */
static void start_threads(struct run *run)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	probe_settle(run);
	for (unsigned t = 0; t < nthreads; t++)
		start_thread(run, &run->threads[t]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	place_threads(run);
}

/* The trace starts from this fd table: 0-2 on /dev/null, nothing else
 * below fd_limit. */
static void reset_fd_table(struct run *run, int devnull)
{
	for (int fd = 0; fd < fd_limit; fd++)
		close(fd);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(devnull, fd) < 0)
			die(run, "dup2 /dev/null: %s", strerror(errno));
}

static void set_up(struct run *run)
{
	int out_fd, devnull;

	run->out = stderr;
	if (nthreads < 1 || nthreads > MAX_THREADS || fd_limit >= HIGH_FD ||
	    noutcomes < 1 || noutcomes > MAX_OUTCOMES)
		die(run, "the tables do not fit this runtime");
	run->alive = all_outcomes();
	set_fd_limit(run, RLIM_INFINITY);
	out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, HIGH_FD);
	if (out_fd < 0 || !(run->out = fdopen(out_fd, "w"))) {
		run->out = stderr;
		die(run, "moving stdout above %d: %s", HIGH_FD, strerror(errno));
	}
	setvbuf(run->out, NULL, _IOLBF, 0);
	install_signals(run);
	devnull = open_above_trace(run, "/dev/null", O_RDWR);
	start_threads(run);
	set_fd_limit(run, (rlim_t)fd_limit);
	reset_fd_table(run, devnull);
}

int main(int argc, char **argv)
{
	struct run run;

	memset(&run, 0, sizeof(run));
	run.verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	set_up(&run);
	for (unsigned i = 0; i < nsteps; i++)
		run_step(&run, i);
	check_still_blocked(&run);
	report_success(&run);
	return 0;
}
