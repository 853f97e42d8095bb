"""The stores' report facts (issue 13: the caseload report from a store's read model), part of
the store contract and run on every backend (tests/stores.py): each save keeps the case's
:func:`~rjflow.reporting.case_facts` with its events; ``report_facts`` reads them back, a page
at a time, and counts as the cases themselves count; damaged, missing or stale facts are named,
never counted silently; ``verify`` checks them and ``rebuild`` mends them; a schema 3 store
gets them when it is opened."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rjflow import CaseExists, CaseNotFound, CorruptRecord, InvalidInput, State
from rjflow import _eventstore as eventstore
from rjflow.demo import build_demo_case
from rjflow.reporting import CaseFacts, Period, build_report, case_facts, report
from rjflow.store import SQLiteStore, StoreProblem

from .builders import at_stage
from .pgserver import postgres_dsn  # noqa: F401  (the session's PostgreSQL server)
from .stores import BACKENDS, Backend, make_backend
from .synthetic import synthetic_caseload

DEMO = build_demo_case()
#: A synthetic caseload over every route of the programme (tests/synthetic.py), with the demo.
CASES = sorted([*synthetic_caseload(40, seed=11), DEMO], key=lambda c: c.case_id)
PERIODS = [
    Period.days(date(2026, 1, 1), date(2026, 12, 31)),
    Period.days(date(2025, 10, 1), date(2026, 3, 31)),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from make_backend(request.param, tmp_path, request)


@pytest.fixture
def two(backend: Backend) -> Backend:
    """The backend holding the demo case and one case at preparation (RJ-P)."""
    with backend.open() as store:
        store.save(DEMO, expected_version=0)
        store.save(at_stage(State.PREPARATION, case_id="RJ-P")[0], expected_version=0)
    return backend


@pytest.mark.parametrize("page", [7, 41, eventstore.FACTS_PAGE])
def test_the_stores_facts_are_each_cases_and_report_as_the_cases_do(
    backend: Backend, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every stored case's facts equal ``case_facts`` of the case itself; ``report_facts``
    gives each case once, by id, whatever the page size (7: pages and a last short one; 41:
    one full page then an empty one); the report counted from them is the one the cases give."""
    monkeypatch.setattr(eventstore, "FACTS_PAGE", page)
    with backend.open() as store:
        for case in CASES:
            store.save(case, expected_version=0)
        for case in CASES:
            assert store.facts(case.case_id) == case_facts(case), case.case_id
        assert list(store.report_facts()) == [case_facts(c) for c in CASES]
        for period in PERIODS:
            assert build_report(store.report_facts(), period) == report(CASES, period)


def test_each_save_keeps_the_facts_of_the_saved_version(backend: Backend) -> None:
    """A case saved as it grows: after each save its stored facts are those of that version;
    a refused save leaves them as they were (one transaction)."""
    case, clock = at_stage(State.INTRODUCTION, case_id="RJ-F")
    with backend.open() as store:
        version = store.save(case, expected_version=0)
        assert store.facts("RJ-F") == case_facts(case)
        before = case_facts(case)
        case.record_session(duration=timedelta(hours=2), at=clock(), actor="F1")
        case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        case.start_preparation(at=clock(), actor="F1")
        store.save(case, expected_version=version)
        assert store.facts("RJ-F") == case_facts(case) != before
        assert store.facts("RJ-F").sessions_attended == 1
        other, _ = at_stage(State.CONFERENCE, case_id="RJ-F")
        with pytest.raises(CaseExists):
            store.save(other, expected_version=0)
        assert store.facts("RJ-F") == case_facts(case)


def test_facts_of_an_unknown_case_or_a_non_id(backend: Backend) -> None:
    """``facts`` of a case the store lacks is CaseNotFound; of a value that is not an id,
    InvalidInput that does not repeat it."""
    with backend.open() as store:
        with pytest.raises(CaseNotFound):
            store.facts("RJ-NONE")
        with pytest.raises(InvalidInput) as err:
            store.facts("Jane Smith")
        assert "Jane" not in str(err.value)


#: Each a way the facts of the demo case go wrong behind rjflow's back, and what is wrong.
DAMAGE = {
    "not JSON": "UPDATE rjflow_facts SET facts = 'Jane Smith' WHERE case_id = ?",
    "not the facts' fields": "UPDATE rjflow_facts SET facts = '{\"name\": 1}' WHERE case_id = ?",
    "a time without offset": (
        "UPDATE rjflow_facts SET facts = replace(facts, '+00:00', '') WHERE case_id = ?"
    ),
    "another case's": (
        "UPDATE rjflow_facts SET facts = (SELECT facts FROM rjflow_facts WHERE case_id = 'RJ-P') "
        "WHERE case_id = ?"
    ),
    "older than the case": "UPDATE rjflow_facts SET version = version - 1 WHERE case_id = ?",
    "missing": "DELETE FROM rjflow_facts WHERE case_id = ?",
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_facts_are_named_never_counted(two: Backend, damage: str) -> None:
    """Regression (a report silently leaving out or miscounting a case): facts that cannot be
    read, are another case's, are missing or are older than the case raise CorruptRecord
    naming the case (never its content); with a problems list they are listed and the other
    cases counted; verify names the case and rebuild mends it."""
    two.raw(DAMAGE[damage], (DEMO.case_id,))
    expected = case_facts(DEMO)
    with two.open() as store:
        with pytest.raises(CorruptRecord) as err:
            list(store.report_facts())
        assert err.value.case_id == DEMO.case_id
        assert "Jane" not in str(err.value) and "rebuild" in str(err.value)
        problems: list[StoreProblem] = []
        assert [f.case_id for f in store.report_facts(problems=problems)] == ["RJ-P"]
        assert [p.case_id for p in problems] == [DEMO.case_id]
        assert [p.case_id for p in store.verify()] == [DEMO.case_id]
        assert store.rebuild() == 2
        assert store.verify() == []
        assert store.facts(DEMO.case_id) == expected
        assert [f.case_id for f in store.report_facts()] == [DEMO.case_id, "RJ-P"]


def test_facts_changed_but_readable_are_found_by_verify(two: Backend) -> None:
    """Facts edited into other well-formed facts cannot be told apart on reading; verify,
    which recomputes them from the events, finds them, and rebuild mends them."""
    two.raw(
        "UPDATE rjflow_facts SET facts = replace(facts, '\"sessions_missed\":0', "
        "'\"sessions_missed\":7') WHERE case_id = ?",
        (DEMO.case_id,),
    )
    with two.open() as store:
        assert store.facts(DEMO.case_id).sessions_missed == 7
        problems = store.verify()
        assert [(p.case_id, "report facts differ" in p.message) for p in problems] == [
            (DEMO.case_id, True)
        ]
        store.rebuild()
        assert store.facts(DEMO.case_id) == case_facts(DEMO)


def test_rebuild_drops_facts_without_events(two: Backend) -> None:
    """Facts whose case has no events (left by a tool) are not reported; verify names them,
    rebuild drops them."""
    two.raw(
        "INSERT INTO rjflow_facts (case_id, version, facts) "
        "SELECT 'RJ-GHOST', version, facts FROM rjflow_facts WHERE case_id = 'RJ-P'"
    )
    with two.open() as store:
        assert [f.case_id for f in store.report_facts()] == [DEMO.case_id, "RJ-P"]
        assert [p.case_id for p in store.verify()] == ["RJ-GHOST"]
        assert store.rebuild() == 2
        assert store.verify() == []
        with pytest.raises(CaseNotFound):
            store.facts("RJ-GHOST")


def test_a_schema_3_store_gets_its_facts_when_opened(two: Backend) -> None:
    """Regression (stores of the previous release): opening a schema 3 store (no facts
    table) migrates it to 4 in one transaction on one connection, building each case's
    facts from its events; a case that does not load gets none, is named by verify and by
    report_facts, and the others report."""
    two.raw("DROP TABLE rjflow_facts")
    two.raw("UPDATE rjflow_meta SET value = '3' WHERE key = 'schema_version'")
    two.tamper("UPDATE rjflow_events SET actor = 'F9' WHERE case_id = 'RJ-P' AND sequence = 2")
    with two.open(**({"pool_size": 1} if two.name == "postgres" else {})) as store:
        assert store.facts(DEMO.case_id) == case_facts(DEMO)
        with pytest.raises(CaseNotFound):
            store.facts("RJ-P")
        problems: list[StoreProblem] = []
        assert list(store.report_facts(problems=problems)) == [case_facts(DEMO)]
        assert [p.case_id for p in problems] == ["RJ-P"]
        assert [p.case_id for p in store.verify()] == ["RJ-P"]
    assert two.raw("SELECT value FROM rjflow_meta WHERE key = 'schema_version'") == [("4",)]


#: JSON values of every kind, with the ones facts hold (times, stages, activities) likely.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "2026-03-02T10:00:00+00:00",
            "2026-03-02T10:00:00",
            "0001-01-01T00:00:00+05:00",
            "review",
            "face_to_face",
            "completed",
            "fulfilled",
            DEMO.case_id,
        ]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(sorted(case_facts(DEMO).to_dict())), value=JSON_VALUES)
def test_any_value_in_stored_facts_is_refused_or_read_as_facts(
    tmp_path: Path, field: str, value: object
) -> None:
    """Any JSON value in any field of a case's stored facts (150 examples): reading raises
    CorruptRecord naming the case, never another error, or gives facts that are what
    ``to_dict`` writes (they read back from their own ``to_dict`` unchanged)."""
    path = tmp_path / "fuzz.sqlite3"
    if not path.exists():
        with SQLiteStore(path) as store:
            store.save(DEMO, expected_version=0)
    data = case_facts(DEMO).to_dict()
    data[field] = value
    with sqlite3.connect(path) as db:
        db.execute("UPDATE rjflow_facts SET facts = ?", (json.dumps(data),))
    db.close()
    with SQLiteStore(path) as store:
        try:
            (facts,) = store.report_facts()
        except CorruptRecord as exc:
            assert exc.case_id == DEMO.case_id
            return
    assert CaseFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts
