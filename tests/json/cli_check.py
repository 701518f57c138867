#!/usr/bin/env python3
"""The epollfuzz command line: help, usage errors and bad traces.

usage: cli_check.py EPOLLFUZZ [CORPUS_DIR]

Bad input must give exit status 2, one line on stderr naming the file, the
op and the field, and nothing on stdout.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

GOOD = '{"epollfuzz": 1, "ops": [{"op": "epoll_create1"}, {"op": "close", "fd": 3}]}\n'


def ops(*texts):
    return '{"epollfuzz": 1, "ops": [%s]}\n' % ", ".join(texts)


CLOSE = '{"op": "close", "fd": 4}'

# (file name, content, the message after "PATH: ")
BAD_TRACES = [
    ("syntax.json", '{"epollfuzz": 1,\n "ops": [\n  {"op" "close"}]}',
     "line 3 column 15: JSON syntax error: "),
    ("no-version.json", '{"ops": [{"op": "sleep"}]}', 'trace: missing "epollfuzz"'),
    ("unknown-op.json", ops(CLOSE, CLOSE, '{"op": "epol_wait", "epfd": 3}'),
     "ops[2].op: unknown op 'epol_wait'"),
    ("missing-field.json", ops(CLOSE, '{"op": "close"}'),
     "ops[1]: missing required field 'fd'"),
    ("thread.json", '{"epollfuzz": 1, "threads": 2, "ops": [{"op": "sleep", "t": 9}]}',
     "ops[0].t: thread 9 out of range 0..1 (threads is 2)"),
    ("type.json", ops(CLOSE, CLOSE, CLOSE, CLOSE, '{"op": "close", "fd": "4"}'),
     "ops[4].fd: expected an integer, got string"),
    ("range.json", ops('{"op": "epoll_wait", "epfd": 3, "maxevents": 4294967296}'),
     "ops[0].maxevents: 4294967296 out of range -2147483648..2147483647"),
    ("unknown-key.json", ops(CLOSE, CLOSE, CLOSE, CLOSE, CLOSE, '{"op": "pipe2", "fds": [3, 4]}'),
     "ops[5]: unknown key 'fds'"),
    ("flag.json", ops(CLOSE, CLOSE, CLOSE,
                      '{"op": "epoll_ctl", "epfd": 3, "ctl": "EPOLL_CTL_ADD", "fd": 4,'
                      ' "events": "EPOLLIN|EPOLLFOO"}'),
     "ops[3].events: unknown flag name 'EPOLLFOO'"),
    ("empty.json", '{"epollfuzz": 1, "ops": []}', "ops: expected 1..4096 elements, got 0"),
]


class Checker:
    def __init__(self, binary):
        self.binary = binary
        self.failures = 0
        self.checks = 0

    def run(self, *args, env=None):
        return subprocess.run([self.binary, *args], capture_output=True, text=True,
                              env=env)

    def expect(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures += 1
            print("FAIL:", what)

    def usage_error(self, args, message, env=None):
        """Exit 2, the message then the --help hint on stderr, nothing on stdout."""
        r = self.run(*args, env=env)
        lines = r.stderr.splitlines()
        self.expect(r.returncode == 2, f"{args}: exit {r.returncode}, not 2")
        # a message ending in "..." is a prefix (lists that grow, like the
        # target kinds)
        same = (lines[0].startswith(message[:-3]) if message.endswith("...")
                else lines[0] == message) if lines else False
        self.expect(len(lines) == 2 and same and "--help" in lines[1],
                    f"{args}: stderr {r.stderr!r}, not {message!r} and a hint")
        self.expect(r.stdout == "", f"{args}: wrote {r.stdout!r}")

    def bad_trace(self, args, message):
        """Exit 2, exactly one line "PATH: message" on stderr, nothing on stdout."""
        r = self.run(*args)
        self.expect(r.returncode == 2, f"{args}: exit {r.returncode}, not 2")
        self.expect(r.stderr.count("\n") == 1 and r.stderr.startswith(message),
                    f"{args}: stderr {r.stderr!r}, not {message!r}")
        self.expect(r.stdout == "", f"{args}: wrote {r.stdout!r}")

    def succeeds(self, args, needle):
        r = self.run(*args)
        self.expect(r.returncode == 0 and needle in r.stdout and r.stderr == "",
                    f"{args}: exit {r.returncode}, stdout lacks {needle!r}: {r.stderr!r}")
        return r.stdout


def check_help(c):
    c.succeeds(["--help"], "usage: epollfuzz COMMAND")
    c.succeeds(["-h"], "Commands:")
    c.succeeds(["--version"], "epollfuzz ")
    c.succeeds(["run", "--help"], "usage: epollfuzz run")
    c.succeeds(["ops", "--help"], "usage: epollfuzz ops")
    text = c.succeeds(["ops"], "epoll_ctl: epoll_ctl(epfd, ctl, fd, &{events, data})")
    for name in ("epoll_create1", "socketpair", "SOCK_SEQPACKET", "EPOLLONESHOT", "shutdown"):
        c.expect(name in text, f"ops lacks {name}")
    md = c.succeeds(["ops", "--markdown"], "### `epoll_wait`")
    c.expect("| `events` | flags | `0` |" in md, "markdown events row")


def check_usage(c, good):
    c.usage_error([], "epollfuzz: no command given")
    c.usage_error(["--frobnicate"], "epollfuzz: unknown option '--frobnicate'")
    c.usage_error(["frobnicate"], "epollfuzz: unknown command 'frobnicate'")
    c.usage_error(["run"], "epollfuzz run: no trace files given")
    c.usage_error(["run", "--frob", good], "epollfuzz run: unknown option '--frob'")
    c.usage_error(["run", good, "--target", "bsd"],
                  "epollfuzz run: unknown target 'bsd' (targets: model, linux, ...")
    c.usage_error(["run", "--target=bsd", good],
                  "epollfuzz run: unknown target 'bsd' (targets: model, linux, ...")
    c.usage_error(["run", good, "--target", "exec"],
                  "epollfuzz run: target 'exec' needs an argument: exec:...")
    c.usage_error(["run", good, "--target", "model:x"],
                  "epollfuzz run: target 'model:x': model takes no argument")
    c.usage_error(["run", good, "--expect", "--reference", "linux"],
                  "epollfuzz run: --expect and --reference both name the reference")
    c.usage_error(["run", good, "--target"], "epollfuzz run: --target needs a value")
    c.usage_error(["ops", "--html"], "epollfuzz ops: unknown option '--html'")
    for runs in ("0", "x", "-1", "3x", "100001"):
        c.usage_error(["run", "--repeat", runs, good],
                      f"epollfuzz run: --repeat needs a number of runs from 1 to 100000, not '{runs}'")
    c.usage_error(["run", "--repeat=0", good],
                  "epollfuzz run: --repeat needs a number of runs from 1 to 100000, not '0'")
    c.usage_error(["run", good, "--repeat"], "epollfuzz run: --repeat needs a value")
    c.usage_error(["run", "--repeat", "2", "--target", "model", good],
                  "epollfuzz run: --repeat needs a reference with one outcome per run (linux)")

COMMANDS = ("run", "ops", "export", "minimize", "fuzz", "inject", "conform")

# An option line of --help: "  --target SPEC", "  -o, --output OUT.json",
# "  -o OUT", then the help text ("  -- ARGS" documents no option).
OPTION_LINE = re.compile(r"^  (?:-(\w), )?(--[a-z][\w-]*|-\w)(?: (\S+))?(?:  |$)")


def help_options(c, cmd):
    """(short, long or short name, metavariable or None) for each option
    line of CMD --help."""
    r = c.run(cmd, "--help")
    c.expect(r.returncode == 0 and r.stdout.startswith(f"usage: epollfuzz {cmd}") and
             r.stderr == "", f"{cmd} --help: exit {r.returncode}, {r.stderr!r}")
    found = []
    for line in r.stdout.splitlines():
        m = OPTION_LINE.match(line)
        if m:
            found.append(m.groups())
    c.expect(("h", "--help", None) in found, f"{cmd} --help lacks -h, --help: {found}")
    return found


def plausible_value(name, arg, tmp):
    """A value the option's parser takes, so that only what follows fails."""
    special = {"--inject": "epoll-fd-number", "--profile": "any",
               "--engine": "libfuzzer", "--known": os.path.join(tmp, "known.md")}
    if name in special:
        return special[name]
    if arg == "SPEC":
        return "model"
    if arg in ("N", "S"):
        return "1"
    return os.path.join(tmp, "x-" + arg.lower())


def check_option_tables(c, tmp):
    """Every option --help lists is one the parser takes, with or without
    "=", and names itself when its value is missing; unknown and ambiguous
    options are refused before anything runs."""
    with open(os.path.join(tmp, "known.md"), "w"):
        pass
    stop = "--zz-not-an-option"  # applied last: nothing ever runs
    for cmd in COMMANDS:
        options = help_options(c, cmd)
        c.expect(len(options) > (cmd != "inject"), f"{cmd} --help lists no options")
        c.succeeds([cmd, "-h"], f"usage: epollfuzz {cmd}")
        c.usage_error([cmd, stop], f"epollfuzz {cmd}: unknown option '{stop}'")
        c.usage_error([cmd, "-Z"], f"epollfuzz {cmd}: unknown option '-Z'")
        for short, name, arg in options:
            if name == "--help":
                continue
            spellings = [name] + ([f"-{short}"] if short else [])
            if arg is None:
                for s in spellings:
                    c.usage_error([cmd, s, stop], f"epollfuzz {cmd}: unknown option '{stop}'")
                if name.startswith("--"):
                    c.usage_error([cmd, f"{name}=1", stop],
                                  f"epollfuzz {cmd}: {name} takes no value")
                continue
            value = plausible_value(name, arg, tmp)
            for s in spellings:
                c.usage_error([cmd, s, value, stop], f"epollfuzz {cmd}: unknown option '{stop}'")
                c.usage_error([cmd, s], f"epollfuzz {cmd}: {name} needs a value")
            if name.startswith("--"):
                c.usage_error([cmd, f"{name}={value}", stop],
                              f"epollfuzz {cmd}: unknown option '{stop}'")


def check_option_spellings(c, good):
    """--opt=value is --opt value; abbreviations must be unambiguous; the
    order of options and operands is free, whatever POSIXLY_CORRECT says."""
    joined = c.run("run", "--target=model", "--json", good)
    apart = c.run("run", "--target", "model", "--json", good)
    c.expect((joined.returncode, joined.stdout, joined.stderr) ==
             (apart.returncode, apart.stdout, apart.stderr),
             f"--target=model and --target model differ: {joined} {apart}")
    c.expect(joined.returncode == 0 or joined.stderr.startswith("error: model: "),
             f"run --target=model: exit {joined.returncode}: {joined.stderr!r}")
    c.usage_error(["run", "--re", "linux", good],
                  "epollfuzz run: ambiguous option '--re' (--reference, --repeat)")
    c.usage_error(["fuzz", "--en=afl"],
                  "epollfuzz fuzz: ambiguous option '--en' (--engine, --engine-output)")
    c.usage_error(["run", "--rep=0", good],
                  "epollfuzz run: --repeat needs a number of runs from 1 to 100000, not '0'")
    env = dict(os.environ, POSIXLY_CORRECT="1")
    c.usage_error(["run", good, "--target", "bsd"],
                  "epollfuzz run: unknown target 'bsd' (targets: model, linux, ...", env=env)
    c.usage_error(["fuzz", "stray"],
                  "epollfuzz fuzz: unexpected argument 'stray' (engine arguments go after --)")
    c.usage_error(["export", "--", "--c"],
                  "epollfuzz export: unexpected argument '--c' (the trace goes after --c, --rust or --json)")
    # Every command that takes --inject judges the names while parsing,
    # before it runs anything, with the model's own parser.
    for cmd in ("fuzz", "run", "minimize"):
        r = c.run(cmd, "--inject", "epoll-fd-number,no-such-bug", good)
        lines = r.stderr.splitlines()
        c.expect(r.returncode == 2 and r.stdout == "" and lines and "'no-such-bug'" in lines[0] and
                 lines[0].startswith(f"epollfuzz {cmd}: ") and
                 "  epoll-fd-number" in lines and "  not-lowest-fd" in lines,
                 f"{cmd} --inject with an unknown bug: {r.returncode} {r.stderr!r}")


def check_bad_traces(c, tmp, good):
    for name, text, message in BAD_TRACES:
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        # after a good trace: still nothing runs and nothing is written
        c.bad_trace(["run", good, path], f"{path}: {message}")
        c.bad_trace(["run", "--target", "model", "--json", path], f"{path}: {message}")
    missing = os.path.join(tmp, "missing.json")
    c.bad_trace(["run", missing], f"{missing}: No such file or directory")


def check_good_trace(c, good):
    """Placeholder targets fail (exit 2, "error: model: ..."); real ones pass."""
    r = c.run("run", "--target", "model", good)
    if r.returncode == 2:
        c.expect(r.stderr.startswith("error: model: ") and r.stderr.count("\n") == 1,
                 f"target failure message: {r.stderr!r}")
    else:
        c.expect(r.returncode == 0 and r.stdout.startswith(f"PASS {good} (2 ops)\n"),
                 f"run --target model: exit {r.returncode}: {r.stdout!r} {r.stderr!r}")
        c.expect("  [0] t0 epoll_create1(" in r.stdout, f"step lines: {r.stdout!r}")
    r = c.run("run", "--quiet", good)
    if r.returncode != 2:
        c.expect(r.returncode == 0 and r.stdout == "", f"--quiet: {r.returncode} {r.stdout!r}")
        r = c.run("run", "--json", good)
        doc = json.loads(r.stdout)
        c.expect(doc["meta"]["verdict"] == {"class": "agree", "reference": "linux"} and
                 doc["meta"]["targets"] == {"linux": "linux", "model": "model"} and
                 len(doc["meta"]["outcomes"]["model"]["steps"]) == 2 and
                 len(doc["outcome"]["steps"]) == 2,
                 f"run --json: {r.stdout!r}")


def repeat_trace(corpus):
    """A multi-thread corpus trace when there is one, else any."""
    for pattern in ("mt-*.json", "*.json"):
        found = sorted(glob.glob(os.path.join(corpus, pattern)))
        if found:
            return found[0]
    return None


def check_repeat(c, corpus):
    """--repeat on a corpus trace: identical runs, all inside the model's set."""
    trace = repeat_trace(corpus)
    if trace is None:
        return
    out = c.succeeds(["run", "--repeat", "3", trace], "linux identical in 3/3 runs")
    c.expect(out.startswith(f"PASS {trace} (") and
             out.endswith("): linux identical in 3/3 runs, all inside the model's set\n"),
             f"run --repeat 3: {out!r}")
    out = c.succeeds(["run", "--repeat=3", "--target", "linux", trace],
                     "linux identical in 3/3 runs\n  [0] t")
    c.expect("model" not in out.splitlines()[0], f"--target linux: {out!r}")
    r = c.run("run", "--repeat", "3", "--quiet", trace)
    c.expect(r.returncode == 0 and r.stdout == "", f"--repeat --quiet: {r.returncode} {r.stdout!r}")
    r = c.run("run", "--repeat", "3", "--json", trace)
    c.expect(r.returncode == 0, f"--repeat --json: exit {r.returncode}: {r.stderr!r}")
    meta = json.loads(r.stdout)["meta"] if r.returncode == 0 else {}
    c.expect(meta.get("repeat") == {"runs": 3, "identical": True, "distinct": 1,
                                    "inside_model_set": 3} and
             meta.get("verdict") == {"class": "agree", "reference": "linux"},
             f"--repeat --json meta: {meta!r}")


def main():
    c = Checker(sys.argv[1])
    corpus = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "good.json")
        with open(good, "w") as f:
            f.write(GOOD)
        check_help(c)
        check_usage(c, good)
        check_option_tables(c, tmp)
        check_option_spellings(c, good)
        check_bad_traces(c, tmp, good)
        check_good_trace(c, good)
        if corpus:
            check_repeat(c, corpus)
    print(f"cli: {c.checks} checks, {c.failures} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
