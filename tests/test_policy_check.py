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
from rjflow.rules import GUARDS
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
    """No check is left untested (P203 has its own test above)."""
    assert {code for code, _ in CORRUPTIONS} | {"P203"} == set(CHECKS)


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
