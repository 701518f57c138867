#!/usr/bin/env bash
# setup.sh - one command from a fresh Debian 12 clone to a working epollfuzz.
#
#   ./setup.sh test    install what is needed, build, run the test suite
#   ./setup.sh fuzz    install what is needed, build, fuzz model vs Linux
#                      from the shipped corpus (FUZZ_SECONDS, default 60;
#                      more options are passed to `epollfuzz fuzz`)
#
# Run as root (or with sudo available) so apt-get can install packages.
set -euo pipefail
cd "$(dirname "$0")"

# The build and its tests; qemu-user and valgrind are targets the tests and
# the docs check (exec:qemu-x86_64, exec:valgrind -q); rustc, cargo and
# the libc crate build the exported Miri-style Rust tests offline.
PACKAGES=(clang libclang-rt-14-dev afl++ libjansson-dev meson ninja-build
          pkg-config gcc python3 python3-jsonschema qemu-user valgrind
          rustc cargo rustfmt librust-libc-dev zip)

say() { printf '==> %s\n' "$*"; }

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# A build directory configured once and reused.
configure() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
}

cmd_test() {
	install_packages
	say "building with gcc (warnings are errors)"
	CC=gcc configure build-gcc -Dfuzzing=disabled
	ninja -C build-gcc >/dev/null
	say "building with clang, ASan and UBSan"
	CC=clang configure build-test -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-test >/dev/null
	say "running the tests"
	meson test -C build-test --print-errorlogs "$@"
}

cmd_fuzz() {
	install_packages
	say "building with clang and libFuzzer"
	CC=clang configure build-fuzz -Dfuzzing=enabled
	ninja -C build-fuzz >/dev/null
	say "fuzzing model against Linux for ${FUZZ_SECONDS:-60}s (findings in findings/)"
	build-fuzz/cli/epollfuzz fuzz --time "${FUZZ_SECONDS:-60}" "$@"
}

case "${1:-}" in
test) shift; cmd_test "$@" ;;
fuzz) shift; cmd_fuzz "$@" ;;
*) echo "usage: $0 test|fuzz" >&2; exit 2 ;;
esac
