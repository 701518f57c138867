#!/usr/bin/env python3
"""racy_check.py EPOLLFUZZ TRACE RUNS

A trace where Linux itself races: every one of RUNS Linux outcomes must lie
inside the model's allowed set.  (`run --repeat` exits 1 for such a trace by
design, NONDETERMINISTIC, so the counts are read from its JSON.)
"""
import json
import subprocess
import sys


def main():
    epollfuzz, trace, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    proc = subprocess.run([epollfuzz, "run", "--repeat", str(runs), "--json", trace],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"epollfuzz run exited {proc.returncode}: {proc.stderr.strip()}")
    rep = json.loads(proc.stdout)["meta"]["repeat"]
    print(f"{trace}: {rep['runs']} runs, {rep['distinct']} distinct Linux outcomes, "
          f"{rep['inside_model_set']} inside the model's set")
    if rep["runs"] != runs or rep["inside_model_set"] != runs:
        verdict = json.loads(proc.stdout)["meta"].get("verdict")
        sys.exit(f"FAIL: a Linux outcome outside the model's set: {verdict}")


if __name__ == "__main__":
    main()
