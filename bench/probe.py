"""One measured operation in a fresh process, for bench/run.py's instruction counts and RSS.

    valgrind --tool=callgrind --collect-atstart=no python bench/probe.py OP N LIB

Under callgrind, instructions are collected only between the toggles around each measured
operation (``LIB`` is a tiny shared library built by bench/run.py from valgrind's
``callgrind.h``; its ``toggle()`` issues ``CALLGRIND_TOGGLE_COLLECT``).  The process prints how
many operations it measured.  ``rss-*`` ops load a JSON Lines file and print the peak RSS.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import resource
import sys
from collections.abc import Callable
from typing import Any

import attrs
import peers
import workload as w


def _peak_rss_kib() -> int:
    """This process's peak resident set (KiB): VmHWM, which belongs to the process's own
    memory since its exec.  (``getrusage``'s ``ru_maxrss`` keeps the maximum across exec, so
    in a child it reports the parent's peak when the parent was bigger.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    op = sys.argv[1]
    if op.startswith("rss-"):
        from rjflow.serialization import load_jsonl

        kept: Any = None
        if op == "rss-replay":
            kept = load_jsonl(sys.argv[2])
        elif op == "rss-sealed":
            kept = load_jsonl(sys.argv[2], seal_key=w.SEAL_KEY)
        if kept is not None:
            assert kept.ok, kept.problems[:1]
        print(_peak_rss_kib())
        return
    n = int(sys.argv[2])
    toggle: Callable[[], Any] = ctypes.CDLL(sys.argv[3]).toggle
    count = 0

    def measure(fn: Callable[[], Any]) -> None:
        nonlocal count
        toggle()
        fn()
        toggle()
        count += 1

    if op == "empty":
        for _ in range(n):
            measure(lambda: None)
    elif op in ("fire-trigger", "fire-record"):
        wanted = set(w.TRIGGERS if op == "fire-trigger" else w.RECORDING)
        cases = [w.rj_open(i) for i in range(n)]
        for k, (_name, step) in enumerate(w.STEPS):
            for c in cases:
                if k in wanted:
                    measure(lambda step=step, c=c: step(c))
                else:
                    step(c)
    elif op == "transitions-fire":
        machine = peers.shared_machine()
        models = [peers.Model() for _ in range(n)]
        for m in models:
            machine.add_model(m)
        for t in peers.HAPPY:
            for m in models:
                measure(lambda m=m, t=t: m.trigger(t))
    elif op == "sha":
        from rjflow.history import canonical_json

        case = w.completed(0)
        e = case.history[-1]
        body = {
            "action": e.action,
            "actor": e.actor,
            "at": e.at.isoformat(),
            "data": dict(e.data),
            "from_state": e.from_state,
            "previous_hash": e.previous_hash,
            "sequence": e.sequence,
            "to_state": e.to_state,
        }
        for _ in range(n):
            measure(lambda: hashlib.sha256(canonical_json(body).encode()).hexdigest())
    elif op == "evolve":
        rec = w.completed(0).record
        for _ in range(n):
            measure(lambda: attrs.evolve(rec, version=rec.version))
    elif op in ("load-replay", "load-sealed", "json-loads"):
        from rjflow.serialization import load_jsonl

        plain, sealed = w.jsonl_lines(n)
        lines = sealed if op == "load-sealed" else plain
        key = w.SEAL_KEY if op == "load-sealed" else None
        for line in lines:
            if op == "json-loads":
                measure(lambda line=line: json.loads(line))
            else:
                measure(lambda line=line: load_jsonl([line], seal_key=key).cases[0].options())
    else:
        raise SystemExit(f"unknown op {op}")
    print(count)


if __name__ == "__main__":
    main()
