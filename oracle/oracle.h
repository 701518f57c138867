/*
 * oracle.h - the Linux oracle: programs run with real syscalls and real
 * threads in a persistent executor process.
 */
#ifndef EPOLLFUZZ_ORACLE_H
#define EPOLLFUZZ_ORACLE_H

#include <sys/types.h>

#include "trace.h"

/* The executor runs in a child process, restarted by a watchdog. */
extern const struct target_ops linux_target;

/* How long one program may take before the executor counts as hung and is
 * killed and restarted (run returns -1).  Default 10 s. */
#define LINUX_TARGET_TIMEOUT_MS 10000
void linux_target_set_timeout(struct target *t, unsigned ms);

/* The executor's process id, or -1 between a failure and its restart
 * (for tests of the watchdog). */
pid_t linux_target_pid(struct target *t);

#endif
