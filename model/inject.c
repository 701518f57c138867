/*
 * inject.c - realistic bugs that can be switched into the model, to measure
 * how fast the fuzzer finds the kind of mistake emulators make.  Each one
 * names the real bug it stands for; the sites that honour them are marked
 * with injected(m, INJECT_...).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct injected_bug bugs[INJECT_COUNT] = {
	[INJECT_EPOLL_FD_NUMBER] = { "epoll-fd-number",
		"an interest names its epoll instance by fd number: after dup(epfd) "
		"and close(epfd) its events are lost (Miri issue 3858: the interest "
		"kept the epfd number and crashed the interpreter once it went stale)" },
	[INJECT_NO_WAKE_ON_READY] = { "no-wake-on-ready",
		"a thread blocked in epoll_wait is not woken when a watched fd becomes "
		"ready from another thread (an emulator that checks readiness only when "
		"epoll_wait is entered)" },
	[INJECT_WAKE_ON_EPFD_CLOSE] = { "wake-on-epfd-close",
		"closing the epoll fd makes threads blocked on it return 0 (Linux keeps "
		"them asleep: the blocked call holds its own reference)" },
	[INJECT_INTEREST_BY_FD] = { "interest-by-fd",
		"interests are keyed by fd number alone, not by (open file description, "
		"fd): a reused number finds the old interest" },
	[INJECT_SURVIVE_LAST_CLOSE] = { "survive-last-close",
		"interests outlive the final close of their description (a missing "
		"eventpoll_release)" },
	[INJECT_ET_REQUEUE] = { "et-requeue",
		"edge-triggered items are re-queued after delivery like level-triggered "
		"ones, so they report again without a new event" },
	[INJECT_ONESHOT_STAYS_ARMED] = { "oneshot-stays-armed",
		"EPOLLONESHOT items are not disarmed after delivering an event" },
	[INJECT_FIFO_WAITERS] = { "fifo-waiters",
		"threads blocked on one epoll instance are woken oldest first (Linux "
		"wakes the most recently blocked first)" },
	[INJECT_NO_EVENTFD_ZERO_WAKE] = { "no-eventfd-zero-wake",
		"writing 0 to an eventfd wakes nobody (Linux wakes with EPOLLIN, which "
		"re-fires edge-triggered interests)" },
	[INJECT_REMAINDER_AT_TAIL] = { "remainder-at-tail",
		"items a wait did not reach (maxevents) go to the tail of the ready "
		"list instead of back to its head" },
	[INJECT_ERRNO_ORDER] = { "errno-order",
		"epoll_ctl reports EINVAL (not an epoll fd) before EPERM (a target "
		"that cannot be polled)" },
	[INJECT_NOT_LOWEST_FD] = { "not-lowest-fd",
		"new fds come from a counter instead of being the lowest free number" },
};

const struct injected_bug *model_injected_bugs(void)
{
	return bugs;
}

/* Parses "name[,name...]" into a mask of enum inject_bug bits. */
int inject_parse(const char *names, unsigned *mask, struct error *err)
{
	const char *p = names;

	*mask = 0;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		unsigned k;

		for (k = 0; k < INJECT_COUNT; k++)
			if (strlen(bugs[k].name) == n && strncmp(bugs[k].name, p, n) == 0)
				break;
		if (k == INJECT_COUNT)
			return fail(err, "model: unknown injected bug '%.*s' (see 'epollfuzz inject')",
				    (int)n, p);
		*mask |= 1u << k;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}
