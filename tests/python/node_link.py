"""The JSON-lines link between a Python client script and the node test that runs it: each
line printed on stdout is an event; after an event with "need" the script waits for one line
on stdin (the node side's answer). A failed check raises, so the exit status is non-zero."""

import json
import sys


def emit(**event):
    print(json.dumps(event, default=str), flush=True)


def ask(**event):
    emit(**event)
    line = sys.stdin.readline()
    if not line:
        raise RuntimeError("the node side closed stdin")
    return json.loads(line)


def check(label, got, want):
    if got != want:
        raise AssertionError(f"{label}: got {got!r}, want {want!r}")
    emit(step=label, got=got)
