/*
 * oracle.h - the Linux oracle: programs run with real syscalls and real
 * threads in a persistent executor process.
 */
#ifndef EPOLLFUZZ_ORACLE_H
#define EPOLLFUZZ_ORACLE_H

#include "trace.h"

/* The executor runs in a child process, restarted by a watchdog. */
extern const struct target_ops linux_target;

#endif
