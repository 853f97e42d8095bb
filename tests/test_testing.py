"""rjflow.testing as an application uses it (issue 12): a tiny app model subclassing
CaseMachine, and the strategies for policies, inputs and cases."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from rjflow import ActionRefused, Case, ContactActivity, Event, Policy, RiskOutcome, State
from rjflow.policy import EXAMPLES, example_policy, file_values, policy_schema
from rjflow.policy_check import check_policy, has_errors
from rjflow.policy_file import to_toml
from rjflow.testing import (
    DRIVABLE,
    CaseMachine,
    actor_for,
    at_stage,
    cases,
    consent,
    inputs,
    policies,
    valid_inputs,
)
from rjflow.workflow import Workflow


class CaseRowApp(CaseMachine):
    """A downstream application: it keeps one row per case (stage, version, open sessions)
    updated from rjflow's events, and adds a rule of its own (a caseworker's note of a
    session, which is a record_session action)."""

    def on_opened(self, case: Case) -> None:
        self.row: dict[str, Any] = {"stage": case.state.value, "version": case.version}
        self.mirrored = 0

    def on_event(self, event: Event) -> None:
        # A record-keeping event keeps the stage (its to_state is None): the first run of
        # this test found exactly that mistake in this app model.
        self.row = {"stage": event.to_state or self.row["stage"], "version": event.sequence}
        self.mirrored += 1

    @precondition(lambda self: hasattr(self, "case") and self.case.is_open)
    @rule(hours=st.sampled_from([1, 2, 4]))
    def caseworker_records_a_session(self, hours: int) -> None:
        """The app's own screen: record a session of the current stage."""
        self.attempt(
            "record_session",
            {"duration": timedelta(hours=hours)},
            at=self.now + timedelta(hours=1),
        )

    @invariant()
    def the_row_agrees_with_the_case(self) -> None:
        if not hasattr(self, "case"):
            return
        assert self.row == {"stage": self.case.state.value, "version": self.case.version}
        assert self.mirrored == self.case.version - 1


CaseRowApp.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None)
TestCaseRowApp = CaseRowApp.TestCase


class IndirectOnlyApp(CaseMachine):
    """An application of a service without conferences sets its policy on the class."""

    policy = Policy(name="indirect only", conference_enabled=False)

    @invariant()
    def never_at_a_conference(self) -> None:
        if hasattr(self, "case"):
            assert self.case.state is not State.CONFERENCE


IndirectOnlyApp.TestCase.settings = settings(max_examples=10, stateful_step_count=20, deadline=None)
TestIndirectOnlyApp = IndirectOnlyApp.TestCase


@settings(max_examples=40, deadline=None)
@given(policies())
def test_drawn_policies_are_sound_and_round_trip_through_a_file(policy: Policy) -> None:
    """Valid policies: no static error, a workflow builds, the file form validates against the
    schema and reads back equal."""
    assert not has_errors(check_policy(policy))
    assert Workflow.for_policy(policy).states
    values = file_values(policy)
    jsonschema.validate(values, policy_schema())
    assert Policy(**_from_file(tomllib.loads(to_toml(values)))) == policy


def _from_file(data: dict[str, Any]) -> dict[str, Any]:
    from rjflow.policy import file_settings  # noqa: PLC0415
    from rjflow.policy_file import _convert  # noqa: PLC0415

    return {
        k: _convert(file_settings()[k], v, file="t.toml", key=k, line=None) for k, v in data.items()
    }


@pytest.mark.parametrize(
    ("stage", "policy", "why"),
    [
        (State.LETTER_OF_APOLOGY, Policy(letter_enabled=False), "does not offer that stage"),
        (State.SHUTTLE_MEDIATION, Policy(shuttle_enabled=False), "does not offer that stage"),
        (State.REVIEW, Policy(conference_enabled=False), "by way of the conference"),
        (State.REVIEW, Policy(conference_categories=frozenset()), "conference_categories is"),
    ],
)
def test_a_stage_the_policy_closes_is_refused_at_once_saying_why(
    stage: State, policy: Policy, why: str
) -> None:
    """A test that asks for a case its policy cannot have is told so when it builds the
    strategy (not by hypothesis's Unsatisfiable, nor by an ActionRefused mid-route)."""
    with pytest.raises(ValueError, match=f"cannot drive a case to {stage.value}.*{why}"):
        cases(stage, policy)


def test_a_policy_given_by_name_is_refused_saying_how_to_get_one() -> None:
    with pytest.raises(ValueError, match="takes a rjflow Policy as 'policy' \\(got str\\)"):
        cases(State.REVIEW, "youth")  # type: ignore[arg-type]


def test_a_stage_given_as_text_is_refused_naming_the_enum() -> None:
    with pytest.raises(ValueError, match=r"takes a State, such as State.PREPARATION \(got str\)"):
        cases("letter_of_apology")  # type: ignore[arg-type]


@settings(max_examples=len(DRIVABLE) * 2, deadline=None)
@given(st.sampled_from(DRIVABLE).flatmap(lambda s: st.tuples(st.just(s), cases(s))))
def test_cases_are_driven_to_the_stage_asked(drawn: tuple[State, Any]) -> None:
    stage, (case, clock) = drawn
    assert case.state is stage
    assert clock() > case.history[-1].at


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_valid_inputs_are_accepted(data: st.DataObject) -> None:
    """valid_inputs draws only inputs the case accepts: firing them succeeds."""
    case, clock = data.draw(cases(State.PREPARATION))
    at = clock()
    action = data.draw(st.sampled_from(["record_session", "record_request", "add_party"]))
    kwargs = data.draw(valid_inputs(case, action, at=at, actor=actor_for(action)))
    case.fire(action, at=at, actor=actor_for(action), **kwargs)
    assert case.history[-1].action == action


def test_inputs_cover_every_action() -> None:
    """Every action of the table has an input strategy (or takes none)."""
    case, _ = at_stage(State.REVIEW)
    for name in Workflow.for_policy(Policy()).actions:
        assert inputs(name, case.record) is not None


def test_can_without_input_agrees_with_fire_for_a_default_conference_length() -> None:
    """Found by the path generator under the youth and prison examples (two-hour sessions):
    CaseMachine's first invariant (can <=> fire succeeds) fails for such a service."""
    case, clock = at_stage(State.PREPARATION, policy=Policy(max_session_length=timedelta(hours=2)))
    at = clock()
    for party in ("O1", "V1", "S1"):
        consent(case, clock, party, ContactActivity.FACE_TO_FACE)
    case.accept_supporter("S1", by="O1", at=clock(), actor="F1")
    case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
    case.assess_risk(RiskOutcome.FAVOURABLE, at=clock(), actor="F1")
    at = clock()
    # Asked without input, the conference is judged with its input's defaults (3 h), which is
    # what fire() without input takes: both say no, for the same reason.
    assert not case.can("hold_conference", at=at, actor="F1")
    assert "session_too_long" in {
        b.code for b in case.blockers("hold_conference", at=at, actor="F1")
    }
    version = case.version
    with pytest.raises(ActionRefused) as refused:
        case.hold_conference(at=at, actor="F1")
    assert "session_too_long" in {b.code for b in refused.value.blockers}
    assert case.version == version
    case.hold_conference(duration=timedelta(hours=2), at=at, actor="F1")
    assert case.state is State.CONFERENCE


@pytest.mark.parametrize("name", EXAMPLES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_cases_reach_every_stage_the_shipped_policies_offer(name: str, data: st.DataObject) -> None:
    """The builders follow the policy: its longest session, each stage's minimum sessions and
    its risk assessment scope (the youth and prison examples assess each participant, the
    police example's sessions last at most 2 hours)."""
    policy = example_policy(name).policy
    reachable = []
    for stage in DRIVABLE:
        try:
            cases(stage, policy)
        except ValueError:
            continue
        reachable.append(stage)
    assert State.REVIEW in reachable and State.PREPARATION in reachable
    stage = data.draw(st.sampled_from(reachable), label="stage")
    case, _ = data.draw(cases(stage, policy), label="case")
    assert case.state is stage


@pytest.mark.parametrize(
    "policy",
    [
        Policy(max_session_length=timedelta(hours=1)),
        Policy(min_introduction_sessions=3, min_preparation_sessions=2),
        Policy(min_conference_sessions=3),
    ],
    ids=["one-hour sessions", "more sessions", "more conference sessions"],
)
def test_at_stage_follows_the_policys_sessions(policy: Policy) -> None:
    case, _ = at_stage(State.REVIEW, policy=policy)
    assert case.state is State.REVIEW
    assert all(s.duration <= policy.max_session_length for s in case.record.sessions)
