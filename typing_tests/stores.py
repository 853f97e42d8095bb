"""Type-checked usage of the stores and the caseload read model (mypy --strict; not run).

Both stores answer the same calls with the same types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import assert_type

from rjflow import Case, State
from rjflow.projection import CaseSummary, next_due, summarise
from rjflow.store import EventStore, PostgresStore, SQLiteStore, StoreProblem


def caseload(store: EventStore, case: Case) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert_type(store.save(case, expected_version=0), int)
    assert_type(store.load("RJ-1"), Case)
    assert_type(store.summary("RJ-1"), CaseSummary)
    page = store.find(stage=State.REVIEW, facilitator="F1", overdue_at=now, limit=50)
    assert_type(page, list[CaseSummary])
    assert_type(store.find(opened=(now, now), after=page[-1].case_id), list[CaseSummary])
    assert_type(store.count_by_stage(), dict[State, int])
    assert_type(store.rebuild(), int)
    assert_type(store.verify(), list[StoreProblem])
    assert_type(summarise(case).due_at, datetime | None)
    assert_type(next_due(case), datetime | None)
    assert_type(summarise(case).overdue(now), bool)


def opened() -> None:
    with PostgresStore("postgresql://app@db/rj", pool_size=4, timeout=5.0) as pg:
        assert_type(pg, PostgresStore)
    with SQLiteStore(":memory:") as lite:
        assert_type(lite, SQLiteStore)


def either(path: str, dsn: str) -> list[EventStore]:
    return [SQLiteStore(path), PostgresStore(dsn)]
