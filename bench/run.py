"""Side-by-side benchmarks: rjflow against transitions, python-statemachine and a dict FSM.

    make bench            # or: python bench/run.py [--sizes 10000,100000] [--repeat 3]

Everything runs in one process, on the programme's happy path (bench/workload.py) for rjflow
and the same 9-state workflow with the same two guards (bench/peers.py) for the peers.  Every
timed block runs with the garbage collector ON, as an application has it; a GC-off figure is
printed beside it, labelled.  Figures are medians of ``--repeat`` runs; read the ratios, which
come from one run.  Instruction counts (callgrind, bench/probe.py) are printed beside the
times when valgrind is installed: they do not depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import enum
import gc
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers
import workload as w

from rjflow import ActionRefused
from rjflow.history import canonical_json
from rjflow.serialization import dumps, load_jsonl

# -- timing ----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], *, gc_on: bool = True) -> float:
    """Seconds ``fn`` takes.  The collector runs as an application has it unless ``gc_on`` is
    False (then it is switched off inside the block: the flattering figure, labelled so)."""
    gc.collect()  # each repetition starts from the same heap; not part of the time
    if not gc_on:
        gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def median_of(
    repeat: int,
    fn: Callable[[], Any],
    setup: Callable[[], Any] | None = None,
    *,
    gc_on: bool = True,
) -> float:
    results = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        results.append(timed(fn, gc_on=gc_on))
    return statistics.median(results)


def fmt_time(seconds: float) -> str:
    us = seconds * 1e6
    if us < 10:
        return f"{us:,.3f} µs"
    return f"{us:,.2f} µs" if us < 100 else f"{us:,.0f} µs"


# -- rjflow: fire per step, triggers and record-keeping apart --------------------------------


def rj_fire_by_step(n: int, repeat: int, *, gc_on: bool) -> tuple[float, float]:
    """Seconds per stage-changing trigger and per record-keeping action over n cases.

    Each step of the path is timed across all n cases as one block (the cases stay alive, as
    they would in an application holding a caseload), then summed by class."""
    runs: list[tuple[float, float]] = []
    for _ in range(repeat):
        cases = [w.rj_open(i) for i in range(n)]
        per_step = []
        for _name, step in w.STEPS:

            def run(step: Callable[[Any], Any] = step, cases: list[Any] = cases) -> None:
                for c in cases:
                    step(c)

            per_step.append(timed(run, gc_on=gc_on))
        assert cases[0].version == 1 + len(w.STEPS), cases[0].version
        trig = sum(per_step[i] for i in w.TRIGGERS) / (n * len(w.TRIGGERS))
        rec = sum(per_step[i] for i in w.RECORDING) / (n * len(w.RECORDING))
        runs.append((trig, rec))
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
    )


def peer_fire(lib: str, n: int, repeat: int, *, gc_on: bool) -> float:
    """Seconds per trigger over the peers' 5-trigger happy path of n cases."""
    cases: list[Any] = []
    if lib == "transitions":

        def setup() -> None:
            machine = peers.shared_machine()
            cases[:] = [peers.Model() for _ in range(n)]
            for m in cases:
                machine.add_model(m)

        def run() -> None:
            for m in cases:
                for t in peers.HAPPY:
                    m.trigger(t)
    elif lib == "transitions/case":

        def setup() -> None:
            cases[:] = [peers.Model() for _ in range(n)]
            for m in cases:
                peers.machine_per_case(m)

        def run() -> None:
            for m in cases:
                for t in peers.HAPPY:
                    m.trigger(t)
    elif lib == "python-statemachine":

        def setup() -> None:
            cases[:] = [peers.RJMachine(model=peers.Model()) for _ in range(n)]

        def run() -> None:
            for sm in cases:
                for t in peers.HAPPY:
                    sm.send(t)
    else:

        def setup() -> None:
            cases[:] = [peers.DictCase() for _ in range(n)]

        def run() -> None:
            for c in cases:
                for t in peers.HAPPY:
                    c.fire(t)

    return median_of(repeat, run, setup, gc_on=gc_on) / (n * len(peers.HAPPY))


def bench_open(lib: str, n: int, repeat: int, *, gc_on: bool = True) -> float:
    """Seconds per case to open (rjflow) or bind (peers) n cases."""
    holder: list[Any] = []
    if lib == "rjflow":

        def run() -> None:
            holder[:] = [w.rj_open(i) for i in range(n)]
    elif lib == "transitions":

        def run() -> None:
            machine = peers.shared_machine()
            models = [peers.Model() for _ in range(n)]
            for m in models:
                machine.add_model(m)
            holder[:] = [machine]
    elif lib == "transitions/case":

        def run() -> None:
            holder[:] = [peers.machine_per_case(peers.Model()) for _ in range(n)]
    elif lib == "python-statemachine":

        def run() -> None:
            holder[:] = [peers.RJMachine(model=peers.Model()) for _ in range(n)]
    else:

        def run() -> None:
            holder[:] = [peers.DictCase() for _ in range(n)]

    return median_of(repeat, run, holder.clear, gc_on=gc_on) / n


def tracked_per_case(make: Callable[[int], Any], n: int = 1_000) -> float:
    """How many objects the garbage collector tracks for each case ``make`` builds."""
    gc.collect()
    before = len(gc.get_objects())
    kept = [make(i) for i in range(n)]
    gc.collect()
    tracked = (len(gc.get_objects()) - before) / n
    del kept
    return tracked


def gc_floor(n: int, k: int, repeat: int) -> float:
    """Seconds per case to build n cases of k GC-tracked objects (small lists) with the
    collector on: what the collector alone costs any library holding that many per case."""
    holder: list[Any] = []

    def run() -> None:
        holder[:] = [[[j] for j in range(k - 1)] for _ in range(n)]

    return median_of(repeat, run, holder.clear) / n


def bench_refused(lib: str, n: int, repeat: int) -> float:
    """Seconds per refused hold_conference over n cases (rjflow builds the reasons)."""
    cases: list[Any] = []
    if lib == "rjflow":

        def setup() -> None:
            cases[:] = [w.preparation_case(i) for i in range(n)]

        def run() -> None:
            for c in cases:
                try:
                    c.hold_conference(at=w.T0 + 9 * w.H, actor="F1")
                except ActionRefused:
                    pass
    elif lib in ("transitions", "transitions/case"):

        def setup() -> None:
            machine = peers.shared_machine() if lib == "transitions" else None
            cases[:] = []
            for _ in range(n):
                m = peers.Model(acknowledged=False)
                if machine is not None:
                    machine.add_model(m)
                else:
                    peers.machine_per_case(m)
                m.acknowledged = True
                m.trigger("start_introduction")
                m.trigger("start_preparation")
                m.acknowledged = False
                cases.append(m)

        def run() -> None:
            for m in cases:
                m.trigger("hold_conference")
    elif lib == "python-statemachine":
        from statemachine.exceptions import TransitionNotAllowed

        def setup() -> None:
            cases[:] = []
            for _ in range(n):
                model = peers.Model()
                sm = peers.RJMachine(model=model)
                sm.send("start_introduction")
                sm.send("start_preparation")
                model.acknowledged = False
                cases.append(sm)

        def run() -> None:
            for sm in cases:
                try:
                    sm.send("hold_conference")
                except TransitionNotAllowed:
                    pass
    else:

        def setup() -> None:
            cases[:] = []
            for _ in range(n):
                c = peers.DictCase()
                c.fire("start_introduction")
                c.fire("start_preparation")
                c.acknowledged = False
                cases.append(c)

        def run() -> None:
            for c in cases:
                c.fire("hold_conference")

    return median_of(repeat, run, setup) / n


# -- the floors of one trigger ---------------------------------------------------------------


def floors(repeat: int, n: int = 10_000) -> dict[str, float]:
    """Seconds for the three things every rjflow trigger must at least do, measured alone."""
    case = w.completed(0)
    event = case.history[-1]
    body = {
        "action": event.action,
        "actor": event.actor,
        "at": event.at.isoformat(),
        "data": dict(event.data),
        "from_state": event.from_state,
        "previous_hash": event.previous_hash,
        "sequence": event.sequence,
        "to_state": event.to_state,
    }
    record = case.record

    def sha() -> None:
        for _ in range(n):
            hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def evolve() -> None:
        for _ in range(n):
            attrs.evolve(record, version=record.version)

    return {
        "sha256 of the canonical event": median_of(repeat, sha) / n,
        "one attrs.evolve of the record": median_of(repeat, evolve) / n,
    }


def guard_checks_dynamic() -> int:
    """Count the rules that really run on the happy path (every guard wrapped, then restored)."""
    from rjflow.rules import _common
    from rjflow.workflow import Workflow

    calls = 0
    saved = dict(_common.REGISTRY)

    def counting(fn: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            return fn(*args)

        return wrapper

    try:
        for name, fn in saved.items():
            _common.REGISTRY[name] = counting(fn)
        Workflow.for_policy.cache_clear()
        case = w.rj_open(0)
        calls = 0
        w.happy_path(case)
        return calls
    finally:
        _common.REGISTRY.clear()
        _common.REGISTRY.update(saved)
        Workflow.for_policy.cache_clear()


def guard_cost(repeat: int, n: int = 2_000) -> float:
    """Seconds per rule evaluated: every rule of each step run against the record it judges."""
    from rjflow.commands import Acting
    from rjflow.rules import resolve, run_guards
    from rjflow.states import ACTIONS

    # The record before each step, with the step's rules and a representative input.
    case = w.rj_open(0)
    probes = []
    for name, step in w.STEPS:
        inp = None
        probes.append((resolve(ACTIONS[name].guards), case.record, case.policy, inp))
        step(case)
    act = Acting(w.T0 + 9 * w.H, "F1", None)
    total = sum(len(g) for g, *_ in probes)

    def run() -> None:
        for _ in range(n):
            for guards, rec, policy, inp in probes:
                run_guards(guards, rec, policy, inp, act)

    return median_of(repeat, run) / (n * total)


# -- loading and memory ----------------------------------------------------------------------


def bench_load(kind: str, lines: list[str], repeat: int, *, gc_on: bool = True) -> float:
    """Seconds per case to load a JSON Lines row (and, for rjflow, list its options)."""
    n = len(lines)
    if kind in ("replay", "sealed"):
        key = w.SEAL_KEY if kind == "sealed" else None

        def run() -> None:
            report = load_jsonl(lines, seal_key=key)
            assert len(report.cases) == n, report.problems[:1]
            for case in report.cases:
                _ = case.state, case.options()
    elif kind == "json.loads keeping documents":

        def run() -> None:
            kept = [json.loads(line) for line in lines]
            assert len(kept) == n
    else:  # json.loads, each document dropped at once

        def run() -> None:
            for line in lines:
                json.loads(line)

    return median_of(repeat, run, gc_on=gc_on) / n


def memory_per_case(make: Callable[[int], Any], n: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [make(i) for i in range(n)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(kept) == n
    return (after - before) / n


def memory_loaded(lines: list[str], *, sealed: bool) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    report = load_jsonl(lines, seal_key=w.SEAL_KEY if sealed else None)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(report.cases) == len(lines)
    return (after - before) / len(lines)


def memory_breakdown(lines: list[str]) -> list[tuple[str, tuple[int, int]]]:
    """By kind, the objects one loaded case holds that another loaded case does not share
    (what loading one more case costs), largest first."""
    import types

    cases = load_jsonl(lines).cases
    skip = (type, types.ModuleType, types.FunctionType, enum.Enum)

    def reach(root: object) -> dict[int, object]:
        seen: dict[int, object] = {}
        stack = [root]
        while stack:
            obj = stack.pop()
            if id(obj) in seen or isinstance(obj, skip):
                continue
            seen[id(obj)] = obj
            if type(obj).__name__ != "Workflow":  # one per policy, shared by every case
                stack.extend(gc.get_referents(obj))
        return seen

    mine, other = reach(cases[1]), reach(cases[2])
    kinds: dict[str, list[int]] = {}
    for key, obj in mine.items():
        if key in other:
            continue
        name = type(obj).__name__
        if isinstance(obj, str):
            name = "str (a 64-digit hash)" if len(obj) == 64 else "str (other)"
        elif name == "FrozenDict":
            name = "FrozenDict (event data)"
        entry = kinds.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += sys.getsizeof(obj)
    return sorted(((k, (c, b)) for k, (c, b) in kinds.items()), key=lambda kv: -kv[1][1])


def child_rss(path: Path, sealed: bool) -> tuple[int, int]:
    """Peak RSS (KiB) of a fresh process that loads every case of ``path`` and keeps them, and
    of one that only imports rjflow (the baseline)."""
    probe = HERE / "probe.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    out = []
    for op in ("rss-baseline", "rss-sealed" if sealed else "rss-replay"):
        res = subprocess.run(
            [sys.executable, str(probe), op, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        out.append(int(res.stdout.split()[-1]))
    return out[0], out[1]


def streaming_peak(path: Path, n: int) -> tuple[float, float]:
    """(transient peak while loading, file size), bytes: does load_jsonl hold the file?"""
    gc.collect()
    tracemalloc.start()
    report = load_jsonl(path)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(report.cases) == n
    return peak - current, path.stat().st_size


# -- instruction counts ----------------------------------------------------------------------

CALLGRIND_OPS = [
    ("rjflow fire, per stage-changing trigger", "fire-trigger"),
    ("rjflow fire, per record-keeping action", "fire-record"),
    ("transitions bare fire, per trigger", "transitions-fire"),
    ("sha256 of the canonical event", "sha"),
    ("one attrs.evolve of the record", "evolve"),
    ("rjflow replay-load, per case", "load-replay"),
    ("rjflow sealed load, per case", "load-sealed"),
    ("json.loads of the same line, per case", "json-loads"),
]


_TOGGLE_C = """#include <valgrind/callgrind.h>
void toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


def _toggle_library(tmp: Path) -> Path | None:
    """A tiny shared library whose toggle() switches callgrind's collection (valgrind's header,
    gcc); None when either is missing."""
    if shutil.which("gcc") is None or not Path("/usr/include/valgrind/callgrind.h").exists():
        return None
    src, lib = tmp / "toggle.c", tmp / "libtoggle.so"
    src.write_text(_TOGGLE_C)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


def callgrind_counts(ops: list[str], n: int) -> dict[str, float] | None:
    """Instructions per operation, collected only inside the measured calls (bench/probe.py),
    less the cost of an empty measured call."""
    if shutil.which("valgrind") is None:
        return None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        lib = _toggle_library(tmp)
        if lib is None:
            return None
        per: dict[str, float] = {}
        for op in ["empty", *ops]:
            out = tmp / f"cg.{op}"
            res = subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--collect-atstart=no",
                    f"--callgrind-out-file={out}",
                    sys.executable,
                    str(HERE / "probe.py"),
                    op,
                    str(n),
                    str(lib),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            count = int(res.stdout.split()[-1])
            total = next(
                int(line.split()[1])
                for line in out.read_text().splitlines()
                if line.startswith(("totals:", "summary:"))
            )
            per[op] = total / count
        empty = per.pop("empty")
        return {op: ir - empty for op, ir in per.items()}


# -- the report ------------------------------------------------------------------------------

PEERS = ["transitions", "transitions/case", "python-statemachine", "dict FSM"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="comma-separated N values, two or more (default 10000,100000; 100,1000 for a smoke)",
    )
    parser.add_argument("--callgrind-n", type=int, default=200, help="cases per callgrind run")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--no-rss", action="store_true", help="skip the child-process RSS runs")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if len(sizes) < 2:
        parser.error("--sizes needs two or more values")
    small, big = sizes[-2], sizes[-1]
    cap = 10_000  # transitions' add_model scans a list: 100k bound models take many minutes
    rep = args.repeat
    print(f"# rjflow benchmarks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores; rjflow {version('rjflow')}, "
        f"transitions {version('transitions')}, python-statemachine "
        f"{version('python-statemachine')}, attrs {version('attrs')}, cattrs {version('cattrs')}"
    )
    print(
        f"Command: python bench/run.py --sizes {args.sizes} --repeat {rep}. Medians of {rep} runs;"
        " garbage collector ON in every timed block unless a column says GC off."
    )

    # -- fire --------------------------------------------------------------------------------
    print("\n## Fire\n")
    print(
        f"rjflow's path: {len(w.STEPS)} actions, {len(w.TRIGGERS)} stage-changing triggers and "
        f"{len(w.RECORDING)} record-keeping actions; peers: {len(peers.HAPPY)} triggers.\n"
    )
    print("| what | " + " | ".join(f"N={n:,}" for n in sizes) + f" | GC off (N={small:,}) |")
    print("|---|" + "---|" * (len(sizes) + 1))
    fire: dict[tuple[str, int], float] = {}
    for n in sizes:
        trig, rec = rj_fire_by_step(n, rep, gc_on=True)
        fire[("trigger", n)], fire[("record", n)] = trig, rec
        print(f"  measured rjflow fire at N={n:,}", file=sys.stderr)
    trig_off, rec_off = rj_fire_by_step(small, rep, gc_on=False)
    for n in sizes:
        if n <= cap:
            for lib in PEERS:
                fire[(lib, n)] = peer_fire(lib, n, rep, gc_on=True)
    peer_off = {lib: peer_fire(lib, min(small, cap), rep, gc_on=False) for lib in PEERS}

    def row(name: str, key: str, off: float) -> None:
        cells = [fmt_time(fire[(key, n)]) if (key, n) in fire else "—" for n in sizes]
        print(f"| {name} | " + " | ".join(cells) + f" | {fmt_time(off)} |")

    row("rjflow, per stage-changing trigger", "trigger", trig_off)
    row("rjflow, per record-keeping action", "record", rec_off)
    for lib in PEERS:
        row(f"{lib}, per trigger", lib, peer_off[lib])

    # -- floors and guard checks -------------------------------------------------------------
    fl = floors(rep)
    bare = fire[("transitions", min(small, cap))]
    floor_sum = bare + sum(fl.values())
    trig = fire[("trigger", small)]
    print(f"\n## One trigger against its floor (N={small:,}, GC on)\n")
    print("| what | per trigger | share of the floor |")
    print("|---|---|---|")
    print(f"| transitions' own dispatch (bare fire) | {fmt_time(bare)} | {bare / floor_sum:.0%} |")
    for name, secs in fl.items():
        print(f"| {name} | {fmt_time(secs)} | {secs / floor_sum:.0%} |")
    print(f"| **floor** (the three together) | {fmt_time(floor_sum)} | 100% |")
    print(
        f"| rjflow fire, per stage-changing trigger | {fmt_time(trig)} | "
        f"**{trig / floor_sum:.2f}× the floor** (target ≤ 1.5×) |"
    )
    static_t, static_r = w.guard_checks(w.TRIGGERS), w.guard_checks(w.RECORDING)
    dynamic = guard_checks_dynamic()
    per_check = guard_cost(rep)
    print("\n## Rules evaluated on the happy path\n")
    print("| library | rule checks on the path | of them on triggers | mean cost per check |")
    print("|---|---|---|---|")
    print(
        f"| rjflow | {dynamic} (table: {static_t + static_r}) | {static_t} | "
        f"{fmt_time(per_check)} |"
    )
    peer_checks = sum(
        len(t.get("conditions", ())) for t in peers.TRANSITIONS if t["trigger"] in peers.HAPPY
    )
    for lib in PEERS:
        print(f"| {lib} | {peer_checks} | {peer_checks} | — |")

    # -- open, refused ----------------------------------------------------------------------
    print("\n## Open / bind one case, and a refused trigger (per case)\n")
    print(
        "| what | "
        + " | ".join(f"N={n:,}" for n in sizes)
        + f" | 10× scaling | GC off (N={small:,}) |"
    )
    print("|---|" + "---|" * (len(sizes) + 2))
    opened = {n: bench_open("rjflow", n, rep) for n in sizes}
    open_off = bench_open("rjflow", small, rep, gc_on=False)
    open_off_big = bench_open("rjflow", big, rep, gc_on=False)
    scale = opened[big] * big / (opened[small] * small)
    print(
        "| rjflow open | "
        + " | ".join(fmt_time(opened[n]) for n in sizes)
        + f" | {scale:.1f}× (target ≤ 11×) | {fmt_time(open_off)} |"
    )
    print(
        f"| rjflow open, GC off | {fmt_time(open_off)} (N={small:,}) | "
        f"{fmt_time(open_off_big)} (N={big:,}) | "
        f"{open_off_big * big / (open_off * small):.1f}× | — |"
        if len(sizes) == 2
        else f"| rjflow open, GC off, N={big:,} | {fmt_time(open_off_big)} | — | — |"
    )
    k = tracked_per_case(w.rj_open)
    floor_gc = {n: gc_floor(n, round(k), rep) for n in (small, big)}
    print(
        f"| floor: {round(k)} GC-tracked lists per case (what an opened rjflow case holds), "
        f"GC on | {fmt_time(floor_gc[small])} (N={small:,}) | {fmt_time(floor_gc[big])} "
        f"(N={big:,}) | {floor_gc[big] * big / (floor_gc[small] * small):.1f}× | — |"
        if len(sizes) == 2
        else ""
    )
    fire_scale = (
        (fire[("trigger", big)] + fire[("record", big)])
        * big
        / ((fire[("trigger", small)] + fire[("record", small)]) * small)
    )
    print(
        "| rjflow fire (path) | "
        + " | ".join(
            fmt_time(
                fire[("trigger", n)] * len(w.TRIGGERS) + fire[("record", n)] * len(w.RECORDING)
            )
            for n in sizes
        )
        + f" | {fire_scale:.1f}× (target ≤ 11×) | — |"
    )
    for lib in PEERS:
        cells = [
            fmt_time(bench_open(lib if lib != "dict FSM" else "dict", n, rep)) if n <= cap else "—"
            for n in sizes
        ]
        print(f"| {lib} bind | " + " | ".join(cells) + " | — | — |")
    refused = {n: bench_refused("rjflow", n, rep) for n in sizes}
    print(
        "| rjflow refused trigger (with reasons) | "
        + " | ".join(fmt_time(refused[n]) for n in sizes)
        + " | — | — |"
    )
    for lib in PEERS:
        cells = [
            fmt_time(bench_refused(lib if lib != "dict FSM" else "dict", n, rep))
            if n <= cap
            else "—"
            for n in sizes
        ]
        print(f"| {lib} refused trigger | " + " | ".join(cells) + " | — | — |")

    # -- load -------------------------------------------------------------------------------
    print(
        "\n## Load from JSON Lines (per case: verify, replay or take the sealed snapshot, list options)\n"
    )
    print(
        "| what | "
        + " | ".join(f"N={n:,}" for n in sizes)
        + f" | × json.loads kept | × json.loads dropped | GC off (N={small:,}) |"
    )
    print("|---|" + "---|" * (len(sizes) + 3))
    loads: dict[tuple[str, int], float] = {}
    for n in sizes:
        plain, sealed = w.jsonl_lines(n)
        for kind in ("replay", "json.loads keeping documents", "json.loads"):
            loads[(kind, n)] = bench_load(kind, plain, max(1, rep - 1))
        loads[("sealed", n)] = bench_load("sealed", sealed, max(1, rep - 1))
        loads[("sealed json kept", n)] = bench_load(
            "json.loads keeping documents", sealed, max(1, rep - 1)
        )
        loads[("sealed json", n)] = bench_load("json.loads", sealed, max(1, rep - 1))
        if n == small:
            load_off = bench_load("replay", plain, 1, gc_on=False)
            sealed_off = bench_load("sealed", sealed, 1, gc_on=False)
        print(f"  measured loading at N={n:,}", file=sys.stderr)
        del plain, sealed
    for name, kind, kept, dropped, off in (
        ("rjflow replay-load", "replay", "json.loads keeping documents", "json.loads", load_off),
        ("rjflow sealed load", "sealed", "sealed json kept", "sealed json", sealed_off),
    ):
        cells = " | ".join(fmt_time(loads[(kind, n)]) for n in sizes)
        print(
            f"| {name} | {cells} | {loads[(kind, big)] / loads[(kept, big)]:.1f}× | "
            f"{loads[(kind, big)] / loads[(dropped, big)]:.1f}× | {fmt_time(off)} |"
        )
    for kind in ("json.loads keeping documents", "json.loads"):
        cells = " | ".join(fmt_time(loads[(kind, n)]) for n in sizes)
        print(f"| {kind} (plain lines) | {cells} | — | — | — |")
    load_scale = loads[("replay", big)] * big / (loads[("replay", small)] * small)
    print(
        f"\nReplay-load scaling {small:,} → {big:,}: {load_scale:.1f}× for 10× the cases (target ≤ 11×)."
    )

    # -- memory -----------------------------------------------------------------------------
    n_mem = min(10_000, small)
    print(f"\n## Memory per case (tracemalloc, N={n_mem:,}, bytes, with history)\n")
    print("| what | bytes per case |")
    print("|---|---|")
    plain, sealed = w.jsonl_lines(n_mem)
    machine = peers.shared_machine()

    def bound(_i: int) -> Any:
        m = peers.Model()
        machine.add_model(m)
        return m

    rows: list[tuple[str, float]] = [
        ("rjflow, opened case (1 event)", memory_per_case(w.rj_open, n_mem)),
        ("rjflow, completed case built in memory (16 events)", memory_per_case(w.completed, n_mem)),
        ("rjflow, completed case loaded from JSON, replayed", memory_loaded(plain, sealed=False)),
        (
            "rjflow, completed case loaded from JSON, sealed snapshot",
            memory_loaded(sealed, sealed=True),
        ),
        ("transitions bare (model after add_model)", memory_per_case(bound, n_mem)),
        (
            "transitions, machine per case",
            memory_per_case(lambda _i: peers.machine_per_case(peers.Model()), n_mem),
        ),
        (
            "python-statemachine (instance with model)",
            memory_per_case(lambda _i: peers.RJMachine(model=peers.Model()), n_mem),
        ),
        ("dict FSM", memory_per_case(lambda _i: peers.DictCase(), n_mem)),
    ]
    for name, b in rows:
        print(f"| {name} | {b:,.0f} |")
    print(
        "\nWhat one completed case loaded from JSON (replayed) holds of its own — objects no "
        "other loaded case shares (sys.getsizeof, GC header included):\n"
    )
    print("| object | count | bytes |")
    print("|---|---|---|")
    held = memory_breakdown(plain[:3])
    for name, (count, size) in held:
        print(f"| {name} | {count} | {size:,} |")
    print(f"| **total** | {sum(c for _, (c, _) in held)} | {sum(b for _, (_, b) in held):,} |")
    del plain, sealed

    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("plain", "sealed"):
            path = Path(tmp) / f"{kind}.jsonl"
            with path.open("w", encoding="utf-8") as fh:
                for i in range(big):
                    case = w.completed(i)
                    fh.write(dumps(case, seal_key=w.SEAL_KEY if kind == "sealed" else None))
                    fh.write("\n")
            if kind == "plain":
                transient, size = streaming_peak(path, big)
                print(
                    f"\nload_jsonl(path) of {big:,} cases: file {size / 2**20:,.0f} MiB; transient "
                    f"peak above the cases kept {transient / 2**20:,.1f} MiB "
                    "(a streaming reader holds one line at a time)."
                )
            if not args.no_rss:
                base, loaded = child_rss(path, sealed=(kind == "sealed"))
                print(
                    f"Peak RSS of a process holding {big:,} loaded cases ({kind}): "
                    f"{loaded / 2**20:,.2f} GiB ({(loaded - base) / big:,.1f} KiB per case above "
                    f"the {base / 2**10:,.0f} MiB of an idle process; target ≤ 0.8 GiB at 100,000)."
                )

    # -- instruction counts -----------------------------------------------------------------
    if not args.no_callgrind:
        print(f"\n## Instructions (callgrind, {args.callgrind_n} cases per run)\n")
        if shutil.which("valgrind") is None:
            print("valgrind is not installed: `apt-get install valgrind` to count instructions.")
        else:
            print("| what | instructions per operation | ratio |")
            print("|---|---|---|")
            counts = callgrind_counts([op for _n, op in CALLGRIND_OPS], args.callgrind_n) or {}
            floor_ir = sum(counts.get(k, 0.0) for k in ("transitions-fire", "sha", "evolve"))
            for name, op in CALLGRIND_OPS:
                ir = counts.get(op, 0.0)
                ratio = ""
                if op == "fire-trigger":
                    ratio = f"{ir / floor_ir:.2f}× the floor (bare fire + sha256 + evolve)"
                elif op in ("load-replay", "load-sealed"):
                    ratio = f"{ir / (counts.get('json-loads') or 1):.1f}× json.loads"
                print(f"| {name} | {ir:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
