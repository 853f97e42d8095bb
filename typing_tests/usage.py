"""Type-checked usage of the public API (mypy --strict runs over this file; it is not run).

If a public signature loses or changes its types, this file stops type-checking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, assert_type

from rjflow import (
    ERASED,
    ActionRefused,
    Blocker,
    Case,
    ContactActivity,
    ErasedText,
    ErasureReason,
    Event,
    Facilitator,
    Keyring,
    Letter,
    Offence,
    OffenceCategory,
    Option,
    PartyRequest,
    Policy,
    RiskScope,
    Staff,
    StaffRole,
    State,
    erase_free_text,
)
from rjflow.diagrams import diagram_model, to_mermaid
from rjflow.serialization import LoadReport, dumps, load_jsonl, loads, migrated_from
from rjflow.store import SQLiteStore


def usage() -> None:
    t = datetime(2026, 3, 2, tzinfo=UTC)
    case = Case.open(
        "RJ-1",
        offence=Offence(OffenceCategory.VIOLENCE),
        offender="O1",
        victims=["V1"],
        facilitators=[Facilitator("F1")],
        lead_facilitator="F1",
        at=t,
        actor="F1",
        policy=Policy(max_sessions=10),
    )
    assert_type(case.state, State)
    assert_type(case.version, int)
    assert_type(case.options(), tuple[Option, ...])
    assert_type(case.blockers("start_introduction"), tuple[Blocker, ...])
    assert_type(case.can("start_introduction"), bool)
    assert_type(case.record_sentence(sentenced_on=t.date(), at=t, actor="F1"), Event)
    assert_type(case.give_information("V1", ContactActivity.FACE_TO_FACE, at=t, actor="F1"), Event)
    assert_type(case.fire("record_session", at=t, actor="F1", duration=timedelta(hours=1)), Event)
    try:
        case.start_introduction(at=t, actor="F1")
    except ActionRefused as refused:
        assert_type(refused.codes, tuple[str, ...])
    assert_type(loads(dumps(case)), Case)
    assert_type(load_jsonl([dumps(case)]), LoadReport)
    key = b"sixteen or more bytes of secret"
    assert_type(loads(dumps(case, seal_key=key), seal_key=key), Case)
    assert_type(load_jsonl([dumps(case, seal_key=key)], seal_key=key), LoadReport)
    ring = Keyring({"2026-11": key}, current="2026-11")
    assert_type(loads(dumps(case, keyring=ring, snapshot=True), keyring=ring), Case)
    assert_type(load_jsonl([dumps(case, keyring=ring)], keyring=ring), LoadReport)
    assert_type(migrated_from(case), Mapping[str, Any] | None)
    erased = erase_free_text(case, at=t, actor="M1", reason=ErasureReason.SUBJECT_REQUEST)
    assert_type(erased, Event)
    assert_type(ERASED, ErasedText)
    assert_type(to_mermaid(diagram_model(case.policy, case)), str)
    with SQLiteStore(":memory:") as store:
        assert_type(store.save(case, expected_version=0), int)
        assert_type(store.load("RJ-1"), Case)
    # issue 14: change of mind, supporters, interpreters, letters per victim
    assert_type(case.record_request("V1", at=t, actor="F1"), Event)
    assert_type(case.record_request("V1", "face_to_face", at=t, actor="F1"), Event)
    assert_type(case.accept_supporter("S1", by="O1", at=t, actor="F1"), Event)
    info = case.give_information("V1", "shuttle", interpreter_provided=True, at=t, actor="F1")
    assert_type(info, Event)
    assert_type(case.review_letter(victim="V1", approved=False, at=t, actor="F1"), Event)
    assert_type(case.deliver_letter(victim="V1", at=t, actor="F1"), Event)
    assert_type(case.record.letters, tuple[Letter, ...])
    assert_type(case.record.requests, tuple[PartyRequest, ...])


def usage_issue_14_d2() -> None:
    """Staff roles, approvals, new information and late entry are typed."""
    t = datetime(2026, 3, 2, tzinfo=UTC)
    case = Case.open(
        "RJ-2",
        offence=Offence(OffenceCategory.VIOLENCE),
        offender="O1",
        victims=["V1"],
        facilitators=[Facilitator("F1")],
        lead_facilitator="F1",
        staff=[Staff("M1", StaffRole.MANAGER)],
        at=t,
        actor="M1",
        policy=Policy(risk_assessment_scope=RiskScope.PARTICIPANT),
    )
    later = t + timedelta(days=2)
    assert_type(
        case.record_sentence(sentenced_on=t.date(), at=later, occurred_at=t, actor="M1"), Event
    )
    assert_type(case.history[-1].occurred_at, datetime | None)
    assert_type(case.record_new_information(subject="O1", at=later, actor="M1"), Event)
    assert_type(case.approve_risk_assessment(subject="O1", at=later, actor="M1"), Event)
    assert_type(case.can("assess_risk", actor="F1", occurred_at=t, outcome="favourable"), bool)
    assert_type(case.record.roles_of("M1"), frozenset[StaffRole])
