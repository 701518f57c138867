#!/usr/bin/env python3
"""export_rust_check.py MODE EPOLLFUZZ SOURCE_ROOT RUSTC RUSTFMT

`epollfuzz export --rust`: Rust tests in the style of Miri's epoll tests,
built offline against the sources of Debian's librust-libc-dev with
Debian's rustc (-D warnings -D unused, edition 2021) and run natively,
as Miri's suite runs a test with //@run-native.  By MODE:

  corpus    every corpus trace (corpus/, corpus/racy/) is recorded on Linux
            and exported; a trace outside Miri's subset must be refused, exit
            2 and one line naming the step, the op and why; every other one
            must be rustfmt-clean (rustfmt's defaults; with --miri-rustfmt,
            use_small_heuristics = "Max" as Miri's rustfmt.toml has it),
            build, and pass natively 5 times out of 5.  Prints the counts:
            exported, refused by reason, passed.
  altered   a deliberately altered recording (a single-thread trace, a
            multi-thread one, the racing one) makes the test fail, naming
            the step; the racing trace of this folder (Linux gives either of
            two outcomes) passes 5 times out of 5, whichever it gets.
  refused   refusals name step, op and reason; --allow-unsupported exports a
            refused trace anyway, with a comment at the op, and it builds;
            a trace with a fork is refused with and without it, in exactly
            one message that does not offer it;
            every helper section of export/runtime/miri.rs builds.
  profile   `minimize --profile miri` keeps a finding inside Miri's subset
            (its result exports), and says so for one outside it; in a build
            with a fuzzing engine, `fuzz --profile miri` on a model with
            Miri's wake order (fifo-waiters) finds what export --rust takes,
            and each test passes 5 times out of 5.

Exit 77 (skipped) without python3's tools, rustc or the libc crate sources.
"""
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MODE, EPOLLFUZZ, ROOT, RUSTC, RUSTFMT = sys.argv[1:6]
CORPUS = os.path.join(ROOT, 'corpus')
HERE = os.path.join(ROOT, 'tests', 'export_rust')
LIBC_SOURCES = '/usr/share/cargo/registry/libc-0.*'
RUNS = 5
JOBS = os.cpu_count() or 2
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


# ------------------------------------------------------------- the crate

def rustc_minor():
    m = re.match(r'rustc 1\.(\d+)', run([RUSTC, '--version']).stdout)
    return int(m.group(1)) if m else 0


def libc_cfgs(minor):
    """The cfgs the crate's build.rs sets for this rustc (cargo is not
    used: the build is offline, against the sources Debian installs)."""
    cfgs = ['freebsd11']
    for since, cfg in [(15, 'libc_priv_mod_use'), (19, 'libc_union'),
                       (24, 'libc_const_size_of'), (25, 'libc_align'),
                       (26, 'libc_int128'), (30, 'libc_core_cvoid'),
                       (33, 'libc_packedN'), (33, 'libc_cfg_target_vendor'),
                       (40, 'libc_non_exhaustive'), (51, 'libc_ptr_addr_of'),
                       (37, 'libc_underscore_const_names'),
                       (62, 'libc_const_extern_fn')]:
        if minor >= since:
            cfgs.append(cfg)
    return cfgs


def build_libc(tmp):
    """Builds liblibc.rlib from the newest libc crate sources installed."""
    sources = sorted(glob.glob(LIBC_SOURCES))
    if not sources:
        skip('no libc crate sources (%s: apt-get install librust-libc-dev)' % LIBC_SOURCES)
    args = [RUSTC, '--edition', '2015', '--crate-type', 'lib', '--crate-name', 'libc',
            '--cfg', 'feature="std"', '--cap-lints', 'allow', '-O',
            os.path.join(sources[-1], 'src', 'lib.rs'), '-o', os.path.join(tmp, 'liblibc.rlib')]
    for cfg in libc_cfgs(rustc_minor()):
        args += ['--cfg', cfg]
    r = run(args)
    if r.returncode != 0:
        sys.exit('building the libc crate (%s) failed: %s' % (sources[-1], r.stderr[-2000:]))
    return os.path.join(tmp, 'liblibc.rlib')


def compile_test(rs, libc):
    """The executable's path, or None after reporting why not."""
    exe = rs[:-3]
    r = run([RUSTC, '--edition', '2021', '--crate-name', 'exported', '-D', 'warnings',
             '-D', 'unused', '--extern', 'libc=' + libc, rs, '-o', exe])
    if r.returncode != 0:
        fail('%s: rustc: %s' % (os.path.basename(rs), r.stderr.strip()[:3000]))
        return None
    return exe


def run_test(exe, timeout=60):
    """(exit status, output); a test that hangs counts as 124."""
    try:
        r = run([exe], timeout=timeout)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        return 124, 'timed out after %d s' % timeout


def rustfmt_clean(rs, *config):
    """None when rustfmt is missing, else whether it would change nothing."""
    if not shutil.which(RUSTFMT):
        return None
    r = run([RUSTFMT, '--edition', '2021', '--check'] + list(config) + [rs])
    return r.returncode == 0


# ------------------------------------------------------------ recordings

def corpus_names():
    names = sorted(n for n in os.listdir(CORPUS) if n.endswith('.json'))
    racy = os.path.join(CORPUS, 'racy')
    if os.path.isdir(racy):
        names += sorted('racy/' + n for n in os.listdir(racy) if n.endswith('.json'))
    return names


def record(paths, tmp):
    """Each trace run on Linux (run --target linux --json): {path: recorded}."""
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
    if len(traces) != len(paths):
        sys.exit('expected %d traces from run, got %d' % (len(paths), len(traces)))
    out = {}
    for path, trace in zip(paths, traces):
        rec = os.path.join(tmp, os.path.basename(os.path.dirname(path)) + '-' +
                           os.path.basename(path))
        with open(rec, 'w') as f:
            json.dump(trace, f)
        out[path] = rec
    return out


def export(trace, rs, *flags):
    """(exit status, stderr) of export --rust."""
    r = run([EPOLLFUZZ, 'export', '--rust', trace, '-o', rs] + list(flags))
    return r.returncode, r.stderr


def reason_of(message):
    """A refusal's reason without its numbers: 'epoll_ctl fd N: ...'."""
    why = re.sub(r'^epollfuzz export: [^:]*: step \d+: ', '', message.strip())
    why = re.sub(r' \((and \d+ more; )?--allow-unsupported.*\)$', '', why)
    return re.sub(r'\b(fd|epfd|newfd) -?\d+', r'\1 N', why)


# ---------------------------------------------------------------- corpus

def export_corpus(recorded, tmp, libc):
    """{name: executable} of every exported trace; refusals by reason."""
    refused = {}

    def one(name):
        rs = os.path.join(tmp, os.path.basename(recorded[name])[:-5] + '.rs')
        status, err = export(recorded[name], rs)
        if status != 0:
            lines = err.strip().splitlines()
            if status != 2 or len(lines) != 1 or not re.search(r': step \d+: ', lines[0]):
                fail('%s: a refusal must be exit 2 and one line naming the step, '
                     'got %d: %r' % (name, status, err))
            return name, None, reason_of(err)
        for config, flags in [((), ()), (('--config', 'use_small_heuristics=Max'),
                                          ('--miri-rustfmt',))]:
            probe = rs if not flags else rs[:-3] + '-miri.rs'
            if flags and export(recorded[name], probe, *flags)[0] != 0:
                fail('%s: export --miri-rustfmt failed' % name)
            if rustfmt_clean(probe, *config) is False:
                fail('%s: not rustfmt-clean%s' % (name, ' (Max heuristics)' if flags else ''))
        return name, compile_test(rs, libc), None

    programs = {}
    for name, exe, why in parallel(one, sorted(recorded)):
        if why:
            refused[why] = refused.get(why, 0) + 1
        elif exe:
            programs[name] = exe
    return programs, refused


def run_each(programs):
    """Each test RUNS times; the names that passed every time."""
    def one(name):
        for _ in range(RUNS):
            status, out = run_test(programs[name])
            if status != 0:
                return name, 'exit %d: %s' % (status, out[-3000:])
        return name, None

    passed = []
    for name, bad in parallel(one, sorted(programs)):
        if bad:
            fail('%s: a native run failed (of %d): %s' % (name, RUNS, bad))
        else:
            passed.append(name)
    return passed


def corpus(tmp, libc):
    names = corpus_names()
    recorded = record([os.path.join(CORPUS, n) for n in names], tmp)
    recorded = {n: recorded[os.path.join(CORPUS, n)] for n in names}
    programs, refused = export_corpus(recorded, tmp, libc)
    passed = run_each(programs)
    print('%d corpus traces: %d exported and built, %d refused, %d passed %d native '
          'runs out of %d' % (len(names), len(programs), sum(refused.values()),
                              len(passed), RUNS, RUNS))
    print('refused, by reason:')
    for why, n in sorted(refused.items(), key=lambda kv: (-kv[1], kv[0])):
        print('  %3d  %s' % (n, why))
    if not programs:
        fail('no corpus trace was exported')


# ----------------------------------------------------------- altered

def altered(recorded_path, tmp, edit, libc):
    """The test of a recording changed by edit (which returns the step it
    changed) must fail, naming that step first."""
    with open(recorded_path) as f:
        trace = json.load(f)
    step = edit(trace)
    base = os.path.basename(recorded_path)[:-5]
    path = os.path.join(tmp, 'altered-' + base + '.json')
    with open(path, 'w') as f:
        json.dump(trace, f)
    rs = path[:-5] + '.rs'
    status, err = export(path, rs)
    if status != 0:
        fail('altered %s: export: %s' % (base, err))
        return
    exe = compile_test(rs, libc)
    if not exe:
        return
    status, out = run_test(exe)
    if status == 0 or 'panicked' not in out or not re.search(r'\bstep %d\b' % step, out):
        fail('altered %s (step %d): want a failure naming the step, got exit %d:\n%s'
             % (base, step, status, out[-2000:]))
    else:
        print('altered %s: fails at step %d' % (base, step))


def bump_a_count(trace):
    """A write or a read that returned n bytes: claim n + 1."""
    for rec in trace['outcome']['steps']:
        if trace['ops'][rec['step']]['op'] in ('write', 'read') and rec.get('ret', 0) > 0:
            rec['ret'] += 1
            return rec['step']
    raise SystemExit('no count to alter')


def drop_an_event(trace):
    """A blocked wait that returned events: claim it returned one fewer."""
    for rec in trace['outcome']['steps']:
        for done in rec.get('completed', []):
            if done.get('events'):
                done['events'].pop()
                done['ret'] -= 1
                return done['step']
    raise SystemExit('no completed wait to alter')


def racing_runs(recorded_path, tmp, libc):
    rs = os.path.join(tmp, 'racing.rs')
    status, err = export(recorded_path, rs)
    if status != 0:
        fail('racing trace: export: %s' % err)
        return
    with open(rs) as f:
        source = f.read()
    if 'one_of(' not in source or 'finished(&mut' not in source:
        fail('racing trace: the test does not check alternatives:\n' + source)
    exe = compile_test(rs, libc)
    if exe and run_each({'racing-et-two-waiters': exe}):
        print('racing trace: passed %d native runs out of %d' % (RUNS, RUNS))


def altered_mode(tmp, libc):
    single = os.path.join(CORPUS, 'pipe-lt-reports-until-drained.json')
    multi = os.path.join(CORPUS, 'mt-pipe-write-wakes-blocked-wait.json')
    racing = os.path.join(HERE, 'racing-et-two-waiters.json')
    recorded = record([single, multi, racing], tmp)
    altered(recorded[single], tmp, bump_a_count, libc)
    altered(recorded[multi], tmp, drop_an_event, libc)
    altered(recorded[racing], tmp, bump_a_count, libc)
    racing_runs(recorded[racing], tmp, libc)


# ----------------------------------------------------------- refused

def refused_mode(tmp, libc):
    cases = {
        'oneshot-disarm-and-mod-rearm.json': r': step \d+: epoll_ctl events EPOLLONESHOT: ',
        'epoll_create-size-nonpositive-einval.json': r': step 0: epoll_create: ',
        'unix-dgram-create-write-read-close.json': r'socketpair type SOCK_DGRAM',
        'mt-still-blocked-at-end.json': r'blocks forever',
        'epoll-nested-inner-ready-reports-epollin.json': r'nested epoll',
    }
    paths = [os.path.join(CORPUS, n) for n in cases]
    recorded = record(paths, tmp)
    for name, want in cases.items():
        rec = recorded[os.path.join(CORPUS, name)]
        rs = os.path.join(tmp, name[:-5] + '.rs')
        status, err = export(rec, rs)
        if status != 2 or not re.search(want, err) or len(err.strip().splitlines()) != 1:
            fail('%s: want exit 2 and one line matching %r, got %d: %r'
                 % (name, want, status, err))
        status, err = export(rec, rs, '--allow-unsupported')
        if status != 0:
            fail('%s --allow-unsupported: exit %d: %s' % (name, status, err))
            continue
        with open(rs) as f:
            if 'Miri cannot run this' not in f.read():
                fail('%s --allow-unsupported: no comment at the op' % name)
        compile_test(rs, libc)
    print('%d refusals checked, exported with --allow-unsupported and built' % len(cases))
    refused_always(tmp)
    helpers(tmp, libc)


def refused_always(tmp):
    """fork and exit have no Rust form: refused even with
    --allow-unsupported, and the message says so (the first fork is step
    3 of this trace), never that the flag would export it."""
    name = 'mt-fork-child-close-leaves-parent-fds.json'
    rec = record([os.path.join(CORPUS, name)], tmp)[os.path.join(CORPUS, name)]
    rs = os.path.join(tmp, name[:-5] + '.rs')
    want = ('epollfuzz export: %s: step 3: fork: Miri does not support fork, and a '
            'Rust test has no processes: not exported, even with --allow-unsupported'
            % rec)
    for flags in [(), ('--allow-unsupported',)]:
        status, err = export(rec, rs, *flags)
        if status != 2 or err.strip() != want:
            fail('%s%s: want exit 2 and %r, got %d: %r'
                 % (name, ''.join(' ' + f for f in flags), want, status, err))
    print('fork refused with and without --allow-unsupported')


def helpers(tmp, libc):
    """export/runtime/miri.rs with every section, as a test has them."""
    with open(os.path.join(ROOT, 'export', 'runtime', 'miri.rs')) as f:
        sections = f.read()
    rs = os.path.join(tmp, 'helpers.rs')
    with open(rs, 'w') as f:
        f.write('use std::thread;\nuse std::time::Duration;\n\nfn main() {}\n\n' + sections)
    r = run([RUSTC, '--edition', '2021', '--crate-name', 'helpers', '-D', 'warnings',
             '-D', 'unused', '-A', 'dead_code', '--extern', 'libc=' + libc, rs,
             '-o', rs[:-3]])
    if r.returncode != 0:
        fail('miri.rs with every section: %s' % r.stderr[:3000])
    for config in [(), ('--config', 'use_small_heuristics=Max')]:
        if rustfmt_clean(os.path.join(ROOT, 'export', 'runtime', 'miri.rs'), *config) is False:
            fail('export/runtime/miri.rs is not rustfmt-clean %s' % ' '.join(config))


# ----------------------------------------------------------- profile

def finding(trace, inject, tmp):
    """The trace run with an injected model bug: a finding (run --json)."""
    out = os.path.join(tmp, 'finding-' + os.path.basename(trace))
    r = run([EPOLLFUZZ, 'run', '--inject', inject, '--json', trace])
    with open(out, 'w') as f:
        f.write(r.stdout)
    return out


def profile_mode(tmp, libc):
    inside = finding(os.path.join(CORPUS, 'mt-et-two-waiters-lifo-newest-returns.json'),
                     'fifo-waiters', tmp)
    small = os.path.join(tmp, 'small.json')
    r = run([EPOLLFUZZ, 'minimize', '--profile', 'miri', '--inject', 'fifo-waiters', inside,
             '-o', small])
    if r.returncode != 0:
        fail('minimize --profile miri of a finding inside it: %d: %s' % (r.returncode, r.stderr))
        return
    rs = os.path.join(tmp, 'small.rs')
    status, err = export(small, rs)
    if status != 0:
        fail('the minimised finding does not export: %s' % err)
    elif compile_test(rs, libc) and run_each({'minimised finding': rs[:-3]}):
        print('minimize --profile miri: %s; exported, passed %d of %d' % (
            r.stderr.strip().splitlines()[-1], RUNS, RUNS))
    outside = finding(os.path.join(CORPUS, 'oneshot-disarm-and-mod-rearm.json'),
                      'oneshot-stays-armed', tmp)
    r = run([EPOLLFUZZ, 'minimize', '--profile', 'miri', '--inject', 'oneshot-stays-armed',
             outside, '-o', small])
    if r.returncode != 1 or 'profile miri' not in r.stderr:
        fail('minimize --profile miri of a finding outside it: want exit 1 naming the '
             'profile, got %d: %s' % (r.returncode, r.stderr))
    else:
        print('minimize --profile miri, a finding outside: %s' % r.stderr.strip())
    fuzz_findings(tmp, libc)


def fuzz_findings(tmp, libc):
    """fuzz --profile miri: its findings export, build and pass."""
    r = run([EPOLLFUZZ, 'fuzz', '--profile', 'miri', '--inject', 'fifo-waiters', '--runs',
             '3000', '--seed', '1', '--corpus', os.path.join(tmp, 'corpus'),
             '--findings', os.path.join(tmp, 'findings')], timeout=600)
    if r.returncode == 2 and 'NO FUZZING ENGINE' in r.stderr:
        print('fuzz --profile miri: not checked, this build has no fuzzing engine')
        return
    found = sorted(glob.glob(os.path.join(tmp, 'findings', '*.json')))
    if r.returncode != 1 or not found:
        fail('fuzz --profile miri --inject fifo-waiters: want findings, got exit %d: %s'
             % (r.returncode, r.stderr[-2000:]))
        return
    programs = {}
    for path in found:
        rs = path[:-5] + '.rs'
        status, err = export(path, rs)
        if status != 0:
            fail('%s: a finding of fuzz --profile miri does not export: %s' % (path, err))
        else:
            exe = compile_test(rs, libc)
            if exe:
                programs[os.path.basename(path)] = exe
    print('fuzz --profile miri: %d findings, %d exported, %d passed %d runs out of %d'
          % (len(found), len(programs), len(run_each(programs)), RUNS, RUNS))


def main():
    modes = {'corpus': corpus, 'altered': altered_mode, 'refused': refused_mode,
             'profile': profile_mode}
    if MODE not in modes:
        sys.exit('unknown mode %r' % MODE)
    if not shutil.which(RUSTC):
        skip('no rustc (%s)' % RUSTC)
    with tempfile.TemporaryDirectory(prefix='export-rust-') as tmp:
        modes[MODE](tmp, build_libc(tmp))
    if failures:
        sys.exit('%d failures' % len(failures))


main()
