"""The rules' declared scope (rjflow.rule_scope) checked against the engine: every fact is
never undone and made only by its actions; a rule that needs a fact blocks without it, one
that refuses a fact blocks with it; a policy-scoped rule blocks under the policy change its
declaration names and not under a policy that rules it out; the approver-is-assessor rule
blocks only on a migrated case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import attrs
import pytest

from rjflow import LONDON_CRC, Policy, State
from rjflow.action_names import action_name
from rjflow.case import Case
from rjflow.commands import Acting
from rjflow.parties import Facilitator, Staff, StaffRole
from rjflow.paths import START, Path, cover_edges, cover_guards, open_case
from rjflow.policy import EXAMPLES, example_policy
from rjflow.policy_check import fewest_sessions_to_complete
from rjflow.record import CaseRecord
from rjflow.rule_scope import (
    ESTABLISHED_BY,
    FACTS,
    HOLDINGS,
    SCOPES,
    impossible_outcomes,
)
from rjflow.rules import GUARDS
from rjflow.states import ACTIONS

from .builders import codes, new_case
from .strategies import POLICIES as SUITE_POLICIES
from .test_practice_safeguarding import _legacy_assessed_by

POLICIES = [LONDON_CRC, *(example_policy(name).policy for name in EXAMPLES)]


def _records(policy: Policy) -> Iterator[tuple[CaseRecord, str | None, CaseRecord]]:
    """Every (record before, action, record after) along the edge and guard paths under
    ``policy``; a refused last step leaves the record as it was."""
    paths = cover_edges(policy)[0] + cover_guards(policy)[0]
    for path in paths:
        case = open_case(policy, path.opening)
        for number, step in enumerate(path.steps, 1):
            before = case.record
            if number == len(path.steps) and path.refused_by is not None:
                yield before, None, before
                break
            at = START + timedelta(hours=number)
            case.fire(action_name(step.action), at=at, actor=step.actor, **step.input)
            yield before, step.action, case.record


Walked = tuple[Policy, list[tuple[CaseRecord, str | None, CaseRecord]]]


@pytest.fixture(scope="module", params=POLICIES, ids=lambda p: repr(p.name))
def walked(request: pytest.FixtureRequest) -> Walked:
    policy: Policy = request.param
    return policy, list(_records(policy))


def test_the_declarations_name_real_rules_facts_and_actions() -> None:
    assert set(SCOPES) <= set(GUARDS)
    assert set(ESTABLISHED_BY) == set(FACTS)
    for scope in SCOPES.values():
        assert scope.needs | scope.refuses <= set(FACTS)
        for setting in scope.settings:
            assert hasattr(LONDON_CRC, setting)
        if scope.same_actor is not None:
            assert set(scope.same_actor) <= set(ACTIONS)
    for makers in ESTABLISHED_BY.values():
        assert set(makers) <= set(ACTIONS)


def test_facts_are_never_undone_and_made_only_by_their_actions(walked: Walked) -> None:
    policy, triples = walked
    made = dict.fromkeys(FACTS, 0)
    for before, action, after in triples:
        for fact, holds in FACTS.items():
            if holds(before):
                assert holds(after), (fact, action)
            elif holds(after):
                assert action in ESTABLISHED_BY[fact], (fact, action)
                made[fact] += 1
    if policy.letter_enabled:
        assert all(made.values()), made  # the paths do make every fact


def _blocks(rule: str, rec: CaseRecord, policy: Policy) -> bool:
    act = Acting(rec.opened_at + timedelta(days=400), "F1")
    return any(True for _ in GUARDS[rule](rec, policy, None, act))


def test_a_rule_blocks_without_a_fact_it_needs_and_with_one_it_refuses(walked: Walked) -> None:
    policy, triples = walked
    seen = {name: 0 for name, s in SCOPES.items() if s.needs or s.refuses}
    for before, _, _ in triples:
        for name in seen:
            scope = SCOPES[name]
            here = scope.needs_at is None or before.state in scope.needs_at
            lacking = here and any(not FACTS[f](before) for f in scope.needs)
            refused = any(FACTS[f](before) for f in scope.refuses)
            if lacking or refused:
                assert _blocks(name, before, policy), (name, before.state)
                seen[name] += 1
    assert all(seen.values()), seen


def test_a_rule_blocks_only_at_the_stages_its_scope_names(walked: Walked) -> None:
    """conference_consent_in_force passes at every other stage (so a policy without
    conferences cannot show it block), and does block at the conference once a consent it
    needs is withdrawn (the default's guard paths show it)."""
    policy, triples = walked
    scoped = {n: s.blocks_only_at for n, s in SCOPES.items() if s.blocks_only_at is not None}
    assert scoped
    for before, _, _ in triples:
        for name, stages in scoped.items():
            if before.state not in stages:
                assert not _blocks(name, before, policy), (name, before.state)
    for name in scoped:
        assert f"{name}:blocks" not in cover_guards(policy)[1].impossible
        indirect = attrs.evolve(policy, conference_enabled=False)
        assert "conference_enabled = false" in impossible_outcomes(indirect)[f"{name}:blocks"]


@pytest.mark.parametrize(
    "rule", [name for name, s in SCOPES.items() if s.blocks_only_if is not None]
)
def test_a_policy_scoped_rule_blocks_only_under_the_policy_that_lets_it(rule: str) -> None:
    """Under each policy that rules it out (the default, an example, the suite's: for the
    total-sessions rule also one whose every route to completion holds the total anyway),
    with the declared change made, the rule blocks (a path shows it); the very same steps under the
    policy itself are not blocked by it, and its coverage lists the outcome as impossible,
    naming the setting as the reason."""
    scope = SCOPES[rule]
    assert scope.blocks_only_if is not None
    others = [
        p
        for p in (*POLICIES, *SUITE_POLICIES)
        if f"{rule}:blocks" in impossible_outcomes(p, fewest_sessions_to_complete(p))
    ]
    assert others  # the default, an example or a policy the suite runs under rules it out
    for policy in others:
        blocking = attrs.evolve(policy, **scope.blocking_policy)
        assert f"{rule}:blocks" not in impossible_outcomes(
            blocking, fewest_sessions_to_complete(blocking)
        )
        paths, coverage = cover_guards(blocking)
        shown = [p for p in paths if p.refused_by == rule]
        assert shown, coverage.missing
        case = _run_but_last(shown[0], policy)
        last = shown[0].steps[-1]
        at = START + timedelta(hours=len(shown[0].steps))
        judged = case.blockers(action_name(last.action), at=at, actor=last.actor, **last.input)
        assert rule not in {b.guard for b in judged}
        reason = cover_guards(policy)[1].impossible[f"{rule}:blocks"]
        assert all(setting in reason for setting in scope.settings)


def _run_but_last(path: Path, policy: Policy) -> Case:
    case = open_case(policy, path.opening)
    for number, step in enumerate(path.steps[:-1], 1):
        at = START + timedelta(hours=number)
        case.fire(action_name(step.action), at=at, actor=step.actor, **step.input)
    return case


def test_the_holdings_are_the_roles_a_party_can_hold() -> None:
    """HOLDINGS, from which the same-actor rules' impossibility is derived, are the role sets
    roles_of gives a new case's facilitators, lead and staff in each role."""
    case, clock = new_case()
    for role in StaffRole:
        if role not in (StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR):
            case.add_party(Staff(f"R{len(role.value)}", role), at=clock(), actor="F1")
    rec = case.record
    held = {rec.roles_of(p.id) for p in rec.parties if isinstance(p, Facilitator | Staff)}
    assert held <= set(HOLDINGS)
    assert frozenset({StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR}) in held


def test_the_approver_is_never_the_assessor_on_a_new_case_but_may_be_on_a_migrated_one() -> None:
    """approver_not_assessor is impossible for new cases (assessors are facilitators,
    approvers managers), and the reason says where it can block: a schema-1 case, whose
    earlier assessor is later added as a manager.  There the engine shows it block."""
    reason = impossible_outcomes(LONDON_CRC)["approver_not_assessor:blocks"]
    assert "schema 1" in reason
    case, clock = _legacy_assessed_by("X1")
    case.add_party(Staff("X1", StaffRole.MANAGER), at=clock(), actor="F1")
    assert "approver_is_assessor" in codes(case, "approve_risk_assessment", actor="X1")
    assert case.state is not State.REFERRED
