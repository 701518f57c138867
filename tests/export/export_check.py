#!/usr/bin/env python3
"""export_check.py MODE EPOLLFUZZ GCC SOURCE_ROOT

Every corpus trace (corpus/*.json and corpus/racy/*.json) is recorded on
Linux (run --target linux --json), exported as C, and built with
gcc -Wall -Wextra -Werror -pthread, one gcc per core.  Then, by MODE:

  native    each program runs natively: 10 times for mt-* and racy traces,
            once for the rest, in a session of its own, and must pass every
            time and leave no process behind (the child processes of the
            traces that fork are killed and reaped before it exits).  And
            the failure paths: a tampered recording (a single-thread, a
            multi-thread and a multi-process one) makes the program exit 1
            naming the step; a run that none of a racy trace's allowed
            outcomes has names the step and the other outcomes; a trace
            without an outcome is refused with exit 2; export --json gives
            a trace the codec reads back.
  qemu      each program runs once under qemu-x86_64: none may give up
            (exit 2, "cannot settle"); where qemu departs from Linux (exit
            1), the trace and step are listed, and that is fine.
  valgrind  a sample of 20 programs (the mt-* ones whose epoll_wait may
            report more events than there are interests first, then two
            that fork) runs under
            valgrind -q --error-exitcode=99: none may report an error.

Exit 77 (skipped) when a tool the mode needs is missing.
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MODE, EPOLLFUZZ, GCC, ROOT = sys.argv[1:5]

# the /proc helpers, one copy for the tools and the tests
sys.path.insert(0, os.path.join(ROOT, 'tools'))
from proctree import session_members  # noqa: E402
CORPUS = os.path.join(ROOT, 'corpus')
QEMU = '/usr/bin/qemu-x86_64'
JOBS = os.cpu_count() or 2
NATIVE_REPEAT = 10
VALGRIND_SAMPLE = 20
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL ' + msg, flush=True)


def skip(why):
    print('skipped: ' + why)
    sys.exit(77)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        return list(pool.map(fn, items))


# ------------------------------------------------------------ the corpus

def corpus_names():
    """Trace names, as NAME.json or racy/NAME.json."""
    names = sorted(n for n in os.listdir(CORPUS) if n.endswith('.json'))
    racy = os.path.join(CORPUS, 'racy')
    if os.path.isdir(racy):
        names += sorted('racy/' + n for n in os.listdir(racy) if n.endswith('.json'))
    return names


def forks(name):
    """Whether the trace starts processes (fork)."""
    with open(os.path.join(CORPUS, name)) as f:
        ops = json.load(f)['ops']
    return any(op.get('op') == 'fork' for op in ops)


def repeats(name):
    base = os.path.basename(name)
    return NATIVE_REPEAT if name.startswith('racy/') or base.startswith('mt-') else 1


def record_all(names, tmp):
    """One `run` over the traces: its --json output is one trace per file,
    back to back.  Returns {name: path of the recorded trace}."""
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
        path = os.path.join(tmp, name.replace('/', '-'))
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


def build(c_path):
    """The executable's path, or None after reporting why not."""
    exe = c_path[:-2]
    r = run([GCC, '-Wall', '-Wextra', '-Werror', '-pthread', '-o', exe, c_path])
    if r.returncode != 0:
        fail('%s: gcc: %s' % (c_path, r.stderr.strip()[:2000]))
        return None
    return exe


def export_and_build(recorded, names):
    """{name: executable} for every trace that exported and built."""
    def one(name):
        c_path, err = export_c(recorded[name])
        if err:
            fail('%s: %s' % (name, err))
            return name, None
        return name, build(c_path)

    return {n: exe for n, exe in parallel(one, names) if exe}


def run_program(cmd, timeout=120):
    """(exit status, stdout, stderr); a program that hangs counts as 2."""
    try:
        r = run(cmd, timeout=timeout)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        return 2, '', 'timed out after %d s' % timeout


def run_alone(exe, timeout=120):
    """run_program in a session of its own; also what of the session is
    left once the program has exited (its child processes must have been
    killed and reaped by then)."""
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return 2, out, err + 'timed out after %d s' % timeout, []
    return p.returncode, out, err, session_members(p.pid)


def prepare(tmp, names=None):
    names = names or corpus_names()
    recorded = record_all(names, tmp)
    return recorded, export_and_build(recorded, names)


# ----------------------------------------------------------------- native

def check_native_runs(programs):
    def one(name):
        n = repeats(name)
        bad = []
        for _ in range(n):
            status, out, err, left = run_alone(programs[name])
            if status != 0:
                bad.append('exit %d: %s%s' % (status, out, err))
            elif left:
                bad.append('processes outlived the program: %s' % ', '.join(left))
        return name, n, bad

    runs = 0
    for name, n, bad in parallel(one, sorted(programs)):
        runs += n
        if bad:
            fail('%s: %d of %d native runs failed; the first:\n%s'
                 % (name, len(bad), n, bad[0]))
    multi = sum(1 for n in programs if repeats(n) > 1)
    print('%d corpus traces exported and built (%d with processes); %d native '
          'runs (%d traces x %d, %d x 1), %d failed'
          % (len(programs), sum(1 for n in programs if forks(n)), runs, multi,
             NATIVE_REPEAT, len(programs) - multi, len(failures)), flush=True)


def tampered(recorded, tmp, name, edit):
    with open(recorded[name]) as f:
        trace = json.load(f)
    step = edit(trace['outcome'])
    path = os.path.join(tmp, 'tampered-' + name.replace('/', '-'))
    with open(path, 'w') as f:
        json.dump(trace, f)
    return path, step


def expect_failure(what, c_path, step, also=()):
    """The program at c_path must exit 1, naming the step first."""
    exe = build(c_path)
    if not exe:
        return
    status, out, err = run_program([exe])
    first = out.splitlines()[0] if out else ''
    if status != 1 or not first.startswith('step %d (' % step) or 'want' not in first \
            or any(a not in out for a in also):
        fail('%s (step %d): want exit 1 naming the step%s, got %s:\n%s%s'
             % (what, step, ''.join(', "%s"' % a for a in also), status, out, err))
    else:
        print('%s: %s' % (what, first))


def expect_difference(recorded, tmp, name, edit):
    path, step = tampered(recorded, tmp, name, edit)
    c_path, err = export_c(path)
    if err:
        fail('tampered %s: %s' % (name, err))
        return
    expect_failure('tampered ' + name, c_path, step)


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


def drop_exit_completion(outcome):
    """An exit step that woke blocked threads in process 0 (by releasing
    the child's files): claim it woke nobody."""
    for rec in outcome['steps']:
        if rec.get('completed') and rec['t'] != 0:
            del rec['completed']
            return rec['step']
    raise SystemExit('no exit step with a completion to tamper with')


def check_tampering(recorded, tmp):
    expect_difference(recorded, tmp, 'epoll_ctl-ebadf-fd.json', bump_first_ret)
    mt = [n for n in sorted(recorded) if n.startswith('mt-')]
    expect_difference(recorded, tmp, mt[0], drop_a_completion)
    # processes: what a child's exit wakes is checked at the exit step
    expect_difference(recorded, tmp,
                      'mt-fork-child-exit-wakes-blocked-reader-and-waiter.json',
                      drop_exit_completion)


def check_no_allowed_outcome(recorded):
    """A racy trace's program, with the step where its allowed outcomes
    part altered in all of them, must fail there against the recording and
    name the other outcome."""
    racy = [n for n in sorted(recorded) if n.startswith('racy/')]
    if not racy:
        fail('no racy trace to check the allowed outcomes with')
        return
    c_path, err = export_c(recorded[racy[0]])
    if err:
        fail('%s: %s' % (racy[0], err))
        return
    with open(c_path) as f:
        source = f.read()
    row = re.search(r'^\t\{ (\d+), O\(\d+\)[^"]*(".*?(?<!\\)")', source, re.M)
    if not row:
        fail('%s: no others[] row in its program' % racy[0])
        return
    step, other = int(row.group(1)), row.group(2)
    mine = re.search(r'^\t/\* %d \*/ \{.*\n\t\t"[^\n]*?", (".*?(?<!\\)")' % step,
                     source, re.M)
    if not mine:
        fail('%s: no steps[] row %d in its program' % (racy[0], step))
        return
    # Only these two strings: a result as short as "0" may stand in other rows.
    spans = sorted({row.span(2), mine.span(1)}, reverse=True)
    for start, end in spans:
        source = source[:start] + source[start:end - 1] + ' (altered)"' + source[end:]
    altered = c_path[:-2] + '-altered.c'
    with open(altered, 'w') as f:
        f.write(source)
    expect_failure('altered outcomes of ' + racy[0], altered, step,
                   also=('other outcome the kernel allows', 'the kernel also allows'))


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


def native(tmp):
    recorded, programs = prepare(tmp)
    check_native_runs(programs)
    check_tampering(recorded, tmp)
    check_no_allowed_outcome(recorded)
    check_no_outcome()
    check_json(recorded, tmp)


# ------------------------------------------------------------------- qemu

def settle_mode(err):
    m = re.search(r'^settle: (.*)$', err, re.M)
    return m.group(1) if m else '(none printed)'


def qemu(tmp):
    if not os.access(QEMU, os.X_OK):
        skip('no %s' % QEMU)
    _, programs = prepare(tmp)

    def one(name):
        return (name,) + run_program([QEMU, programs[name]])

    differ, modes = [], {}
    for name, status, out, err in parallel(one, sorted(programs)):
        modes[settle_mode(err)] = modes.get(settle_mode(err), 0) + 1
        if status == 1:
            differ.append('  %s: %s' % (name, out.splitlines()[0] if out else '?'))
        elif status != 0 or 'cannot settle' in out + err:
            fail('%s under qemu-x86_64: exit %d (the program gave up):\n%s%s'
                 % (name, status, out, err))
    print('%d reproducers under qemu-x86_64: %d as on Linux, %d where qemu departs '
          'from Linux, %d gave up; settle modes: %s'
          % (len(programs), len(programs) - len(differ) - len(failures), len(differ),
             len(failures), ', '.join('%s x%d' % kv for kv in sorted(modes.items()))))
    for line in differ:
        print(line)


# --------------------------------------------------------------- valgrind

# The epoll waits: valgrind checks the events buffer of each the same way.
WAITS = ('epoll_wait', 'epoll_pwait', 'epoll_pwait2')

def wide_waits(path):
    """Whether some epoll_wait of the trace at path may report more events
    than the trace has interests (its buffer is sized by maxevents)."""
    with open(path) as f:
        ops = json.load(f)['ops']
    adds = sum(1 for op in ops if op['op'] == 'epoll_ctl'
               and op.get('ctl', 'EPOLL_CTL_ADD') == 'EPOLL_CTL_ADD')
    return any(op['op'] in WAITS and op.get('maxevents', 16) > adds
               for op in ops)


def refused_maxevents(path):
    """valgrind checks events[maxevents] before the call even where the
    kernel refuses maxevents (EINVAL, nothing written), and reports it: a
    count nothing can be allocated for (-1) keeps a trace out."""
    with open(path) as f:
        ops = json.load(f)['ops']
    return any(op['op'] in WAITS and op.get('maxevents', 16) <= 0 for op in ops)


def lacks_in_valgrind(path):
    """valgrind 3.19 has no epoll_pwait2 (ENOSYS: docs/findings/valgrind.md):
    such a trace departs at its first one, a divergence, not a memory error."""
    with open(path) as f:
        return any(op['op'] == 'epoll_pwait2' for op in json.load(f)['ops'])


def valgrind_sample():
    names = [n for n in corpus_names()
             if not refused_maxevents(os.path.join(CORPUS, n))
             and not lacks_in_valgrind(os.path.join(CORPUS, n))]
    wide = [n for n in names if os.path.basename(n).startswith('mt-')
            and wide_waits(os.path.join(CORPUS, n))]
    take = wide[::max(1, len(wide) // 12)][:12]
    # two that fork: their child processes run under valgrind too
    take += [n for n in names if forks(n) and n not in take][:2]
    rest = [n for n in names if n not in take]
    take += rest[::max(1, len(rest) // (VALGRIND_SAMPLE - len(take)))]
    return take[:VALGRIND_SAMPLE]


def valgrind(tmp):
    tool = shutil.which('valgrind')
    if not tool:
        skip('no valgrind')
    sample = valgrind_sample()
    _, programs = prepare(tmp, sample)

    def one(name):
        return (name,) + run_program([tool, '-q', '--error-exitcode=99', programs[name]],
                                     timeout=300)

    for name, status, out, err in parallel(one, sorted(programs)):
        if status == 99:
            fail('%s under valgrind: errors:\n%s' % (name, err))
        elif status != 0:
            fail('%s under valgrind: exit %d:\n%s%s' % (name, status, out, err))
    print('%d reproducers under valgrind (%d with an epoll_wait that may report more '
          'events than there are interests): %d clean'
          % (len(programs), sum(1 for n in programs
                                if wide_waits(os.path.join(CORPUS, n))),
             len(programs) - len(failures)))


def main():
    modes = {'native': native, 'qemu': qemu, 'valgrind': valgrind}
    if MODE not in modes:
        sys.exit('unknown mode %r' % MODE)
    if not shutil.which(GCC):
        skip('no gcc')
    with tempfile.TemporaryDirectory(prefix='export-check-') as tmp:
        modes[MODE](tmp)
    if failures:
        sys.exit('%d failures' % len(failures))


main()
