/*
 * channel.c - programs and outcomes over the control socket.
 *
 * Both ends are built from the same sources by the same build (the same
 * binary, or epollfuzz-executor beside it), so structs travel as they are
 * in memory: a fixed header, then the arrays.  A program is its struct op
 * array with the json extras pointers cleared; an outcome is its records,
 * event pool, completions and still-blocked list.  The hello checks that
 * the layouts agree.  The parent's end is non-blocking and every transfer
 * has a deadline (the watchdog); the executor's end blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "executor.h"

#define PROGRAM_MAGIC 0x45465031u /* "EFP1" */
#define OUTCOME_MAGIC 0x45464f31u /* "EFO1" */

struct wire_program {
	uint32_t magic;
	uint32_t nops;
	uint32_t threads;
	uint32_t threads_given;
	int32_t cpu; /* the parent's CPU, -1 unknown */
	uint32_t unused; /* the ops that follow stay aligned */
};
_Static_assert(sizeof(struct wire_program) % _Alignof(struct op) == 0,
	       "the ops follow the header in one buffer");

struct wire_outcome {
	uint32_t magic;
	uint32_t failed; /* the executor failed: msg says why, nothing follows */
	uint32_t nsteps, nevents, ndone, nblocked;
	struct blocked_rec blocked[MAX_THREADS];
	/* failed: why; a hello: its words; an outcome: what it could not
	 * run (outcome.unsupported), "" when it ran everything */
	char msg[sizeof(((struct error *)0)->msg)];
};
_Static_assert(sizeof(((struct wire_outcome *)0)->msg) >=
	       sizeof(((struct outcome *)0)->unsupported),
	       "an outcome's unsupported text travels in msg");

/* A bound on the events of one program: each of at most MAX_OPS waits
 * reports at most one event per interest, of which there are at most
 * MAX_OPS.  It only guards the arithmetic against a garbled header. */
#define MAX_PROGRAM_EVENTS ((uint32_t)MAX_OPS * MAX_OPS)

/* --------------------------------------------------------------- bytes */

/* deadline < 0: a blocking socket, wait as long as it takes. */
static int wait_ready(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - monotonic_ns();
		int rc;

		if (left <= 0)
			return CHANNEL_TIMEOUT;
		rc = poll(&pfd, 1, (int)((left + 999999) / 1000000));
		if (rc > 0)
			return CHANNEL_OK;
		if (rc == 0)
			return CHANNEL_TIMEOUT;
		if (errno != EINTR)
			return CHANNEL_ERROR;
	}
}

/* Moves *iov and *n past len bytes that went through. */
static void iov_advance(struct iovec **iov, int *n, size_t len)
{
	while (*n > 0 && len >= (*iov)->iov_len) {
		len -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + len;
		(*iov)->iov_len -= len;
	}
}

/* Sends the n pieces of iov as one stream, in as few calls as the socket
 * takes (one, nearly always: a message in one sendmsg, not one per array). */
static int send_iov(int fd, struct iovec *iov, int n, int64_t deadline,
		    struct error *err)
{
	iov_advance(&iov, &n, 0); /* skips empty pieces */
	while (n > 0) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
		int rc;

		if (sent >= 0) {
			iov_advance(&iov, &n, (size_t)sent);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return CHANNEL_EOF;
		if (errno != EAGAIN || deadline < 0) {
			fail(err, "control channel send: %s", strerror(errno));
			return CHANNEL_ERROR;
		}
		if ((rc = wait_ready(fd, POLLOUT, deadline)) != CHANNEL_OK)
			return rc;
	}
	return CHANNEL_OK;
}

static int send_all(int fd, const void *buf, size_t len, int64_t deadline,
		    struct error *err)
{
	struct iovec iov = { (void *)buf, len };

	return send_iov(fd, &iov, 1, deadline, err);
}

/* Fills the n pieces of iov from the stream. */
static int recv_iov(int fd, struct iovec *iov, int n, int64_t deadline,
		    struct error *err)
{
	iov_advance(&iov, &n, 0);
	while (n > 0) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t got = recvmsg(fd, &msg, 0);
		int rc;

		if (got > 0) {
			iov_advance(&iov, &n, (size_t)got);
			continue;
		}
		if (got == 0 || errno == ECONNRESET)
			return CHANNEL_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || deadline < 0) {
			fail(err, "control channel recv: %s", strerror(errno));
			return CHANNEL_ERROR;
		}
		if ((rc = wait_ready(fd, POLLIN, deadline)) != CHANNEL_OK)
			return rc;
	}
	return CHANNEL_OK;
}

static int recv_all(int fd, void *buf, size_t len, int64_t deadline,
		    struct error *err)
{
	struct iovec iov = { buf, len };

	return recv_iov(fd, &iov, 1, deadline, err);
}

/* Grows *buf to hold n elements of size sz. */
static int reserve(void **buf, uint32_t *cap, uint32_t n, size_t sz)
{
	void *grown;

	if (n <= *cap)
		return 0;
	grown = realloc(*buf, (size_t)n * sz);
	if (!grown)
		return -1;
	*buf = grown;
	*cap = n;
	return 0;
}

/* ------------------------------------------------------------- program */

int channel_send_program(int fd, const struct program *p, int cpu,
			 void **scratch, size_t *scratch_cap, int64_t deadline,
			 struct error *err)
{
	size_t len = sizeof(struct wire_program) + p->nops * sizeof(struct op);
	struct wire_program *h;
	struct op *ops;

	if (len > *scratch_cap) {
		void *grown = realloc(*scratch, len);

		if (!grown) {
			fail(err, "out of memory");
			return CHANNEL_ERROR;
		}
		*scratch = grown;
		*scratch_cap = len;
	}
	h = *scratch;
	*h = (struct wire_program){ PROGRAM_MAGIC, p->nops, p->threads,
				    p->threads_given, cpu, 0 };
	ops = (struct op *)(h + 1);
	if (p->nops)
		memcpy(ops, p->ops, p->nops * sizeof(*ops));
	for (unsigned i = 0; i < p->nops; i++)
		ops[i].extras = NULL; /* the parent's pointers mean nothing there */
	return send_all(fd, h, len, deadline, err);
}

int channel_recv_program(int fd, struct program *p, unsigned *cap, int *cpu,
			 struct error *err)
{
	struct wire_program h;
	int rc = recv_all(fd, &h, sizeof(h), -1, err);

	if (rc != CHANNEL_OK)
		return rc;
	if (h.magic != PROGRAM_MAGIC || h.nops > MAX_OPS) {
		fail(err, "bad program header (magic %#x, %u ops)", h.magic, h.nops);
		return CHANNEL_ERROR;
	}
	if (reserve((void **)&p->ops, cap, h.nops, sizeof(*p->ops)) < 0) {
		fail(err, "out of memory");
		return CHANNEL_ERROR;
	}
	p->nops = h.nops;
	p->threads = h.threads;
	p->threads_given = h.threads_given;
	p->extras = NULL;
	*cpu = h.cpu;
	return h.nops ? recv_all(fd, p->ops, h.nops * sizeof(*p->ops), -1, err)
		      : CHANNEL_OK;
}

/* ------------------------------------------------------------- outcome */

int channel_send_outcome(int fd, const struct outcome *out,
			 const struct error *failure)
{
	struct wire_outcome h;
	struct iovec iov[4] = { { &h, sizeof(h) } };

	memset(&h, 0, sizeof(h));
	h.magic = OUTCOME_MAGIC;
	if (failure) {
		h.failed = 1;
		memcpy(h.msg, failure->msg, sizeof(h.msg));
		return send_all(fd, &h, sizeof(h), -1, NULL);
	}
	h.nsteps = out->nsteps;
	h.nevents = out->nevents;
	h.ndone = out->ndone;
	h.nblocked = out->nblocked;
	memcpy(h.blocked, out->blocked, sizeof(h.blocked));
	snprintf(h.msg, sizeof(h.msg), "%s", out->unsupported);
	iov[1] = (struct iovec){ out->steps, out->nsteps * sizeof(*out->steps) };
	iov[2] = (struct iovec){ out->events, out->nevents * sizeof(*out->events) };
	iov[3] = (struct iovec){ out->done, out->ndone * sizeof(*out->done) };
	return send_iov(fd, iov, 4, -1, NULL);
}

/* Receives an outcome message; the text of a successful one (the hello's)
 * goes to text when it is not NULL. */
static int recv_outcome(int fd, struct outcome *out, char *text, size_t len,
			int64_t deadline, struct error *err)
{
	struct wire_outcome h;
	struct iovec iov[3];
	int rc = CHANNEL_OK;

	/* On the parent's non-blocking end the wait comes first: the outcome
	 * is seldom there yet, and a recv that says EAGAIN is a call for
	 * nothing. */
	if (deadline >= 0)
		rc = wait_ready(fd, POLLIN, deadline);
	if (rc != CHANNEL_OK ||
	    (rc = recv_all(fd, &h, sizeof(h), deadline, err)) != CHANNEL_OK)
		return rc;
	if (h.magic != OUTCOME_MAGIC) {
		fail(err, "bad outcome header (magic %#x)", h.magic);
		return CHANNEL_ERROR;
	}
	if (h.failed) {
		h.msg[sizeof(h.msg) - 1] = '\0';
		fail(err, "%s", h.msg);
		return CHANNEL_ERROR;
	}
	if (h.nsteps > MAX_OPS || h.ndone > MAX_OPS ||
	    h.nevents > MAX_PROGRAM_EVENTS || h.nblocked > MAX_THREADS) {
		fail(err, "bad outcome header (%u steps, %u events, %u done)",
		     h.nsteps, h.nevents, h.ndone);
		return CHANNEL_ERROR;
	}
	outcome_reset(out);
	if (reserve((void **)&out->steps, &out->cap_steps, h.nsteps,
		    sizeof(*out->steps)) < 0 ||
	    reserve((void **)&out->events, &out->cap_events, h.nevents,
		    sizeof(*out->events)) < 0 ||
	    reserve((void **)&out->done, &out->cap_done, h.ndone,
		    sizeof(*out->done)) < 0) {
		fail(err, "out of memory");
		return CHANNEL_ERROR;
	}
	iov[0] = (struct iovec){ out->steps, h.nsteps * sizeof(*out->steps) };
	iov[1] = (struct iovec){ out->events, h.nevents * sizeof(*out->events) };
	iov[2] = (struct iovec){ out->done, h.ndone * sizeof(*out->done) };
	if ((rc = recv_iov(fd, iov, 3, deadline, err)) != CHANNEL_OK)
		return rc;
	out->nsteps = h.nsteps;
	out->nevents = h.nevents;
	out->ndone = h.ndone;
	out->nblocked = h.nblocked;
	memcpy(out->blocked, h.blocked, sizeof(out->blocked));
	h.msg[sizeof(h.msg) - 1] = '\0';
	if (text)
		snprintf(text, len, "%s", h.msg);
	else /* cut to fit, as the outcome holds it */
		snprintf(out->unsupported, sizeof(out->unsupported), "%.*s",
			 (int)sizeof(out->unsupported) - 1, h.msg);
	return CHANNEL_OK;
}

int channel_recv_outcome(int fd, struct outcome *out, int64_t deadline,
			 struct error *err)
{
	return recv_outcome(fd, out, NULL, 0, deadline, err);
}

/* --------------------------------------------------------------- hello */

/*
 * The hello is an outcome message with no steps, as it always was; its
 * text, unused in an outcome, carries "key=value" words.  A parent that
 * reads no text still sees a valid hello.
 */

/* The sizes the wire depends on: equal on both ends, or they must not talk. */
static void wire_layout(char *buf, size_t len)
{
	snprintf(buf, len, "%zu.%zu.%zu.%zu.%zu.%d.%d", sizeof(struct op),
		 sizeof(struct step_record), sizeof(struct event_rec),
		 sizeof(struct completion), sizeof(struct wire_outcome), MAX_OPS,
		 MAX_THREADS);
}

static int send_hello(int fd, const struct executor *ex)
{
	struct wire_outcome h;
	char settle[32], aliases[64], layout[64];

	memset(&h, 0, sizeof(h));
	h.magic = OUTCOME_MAGIC;
	executor_settle_mode(ex, settle, sizeof(settle));
	executor_settle_aliases(ex, aliases, sizeof(aliases));
	wire_layout(layout, sizeof(layout));
	snprintf(h.msg, sizeof(h.msg), "settle=%s aliases=%s layout=%s", settle,
		 aliases[0] ? aliases : "-", layout);
	return send_all(fd, &h, sizeof(h), -1, NULL);
}

/* Copies the value of "key=value" in a text of space-separated words;
 * false when the key is not there. */
static bool text_word(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *w = text; *w; w += strcspn(w, " "), w += strspn(w, " ")) {
		if (strncmp(w, key, klen) == 0 && w[klen] == '=') {
			const char *v = w + klen + 1;

			snprintf(buf, len, "%.*s", (int)strcspn(v, " "), v);
			return true;
		}
	}
	return false;
}

int channel_recv_hello(int fd, struct hello *hl, int64_t deadline,
		       struct error *err)
{
	char text[sizeof(((struct wire_outcome *)0)->msg)], theirs[64], ours[64];
	struct outcome none;
	bool said;
	int rc;

	outcome_init(&none);
	rc = recv_outcome(fd, &none, text, sizeof(text), deadline, err);
	outcome_free(&none);
	if (rc != CHANNEL_OK)
		return rc;
	wire_layout(ours, sizeof(ours));
	said = text_word(text, "layout", theirs, sizeof(theirs));
	if (!said || strcmp(theirs, ours) != 0) {
		fail(err, "the executor program's wire layout (%s) is not this "
		     "build's (%s): rebuild it, or point EPOLLFUZZ_EXECUTOR at "
		     "this build's", said ? theirs : "none", ours);
		return CHANNEL_ERROR;
	}
	memset(hl, 0, sizeof(*hl));
	text_word(text, "settle", hl->settle, sizeof(hl->settle));
	if (text_word(text, "aliases", hl->aliases, sizeof(hl->aliases)) &&
	    strcmp(hl->aliases, "-") == 0)
		hl->aliases[0] = '\0';
	return CHANNEL_OK;
}

/* ------------------------------------------------ the executor's side */

/* Puts the control channel at EXEC_FD_BASE, which needs a soft
 * RLIMIT_NOFILE above it for now (the executor lowers it later). */
static int move_channel(int ctl, struct error *err)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail(err, "setrlimit: %s", strerror(errno));
	if (ctl != EXEC_FD_BASE && dup3(ctl, EXEC_FD_BASE, O_CLOEXEC) < 0)
		return fail(err, "moving the control channel to %d: %s (RLIMIT_NOFILE "
			    "%llu)", EXEC_FD_BASE, strerror(errno),
			    (unsigned long long)rl.rlim_cur);
	return EXEC_FD_BASE;
}

/* Closes whatever the parent had open (its end of this channel too, so
 * that the parent's death reads as EOF; under a wrapper, what the wrapper
 * left open) and opens fds 0-2 on /dev/null.  A wrapper that keeps fds of
 * its own in the process (valgrind's, above the client's RLIMIT_NOFILE)
 * refuses to close them, which is its business: they are out of the
 * programs' reach either way. */
static int clean_fd_table(struct error *err)
{
	syscall(SYS_close_range, 0, EXEC_FD_BASE - 1, 0);
	syscall(SYS_close_range, EXEC_FD_BASE + 1, ~0u, 0);
	if (open("/dev/null", O_RDWR) != 0)
		return fail(err, "open /dev/null: %s", strerror(errno));
	if (dup2(0, 1) < 0 || dup2(0, 2) < 0)
		return fail(err, "dup2 /dev/null: %s", strerror(errno));
	return 0;
}

/* Hello, then program after program until the parent goes. */
static int serve_programs(int ctl, struct executor *ex)
{
	struct program p;
	struct outcome out;
	struct error err;
	unsigned cap = 0;
	int rc = 1, cpu;

	program_init(&p);
	outcome_init(&out);
	if (send_hello(ctl, ex) != CHANNEL_OK)
		goto done;
	for (;;) {
		int got = channel_recv_program(ctl, &p, &cap, &cpu, &err);

		if (got == CHANNEL_EOF) {
			rc = 0;
			break;
		}
		if (got != CHANNEL_OK) {
			channel_send_outcome(ctl, NULL, &err);
			break;
		}
		if (executor_run(ex, &p, cpu, &out, &err) < 0) {
			/* The workers' state is unknown: let the parent
			 * start afresh. */
			channel_send_outcome(ctl, NULL, &err);
			break;
		}
		if (channel_send_outcome(ctl, &out, NULL) != CHANNEL_OK)
			break;
	}
done:
	program_free(&p);
	outcome_free(&out);
	return rc;
}

int channel_serve(int ctl, _Atomic uint32_t *progress)
{
	struct executor *ex = NULL;
	struct error err;
	int high, rc;

	memset(&err, 0, sizeof(err));
	if ((high = move_channel(ctl, &err)) < 0) {
		channel_send_outcome(ctl, NULL, &err);
		return 1;
	}
	ctl = high;
	if (clean_fd_table(&err) == 0)
		ex = executor_open(&err);
	if (!ex) {
		/* The parent waits for a hello, success or not. */
		channel_send_outcome(ctl, NULL, &err);
		return 1;
	}
	executor_set_progress(ex, progress);
	rc = serve_programs(ctl, ex);
	/* No executor_close: the caller exits, and the process with it;
	 * workers asleep in a failed run could not be stopped anyway. */
	return rc;
}
