#!/usr/bin/env python3
"""stop_check.py MODE EPOLLFUZZ

How `epollfuzz fuzz` ends when it is told to, or when its executor hangs:

  term     SIGTERM to the campaign: it stops its jobs, prints the summary
           (saying it was stopped), exits 0, and leaves no process behind;
  kill     SIGKILL to the campaign: its jobs and executors die with it;
  hang     the executor stopped (SIGSTOP) in the middle: the watchdog restarts
           it, the campaign goes on and ends with exit 0, no finding (a hung
           target is a target failure, never a finding), and the summary
           counts the target failure.

Exit 77 (skipped) in a build without the libFuzzer engine.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

# the tool's /proc helpers, one copy for the tool and the tests
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from proctree import children_of, processes_in  # noqa: E402

SKIP = 77


def fail(msg, out="", err=""):
    print("FAIL:", msg)
    print("--- stdout\n" + out[-2000:] + "--- stderr\n" + err[-3000:])
    sys.exit(1)






def start(epollfuzz, tmp, seconds):
    return subprocess.Popen([epollfuzz, "fuzz", "--time", str(seconds), "--threads", "1"],
                            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_gone(tmp, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not processes_in(tmp):
            return True
        time.sleep(0.2)
    return False


def until_fuzzing(p, tmp):
    """Waits until the job has started its executor (a grandchild)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if p.poll() is not None:
            out, err = p.communicate()
            if "NO FUZZING ENGINE" in err:
                print("skipped: this build has no fuzzing engine")
                sys.exit(SKIP)
            fail(f"the campaign ended early, exit {p.returncode}", out, err)
        jobs = children_of(p.pid)
        execs = [e for j in jobs for e in children_of(j)]
        if execs:
            return jobs, execs
        time.sleep(0.2)
    fail("no executor started within 20 s")


def term(epollfuzz, tmp):
    p = start(epollfuzz, tmp, 120)
    until_fuzzing(p, tmp)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("SIGTERM did not stop the campaign within 20 s")
    if p.returncode != 0 or "stopped by" not in out or "programs" not in out:
        fail(f"exit {p.returncode}, want 0 and a summary that says it was stopped", out, err)
    if not wait_gone(tmp, 10):
        fail(f"processes left behind: {processes_in(tmp)}", out, err)
    print("ok: SIGTERM stopped the jobs and executors, summary printed, exit 0")


def kill(epollfuzz, tmp):
    p = start(epollfuzz, tmp, 120)
    jobs, execs = until_fuzzing(p, tmp)
    p.kill()
    p.communicate()
    if not wait_gone(tmp, 15):
        fail(f"after kill -9, left behind: {processes_in(tmp)} (jobs {jobs}, executors {execs})")
    print("ok: kill -9 of the campaign took its jobs and executors with it")


def hang(epollfuzz, tmp):
    p = start(epollfuzz, tmp, 25)
    _, execs = until_fuzzing(p, tmp)
    time.sleep(1)
    for e in execs:
        os.kill(e, signal.SIGSTOP)
    try:
        out, err = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("the campaign did not end")
    if p.returncode != 0:
        fail(f"exit {p.returncode}, want 0: a hung executor is no finding", out, err)
    if "(none)" not in out or "0 findings" not in out:
        fail("a finding was listed for a hung executor", out, err)
    if "target failure" not in out:
        fail("the summary does not count the target failure", out, err)
    if not wait_gone(tmp, 10):
        fail(f"processes left behind: {processes_in(tmp)}", out, err)
    print("ok: a stopped executor is a target failure, restarted, no finding")


def main():
    mode, epollfuzz = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        {"term": term, "kill": kill, "hang": hang}[mode](epollfuzz, os.path.realpath(tmp))


if __name__ == "__main__":
    main()
