"""The stores side by side: rjflow's SQLite and PostgreSQL stores against the floor (plain
sqlite3 / plain psycopg inserting the same JSON rows) and the eventsourcing library's
recorders, in one run; then the caseload screen (one page of 50 overdue cases).

    python bench/stores.py     # the issue's sizes: 10,000 cases, 1,000 appends, caseload 100,000
    python bench/stores.py --cases 200 --appends 100 --caseload 400 --repeat 1   # a smoke run

PostgreSQL: RJFLOW_POSTGRES_DSN, or a server this script starts from the machine's binaries
(as the tests do; fsync off, unix socket).  eventsourcing is measured when it is installed
(``pip install eventsourcing``).  Every implementation saves the same cases: each case is one
transaction of its ~16 events (rjflow's rows: the event's JSON data and its hashes); "append"
adds one event to each of ``--appends`` cases, one transaction each.  rjflow's figures include
what the floor does not do: the version check, the free-text rows and the case's summary and
report facts (the read models), computed in Python and written in the same transaction.

Like with like: on SQLite every implementation runs in WAL mode with ``synchronous=NORMAL``
(rjflow's setting; eventsourcing's recorder is given it too, and is also shown at its own
default, FULL, which flushes the log at every commit); on PostgreSQL all share one server.
The PostgreSQL floor is the faster, column by column, of two plain psycopg ways: one
multi-row INSERT per case (one round trip, as rjflow now writes) and BEGIN / executemany /
COMMIT.  Implementations are measured round-robin, median of ``--repeat`` rounds.  The cases are built first and
frozen out of the garbage collector (``gc.freeze``), so that no implementation's time includes
the collector walking the bench's own fixture.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.builders import at_stage

from rjflow import AgreementAction, Case, State
from rjflow._eventstore import _facts_text
from rjflow._storerows import rows as event_rows
from rjflow.projection import summarise
from rjflow.store import SQLiteStore

FLOOR_TABLE = """
    CREATE TABLE events (
        case_id TEXT NOT NULL, sequence INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, data TEXT NOT NULL, from_state TEXT, to_state TEXT,
        previous_hash TEXT NOT NULL, hash TEXT NOT NULL, occurred_at TEXT,
        PRIMARY KEY (case_id, sequence))
"""


# -- the cases ---------------------------------------------------------------------------------


def build_cases(n: int, prefix: str = "RJ-B") -> list[Case]:
    """n cases of about 16 events; every other one has an agreement action due in 2026-09, so
    half the caseload is overdue after that."""
    cases = []
    for i in range(n):
        case, clock = at_stage(State.CONFERENCE, case_id=f"{prefix}{i:06d}")
        if i % 2 == 0:
            case.propose_agreement(
                [AgreementAction("A1", "Write a letter", "O1", date(2026, 9, 1))],
                at=clock(),
                actor="F1",
            )
        else:
            case.record_session(duration=timedelta(hours=2), at=clock(), actor="F1")
        cases.append(case)
    return cases


# -- timing ------------------------------------------------------------------------------------


def timed(run: Callable[[], None], repeat: int) -> float:
    """The median wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- implementations: each gives save_all(cases) and append_one(cases) on a fresh database -----


class RjflowSQLite:
    name = "rjflow SQLiteStore"

    def __init__(self, folder: Path) -> None:
        self.store = SQLiteStore(folder / f"{uuid.uuid4().hex}.sqlite3")

    def save_all(self, cases: list[Case]) -> None:
        for case in cases:
            self.store.save(case, expected_version=0)

    def append_one(self, cases: list[tuple[Case, int]]) -> None:
        for case, before in cases:
            self.store.save(case, expected_version=before)

    def overdue_page(self, at: datetime) -> int:
        return len(self.store.find(overdue_at=at, limit=50))

    def close(self) -> None:
        self.store.close()


class FloorSQLite:
    name = "floor: sqlite3"

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / f"{uuid.uuid4().hex}.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(FLOOR_TABLE)

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        self.db.execute("COMMIT")

    def save_all(self, cases: list[Case]) -> None:
        for case in cases:
            self._insert(event_rows(case, 0))

    def append_one(self, cases: list[tuple[Case, int]]) -> None:
        for case, before in cases:
            self._insert(event_rows(case, before))

    def close(self) -> None:
        self.db.close()


class RjflowPostgres(RjflowSQLite):
    name = "rjflow PostgresStore"

    def __init__(self, dsn: str) -> None:
        from rjflow.store import PostgresStore

        self.store = PostgresStore(dsn, pool_size=1)  # type: ignore[assignment]


class FloorPostgres:
    """The case's rows in one multi-row INSERT, in autocommit (the statement is its own
    transaction): one round trip per case, the fastest plain psycopg way we found (and the
    way rjflow's store now writes)."""

    name = "floor: psycopg, one INSERT"

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(FLOOR_TABLE)

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        values = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"] * len(rows))
        self.conn.execute(f"INSERT INTO events VALUES {values}", [v for r in rows for v in r])

    save_all = FloorSQLite.save_all
    append_one = FloorSQLite.append_one

    def close(self) -> None:
        self.conn.close()


class FloorPostgresTransaction(FloorPostgres):
    """The idiomatic psycopg way: BEGIN, executemany (pipelined), COMMIT: three round trips,
    but the server parses sixteen small statements rather than one large one.  The floor of
    each column is the faster of the two."""

    name = "floor: psycopg, BEGIN + executemany + COMMIT"

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany("INSERT INTO events VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)


def _stored_events(case: Case, after: int, originator: uuid.UUID) -> list[Any]:
    """The case's events as eventsourcing StoredEvents: the same JSON data as state."""
    from eventsourcing.persistence import StoredEvent

    return [
        StoredEvent(
            originator_id=originator,
            originator_version=row[1],
            topic=f"rjflow:{row[4]}",
            state=json.dumps(row).encode(),
        )
        for row in event_rows(case, after)
    ]


class EventsourcingRecorder:
    """eventsourcing's aggregate recorder: one insert_events call (one transaction) per case."""

    def __init__(self, recorder: Any, name: str) -> None:
        self.recorder = recorder
        self.name = name
        self.ids: dict[str, uuid.UUID] = {}
        recorder.create_table()

    def save_all(self, cases: list[Case]) -> None:
        for case in cases:
            originator = self.ids.setdefault(case.case_id, uuid.uuid4())
            self.recorder.insert_events(_stored_events(case, 0, originator))

    def append_one(self, cases: list[tuple[Case, int]]) -> None:
        for case, before in cases:
            self.recorder.insert_events(_stored_events(case, before, self.ids[case.case_id]))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.recorder.datastore.close()


def es_sqlite(folder: Path, *, durability_as_rjflow: bool = True) -> EventsourcingRecorder:
    """eventsourcing's SQLite recorder as its documentation sets it up (a file database,
    which it puts in WAL mode).  ``durability_as_rjflow``: its connections also get
    ``PRAGMA synchronous=NORMAL``, the setting rjflow's store and the floor use (a commit is
    not flushed to disk until a checkpoint); without it, SQLite's default FULL flushes the
    WAL at every commit, which is more durable and costs a disk flush per transaction."""
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore

    datastore = SQLiteDatastore(str(folder / f"{uuid.uuid4().hex}-es.sqlite3"))
    name = "eventsourcing SQLite"
    if durability_as_rjflow:
        pool = datastore.pool
        create = pool._create_connection

        def create_normal() -> Any:
            connection = create()
            connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
            return connection

        pool._create_connection = create_normal  # type: ignore[method-assign]
    else:
        name += " (its default: synchronous=FULL)"
    return EventsourcingRecorder(SQLiteAggregateRecorder(datastore), name)


def es_postgres(dsn: str, schema: str) -> EventsourcingRecorder:
    from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    datastore = PostgresDatastore(
        dbname=str(params.get("dbname", "postgres")),
        host=str(params.get("host", "localhost")),
        port=str(params.get("port", "5432")),
        user=str(params.get("user", "postgres")),
        password=str(params.get("password", "")),
        schema=schema,
    )
    return EventsourcingRecorder(PostgresAggregateRecorder(datastore), "eventsourcing Postgres")


# -- the run -----------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres(dsn: str | None) -> Iterator[str | None]:
    """A DSN: the one given, or a server started here; None when neither is possible."""
    if dsn:
        yield dsn
        return
    from tests.pgserver import NoServer, temporary_server

    try:
        with temporary_server() as started:
            yield started
    except NoServer as exc:
        print(f"PostgreSQL not measured: {exc}")
        yield None


def fresh_schema(dsn: str) -> tuple[str, str]:
    """A new schema on the server and a DSN whose search_path is it."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"b_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema, make_conninfo(dsn, options=f"-c search_path={schema}")


def measure(
    make: Callable[[], Any], cases: list[Case], grown: list[tuple[Case, int]], repeat: int
) -> dict[str, Any]:
    """Save every case, then append one event to ``len(grown)`` of them: fresh database each
    repetition; median times."""
    saves: list[float] = []
    appends: list[float] = []
    name = ""
    for _ in range(repeat):
        impl = make()
        name = impl.name
        try:
            start = time.perf_counter()
            impl.save_all(cases)
            saves.append(time.perf_counter() - start)
            start = time.perf_counter()
            impl.append_one(grown)
            appends.append(time.perf_counter() - start)
        finally:
            impl.close()
    return {"name": name, "save": statistics.median(saves), "append": statistics.median(appends)}


def wal_frames(
    make: Callable[[], Any], cases: list[Case], grown: list[tuple[Case, int]]
) -> tuple[float, dict[str, float]]:
    """SQLite pages written to the write-ahead log per append (automatic checkpoints off, so
    the log holds them all): what a commit writes, one frame of 4 KiB per page changed; and
    the same by the table or index each page belongs to (SQLite's ``dbstat``), when this
    SQLite has it."""
    impl = make()
    try:
        impl.save_all(cases)
        db = impl.db if hasattr(impl, "db") else impl.store._db
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA wal_autocheckpoint=0")
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        path = Path(db.execute("PRAGMA database_list").fetchone()[2] + "-wal")
        impl.append_one(grown)
        log = path.read_bytes()
        appends = max(len(grown), 1)
        # Each frame: a 24-byte header whose first 4 bytes are the page number, then the page.
        pages = [
            int.from_bytes(log[at : at + 4], "big")
            for at in range(32, len(log) - 23, page_size + 24)
        ]
        try:
            owner = dict(db.execute("SELECT pageno, name FROM dbstat").fetchall())
        except sqlite3.Error:  # built without SQLITE_ENABLE_DBSTAT_VTAB
            owner = {}
        by_tree: dict[str, float] = {}
        for page in pages:
            name = owner.get(page, "?")
            by_tree[name] = by_tree.get(name, 0) + 1 / appends
        return len(pages) / appends, by_tree
    finally:
        impl.close()


def caseload(
    make: Callable[[], Any], cases: list[Case], repeat: int, replay_limit: int
) -> tuple[str, float, float]:
    """One page of 50 overdue cases among ``cases``, by the store's query, and by loading and
    projecting every case (what an application without the read model does), the latter
    timed on at most ``replay_limit`` cases and scaled to all of them: seconds."""
    impl = make()
    try:
        impl.save_all(cases)
        at = datetime(2026, 10, 1, tzinfo=UTC)
        query = timed(lambda: impl.overdue_page(at), max(repeat, 5))
        store = impl.store
        ids = store.case_ids()[:replay_limit]

        def by_replay() -> None:
            overdue = [i for i in ids if summarise(store.load(i)).overdue(at)]
            del overdue[50:]  # the page shown

        replay = timed(by_replay, 1) * len(cases) / max(len(ids), 1)
    finally:
        impl.close()
    return impl.name, query, replay


def parallel_worker(
    kind: str, target: str, n: int, worker: int, barrier: Any
) -> tuple[float, float]:
    """One process of the parallel run: build its own n cases, wait for the others, save
    them (one transaction each); returns when it started and ended (CLOCK_MONOTONIC, which
    all processes share on Linux)."""
    cases = build_cases(n, prefix=f"RJ-W{worker}-")
    from rjflow.store import PostgresStore

    store = (
        SQLiteStore(target, timeout=60) if kind == "sqlite" else PostgresStore(target, pool_size=1)
    )
    try:
        barrier.wait()
        start = time.monotonic()
        for case in cases:
            store.save(case, expected_version=0)
        return start, time.monotonic()
    finally:
        store.close()


def parallel(kind: str, target: str, processes: int, per_process: int) -> float:
    """Events per second saved by ``processes`` processes at once, each its own cases."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(processes)
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            futures = [
                pool.submit(parallel_worker, kind, target, per_process, w, barrier)
                for w in range(processes)
            ]
            spans = [f.result() for f in futures]
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    events = processes * per_process * 16
    return events / wall


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases saved (~16 events)")
    parser.add_argument("--appends", type=int, default=1_000, help="cases given one event")
    parser.add_argument(
        "--caseload", type=int, default=100_000, help="cases for the overdue-page query"
    )
    parser.add_argument(
        "--replay-limit",
        type=int,
        default=2_000,
        help="cases loaded to time 'load every case' (scaled to the caseload)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: start one)")
    parser.add_argument("--processes", type=int, default=4, help="for the parallel run")
    args = parser.parse_args()
    dsn_given = args.dsn or os.environ.get("RJFLOW_POSTGRES_DSN")
    print(
        f"Python {platform.python_version()} on {platform.machine()}; rjflow "
        f"{installed('rjflow')}, psycopg {installed('psycopg')}, eventsourcing "
        f"{installed('eventsourcing') or 'not installed'}; run "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    started = time.perf_counter()
    cases = build_cases(args.cases)
    appends = min(args.appends, args.cases)
    grown: list[tuple[Case, int]] = []
    for case in map(copy.deepcopy, cases[:appends]):
        before = case.version
        case.record_session(
            duration=timedelta(hours=1), at=case.record.updated_at + timedelta(hours=1), actor="F1"
        )
        grown.append((case, before))
    events = sum(c.version for c in cases)
    print(
        f"{args.cases} cases, {events} events ({events / args.cases:.1f} a case), built in "
        f"{time.perf_counter() - started:.1f} s; {appends} appends; median of {args.repeat}"
    )
    # The cases are the bench's fixture, alive for the whole run: without this every
    # implementation's timings would include the garbage collector walking them again and
    # again (the more it allocates, the more often), which no application holding a case or
    # two pays.
    gc.collect()
    gc.freeze()
    compute = timed(lambda: [(summarise(c), _facts_text(c)) for c, _ in grown], args.repeat)
    print(
        f"computing the summary and report facts (Python, in every rjflow save): "
        f"{1e6 * compute / max(appends, 1):.0f} µs per appended case"
    )
    # The append test appends to cases saved first by save_all: copies of the first
    # ``appends`` cases, each one event longer.
    results = []
    with tempfile.TemporaryDirectory() as tmp, postgres(dsn_given) as dsn:
        folder = Path(tmp)
        makers: list[Callable[[], Any]] = [
            lambda: FloorSQLite(folder),
            lambda: RjflowSQLite(folder),
        ]
        if installed("eventsourcing"):
            makers.append(lambda: es_sqlite(folder))
            makers.append(lambda: es_sqlite(folder, durability_as_rjflow=False))
        if dsn is not None:
            makers += [
                lambda: FloorPostgres(fresh_schema(dsn)[1]),
                lambda: FloorPostgresTransaction(fresh_schema(dsn)[1]),
                lambda: RjflowPostgres(fresh_schema(dsn)[1]),
            ]
            if installed("eventsourcing"):
                makers.append(lambda: es_postgres(dsn, fresh_schema(dsn)[0]))
        # Round-robin: each repetition measures every implementation once, so that a burst of
        # load on the shared machine falls on all of them, not on one.
        runs = [[measure(make, cases, grown, 1) for make in makers] for _ in range(args.repeat)]
        for i in range(len(makers)):
            results.append(
                {
                    "name": runs[0][i]["name"],
                    "save": statistics.median(run[i]["save"] for run in runs),
                    "append": statistics.median(run[i]["append"] for run in runs),
                }
            )

        def floor_of(on_postgres: bool) -> dict[str, float]:
            """The floor: on PostgreSQL the faster of the two plain psycopg ways, per column."""
            plain = [
                r
                for r in results
                if r["name"].startswith("floor") and ("psycopg" in r["name"]) == on_postgres
            ]
            return {k: min(r[k] for r in plain) for k in ("save", "append")}

        print()
        print(
            f"| store | save {args.cases} cases (s) | events/s | x floor | "
            f"append 1 event to {appends} cases (s) | ms/append | x floor |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in results:
            on_postgres = "psycopg" in r["name"] or "Postgres" in r["name"]
            floor = floor_of(on_postgres)
            print(
                f"| {r['name']} | {r['save']:.3f} | {events / r['save']:,.0f} | "
                f"{r['save'] / floor['save']:.2f} | {r['append']:.3f} | "
                f"{1000 * r['append'] / max(appends, 1):.2f} | "
                f"{r['append'] / floor['append']:.2f} |"
            )
        (floor_frames, _), (frames, by_tree) = [
            wal_frames(make, cases, grown) for make in makers[:2]
        ]
        trees = ", ".join(
            f"{name} {n:.1f}" for name, n in sorted(by_tree.items(), key=lambda kv: -kv[1])
        )
        print()
        print(
            f"SQLite pages written per append (WAL frames): floor {floor_frames:.1f}, "
            f"rjflow {frames:.1f} ({trees or 'by table: no dbstat in this SQLite'})"
        )
        size = args.caseload
        load_cases = cases[:size]
        if size > len(cases):  # the cases above, and more
            load_cases += build_cases(size - len(cases), prefix="RJ-C")
            gc.collect()
            gc.freeze()
        print()
        print(
            f"| caseload of {size} cases | page of 50 overdue: query (ms) | "
            f"by loading every case (s{', scaled from ' + str(args.replay_limit) if size > args.replay_limit else ''}) |"
        )
        print("|---|---:|---:|")
        stores: list[Callable[[], Any]] = [lambda: RjflowSQLite(folder)]
        if dsn is not None:
            stores.append(lambda: RjflowPostgres(fresh_schema(dsn)[1]))
        for make in stores:
            name, query, replay = caseload(make, load_cases, args.repeat, args.replay_limit)
            print(f"| {name} | {1000 * query:.2f} | {replay:.2f} |")
        per_process = max(1, args.cases // args.processes)
        print()
        print(f"| {args.processes} processes saving {per_process} cases each at once | events/s |")
        print("|---|---:|")
        targets = [("sqlite", "rjflow SQLiteStore", str(folder / "parallel.sqlite3"))]
        if dsn is not None:
            targets.append(("postgres", "rjflow PostgresStore", fresh_schema(dsn)[1]))
        for kind, name, target in targets:
            rate = parallel(kind, target, args.processes, per_process)
            print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
