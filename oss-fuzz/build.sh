#!/bin/bash -eu
# build.sh - the OSS-Fuzz / ClusterFuzzLite build of epollfuzz's fuzz targets.
#
# Compiles with $CC $CFLAGS, links with $LIB_FUZZING_ENGINE (libFuzzer, AFL++,
# honggfuzz: whatever the infrastructure picks), and writes to $OUT:
#   fuzz_diff, fuzz_model                the targets (fuzz/fuzz_diff.c, fuzz_model.c)
#   fuzz_{diff,model}_seed_corpus.zip    the shipped corpus, encoded (seedgen)
#   fuzz_{diff,model}.dict               the decoder's op kinds and literals (dictgen)
#   fuzz_{diff,model}.options            libFuzzer options
# Source files are those the meson.build files list, so nothing is kept twice.
# Jansson is linked statically: the runner image does not have it.
#
# ClusterFuzz may run targets where fork() is not allowed: fuzz_diff starts
# the Linux oracle as a child process, fuzz_model runs in one process and is
# the safe target there (see README.md, Daily workflow).

SRC_DIR=${EPOLLFUZZ_SRC:-$SRC/epollfuzz}
WORK_DIR=${WORK:-$(mktemp -d)}/epollfuzz-build
CXX=${CXX:-clang++}
mkdir -p "$WORK_DIR" "$OUT"
cd "$SRC_DIR"

version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" meson.build | head -1)
includes="-Itrace -Imodel -Ioracle -Iplugin -Iinclude -Itargets -Ifuzz"
defines="-D_GNU_SOURCE -DEPOLLFUZZ_VERSION=\"$version\""

# The .c files a meson.build lists in files(...), as paths.
listed() {
	local dir=$1
	grep -o "'[A-Za-z0-9_]*\.c'" "$dir/meson.build" | tr -d "'" | sed "s|^|$dir/|"
}
# (plugin/ by name: its meson.build also lists the example plugin's own
# sources, which define a plugin's entry point.)
core_sources="$(listed trace) $(listed model) $(listed oracle)
  plugin/plugin_target.c plugin/abi.c $(listed targets)
  fuzz/session.c fuzz/stats.c fuzz/feedback.c fuzz/findings.c fuzz/report.c fuzz/limits.c
  fuzz/seeds.c fuzz/merge.c fuzz/libfuzzer.c fuzz/harness.c
  fuzz/decode.c fuzz/fdchoose.c fuzz/mutate.c fuzz/recipes.c fuzz/dict.c"

jansson_static=$(pkg-config --variable=libdir jansson 2>/dev/null)/libjansson.a
[ -f "$jansson_static" ] || jansson_static=-ljansson

# --- the targets
objects=()
for src in $core_sources; do
	obj="$WORK_DIR/$(echo "$src" | tr / _).o"
	$CC $CFLAGS -std=c11 $defines $includes -c "$src" -o "$obj"
	objects+=("$obj")
done
for target in fuzz_diff fuzz_model; do
	$CC $CFLAGS -std=c11 $defines $includes -c "fuzz/$target.c" -o "$WORK_DIR/$target.o"
	$CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$WORK_DIR/$target.o" "${objects[@]}" \
		"$jansson_static" -lpthread -lm -ldl -o "$OUT/$target"
done

# --- seeds and the dictionary: host tools, built without the fuzzing flags
bytes_sources="fuzz/decode.c fuzz/fdchoose.c fuzz/mutate.c fuzz/recipes.c fuzz/dict.c"
tool_sources="$(listed trace) $bytes_sources fuzz/limits.c fuzz/seeds.c fuzz/merge.c"
cc_host=${CC_HOST:-cc}
$cc_host -std=c11 -O1 $defines $includes fuzz/seedgen.c $tool_sources \
	"$jansson_static" -o "$WORK_DIR/seedgen"
$cc_host -std=c11 -O1 $defines $includes fuzz/dictgen.c $(listed trace) $bytes_sources \
	"$jansson_static" -o "$WORK_DIR/dictgen"
rm -rf "$WORK_DIR/seeds"
EPOLLFUZZ_THREADS=4 "$WORK_DIR/seedgen" "$WORK_DIR/seeds" corpus
"$WORK_DIR/dictgen" > "$WORK_DIR/epollfuzz.dict"

for target in fuzz_diff fuzz_model; do
	rm -f "$OUT/${target}_seed_corpus.zip"
	(cd "$WORK_DIR/seeds" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*.seed)
	cp "$WORK_DIR/epollfuzz.dict" "$OUT/$target.dict"
	# len_control = 0: inputs are programs, and libFuzzer's ramp from
	# tiny inputs keeps them a few ops long (as epollfuzz fuzz passes it)
	cat > "$OUT/$target.options" <<OPTIONS
[libfuzzer]
dict = $target.dict
max_len = 4096
len_control = 0
timeout = 30
OPTIONS
done
