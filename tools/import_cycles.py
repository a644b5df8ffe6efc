#!/usr/bin/env python3
"""Module import graph of src/ and its circles.

Reads every `use crate::...` / `crate::x::y` / `super::x` path in
src/**/*.rs (test modules included only when --tests is given), maps each to
the module file it names, and prints the circles in two views: between
top-level modules (`cache` -> `mirror` -> `cache`, whichever submodules carry
the edges), and among the children of one module (`mirror::fetch` <->
`mirror::plan`).
Exit status 1 when there is a circle, so CI can run it.

  python3 tools/import_cycles.py            # circles, exit 1 if any
  python3 tools/import_cycles.py --edges    # every edge, for reading
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return "::".join(rel) or "crate"


def strip_tests(text):
    """Drops `#[cfg(test)] mod x { ... }` blocks (brace-matched)."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def expand_use(body):
    """`a::{b, c::{d}}` -> ['a::b', 'a::c::d']"""
    body = body.strip()
    m = re.match(r"^([\w:]*?)(?:::)?\{(.*)\}$", body, re.S)
    if not m:
        return [body]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    res = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        for e in expand_use(p):
            res.append(prefix + "::" + e if prefix else e)
    return res


def main():
    tests = "--tests" in sys.argv
    files = {}
    for d, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith(".rs"):
                p = os.path.join(d, n)
                files[module_of(p)] = p
    files.pop("crate", None)  # lib.rs/main.rs: the roots, not layers
    mods = set(files)

    def resolve(path):
        segs = [s for s in path.split("::") if s and s != "self"]
        best = None
        for k in range(1, len(segs) + 1):
            cand = "::".join(segs[:k])
            if cand in mods:
                best = cand
        return best

    edges = {}
    for mod, path in files.items():
        text = open(path, encoding="utf-8").read()
        if not tests:
            text = strip_tests(text)
        text = strip_comments(text)
        targets = set()
        for m in re.finditer(r"\buse\s+crate::([^;]+);", text, re.S):
            for e in expand_use(m.group(1)):
                t = resolve(e.split(" as ")[0])
                if t:
                    targets.add(t)
        for m in re.finditer(r"\bcrate::((?:\w+::)*\w+)", text):
            t = resolve(m.group(1))
            if t:
                targets.add(t)
        # `super::x` from a child names the parent's sibling
        for m in re.finditer(r"\bsuper::((?:\w+::)*\w+)", text):
            parent = mod.rsplit("::", 1)[0] if "::" in mod else ""
            base = parent if os.path.basename(path) != "mod.rs" else (
                parent.rsplit("::", 1)[0] if "::" in parent else "")
            full = (base + "::" if base else "") + m.group(1)
            t = resolve(full)
            if t:
                targets.add(t)
        # a child using its own parent module is not an edge between layers
        targets = {t for t in targets if t != mod}
        edges[mod] = targets

    if "--edges" in sys.argv:
        for m in sorted(edges):
            print(f"{m} -> {', '.join(sorted(edges[m]))}")

    # Two views, each free of circles: the top-level modules (a child's
    # imports count for its top-level module), and within each module its
    # children among themselves (a child may use its parent: that is how
    # Rust modules share their types).
    top = {}
    for m, ts in edges.items():
        a = m.split("::")[0]
        for t in ts:
            b = t.split("::")[0]
            if a != b:
                top.setdefault(a, set()).add(b)
        top.setdefault(a, set())
    siblings = {}
    for m, ts in edges.items():
        parent = m.rsplit("::", 1)[0] if "::" in m else None
        siblings.setdefault(m, set())
        if parent is None:
            continue
        for t in ts:
            if "::" in t and t.rsplit("::", 1)[0] == parent:
                siblings[m].add(t)
    sccs = circles(top) + circles(siblings)
    for c in sccs:
        print("circle:", " <-> ".join(c))
    print(f"{len(edges)} modules, {sum(len(t) for t in edges.values())} edges, {len(sccs)} circles")
    return 1 if sccs else 0


def circles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


if __name__ == "__main__":
    sys.exit(main())
