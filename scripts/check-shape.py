#!/usr/bin/env python3
"""Code-shape check: import cycles between src/app modules, functions over 80 lines and
files over 600 lines of code (unit tests, blank lines and comments aside).
Run from the repository root; exits 1 when it finds any."""
import glob
import os
import re
import sys

FN_MAX, FILE_MAX = 80, 600


def app_graph():
    mods = {os.path.basename(f)[:-3]: open(f).read() for f in glob.glob("src/app/*.rs")}
    graph = {}
    for m, text in mods.items():
        deps = set()
        for path in re.findall(r"(?:super|crate::app)::\{?([A-Za-z0-9_ ,:{}]+)", text):
            for name in re.findall(r"\b([a-z_][a-z0-9_]*)\b", path):
                if name in mods and name not in (m, "mod"):
                    deps.add(name)
        graph[m] = deps
    return graph


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def before_tests(lines):
    """The lines before the file's unit tests (`#[cfg(test)] mod tests`)."""
    for i, line in enumerate(lines):
        if line.startswith("#[cfg(test)]") and i + 1 < len(lines) and "mod tests" in lines[i + 1]:
            return lines[:i]
    return lines


def code_lines(lines):
    """Blank lines and comments aside."""
    return [line for line in lines if line.strip() and not line.strip().startswith("//")]


FN = re.compile(r"^(\s*)(pub(\([^)]*\))? )?(const )?(async )?(unsafe )?fn \w+")


def long_fns(path, lines):
    found = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        indent, depth, opened = m.group(1), 0, False
        for j in range(i, len(lines)):
            text = re.sub(r'"(\\.|[^"\\])*"', '""', lines[j].split("//")[0])
            depth += text.count("{") - text.count("}")
            opened = opened or "{" in text
            if j > i and not opened and text.rstrip().endswith(";"):
                break
            if opened and depth <= 0:
                n = j - i + 1
                if n > FN_MAX:
                    found.append((n, f"{path}:{i + 1} {line.strip()[:70]}"))
                break
    return found


def main():
    bad = 0
    for comp in cycles(app_graph()):
        print("cycle between app modules:", " <-> ".join(comp))
        bad += 1
    fns, files = [], []
    for path in sorted(glob.glob("src/**/*.rs", recursive=True)):
        lines = before_tests(open(path).read().split("\n"))
        n = len(code_lines(lines))
        if n > FILE_MAX:
            files.append((n, path))
        fns += long_fns(path, lines)
    for n, path in sorted(files, reverse=True):
        print(f"file {n} lines of code: {path}")
    for n, where in sorted(fns, reverse=True):
        print(f"fn {n} lines: {where}")
    bad += len(fns) + len(files)
    print("ok" if not bad else f"{bad} finding(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
