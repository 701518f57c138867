#!/usr/bin/env python3
"""`epollfuzz minimize` against injected model bugs.

usage: minimize_check.py EPOLLFUZZ

Each case is a corpus trace padded with 20 ops that have nothing to do with
the bug: pipes, eventfds and sockets opened before it (so that every fd
number the bug needs shifts), writes, reads, sleeps, epoll_ctl on another
epoll instance, and in the multi-thread cases a thread of its own.  With
the bug injected the padded trace is a finding; minimising it must reach
the size worked out from the bug, keep the signature, renumber the fds
(the result names the objects the bug needs, at their new numbers), and
the result must reproduce when run again.  Then the failure modes: a
signature that never comes back and targets that agree give 1, bad input 2.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def op(name, **fields):
    d = {"op": name}
    d.update(fields)
    return d


# epoll-fd-number on corpus/epoll-dup-epfd-close-original.json: the
# interest names its epoll by number, so once the epoll is reached only
# through a dup the write's event is lost.  The bug needs the epoll, the
# pipe, the ADD, the dup, the close of the original number, the write and
# the wait through the dup: 7 ops.  The corpus ops (marked C) land on fds
# 3 (epoll, after close(3) frees it), 10/11 (pipe) and 13 (dup).
PAD_EPOLL_FD_NUMBER = {"epollfuzz": 1, "ops": [
    op("pipe2"),                                              # 3, 4
    op("pipe2", flags="O_NONBLOCK"),                          # 5, 6
    op("eventfd", initval=3, flags="EFD_NONBLOCK|EFD_SEMAPHORE"),  # 7
    op("write", fd=4, len=10),
    op("socketpair", type="SOCK_DGRAM|SOCK_NONBLOCK"),        # 8, 9
    op("close", fd=3),
    op("epoll_create1", flags="EPOLL_CLOEXEC"),               # C 3
    op("write", fd=6, len=5),
    op("pipe2", flags="O_NONBLOCK"),                          # C 10, 11
    op("epoll_create", size=7),                               # 12
    op("epoll_ctl", epfd=3, ctl="EPOLL_CTL_ADD", fd=10,
       events="EPOLLIN|EPOLLRDHUP", data=77),                 # C
    op("write", fd=9, len=3),
    op("epoll_ctl", epfd=12, ctl="EPOLL_CTL_ADD", fd=5, events="EPOLLIN|EPOLLET"),
    op("dup", fd=3),                                          # C 13
    op("epoll_ctl", epfd=12, ctl="EPOLL_CTL_ADD", fd=7, events="EPOLLIN"),
    op("close", fd=3),                                        # C
    op("epoll_wait", epfd=12, maxevents=4, timeout=0),
    op("write", fd=11, len=100),                              # C
    op("read", fd=5, len=100),
    op("sleep", ms=5),
    op("epoll_wait", epfd=13, maxevents=8, timeout=0),        # C: diverges
    op("epoll_wait", epfd=3, timeout=0),                      # C
    op("epoll_ctl", epfd=3, ctl="EPOLL_CTL_DEL", fd=10),      # C
    op("read", fd=7, len=8),
    op("epoll_ctl", epfd=13, ctl="EPOLL_CTL_ADD", fd=10, events="EPOLLIN"),  # C
    op("epoll_ctl", epfd=12, ctl="EPOLL_CTL_MOD", fd=5, events="EPOLLIN"),
    op("epoll_ctl", epfd=13, ctl="EPOLL_CTL_DEL", fd=10),     # C
    op("shutdown", fd=9, how="SHUT_WR"),
    op("epoll_wait", epfd=13, timeout=0),                     # C
    op("close", fd=12),
    op("write", fd=7, value=5),
    op("close", fd=8),
]}

MIN_EPOLL_FD_NUMBER = [
    op("epoll_create1"),
    op("pipe2"),
    op("epoll_ctl", epfd=3, ctl="EPOLL_CTL_ADD", fd=4, events="EPOLLIN"),
    op("dup", fd=3),
    op("close", fd=3),
    op("write", fd=5),
    op("epoll_wait", epfd=6, timeout=0),
]

# no-wake-on-ready on corpus/mt-pipe-write-wakes-blocked-wait.json: a
# thread blocked in epoll_wait is not woken by another thread's write, and
# the model's lost-wakeup check fires.  The bug needs the epoll, the pipe,
# the ADD, a wait blocked on thread 1 and the write on thread 0: 5 ops, 2
# threads.  Thread 3 (and most of thread 2) is padding.
PAD_NO_WAKE_ON_READY = {"epollfuzz": 1, "threads": 4, "ops": [
    op("eventfd", initval=2),                                 # 3
    op("pipe2", flags="O_NONBLOCK"),                          # 4, 5
    op("epoll_create1"),                                      # 6
    op("write", fd=5, len=7),
    op("sleep", t=3, ms=3),
    op("close", fd=4),
    op("epoll_create1"),                                      # C 4
    op("read", t=3, fd=3, len=8),
    op("pipe2", flags="O_NONBLOCK|O_CLOEXEC"),                # C 7, 8
    op("epoll_ctl", epfd=6, ctl="EPOLL_CTL_ADD", fd=3, events="EPOLLOUT"),
    op("epoll_ctl", epfd=4, ctl="EPOLL_CTL_ADD", fd=7,
       events="EPOLLIN|EPOLLPRI", data=7),                    # C
    op("epoll_wait", t=2, epfd=6, maxevents=2, timeout=0),
    op("write", t=3, fd=5, len=9),
    op("epoll_wait", t=1, epfd=4, maxevents=32, timeout=-1),  # C
    op("sleep", ms=2),
    op("epoll_ctl", t=2, epfd=6, ctl="EPOLL_CTL_MOD", fd=3, events="EPOLLIN"),
    op("write", fd=8, len=3),                                 # C: lost wakeup
    op("dup", t=3, fd=5),
    op("epoll_wait", t=1, epfd=4, timeout=-1),                # C
    op("close", t=3, fd=9),
    op("epoll_wait", t=2, epfd=6, timeout=10),
    op("read", fd=7, len=1),
    op("sleep", t=3, ms=20),
    op("close", fd=6),
    op("write", t=3, fd=3, value=4),
]}

MIN_NO_WAKE_ON_READY = [
    op("epoll_create1"),
    op("pipe2"),
    op("epoll_ctl", epfd=3, ctl="EPOLL_CTL_ADD", fd=4, events="EPOLLIN"),
    op("epoll_wait", t=1, epfd=3),
    op("write", fd=5),
]

# fifo-waiters on corpus/mt-et-two-waiters-lifo-newest-returns.json: of two
# threads blocked on one edge-triggered item, the write wakes the oldest
# instead of the newest.  The bug needs the epoll, the pipe, an ET ADD, two
# waits on threads 1 and 2, and the write: 6 ops, 3 threads.  (EPOLLRDNORM
# stands in for EPOLLIN: the pipe reports both, and bits are cleared
# lowest first.)
PAD_FIFO_WAITERS = {"epollfuzz": 1, "threads": 4, "ops": [
    op("socketpair"),                                         # 3, 4
    op("eventfd", flags="EFD_NONBLOCK"),                      # 5
    op("epoll_create", size=3),                               # 6
    op("write", t=3, fd=4, len=6),
    op("close", fd=3),
    op("epoll_create1"),                                      # C 3
    op("epoll_ctl", epfd=6, ctl="EPOLL_CTL_ADD", fd=5, events="EPOLLIN|EPOLLOUT"),
    op("pipe2", flags="O_NONBLOCK"),                          # C 7, 8
    op("epoll_wait", t=3, epfd=6, maxevents=1, timeout=0),
    op("read", fd=5, len=8),
    op("epoll_ctl", epfd=3, ctl="EPOLL_CTL_ADD", fd=7,
       events="EPOLLIN|EPOLLET|EPOLLRDNORM", data=1234),      # C
    op("write", t=3, fd=5, value=9),
    op("epoll_wait", t=1, epfd=3, maxevents=64, timeout=-1),  # C
    op("sleep", ms=4),
    op("epoll_wait", t=2, epfd=3, timeout=-1),                # C
    op("shutdown", t=3, fd=4, how="SHUT_RD"),
    op("dup2", fd=5, newfd=20),
    op("write", fd=8, len=1),                                 # C: wakes t2 (t1 in the model)
    op("close", fd=20),
    op("epoll_wait", t=3, epfd=6, timeout=0),
    op("write", fd=8, len=1),                                 # C
    op("read", t=3, fd=7, len=2),
    op("close", fd=6),
    op("sleep", t=3, ms=1),
    op("write", t=3, fd=4, len=2),
    op("close", fd=4),
    op("epoll_wait", t=3, epfd=3, timeout=0),
]}

MIN_FIFO_WAITERS = [
    op("epoll_create1"),
    op("pipe2"),
    op("epoll_ctl", epfd=3, ctl="EPOLL_CTL_ADD", fd=4, events="EPOLLRDNORM|EPOLLET"),
    op("epoll_wait", t=1, epfd=3),
    op("epoll_wait", t=2, epfd=3),
    op("write", fd=5),
]

# (injected bug, padded trace, signature, minimal ops, threads after)
CASES = [
    ("epoll-fd-number", PAD_EPOLL_FD_NUMBER, "epoll_wait.ret", MIN_EPOLL_FD_NUMBER, 1),
    ("no-wake-on-ready", PAD_NO_WAKE_ON_READY, "invariant:lost-wakeup",
     MIN_NO_WAKE_ON_READY, 2),
    ("fifo-waiters", PAD_FIFO_WAITERS, "write.completed", MIN_FIFO_WAITERS, 3),
]

AGREEING = {"epollfuzz": 1, "ops": [op("epoll_create1"), op("close", fd=3)]}


class Checker:
    def __init__(self, binary, tmp):
        self.binary = binary
        self.tmp = tmp
        self.failures = 0
        self.checks = 0

    def run(self, *args, inject=None):
        env = dict(os.environ)
        env.pop("EPOLLFUZZ_INJECT", None)
        if inject:
            env["EPOLLFUZZ_INJECT"] = inject
        return subprocess.run([self.binary, *args], capture_output=True,
                              text=True, env=env)

    def expect(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures += 1
            print("FAIL:", what)
        return ok

    def write(self, name, trace):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(trace if isinstance(trace, str) else json.dumps(trace))
        return path

    def status(self, r, want, what):
        return self.expect(r.returncode == want,
                           "%s: exit %d, want %d\nstderr: %s" %
                           (what, r.returncode, want, r.stderr))

    def verdict_of_run(self, path, inject):
        r = self.run("run", "--json", path, inject=inject)
        return r.returncode, json.loads(r.stdout)["meta"]["verdict"]

    def padded_case_is_sound(self, name, path, inject, signature):
        """The padding agrees on its own; with the bug it is the finding."""
        rc, v = self.verdict_of_run(path, None)
        self.expect(rc == 0, "%s: padded trace disagrees without a bug: %s" % (name, v))
        rc, v = self.verdict_of_run(path, inject)
        self.expect(rc == 1 and v.get("signature") == signature,
                    "%s: padded trace under %s gives %s, want %s" %
                    (name, inject, v, signature))

    def minimised(self, name, path, out, args, inject_env=None):
        r = self.run("minimize", path, "-o", out, *args, inject=inject_env)
        if not self.status(r, 0, name + ": minimize"):
            return None
        self.expect("ops" in r.stderr and "runs" in r.stderr and r.stdout == "",
                    "%s: report on stderr only: %r" % (name, r.stderr))
        with open(out) as f:
            return json.load(f)

    def result_is_minimal(self, name, got, signature, want_ops, want_threads):
        ops = got["ops"]
        self.expect(len(ops) == len(want_ops),
                    "%s: %d ops, want %d:\n%s" % (name, len(ops), len(want_ops),
                                                  "\n".join(map(json.dumps, ops))))
        self.expect(ops == want_ops,
                    "%s: ops (fd numbers must follow the objects):\n%s" %
                    (name, "\n".join(map(json.dumps, ops))))
        threads = got.get("threads", 1 + max(o.get("t", 0) for o in ops))
        self.expect(threads == want_threads,
                    "%s: %d threads, want %d" % (name, threads, want_threads))
        v = got["meta"]["verdict"]
        self.expect(v["signature"] == signature,
                    "%s: meta.verdict %s, want %s" % (name, v, signature))
        self.expect(len(got["outcome"]["steps"]) > 0,
                    "%s: the result carries Linux's outcome" % name)

    def result_reproduces(self, name, out, inject, signature):
        """The written result runs and shows the finding again: under the
        bug, in every one of 10 Linux runs (run honours meta.inject); with
        the clean model (--inject ""), the targets agree."""
        r = self.run("run", "--repeat", "10", "--quiet", out, inject=inject)
        self.expect(r.returncode == 1 and signature.split(":")[-1] in r.stdout
                    and "NONDETERMINISTIC" not in r.stdout and "in run 1 of" in r.stdout,
                    "%s: result under %s: %s" % (name, inject, r.stdout + r.stderr))
        r = self.run("run", "--inject", "", "--repeat", "10", "--quiet", out)
        self.status(r, 0, name + ": result without the bug")
        r = self.run("run", "--quiet", out)
        self.expect(r.returncode == 1,
                    "%s: run ignores the result's meta.inject: %s" % (name, r.stdout))

    def case(self, inject, padded, signature, want_ops, want_threads):
        name = inject
        path = self.write(inject + "-padded.json", padded)
        out = os.path.join(self.tmp, inject + "-min.json")
        self.padded_case_is_sound(name, path, inject, signature)
        got = self.minimised(name, path, out, ["--inject", inject])
        if got is None:
            return
        self.result_is_minimal(name, got, signature, want_ops, want_threads)
        self.expect(got["meta"].get("inject") == inject,
                    "%s: meta.inject %r" % (name, got["meta"].get("inject")))
        self.result_reproduces(name, out, inject, signature)
        # The result is a finding too (meta.inject, meta.verdict): minimising
        # it again changes nothing.
        again = self.minimised(name + " again", out, out + ".again.json", [])
        if again is not None:
            self.expect(again["ops"] == got["ops"], "%s: second minimisation moved" % name)

    def without_verdict(self):
        """No meta.verdict: the trace is run first; EPOLLFUZZ_INJECT counts."""
        path = self.write("no-verdict.json", PAD_EPOLL_FD_NUMBER)
        got = self.minimised("no verdict", path, path + ".min.json", [],
                             inject_env="epoll-fd-number")
        if got is not None:
            self.result_is_minimal("no verdict", got, "epoll_wait.ret",
                                   MIN_EPOLL_FD_NUMBER, 1)

    def not_reproduced(self):
        trace = dict(PAD_EPOLL_FD_NUMBER)
        trace["meta"] = {"verdict": {"class": "diverge", "signature": "epoll_wait.ret"}}
        path = self.write("no-bug.json", trace)
        r = self.run("minimize", path)
        self.status(r, 1, "signature without the bug")
        self.expect("could not be reproduced" in r.stderr and r.stdout == "",
                    "not reproduced: %r" % r.stderr)
        # --inject overrides meta.inject: another bug, another finding
        trace["meta"]["inject"] = "epoll-fd-number"
        path = self.write("other-bug.json", trace)
        self.status(self.run("minimize", path), 0, "meta.inject")
        r = self.run("minimize", path, "--inject", "fifo-waiters")
        self.status(r, 1, "--inject overriding meta.inject")
        # an invariant class with the same text is another finding
        trace["meta"]["verdict"]["class"] = "invariant"
        path = self.write("other-class.json", trace)
        self.status(self.run("minimize", path), 1, "class differs")
        r = self.run("minimize", self.write("agree.json", AGREEING))
        self.status(r, 1, "targets agree")
        self.expect("nothing to minimise: the targets agree" in r.stderr,
                    "agree message: %r" % r.stderr)

    def bad_input(self):
        good = self.write("good.json", AGREEING)
        bad_meta = dict(AGREEING, meta={"verdict": {"signature": 7}})
        bad_inject = dict(AGREEING, meta={"inject": 3})
        cases = [
            ("no file", []),
            ("two files", [good, good]),
            ("unknown option", [good, "--frobnicate"]),
            ("-o without a value", [good, "-o"]),
            ("missing file", [os.path.join(self.tmp, "absent.json")]),
            ("malformed JSON", [self.write("syntax.json", '{"epollfuzz": 1, "ops": [')]),
            ("unknown op", [self.write("op.json", '{"epollfuzz": 1, "ops": [{"op": "nope"}]}')]),
            ("bad meta.verdict", [self.write("meta.json", bad_meta)]),
            ("bad meta.inject", [self.write("inject.json", bad_inject)]),
            ("unknown injected bug", [good, "--inject", "no-such-bug"]),
        ]
        for what, args in cases:
            out = os.path.join(self.tmp, "never-written.json")
            r = self.run("minimize", *args, "-o", out) if args else self.run("minimize")
            self.status(r, 2, "bad input: " + what)
            self.expect(r.stdout == "" and r.stderr != "" and not os.path.exists(out),
                        "bad input %s: stdout %r stderr %r" % (what, r.stdout, r.stderr))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        c = Checker(sys.argv[1], tmp)
        for inject, padded, signature, want_ops, want_threads in CASES:
            c.case(inject, padded, signature, want_ops, want_threads)
        c.without_verdict()
        c.not_reproduced()
        c.bad_input()
    print("%d checks, %d failures, %.1f s" % (c.checks, c.failures,
                                             time.monotonic() - start))
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
