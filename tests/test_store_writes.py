"""How a save is written (issue 11's performance round), on every backend: the PostgreSQL store
writes a case in one statement (a gated CTE: one round trip), the SQLite store sets only the
summary columns whose values changed.  Neither may change what is stored: the read models stay
the projection of the case (rebuild = incremental), a refused save writes nothing, an import
stays all or nothing."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rjflow import AgreementAction, CaseExists, ConcurrencyConflict, State
from rjflow._eventstore import Write
from rjflow.projection import summarise
from rjflow.reporting import case_facts
from rjflow.serialization import dumps

from .builders import KEYRING, at_stage
from .pgserver import postgres_dsn  # noqa: F401  (the session's PostgreSQL server)
from .stores import BACKENDS, Backend, make_backend, save_each_action

STAGES = [State.REFERRED, State.INTRODUCTION, State.PREPARATION, State.CONFERENCE, State.REVIEW]

#: A fresh case id for each hypothesis example (the backend is shared by the examples).
_IDS = itertools.count()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from make_backend(request.param, tmp_path, request)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stage=st.sampled_from(STAGES), steps=st.data())
def test_rebuild_equals_incremental_on_every_backend(
    backend: Backend, stage: State, steps: st.DataObject
) -> None:
    """A case saved after every accepted action (30 random histories per backend): after each
    save the stored summary and facts are the case's own (PostgreSQL: written by the one
    statement; SQLite: only the changed summary columns set), and rebuild recomputes the
    same ones from the events."""
    case_id = f"RJ-W{next(_IDS)}"
    case, clock = at_stage(stage, case_id=case_id)
    with backend.open() as store:

        def stored_as_the_case() -> None:
            assert store.summary(case_id) == summarise(case)
            assert store.facts(case_id) == case_facts(case)

        saves = save_each_action(store, case, clock, steps, most=8, check=stored_as_the_case)
        event(f"{backend.name}: accepted actions saved: {min(saves, 3)}{'+' if saves >= 3 else ''}")
        incremental = store.summary(case_id), store.facts(case_id)
        store.rebuild()
        assert (store.summary(case_id), store.facts(case_id)) == incremental
        assert store.load(case_id) == case
        assert [p for p in store.verify() if p.case_id == case_id] == []


def _stored(backend: Backend, case_id: str) -> list[object]:
    """Every row the store holds of ``case_id``, table by table."""
    return [
        backend.raw(f"SELECT * FROM {table} WHERE case_id = ? ORDER BY 1, 2", (case_id,))
        for table in (
            "rjflow_events",
            "rjflow_texts",
            "rjflow_summaries",
            "rjflow_facts",
            "rjflow_integrity",
        )
    ]


def test_a_diverged_save_writes_nothing_of_the_case(backend: Backend) -> None:
    """A copy whose event at the stored version is not the stored one (another writer saved
    a different change there) saves a further event with free text: refused as a conflict
    naming the diverged history, and none of its rows (event, text, summary, facts, seal) is
    written — the gate covers every row of the one statement, not only the event."""
    case, clock = at_stage(State.CONFERENCE, case_id="RJ-DIV")
    with backend.open(keyring=KEYRING) as store:
        version = store.save(case, expected_version=0)
        winner = store.load("RJ-DIV")
        loser = store.load("RJ-DIV")
        at = clock()
        winner.record_session(duration=timedelta(hours=1), at=at, actor="F1")
        loser.record_session(duration=timedelta(hours=2), at=at, actor="F1")
        loser.propose_agreement(
            [AgreementAction("A1", "Write a letter to the café", "O1", date(2026, 9, 1))],
            at=clock(),
            actor="F1",
        )
        store.save(winner, expected_version=version)
        before = _stored(backend, "RJ-DIV")
        with pytest.raises(ConcurrencyConflict) as err:
            store.save(loser, expected_version=version + 1)
        assert err.value.actual_version == version + 1
        assert "history differs" in str(err.value)
        assert _stored(backend, "RJ-DIV") == before
        assert store.summary("RJ-DIV") == summarise(winner)
        assert store.load("RJ-DIV") == winner


def test_a_stale_save_of_texts_and_seal_writes_none_of_them(backend: Backend) -> None:
    """A copy behind the store (its events follow a stored event that is no longer the last)
    adding free text under a keyring: a conflict, and no text, seal or read model of it."""
    case, clock = at_stage(State.CONFERENCE, case_id="RJ-OLD")
    with backend.open(keyring=KEYRING) as store:
        store.save(case, expected_version=0)
        stale = store.load("RJ-OLD")
        case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
        case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
        store.save(case, expected_version=stale.version)
        before = _stored(backend, "RJ-OLD")
        stale.propose_agreement(
            [AgreementAction("A1", "Repay £40", "O1", date(2026, 9, 1))], at=clock(), actor="F1"
        )
        with pytest.raises(ConcurrencyConflict):
            store.save(stale, expected_version=stale.version - 1)
        assert _stored(backend, "RJ-OLD") == before


def test_an_import_of_many_cases_writes_each_and_is_all_or_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    """An import is one transaction of many cases (PostgreSQL: one statement per case inside
    it): every case and its read models are written, or, when one case is already stored,
    none is."""
    cases = [at_stage(stage, case_id=f"RJ-I{n}")[0] for n, stage in enumerate(STAGES)]
    good = tmp_path / "good.jsonl"
    good.write_text("".join(dumps(c) + "\n" for c in cases[1:]), encoding="utf-8")
    both = tmp_path / "both.jsonl"
    both.write_text("".join(dumps(c) + "\n" for c in cases), encoding="utf-8")
    with backend.open() as store:
        store.save(cases[2], expected_version=0)
        with pytest.raises(CaseExists):
            store.import_jsonl(both)
        assert store.case_ids() == ["RJ-I2"]
        store.save(cases[0], expected_version=0)
        with pytest.raises(CaseExists):
            store.import_jsonl(good)
        assert store.case_ids() == ["RJ-I0", "RJ-I2"]
    other = make_backend_like(backend, tmp_path)
    with other.open() as store:
        report = store.import_jsonl(good)
        assert report.ok
        for case in cases[1:]:
            assert store.load(case.case_id) == case
            assert store.summary(case.case_id) == summarise(case)
            assert store.facts(case.case_id) == case_facts(case)


def make_backend_like(backend: Backend, tmp_path: Path) -> Backend:
    """An empty database of the same backend (a second file, or a second schema)."""
    if backend.name == "sqlite":
        from .stores import SQLiteBackend  # noqa: PLC0415

        return SQLiteBackend(tmp_path / "other.sqlite3")
    from .stores import PostgresBackend  # noqa: PLC0415

    assert isinstance(backend, PostgresBackend)
    return PostgresBackend(backend.server_dsn)


@pytest.mark.parametrize(
    ("events", "texts", "follows", "provenance", "seal"),
    [
        (1, 0, True, False, False),
        (16, 0, False, False, False),
        (3, 2, True, False, True),
        (5, 1, False, True, True),
    ],
)
def test_the_one_statement_has_a_placeholder_for_each_value(
    events: int, texts: int, follows: bool, provenance: bool, seal: bool
) -> None:
    """The PostgreSQL store's one-statement save: as many ``%s`` as the values it is given,
    in every shape (a placeholder short or over would put a value in the wrong column)."""
    pytest.importorskip("psycopg")
    from rjflow import _pgsql, pgstore  # noqa: PLC0415 - needs psycopg

    write = Write(
        case_id="RJ-X",
        expected_version=4 if follows else 0,
        follows="h" * 64 if follows else None,
        events=[("RJ-X", *range(10))] * events,
        texts=[("RJ-X", 1, "/p", "s", "t")] * texts,
        erased=[],
        provenance=("RJ-X", 1, 3, "h") if provenance else None,
        seal=("RJ-X", "k", 5, "h", "m") if seal else None,
        summary=tuple(range(13)),
        facts=("RJ-X", 5, "{}"),
    )
    built = pgstore._one_statement(write)
    assert built is not None
    statement, params = built
    assert statement == _pgsql.save_case(
        events, texts, follows=follows, provenance=provenance, seal=seal
    )
    expected = 11 * events + 5 * texts + 13 + 3 + 3 * follows + 4 * provenance + 5 * seal
    assert len(params) == expected
    assert len(re.findall(r"%s", statement)) == expected
