"""How long the caseload report and the deadline list take over a large JSON Lines caseload.

    python bench/reporting.py --size 100000      # the issue's figure (target: 30 s)
    python bench/reporting.py --size 10000       # what a shared 2-core machine can spare
    python bench/reporting.py --size 10000 --sealed   # saved with a keyring and snapshot=True

``--sealed`` writes the caseload with the application's keyring and sealed snapshots, and loads
it with the keyring: the documented fast path (the chain and seals are verified, the record is
taken from the snapshot instead of replaying every event through the rules).

The caseload is the tests' synthetic one (tests/synthetic.py: seeded, every route of the
programme), written once to out/bench-caseload-<size>-<seed>.jsonl and reused.  Each phase is
timed on its own, in one process, as ``rjflow report`` and ``rjflow due`` run it: reading and
loading every case (each history verified and replayed), counting (rjflow.reporting), drawing
the page (matplotlib, the reports extra), and listing the overdue obligations; and, as a store's
read model would, counting from each case's facts kept as plain data (``CaseFacts.to_dict``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.synthetic import synthetic_caseload

from rjflow._report_html import render_html, svg_plots
from rjflow.case import Case
from rjflow.caseload import iter_jsonl
from rjflow.deadlines import DueState
from rjflow.integrity import Keyring
from rjflow.reporting import CaseFacts, Period, build_report, case_facts
from rjflow.serialization import dumps

#: A bench-only keyring (an application keeps its own secret).
RING = Keyring({"bench-1": b"rjflow bench reporting key, 32 B"}, current="bench-1")


def caseload_file(size: int, seed: int, sealed: bool) -> tuple[Path, float]:
    kind = "sealed" if sealed else "plain"
    path = ROOT / "out" / f"bench-caseload-{size}-{seed}-{kind}.jsonl"
    if path.exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for case in synthetic_caseload(size, seed):
            text = dumps(case, keyring=RING, snapshot=True) if sealed else dumps(case)
            handle.write(text + "\n")
    partial.replace(path)
    return path, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="cases in the caseload")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sealed", action="store_true", help="keyring and sealed snapshots")
    args = parser.parse_args()
    path, generated = caseload_file(args.size, args.seed, args.sealed)
    period = Period.days(date(2026, 1, 1), date(2026, 12, 31))
    at = datetime(2026, 12, 1, tzinfo=UTC)

    started = time.perf_counter()
    facts = []
    overdue = 0
    cases = 0
    load_s = due_s = facts_s = 0.0
    mark = time.perf_counter()
    for item in iter_jsonl(path, keyring=RING if args.sealed else None):
        now = time.perf_counter()
        load_s += now - mark
        if isinstance(item, Case):
            cases += 1
            facts.append(case_facts(item))
            mark2 = time.perf_counter()
            facts_s += mark2 - now
            overdue += sum(1 for o in item.due(at) if o.state is DueState.OVERDUE)
            due_s += time.perf_counter() - mark2
        mark = time.perf_counter()
    counted = time.perf_counter()
    numbers = build_report(facts, period)
    count_s = time.perf_counter() - counted
    # What a store's read model would hold: each case's facts as plain data (CaseFacts.to_dict),
    # read back and counted without loading a single case.
    stored = [json.dumps(f.to_dict()) for f in facts]
    from_facts = time.perf_counter()
    build_report((CaseFacts.from_dict(json.loads(text)) for text in stored), period)
    stored_s = time.perf_counter() - from_facts
    drawn = time.perf_counter()
    page = render_html(numbers, svg_plots(numbers))
    draw_s = time.perf_counter() - drawn
    total = time.perf_counter() - started
    result = {
        "cases": cases,
        "sealed": args.sealed,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "generated_s": round(generated, 1),
        "read_and_load_s": round(load_s, 2),
        "facts_s": round(facts_s, 2),
        "count_s": round(count_s, 3),
        "plots_and_page_s": round(draw_s, 2),
        "report_total_s": round(load_s + facts_s + count_s + draw_s, 2),
        "due_s": round(due_s, 2),
        "report_from_stored_facts_s": round(stored_s, 2),
        "overdue_obligations": overdue,
        "page_kb": len(page) // 1024,
        "wall_s": round(total, 2),
        "python": platform.python_version(),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
