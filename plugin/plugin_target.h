/*
 * plugin_target.h - the plugin:PATH.so target kind: an implementation of
 * epoll in a shared library behind the versioned C ABI of
 * include/epollfuzz/plugin.h (docs/plugin.md).
 */
#ifndef EPOLLFUZZ_PLUGIN_TARGET_H
#define EPOLLFUZZ_PLUGIN_TARGET_H

#include "trace.h"

extern const struct target_ops plugin_target;

#endif
