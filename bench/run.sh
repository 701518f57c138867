#!/bin/sh
# bench/run.sh [--quick] [bench_threads options]
#
# Builds the benchmarks (release, clang, in build-bench/) when needed and
# runs bench_threads: blocking 4-thread programs against flat ones on the
# linux target, the model against Linux, run_like against run, and random
# programs decoded at max_threads 4 (the fuzz loop).  --quick: about 10 s
# (11 rounds); the default is about 25 s (21 rounds).  Everything printed is
# a median over rounds; read the ratios, not the absolute rates (README.md,
# "Benchmarks").  Needs root, like the linux target.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-bench}

if [ ! -f "$build/build.ninja" ]; then
	CC=${CC:-clang} meson setup "$build" "$root" --buildtype=release >/dev/null
fi
if ! log=$(ninja -C "$build" bench/bench_threads 2>&1); then
	printf '%s\n' "$log" >&2
	exit 1
fi

exec "$build/bench/bench_threads" "$@"
