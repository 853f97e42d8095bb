"""Static checks on a policy (issue 12): each mistake found, by its stable code, before a case
runs; the default and every policy the suite runs under pass."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from rjflow import (
    LONDON_CRC,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    State,
)
from rjflow.commands import Acting, RecordAcknowledgement
from rjflow.policy_check import (
    _NEVER_PASSES,
    _VICTIM_CONSENT,
    CHECKS,
    Finding,
    Severity,
    check_policy,
    has_errors,
    offered,
)
from rjflow.rules import GUARDS, evaluate
from rjflow.states import ACTIONS
from rjflow.workflow import Workflow

from .builders import at_stage
from .strategies import POLICIES

#: One corruption per check: the setting changed, and the code it must raise.
CORRUPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("P101", {"conference_enabled": False, "letter_enabled": False, "shuttle_enabled": False}),
    ("P101", {"conference_categories": [], "conference_for_direct_personal_harm": False}),
    ("P102", {"min_conference_sessions": 11}),
    ("P102", {"min_review_sessions": 10}),
    ("P103", {"conference_categories": [], "conference_for_direct_personal_harm": False}),
    ("P201", {"conference_categories": [], "conference_for_direct_personal_harm": False}),
    ("P202", {"min_introduction_sessions": 12}),
    ("P202", {"max_sessions": 3}),
    ("P204", {"letter_enabled": False, "shuttle_enabled": False}),
    ("P301", {"excluded_with_ongoing_contact": [OffenceCategory.THEFT]}),
    ("P301", {"victim_request_required_for": [OffenceCategory.FRAUD]}),
    ("P302", {"min_sensitive_lead_level": PractitionerLevel.FOUNDATION}),
]


#: The checks that only warn: a policy with nothing else wrong still passes.
WARNINGS_ONLY = {"P301", "P302"}


@pytest.mark.parametrize(("code", "changes"), CORRUPTIONS, ids=str)
def test_each_corruption_is_found_by_its_code(code: str, changes: dict[str, Any]) -> None:
    """Corrupt one value of the default: the matching code is reported; an error fails the
    policy, a warning alone does not."""
    findings = check_policy(attrs.evolve(LONDON_CRC, **changes))
    assert code in {f.code for f in findings}
    assert has_errors(findings) is (code not in WARNINGS_ONLY)
    if code in WARNINGS_ONLY:
        assert {f.severity for f in findings} == {Severity.WARNING}


def test_a_level_above_advanced_is_found() -> None:
    """P203: a lead level no practitioner holds (a Policy refuses it, so it is forced in here;
    a policy file reports it as F006 before a Policy exists)."""
    policy = Policy()
    object.__setattr__(policy, "min_sensitive_lead_level", 4)
    findings = check_policy(policy)
    assert "P203" in {f.code for f in findings}
    assert has_errors(findings)


def test_every_check_has_a_corruption() -> None:
    """No check is left untested (P203 and P104, a defect of the table rather than of a
    policy, have their own tests)."""
    assert {code for code, _ in CORRUPTIONS} | {"P203", "P104"} == set(CHECKS)


def _planted(action: str, *extra: State) -> dict[str, Any]:
    table = dict(ACTIONS)
    table[action] = attrs.evolve(table[action], sources=(*table[action].sources, *extra))
    return table


def test_a_dead_edge_planted_in_the_table_is_found() -> None:
    """P104: acknowledging responsibility offered again from preparation (as the table once
    had it) can never be taken there: a case enters preparation only once responsibility is
    acknowledged, and the acknowledgement is recorded once.  The check derives this from the
    rules' declared facts, and the engine agrees: at preparation the action is refused."""
    findings = check_policy(LONDON_CRC, _planted("acknowledge_responsibility", State.PREPARATION))
    assert [(f.code, f.subject) for f in findings] == [
        ("P104", "acknowledge_responsibility@preparation")
    ]
    assert findings[0].severity is Severity.WARNING
    assert "not_yet_acknowledged" in findings[0].message
    case, clock = at_stage(State.PREPARATION)
    judged = evaluate(
        ACTIONS["acknowledge_responsibility"].guards,
        case.record,
        case.policy,
        RecordAcknowledgement(guilty_plea=True),
        Acting(clock(), "F1"),
    )
    assert [b.guard for b in judged] == ["not_yet_acknowledged"]


def test_a_dead_edge_by_a_fact_no_case_can_have_is_found() -> None:
    """P104 for a rule that needs a fact no case at the stage can have: after the end,
    information and consent are recorded only for a letter held on file
    (ended_only_for_a_held_letter).  With no action left to draft a letter, those edges are
    dead; switching letters off is the policy's choice, not a table defect, and is not
    reported."""
    table = dict(ACTIONS)
    del table["draft_letter"]
    dead = {f.subject for f in check_policy(LONDON_CRC, table) if f.code == "P104"}
    assert dead == {
        f"{action}@{stage}"
        for action in ("give_information", "record_consent")
        for stage in ("completed", "closed")
    }
    assert check_policy(Policy(letter_enabled=False)) == ()


@pytest.mark.parametrize("policy", [LONDON_CRC, *POLICIES], ids=lambda p: repr(p.name))
def test_sound_policies_have_no_findings(policy: Policy) -> None:
    """The default and the policies the suite exercises are sound."""
    assert check_policy(policy) == ()


@pytest.mark.parametrize(
    "policy",
    [*POLICIES, Policy(letter_enabled=False, shuttle_enabled=False)],
    ids=lambda p: repr(p.name),
)
def test_offered_agrees_with_the_workflow(policy: Policy) -> None:
    """The checks derive the stages and actions a policy offers as the engine does."""
    stages, actions = offered(policy)
    workflow = Workflow.for_policy(policy)
    assert stages == workflow.states
    assert actions == dict(workflow.actions)


def test_the_session_count_agrees_with_the_engine() -> None:
    """P202's arithmetic is the engine's: one introduction, one preparation and the conference
    are three sessions; reviews start only while a session remains.  So max_sessions 4 is the
    least that lets a case reach review, and the check says so."""
    assert check_policy(Policy(max_sessions=4)) == ()
    assert "P202" in {f.code for f in check_policy(Policy(max_sessions=3))}
    for limit, reaches in ((4, True), (3, False)):
        case, clock = at_stage(State.CONFERENCE, policy=Policy(max_sessions=limit))
        assert case.record.sessions_held == 3
        assert case.can("start_reviews", at=clock(), actor="F1") is reaches


def test_the_guards_the_checks_name_exist() -> None:
    """The checks read the table by guard name: those names must be the table's."""
    assert set(_NEVER_PASSES) <= set(GUARDS)
    assert any(g.startswith(_VICTIM_CONSENT) for g in ACTIONS["hold_conference"].guards)


def test_findings_read_as_lines() -> None:
    """A finding prints as CODE SEVERITY SLUG: message."""
    finding = Finding("P204", "Switch on a letter.", "letter_enabled")
    assert str(finding) == "P204 error no_route_for_declining_victim: Switch on a letter."
