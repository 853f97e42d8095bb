"""What only the SQLite store does: a file (readers never wait for writers, WAL, the file's
own faults), threads and processes on one file, damaged rows, and the migration of a
schema 2 store.  What every store does is in test_store_contract.py, run on each backend."""

from __future__ import annotations

import multiprocessing
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rjflow import (
    CaseNotFound,
    ConcurrencyConflict,
    CorruptRecord,
    InvalidDocument,
    InvalidInput,
    RiskOutcome,
    State,
    StoreUnavailable,
)
from rjflow import store as store_module
from rjflow._validate import is_id
from rjflow.demo import build_demo_case
from rjflow.store import SQLiteStore
from tests.echo import echoes

from .builders import at_stage

CASES = [f"C{i}" for i in range(4)]


def seed(path: Path) -> dict[str, int]:
    versions = {}
    with SQLiteStore(path) as store:
        for case_id in CASES:
            case, _ = at_stage(State.INTRODUCTION, case_id=case_id)
            versions[case_id] = store.save(case, expected_version=0)
    return versions


def worker(path: str, seed_value: int, attempts: int) -> tuple[int, int]:
    """Load a random case, add a risk assessment, save; count accepted and conflicting saves."""
    rng = random.Random(seed_value)
    accepted = conflicts = 0
    with SQLiteStore(path, timeout=60) as store:
        for _ in range(attempts):
            case = store.load(rng.choice(CASES))
            loaded_version = case.version
            case.assess_risk(
                RiskOutcome.FAVOURABLE,
                at=case.record.updated_at + timedelta(seconds=1),
                actor="F1",  # issue 14: an assessor is a facilitator on the case
            )
            try:
                store.save(case, expected_version=loaded_version)
                accepted += 1
            except ConcurrencyConflict:
                conflicts += 1
    return accepted, conflicts


def test_threads_and_processes_lose_nothing(tmp_path: Path) -> None:
    """4 threads and 4 processes save to the same cases at once: every accepted save is
    there, every history is gap-free and verifies, and conflicts are reported, not lost."""
    path = tmp_path / "shared.sqlite3"
    initial = seed(path)
    attempts = 40
    results: list[tuple[int, int]] = []

    def run_thread(n: int) -> None:
        results.append(worker(str(path), n, attempts))

    threads = [threading.Thread(target=run_thread, args=(n,)) for n in range(4)]
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(worker, str(path), 100 + n, attempts) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results += [f.result() for f in futures]

    accepted = sum(a for a, _ in results)
    conflicts = sum(c for _, c in results)
    assert accepted + conflicts == 8 * attempts
    with SQLiteStore(path) as store:
        final = {case_id: store.load(case_id) for case_id in CASES}  # verifies every chain
    grown = sum(final[c].version - initial[c] for c in CASES)
    assert grown == accepted, "an accepted save is missing (lost update)"
    for case in final.values():
        assert [e.sequence for e in case.history] == list(range(1, case.version + 1))
    print(
        f"concurrent saves: attempted={8 * attempts} accepted={accepted} "
        f"refused={conflicts} lost={accepted - grown}"
    )


# -- the store's own faults (issue 9, item 10) ---------------------------------------------------

DEMO = build_demo_case()

#: A second process that opens the store's file, takes the write lock with an uncommitted
#: insert, says so, and holds it until its stdin closes.
HOLD_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO rjflow_events VALUES "
           "('W1', 1, 'x', 'x', 'x', '{}', NULL, NULL, 'x', 'x', NULL)")
print("holding", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "rj.sqlite3"
    with SQLiteStore(path) as store:
        store.save(DEMO, expected_version=0)
    return path


def test_a_reader_does_not_wait_for_a_writer_in_another_process(stored: Path) -> None:
    """Regression ("database is locked" on open): while another process holds the write lock
    with an uncommitted insert, a store opens (timeout 0.5 s), lists and loads the committed
    cases, and sees nothing uncommitted."""
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(stored)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "holding"
        with SQLiteStore(stored, timeout=0.5) as reader:
            assert reader.case_ids() == [DEMO.case_id]
            assert reader.load(DEMO.case_id) == DEMO
            assert reader.version("W1") == 0
    finally:
        writer.communicate("", timeout=60)
    assert writer.returncode == 0


def test_a_reader_does_not_wait_for_a_writer_on_another_connection(stored: Path) -> None:
    """The same with two connections in one process: the writer's store is mid-transaction."""
    holder = sqlite3.connect(stored, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute(
        "INSERT INTO rjflow_events VALUES "
        "('W1', 1, 'x', 'x', 'x', '{}', NULL, NULL, 'x', 'x', NULL)"
    )
    try:
        with SQLiteStore(stored, timeout=0.5) as reader:
            assert reader.load(DEMO.case_id) == DEMO
            with pytest.raises(StoreUnavailable):  # writers do wait, then say so
                reader.save(build_demo_case("RJ-2"), expected_version=0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("kind", ["missing folder", "not a database"])
def test_a_store_that_cannot_be_opened_raises_store_unavailable(tmp_path: Path, kind: str) -> None:
    """A missing folder or a file that is not SQLite: StoreUnavailable (an OSError), with the
    path on the error and not in the message."""
    if kind == "missing folder":
        path = tmp_path / "no" / "such" / "rj.sqlite3"
    else:
        path = tmp_path / "junk.json"
        path.write_text('{"a": "not a database"}')
    with pytest.raises(StoreUnavailable) as err:
        SQLiteStore(path)
    assert isinstance(err.value, OSError)
    assert err.value.path == str(path)
    assert str(tmp_path) not in str(err.value)


# -- properties ------------------------------------------------------------------------------

COLUMNS = (
    "sequence",
    "at",
    "actor",
    "action",
    "data",
    "from_state",
    "to_state",
    "previous_hash",
    "hash",
)
cell_values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.binary(max_size=20),
    st.sampled_from(["{}", "[]", "null", '{"a": 1, "a": 2}', "[" * 5000 + "]" * 5000, "NaN"]),
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "rj.sqlite3"
    with SQLiteStore(path) as store:
        store.save(DEMO, expected_version=0)
    return path


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(column=st.sampled_from(COLUMNS), value=cell_values, row=st.integers(1, DEMO.version))
def test_any_damaged_row_raises_only_typed_errors(
    pristine: Path, column: str, value: object, row: int
) -> None:
    """Any value in any column of any row (200 examples): loading raises an InvalidDocument
    (CorruptRecord, HistoryTampered or a replay refusal) or gives an equal case, never another
    exception; a CorruptRecord names the case."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rj.sqlite3"
        shutil.copyfile(pristine, path)
        db = sqlite3.connect(path)
        try:
            db.execute("DROP TRIGGER rjflow_events_no_update")  # a tamperer's first step
            db.execute(f"UPDATE rjflow_events SET {column} = ? WHERE sequence = ?", (value, row))
            db.commit()
        except sqlite3.IntegrityError:
            return  # the schema itself refuses this value (a CHECK or the primary key)
        finally:
            db.close()
        with SQLiteStore(path) as store:
            try:
                loaded = store.load(DEMO.case_id)
            except CorruptRecord as exc:
                assert exc.case_id == DEMO.case_id
            except InvalidDocument as exc:
                assert exc.sequence is None or 1 <= exc.sequence <= DEMO.version
            else:
                assert loaded == DEMO


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case_id=st.text(max_size=70))
@example(case_id=" or ")  # words of the message's own wording are not an echo
def test_any_text_as_an_id_is_refused_or_not_found_without_echo(
    pristine: Path, case_id: str
) -> None:
    """Any text given as a case id (300 examples): InvalidInput (not repeated) when it is not
    an opaque id, CaseNotFound naming it when it is, the case when it is the stored id."""
    with SQLiteStore(pristine) as store:
        try:
            loaded = store.load(case_id)
        except InvalidInput as exc:
            assert not is_id(case_id)
            with pytest.raises(InvalidInput) as reference:
                store.load("\u00a7\u00a7")
            assert not echoes(case_id, str(exc), str(reference.value))
        except CaseNotFound as exc:
            assert exc.case_id == case_id
        else:
            assert loaded == DEMO


def test_postgres_store_without_psycopg_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (bare ModuleNotFoundError): without psycopg, asking for PostgresStore says
    which extra to install."""
    monkeypatch.setitem(sys.modules, "rjflow.pgstore", None)
    with pytest.raises(ImportError, match=r"pip install 'rjflow\[postgres\]'"):
        store_module.PostgresStore  # noqa: B018 - the lookup is what is tested
