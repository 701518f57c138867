#!/usr/bin/env python3
"""fuzz_cmd_check.py - `epollfuzz fuzz` and `epollfuzz inject` end to end.

  fuzz_cmd_check.py smoke EPOLLFUZZ           200 programs on the clean model: exit 0
  fuzz_cmd_check.py afl EPOLLFUZZ             5 s of --engine afl, exit 0 or 1 (skipped: 77 when
                                              this build has no AFL++ pieces)
  fuzz_cmd_check.py no-engine EPOLLFUZZ       a build without libFuzzer says so: exit 2
  fuzz_cmd_check.py merge EPOLLFUZZ           corpora of other settings merge (--merge); the
                                              campaign's engine reads the format's dictionary
  fuzz_cmd_check.py stats EPOLLFUZZ           --stats reports every op kind, the drawn counts add
                                              up, and the job's tally is JSON
  fuzz_cmd_check.py inject EPOLLFUZZ RUNS THREADS [NAME...]
                                              every injected bug (or the NAMEs) is found
                                              by a fixed-seed run of RUNS programs

Every run happens in a fresh temporary directory (corpus, findings and all).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

SKIP = 77


def run(cmd, cwd, timeout=120):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def fail(msg, res=None):
    print("FAIL:", msg)
    if res is not None:
        print("--- stdout\n" + res.stdout[-3000:] + "--- stderr\n" + res.stderr[-3000:])
    sys.exit(1)


def check_finding_files(findings):
    """Every finding is NAME.json (a trace with meta) beside NAME.bin."""
    names = sorted(f for f in os.listdir(findings) if f.endswith(".json"))
    for name in names:
        stem = name[:-len(".json")]
        if not all(c in "abcdefghijklmnopqrstuvwxyz0123456789._-" for c in stem):
            fail(f"{name}: not a sanitized name")
        if not os.path.exists(os.path.join(findings, stem + ".bin")):
            fail(f"{name}: no {stem}.bin beside it")
        with open(os.path.join(findings, name)) as f:
            trace = json.load(f)
        meta = trace.get("meta", {})
        verdict = meta.get("verdict", {})
        for key in ("class", "step", "field", "signature", "detail"):
            if key not in verdict:
                fail(f"{name}: meta.verdict has no {key}")
        for key in ("kernel", "tool"):
            if key not in meta:
                fail(f"{name}: meta has no {key}")
        if "outcome" not in trace or "model" not in meta.get("outcomes", {}):
            fail(f"{name}: the outcomes are missing")
    return names


def smoke(epollfuzz):
    with tempfile.TemporaryDirectory() as tmp:
        res = run([epollfuzz, "fuzz", "--runs", "200", "--seed", "1"], tmp)
        if res.returncode != 0:
            fail(f"exit {res.returncode}, want 0", res)
        # libFuzzer's -runs=200 counts its own way (seeds, empty input):
        # the status line says how many programs ran, at least 200
        ran = [int(n) for n in re.findall(r"(\d+) programs \(", res.stderr)]
        if "seeded fuzz-corpus/" not in res.stderr or not ran or max(ran) < 200:
            fail("no seeding message or status line", res)
        if "0 findings" not in res.stdout:
            fail("no summary line", res)
        # libFuzzer's own lines go to findings/logs/, not to the user
        noise = [l for l in res.stderr.splitlines() if not l.startswith("epollfuzz fuzz")]
        if noise:
            fail(f"{len(noise)} lines on stderr that are not epollfuzz's: {noise[:3]}", res)
        if not os.path.exists(os.path.join(tmp, "findings", "logs", "libfuzzer-job0.log")):
            fail("no engine log in findings/logs/", res)
    print("ok: 200 programs on the clean model, no finding")


def header_threads(path):
    """The thread count an input's first byte gives (fuzz/decode.c)."""
    with open(path, "rb") as f:
        first = f.read(1)
    return 1 + ((first[0] if first else 0) & 7)


def merge(epollfuzz):
    with tempfile.TemporaryDirectory() as tmp:
        # A 4-thread corpus: the seeds of the shipped corpus and what 100
        # programs add; libFuzzer's log shows the dictionary it was given.
        res = run([epollfuzz, "fuzz", "--runs", "100", "--seed", "1", "--threads", "4",
                   "--corpus", "c4", "--findings", "f4", "--", "-verbosity=1"], tmp)
        if res.returncode != 0:
            fail(f"4 threads: exit {res.returncode}, want 0", res)
        with open(os.path.join(tmp, "f4", "logs", "libfuzzer-job0.log")) as f:
            m = re.search(r"Dictionary: (\d+) entries", f.read())
        if not m or int(m.group(1)) < 2 * 10:
            fail("libFuzzer was not given the format's dictionary", res)
        c4 = os.path.join(tmp, "c4")
        inputs = [os.path.join(c4, n) for n in os.listdir(c4)]
        fit = sum(1 for p in inputs if header_threads(p) <= 2)
        if not 0 < fit < len(inputs):
            fail(f"{fit} of {len(inputs)} inputs of 2 threads or fewer: want some, not all")
        # Merged into an empty 2-thread campaign: the inputs of at most 2
        # threads are copied, the others counted outside.
        os.mkdir(os.path.join(tmp, "c2"))
        with open(os.path.join(tmp, "c2", "mine"), "wb") as f:
            f.write(open(inputs[0], "rb").read() if header_threads(inputs[0]) <= 2 else b"\x00")
        res = run([epollfuzz, "fuzz", "--runs", "10", "--threads", "2", "--corpus", "c2",
                   "--findings", "f2", "--merge", "c4"], tmp)
        m = re.search(r"merged (\d+) inputs of c4/ into c2/ \((\d+) there already, "
                      r"(\d+) outside --threads 2\)", res.stderr)
        if res.returncode != 0 or not m:
            fail(f"exit {res.returncode}, want 0 and the merge line", res)
        copied, present, outside = map(int, m.groups())
        if (copied + present, outside) != (fit, len(inputs) - fit):
            fail(f"merged {copied}+{present} and {outside} outside; want {fit} and "
                 f"{len(inputs) - fit}", res)
        for n in os.listdir(os.path.join(tmp, "c2")):
            if n.startswith("merged-") and header_threads(os.path.join(tmp, "c2", n)) > 2:
                fail(f"c2/{n}: an input of more than 2 threads was merged")
        # Again: nothing new.
        res = run([epollfuzz, "fuzz", "--runs", "10", "--threads", "2", "--corpus", "c2",
                   "--findings", "f2", "--merge", "c4"], tmp)
        if not re.search(r"merged 0 inputs of c4/", res.stderr):
            fail("a second merge copied inputs again", res)
    print(f"ok: {fit} of {len(inputs)} inputs of a 4-thread corpus merged at 2 threads; "
          "dictionary given to libFuzzer")


def op_names(epollfuzz):
    res = run([epollfuzz, "ops"], ".")
    names = re.findall(r"^([a-z0-9_]+): ", res.stdout, re.M)
    if res.returncode != 0 or len(names) < 10:
        fail("epollfuzz ops lists no ops", res)
    return names


def stats(epollfuzz):
    ops = op_names(epollfuzz)
    with tempfile.TemporaryDirectory() as tmp:
        res = run([epollfuzz, "fuzz", "--runs", "300", "--seed", "1", "--stats"], tmp)
        if res.returncode != 0:
            fail(f"exit {res.returncode}, want 0", res)
        m = re.search(r"op coverage: (\d+) ops in (\d+) programs\n(.*?)\nGAPS", res.stdout, re.S)
        if not m:
            fail("no op coverage report on stdout", res)
        total, programs = int(m.group(1)), int(m.group(2))
        drawn = {}
        for line in m.group(3).splitlines()[1:]:
            cols = line.split()
            drawn[cols[0]] = int(cols[1])
        for op in ops:
            if drawn.get(op, 0) <= 0:
                fail(f"op {op}: drawn {drawn.get(op)}, want a nonzero count", res)
        if sum(drawn.values()) != total or programs != 300:
            fail(f"drawn counts add up to {sum(drawn.values())} of {total} ops, "
                 f"{programs} programs (want 300)", res)
        path = os.path.join(tmp, "findings", "logs", "stats-job0.json")
        try:
            with open(path) as f:
                tally = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"{path}: {e}", res)
        if tally.get("ops") != total or set(tally.get("op", {})) != set(ops):
            fail(f"{path}: {tally.get('ops')} ops, ops {sorted(tally.get('op', {}))}", res)
        res = run([epollfuzz, "fuzz", "--engine", "afl", "--runs", "1", "--stats"], tmp)
        if res.returncode != 2 or "--stats needs the libFuzzer engine" not in res.stderr:
            fail(f"--engine afl --stats: exit {res.returncode}, want 2 and a message", res)
    print(f"ok: all {len(ops)} ops drawn in {total} ops of 300 programs")


def afl(epollfuzz):
    with tempfile.TemporaryDirectory() as tmp:
        res = run([epollfuzz, "fuzz", "--engine", "afl", "--time", "5"], tmp)
        if res.returncode == 2 and "NO AFL++ ENGINE" in res.stderr:
            print("skipped:", res.stderr.strip().splitlines()[0])
            sys.exit(SKIP)
        # The clean model agrees with Linux: any finding here is a bug of
        # the model (or of the AFL++ face), and fails the test.
        if res.returncode != 0 or "epollfuzz fuzz: afl" not in res.stdout:
            if res.returncode == 1:
                check_finding_files(os.path.join(tmp, "findings"))
            fail(f"exit {res.returncode}, want 0 and a summary", res)
        if not os.path.isdir(os.path.join(tmp, "fuzz-corpus-afl", "main")):
            fail("no afl-fuzz output folder fuzz-corpus-afl/main", res)
    print(f"ok: 5 s of afl-fuzz, exit {res.returncode}")


def no_engine(epollfuzz):
    with tempfile.TemporaryDirectory() as tmp:
        res = run([epollfuzz, "fuzz", "--runs", "10"], tmp)
        if res.returncode != 2 or "NO FUZZING ENGINE" not in res.stderr:
            fail(f"exit {res.returncode}, want 2 and a loud message", res)
        if os.listdir(tmp):
            fail("wrote files although it could not fuzz")
    print("ok: no engine, said so, exit 2")


def injected_names(epollfuzz):
    res = run([epollfuzz, "inject"], None)
    if res.returncode != 0:
        fail("epollfuzz inject failed", res)
    return [line.split(":", 1)[0] for line in res.stdout.splitlines() if ":" in line]


def caused_by(epollfuzz, finding, name):
    """The finding is the injected bug's: replayed with the bug (its
    meta.inject) it diverges, with the clean model the targets agree."""
    with open(finding) as f:
        if json.load(f).get("meta", {}).get("inject") != name:
            return False
    with_bug = run([epollfuzz, "run", "--quiet", finding], None)
    clean = run([epollfuzz, "run", "--quiet", "--inject", "", finding], None)
    return with_bug.returncode == 1 and clean.returncode == 0


def inject(epollfuzz, runs, threads, names):
    names = names or injected_names(epollfuzz)
    missed = []
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.monotonic()
            res = run([epollfuzz, "fuzz", "--inject", name, "--runs", runs,
                       "--seed", "1", "--threads", threads,
                       "--findings", "found"], tmp)
            secs = time.monotonic() - start
            found = check_finding_files(os.path.join(tmp, "found"))
            not_the_bug = [f for f in found if not caused_by(epollfuzz, os.path.join(tmp, "found", f), name)]
            if not_the_bug:
                fail(f"{name}: findings that the clean model shows too: {not_the_bug}")
            if res.returncode != 1 or not found:
                missed.append(name)
                print(f"MISSED {name}: exit {res.returncode}, {len(found)} findings, {secs:.1f} s")
                print(res.stderr[-2000:])
            else:
                print(f"found {name}: {len(found)} findings in {secs:.1f} s: {' '.join(found)}")
    if missed:
        fail("not found: " + " ".join(missed))
    print(f"ok: all {len(names)} injected bugs found")


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    mode, epollfuzz = argv[1], os.path.abspath(argv[2])
    if mode == "smoke":
        smoke(epollfuzz)
    elif mode == "afl":
        afl(epollfuzz)
    elif mode == "merge":
        merge(epollfuzz)
    elif mode == "stats":
        stats(epollfuzz)
    elif mode == "no-engine":
        no_engine(epollfuzz)
    elif mode == "inject":
        inject(epollfuzz, argv[3], argv[4], argv[5:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
