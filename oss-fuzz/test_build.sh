#!/bin/bash
# test_build.sh SRC_ROOT - runs oss-fuzz/build.sh as OSS-Fuzz would (clang,
# libFuzzer, ASan; $SRC and $OUT in temporary directories), then checks what
# it wrote and that the fuzz_model it built runs 100 inputs from its seeds.
set -eu
root=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/out" "$tmp/work"
ln -s "$root" "$tmp/src/epollfuzz"

SRC="$tmp/src" OUT="$tmp/out" WORK="$tmp/work" CC=clang CXX=clang++ \
	CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address" \
	CXXFLAGS="-O1 -g -fsanitize=address" \
	LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	bash "$root/oss-fuzz/build.sh"

for f in fuzz_diff fuzz_model fuzz_diff_seed_corpus.zip fuzz_model_seed_corpus.zip \
	 fuzz_diff.dict fuzz_diff.options fuzz_model.options; do
	[ -s "$tmp/out/$f" ] || { echo "FAIL: build.sh did not write $f"; exit 1; }
done
grep -q '^epoll_wait_later="' "$tmp/out/fuzz_diff.dict" ||
	{ echo "FAIL: the dictionary has no epoll_wait entry"; exit 1; }

mkdir "$tmp/seeds" "$tmp/corpus"
(cd "$tmp/seeds" && unzip -q "$tmp/out/fuzz_model_seed_corpus.zip")
(cd "$tmp" && "$tmp/out/fuzz_model" -runs=100 -seed=1 \
	-dict="$tmp/out/fuzz_model.dict" "$tmp/corpus" "$tmp/seeds") 2> "$tmp/log" ||
	{ tail -30 "$tmp/log"; echo "FAIL: fuzz_model did not run 100 inputs"; exit 1; }
grep -Eq "Done (1[0-9]{2}|[2-9][0-9]{2}) runs" "$tmp/log" ||
	{ tail -30 "$tmp/log"; echo "FAIL: fewer than 100 runs"; exit 1; }
echo "ok: build.sh built the targets; fuzz_model ran 100 inputs"
