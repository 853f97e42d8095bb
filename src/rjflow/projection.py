"""The caseload read model: one summary per case, derived from the case by one function.

A store keeps each case's :class:`CaseSummary` in the same transaction as its events, so a
caseload screen can list, filter and page cases without replaying them.  The summary is a
*projection* of the case: :func:`summarise` is the only place it is computed, whether a save
writes it incrementally or ``rebuild`` recomputes it from the stored events, so the two cannot
disagree (the tests check they do not).

>>> from rjflow.demo import build_demo_case
>>> summary = summarise(build_demo_case())
>>> summary.stage.value, summary.version, summary.closure_reason.value
('completed', 33, 'completed')
"""

from __future__ import annotations

import functools
from datetime import datetime

import attrs

from rjflow import deadlines
from rjflow.action_names import action_name
from rjflow.activities import AgreementOutcome, ClosureReason
from rjflow.case import Case
from rjflow.offences import OffenceCategory
from rjflow.states import State

__all__ = ["CaseSummary", "next_due", "summarise"]


@attrs.frozen
class CaseSummary:
    """What a caseload screen shows of one case, at one version.

    Times are timezone-aware UTC.  ``closed_at`` is when the case was completed or closed
    (None while it is open); ``closure_reason`` and ``outcome`` (how its outcome agreement
    ended) are None until then.  ``sessions_held`` counts the sessions the offender attended.
    ``due_at`` is the moment from which the case is overdue (see :func:`next_due`), None when
    nothing is due.  ``actionable`` is True when at least one action is allowed at the time of
    the case's last change (rules depending on an action's input are not judged).
    """

    case_id: str
    stage: State
    version: int
    opened_at: datetime
    updated_at: datetime
    offence_category: OffenceCategory
    lead_facilitator: str | None
    closure_reason: ClosureReason | None
    outcome: AgreementOutcome | None
    closed_at: datetime | None
    sessions_held: int
    due_at: datetime | None
    actionable: bool

    def overdue(self, at: datetime) -> bool:
        """True when something on the case was due before ``at`` (timezone-aware): ``at`` is
        after ``due_at``, as `rjflow.deadlines` judges an obligation overdue."""
        return self.due_at is not None and self.due_at < at


def next_due(case: Case) -> datetime | None:
    """The earliest due time (UTC) among the case's dated obligations (`rjflow.deadlines`:
    reviews, agreement actions, reassessment, first contact, no activity, enforcement), or None
    when nothing is due (an ended case).  The case is overdue at any moment after it.

    The due times do not depend on when they are asked (only their states do), so the
    summary computes them at the case's last event: a store can then find the overdue cases at
    any time with one indexed comparison."""
    return deadlines.next_due(case, case.record.updated_at)


def summarise(case: Case) -> CaseSummary:
    """The case's summary at its current version: the projection every store writes."""
    record = case.record
    closure = record.closure
    return CaseSummary(
        case_id=case.case_id,
        stage=record.state,
        version=case.version,
        opened_at=record.opened_at,
        updated_at=record.updated_at,
        offence_category=record.offence.category,
        lead_facilitator=record.lead_facilitator,
        closure_reason=closure.reason if closure is not None else None,
        outcome=closure.outcome if closure is not None else None,
        closed_at=closure.at if closure is not None else None,
        sessions_held=record.sessions_held,
        due_at=next_due(case),
        actionable=_any_action_allowed(case),
    )


def _any_action_allowed(case: Case) -> bool:
    """``any(option.allowed for option in case.options())``, stopping at the first action
    allowed (saves write a summary each time).  ``close`` is asked first: it is open from
    every open stage and seldom blocked, so most open cases are answered by one question."""
    names = _close_first(case.workflow.actions_from.get(case.state, ()))
    return any(not case.blockers(action_name(name)) for name in names)


@functools.lru_cache(maxsize=256)
def _close_first(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` with ``close`` first, the others in their order."""
    return tuple(sorted(names, key=lambda name: name != "close"))
