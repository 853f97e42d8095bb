"""``rjflow store stats|verify|rebuild``, ``rjflow import`` and ``rjflow export``, run as a
user runs them (a real subprocess), on a SQLite file and on the PostgreSQL test server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rjflow import State
from rjflow.demo import build_demo_case
from rjflow.serialization import dumps, load_jsonl

from .builders import at_stage
from .pgserver import postgres_dsn  # noqa: F401  (the session's PostgreSQL server)
from .stores import PostgresBackend
from .test_cli import rjflow

DEMO = build_demo_case()
OTHER = at_stage(State.INTRODUCTION, case_id="RJ-CLI")[0]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text(dumps(DEMO) + "\n" + dumps(OTHER) + "\n", encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store as the command line names it: a new SQLite file, or a DSN to a fresh schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "rj.sqlite3")
        return
    backend = PostgresBackend(request.getfixturevalue("postgres_dsn"))
    try:
        yield backend.dsn
    finally:
        backend.drop()


def test_import_stats_verify_export_round_trip(target: str, jsonl: Path, tmp_path: Path) -> None:
    """Import two cases, count them by stage, verify, export: the export loads as the same
    cases; importing again is a conflict (exit 1) that writes nothing."""
    done = rjflow("import", target, str(jsonl))
    assert (done.returncode, done.stdout) == (0, "Imported 2 cases.\n")
    stats = rjflow("store", "stats", target)
    assert stats.returncode == 0
    counts = dict(line.split() for line in stats.stdout.splitlines())
    assert (counts["completed"], counts["introduction"], counts["total"]) == ("1", "1", "2")
    verified = rjflow("store", "verify", target)
    assert (verified.returncode, verified.stdout) == (
        0,
        "2 cases checked, 0 problems; seals not checked (no --key-file).\n",
    )
    out = tmp_path / "out.jsonl"
    exported = rjflow("export", target, "-o", str(out))
    assert exported.returncode == 0
    assert list(load_jsonl(out).cases) == sorted([DEMO, OTHER], key=lambda c: c.case_id)
    again = rjflow("import", target, str(jsonl))
    assert again.returncode == 1
    assert "already holds a case" in again.stderr
    assert rjflow("store", "stats", target).stdout == stats.stdout


def test_verify_exits_1_naming_a_damaged_case_and_rebuild_mends_summaries(
    tmp_path: Path, jsonl: Path
) -> None:
    """A summary changed outside rjflow: verify names the case and exits 1; rebuild mends it."""
    path = tmp_path / "rj.sqlite3"
    assert rjflow("import", str(path), str(jsonl)).returncode == 0
    with sqlite3.connect(path) as db:
        db.execute("UPDATE rjflow_summaries SET sessions_held = 42 WHERE case_id = 'RJ-CLI'")
    db.close()
    verified = rjflow("store", "verify", str(path))
    assert verified.returncode == 1
    assert verified.stderr.startswith("RJ-CLI: the summary differs")
    rebuilt = rjflow("store", "rebuild", str(path))
    assert (rebuilt.returncode, rebuilt.stdout) == (0, "Rebuilt 2 summaries of 2 cases.\n")
    assert rjflow("store", "verify", str(path)).returncode == 0


def test_an_invalid_line_stops_the_import_unless_skipped(tmp_path: Path, jsonl: Path) -> None:
    """A line that does not load: reported as FILE:LINE, nothing imported, exit 1; with
    --skip-invalid the good lines are imported (exit 1 still says some were not)."""
    with jsonl.open("a", encoding="utf-8") as f:
        f.write("{oops\n")
    path = tmp_path / "rj.sqlite3"
    refused = rjflow("import", str(path), str(jsonl))
    assert refused.returncode == 1
    assert f"{jsonl}:3: " in refused.stderr
    assert not path.exists() or "RJ-CLI" not in rjflow("export", str(path)).stdout
    skipped = rjflow("import", str(path), str(jsonl), "--skip-invalid")
    assert (skipped.returncode, skipped.stdout) == (1, "Imported 2 cases.\n")


def test_exit_codes_for_what_cannot_be_used(tmp_path: Path) -> None:
    """A missing store file or input file exits 2; an unreachable server 3, its connection
    string (with a password) never shown."""
    missing = rjflow("store", "stats", str(tmp_path / "none.sqlite3"))
    assert missing.returncode == 2 and missing.stderr.startswith("rjflow: cannot read")
    no_input = rjflow("import", str(tmp_path / "rj.sqlite3"), str(tmp_path / "none.jsonl"))
    assert no_input.returncode == 2
    dsn = f"host={tmp_path} dbname=rj user=jane password=hunter2"
    unreachable = rjflow("store", "verify", dsn)
    assert unreachable.returncode == 3
    assert "hunter2" not in unreachable.stderr and "jane" not in unreachable.stderr
    assert unreachable.stderr.count("\n") == 1


def _run_sql(target: str, statement: str) -> None:
    """One statement on the store's database behind rjflow's back."""
    if not target.endswith(".sqlite3"):  # the target fixture's PostgreSQL DSN
        import psycopg  # noqa: PLC0415 - only where PostgreSQL is tested

        with psycopg.connect(target) as conn:
            conn.execute(statement)
        return
    with sqlite3.connect(target) as db:
        db.execute(statement)
    db.close()


def test_report_from_a_store_counts_its_facts_as_the_file_counts_its_cases(
    target: str, jsonl: Path, tmp_path: Path
) -> None:
    """``rjflow report STORE`` counts the store's report facts: the same report.json as from
    the cases' JSON Lines; with one case's facts damaged (its events intact, so nothing is
    loaded) that case is named and left out (exit 1), and rebuild mends it."""
    assert rjflow("import", target, str(jsonl)).returncode == 0
    period = ("--from", "2026-01-01", "--to", "2026-12-31")
    from_file = rjflow("report", str(jsonl), *period, "--out", str(tmp_path / "file"))
    from_store = rjflow("report", target, *period, "--out", str(tmp_path / "store"))
    assert (from_file.returncode, from_store.returncode) == (0, 0), from_store.stderr
    expected = (tmp_path / "file" / "report.json").read_text(encoding="utf-8")
    assert (tmp_path / "store" / "report.json").read_text(encoding="utf-8") == expected
    assert from_store.stdout.startswith("2 case(s) read")
    _run_sql(target, "UPDATE rjflow_facts SET facts = '[]' WHERE case_id = 'RJ-CLI'")
    damaged = rjflow("report", target, *period, "--out", str(tmp_path / "damaged"))
    assert damaged.returncode == 1
    assert damaged.stderr.startswith("RJ-CLI: The report facts of stored case RJ-CLI")
    assert damaged.stdout.startswith("1 case(s) read")
    assert rjflow("store", "verify", target).stderr.startswith("RJ-CLI: The report facts")
    assert rjflow("store", "rebuild", target).returncode == 0
    mended = rjflow("report", target, *period, "--out", str(tmp_path / "mended"))
    assert mended.returncode == 0
    assert (tmp_path / "mended" / "report.json").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    "command",
    [["store", "verify"], ["store", "stats"], ["export"], ["due", "--at", "2026-06-01"]],
    ids=lambda c: c[-1] if c[0] != "due" else "due",
)
def test_a_sqlite_file_that_is_no_store_is_refused_and_left_alone(
    tmp_path: Path, command: list[str]
) -> None:
    """A command that reads a store never adds rjflow's tables to another database."""
    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    with db:
        db.execute("CREATE TABLE patients (name TEXT)")
    db.close()
    where = command[:1] + (command[1:2] if command[0] == "store" else [])
    rest = command[len(where) :]
    done = rjflow(*where, str(other), *rest)
    assert done.returncode == 3 and "is not an rjflow store" in done.stderr
    db = sqlite3.connect(other)
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
    db.close()
    assert names == ["patients"]
