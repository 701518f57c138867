#!/bin/sh
# full_disk.sh EPOLLFUZZ TRACE - a write that fails part way (a full file
# system, simulated with RLIMIT_FSIZE) leaves what was there whole: through
# a symlink, the link's target keeps its old content and no temporary file
# is left; epollfuzz says so and exits 2.
set -u
epollfuzz=$1 trace=$2
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
"$epollfuzz" run --target linux --json "$trace" > "$d/t.json" || exit 1
printf 'old content\n' > "$d/target"
ln -s target "$d/link"
# The trace exported as JSON is larger than 1 KiB; the limit is 1 KiB.
# (SIGXFSZ ignored: write() then fails with EFBIG, as on a full disk.)
(trap '' XFSZ; ulimit -f 1; exec "$epollfuzz" export --json "$d/t.json" -o "$d/link") \
	2> "$d/err"
status=$?
[ "$status" -eq 2 ] || { echo "exit $status, want 2"; cat "$d/err"; exit 1; }
grep -q "cannot write" "$d/err" || { echo "no message:"; cat "$d/err"; exit 1; }
[ -L "$d/link" ] || { echo "the symlink was replaced"; exit 1; }
[ "$(cat "$d/target")" = "old content" ] || { echo "the target was damaged:"; head -c 200 "$d/target"; exit 1; }
leftover=$(ls "$d" | grep '\.tmp\.' || true)
[ -z "$leftover" ] || { echo "temporary file left: $leftover"; exit 1; }
# and through the link with room, it is written
"$epollfuzz" export --json "$d/t.json" -o "$d/link" || exit 1
grep -q '"outcome"' "$d/target" || { echo "nothing written through the symlink"; exit 1; }
echo "ok: a failed write left the old file whole, then a good one went through the link"
