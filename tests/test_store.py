"""The SQLite store: round trips, refusals, and real concurrency (threads and processes on
one database file) with every accepted save present and none lost."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from rjflow import ConcurrencyConflict, HistoryTampered, RiskOutcome, State
from rjflow.demo import build_demo_case
from rjflow.store import SQLiteStore

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


def test_round_trip_and_versions(tmp_path: Path) -> None:
    """A saved case loads back equal; its version is its event count."""
    case = build_demo_case()
    with SQLiteStore(tmp_path / "rj.sqlite3") as store:
        assert store.save(case, expected_version=0) == case.version
        assert store.version(case.case_id) == case.version
        assert store.load(case.case_id) == case
        assert store.case_ids() == [case.case_id]
        with pytest.raises(KeyError):
            store.load("nope")


def test_a_stale_save_writes_nothing(tmp_path: Path) -> None:
    """Saving with the wrong expected version raises and leaves the store as it was."""
    path = tmp_path / "rj.sqlite3"
    case, clock = at_stage(State.INTRODUCTION)
    with SQLiteStore(path) as store:
        store.save(case, expected_version=0)
        first = store.load(case.case_id)
        second = store.load(case.case_id)
        first.assess_risk("favourable", at=clock(), actor="F1")
        second.assess_risk("unfavourable", at=clock(), actor="F1")
        store.save(first, expected_version=case.version)
        with pytest.raises(ConcurrencyConflict) as err:
            store.save(second, expected_version=case.version)
        assert err.value.actual_version == case.version + 1
        assert store.load(case.case_id) == first


def test_the_database_enforces_unique_sequences(tmp_path: Path) -> None:
    """Even bypassing rjflow, a duplicate (case, sequence) is refused by SQLite itself."""
    path = tmp_path / "rj.sqlite3"
    case, _ = at_stage(State.INTRODUCTION)
    with SQLiteStore(path) as store:
        store.save(case, expected_version=0)
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO rjflow_events VALUES "
            "('C1', 1, 'x', 'x', 'x', '{}', NULL, NULL, 'x', 'x', NULL)"
        )
    db.close()


def test_tampering_in_the_database_is_detected(tmp_path: Path) -> None:
    """Editing a stored event is caught when the case is loaded."""
    path = tmp_path / "rj.sqlite3"
    case, _ = at_stage(State.PREPARATION)
    with SQLiteStore(path) as store:
        store.save(case, expected_version=0)
    db = sqlite3.connect(path)
    db.execute("UPDATE rjflow_events SET actor = 'F9' WHERE sequence = 3")
    db.commit()
    db.close()
    with SQLiteStore(path) as store, pytest.raises(HistoryTampered) as err:
        store.load(case.case_id)
    assert err.value.sequence == 3


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
