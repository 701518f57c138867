#!/usr/bin/env python3
"""Validates traces against trace/trace.schema.json.

usage: schema_check.py SCHEMA TEST_JSON CORPUS_DIR [EPOLLFUZZ]

Checks the schema itself, a trace emitted by test_json whose outcome holds
every kind of record (and that the schema rejects it once broken in each way
it must notice), every corpus/*.json, and, when the targets run, what
`epollfuzz run --json` prints for each corpus file.
"""
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

import jsonschema


def errors(validator, doc):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]


def emitted_sample(test_json):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.json")
        subprocess.run([test_json, "--emit-sample", path], check=True)
        with open(path) as f:
            return json.load(f)


def set_path(doc, path, value):
    *parents, last = path
    for key in parents:
        doc = doc[key]
    doc[last] = value


# Each must make the sample invalid: (what, path, value).
BREAKAGES = [
    ("unknown op", ["ops", 0, "op"], "epol_wait"),
    ("unknown op key", ["ops", 1, "fds"], [3, 4]),
    ("unknown flag name", ["ops", 2, "events"], "EPOLLIN|EPOLLFOO"),
    ("flags out of range", ["ops", 2, "events"], 4294967296),
    ("thread out of range", ["ops", 3, "t"], 8),
    ("bad u64 string", ["ops", 2, "data"], "0xg"),
    ("u64 above 2^64-1", ["ops", 2, "data"], 2**64),
    ("u64 below -2^63", ["ops", 2, "data"], -2**63 - 1),
    ("event data above 2^64-1", ["outcome", "steps", 6, "completed", 0, "events", 1, "data"],
     2**64),
    ("unknown top-level key", ["thread"], 2),
    ("version", ["epollfuzz"], 2),
    ("record with ret and blocked", ["outcome", "steps", 0, "blocked"], True),
    ("errno without ret -1", ["outcome", "steps", 0, "errno"], "EBADF"),
    ("skipped not 'blocked'", ["outcome", "steps", 4, "skipped"], True),
    ("unknown outcome key", ["outcome", "extra"], 1),
    ("bad event name", ["outcome", "steps", 6, "completed", 0, "events", 0, "events"],
     "EPOLLFOO"),
    ("verdict class", ["meta"], {"verdict": {"class": "maybe"}}),
]


def check_sample(validator, sample):
    failures = [f"sample: {e}" for e in errors(validator, sample)]
    states = {k for r in sample["outcome"]["steps"] for k in r
              if k in ("ret", "blocked", "skipped", "unsupported", "completed")}
    if len(states) != 5:
        failures.append(f"sample lacks some record kind: has {sorted(states)}")
    for what, path, value in BREAKAGES:
        broken = copy.deepcopy(sample)
        set_path(broken, path, value)
        if not errors(validator, broken):
            failures.append(f"schema accepts a sample with {what}")
    # u64 values above INT64_MAX are written as plain integers, and the
    # whole range 0..2^64-1 (and the string form) is valid.
    written = [sample["outcome"]["steps"][6]["completed"][0]["events"][1]["data"],
               sample["outcome"]["steps"][9]["value"]]
    if written != [0xfedcba9876543210, 0x8000000000000001]:
        failures.append(f"sample: u64 values written as {written!r}, not plain integers")
    for value in (2**64 - 1, 2**63, 2**63 - 1, 0, -1, -2**63, "0xffffffffffffffff"):
        wide = copy.deepcopy(sample)
        wide["ops"][2]["data"] = value
        wide["outcome"]["steps"][9]["value"] = value
        failures += [f"u64 {value!r}: {e}" for e in errors(validator, wide)]
    annotated = copy.deepcopy(sample)
    annotated["x-note"] = {"any": "thing"}
    annotated["ops"][0]["x-why"] = [1]
    failures += [f"x- keys: {e}" for e in errors(validator, annotated)]
    return failures


def concatenated(text):
    """The JSON documents of `run --json` over several traces, one after another."""
    decoder, docs, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        doc, end = decoder.raw_decode(text, at)
        docs.append(doc)
        at = end
        while at < len(text) and text[at].isspace():
            at += 1
    return docs


def check_corpus(validator, corpus, epollfuzz):
    failures = []
    files = sorted(glob.glob(os.path.join(corpus, "*.json")))
    for path in files:
        with open(path) as f:
            failures += [f"{path}: {e}" for e in errors(validator, json.load(f))]
    if not epollfuzz or not files:
        return failures, len(files)
    for target in ("model", "both"):
        run = subprocess.run([epollfuzz, "run", "--json", "--target", target, *files],
                             capture_output=True, text=True)
        if run.returncode == 2:
            print(f"note: run --target {target} not checked: {run.stderr.strip()}")
            continue
        docs = concatenated(run.stdout)
        if len(docs) != len(files):
            failures.append(f"run --json --target {target}: {len(docs)} traces"
                            f" for {len(files)} files")
        for path, doc in zip(files, docs):
            failures += [f"run --json --target {target} {path}: {e}"
                         for e in errors(validator, doc)]
    return failures, len(files)


def main():
    schema_path, test_json, corpus = sys.argv[1:4]
    epollfuzz = sys.argv[4] if len(sys.argv) > 4 else None
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = check_sample(validator, emitted_sample(test_json))
    corpus_failures, n = check_corpus(validator, corpus, epollfuzz)
    failures += corpus_failures
    for f in failures:
        print("FAIL:", f)
    print(f"schema: sample, {len(BREAKAGES)} breakages, {n} corpus files;"
          f" {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
