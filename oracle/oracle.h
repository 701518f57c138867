/*
 * oracle.h - the Linux oracle: programs run with real syscalls and real
 * threads in a persistent executor process; and the same executor as its
 * own program under a wrapper (an emulator, a sandbox).
 */
#ifndef EPOLLFUZZ_ORACLE_H
#define EPOLLFUZZ_ORACLE_H

#include <sys/types.h>

#include "trace.h"

/* The executor runs in a child process, restarted by a watchdog. */
extern const struct target_ops linux_target;

/*
 * exec:CMD [ARGS...]: the executor as the program epollfuzz-executor, run
 * as "CMD ARGS... epollfuzz-executor --ctl 3 --progress 4" (no shell), and
 * otherwise like linux: started at open, restarted by the same watchdog.
 * The program is this build's (built without sanitizers, which do not run
 * under qemu-user or valgrind), or env EPOLLFUZZ_EXECUTOR.  describe():
 * "settle", "settle-aliases", "command".
 */
extern const struct target_ops exec_target;

/* How long one program (and a start, until the hello) may take before the
 * executor counts as hung and is killed and restarted (run returns -1).
 * Default 10 s.  For linux and exec targets alike. */
#define LINUX_TARGET_TIMEOUT_MS 10000
void linux_target_set_timeout(struct target *t, unsigned ms);

/* The executor's process id (under exec, the wrapper's), or -1 between a
 * failure and its restart (for tests of the watchdog). */
pid_t linux_target_pid(struct target *t);

#endif
