#!/bin/sh
# bench/campaign.sh [--quick] [--seconds S] [--base REV] [--build DIR]
#
# Issue 13's ratios, measured side by side in one run (README.md,
# "Benchmarks"; docs/benchmarks.md):
#
#   campaign / linux alone   `epollfuzz fuzz --jobs 1 --threads 4` (model
#                            against Linux, seeded from the shipped corpus)
#                            against bench_threads' linux target alone on
#                            random programs decoded at 4 threads
#   campaign / linux alone   the same campaign against the linux target
#     on its corpus          alone on the programs that campaign's corpus
#                            kept (bench/corpus_rate): 1 is the oracle's speed
#   jobs 2 / jobs 1          the same campaign with --jobs 2
#   settle cost              bench_threads: one settling step in plain steps
#   model alone / base       bench_threads' model rates (30-op programs, and
#                            random programs run_like against Linux) of this
#                            tree against those of REV (default 57fae73, the
#                            tree before issue 13), built in a worktree
#   single-thread oracle     the corpus's single-thread, never-blocking
#     / raw syscall loop     programs through the linux target against the
#                            same calls as raw syscalls in a C loop that
#                            bench/raw_loop generates from the executor's own
#                            call_prepare/call_run (checked call by call)
#
# Builds (release, clang, fuzzing enabled) in build-bench/ (or --build DIR)
# when needed, and the base in build-bench-base/.  --quick: short runs, no
# base build, for the test suite (it checks that every ratio is printed,
# not any speed).  Needs root, like the linux target.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-bench}
base=57fae73
seconds=15
quick=false
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=true; seconds=3 ;;
	--seconds) seconds=$2; shift ;;
	--base) base=$2; shift ;;
	--build) build=$2; shift ;;
	*) echo "usage: bench/campaign.sh [--quick] [--seconds S] [--base REV] [--build DIR]" >&2
	   exit 2 ;;
	esac
	shift
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# setup_build DIR SRC TARGET...: a release clang build of SRC with
# libFuzzer in DIR, of the targets named.
setup_build() {
	dir=$1 src=$2
	shift 2
	if [ ! -f "$dir/build.ninja" ]; then
		CC=${CC:-clang} meson setup "$dir" "$src" --buildtype=release \
			-Dfuzzing=enabled >/dev/null
	fi
	if ! log=$(ninja -C "$dir" "$@" 2>&1); then
		printf '%s\n' "$log" >&2
		exit 1
	fi
}

# field LABEL FILE: the first number after LABEL in bench_threads' output.
field() {
	grep -F -- "$1" "$2" | head -n 1 | sed "s/.*$1//" | awk '{print $1}'
}

# campaign JOBS: the programs/s of a campaign: the sum over its jobs of
# each one's last status line ("epollfuzz fuzz [job K]: N programs (R/s)").
# Its corpus stays in $work/corpus-JOBS.
campaign() {
	rm -rf "$work/corpus-$1" "$work/findings"
	"$build/cli/epollfuzz" fuzz --jobs "$1" --threads 4 --time "$seconds" \
		--corpus "$work/corpus-$1" --findings "$work/findings" \
		>"$work/campaign.out" 2>&1 || true
	rate=$(sed -n 's/^epollfuzz fuzz\( \[job \([0-9]*\)\]\)\{0,1\}: [0-9]* programs (\([0-9]*\)\/s).*/j\2 \3/p' \
		"$work/campaign.out" |
		awk '{ last[$1] = $2 } END { for (j in last) sum += last[j]; if (sum) print sum }')
	if [ -z "$rate" ]; then
		cat "$work/campaign.out" >&2
		echo "bench/campaign.sh: the campaign printed no rate" >&2
		exit 1
	fi
	echo "$rate"
}

threads_args=--quick
if $quick && [ -x "$build/cli/epollfuzz" ] && [ -x "$build/bench/bench_threads" ] &&
	[ -x "$build/bench/raw_loop" ] && [ -x "$build/bench/corpus_rate" ]; then
	# the test suite's build, as it is: a few rounds, any sanitizer
	threads_args="--rounds 3 --budget 0.05 --random 60 --chunk 20"
else
	setup_build "$build" "$root" cli/epollfuzz bench/bench_threads bench/raw_loop \
		bench/corpus_rate
fi
if "$build/cli/epollfuzz" fuzz --runs 1 --corpus "$work/c0" --findings "$work/f0" 2>&1 |
	grep -q "NO FUZZING ENGINE"; then
	echo "bench/campaign.sh: $build/cli/epollfuzz has no fuzzing engine: skipped" >&2
	exit 77
fi
# The raw loop: generated from the corpus and checked once (-DCHECK:
# every call returns what the executor's own call_run got).
if ! "$build/bench/raw_loop" gen "$work/loop.c" "$root"/corpus/*.json 2>"$work/gen.err"; then
	cat "$work/gen.err" >&2
	exit 1
fi
${CC:-cc} -O2 -w -DCHECK -o "$work/loop-check" "$work/loop.c"
${CC:-cc} -O2 -w -o "$work/loop" "$work/loop.c"
if ! "$work/loop-check" >"$work/check.out" 2>&1; then
	cat "$work/check.out" >&2
	echo "bench/campaign.sh: the generated loop does not make the executor's calls" >&2
	exit 1
fi
nraw=$(sed 's/ programs.*//' "$work/check.out")
short=$($quick && echo 1 || echo 5)

# record NAME VALUE: one round's figure.
record() {
	if [ -z "$2" ]; then
		echo "bench/campaign.sh: no figure for $1" >&2
		exit 1
	fi
	echo "$1 $2" >>"$work/figures"
}

# One round: each ratio's two sides measured seconds apart.
measure_round() {
	"$build/bench/bench_threads" $threads_args >"$work/threads.txt"
	record linux "$(field "linux run " "$work/threads.txt")"
	record settle "$(grep -F "settle cost per settling step" "$work/threads.txt" |
		sed 's/.*= //; s/ plain.*//')"
	record jobs1 "$(campaign 1)"
	# the linux target alone on the programs that campaign kept
	record own "$("$build/bench/corpus_rate" --seconds "$short" "$work/corpus-1" |
		awk '{print $1}')"
	record jobs2 "$(campaign 2)"
	record raw "$("$work/loop" "$short" | awk '{print $1}')"
	record oracle "$("$build/bench/raw_loop" oracle "$short" "$root"/corpus/*.json |
		awk '{print $1}')"
}

# values NAME: the rounds' figures; ratios A B: each round's A / B.
values() { awk -v k="$1" '$1 == k { print $2 }' "$work/figures"; }
ratios() {
	values "$1" >"$work/a"
	values "$2" >"$work/b"
	paste "$work/a" "$work/b" | awk '{ printf "%.2f\n", ($2 > 0 ? $1 / $2 : 0) }'
}
# line LABEL GOAL A B: the median of the rounds' A / B, each round's, and
# the median rates.
num() { awk -v f="$1" '{ printf f, $1 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
line() {
	printf '  %-46s %6s   (rounds: %s; %s / %s programs/s%s)\n' "$1" \
		"$(ratios "$3" "$4" | median | num %.2f)" "$(ratios "$3" "$4" | tr '\n' ' ' | sed 's/ $//')" \
		"$(values "$3" | median | num %.0f)" "$(values "$4" | median | num %.0f)" "${2:+; $2}"
}

rounds=$($quick && echo 1 || echo 3)
: >"$work/figures"
r=0
while [ $r -lt "$rounds" ]; do
	measure_round
	r=$((r + 1))
done

echo "issue 13 ratios (the median of $rounds round(s), each ratio's two sides seconds apart; campaigns of $seconds s from the shipped corpus)"
line "campaign (1 job, 4 threads) / linux alone" "goal 0.8" jobs1 linux
line "campaign / linux alone on its own corpus" "1 is the oracle's speed" jobs1 own
line "campaign --jobs 2 / --jobs 1" "goal 1.6 on 2 cores" jobs2 jobs1
printf '  %-46s %6s   (rounds: %s; goal 3)\n' "settle cost per settling step, plain steps" \
	"$(values settle | median)" "$(values settle | tr '\n' ' ' | sed 's/ $//')"
line "single-thread oracle / raw syscall loop" "$nraw corpus programs; goal 0.5" oracle raw

if $quick; then
	echo "  model alone / base                           skipped (--quick)"
	exit 0
fi
if ! git -C "$root" rev-parse -q --verify "$base^{commit}" >/dev/null; then
	echo "  model alone / base: $base is not in this clone's history" >&2
	exit 1
fi
basesrc=$root/build-bench-base-src
basebuild=$root/build-bench-base
if [ ! -d "$basesrc" ]; then
	git -C "$root" worktree add -f --detach "$basesrc" "$base" >/dev/null 2>&1
fi
setup_build "$basebuild" "$basesrc" bench/bench_threads
# Interleaved: base, this tree, base, this tree; a ratio per pair (seconds
# apart), then their median (of two: the mean).
flat() { grep -E '^model +flat +run ' "$1" | awk '{print $4}'; }
like() { field "model run_like (ref: linux)" "$1"; }
for pair in 1 2; do
	"$basebuild/bench/bench_threads" $threads_args >"$work/base.txt"
	"$build/bench/bench_threads" $threads_args >"$work/new.txt"
	record flat_base "$(flat "$work/base.txt")"
	record flat_new "$(flat "$work/new.txt")"
	record like_base "$(like "$work/base.txt")"
	record like_new "$(like "$work/new.txt")"
done
line "model alone / $base, 30-op programs" "goal 2" flat_new flat_base
line "model run_like / $base, random programs" "" like_new like_base
