"""The workflow table itself: complete, consistent, and the same for every policy."""

from __future__ import annotations

import pytest

import rjflow.workflow as workflow_module
from rjflow import InvalidWorkflow, Policy, State
from rjflow.effects import EFFECTS
from rjflow.rules import GUARDS
from rjflow.rules.roles import ROLE_RULE
from rjflow.states import ACTIONS, EVALUATION_ACTIONS, OPEN_STATES, STATES, ActionDef
from rjflow.workflow import Workflow

from .strategies import POLICIES

TERMINAL = {s for s, d in STATES.items() if d.terminal}
ALL_POLICIES = [
    *POLICIES,
    Policy(letter_enabled=False, shuttle_enabled=False),
]


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: repr(p.name))
class TestEveryPolicysWorkflow:
    def test_every_stage_is_reachable_from_referred(self, policy: Policy) -> None:
        """No stage of the service's workflow is cut off."""
        wf = Workflow.for_policy(policy)
        assert set(wf.reachable_from(State.REFERRED)) == set(wf.states)

    def test_every_open_stage_can_still_end(self, policy: Policy) -> None:
        """From every open stage, completion or closure can be reached."""
        wf = Workflow.for_policy(policy)
        for state in wf.states:
            if state not in TERMINAL:
                assert wf.reachable_from(state) & TERMINAL, state

    def test_completion_is_reachable(self, policy: Policy) -> None:
        """Every service can complete a case, not only close it."""
        wf = Workflow.for_policy(policy)
        assert State.COMPLETED in wf.reachable_from(State.REFERRED)

    def test_the_machine_has_exactly_the_tables_transitions(self, policy: Policy) -> None:
        """The shared transitions machine is built from the table and nothing else."""
        wf = Workflow.for_policy(policy)
        expected = {
            (a.name, s.value, a.dest.value if a.dest else None)
            for a in wf.actions.values()
            for s in a.sources
        }
        built = {
            (name, source, t.dest)
            for name, event in wf.machine.events.items()
            for source, ts in event.transitions.items()
            for t in ts
        }
        assert built == expected
        assert set(wf.machine.states) == {s.value for s in wf.states}


def test_disabled_activities_leave_the_workflow() -> None:
    """A service without letters has no letter stage and no letter actions."""
    wf = Workflow.for_policy(Policy(letter_enabled=False))
    assert State.LETTER_OF_APOLOGY not in wf.states
    assert not {"choose_letter_of_apology", "draft_letter", "deliver_letter"} & set(wf.actions)
    assert "start_reviews" in wf.actions
    assert State.LETTER_OF_APOLOGY not in wf.actions["start_reviews"].sources


def test_every_action_has_a_source_guards_and_an_effect() -> None:
    """No trigger without a source; every named guard and every effect exists."""
    for action in ACTIONS.values():
        assert action.sources, action.name
        assert set(action.guards) <= set(GUARDS), action.name
        assert action.name in EFFECTS
    assert set(EFFECTS) == set(ACTIONS)


def test_nothing_leaves_an_end_stage_and_every_open_stage_can_close() -> None:
    """Completed and closed are left by nothing and accept only the evaluation actions, as
    record-keeping; close is available everywhere else."""
    for action in ACTIONS.values():
        if TERMINAL & set(action.sources):
            assert action.dest is None, action.name
            assert action.name in EVALUATION_ACTIONS, action.name
    accepted = {a.name for a in ACTIONS.values() if TERMINAL & set(a.sources)}
    assert accepted == {
        "record_feedback",
        "record_follow_up",
        "inform_victim",
        # issue 14 fixes: a held letter is delivered, consent withdrawn, after the end too
        "give_information",
        "record_consent",
        "deliver_letter",
        "withdraw_consent",
        "record_decline",
        "decline_all",
    }
    assert set(ACTIONS["close"].sources) == set(OPEN_STATES)


def test_every_guard_is_used_and_documented() -> None:
    """Each guard is on some edge and has a docstring naming its source."""
    used = {g for a in ACTIONS.values() for g in a.guards}
    used.add(ROLE_RULE)  # issue 14: the engine runs the role rule on every action (its roles)
    assert used == set(GUARDS)
    for name, guard in GUARDS.items():
        assert guard.__doc__, name


def test_a_broken_table_is_refused_with_what_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table that strands a stage or names a missing guard fails when it is built."""
    broken = dict(ACTIONS)
    broken["start_reviews"] = ActionDef(
        "start_reviews", (State.CONFERENCE,), State.REVIEW, ("no_such_guard",), object, "x"
    )
    monkeypatch.setattr(workflow_module, "ACTIONS", broken)
    with pytest.raises(InvalidWorkflow) as err:
        Workflow(Policy(name="broken"))
    message = str(err.value)
    assert "unknown guard 'no_such_guard'" in message
    assert "'letter_of_apology' cannot reach an end stage" not in message  # close still ends it
    assert "Fix the workflow table or the policy." in message


def test_an_end_stage_accepts_only_evaluation_record_keeping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A table in which an action leaves an end stage, or an end stage accepts an action that
    is not an evaluation action, fails when it is built."""
    broken = dict(ACTIONS)
    reopen = ActionDef("reopen", (State.CLOSED,), State.REVIEW, (), object, "x")
    broken["reopen"] = reopen
    sentence = ACTIONS["record_sentence"]
    broken["record_sentence"] = ActionDef(
        sentence.name,
        (State.REFERRED, State.COMPLETED),
        None,
        sentence.guards,
        sentence.input,
        sentence.summary,
    )
    monkeypatch.setattr(workflow_module, "ACTIONS", broken)
    with pytest.raises(InvalidWorkflow) as err:
        Workflow(Policy(name="broken ends"))
    message = str(err.value)
    assert "action 'reopen' leaves an end stage" in message
    assert "action 'record_sentence' is taken at an end stage but is not an evaluation" in message


def test_a_policy_offering_no_activity_is_refused() -> None:
    """With conference, letter and shuttle all switched off no case could complete."""
    policy = Policy(
        name="nothing", conference_enabled=False, letter_enabled=False, shuttle_enabled=False
    )
    with pytest.raises(InvalidWorkflow, match="stage 'review' cannot be reached"):
        Workflow.for_policy(policy)
