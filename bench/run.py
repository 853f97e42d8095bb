"""Side-by-side benchmarks: rjflow against transitions, python-statemachine and a dict FSM.

    make bench            # or: python bench/run.py [--quick] [--repeat 3]

Everything runs in one process, on the same 9-state workflow with the same two guards
(bench/peers.py), and prints medians of several repetitions with ratios against the floor
(a hand-written dict FSM) and bare transitions from the same run.  Peers are installed only
for the benchmark (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers

from rjflow import (
    ActionRefused,
    Case,
    ContactActivity,
    Facilitator,
    Offence,
    OffenceCategory,
    RiskOutcome,
)
from rjflow.serialization import dumps, load_jsonl

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
OFFENCE = Offence(OffenceCategory.HOUSEHOLD_BURGLARY)
FACILITATORS = [Facilitator("F1")]


def rj_open(i: int) -> Case:
    return Case.open(
        f"C{i}",
        offence=OFFENCE,
        offender="O1",
        victims=["V1"],
        facilitators=FACILITATORS,
        lead_facilitator="F1",
        sentenced_on=date(2026, 2, 1),
        at=T0,
        actor="F1",
    )


#: The actions rj_happy_path takes (the opening is timed separately).
HAPPY_ACTIONS = 15


def rj_happy_path(case: Case) -> None:
    """Referral to completion: 15 actions, 5 of them stage-changing triggers."""
    t = T0
    f = "F1"
    two = timedelta(hours=2)
    case.start_introduction(at=(t := t + H), actor=f)
    case.record_session(duration=two, at=(t := t + H), actor=f)
    case.acknowledge_responsibility(guilty_plea=True, at=t, actor=f)
    case.start_preparation(at=(t := t + H), actor=f)
    case.record_session(duration=two, at=(t := t + H), actor=f)
    case.assess_risk(RiskOutcome.FAVOURABLE, at=t, actor=f)
    for p in ("O1", "V1"):
        case.give_information(p, ContactActivity.FACE_TO_FACE, at=t, actor=f)
        case.record_consent(p, ContactActivity.FACE_TO_FACE, at=t, actor=f)
    case.hold_conference(at=(t := t + H), actor=f)
    case.record_session(duration=two, at=t, actor=f)
    case.start_reviews(at=(t := t + H), actor=f)
    case.record_session(duration=two, at=(t := t + H), actor=f)
    case.complete(at=t + H, actor=f)


def rj_preparation_case(i: int) -> Case:
    case = rj_open(i)
    t = T0
    case.start_introduction(at=(t := t + H), actor="F1")
    case.record_session(duration=2 * H, at=t, actor="F1")
    case.acknowledge_responsibility(guilty_plea=True, at=t, actor="F1")
    case.start_preparation(at=t, actor="F1")
    return case


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def median_of(repeat: int, fn: Callable[[], Any], setup: Callable[[], Any] | None = None) -> float:
    results = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        results.append(timed(fn))
    return statistics.median(results)


# -- the operations, per library ------------------------------------------------------------


def bench_open(lib: str, n: int, repeat: int) -> float:
    """Seconds per case to open (rjflow) or bind (peers) n cases."""
    holder: list[Any] = []

    if lib == "rjflow":

        def run() -> None:
            holder[:] = [rj_open(i) for i in range(n)]
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

    return median_of(repeat, run, holder.clear) / n


def bench_fire(lib: str, n: int, repeat: int) -> float:
    """Seconds per action over the happy path of n cases."""
    cases: list[Any] = []
    actions = 5

    if lib == "rjflow":

        def setup() -> None:
            cases[:] = [rj_open(i) for i in range(n)]

        def run() -> None:
            for c in cases:
                rj_happy_path(c)
            # The per-action figure divides by HAPPY_ACTIONS: check it is what was done.
            assert cases[0].version == 1 + HAPPY_ACTIONS, cases[0].version

        actions = HAPPY_ACTIONS
    elif lib == "transitions":

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

    return median_of(repeat, run, setup) / (n * actions)


def bench_refused(lib: str, n: int, repeat: int) -> float:
    """Seconds per refused hold_conference (a guard fails) over n cases."""
    cases: list[Any] = []
    if lib == "rjflow":

        def setup() -> None:
            cases[:] = [rj_preparation_case(i) for i in range(n)]

        def run() -> None:
            for c in cases:
                try:
                    c.hold_conference(at=T0 + 9 * H, actor="F1")
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


#: The application's secret for sealed snapshots (32 random bytes in real use).
SEAL_KEY = b"bench seal key: 32 random bytes!"


def jsonl_lines(n: int) -> tuple[list[str], list[str]]:
    """n completed cases (16 events each) as JSON Lines, plain and with sealed snapshots.

    Each line is a real case under its own id (its hashes differ), opened and taken down the
    happy path, so every line must be verified and replayed on its own."""
    plain: list[str] = []
    sealed: list[str] = []
    for i in range(n):
        case = rj_open(i)
        rj_happy_path(case)
        plain.append(dumps(case))
        sealed.append(dumps(case, seal_key=SEAL_KEY))
    return plain, sealed


def bench_load(lib: str, lines: list[str], repeat: int) -> float:
    """Seconds per case to load a JSON Lines row and list its state and available actions."""
    n = len(lines)
    if lib in ("rjflow", "rjflow (sealed snapshot)"):
        key = SEAL_KEY if lib == "rjflow (sealed snapshot)" else None

        def run() -> None:
            report = load_jsonl(lines, seal_key=key)
            assert len(report.cases) == n, report.problems[:1]
            for case in report.cases:
                _ = case.state, case.options()
    elif lib in ("json.loads", "json.loads (sealed lines)"):

        def run() -> None:
            for line in lines:
                json.loads(line)
    elif lib in ("transitions", "transitions/case"):
        machine = peers.shared_machine()

        def run() -> None:
            for line in lines:
                doc = json.loads(line)
                _ = doc["state"], machine.get_triggers(doc["state"])
    elif lib == "python-statemachine":
        sm = peers.RJMachine(model=peers.Model())

        def run() -> None:
            for line in lines:
                doc = json.loads(line)
                state = sm.states_map[doc["state"]]
                _ = state, [t.event for t in state.transitions]
    else:

        def run() -> None:
            for line in lines:
                doc = json.loads(line)
                _ = doc["state"], peers.DICT_TRIGGERS.get(doc["state"], [])

    return median_of(repeat, run) / n


def memory_per_case(make: Callable[[int], Any], n: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [make(i) for i in range(n)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(kept) == n
    return (after - before) / n


# -- the report ------------------------------------------------------------------------------

LIBS = ["rjflow", "transitions", "transitions/case", "python-statemachine", "dict FSM"]
SEALED = "rjflow (sealed snapshot)"
SEALED_JSON = "json.loads (sealed lines)"
#: Loading is compared with json.loads of the very same lines.
LOAD_ROWS = [*LIBS[:1], SEALED, *LIBS[1:], "json.loads", SEALED_JSON]


def fmt_time(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:,.2f} µs" if us < 100 else f"{us:,.0f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 1,000 and 10,000 only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sizes", help="comma-separated N values, e.g. 100,1000 for a smoke run (two or more)"
    )
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    # add_model's list scan makes bare transitions quadratic: 100k cases take many minutes.
    caps = {"transitions/case": 10_000, "python-statemachine": 10_000, "transitions": 10_000}
    print(f"# rjflow benchmarks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{platform.processor() or 'cpu'}; rjflow {version('rjflow')}, "
        f"transitions {version('transitions')}, python-statemachine "
        f"{version('python-statemachine')}, attrs {version('attrs')}, cattrs {version('cattrs')}"
    )
    print(
        f"Medians of {args.repeat} runs. Caps: "
        + ", ".join(f"{k} N ≤ {v:,}" for k, v in caps.items())
    )
    results: dict[tuple[str, str, int], float] = {}
    for n in sizes:
        for lib in LIBS:
            if n > caps.get(lib, 10**9):
                continue
            key = "dict" if lib == "dict FSM" else lib
            results[("open", lib, n)] = bench_open(key, n, args.repeat)
            results[("fire", lib, n)] = bench_fire(key, n, args.repeat)
            results[("refused", lib, n)] = bench_refused(key, n, args.repeat)
            print(f"  measured {lib} at N={n:,}", file=sys.stderr)
        plain, sealed = jsonl_lines(n)
        for lib in LOAD_ROWS:
            if n > caps.get(lib, 10**9):
                continue
            key = "dict" if lib == "dict FSM" else lib
            lines = sealed if lib in (SEALED, SEALED_JSON) else plain
            results[("load", lib, n)] = bench_load(key, lines, max(1, args.repeat - 1))
        del plain, sealed
    print()
    for op, title in [
        ("open", "Open / bind one case (per case)"),
        ("fire", "Fire (per action; rjflow's path is 15 actions incl. 5 triggers, peers' 5)"),
        ("refused", "A refused trigger (per attempt)"),
        ("load", "Load from JSON Lines + state + available actions (per case)"),
    ]:
        print(f"## {title}\n")
        print(
            "| library | "
            + " | ".join(f"N={n:,}" for n in sizes)
            + f" | ×floor (N={sizes[-2]:,}) | ×transitions (N={sizes[-2]:,}) | 10×N scaling |"
        )
        print("|---|" + "---|" * (len(sizes) + 3))
        names = LOAD_ROWS if op == "load" else LIBS
        for lib in names:
            cells = [
                fmt_time(results[(op, lib, n)]) if (op, lib, n) in results else "—" for n in sizes
            ]
            ref_n = sizes[-2]
            mine = results.get((op, lib, ref_n))
            floor_lib = "dict FSM"
            if op == "load":
                floor_lib = SEALED_JSON if lib in (SEALED, SEALED_JSON) else "json.loads"
            floor = results.get((op, floor_lib, ref_n))
            bare = results.get((op, "transitions", ref_n))
            ratio_floor = f"{mine / floor:,.1f}" if mine and floor else "—"
            ratio_bare = f"{mine / bare:,.2f}" if mine and bare else "—"
            measured = [n for n in sizes if (op, lib, n) in results]
            scaling = (
                f"{results[(op, lib, measured[-1])] * measured[-1] / (results[(op, lib, measured[-2])] * measured[-2]):.1f}"
                if len(measured) >= 2
                else "—"
            )
            print(
                f"| {lib} | " + " | ".join(cells) + f" | {ratio_floor} | {ratio_bare} | {scaling} |"
            )
        print()
    print("## Opening against transitions' add_model with 50,000 cases already bound\n")
    machine50 = peers.shared_machine()
    for _ in range(50_000):
        machine50.add_model(peers.Model())
    extra = [peers.Model() for _ in range(1_000)]

    def add_more() -> None:
        for m in extra:
            machine50.add_model(m)

    add50 = timed(add_more) / len(extra)
    open_rj = results[("open", "rjflow", sizes[-1])]
    print("| operation | per case | ratio |")
    print("|---|---|---|")
    print(f"| transitions add_model at 50k | {fmt_time(add50)} | 1.00 |")
    print(f"| rjflow Case.open (N={sizes[-1]:,}) | {fmt_time(open_rj)} | {open_rj / add50:.3f} |")
    big = sizes[-1]
    print()
    for lib, floor_lib in (("rjflow", "json.loads"), (SEALED, SEALED_JSON)):
        mine, floor = results[("load", lib, big)], results[("load", floor_lib, big)]
        print(
            f"Loading {big:,} cases from JSON Lines, {lib}: {fmt_time(mine)} per case, "
            f"{floor_lib} of the same lines {fmt_time(floor)}: ratio {mine / floor:.1f}."
        )
    print()
    n_mem = 10_000
    print(f"## Memory per idle case (tracemalloc, N={n_mem:,})\n")
    print("| what | bytes per case |")
    print("|---|---|")
    machine = peers.shared_machine()

    def bound(_i: int) -> Any:
        m = peers.Model()
        machine.add_model(m)
        return m

    def completed(i: int) -> Case:
        case = rj_open(i)
        rj_happy_path(case)
        return case

    rows: list[tuple[str, Callable[[int], Any]]] = [
        ("rjflow, opened case without history (its CaseRecord)", lambda i: rj_open(i).record),
        ("rjflow, opened case with its history (1 event)", rj_open),
        ("rjflow, completed case with its history (16 events)", completed),
        ("transitions bare (model after add_model)", bound),
        ("transitions, machine per case", lambda _i: peers.machine_per_case(peers.Model())),
        (
            "python-statemachine (instance with model)",
            lambda _i: peers.RJMachine(model=peers.Model()),
        ),
        ("dict FSM", lambda _i: peers.DictCase()),
    ]
    for name, make in rows:
        print(f"| {name} | {memory_per_case(make, n_mem):,.0f} |")


if __name__ == "__main__":
    main()
