/*
 * runtime.c - the reproducer's fixed part: threads and processes,
 * settling, running each step, and checking what it gave against the
 * outcomes the trace allows.
 *
 * It replays the trace the way epollfuzz's Linux oracle does.  Each
 * simulated thread is served by one task: a pthread of this program or,
 * for a thread that a fork step started, the only thread of a child
 * process.  An op that may block runs on its own thread, and so does
 * every op of a thread whose fd table is not the main thread's (a child
 * process's); the others run on the main thread.  After each step it
 * waits until every thread has returned or sleeps in its call (settle.c,
 * the oracle's own code, whose probe also finds out how to tell under
 * qemu-user or valgrind); finite timeouts run on a virtual clock that
 * only sleep steps move.
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

/* ------------------------------------------------------------ mailboxes */

#define HIGH_FD 2000
/* Generous: under an emulator a thread may take long to reach its call,
 * and a reproducer has all the time it needs. */
#define SETTLE_TIMEOUT_MS 10000
#define INTERRUPT_SIGNAL (SIGRTMIN + 2)

/*
 * How the main thread hands a simulated thread its calls.  Each simulated
 * thread has a mailbox, served by one task at a time: a pthread of this
 * program, or the only thread of a child process that a fork started.
 * The mailboxes live in one MAP_SHARED mapping made before anything
 * forks, so that a child sees the same words as the main thread; a result
 * crosses as text (the form it is checked in), since a child's buffers
 * are in its own memory.
 */
enum mailbox_state {
	MB_STARTING, /* no server yet: one is starting */
	MB_IDLE,     /* the server waits for work */
	MB_WORK,     /* step_no is to be made */
	MB_CALLING,  /* blocks_in is said, the call is being made */
	MB_DONE,     /* result holds what the call gave */
	MB_EXIT,     /* the server is to stop */
};

struct mailbox {
	_Atomic int state;      /* enum mailbox_state; a futex word */
	_Atomic pid_t tid;      /* the serving task */
	_Atomic pid_t pid;      /* > 0: the child process that serves it */
	_Atomic bool interrupt; /* looked at just before the call is made */
	_Atomic bool expired;   /* interrupted because its deadline passed */
	unsigned step_no;       /* MB_WORK on: the step to make */
	long blocks_in;         /* MB_CALLING on: the syscall it may sleep in, or -1, */
	long long timeout_ms;   /* and a finite timeout (virtual ms; 0: none) */
	bool trouble;           /* MB_DONE: the call could not be made, */
	char result[TEXT_MAX];  /* and why; or else its result as text */
};

/* Set before anything forks; the children use them too. */
static struct mailbox *mailboxes; /* MAX_THREADS of them, MAP_SHARED */
static pid_t main_pid;            /* this program, every child's parent */

/* Shared futexes (no FUTEX_PRIVATE_FLAG): the waiter may be a child
 * process.  One server waits on a mailbox at a time. */
static void futex_wait(_Atomic int *word, int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* The main thread's side: work, or the order to stop. */
static void hand_over(struct mailbox *mb, int state)
{
	atomic_store(&mb->state, state);
	futex_wake(&mb->state);
}

static long long elapsed_ms(int64_t since_ns)
{
	return (settle_now_ns() - since_ns) / 1000000;
}

/* Waits while the mailbox is in state; false when that lasts longer than
 * SETTLE_TIMEOUT_MS.  For the short waits of a handover (the server has
 * nothing to sleep in meanwhile), so it just yields. */
static bool wait_while(struct mailbox *mb, int state)
{
	int64_t start = settle_now_ns();

	while (atomic_load(&mb->state) == state) {
		if (elapsed_ms(start) > SETTLE_TIMEOUT_MS)
			return false;
		sched_yield();
	}
	return true;
}

/* -------------------------------------------------------------- servers */

static void make_call(const struct step *s, struct buffers *b,
		      struct call_result *r)
{
	memset(r, 0, sizeof(*r));
	errno = 0;
	r->ret = s->op->call(s->arg, b, r);
	r->err = r->ret == -1 ? errno : 0;
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

static void on_interrupt(int sig)
{
	(void)sig; /* being delivered is the whole point */
}

/* A server takes only the interrupt, so that nothing else cuts a call
 * short. */
static void take_only_interrupt(void)
{
	sigset_t all_but;

	sigfillset(&all_but);
	sigdelset(&all_but, INTERRUPT_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all_but, NULL);
}

static int wait_for_work(struct mailbox *mb)
{
	for (;;) {
		int s = atomic_load(&mb->state);

		if (s == MB_WORK || s == MB_EXIT)
			return s;
		futex_wait(&mb->state, s); /* EINTR, EAGAIN: look again */
	}
}

/*
 * Makes the call in the mailbox, in this task's fd table.  What the call
 * may sleep in is decided here too (whether an fd blocks is a question
 * for this table) and said before the call is made, for the settling.
 */
static void serve_call(struct mailbox *mb, struct buffers *b)
{
	const struct step *s = &steps[mb->step_no];
	struct call_result r;

	mb->timeout_ms = 0;
	mb->blocks_in = -1;
	if (s->op->blocks_in)
		mb->blocks_in = s->op->blocks_in(s->arg, &mb->timeout_ms);
	atomic_store(&mb->state, MB_CALLING);
	/* An interrupt that came before the call was spent on the handler;
	 * the flag catches it. */
	if (atomic_load(&mb->interrupt)) {
		memset(&r, 0, sizeof(r));
		r.ret = -1;
		r.err = EINTR;
	} else {
		make_call(s, b, &r);
	}
	if (atomic_load(&mb->expired))
		expire(&r);
	mb->result[0] = '\0';
	mb->trouble = r.trouble != NULL;
	if (r.trouble)
		append(mb->result, "%s", r.trouble);
	else
		append_result(mb->result, &r, b->events);
	atomic_store(&mb->state, MB_DONE);
}

/* A server, a pthread or a child process alike: says it is there, then
 * makes the calls it is handed until told to stop. */
static void serve(struct mailbox *mb)
{
	struct buffers buf;

	memset(&buf, 0, sizeof(buf));
	atomic_store(&mb->tid, (pid_t)syscall(SYS_gettid));
	atomic_store(&mb->state, MB_IDLE);
	while (wait_for_work(mb) == MB_WORK)
		serve_call(mb, &buf);
	free(buf.events);
	free(buf.rbuf);
	free(buf.wbuf);
}

static void *thread_main(void *mb)
{
	take_only_interrupt();
	serve(mb);
	return NULL;
}

/*
 * The new process's side of a fork.  It must not outlive this program
 * (PR_SET_PDEATHSIG; a parent already gone shows as another parent), and
 * it keeps only the trace's fds: this program's own, at fd_limit and
 * above (the copy of stdout, /dev/null, the /proc files), are closed.
 * Then it serves its thread until told to stop, and _exits, which closes
 * its fd table: the exit step.
 */
static _Noreturn void child_main(struct mailbox *mb)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != main_pid)
		_exit(2);
	syscall(SYS_close_range, (unsigned)fd_limit, ~0U, 0);
	take_only_interrupt();
	serve(mb);
	_exit(0);
}

/*
 * fork (calls.c's call_fork), made by the task that makes the forking
 * thread's calls, so that the new fd table is a copy of that thread's
 * (copy_process -> dup_fd).  The new process's parent must be this
 * program's main process, which reaps it: a task of this process makes a
 * plain fork, a child process a clone with CLONE_PARENT, which gives the
 * new process the caller's parent.  Returns once the new process serves
 * the thread's mailbox.
 */
long start_process(unsigned thread, struct call_result *r)
{
	struct mailbox *mb = &mailboxes[thread];
	pid_t pid;

	atomic_store(&mb->state, MB_STARTING);
	if (getpid() == main_pid)
		pid = fork();
	else
		pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL,
				     NULL, 0);
	if (pid < 0)
		return -1;
	if (pid == 0)
		child_main(mb);
	atomic_store(&mb->pid, pid);
	if (!wait_while(mb, MB_STARTING)) {
		r->trouble = "the new process did not start serving its thread";
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

/*
 * Whatever way the program ends (the end, a difference, giving up), it
 * kills and reaps the child processes left (atexit), so that none
 * outlives it even for a moment.  The children themselves _exit.
 */
static void end_processes(void)
{
	if (getpid() != main_pid)
		return;
	for (unsigned t = 0; t < MAX_THREADS; t++) {
		pid_t pid = atomic_exchange(&mailboxes[t].pid, 0);

		if (pid > 0) {
			kill(pid, SIGKILL);
			reap(pid);
		}
	}
}

/* ------------------------------------------------------------- the run */

/* The main thread's view of a simulated thread. */
struct thread {
	struct mailbox *mb;
	pthread_t handle;   /* the pthread that serves it, while one does */
	bool pending;       /* dispatched, result not gathered yet */
	bool posted;        /* returned during the current step */
	long long deadline; /* virtual ms; 0: none */
	bool unshared;      /* its pthread unshared its fd table (close_range) */
	struct settle_task task; /* its server's /proc files, for settling */
};

struct run {
	struct thread threads[MAX_THREADS];
	struct buffers main_buf; /* for the calls made on the main thread */
	long long clock;         /* virtual ms */
	FILE *out;               /* the original stdout: fds 0-2 are /dev/null */
	bool verbose;
	struct settle settle;    /* how to tell that a thread sleeps in its call */
	int cpu;                 /* where the servers run; -1: anywhere */
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

/* The child process that serves th, or 0: a pthread of ours does. */
static pid_t process_of(const struct thread *th)
{
	return atomic_load(&th->mb->pid);
}

/*
 * Whether the main thread may make th's calls that cannot sleep: when th
 * has the main thread's fd table.  A child process's thread has a table
 * of its own and makes every call itself, and so does a thread whose
 * pthread unshared its table with close_range(CLOSE_RANGE_UNSHARE).
 */
static bool shares_main_table(const struct thread *th)
{
	return process_of(th) == 0 && !th->unshared;
}

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

/* The servers run on the CPU the main thread is on, as in epollfuzz's
 * oracle: one op runs at a time, and a wakeup on the same CPU is cheap. */
static void pin(struct run *run, pid_t tid)
{
	cpu_set_t set;

	if (run->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(run->cpu, &set);
	sched_setaffinity(tid, sizeof(set), &set); /* else it runs anywhere */
}

/* A pthread serves th (the caller has every signal blocked: the thread
 * inherits that until it takes the interrupt). */
static void start_thread(struct run *run, struct thread *th)
{
	atomic_store(&th->mb->state, MB_STARTING);
	if (pthread_create(&th->handle, NULL, thread_main, th->mb) != 0)
		die(run, "pthread_create failed");
	if (!wait_while(th->mb, MB_STARTING))
		die(run, "a new thread did not start within %d ms", SETTLE_TIMEOUT_MS);
	/* Files that do not exist stay closed: the probe has chosen a mode
	 * that does without them. */
	if (settle_task_open(&th->task, atomic_load(&th->mb->tid), HIGH_FD) < 0)
		die(run, "placing /proc/self/task/%d files above %d: %s",
		    (int)atomic_load(&th->mb->tid), HIGH_FD, strerror(errno));
}

/* th's pthread stops: a process is to serve th instead. */
static void retire_thread(struct thread *th)
{
	hand_over(th->mb, MB_EXIT);
	pthread_join(th->handle, NULL);
	settle_task_close(&th->task);
}

/*
 * A fork has made a process to serve th: its /proc files, for settling
 * (/proc/PID/task/PID: it is not a thread of ours), placed above the
 * trace's fds under a limit raised while they are placed; and the CPU the
 * other servers run on.
 */
static void adopt_process(struct run *run, struct thread *th)
{
	pid_t pid = process_of(th);

	set_fd_limit(run, RLIM_INFINITY);
	if (settle_task_open_in(&th->task, pid, pid, HIGH_FD) < 0)
		die(run, "placing /proc/%d/task/%d files above %d: %s", (int)pid,
		    (int)pid, HIGH_FD, strerror(errno));
	set_fd_limit(run, (rlim_t)fd_limit);
	pin(run, pid);
}

/*
 * Hands th the call of step i, and waits until its server has said what
 * the call may sleep in (it decides in its own fd table).  A call that
 * cannot sleep is waited for, as one made on the main thread would be.
 */
static void dispatch(struct run *run, struct thread *th, unsigned i)
{
	struct mailbox *mb = th->mb;

	mb->step_no = i;
	atomic_store(&mb->interrupt, false);
	atomic_store(&mb->expired, false);
	th->pending = true;
	th->posted = false;
	hand_over(mb, MB_WORK);
	if (!wait_while(mb, MB_WORK))
		die(run, "cannot settle: t%d did not take step %u within %d ms",
		    steps[i].t, i, SETTLE_TIMEOUT_MS);
	settle_task_arm(&th->task, mb->blocks_in);
	th->deadline = mb->timeout_ms > 0 ? run->clock + mb->timeout_ms : 0;
	if (mb->blocks_in < 0 && !wait_while(mb, MB_CALLING))
		die(run, "cannot settle: t%d did not return from step %u, which "
		    "cannot sleep, within %d ms", steps[i].t, i, SETTLE_TIMEOUT_MS);
}

static bool has_returned(struct thread *th)
{
	return atomic_load(&th->mb->state) == MB_DONE;
}

/* Takes the result: the server is idle again. */
static void gather(struct thread *th)
{
	th->pending = false;
	th->posted = false;
	atomic_store(&th->mb->state, MB_IDLE);
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
			       th->mb->step_no);
	}
	settle_describe(&run->settle, mode, sizeof(mode));
	die(run, "cannot settle: %s neither returned nor slept in its call "
	    "within %d ms (settle: %s)", stuck, SETTLE_TIMEOUT_MS, mode);
}

/*
 * Waits until no thread can run: each has returned or sleeps in its call,
 * as settle.c tells in the mode its probe chose (four exact passes over
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

/* The interrupt, to th's server: a pthread of ours, or a child process
 * (whose only thread takes it). */
static void signal_server(const struct thread *th)
{
	pid_t pid = process_of(th);

	if (pid > 0)
		kill(pid, INTERRUPT_SIGNAL);
	else
		pthread_kill(th->handle, INTERRUPT_SIGNAL);
}

/*
 * Makes th's sleeping call return (EINTR) and waits for it.  A signal that
 * arrives just before the call is spent on the handler and the call then
 * sleeps: so while the thread may be asleep in its call, send another.
 */
static void interrupt(struct run *run, struct thread *th)
{
	int64_t start = settle_now_ns();

	atomic_store(&th->mb->interrupt, true);
	if (!has_returned(th))
		signal_server(th);
	while (!has_returned(th)) {
		if (settle_may_sleep(&run->settle, &th->task))
			signal_server(th);
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

/* The same for a call th's server made (and expired, if it had to). */
static void take_posted(struct run *run, char *buf, const struct thread *th)
{
	if (th->mb->trouble)
		die(run, "step %u: %s", th->mb->step_no, th->mb->result);
	append(buf, "%s", th->mb->result);
}

/* The blocked steps that returned during this step, by thread. */
static void gather_woken(struct run *run, char *woke)
{
	for (unsigned t = 0; t < nthreads; t++) {
		struct thread *th = &run->threads[t];

		if (!th->pending || !th->posted)
			continue;
		append(woke, "%st%u step %u = ", *woke ? ", " : "", t, th->mb->step_no);
		take_posted(run, woke, th);
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
		atomic_store(&next->mb->expired, true);
		interrupt(run, next);
		settle(run);
	}
}

/* Whether s may sleep, asked in the main thread's fd table. */
static bool call_may_sleep(const struct step *s)
{
	long long timeout_ms;

	return s->op->blocks_in && s->op->blocks_in(s->arg, &timeout_ms) >= 0;
}

/* An op that may sleep runs on its own thread, and so does every op of a
 * thread whose fd table is not the main thread's; the others run here.
 * Then the threads settle, and the op's own result is taken if it has
 * one. */
static void run_call(struct run *run, unsigned i, char *got)
{
	const struct step *s = &steps[i];
	struct thread *own = &run->threads[s->t];

	/* the unsharing call must be made by the thread's own pthread, which
	 * then works on its copy of the table (__close_range: dup_fd) */
	if (s->op->unshares && s->op->unshares(s->arg) && process_of(own) == 0)
		own->unshared = true;
	if (!shares_main_table(own) || call_may_sleep(s)) {
		dispatch(run, own, i);
	} else {
		struct call_result r;

		make_call(s, &run->main_buf, &r);
		take_result(run, i, got, &r, &run->main_buf);
	}
	if (any_pending(run))
		settle(run);
	if (own->pending && own->mb->step_no == i) {
		if (own->posted) {
			take_posted(run, got, own);
			gather(own);
		} else {
			append(got, "blocked");
		}
	}
}

/*
 * fork: the child thread's pthread stops (no earlier step named the
 * thread, so it has nothing in hand); the fork is made like any call, by
 * whoever makes the forking thread's calls, so that it copies that
 * thread's fd table; and the new process, which serves the child thread
 * from now on, is taken in for settling.
 */
static void run_fork(struct run *run, unsigned i, char *got)
{
	unsigned c = steps[i].op->child(steps[i].arg);
	struct thread *child;

	if (c >= nthreads || run->threads[c].pending || process_of(&run->threads[c]))
		die(run, "step %u: a fork's child must be a thread of the trace "
		    "that no earlier step used (t%u is not)", i, c);
	child = &run->threads[c];
	retire_thread(child);
	run_call(run, i, got);
	if (process_of(child) > 0)
		adopt_process(run, child);
}

/*
 * exit: the thread's process stops serving and _exits, and is reaped.
 * It closes its fd table on the way out (do_exit -> exit_files), and each
 * file's last fput runs as the exiting task's task work before it becomes
 * a zombie: by the time waitpid returns every release has happened, and
 * what the releases woke settles as after any call.
 */
static void run_exit(struct run *run, unsigned i, char *got)
{
	struct thread *th = &run->threads[steps[i].t];
	pid_t pid = atomic_exchange(&th->mb->pid, 0);

	if (pid <= 0)
		die(run, "step %u: exit by t%d, which runs no process of its own "
		    "(its fork did not run): epollfuzz records no such exit", i,
		    steps[i].t);
	hand_over(th->mb, MB_EXIT);
	reap(pid);
	settle_task_close(&th->task);
	append(got, "0");
	if (any_pending(run))
		settle(run);
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
	} else if (s->op->child) {
		run_fork(run, i, got);
	} else if (s->op->exits) {
		run_exit(run, i, got);
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
			       run->threads[t].mb->step_no);
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
 * The mailboxes, shared with every child process to come; and, from now
 * on, the children are killed and reaped whatever way the program ends.
 */
static void map_mailboxes(struct run *run)
{
	void *p = mmap(NULL, MAX_THREADS * sizeof(struct mailbox),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die(run, "mmap of the mailboxes: %s", strerror(errno));
	mailboxes = p;
	main_pid = getpid();
	for (unsigned t = 0; t < MAX_THREADS; t++)
		run->threads[t].mb = &mailboxes[t];
	if (atexit(end_processes) != 0)
		die(run, "atexit failed");
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
	run->cpu = sched_getcpu();
	for (unsigned t = 0; t < nthreads; t++)
		pin(run, atomic_load(&run->threads[t].mb->tid));
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
	map_mailboxes(run);
	devnull = open_above_trace(run, "/dev/null", O_RDWR);
	start_threads(run);
	set_fd_limit(run, (rlim_t)fd_limit);
	reset_fd_table(run, devnull);
}

/* At the end, the child processes left are killed and reaped
 * (end_processes, at exit). */
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
