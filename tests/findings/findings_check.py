#!/usr/bin/env python3
"""findings_check.py EPOLLFUZZ SOURCE_ROOT WRAPPER

Every divergence docs/findings/ documents for an implementation is kept as a
corpus trace.  For each one of WRAPPER's (qemu-x86_64 or valgrind):

  - the implementation departs from Linux at the documented step, with the
    documented signature (`run --target exec:WRAPPER --no-model --json`);
  - Linux still gives the recorded outcome the reproducer checks, and the C
    reproducer exported from it passes natively and fails under the
    implementation, naming that step.

Linux agreeing with the model on these traces is the corpus suite's test.
Exit 77 (skipped) when the wrapper or gcc is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

# (trace, target spec, wrapper command for the reproducer, step, signature)
FINDINGS = {
    "qemu-x86_64": [
        ("flags-unknown-bits-einval", "exec:qemu-x86_64", ["qemu-x86_64"], 0,
         "epoll_create1.ret"),
        ("epoll_wait-ebadf", "exec:qemu-x86_64", ["qemu-x86_64"], 2,
         "epoll_wait.errno"),
        ("epoll_pwait2-invalid-timespec-einval-first", "exec:qemu-x86_64",
         ["qemu-x86_64"], 0, "epoll_pwait2.errno"),
    ],
    "valgrind": [
        ("dup3-bad-flags-einval-before-newfd-range", "exec:valgrind -q",
         ["valgrind", "-q"], 0, "dup3.errno"),
        ("epoll_pwait2-invalid-timespec-einval-first", "exec:valgrind -q",
         ["valgrind", "-q"], 0, "epoll_pwait2.errno"),
    ],
}


def fail(msg, res=None):
    print("FAIL:", msg)
    if res is not None:
        print("--- stdout\n" + res.stdout[-2000:] + "--- stderr\n" + res.stderr[-2000:])
    sys.exit(1)


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300, **kw)


def departs(epollfuzz, trace, spec, step, signature):
    res = run([epollfuzz, "run", "--target", spec, "--no-model", "--json", trace])
    if res.returncode != 1:
        fail(f"{trace}: {spec} agrees with Linux (exit {res.returncode}), want a divergence", res)
    verdict = json.loads(res.stdout)["meta"]["verdict"]
    want = {"class": "diverge", "step": step, "signature": signature}
    if any(verdict.get(k) != v for k, v in want.items()):
        fail(f"{trace}: verdict {verdict}, want {want}")
    print(f"ok: {spec} departs at step {step} {signature}: {verdict.get('detail')}")


def reproducer(epollfuzz, gcc, trace, wrapper, step, tmp):
    name = os.path.basename(trace)[:-len(".json")]
    rec = os.path.join(tmp, name + ".rec.json")
    src = os.path.join(tmp, name + ".c")
    exe = os.path.join(tmp, name)
    res = run([epollfuzz, "run", "--target", "linux", "--json", trace])
    if res.returncode != 0:
        fail(f"{trace}: linux run failed", res)
    with open(rec, "w") as f:
        f.write(res.stdout)
    res = run([epollfuzz, "export", "--c", rec, "-o", src])
    if res.returncode != 0:
        fail(f"{trace}: export --c failed", res)
    res = run([gcc, "-Wall", "-Werror", "-pthread", "-O1", "-o", exe, src])
    if res.returncode != 0:
        fail(f"{trace}: the reproducer does not build", res)
    res = run([exe])
    if res.returncode != 0:
        fail(f"{trace}: the reproducer fails natively (exit {res.returncode})", res)
    res = run(wrapper + [exe])
    if res.returncode != 1:
        fail(f"{trace}: under {' '.join(wrapper)} the reproducer exits {res.returncode}, want 1", res)
    if f"step {step}" not in res.stdout + res.stderr:
        fail(f"{trace}: under {' '.join(wrapper)} the reproducer does not name step {step}", res)
    print(f"ok: reproducer of {name} passes natively, fails under {' '.join(wrapper)} at step {step}")


def main():
    epollfuzz, root, wrapper = sys.argv[1], sys.argv[2], sys.argv[3]
    gcc = shutil.which("gcc")
    if not shutil.which(wrapper) or not gcc:
        print(f"skipped: {wrapper if not shutil.which(wrapper) else 'gcc'} is not installed")
        sys.exit(SKIP)
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec, command, step, signature in FINDINGS[wrapper]:
            trace = os.path.join(root, "corpus", name + ".json")
            departs(epollfuzz, trace, spec, step, signature)
            reproducer(epollfuzz, gcc, trace, command, step, tmp)


if __name__ == "__main__":
    main()
