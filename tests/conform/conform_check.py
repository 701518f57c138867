#!/usr/bin/env python3
"""`epollfuzz conform`: the report, its JSON and JUnit, --known, errors.

usage: conform_check.py EPOLLFUZZ CORPUS_DIR [FAILING_PLUGIN]

- the model conforms on the shipped corpus: exit 0, and the JSON counts
  every trace once in "all" and once in each of its areas;
- a trace whose recorded outcome is wrong on purpose, replayed with
  --reference recorded against Linux: exit 1, the trace listed as FAIL with
  its first divergence, one <failure> in the JUnit file; a --known file
  naming that divergence makes it known and the exit status 0;
- FAILING_PLUGIN (a plugin whose every run fails, when given): the trace
  counts as error, the run goes on, exit 1;
- bad input: exit 2 and nothing on stdout.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# One eventfd, ready, read by one wait: it counts in the eventfd area only,
# so its testcase is the only one in the JUnit file.
PROGRAM = {"epollfuzz": 1, "ops": [
    {"op": "epoll_create1"},
    {"op": "eventfd", "initval": 1, "flags": "EFD_NONBLOCK"},
    {"op": "epoll_ctl", "epfd": 3, "ctl": "EPOLL_CTL_ADD", "fd": 4, "events": "EPOLLIN"},
    {"op": "epoll_wait", "epfd": 3, "maxevents": 4, "timeout": 0},
]}
NAME = "wrong-recording"
WRONG_DATA = 99  # Linux reports data 4 (the fd) at step 3


def run(epollfuzz, *args):
    return subprocess.run([epollfuzz, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def check(cond, what, proc=None):
    if not cond:
        if proc is not None:
            sys.stderr.write(f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n")
        sys.exit(f"FAIL: {what}")


def check_counts(report, ntraces):
    """Every trace once in "all", once in each of its areas."""
    check(len(report["traces"]) == ntraces,
          f"{len(report['traces'])} traces in the JSON, {ntraces} in the corpus")
    check(sum(report["all"][k] for k in ("pass", "fail", "unsupported", "known", "error"))
          == ntraces, f"'all' does not add up to {ntraces}: {report['all']}")
    for area, counts in report["areas"].items():
        listed = sum(area in t["areas"] for t in report["traces"])
        counted = sum(counts[k] for k in ("pass", "fail", "unsupported", "known", "error"))
        check(listed == counted, f"area {area}: {listed} traces list it, {counted} counted")
    for t in report["traces"]:
        check(t["areas"], f"{t['name']} is in no area")


def model_conforms(epollfuzz, corpus):
    ntraces = len(glob.glob(os.path.join(corpus, "*.json")))
    proc = run(epollfuzz, "conform", "--target", "model")
    check(proc.returncode == 0, f"conform --target model exited {proc.returncode}", proc)
    check(f"{ntraces} traces" in proc.stdout.splitlines()[0], "header without the count", proc)
    proc = run(epollfuzz, "conform", "--target", "model", "--json")
    check(proc.returncode == 0, f"conform --json exited {proc.returncode}", proc)
    report = json.loads(proc.stdout)
    check_counts(report, ntraces)
    check(report["all"]["pass"] == ntraces, f"not every trace passed: {report['all']}")
    check(report["target"] == "model" and report["reference"] == "linux",
          f"target/reference: {report['target']}/{report['reference']}")
    print(f"model: {ntraces} traces pass")


def make_corpus(epollfuzz, tmp):
    """A corpus of one trace whose recorded outcome is wrong at step 3."""
    src = os.path.join(tmp, "program.json")
    with open(src, "w") as f:
        json.dump(PROGRAM, f)
    proc = run(epollfuzz, "run", "--target", "linux", "--json", src)
    check(proc.returncode == 0, "run --target linux failed", proc)
    trace = json.loads(proc.stdout)
    events = trace["outcome"]["steps"][3]["events"]
    check(events and events[0]["data"] == 4, f"unexpected Linux outcome: {events}")
    events[0]["data"] = WRONG_DATA
    corpus = os.path.join(tmp, "corpus")
    os.mkdir(corpus)
    with open(os.path.join(corpus, NAME + ".json"), "w") as f:
        json.dump(trace, f)
    return corpus


def junit(path):
    root = ET.parse(path).getroot()
    return (root.findall(".//testcase"), root.findall(".//failure"),
            root.findall(".//skipped"))


def wrong_recording_fails(epollfuzz, corpus, tmp):
    xml = os.path.join(tmp, "junit.xml")
    args = ["conform", "--reference", "recorded", "--target", "linux", "--corpus", corpus]
    proc = run(epollfuzz, *args, "--junit", xml)
    check(proc.returncode == 1, f"wrong recording: exit {proc.returncode}, want 1", proc)
    line = f"FAIL {NAME}: step 3 epoll_wait.events: "
    check(line in proc.stdout, f"no line '{line}...'", proc)
    check(f"data={WRONG_DATA}" in proc.stdout or f":{WRONG_DATA}" in proc.stdout,
          "the recorded result is not shown", proc)
    cases, failures, _ = junit(xml)
    check(len(cases) == 1 and len(failures) == 1,
          f"JUnit: {len(cases)} testcases, {len(failures)} failures; want 1 and 1")
    check(failures[0].get("type") == "epoll_wait.events",
          f"JUnit failure type {failures[0].get('type')}")
    proc = run(epollfuzz, *args, "--json")
    report = json.loads(proc.stdout)
    check_counts(report, 1)
    t = report["traces"][0]
    check(t["result"] == "fail" and t["verdict"]["signature"] == "epoll_wait.events",
          f"JSON: {t}")
    print(f"wrong recording: FAIL, one <failure> ({failures[0].get('message')})")
    return args


def known_makes_it_pass(epollfuzz, args, tmp):
    known = os.path.join(tmp, "known")
    with open(known, "w") as f:
        f.write("# the recording is wrong on purpose\nlinux epoll_wait.events\n")
    xml = os.path.join(tmp, "junit-known.xml")
    proc = run(epollfuzz, *args, "--known", known, "--junit", xml)
    check(proc.returncode == 0, f"with --known: exit {proc.returncode}, want 0", proc)
    check(f"KNOWN {NAME}: " in proc.stdout, "no KNOWN line", proc)
    _, failures, skipped = junit(xml)
    check(not failures and len(skipped) == 1,
          f"JUnit with --known: {len(failures)} failures, {len(skipped)} skipped")
    with open(known, "w") as f:
        f.write("linux epoll_ctl.*\n")
    proc = run(epollfuzz, *args, "--known", known)
    check(proc.returncode == 1, f"unrelated --known entry: exit {proc.returncode}", proc)
    print("--known: KNOWN, exit 0; an unrelated entry leaves it failing")


def failing_target_is_error(epollfuzz, corpus, plugin):
    proc = run(epollfuzz, "conform", "--target", "plugin:" + plugin, "--corpus", corpus,
               "--json")
    check(proc.returncode == 1, f"failing plugin: exit {proc.returncode}, want 1", proc)
    t = json.loads(proc.stdout)["traces"][0]
    check(t["result"] == "error" and t["text"], f"failing plugin: {t}")
    print(f"failing target: error ({t['text'][:60]}...)")


def bad_input(epollfuzz, corpus, tmp):
    cases = [
        ["conform"],                                       # no --target
        ["conform", "--target", "model", "--corpus", os.path.join(tmp, "none")],
        ["conform", "--target", "model", "--known", os.path.join(tmp, "none")],
        ["conform", "--target", "linux", "--reference", "recorded"],  # no outcomes
        ["conform", "--target", "model", "stray"],
    ]
    for args in cases:
        proc = run(epollfuzz, *args)
        check(proc.returncode == 2 and not proc.stdout and proc.stderr,
              f"{' '.join(args)}: exit {proc.returncode}, want 2 with a message", proc)
    print(f"bad input: {len(cases)} cases exit 2")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    epollfuzz, corpus = sys.argv[1], sys.argv[2]
    plugin = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
    model_conforms(epollfuzz, corpus)
    with tempfile.TemporaryDirectory() as tmp:
        mine = make_corpus(epollfuzz, tmp)
        args = wrong_recording_fails(epollfuzz, mine, tmp)
        known_makes_it_pass(epollfuzz, args, tmp)
        if plugin:
            failing_target_is_error(epollfuzz, mine, plugin)
        bad_input(epollfuzz, corpus, tmp)


if __name__ == "__main__":
    main()
