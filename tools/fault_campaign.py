#!/usr/bin/env python3
"""fault_campaign.py EPOLLFUZZ [--minutes N] [--inject NAME] [--dir DIR] [--seed S]

A fuzz campaign under faults, for issue 10's acceptance: `epollfuzz fuzz
--inject NAME` runs in DIR for N minutes (default 30) while this script, at
random moments,

  - kills an executor (SIGKILL),
  - stops an executor (SIGSTOP: it hangs, the watchdog must restart it),
  - kills the campaign itself (SIGKILL) or stops it (SIGTERM), and starts it
    again on the same corpus and findings directories.

At the end it checks, and prints one line per check:

  - no process is left whose working directory is DIR;
  - every file the findings directory lists is a real finding: a trace with
    its .bin, which shows the injected bug when run with it (meta.inject)
    and agrees with the clean model (`run --inject ""`): 0 false findings;
  - the kinds of finding seen during the campaign (from the jobs' messages)
    are all still in the findings directory: every real finding kept.

Exit 0 when every check passes.  Not part of the test suite (it runs for
half an hour); `tests/workflow` checks each fault on its own.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proctree import children_of, comm, processes_in  # noqa: E402








def executors(campaign):
    return [e for job in children_of(campaign) for e in children_of(job)]


def start(args, directory, seconds):
    log = open(os.path.join(directory, "campaign.log"), "a")
    return subprocess.Popen([args.epollfuzz, "fuzz", "--inject", args.inject,
                             "--time", str(max(5, int(seconds))), "--threads", "4",
                             "--no-minimize"],
                            cwd=directory, stdout=log, stderr=log)


def run(args, *argv):
    return subprocess.run([args.epollfuzz, *argv], capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("epollfuzz")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--inject", default="epoll-fd-number")
    ap.add_argument("--dir", default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.epollfuzz = os.path.abspath(args.epollfuzz)
    rnd = random.Random(args.seed)
    directory = os.path.realpath(args.dir or f"fault-campaign-{os.getpid()}")
    os.makedirs(directory, exist_ok=True)
    end = time.monotonic() + args.minutes * 60
    faults = {"executor killed": 0, "executor stopped": 0,
              "campaign killed": 0, "campaign stopped": 0, "restarts": 0}
    p = start(args, directory, end - time.monotonic())
    while time.monotonic() < end:
        time.sleep(min(rnd.uniform(5, 40), max(0, end - time.monotonic())))
        if time.monotonic() >= end:
            break
        if p.poll() is not None:
            faults["restarts"] += 1
            p = start(args, directory, end - time.monotonic())
            continue
        fault = rnd.choice(["executor killed", "executor killed", "executor stopped",
                            "executor stopped", "campaign killed", "campaign stopped"])
        if fault.startswith("executor"):
            execs = executors(p.pid)
            if not execs:
                continue
            os.kill(rnd.choice(execs), signal.SIGKILL if fault.endswith("killed")
                    else signal.SIGSTOP)
        else:
            p.send_signal(signal.SIGKILL if fault.endswith("killed") else signal.SIGTERM)
            p.wait()
            faults["restarts"] += 1
            p = start(args, directory, end - time.monotonic())
        faults[fault] += 1
    if p.poll() is None:
        p.wait()
    time.sleep(3)
    ok = True
    left = processes_in(directory)
    print(f"faults: {faults}")
    print(f"{'ok' if not left else 'FAIL'}: processes left behind: {len(left)} {[comm(x) for x in left]}")
    ok &= not left
    findings = os.path.join(directory, "findings")
    files = sorted(f for f in os.listdir(findings) if f.endswith(".json"))
    false = []
    for f in files:
        path = os.path.join(findings, f)
        stem = path[:-5]
        with open(path) as fp:
            trace = json.load(fp)
        with_bug = run(args, "run", "--quiet", path)
        clean = run(args, "run", "--quiet", "--inject", "", path)
        if (not os.path.exists(stem + ".bin") or trace.get("meta", {}).get("inject") != args.inject
                or with_bug.returncode != 1 or clean.returncode != 0):
            false.append(f)
    print(f"{'ok' if not false else 'FAIL'}: {len(files)} findings, {len(false)} false: {false}")
    ok &= not false
    with open(os.path.join(directory, "campaign.log")) as fp:
        log = fp.read()
    seen = set(re.findall(r"findings/([a-z0-9._-]+)\.json", log))
    missing = sorted(s for s in seen if not os.path.exists(os.path.join(findings, s + ".json")))
    print(f"{'ok' if not missing else 'FAIL'}: {len(seen)} kinds of finding reported, "
          f"{len(missing)} missing from findings/: {missing}")
    ok &= not missing
    crashed = re.findall(r"job \d+: .*(?:killed by signal \d+|exited with status \d+)", log)
    print(f"{'ok' if not crashed else 'FAIL'}: jobs that crashed: {len(crashed)} {sorted(set(crashed))[:3]}")
    ok &= not crashed
    stray = [f for f in os.listdir(findings) if f.startswith(("slow-unit-", "timeout-", "crash-"))]
    print(f"{'ok' if not stray else 'FAIL'}: engine artifacts in findings/: {stray}")
    ok &= not stray
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
