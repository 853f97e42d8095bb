"""The caseload read models: the projection, rebuild = incremental over random histories (the
summary and the report facts), and the migrations that give a schema 2 SQLite store its
summaries and a schema 3 one its report facts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from rjflow import AgreementAction, State
from rjflow.demo import build_demo_case
from rjflow.projection import next_due, summarise
from rjflow.reporting import case_facts
from rjflow.store import SQLiteStore

from .builders import at_stage
from .stores import save_each_action

STAGES = [
    State.REFERRED,
    State.INTRODUCTION,
    State.PREPARATION,
    State.CONFERENCE,
    State.REVIEW,
    State.LETTER_OF_APOLOGY,
    State.SHUTTLE_MEDIATION,
]


class TestProjection:
    def test_the_demo_cases_summary(self) -> None:
        """The completed demo case: its stage, closure and sessions, nothing due; values read
        from the record, not from the projection."""
        case = build_demo_case()
        summary = summarise(case)
        rec = case.record
        assert (summary.stage, summary.version) == (State.COMPLETED, len(case.history))
        assert summary.closed_at == rec.closure.at  # type: ignore[union-attr]
        assert summary.sessions_held == sum(1 for s in rec.sessions if s.attended)
        assert summary.due_at is None and not summary.overdue(datetime(2100, 1, 1, tzinfo=UTC))

    def test_the_next_due_date_is_the_end_of_the_earliest_open_deadline(self) -> None:
        """A signed agreement's two open actions: due by the end of the earlier one's day,
        overdue from 00:00 UTC the day after (the case goes idle only later, on 31 March)."""
        case, clock = at_stage(State.CONFERENCE)
        case.propose_agreement(
            [
                AgreementAction("A1", "Write a letter", "O1", date(2026, 3, 20)),
                AgreementAction("A2", "Repair the fence", "O1", date(2026, 3, 12)),
            ],
            at=clock(),
            actor="F1",
        )
        for party in ("O1", "V1", "S1", "F1"):
            case.sign_agreement(party, at=clock(), actor="F1")
        assert next_due(case) == datetime(2026, 3, 12, 23, 59, 59, 999999, tzinfo=UTC)
        assert summarise(case).overdue(datetime(2026, 3, 13, tzinfo=UTC))
        assert not summarise(case).overdue(datetime(2026, 3, 12, 23, 59, tzinfo=UTC))

    def test_without_a_binding_agreement_the_case_falls_due_when_it_goes_idle(self) -> None:
        """A proposal nobody signed binds no deadline: the next obligation is the case going
        idle 28 days (``Policy.idle_after``) after its last event."""
        case, clock = at_stage(State.CONFERENCE)
        case.propose_agreement(
            [AgreementAction("A1", "Write a letter", "O1", date(2026, 3, 12))],
            at=clock(),
            actor="F1",
        )
        assert case.record.updated_at + timedelta(days=28) == next_due(case)


@settings(max_examples=100, deadline=None)
@given(stage=st.sampled_from(STAGES), steps=st.data())
def test_rebuild_equals_incremental(stage: State, steps: st.DataObject) -> None:
    """A case saved after every accepted action (100 random histories): the summary and the
    report facts the saves wrote equal the ones rebuild recomputes from the events, and those
    of the loaded case; after every save the stored facts read back as the case's own (what
    the store accepts on write loads on read); verify finds nothing."""
    case, clock = at_stage(stage, case_id="RJ-H")
    with SQLiteStore(":memory:") as store:

        def facts_as_the_case() -> None:
            assert store.facts("RJ-H") == case_facts(case)

        saves = save_each_action(store, case, clock, steps, most=10, check=facts_as_the_case)
        event(f"accepted actions saved: {min(saves, 3)}{'+' if saves >= 3 else ''}")
        incremental = store.summary("RJ-H")
        incremental_facts = store.facts("RJ-H")
        assert store.rebuild() == 1
        loaded = store.load("RJ-H")
        assert store.summary("RJ-H") == incremental == summarise(loaded)
        assert store.facts("RJ-H") == incremental_facts == case_facts(loaded)
        assert list(store.report_facts()) == [incremental_facts]
        assert store.verify() == []


def _as_schema_2(path: Path) -> None:
    """Make a store what an older release left: no summaries, no triggers, schema 2."""
    db = sqlite3.connect(path)
    db.execute("DROP TABLE rjflow_facts")
    db.execute("DROP TABLE rjflow_summaries")
    db.execute("DROP TRIGGER rjflow_events_no_update")
    db.execute("DROP TRIGGER rjflow_events_no_delete")
    db.execute("UPDATE rjflow_meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()


def test_a_schema_2_store_gets_its_summaries_when_opened(tmp_path: Path) -> None:
    """Regression (stores of an older release): opening a schema 2 store migrates it to 4,
    building each case's summary and report facts from its events; the cases load as
    before."""
    path = tmp_path / "old.sqlite3"
    demo = build_demo_case()
    other, _ = at_stage(State.PREPARATION, case_id="RJ-OLD")
    with SQLiteStore(path) as store:
        store.save(demo, expected_version=0)
        store.save(other, expected_version=0)
    _as_schema_2(path)
    with SQLiteStore(path) as store:
        assert store.summary(demo.case_id) == summarise(demo)
        assert store.summary("RJ-OLD") == summarise(other)
        assert store.facts("RJ-OLD") == case_facts(other)
        assert store.facts(demo.case_id) == case_facts(demo)
        assert store.load("RJ-OLD") == other
        assert store.verify() == []
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM rjflow_meta").fetchall() == [("4",)]
    db.close()


def test_a_case_that_does_not_load_is_named_after_migration(tmp_path: Path) -> None:
    """A damaged case in a schema 2 store does not stop the migration: it gets no summary nor
    report facts, and verify names it."""
    path = tmp_path / "old.sqlite3"
    with SQLiteStore(path) as store:
        store.save(build_demo_case(), expected_version=0)
        store.save(at_stage(State.PREPARATION, case_id="RJ-OLD")[0], expected_version=0)
    _as_schema_2(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE rjflow_events SET actor = 'F9' WHERE case_id = 'RJ-OLD' AND sequence = 2")
    db.commit()
    db.close()
    with SQLiteStore(path) as store:
        assert [p.case_id for p in store.verify()] == ["RJ-OLD"]
        assert [s.case_id for s in store.find()] == [build_demo_case().case_id]
        assert [f.case_id for f in store.report_facts()] == [build_demo_case().case_id]
