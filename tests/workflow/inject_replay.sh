#!/bin/sh
# inject_replay.sh EPOLLFUZZ - the README's path: a finding of an injected
# bug, minimised, still shows the bug when `run` replays it (run honours
# meta.inject as minimize does); --inject "" runs the clean model, which
# agrees.  Skipped (77) without the libFuzzer engine.
set -u
epollfuzz=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
cd "$d" || exit 1
"$epollfuzz" fuzz --inject epoll-fd-number --runs 300 --seed 1 --threads 4 > out 2> err
status=$?
if [ "$status" -eq 2 ] && grep -q "NO FUZZING ENGINE" err; then
	echo "skipped: no fuzzing engine"; exit 77
fi
[ "$status" -eq 1 ] || { echo "fuzz exit $status, want 1"; tail -20 err; exit 1; }
f=$(ls findings/divergence-model-*.json | head -1)
[ -n "$f" ] || { echo "no finding"; exit 1; }
"$epollfuzz" minimize "$f" -o small.json 2> /dev/null || { echo "minimize failed"; exit 1; }
"$epollfuzz" run small.json > run.out
[ $? -eq 1 ] || { echo "run of the minimised finding did not show the bug:"; cat run.out; exit 1; }
"$epollfuzz" run --inject "" small.json > clean.out
[ $? -eq 0 ] || { echo "the clean model does not agree:"; cat clean.out; exit 1; }
echo "ok: $(head -1 run.out)"
