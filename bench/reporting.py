"""How long the caseload report and the deadline list take over a large JSON Lines caseload.

    python bench/reporting.py --size 100000      # the issue's figure (target: 30 s)
    python bench/reporting.py --size 10000       # what a shared 2-core machine can spare
    python bench/reporting.py --size 10000 --sealed   # saved with a keyring and snapshot=True
    python bench/reporting.py --size 10000 --store sqlite     # from a store's report facts
    python bench/reporting.py --size 10000 --store postgres   # (a server as the tests start)
    python bench/reporting.py --size 10000 --store sqlite --copies 10   # a 100,000-case model

``--sealed`` writes the caseload with the application's keyring and sealed snapshots, and loads
it with the keyring: the documented fast path (the chain and seals are verified, the record is
taken from the snapshot instead of replaying every event through the rules).

The caseload is the tests' synthetic one (tests/synthetic.py: seeded, every route of the
programme), written once to out/bench-caseload-<size>-<seed>.jsonl and reused.  Each phase is
timed on its own, in one process, as ``rjflow report`` and ``rjflow due`` run it: reading and
loading every case (each history verified and replayed), counting (rjflow.reporting), drawing
the page (matplotlib, the reports extra), and listing the overdue obligations; and, as a store's
read model would, counting from each case's facts kept as plain data (``CaseFacts.to_dict``).

``--store sqlite|postgres`` measures instead the report from a store's read model, as ``rjflow
report STORE`` runs it: the caseload imported once into a store (SQLite: kept in
out/bench-store-<size>-<seed>.sqlite3; PostgreSQL: RJFLOW_POSTGRES_DSN or a server started
from the machine's binaries, as bench/stores.py does), then ``build_report(store.report_facts(),
period)`` timed ``--repeat`` times (no case is loaded).  ``--copies K`` copies the
stored summaries and facts K-1 times under new case ids, so that the read model holds
K x size cases while only ``size`` cases' events were saved: the report reads nothing else
(PostgreSQL too: its import is not kept between runs).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.synthetic import synthetic_caseload

import rjflow
from rjflow._report_html import render_html, svg_plots
from rjflow.case import Case
from rjflow.caseload import iter_jsonl, iter_jsonl_facts
from rjflow.deadlines import DueState
from rjflow.integrity import Keyring
from rjflow.reporting import CaseFacts, Period, build_report, case_facts
from rjflow.serialization import dumps
from rjflow.store import SQLiteStore

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


def sqlite_store(path: Path, size: int, seed: int, copies: int) -> tuple[Path, float]:
    """The caseload imported into a SQLite store (kept), its read model copied ``copies``
    times in all; and how long the import took (0 when the store was already there)."""
    db = ROOT / "out" / f"bench-store-{size}-{seed}-x{copies}.sqlite3"
    if db.exists():
        return db, 0.0
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    with SQLiteStore(partial) as store:
        store.import_jsonl(path)
    imported = time.perf_counter() - started
    if copies > 1:
        conn = sqlite3.connect(partial)
        with conn:
            for k in range(1, copies):
                conn.execute(
                    "INSERT INTO rjflow_summaries SELECT case_id || ?, stage, version, opened_at, "
                    "updated_at, offence_category, lead_facilitator, closure_reason, outcome, "
                    "closed_at, sessions_held, due_at, actionable FROM rjflow_summaries "
                    "WHERE case_id NOT LIKE '%-c%'",
                    (f"-c{k}",),
                )
                conn.execute(
                    "INSERT INTO rjflow_facts SELECT case_id || ?, version, "
                    "json_set(facts, '$.case_id', case_id || ?) FROM rjflow_facts "
                    "WHERE case_id NOT LIKE '%-c%'",
                    (f"-c{k}", f"-c{k}"),
                )
        conn.execute("VACUUM")
        conn.close()
    partial.replace(db)
    return db, imported


def postgres_copies(dsn: str, copies: int) -> None:
    """As ``sqlite_store`` does: the read model's summaries and facts copied ``copies`` - 1
    times under new case ids (the facts' own case id changed to match)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for k in range(1, copies):
            conn.execute(
                "INSERT INTO rjflow_summaries SELECT case_id || %s, stage, version, opened_at, "
                "updated_at, offence_category, lead_facilitator, closure_reason, outcome, "
                "closed_at, sessions_held, due_at, actionable FROM rjflow_summaries "
                "WHERE case_id NOT LIKE '%%-c%%'",
                (f"-c{k}",),
            )
            conn.execute(
                "INSERT INTO rjflow_facts SELECT case_id || %s, version, "
                "jsonb_set(facts::jsonb, '{case_id}', to_jsonb(case_id || %s))::text "
                "FROM rjflow_facts WHERE case_id NOT LIKE '%%-c%%'",
                (f"-c{k}", f"-c{k}"),
            )
        conn.execute("VACUUM ANALYZE")


def store_report(args: argparse.Namespace) -> None:
    """The report from a store's read model (see the module docstring)."""
    path, generated = caseload_file(args.size, args.seed, False)
    period = Period.days(date(2026, 1, 1), date(2026, 12, 31))
    with contextlib.ExitStack() as stack:
        if args.store == "sqlite":
            db, imported = sqlite_store(path, args.size, args.seed, args.copies)
            store: Any = stack.enter_context(SQLiteStore(db))
            where = {"store_mb": round(db.stat().st_size / 1e6, 1)}
        else:
            from bench.stores import fresh_schema, postgres
            from rjflow.store import PostgresStore

            dsn = stack.enter_context(postgres(os.environ.get("RJFLOW_POSTGRES_DSN")))
            if dsn is None:
                return
            _schema, schema_dsn = fresh_schema(dsn)
            store = stack.enter_context(PostgresStore(schema_dsn))
            started = time.perf_counter()
            store.import_jsonl(path)
            imported = time.perf_counter() - started
            if args.copies > 1:
                postgres_copies(schema_dsn, args.copies)
            import psycopg

            with psycopg.connect(schema_dsn) as conn:
                server = conn.info.server_version
            where = {
                "server": f"PostgreSQL {server // 10000}.{server % 10000} "
                "(RJFLOW_POSTGRES_DSN or started here)",
                "psycopg": psycopg.__version__,
            }
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            numbers = build_report(store.report_facts(), period)
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows = sum(1 for _ in store.report_facts())
        read_s = time.perf_counter() - started
        counted = build_report(store.report_facts(), period)
    result = {
        "store": args.store,
        "cases": numbers.cases,
        "cases_with_events": args.size,
        **where,
        "generated_s": round(generated, 1) if generated else "reused (out/)",
        "imported_s": round(imported, 1) if imported else "reused (out/)",
        "report_from_facts_s_best": round(min(times), 2),
        "report_from_facts_s_median": round(statistics.median(times), 2),
        "read_facts_only_s": round(read_s, 2),
        "repeat": args.repeat,
        "same_report_each_run": counted == numbers and rows == numbers.cases,
    }
    _print_result(result)


def _print_result(result: dict[str, Any]) -> None:
    """``result`` with where and when it ran, as aligned lines and then one JSON line."""
    result |= {
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "rjflow": rjflow.__version__,
        "sqlite": sqlite3.sqlite_version,
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="cases in the caseload")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sealed", action="store_true", help="keyring and sealed snapshots")
    parser.add_argument(
        "--verified-history",
        action="store_true",
        help="(with --sealed) facts from each verified history, no case built (iter_jsonl_facts)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="(--verified-history) processes reading at once"
    )
    parser.add_argument(
        "--store", choices=("sqlite", "postgres"), help="the report from a store's facts"
    )
    parser.add_argument("--copies", type=int, default=1, help="(--store) read model copies")
    parser.add_argument("--repeat", type=int, default=3, help="(--store) timed runs")
    args = parser.parse_args()
    if args.store is not None:
        store_report(args)
        return
    if args.verified_history and not args.sealed:
        parser.error("--verified-history reads sealed documents: give --sealed too")
    path, generated = caseload_file(args.size, args.seed, args.sealed)
    period = Period.days(date(2026, 1, 1), date(2026, 12, 31))
    at = datetime(2026, 12, 1, tzinfo=UTC)

    started = time.perf_counter()
    # As `rjflow report` counts: one pass, each case's facts handed to the tally as it is read
    # (nothing per case is kept but its facts as JSON text, which the collector never scans).
    stored: list[str] = []
    times = {"load": 0.0, "facts": 0.0, "due": 0.0, "keep": 0.0}
    tally = {"cases": 0, "overdue": 0}

    def facts_as_read() -> Iterator[CaseFacts]:
        if args.verified_history:
            # Sealed documents' facts read from their verified histories, no case built
            # (rjflow.caseload.iter_jsonl_facts); no case, so no due dates either.
            mark = time.perf_counter()
            for item in iter_jsonl_facts(path, keyring=RING, workers=args.workers):
                now = time.perf_counter()
                times["load"] += now - mark
                if isinstance(item, CaseFacts):
                    tally["cases"] += 1
                    stored.append(json.dumps(item.to_dict()))
                    times["keep"] += time.perf_counter() - now
                    yield item
                mark = time.perf_counter()
            return
        mark = time.perf_counter()
        for item in iter_jsonl(path, keyring=RING if args.sealed else None):
            now = time.perf_counter()
            times["load"] += now - mark
            if isinstance(item, Case):
                tally["cases"] += 1
                facts = case_facts(item)
                mark2 = time.perf_counter()
                times["facts"] += mark2 - now
                tally["overdue"] += sum(1 for o in item.due(at) if o.state is DueState.OVERDUE)
                mark3 = time.perf_counter()
                times["due"] += mark3 - mark2
                stored.append(json.dumps(facts.to_dict()))  # for the read model's figure
                times["keep"] += time.perf_counter() - mark3
                yield facts
            mark = time.perf_counter()

    numbers = build_report(facts_as_read(), period)
    whole = time.perf_counter() - started
    load_s, facts_s, due_s = times["load"], times["facts"], times["due"]
    count_s = whole - load_s - facts_s - due_s - times["keep"]  # the tally's own share
    cases, overdue = tally["cases"], tally["overdue"]
    # What a store's read model would hold: each case's facts as plain data (CaseFacts.to_dict),
    # read back and counted without loading a single case.
    from_facts = time.perf_counter()
    build_report((CaseFacts.from_dict(json.loads(text)) for text in stored), period)
    stored_s = time.perf_counter() - from_facts
    drawn = time.perf_counter()
    page = render_html(numbers, svg_plots(numbers))
    draw_s = time.perf_counter() - drawn
    total = time.perf_counter() - started - stored_s
    # The floor under loading: reading the lines and json.loads of each (nothing kept).
    floor = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            json.loads(line)
    json_s = time.perf_counter() - floor
    result = {
        "cases": cases,
        "sealed": args.sealed,
        "verified_history": args.verified_history,
        "workers": args.workers,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "generated_s": round(generated, 1),
        "read_and_load_s": round(load_s, 2),
        "load_ms_per_case": round(load_s / max(cases, 1) * 1000, 3),
        "json_loads_only_s": round(json_s, 2),
        "load_over_json_loads": round(load_s / json_s, 1),
        "facts_s": round(facts_s, 2),
        "count_s": round(count_s, 3),
        "plots_and_page_s": round(draw_s, 2),
        "report_total_s": round(load_s + facts_s + count_s + draw_s, 2),
        "due_s": round(due_s, 2),
        "report_from_stored_facts_s": round(stored_s, 2),
        "overdue_obligations": overdue,
        "page_kb": len(page) // 1024,
        "wall_s": round(total, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "full_collections": gc.get_stats()[2]["collections"],  # the collector on, as in an app
    }
    _print_result(result)


if __name__ == "__main__":
    main()
