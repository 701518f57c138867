#!/usr/bin/env python3
"""mutants.py [--sample N | --all] [--seed S] [--fuzz-seconds T] [--out FILE] ...
   mutants.py --injected [--fuzz-seconds T] [--out FILE]
   mutants.py --list [--files ...]

Measures the fuzzer's bug-finding power (issue 12) with source mutants of the
model (model/*.c): each mutant is one small change at one site (an operator
swapped, a constant moved by one, an errno swapped for a neighbour, a call,
an assignment or an early return dropped, two arguments swapped, a list or
wait-queue head/tail swapped).  Each one that compiles is checked by

  a. the shipped corpus: `epollfuzz run --quiet corpus/*.json` (model
     against Linux); killed when it exits 1, killed by a crash when it dies
     or hangs (--corpus-timeout);
  b. for the mutants the corpus does not kill, fuzzing from an empty corpus
     (one zero byte): `epollfuzz fuzz --time T --threads 4 --jobs 1`, pinned
     to one CPU; killed when it reports a finding that the unmutated model
     does not share (the finding's trace run with the clean binary agrees
     with Linux), or when the fuzzer crashes or hangs.

Mutants that nothing kills are survivors, unless tools/mutants.equivalent
documents them as equivalent.  Survivors are printed with their diff.  The
last line of the report is the figure issue 12 wants raised:

  mutants: 150 sampled (of 1439, seed 1), 3 did not compile, 79 killed by the
  corpus (13 by a crash or hang), 68 left: 10 killed by 60 s of fuzzing (2 by
  a crash or hang), 21 equivalent, 5 out of scope (code model-vs-Linux runs
  never reach), 32 survivors; fuzz kills 24% of the non-equivalent mutants
  the corpus does not kill (10/42)

--injected instead fuzzes each of the model's injected bugs (`epollfuzz
inject`) from an empty corpus for T seconds and reports which are found.

--plans N also runs N planned programs (fuzz/recipes.c, written as traces by
`test_recipes --dump`) with each mutant the corpus does not kill, and counts
those it departs from Linux on (the unmutated model passing them): what the
plans reach, exactly, where a campaign's time to a kill is chaotic.

Everything happens on a copy of the committed tree (`git archive HEAD` of the
repository holding this script, or --from DIR) in --workdir (default
/tmp/mutants): WORKDIR/src is the working copy where each mutant is applied
in place and reverted, WORKDIR/build its one build directory (clang,
-Dfuzzing=enabled, -Dwerror=false, no sanitizers; only cli/epollfuzz is
rebuilt), WORKDIR/bins the binaries of mutants waiting to be fuzzed,
WORKDIR/fuzz the fuzz runs.  Fuzzing runs in a second thread while the next
mutants build, never more than one fuzz campaign at a time.  Python 3
standard library only.  Documentation: docs/mutants.md.
"""
import argparse
import difflib
import hashlib
import json
import os
import queue
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_EQUIVALENT = os.path.join(HERE, "mutants.equivalent")
# Not mutated by default: inject.c is the injected-bug table (test
# scaffolding) and invariants.c the model's self-checks, whose weakening no
# differential test can see.  --files overrides.
DEFAULT_EXCLUDE = ("model/inject.c", "model/invariants.c")

# ---------------------------------------------------------------- lexing

KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "bool", "_Bool", "_Static_assert",
    "static_assert", "alignof", "_Alignof",
}

TOKEN = re.compile(r"""
    (?P<id>[A-Za-z_]\w*)
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+)(?P<suffix>[uUlL]*))(?![\w.])
  | (?P<float>\d+\.\d*(?:[eE][-+]?\d+)?[fFlL]?)
  | (?P<op>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=
          |[-+*/%<>=!&|^~?:;,.(){}\[\]])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.X)


def mask(text):
    """The text with comments and the insides of string and character
    literals replaced by spaces (newlines kept), so that columns match."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + (text[j - 1] if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokens(line):
    """(kind, text, start, end) of each token of a masked line, spaces left out."""
    res = []
    for m in TOKEN.finditer(line):
        kind = m.lastgroup
        if kind == "suffix":
            kind = "num"
        if m.group("num") is not None:
            kind = "num"
        if kind == "space":
            continue
        res.append((kind, m.group(0), m.start(), m.end()))
    return res


def matching_paren(s, i):
    """Index of the ')' matching the '(' at s[i], or -1."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def split_args(s):
    """Top-level comma-separated pieces of s, as (start, end) spans."""
    spans, depth, start = [], 0, 0
    for j, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            spans.append((start, j))
            start = j + 1
    spans.append((start, len(s)))
    return spans


# ---------------------------------------------------------------- operators

ROR = {"<": ["<=", ">"], "<=": ["<", ">="], ">": [">=", "<"], ">=": [">", "<="],
       "==": ["!="], "!=": ["=="]}
AOR = {"+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"],
       "+=": ["-="], "-=": ["+="], "++": ["--"], "--": ["++"]}
LCR = {"&&": ["||"], "||": ["&&"]}
# Errno confusions an implementation could make.  EAGAIN -> EWOULDBLOCK is
# left out: the same number, an equivalent mutant by construction.
ERRNO = {
    "EBADF": ["EINVAL"], "EINVAL": ["EBADF", "EPERM"], "EPERM": ["EINVAL"],
    "EAGAIN": ["EPIPE"], "EWOULDBLOCK": ["EPIPE"], "EPIPE": ["EAGAIN"],
    "EMFILE": ["ENFILE"], "ENFILE": ["EMFILE"], "ENOENT": ["EEXIST"],
    "EEXIST": ["ENOENT"], "ELOOP": ["EINVAL"], "ENOTSOCK": ["EBADF"],
    "ENOTCONN": ["EPIPE"], "ECONNRESET": ["EPIPE"],
    "ECONNREFUSED": ["ECONNRESET"], "EMSGSIZE": ["EINVAL"],
    "ESOCKTNOSUPPORT": ["EPROTONOSUPPORT"], "EPROTONOSUPPORT": ["ESOCKTNOSUPPORT"],
    "EOPNOTSUPP": ["EINVAL"], "ENOPKG": ["EINVAL"], "EINTR": ["EAGAIN"],
    "EFAULT": ["EINVAL"], "EISCONN": ["EINVAL"], "EDESTADDRREQ": ["ENOTCONN"],
}
LIST = {
    "list_add": "list_add_tail", "list_add_tail": "list_add",
    "list_splice_init": "list_splice_tail_init",
    "list_splice_tail_init": "list_splice_init",
    "list_splice": "list_splice_tail", "list_splice_tail": "list_splice",
    "waitq_add_exclusive_head": "waitq_add_exclusive_tail",
    "waitq_add_exclusive_tail": "waitq_add_exclusive_head",
}
OPERATORS = {
    "ror": "relational operator swapped with a neighbour (< <=, > >=, < >, <= >=, == !=)",
    "aor": "arithmetic operator swapped (+ -, * /, += -=, ++ --)",
    "lcr": "logical connector swapped (&& ||)",
    "const": "integer literal +1 or -1",
    "errno": "errno name swapped for a neighbour (EBADF->EINVAL, ENOENT<->EEXIST, ...)",
    "drop-call": "a statement that is a function call removed",
    "drop-assign": "an assignment statement (=, op=, ++, --) removed",
    "drop-return": "a return inside a block (an early return) removed",
    "swap-args": "two adjacent arguments of the same shape swapped",
    "list": "list/wait-queue head and tail swapped (list_add <-> list_add_tail, ...)",
}

VALUE_START = {"id", "num", "float"}
LVALUE = re.compile(r"^\s*(?:\*\s*)?[A-Za-z_]\w*(?:\s*(?:->|\.)\s*[A-Za-z_]\w*|\s*\[[^\]]*\])*"
                    r"\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)")
INCDEC = re.compile(r"^\s*(?:(?:\+\+|--)\s*[A-Za-z_][\w>.\-\[\]]*|[A-Za-z_][\w>.\-\[\]]*\s*(?:\+\+|--))\s*;\s*$")
CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(")
SIMPLE_CONST = re.compile(r"^(?:-?(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*|[A-Z][A-Z0-9_]*)$")
PLAIN_ID = re.compile(r"^[a-z_]\w*$")


class Mutant:
    __slots__ = ("id", "file", "line", "end_line", "op", "detail", "orig", "new")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    def apply(self, lines):
        """lines (a list of the file's lines, newlines kept) with this mutant."""
        out = list(lines)
        out[self.line - 1:self.end_line] = self.new
        return out

    def diff(self, lines):
        a = lines[self.line - 1:self.end_line]
        d = difflib.unified_diff(a, self.new, f"a/{self.file}", f"b/{self.file}",
                                 n=0, lineterm="")
        out = []
        for i, l in enumerate(d):
            if l.startswith("@@"):
                l = f"@@ line {self.line} @@"
            out.append(l.rstrip("\n"))
        return "\n".join(out)


def line_hash(text):
    return hashlib.sha1(" ".join(text.split()).encode()).hexdigest()[:8]


def region_kinds(mlines):
    """Per line: 'pre' (preprocessor), 'body' (inside a function body), 'init'
    (inside a top-level initializer), 'decl' (a struct, union or enum
    definition) or 'top'."""
    kinds = []
    depth = 0
    region = "top"
    cont = False
    for ml in mlines:
        s = ml.strip()
        if cont or s.startswith("#"):
            kinds.append("pre")
            cont = ml.rstrip("\n").endswith("\\")
            continue
        at_start = depth
        opened = None
        for k, ch in enumerate(ml):
            if ch == "{":
                if depth == 0:
                    before = ml[:k].rstrip()
                    if "=" in before:
                        opened = "init"
                    elif before == "" or before.endswith(")"):
                        opened = "body"
                    else:
                        opened = "decl"
                    region = opened
                depth += 1
            elif ch == "}":
                depth -= 1
        if at_start > 0:
            kinds.append(region)
        else:
            kinds.append(opened or "top")
    return kinds


def statements(mlines, kinds):
    """Statement spans inside function bodies: (first, last) 0-based line
    indices of statements that start at the beginning of a line."""
    spans = []
    prev_end = "{"
    i = 0
    n = len(mlines)
    while i < n:
        s = mlines[i].strip()
        if kinds[i] != "body" or not s:
            i += 1
            continue
        starts = prev_end in ("", ";", "{", "}", ")", ":") or prev_end.endswith("else")
        if starts and s[0] not in "{}" and not s.startswith("else"):
            # extend to the line where the statement's ';' closes at depth 0
            depth, j, text = 0, i, ""
            found = False
            while j < n and j - i < 12:
                t = mlines[j].rstrip("\n")
                for ch in t:
                    if ch in "([":
                        depth += 1
                    elif ch in ")]":
                        depth -= 1
                text += t + "\n"
                if depth == 0 and t.rstrip().endswith(";"):
                    found = True
                    break
                if "{" in t and depth == 0:
                    break
                j += 1
            if found:
                spans.append((i, j, text))
        prev_end = s.rstrip()[-1:] if not s.rstrip().endswith("else") else "else"
        i += 1
    return spans


def injected_only(mlines):
    """Line indices of statements that run only with an injected bug: the
    body of `if (injected(m, ...) ...)` (one statement or a braced block)."""
    skip = set()
    for i, ml in enumerate(mlines):
        if not re.match(r"^\s*(?:else\s+)?if\s*\(\s*injected\s*\(", ml):
            continue
        # the condition's end
        depth, j = 0, i
        while j < len(mlines):
            for ch in mlines[j]:
                depth += ch == "("
                depth -= ch == ")"
            if depth == 0:
                break
            j += 1
        k = j + 1
        if mlines[j].rstrip().endswith("{") or (k < len(mlines) and mlines[k].strip() == "{"):
            depth = 0
            k = j
            while k < len(mlines):
                depth += mlines[k].count("{") - mlines[k].count("}")
                if k > j:
                    skip.add(k)
                if depth == 0 and k > j:
                    break
                k += 1
        else:
            while k < len(mlines):
                skip.add(k)
                if mlines[k].rstrip().endswith(";"):
                    break
                k += 1
    return skip


def generate(root, files):
    """Every mutant of the given files (paths relative to root), in order."""
    muts = []
    skipped_injected = 0
    for rel in files:
        with open(os.path.join(root, rel)) as fp:
            text = fp.read()
        lines = text.splitlines(keepends=True)
        mlines = mask(text).splitlines(keepends=True)
        kinds = region_kinds(mlines)
        inj = injected_only(mlines)
        seen_hash = {}
        ids = []
        for i, l in enumerate(lines):
            h = line_hash(l)
            k = seen_hash.get(h, 0)
            seen_hash[h] = k + 1
            ids.append(f"{h}" + (f".{k}" if k else ""))
        asserts = set()
        for i, ml in enumerate(mlines):
            if re.search(r"\b(assert|static_assert|_Static_assert)\s*\(", ml):
                j = i
                while j < len(mlines):
                    asserts.add(j)
                    if mlines[j].rstrip().endswith(";"):
                        break
                    j += 1
        file_muts = []

        def add(i, op, detail, new_lines, end=None):
            nonlocal skipped_injected
            if i in inj:
                skipped_injected += 1
                return
            file_muts.append(Mutant(id=None, file=rel, line=i + 1,
                                    end_line=(end if end is not None else i) + 1,
                                    op=op, detail=detail, orig=None, new=new_lines))

        def replace_at(i, a, b, repl):
            l = lines[i]
            return [l[:a] + repl + l[b:]]

        for i, ml in enumerate(mlines):
            if kinds[i] == "pre" or i in asserts:
                continue
            if kinds[i] not in ("body", "init"):
                continue
            toks = tokens(ml.rstrip("\n"))
            in_body = kinds[i] == "body"
            for t, (kind, tx, a, b) in enumerate(toks):
                prev = toks[t - 1] if t > 0 else None
                nxt = toks[t + 1] if t + 1 < len(toks) else None
                if kind == "num":
                    m = re.match(r"^(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)$", tx)
                    digits, suf = m.group(1), m.group(2)
                    v = int(digits, 0) if not (digits.startswith("0") and len(digits) > 1
                                               and digits[1] not in "xX") else int(digits, 8)
                    # array sizes in declarations and bit-field widths are skipped
                    if prev and prev[1] == "[" and not in_body:
                        pass
                    for nv in (v + 1, v - 1):
                        if nv < 0:
                            continue
                        rep = (hex(nv) if digits.lower().startswith("0x") else str(nv)) + suf
                        add(i, "const", f"{tx} -> {rep}", replace_at(i, a, b, rep))
                    continue
                if not in_body:
                    continue
                if kind == "op":
                    if tx in ROR:
                        for r in ROR[tx]:
                            add(i, "ror", f"{tx} -> {r}", replace_at(i, a, b, r))
                    elif tx in LCR:
                        for r in LCR[tx]:
                            add(i, "lcr", f"{tx} -> {r}", replace_at(i, a, b, r))
                    elif tx in AOR:
                        if tx in ("+", "-", "*", "/"):
                            binary = prev is not None and (
                                prev[0] in ("num", "float") or prev[1] in (")", "]")
                                or (prev[0] == "id" and prev[1] not in KEYWORDS))
                            if tx == "*":
                                binary = (binary and a > 0 and ml[a - 1] == " "
                                          and ml[b:b + 1] == " " and nxt is not None
                                          and nxt[1] != ")")
                            if not binary:
                                continue
                        elif tx in ("++", "--"):
                            pass
                        for r in AOR[tx]:
                            add(i, "aor", f"{tx} -> {r}", replace_at(i, a, b, r))
                elif kind == "id":
                    if tx in ERRNO and re.match(r"^E[A-Z0-9]+$", tx):
                        for r in ERRNO[tx]:
                            add(i, "errno", f"{tx} -> {r}", replace_at(i, a, b, r))
                    elif tx in LIST and nxt is not None and nxt[1] == "(":
                        add(i, "list", f"{tx} -> {LIST[tx]}",
                            replace_at(i, a, b, LIST[tx]))
                    if (nxt is not None and nxt[1] == "(" and tx not in KEYWORDS
                            and "for_each" not in tx):
                        # swap adjacent arguments of the same shape (one line)
                        p = matching_paren(ml, nxt[2])
                        if p < 0:
                            continue
                        inner = ml[nxt[2] + 1:p]
                        spans = split_args(inner)
                        if len(spans) < 2:
                            continue
                        base = nxt[2] + 1
                        for k in range(len(spans) - 1):
                            x = inner[spans[k][0]:spans[k][1]].strip()
                            y = inner[spans[k + 1][0]:spans[k + 1][1]].strip()
                            if not x or not y or x == y:
                                continue
                            same = ((x.startswith("&") and y.startswith("&"))
                                    or (SIMPLE_CONST.match(x) and SIMPLE_CONST.match(y))
                                    or (PLAIN_ID.match(x) and PLAIN_ID.match(y)
                                        and "m" not in (x, y)))
                            if not same:
                                continue
                            xa = base + spans[k][0] + (len(inner[spans[k][0]:spans[k][1]])
                                                        - len(inner[spans[k][0]:spans[k][1]].lstrip()))
                            ya = base + spans[k + 1][0] + (len(inner[spans[k + 1][0]:spans[k + 1][1]])
                                                            - len(inner[spans[k + 1][0]:spans[k + 1][1]].lstrip()))
                            l = lines[i]
                            ox, oy = l[xa:xa + len(x)], l[ya:ya + len(y)]
                            new = l[:xa] + oy + l[xa + len(x):ya] + ox + l[ya + len(y):]
                            add(i, "swap-args", f"{tx}({ox}, {oy}) -> ({oy}, {ox})", [new])

        # statement drops
        for (s, e, text) in statements(mlines, kinds):
            if any(j in asserts for j in range(s, e + 1)):
                continue
            st = text.strip()
            first = lines[s]
            indent = first[:len(first) - len(first.lstrip())]
            dropped = [indent + "(void)0; /* mutant: dropped */\n"] + ["\n"] * (e - s)
            m = CALL.match(st)
            if re.match(r"^return\b", st):
                # an early return: one inside a nested block (indented by more
                # than one level in a function body)
                depth = len(indent.replace("    ", "\t").replace("\t", "\t"))
                if indent.count("\t") >= 2 or len(indent) >= 16:
                    add(s, "drop-return", "return removed", dropped, e)
                continue
            if m and m.group(1) not in KEYWORDS:
                p = matching_paren(st, st.index("("))
                if p >= 0 and st[p + 1:].strip() == ";":
                    add(s, "drop-call", f"{m.group(1)}(...) removed", dropped, e)
                    continue
            if LVALUE.match(st) or INCDEC.match(st):
                add(s, "drop-assign", "assignment removed", dropped, e)

        # stable ids: file, hash of the first line's text (.k for its k-th
        # repeat in the file), operator, and the mutant's rank on that line
        rank = {}
        file_muts.sort(key=lambda m: (m.line, m.op))
        for m in file_muts:
            key = (m.line, m.op)
            r = rank.get(key, 0)
            rank[key] = r + 1
            m.id = f"{rel}:{ids[m.line - 1]}:{m.op}:{r}"
            m.orig = lines[m.line - 1:m.end_line]
        muts.extend(file_muts)
    return muts, skipped_injected


# ---------------------------------------------------------------- running

def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# Warnings that stay errors: a mutant that passes a pointer of the wrong
# type (two arguments swapped) is not a program anyone could have written.
TYPE_ERRORS = ("-Werror=incompatible-pointer-types", "-Werror=int-conversion",
               "-Werror=incompatible-pointer-types-discards-qualifiers")


def prepare(args):
    src = os.path.join(args.workdir, "src")
    build = os.path.join(args.workdir, "build")
    if not os.path.isdir(src) or args.fresh:
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)
        os.makedirs(src)
        if args.source:
            shutil.copytree(args.source, src, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("build*", ".git"))
        else:
            arch = subprocess.run(["git", "-C", REPO, "archive", "HEAD"],
                                  capture_output=True, check=True).stdout
            subprocess.run(["tar", "x", "-C", src], input=arch, check=True)
    if not os.path.isdir(build):
        env = dict(os.environ, CC=args.cc)
        r = sh(["meson", "setup", build, src, "-Dfuzzing=enabled", "-Dwerror=false",
                "-Dbuildtype=debugoptimized", "-Db_sanitize=none",
                "-Dc_args=" + " ".join(TYPE_ERRORS)], env=env)
        if r.returncode:
            sys.exit(f"mutants: meson setup failed:\n{r.stdout}{r.stderr}")
    r = sh(["ninja", "-C", build, "cli/epollfuzz"])
    if r.returncode:
        sys.exit(f"mutants: the unmutated tree does not build:\n{r.stdout[-3000:]}")
    base_bin = os.path.join(args.workdir, "epollfuzz.clean")
    shutil.copy2(os.path.join(build, "cli", "epollfuzz"), base_bin)
    return src, build, base_bin


def corpus_files(src):
    d = os.path.join(src, "corpus")
    return sorted(os.path.join("corpus", f) for f in os.listdir(d) if f.endswith(".json"))


def run_traces(binary, args, timeout, cwd=None):
    """`binary run ARGS`, killed after timeout seconds: (exit status or None
    for a hang, seconds, output)."""
    t0 = time.monotonic()
    try:
        p = subprocess.Popen([binary, "run", *args], cwd=cwd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, time.monotonic() - t0, ""
    return p.returncode, time.monotonic() - t0, out


def run_corpus(binary, src, timeout):
    """('pass'|'killed'|'crash'|'hang', seconds, detail)"""
    rc, secs, out = run_traces(binary, ["--quiet", *corpus_files(src)], timeout, cwd=src)
    if rc is None:
        return "hang", secs, f"no end in {timeout} s"
    first = next((l for l in out.splitlines() if l.strip()), "")
    if rc == 0:
        return "pass", secs, ""
    if rc == 1:
        return "killed", secs, first[:300]
    return "crash", secs, f"exit {rc}: {first[:300]}"


def dump_plans(build, workdir, n):
    """n planned programs (fuzz/recipes.c, seeds 0..n-1 as test_recipes draws
    them, decoded as a campaign gets them) written as traces to WORKDIR/plans;
    returns their paths."""
    r = sh(["ninja", "-C", build, "tests/fuzz/test_recipes"])
    if r.returncode:
        sys.exit(f"mutants: test_recipes does not build:\n{r.stdout[-3000:]}")
    d = os.path.join(workdir, "plans")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # its checks of what the plans reach may fail for a small n: only the files count
    sh([os.path.join(build, "tests", "fuzz", "test_recipes"), "--dump", d, str(n)])
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))
    if len(files) != n:
        sys.exit(f"mutants: test_recipes wrote {len(files)} of {n} planned programs to {d}")
    return files


PLAN_DEPARTS = re.compile(r"^(?:DIVERGE|INVARIANT|UNSUPPORTED) (.+?): step ")


def run_plans(binary, files, timeout):
    """Runs the planned programs with `binary` against Linux, as the corpus:
    ('ran', seconds, the set of programs it departs on) or ('crash'|'hang',
    seconds, detail)."""
    rc, secs, out = run_traces(binary, files, timeout)
    if rc is None:
        return "hang", secs, f"no end in {timeout} s"
    if rc not in (0, 1):
        return "crash", secs, f"exit {rc}"
    return "ran", secs, {m.group(1) for m in map(PLAN_DEPARTS.match, out.splitlines()) if m}


def plans_verdict(binary, plans, timeout):
    """The planned programs a mutant departs on that the clean model passes."""
    files, clean = plans
    st, secs, got = run_plans(binary, files, timeout)
    if st != "ran":
        return {"status": st, "seconds": round(secs, 1), "detail": got}
    return {"status": st, "seconds": round(secs, 1), "of": len(files),
            "departs": len(got - clean)}


STATUS = re.compile(r"^epollfuzz fuzz: (\d+) programs \((\d+)/s\).*?(\d+) findings? \(in")
# "program N" (the session's count when it found it) since issue 13;
# without it the count comes from the status lines around the finding.
FINDING = re.compile(r"^epollfuzz fuzz: finding (\S+) at step \d+ \(\w+, after ([\d.]+) s"
                     r"(?:, program (\d+))?\): (.+)$")
SUMMARY = re.compile(r"^epollfuzz fuzz: \w+, target .*?, (\d+) s, (\d+) programs: (\d+) finding")


def fuzz(binary, base_bin, workdir, name, args, inject=None):
    """Fuzzes `binary` from an empty corpus for args.fuzz_seconds; stops at the
    first finding that the clean model does not share.  Returns a dict."""
    d = os.path.join(workdir, "fuzz", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "corpus"))
    # The zero byte: a corpus directory that is not empty, so that
    # `epollfuzz fuzz` does not seed it from the shipped corpus.
    with open(os.path.join(d, "corpus", "zero"), "wb") as fp:
        fp.write(b"\0")
    cmd = [binary, "fuzz", "--time", str(args.fuzz_seconds), "--threads", str(args.threads),
           "--jobs", "1", "--corpus", "corpus", "--findings", "findings", "--no-minimize",
           "--seed", str(args.seed)]
    if inject:
        cmd += ["--inject", inject]
    for a in args.fuzz_arg:  # "-- -len_control=0": argparse drops a lone "--"
        cmd += a.split()
    if args.cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(args.cpu)] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True, bufsize=1)
    deadline = t0 + args.fuzz_seconds + 120
    statuses = []           # (session seconds, programs, findings)
    result = {"killed": False, "how": None, "seconds": None, "programs": None,
              "programs_upper": None, "finding": None, "false_findings": []}
    checked = set()
    text = []
    stopping = False
    hung = False
    buf = ""
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    while True:
        now = time.monotonic()
        if now > deadline:
            hung = True
            os.killpg(p.pid, signal.SIGKILL)
            break
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            if p.poll() is not None:
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk.decode(errors="replace")
        while "\n" in buf:
            line, buf = buf.split("\n", 1)
            text.append(line)
            m = STATUS.match(line)
            if m:
                n, rate, nf = int(m.group(1)), int(m.group(2)), int(m.group(3))
                statuses.append((n / rate if rate else 0.0, n, nf))
                if result["killed"] and result["programs_upper"] is None:
                    result["programs_upper"] = n
                continue
            m = FINDING.match(line)
            if m and not stopping:
                path = os.path.join(d, m.group(4))
                if path in checked:
                    continue
                checked.add(path)
                real = finding_is_real(base_bin, binary, path, d, inject)
                if real:
                    result.update(killed=True, how="finding", seconds=float(m.group(2)),
                                  finding=m.group(1),
                                  programs=(int(m.group(3)) if m.group(3) else
                                            interpolate(statuses, float(m.group(2)))),
                                  programs_exact=m.group(3) is not None)
                    stopping = True
                    try:
                        # the campaign, which stops its job and executors
                        # (a SIGTERM to the job itself counts as its failure)
                        os.kill(p.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                else:
                    result["false_findings"].append(m.group(1))
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    for line in text:
        m = SUMMARY.match(line)
        if m:
            result["total_programs"] = int(m.group(2))
            if result["killed"] and result["programs_upper"] is None:
                result["programs_upper"] = int(m.group(2))
    result["wall"] = round(time.monotonic() - t0, 1)
    result["exit"] = p.returncode
    fdir = os.path.join(d, "findings")
    crashes = [f for f in os.listdir(fdir)
               if f.startswith(("crash-", "timeout-", "oom-", "leak-"))] if os.path.isdir(fdir) else []
    if not result["killed"]:
        if hung:
            result.update(killed=True, how="hang", seconds=round(time.monotonic() - t0, 1))
        elif crashes or (p.returncode not in (0, 1, -signal.SIGTERM)
                         and not result["false_findings"]):
            # the job died with the crash: its last count is the programs
            result.update(killed=True, how="crash", seconds=result["wall"],
                          programs=result.get("total_programs"),
                          finding=(crashes[0] if crashes else f"exit {p.returncode}"))
    if result["killed"] and result["how"] == "finding" and not result.get("programs_exact"):
        # no status line before the finding (the first 5 s): the programs
        # run until the stop, an upper bound
        if result["programs"] is None or not any(s[0] <= result["seconds"] for s in statuses):
            result["programs"] = result["programs_upper"]
            result["programs_bound"] = "upper"
        elif result["programs_upper"] is not None:
            result["programs"] = min(result["programs"], result["programs_upper"])
    result["tail"] = text[-4:]
    if not args.keep_fuzz_dirs:
        shutil.rmtree(d, ignore_errors=True)
    return result


def interpolate(statuses, t):
    """Programs run by session time t: the last status line before t plus
    the rate of the interval that ends there (see docs/mutants.md)."""
    before = [s for s in statuses if s[0] <= t]
    if not before:
        return None
    s = before[-1]
    if len(before) >= 2 and s[0] > before[-2][0]:
        p = before[-2]
        rate = (s[1] - p[1]) / (s[0] - p[0])
    else:
        rate = s[1] / s[0] if s[0] > 0 else 0
    return int(round(s[1] + rate * (t - s[0])))


def finding_is_real(base_bin, binary, path, cwd, inject):
    """A finding counts when the clean model agrees with Linux on its trace
    (with --inject: the model without the bug)."""
    if not os.path.exists(path):
        return True  # cannot tell: believe the fuzzer
    cmd = [base_bin, "run", "--quiet"]
    if inject:
        cmd += ["--inject", ""]
    r = sh(cmd + [path], cwd=cwd, timeout=120)
    return r.returncode == 0


# ---------------------------------------------------------------- equivalents

def load_equivalent(path):
    eq = {}
    if not path or not os.path.exists(path):
        return eq
    with open(path) as fp:
        for line in fp:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            eq[parts[0]] = parts[1] if len(parts) > 1 else ""
    return eq


# ---------------------------------------------------------------- report

def verdict(r):
    if not r.get("compiled"):
        return "no-compile"
    if r.get("corpus") in ("killed", "crash", "hang"):
        return "corpus" if r["corpus"] == "killed" else "corpus-crash"
    if r.get("equivalent") is not None:
        return "out-of-scope" if r["equivalent"].startswith("out-of-scope") else "equivalent"
    f = r.get("fuzz")
    if f is None:
        return "pending"
    if f["killed"]:
        return "fuzz" if f["how"] == "finding" else "fuzz-crash"
    return "survivor"


def summarize(results, args, skipped_injected, total):
    v = [verdict(r) for r in results]
    c = {k: v.count(k) for k in set(v)}
    n = len(results)
    nocomp = c.get("no-compile", 0)
    corpus = c.get("corpus", 0) + c.get("corpus-crash", 0)
    left = n - nocomp - corpus
    fz = c.get("fuzz", 0) + c.get("fuzz-crash", 0)
    eq = c.get("equivalent", 0)
    oos = c.get("out-of-scope", 0)
    surv = c.get("survivor", 0)
    pend = c.get("pending", 0)
    noneq = left - eq - oos - pend
    pct = f"{100 * fz / noneq:.0f}%" if noneq else "n/a"
    crash_c = c.get("corpus-crash", 0)
    crash_f = c.get("fuzz-crash", 0)
    line = (f"mutants: {n} {'sampled' if n < total else 'in all'} (of {total}, seed {args.seed}), "
            f"{nocomp} did not compile, {corpus} killed by the corpus"
            + (f" ({crash_c} by a crash or hang)" if crash_c else "")
            + f", {left} left: {fz} killed by {args.fuzz_seconds} s of fuzzing"
            + (f" ({crash_f} by a crash or hang)" if crash_f else "")
            + f", {eq} equivalent"
            + (f", {oos} out of scope (code model-vs-Linux runs never reach)" if oos else "")
            + f", {surv} survivors"
            + (f", {pend} not fuzzed yet" if pend else "")
            + f"; fuzz kills {pct} of the non-equivalent mutants the corpus does not kill"
            f" ({fz}/{noneq})")
    return line, {"sampled": n, "generated": total, "no_compile": nocomp,
                  "corpus_killed": corpus, "corpus_crash": crash_c, "left": left,
                  "fuzz_killed": fz, "fuzz_crash": crash_f, "equivalent": eq,
                  "out_of_scope": oos,
                  "survivors": surv, "pending": pend,
                  "fuzz_kill_percent": (round(100 * fz / noneq, 1) if noneq else None),
                  "skipped_injected_only_sites": skipped_injected}


def plans_text(pl):
    if pl["status"] != "ran":
        return f"{pl['status']} {pl['seconds']:.0f} s"
    return f"{pl['departs']} of {pl['of']}"


def table(results):
    planned = any(r.get("plans") for r in results)
    rows = ["id                                               file:line          op           "
            "compiled corpus(s)        fuzz(s, programs)       verdict"]
    if planned:
        rows[0] = f"{rows[0]:<144} planned programs"
    for r in results:
        corp = "-"
        if r.get("compiled"):
            corp = f"{r['corpus']} {r['corpus_seconds']:.2f}"
        fz = "-"
        f = r.get("fuzz")
        if f:
            if f["killed"]:
                progs = f["programs"] if f["programs"] is not None else f.get("total_programs")
                le = "<=" if f.get("programs_bound") == "upper" else ""
                fz = f"{f['how']} {f['seconds']:.1f} s, {le}{progs}"
            else:
                fz = f"none in {f['wall']:.0f} s, {f.get('total_programs')}"
        row = (f"{r['id']:<48} {r['file'].split('/')[-1] + ':' + str(r['line']):<18} "
               f"{r['op']:<12} {'yes' if r.get('compiled') else 'no':<8} {corp:<17} "
               f"{fz:<23} {verdict(r)}")
        if planned:
            row = f"{row:<145} {plans_text(r['plans']) if r.get('plans') else '-'}"
        rows.append(row)
    return "\n".join(rows)


def write_out(path, meta, results, summary):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as fp:
        json.dump({"meta": meta, "summary": summary, "mutants": results}, fp, indent=1)
    os.replace(tmp, path)


# ---------------------------------------------------------------- main modes

def run_mutants(args):
    src, build, base_bin = prepare(args)
    files = args.files or sorted(
        os.path.join("model", f) for f in os.listdir(os.path.join(src, "model"))
        if f.endswith(".c") and os.path.join("model", f) not in DEFAULT_EXCLUDE)
    muts, skipped_inj = generate(src, files)
    total = len(muts)
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [m for m in muts if m.id in wanted]
        missing = wanted - {m.id for m in chosen}
        if missing:
            sys.exit("mutants: no such mutant: " + ", ".join(sorted(missing)))
    elif args.all or args.sample >= total:
        chosen = list(muts)
    else:
        chosen = random.Random(args.seed).sample(muts, args.sample)
    chosen.sort(key=lambda m: (m.file, m.line, m.op, m.id))
    eq = load_equivalent(args.equivalent)
    log(f"mutants: {total} generated in {len(files)} files ({skipped_inj} sites only "
        f"reached with --inject skipped), {len(chosen)} chosen (seed {args.seed})")

    # sanity: the clean model passes the corpus
    st, secs, detail = run_corpus(base_bin, src, args.corpus_timeout)
    if st != "pass":
        sys.exit(f"mutants: the unmutated model fails the corpus ({st}): {detail}")
    plans = None
    if args.plans:
        files = dump_plans(build, args.workdir, args.plans)
        st, secs, clean = run_plans(base_bin, files, args.plans_timeout)
        if st != "ran":
            sys.exit(f"mutants: the unmutated model on the planned programs: {st} ({clean})")
        plans = (files, clean)
        log(f"mutants: {len(files)} planned programs, {len(clean)} of which the unmutated "
            f"model departs on (not counted), {secs:.0f} s")
    meta = {"tool": "tools/mutants.py", "seed": args.seed, "sample": len(chosen),
            "generated": total, "files": files, "fuzz_seconds": args.fuzz_seconds,
            "threads": args.threads, "cpu": args.cpu, "source": args.source or "git HEAD",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "clean_corpus_seconds": round(secs, 3)}
    done = {}
    if args.resume and args.out and os.path.exists(args.out):
        with open(args.out) as fp:
            old = json.load(fp)
        done = {r["id"]: r for r in old.get("mutants", []) if verdict(r) != "pending"}
    results = []
    by_id = {}
    lock = threading.Lock()
    q = queue.Queue()

    def save():
        with lock:
            line, summ = summarize(results, args, skipped_inj, total)
            write_out(args.out, meta, results, summ)

    def fuzzer():
        while True:
            item = q.get()
            if item is None:
                return
            r, binary = item
            log(f"  fuzz {r['id']} ...")
            res = fuzz(binary, base_bin, args.workdir, "m" + str(r["index"]), args)
            os.unlink(binary)
            with lock:
                r["fuzz"] = res
            log(f"  fuzz {r['id']}: " + (f"killed ({res['how']}) after {res['seconds']} s, "
                                          f"~{res['programs']} programs" if res["killed"]
                                          else f"survived {res['wall']} s, "
                                               f"{res.get('total_programs')} programs"))
            save()

    worker = threading.Thread(target=fuzzer, daemon=True)
    if not args.no_fuzz:
        worker.start()
    os.makedirs(os.path.join(args.workdir, "bins"), exist_ok=True)
    originals = {}
    try:
        for idx, m in enumerate(chosen):
            r = {"index": idx, "id": m.id, "file": m.file, "line": m.line, "op": m.op,
                 "detail": m.detail, "diff": None}
            path = os.path.join(src, m.file)
            if m.file not in originals:
                with open(path) as fp:
                    originals[m.file] = fp.read().splitlines(keepends=True)
            orig = originals[m.file]
            r["diff"] = m.diff(orig)
            if m.id in done:
                r.update({k: v for k, v in done[m.id].items() if k != "index"})
                with lock:
                    results.append(r)
                if verdict(r) == "pending" and not args.no_fuzz:
                    pass
                continue
            with lock:
                results.append(r)
            with open(path, "w") as fp:
                fp.writelines(m.apply(orig))
            t0 = time.monotonic()
            b = sh(["ninja", "-C", build, "cli/epollfuzz"])
            r["build_seconds"] = round(time.monotonic() - t0, 1)
            r["compiled"] = b.returncode == 0
            if r["compiled"]:
                st, secs, detail = run_corpus(os.path.join(build, "cli", "epollfuzz"), src,
                                              args.corpus_timeout)
                r["corpus"], r["corpus_seconds"], r["corpus_detail"] = st, round(secs, 3), detail
                if st == "pass" and plans and m.id not in eq:
                    r["plans"] = plans_verdict(os.path.join(build, "cli", "epollfuzz"), plans,
                                               args.plans_timeout)
                if st == "pass":
                    if m.id in eq:
                        r["equivalent"] = eq[m.id]
                    elif not args.no_fuzz:
                        binary = os.path.join(args.workdir, "bins", f"epollfuzz.{idx}")
                        shutil.copy2(os.path.join(build, "cli", "epollfuzz"), binary)
                        q.put((r, binary))
                elif m.id in eq:
                    r["equivalent_but_killed"] = eq[m.id]
            # revert: the next mutant starts from the clean tree
            with open(path, "w") as fp:
                fp.writelines(orig)
            log(f"[{idx + 1}/{len(chosen)}] {m.id} {m.file}:{m.line} {m.op} {m.detail}: "
                + ("did not compile" if not r["compiled"] else
                   f"corpus {r['corpus']} ({r['corpus_seconds']:.2f} s)"
                   + (" equivalent" if r.get("equivalent") is not None else "")
                   + (f", planned programs: {plans_text(r['plans'])}" if r.get("plans")
                      else "")))
            save()
    finally:
        for f, lines in originals.items():
            with open(os.path.join(src, f), "w") as fp:
                fp.writelines(lines)
        q.put(None)
    if not args.no_fuzz:
        worker.join()
    # rebuild the clean tree, so that the next run starts from it
    sh(["ninja", "-C", build, "cli/epollfuzz"])
    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line, summ = summarize(results, args, skipped_inj, total)
    write_out(args.out, meta, results, summ)

    print_report(results, args, skipped_inj, total)


def print_report(results, args, skipped_inj, total):
    print(table(results))
    surv = [r for r in results if verdict(r) == "survivor"]
    if surv:
        print(f"\nsurvivors ({len(surv)}): not killed by the corpus nor by "
              f"{args.fuzz_seconds} s of fuzzing, not listed in {args.equivalent}")
        for r in surv:
            print(f"\n{r['id']}  ({r['op']}: {r['detail']})")
            print(r["diff"])
    for r in results:
        if r.get("equivalent_but_killed") is not None:
            print(f"\nwarning: {r['id']} is listed as equivalent but "
                  f"{'the corpus' if r.get('corpus') != 'pass' else 'fuzzing'} kills it")
    line, _ = summarize(results, args, skipped_inj, total)
    print()
    print(line)


def report(args):
    """Re-reads --out, applies the current equivalents file, prints the
    report again (after documenting equivalent mutants)."""
    with open(args.report) as fp:
        data = json.load(fp)
    eq = load_equivalent(args.equivalent)
    meta = data["meta"]
    args.seed = meta.get("seed", args.seed)
    args.fuzz_seconds = meta.get("fuzz_seconds", args.fuzz_seconds)
    results = data["mutants"]
    for r in results:
        r.pop("equivalent", None)
        r.pop("equivalent_but_killed", None)
        if r.get("compiled") and r["id"] in eq:
            if r.get("corpus") == "pass" and not (r.get("fuzz") or {}).get("killed"):
                r["equivalent"] = eq[r["id"]]
            else:
                r["equivalent_but_killed"] = eq[r["id"]]
    skipped = data.get("summary", {}).get("skipped_injected_only_sites", 0)
    print_report(results, args, skipped, meta.get("generated", len(results)))
    if args.out:
        line, summ = summarize(results, args, skipped, meta.get("generated", len(results)))
        write_out(args.out, meta, results, summ)


def run_injected(args):
    src, build, base_bin = prepare(args)
    r = sh([base_bin, "inject"])
    names = [l.split(":", 1)[0] for l in r.stdout.splitlines() if ":" in l]
    if args.bugs:
        names = [n for n in names if n in args.bugs.split(",")]
    results = []
    for name in names:
        log(f"  fuzz --inject {name} ...")
        res = fuzz(base_bin, base_bin, args.workdir, "inject-" + name, args, inject=name)
        res["name"] = name
        results.append(res)
        log(f"  {name}: " + (f"found after {res['seconds']} s, ~{res['programs']} programs"
                             if res["killed"] else f"not found in {res['wall']} s"))
    found = [x for x in results if x["killed"]]
    print(f"{'injected bug':<24} {'found':<6} {'seconds':>8} {'programs':>9}  finding")
    for x in results:
        print(f"{x['name']:<24} {'yes' if x['killed'] else 'no':<6} "
              f"{(str(x['seconds']) if x['killed'] else '-'):>8} "
              f"{(('<=' if x.get('programs_bound') == 'upper' else '') + str(x['programs']) if x['killed'] else '-'):>9}  {x.get('finding') or ''}")
    line = (f"injected: {len(found)} of {len(results)} found from an empty corpus in "
            f"{args.fuzz_seconds} s of fuzzing each (--threads {args.threads}, one CPU, seed {args.seed})")
    summ = {"found": len(found), "bugs": len(results)}
    write_out(args.out, {"tool": "tools/mutants.py --injected", "seed": args.seed,
                         "fuzz_seconds": args.fuzz_seconds, "threads": args.threads,
                         "cpu": args.cpu}, results, summ)
    print()
    print(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=150, help="mutants drawn at random (default 150)")
    ap.add_argument("--all", action="store_true", help="every mutant instead of a sample")
    ap.add_argument("--seed", type=int, default=1, help="the sample's and the fuzzer's seed")
    ap.add_argument("--fuzz-seconds", type=int, default=60, help="fuzzing per mutant (default 60)")
    ap.add_argument("--threads", type=int, default=4, help="epollfuzz fuzz --threads (default 4)")
    ap.add_argument("--fuzz-arg", action="append", default=[], metavar="ARG",
                    help="more arguments of `epollfuzz fuzz`, split at spaces (repeatable), "
                         "e.g. --fuzz-arg=--feedback to measure what a feature adds, "
                         "--fuzz-arg='-- -len_control=0' for the engine")
    ap.add_argument("--jobs", type=int, default=1, choices=[1],
                    help="fuzz campaigns at a time: 1, on one CPU")
    ap.add_argument("--cpu", type=int, default=None,
                    help="the CPU fuzzing is pinned to (default: the last one this process may use)")
    ap.add_argument("--corpus-timeout", type=int, default=60,
                    help="seconds before a corpus run counts as a hang (default 60)")
    ap.add_argument("--out", default=None, help="the per-mutant table as JSON")
    ap.add_argument("--only", metavar="ID,ID...",
                    help="just these mutants (ids as --list prints them), e.g. the "
                         "survivors of an earlier run, measured again on a changed tree")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the finished mutants of --out (same seed and sample)")
    ap.add_argument("--equivalent", default=DEFAULT_EQUIVALENT,
                    help="mutants documented as equivalent (default tools/mutants.equivalent)")
    ap.add_argument("--files", nargs="+", default=None,
                    help="files to mutate, relative to the tree (default model/*.c but "
                         + " and ".join(DEFAULT_EXCLUDE) + ")")
    ap.add_argument("--workdir", default="/tmp/mutants", help="where everything happens")
    ap.add_argument("--from", dest="source", default=None,
                    help="copy this source tree instead of `git archive HEAD`")
    ap.add_argument("--fresh", action="store_true", help="copy the tree and configure anew")
    ap.add_argument("--cc", default="clang")
    ap.add_argument("--no-fuzz", action="store_true", help="the corpus only")
    ap.add_argument("--keep-fuzz-dirs", action="store_true")
    ap.add_argument("--plans", type=int, default=0, metavar="N",
                    help="also run N planned programs (fuzz/recipes.c, as test_recipes "
                         "draws them) with each mutant the corpus does not kill, and "
                         "count those it departs from Linux on: what the plans reach, "
                         "exactly, beside the campaign's chaos (e.g. 6000)")
    ap.add_argument("--plans-timeout", type=int, default=300,
                    help="seconds before a --plans run counts as a hang (default 300)")
    ap.add_argument("--injected", action="store_true",
                    help="fuzz each injected bug from an empty corpus instead")
    ap.add_argument("--bugs", default=None,
                    help="with --injected: only these injected bugs (NAME,NAME...)")
    ap.add_argument("--report", metavar="JSON", default=None,
                    help="print the report of an earlier --out again, with the current "
                         "equivalents file (and rewrite --out if given)")
    ap.add_argument("--list", action="store_true",
                    help="print every mutant (id, file:line, operator, diff) and exit")
    args = ap.parse_args()
    args.workdir = os.path.abspath(args.workdir)
    if args.out:
        args.out = os.path.abspath(args.out)
    if args.source:
        args.source = os.path.abspath(args.source)
    if args.cpu is None:
        args.cpu = max(os.sched_getaffinity(0))
    if args.report:
        report(args)
        return
    if args.list:
        root = args.source
        if not root:
            # the committed tree, as a run would mutate it
            import tempfile
            tmp = tempfile.mkdtemp(prefix="mutants-list-")
            arch = subprocess.run(["git", "-C", REPO, "archive", "HEAD", "model"],
                                  capture_output=True, check=True).stdout
            subprocess.run(["tar", "x", "-C", tmp], input=arch, check=True)
            root = tmp
        files = args.files or sorted(
            os.path.join("model", f) for f in os.listdir(os.path.join(root, "model"))
            if f.endswith(".c") and os.path.join("model", f) not in DEFAULT_EXCLUDE)
        muts, skipped = generate(root, files)
        originals = {}
        for m in muts:
            if m.file not in originals:
                with open(os.path.join(root, m.file)) as fp:
                    originals[m.file] = fp.read().splitlines(keepends=True)
            print(f"{m.id}  {m.file}:{m.line}  {m.op}  {m.detail}")
            if args.all:
                print(m.diff(originals[m.file]))
        counts = {}
        for m in muts:
            counts[m.op] = counts.get(m.op, 0) + 1
        print(f"{len(muts)} mutants ({skipped} sites only reached with --inject skipped): "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
        if not args.source:
            shutil.rmtree(root, ignore_errors=True)
        return
    os.makedirs(args.workdir, exist_ok=True)
    if args.injected:
        run_injected(args)
    else:
        run_mutants(args)


if __name__ == "__main__":
    main()
