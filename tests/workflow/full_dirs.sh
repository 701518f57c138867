#!/bin/sh
# full_dirs.sh EPOLLFUZZ - directories that fill up, on small tmpfs mounts:
#  - a corpus directory that fills while it is seeded: exit 2, a message,
#    and nothing kept (a half-seeded corpus would pass for a whole one);
#  - a findings directory that fills: the job stops at the first finding it
#    cannot write, the summary says findings were LOST, exit 2.
# Skipped (77) where tmpfs cannot be mounted (not root) or without the
# libFuzzer engine.
set -u
epollfuzz=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
d=$(mktemp -d)
cleanup() { umount "$d/corpus" "$d/findings" 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
cd "$d" || exit 1
mkdir corpus findings
if ! mount -t tmpfs -o size=4k tmpfs corpus 2>/dev/null; then
	echo "skipped: cannot mount a tmpfs here"; exit 77
fi
"$epollfuzz" fuzz --runs 10 --corpus corpus > out 2> err
status=$?
if [ "$status" -eq 2 ] && grep -q "NO FUZZING ENGINE" err; then
	echo "skipped: no fuzzing engine"; exit 77
fi
[ "$status" -eq 2 ] || { echo "seeding a full corpus: exit $status, want 2"; tail -5 err; exit 1; }
grep -q "seeding corpus/ failed, nothing kept" err || { echo "no message:"; tail -5 err; exit 1; }
[ -z "$(ls corpus)" ] || { echo "partial seeds kept: $(ls corpus | wc -l)"; exit 1; }
umount corpus
echo "ok: a corpus that filled while seeding kept nothing, exit 2"

mount -t tmpfs -o size=8k tmpfs findings || exit 1
"$epollfuzz" fuzz --inject epoll-fd-number --runs 2000 --seed 1 --threads 4 \
	--findings findings > out 2> err
status=$?
[ "$status" -eq 2 ] || { echo "full findings: exit $status, want 2"; cat out; tail -5 err; exit 1; }
grep -q "cannot write a finding, stopping" err || { echo "no message:"; tail -5 err; exit 1; }
grep -q "LOST" out || { echo "the summary does not say findings were lost:"; cat out; exit 1; }
echo "ok: a full findings directory stopped the job, the summary says LOST, exit 2"
