"""Type-checked usage of the deadlines and the caseload report (issue 13); mypy --strict runs
over this file, it is not run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, assert_type

from rjflow import Case
from rjflow.caseload import iter_jsonl
from rjflow.deadlines import DueState, Obligation, due, next_due, overdue_by_facilitator
from rjflow.reporting import (
    CaseFacts,
    Distribution,
    Period,
    Report,
    build_report,
    case_facts,
    report,
)
from rjflow.serialization import LineProblem


def deadlines(case: Case) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    assert_type(case.due(at), tuple[Obligation, ...])
    assert_type(due(case, at), tuple[Obligation, ...])
    assert_type(next_due(case, at), datetime | None)
    for obligation in case.due(at):
        assert_type(obligation.code, str)
        assert_type(obligation.state, DueState)
        assert_type(obligation.subject, str | None)
    groups = overdue_by_facilitator([case], at)
    assert_type(groups, dict[str | None, list[tuple[str, Obligation]]])


def reports(cases: list[Case]) -> None:
    period = Period.days(date(2026, 1, 1), date(2026, 12, 31))
    r = report(cases, period)
    assert_type(r, Report)
    assert_type(r.counts, Mapping[str, int])
    assert_type(r.days_to_completion, Distribution)
    assert_type(r.days_to_completion.median, float | None)
    assert_type(r.to_dict(), dict[str, Any])
    facts = case_facts(cases[0])
    assert_type(CaseFacts.from_dict(facts.to_dict()), CaseFacts)
    assert_type(build_report([facts], period), Report)
    for item in iter_jsonl(Path("caseload.jsonl")):
        assert_type(item, Case | LineProblem)
