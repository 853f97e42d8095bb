"""What only the PostgreSQL store does: many processes saving the same cases at once on a
real server, its own faults (no server, a store of another schema), and servers starting
together.  The contract every store keeps is in test_store_contract.py."""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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
    RJFlowError,
    State,
    StoreUnavailable,
)
from rjflow import store as store_module
from rjflow._validate import is_id
from rjflow.demo import build_demo_case
from tests.echo import echoes

from .builders import KEYRING, at_stage
from .pgserver import postgres_dsn  # noqa: F401  (the session's PostgreSQL server)
from .stores import PostgresBackend

CASES = [f"RJ-P{i}" for i in range(4)]
PROCESSES = 8
ATTEMPTS = 50


@pytest.fixture
def pg(postgres_dsn: str) -> Iterator[PostgresBackend]:  # noqa: F811
    backend = PostgresBackend(postgres_dsn)
    try:
        yield backend
    finally:
        backend.drop()


def worker(dsn: str, seed_value: int, attempts: int) -> tuple[int, int]:
    """Load a random case, add a risk assessment, save; count accepted and refused saves.
    Any error but a ConcurrencyConflict propagates and fails the test."""
    rng = random.Random(seed_value)
    accepted = conflicts = 0
    with store_module.PostgresStore(dsn, pool_size=1, keyring=KEYRING) as store:
        for _ in range(attempts):
            case = store.load(rng.choice(CASES))
            loaded_version = case.version
            case.assess_risk(
                RiskOutcome.FAVOURABLE,
                at=case.record.updated_at + timedelta(seconds=1),
                actor="F1",
            )
            try:
                store.save(case, expected_version=loaded_version)
                accepted += 1
            except ConcurrencyConflict:
                conflicts += 1
    return accepted, conflicts


def test_processes_saving_the_same_cases_lose_nothing(pg: PostgresBackend) -> None:
    """8 processes x 50 conflicting saves on 4 cases, with a keyring: every accepted save is
    stored (0 lost updates), every refusal is a typed ConcurrencyConflict, no load meanwhile
    mistakes a concurrent save for tampering (verify runs throughout and finds nothing), every
    chain and seal verifies after, and every summary matches its case."""
    initial = {}
    with pg.open(keyring=KEYRING) as store:
        for case_id in CASES:
            case, _ = at_stage(State.INTRODUCTION, case_id=case_id)
            initial[case_id] = store.save(case, expected_version=0)
    context = multiprocessing.get_context("spawn")
    checks = 0
    with (
        ProcessPoolExecutor(PROCESSES, mp_context=context) as pool,
        pg.open(keyring=KEYRING) as reader,
    ):
        futures = [pool.submit(worker, pg.dsn, n, ATTEMPTS) for n in range(PROCESSES)]
        while not all(f.done() for f in futures):  # verify while they write: no false alarm
            assert reader.verify() == []
            checks += 1
        results = [f.result() for f in futures]
    assert checks > 0
    accepted = sum(a for a, _ in results)
    conflicts = sum(c for _, c in results)
    assert accepted + conflicts == PROCESSES * ATTEMPTS
    with pg.open(keyring=KEYRING) as store:
        final = {case_id: store.load(case_id) for case_id in CASES}  # verifies every chain
        assert store.verify() == []
    grown = sum(final[c].version - initial[c] for c in CASES)
    assert grown == accepted, "an accepted save is missing (lost update)"
    assert conflicts > 0, "the saves did not conflict: the test did not test concurrency"
    for case in final.values():
        assert [e.sequence for e in case.history] == list(range(1, case.version + 1))
    print(
        f"postgres concurrent saves: attempted={PROCESSES * ATTEMPTS} accepted={accepted} "
        f"refused={conflicts} lost={accepted - grown}"
    )


def test_servers_starting_together_create_the_schema_once(pg: PostgresBackend) -> None:
    """Eight stores opening an empty database at once: one creates the schema, all work."""

    def open_and_count(_: int) -> int:
        with pg.open(pool_size=1) as store:
            return len(store.case_ids())

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(open_and_count, range(8))) == [0] * 8


def test_no_server_is_store_unavailable_without_the_dsn(
    tmp_path: Path,
    postgres_dsn: str,  # noqa: F811 - not used: skipped with the other PostgreSQL tests
) -> None:
    """A server that cannot be reached: StoreUnavailable (an OSError) naming the kind of
    fault, never the connection string (it may hold a password)."""
    dsn = f"host={tmp_path} dbname=secretdb user=jane password=hunter2 connect_timeout=1"
    with pytest.raises(StoreUnavailable) as err:
        store_module.PostgresStore(dsn, timeout=1)
    assert isinstance(err.value, OSError)
    for secret in ("secretdb", "jane", "hunter2", str(tmp_path)):
        assert secret not in str(err.value)


def test_a_store_of_another_schema_version_is_refused(pg: PostgresBackend) -> None:
    """A database holding a store of a newer schema is refused with what to do."""
    with pg.open():
        pass
    pg.raw("UPDATE rjflow_meta SET value = '9' WHERE key = 'schema_version'")
    with pytest.raises(RJFlowError, match="Upgrade rjflow"):
        pg.open()


def test_a_closed_store_says_so(pg: PostgresBackend) -> None:
    """Using a store after close is StoreUnavailable, not a driver error."""
    store = pg.open()
    store.close()
    with pytest.raises(StoreUnavailable):
        store.case_ids()


# -- properties on the real server ---------------------------------------------------------------

DEMO = build_demo_case()
COLUMNS = ("sequence", "at", "actor", "action", "data", "from_state", "to_state", "hash")


@pytest.fixture(scope="module")
def pristine(postgres_dsn: str) -> Iterator[PostgresBackend]:  # noqa: F811
    backend = PostgresBackend(postgres_dsn)
    with backend.open() as store:
        store.save(DEMO, expected_version=0)
    try:
        yield backend
    finally:
        backend.drop()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    column=st.sampled_from(COLUMNS),
    value=st.one_of(
        st.none(),
        st.integers(-(2**31), 2**31 - 1),
        st.text(st.characters(exclude_characters="\x00"), max_size=40),
        st.sampled_from(["{}", "[]", "null", '{"a": 1, "a": 2}', "NaN", "2026-13-01"]),
    ),
    row=st.integers(1, DEMO.version),
)
def test_any_damaged_row_raises_only_typed_errors(
    pristine: PostgresBackend, column: str, value: object, row: int
) -> None:
    """Any value in any column of any stored row (60 examples, each put back after): loading
    raises an InvalidDocument (CorruptRecord naming the case, HistoryTampered, a replay
    refusal) or gives an equal case, never another exception."""
    (original,) = pristine.raw(f"SELECT {column} FROM rjflow_events WHERE sequence = ?", (row,))[0]
    try:
        pristine.tamper(f"UPDATE rjflow_events SET {column} = ? WHERE sequence = ?", (value, row))
    except pristine.psycopg.Error:
        return  # the schema itself refuses this value (a type, NOT NULL or the primary key)
    try:
        with pristine.open(pool_size=1) as store:
            try:
                loaded = store.load(DEMO.case_id)
            except CorruptRecord as exc:
                assert exc.case_id == DEMO.case_id
            except InvalidDocument as exc:
                assert exc.sequence is None or 1 <= exc.sequence <= DEMO.version
            else:
                assert loaded == DEMO
    finally:
        if column == "sequence":
            pristine.tamper(
                "UPDATE rjflow_events SET sequence = ? WHERE sequence = ? AND hash = ?",
                (original, value, DEMO.history[row - 1].hash),
            )
        else:
            pristine.tamper(
                f"UPDATE rjflow_events SET {column} = ? WHERE sequence = ?", (original, row)
            )
    with pristine.open(pool_size=1) as store:
        assert store.load(DEMO.case_id) == DEMO  # put back for the next example


@settings(max_examples=100, deadline=None)
@given(case_id=st.text(max_size=70))
@example(case_id=" or ")  # words of the message's own wording are not an echo
def test_any_text_as_an_id_is_refused_or_not_found_without_echo(
    pristine: PostgresBackend, case_id: str
) -> None:
    """Any text given as a case id (100 examples, on the real server): InvalidInput (never
    repeated) when it is not an opaque id, CaseNotFound naming it when it is."""
    with pristine.open(pool_size=1) as store:
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
