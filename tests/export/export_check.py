#!/usr/bin/env python3
"""export_check.py EPOLLFUZZ GCC CORPUS_DIR

For every corpus trace: record Linux's outcome (run --target linux --json),
export it as C, build it with gcc -Wall -Werror -pthread, run it: it must
exit 0.  Then the failure paths: a tampered recording (a single-thread and
a multi-thread one) must make the program exit 1 naming the step; a trace
without an outcome must be refused with exit 2; export --json must give a
trace the codec reads back, with meta.tool.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

EPOLLFUZZ, GCC, CORPUS = sys.argv[1:4]
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL ' + msg, flush=True)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def record_all(names, tmp):
    """One `run` over the whole corpus: its --json output is one trace per
    file, back to back."""
    paths = [os.path.join(CORPUS, n) for n in names]
    r = run([EPOLLFUZZ, 'run', '--target', 'linux', '--json'] + paths)
    if r.returncode != 0:
        sys.exit('run --target linux failed (%d): %s' % (r.returncode, r.stderr))
    dec, text, pos, traces = json.JSONDecoder(), r.stdout, 0, []
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text):
            obj, pos = dec.raw_decode(text, pos)
            traces.append(obj)
    if len(traces) != len(names):
        sys.exit('expected %d traces from run, got %d' % (len(names), len(traces)))
    recorded = {}
    for name, trace in zip(names, traces):
        path = os.path.join(tmp, name)
        with open(path, 'w') as f:
            json.dump(trace, f)
        recorded[name] = path
    return recorded


def export_c(trace_path):
    out = trace_path[:-len('.json')] + '.c'
    r = run([EPOLLFUZZ, 'export', '--c', trace_path, '-o', out])
    if r.returncode != 0:
        return None, 'export exit %d: %s' % (r.returncode, r.stderr.strip())
    return out, None


def build_and_run(c_path):
    """(exit status of the program, its output) or an error string."""
    exe = c_path[:-2]
    r = run([GCC, '-Wall', '-Werror', '-pthread', '-o', exe, c_path])
    if r.returncode != 0:
        return None, 'gcc: ' + r.stderr.strip()[:2000]
    r = run([exe], timeout=60)
    return r.returncode, r.stdout + r.stderr


def check_corpus(recorded):
    def one(name):
        c_path, err = export_c(recorded[name])
        if err:
            return name, None, err
        status, out = build_and_run(c_path)
        return name, status, out

    with concurrent.futures.ThreadPoolExecutor((os.cpu_count() or 2) + 1) as pool:
        for name, status, out in pool.map(one, sorted(recorded)):
            if status != 0:
                fail('%s: exported program: %s\n%s' % (name, status, out))
    print('%d corpus traces exported, built and reproduced' % len(recorded))


def tampered(recorded, tmp, name, edit):
    with open(recorded[name]) as f:
        trace = json.load(f)
    step = edit(trace['outcome'])
    path = os.path.join(tmp, 'tampered-' + name)
    with open(path, 'w') as f:
        json.dump(trace, f)
    return path, step


def expect_difference(recorded, tmp, name, edit):
    path, step = tampered(recorded, tmp, name, edit)
    c_path, err = export_c(path)
    if err:
        fail('tampered %s: %s' % (name, err))
        return
    status, out = build_and_run(c_path)
    if status != 1 or ('step %d ' % step) not in out or 'expected' not in out:
        fail('tampered %s (step %d): want exit 1 naming the step, got %s:\n%s'
             % (name, step, status, out))
    else:
        print('tampered %s: %s' % (name, out.splitlines()[0]))


def bump_first_ret(outcome):
    """A step that returned: claim it returned one more."""
    for rec in outcome['steps']:
        if 'ret' in rec and rec['ret'] >= 0:
            rec['ret'] += 1
            return rec['step']
    raise SystemExit('no step with a result to tamper with')


def drop_a_completion(outcome):
    """A step that woke a blocked thread: claim it woke nobody."""
    for rec in outcome['steps']:
        if rec.get('completed'):
            del rec['completed']
            return rec['step']
    raise SystemExit('no step with a completion to tamper with')


def check_tampering(recorded, tmp):
    expect_difference(recorded, tmp, 'epoll_ctl-ebadf-fd.json', bump_first_ret)
    mt = [n for n in sorted(recorded) if n.startswith('mt-')]
    expect_difference(recorded, tmp, mt[0], drop_a_completion)


def check_no_outcome():
    bare = os.path.join(CORPUS, 'close-ebadf.json')
    r = run([EPOLLFUZZ, 'export', '--c', bare])
    if r.returncode != 2 or 'run it first' not in r.stderr or r.stdout:
        fail('export of a trace without outcome: exit %d, stderr %r'
             % (r.returncode, r.stderr))


def check_json(recorded, tmp):
    name = sorted(n for n in recorded if n.startswith('mt-'))[0]
    out = os.path.join(tmp, 'normalised.json')
    r = run([EPOLLFUZZ, 'export', '--json', recorded[name], '-o', out])
    if r.returncode != 0:
        fail('export --json: exit %d: %s' % (r.returncode, r.stderr))
        return
    with open(out) as f:
        trace = json.load(f)
    if 'outcome' not in trace or 'tool' not in trace.get('meta', {}):
        fail('export --json: no outcome or meta.tool in %s' % out)
    r = run([EPOLLFUZZ, 'run', '--target', 'model', out])
    if r.returncode != 0:
        fail('export --json output does not run: %s' % r.stdout)


def main():
    names = sorted(n for n in os.listdir(CORPUS) if n.endswith('.json'))
    with tempfile.TemporaryDirectory(prefix='export-check-') as tmp:
        recorded = record_all(names, tmp)
        check_corpus(recorded)
        check_tampering(recorded, tmp)
        check_no_outcome()
        check_json(recorded, tmp)
    if failures:
        sys.exit('%d failures' % len(failures))


main()
