"""The workload every benchmark shares: the programme's happy path, step by step.

A case is opened, then taken from referral to completion in 15 actions, 5 of them
stage-changing triggers and 10 record-keeping actions.  Each step is named and classed so the
harness can time triggers and record-keeping separately, and count the rules each one runs
(from the table in ``rjflow.states``, the same table the engine is built from).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rjflow import Case, ContactActivity, Facilitator, Offence, OffenceCategory, RiskOutcome
from rjflow.serialization import dumps
from rjflow.states import ACTIONS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
OFFENCE = Offence(OffenceCategory.HOUSEHOLD_BURGLARY)
FACILITATORS = [Facilitator("F1")]
#: The application's secret for sealed snapshots (32 random bytes in real use).
SEAL_KEY = b"bench seal key: 32 random bytes!"


def rj_open(i: int) -> Case:
    return Case.open(
        f"C{i}",
        offence=OFFENCE,
        offender=f"O{i}",
        victims=[f"V{i}"],
        facilitators=FACILITATORS,
        lead_facilitator="F1",
        sentenced_on=date(2026, 2, 1),
        at=T0,
        actor="F1",
    )


# Each case has people of its own (ids "O<i>" and "V<i>" for case "C<i>"), as a real caseload
# does: a loaded caseload cannot share one "V1" among all its cases.
def _offender(c: Case) -> str:
    return "O" + c.case_id[1:]


def _victim(c: Case) -> str:
    return "V" + c.case_id[1:]


def _at(k: int) -> datetime:
    return T0 + k * H


_TWO = 2 * H

#: (action name, step) in order; a step takes the case and fires one action.
STEPS: list[tuple[str, Callable[[Case], Any]]] = [
    ("start_introduction", lambda c: c.start_introduction(at=_at(1), actor="F1")),
    ("record_session", lambda c: c.record_session(duration=_TWO, at=_at(2), actor="F1")),
    (
        "acknowledge_responsibility",
        lambda c: c.acknowledge_responsibility(guilty_plea=True, at=_at(2), actor="F1"),
    ),
    ("start_preparation", lambda c: c.start_preparation(at=_at(3), actor="F1")),
    ("record_session", lambda c: c.record_session(duration=_TWO, at=_at(4), actor="F1")),
    ("assess_risk", lambda c: c.assess_risk(RiskOutcome.FAVOURABLE, at=_at(4), actor="F1")),
    (
        "give_information",
        lambda c: c.give_information(
            _offender(c), ContactActivity.FACE_TO_FACE, at=_at(4), actor="F1"
        ),
    ),
    (
        "record_consent",
        lambda c: c.record_consent(
            _offender(c), ContactActivity.FACE_TO_FACE, at=_at(4), actor="F1"
        ),
    ),
    (
        "give_information",
        lambda c: c.give_information(
            _victim(c), ContactActivity.FACE_TO_FACE, at=_at(4), actor="F1"
        ),
    ),
    (
        "record_consent",
        lambda c: c.record_consent(_victim(c), ContactActivity.FACE_TO_FACE, at=_at(4), actor="F1"),
    ),
    ("hold_conference", lambda c: c.hold_conference(at=_at(5), actor="F1")),
    ("record_session", lambda c: c.record_session(duration=_TWO, at=_at(5), actor="F1")),
    ("start_reviews", lambda c: c.start_reviews(at=_at(6), actor="F1")),
    ("record_session", lambda c: c.record_session(duration=_TWO, at=_at(7), actor="F1")),
    ("complete", lambda c: c.complete(at=_at(8), actor="F1")),
]

#: Which steps change the stage (the table's ``dest`` is set) and which only keep records.
TRIGGERS = [i for i, (name, _) in enumerate(STEPS) if ACTIONS[name].dest is not None]
RECORDING = [i for i, (name, _) in enumerate(STEPS) if ACTIONS[name].dest is None]


def guard_checks(indices: list[int]) -> int:
    """The rules the engine evaluates for these steps (every rule of each action runs)."""
    return sum(len(ACTIONS[STEPS[i][0]].guards) for i in indices)


def happy_path(case: Case) -> None:
    for _name, step in STEPS:
        step(case)


def completed(i: int) -> Case:
    case = rj_open(i)
    happy_path(case)
    return case


def preparation_case(i: int) -> Case:
    """A case at preparation whose conference will be refused (no risk assessment yet)."""
    case = rj_open(i)
    for _name, step in STEPS[:4]:
        step(case)
    return case


def jsonl_lines(n: int) -> tuple[list[str], list[str]]:
    """n completed cases (16 events each), as JSON Lines, plain and with sealed snapshots."""
    plain: list[str] = []
    sealed: list[str] = []
    for i in range(n):
        case = completed(i)
        plain.append(dumps(case))
        sealed.append(dumps(case, seal_key=SEAL_KEY))
    return plain, sealed
