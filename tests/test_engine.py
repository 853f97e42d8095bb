"""The shared machine: built once, never holding cases, and really the engine."""

from __future__ import annotations

import gc
import weakref
from datetime import timedelta

import pytest
import transitions.core

from rjflow import LONDON_CRC, ActionRefused, Policy, State
from rjflow.workflow import Workflow

from .builders import at_stage, new_case, session


def test_one_machine_per_policy_shared_by_every_case() -> None:
    """Cases with equal policies share one workflow and one machine."""
    a, _ = new_case()
    b, _ = new_case(policy=Policy())
    assert a.workflow is b.workflow is Workflow.for_policy(LONDON_CRC)
    c, _ = new_case(policy=Policy(max_sessions=6))
    assert c.workflow is not a.workflow


def test_many_cases_never_grow_the_machine() -> None:
    """Binding is not O(cases): after thousands of cases and actions the model list is empty,
    so a million-case loop leaves the machine as it found it."""
    machine = Workflow.for_policy(LONDON_CRC).machine
    before = (len(machine.models), len(machine.events), len(machine.states))
    for _ in range(2000):
        case, clock = at_stage(State.INTRODUCTION)
        session(case, clock)
        with pytest.raises(ActionRefused):
            case.hold_conference(at=clock(), actor="F1")
        assert machine.models == []
    assert (len(machine.models), len(machine.events), len(machine.states)) == before


def test_a_case_is_freed_when_its_owner_lets_go() -> None:
    """The machine keeps no reference: a case is garbage as soon as nobody holds it."""
    case, clock = at_stage(State.INTRODUCTION)
    session(case, clock)
    ref = weakref.ref(case)
    del case
    gc.collect()
    assert ref() is None


def test_actions_are_dispatched_through_transitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every action, allowed or refused by a guard, goes through transitions' own Event."""
    seen: list[str] = []
    real = transitions.core.Event.trigger

    def spy(self: transitions.core.Event, model: object, *args: object, **kw: object) -> bool:
        seen.append(self.name)
        return bool(real(self, model, *args, **kw))

    monkeypatch.setattr(transitions.core.Event, "trigger", spy)
    case, clock = at_stage(State.INTRODUCTION)
    seen.clear()
    case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
    with pytest.raises(ActionRefused):
        case.record_session(duration=timedelta(hours=4), at=clock(), actor="F1")
    case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
    case.start_preparation(at=clock(), actor="F1")
    assert seen == [
        "record_session",
        "record_session",
        "acknowledge_responsibility",
        "start_preparation",
    ]
