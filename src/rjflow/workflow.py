"""The engine: one validated workflow and one shared ``transitions`` machine per policy.

:meth:`Workflow.for_policy` derives a service's workflow from the table in
:mod:`rjflow.states` (dropping the activities its policy does not offer), checks it (every
guard and effect exists, every stage is reachable, every open stage can still end, nothing
leaves an end stage) and builds **one** ``transitions.Machine`` for it, cached per policy.

Cases are never added to the machine.  Each action is dispatched through transitions' own
event processing on a small, short-lived carrier that holds the case's current stage, so the
machine's model list stays empty: binding a case costs nothing, nothing grows with the number
of cases, and a case is garbage-collected as soon as its owner lets it go (transitions issues
#146 and #434 describe what ``add_model`` would cost instead).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
from transitions import Machine

from rjflow.blocker import Blocker
from rjflow.commands import Acting, Input
from rjflow.effects import EFFECTS
from rjflow.errors import InvalidWorkflow, UnknownAction
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules import GUARDS, resolve, run_guards
from rjflow.rules.roles import ROLE_RULE, role_rule
from rjflow.states import ACTIONS, STATES, ActionDef, State

__all__ = ["Workflow"]

_STATE_BY_VALUE = {s.value: s for s in State}


class _Carrier:
    """What transitions dispatches on for one action: the case's stage, and what the guards
    need.  Lives for one call; never registered with the machine."""

    __slots__ = ("act", "blockers", "input", "policy", "record", "state")

    def __init__(self, record: CaseRecord, policy: Policy, inp: Input | None, act: Acting) -> None:
        self.state = record.state.value
        self.record = record
        self.policy = policy
        self.input = inp
        self.act = act
        self.blockers: list[Blocker] = []


def _condition(guards: tuple[tuple[str, Any], ...], names: tuple[str, ...]) -> Any:
    """A transitions condition that evaluates every guard and keeps the reasons."""

    def all_guards_pass(event_data: Any) -> bool:
        carrier: _Carrier = event_data.model
        carrier.blockers = run_guards(
            guards, carrier.record, carrier.policy, carrier.input, carrier.act
        )
        return not carrier.blockers

    all_guards_pass.__qualname__ = f"all_guards_pass{names!r}"
    return all_guards_pass


class Workflow:
    """A service's workflow: its stages, its actions and the shared machine that runs them.

    >>> from rjflow import Policy
    >>> from rjflow.workflow import Workflow
    >>> wf = Workflow.for_policy(Policy(letter_enabled=False))
    >>> "choose_letter_of_apology" in wf.actions
    False
    >>> wf is Workflow.for_policy(Policy(letter_enabled=False))
    True
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        offered = tuple(
            s.state
            for s in STATES.values()
            if s.offered_by is None or getattr(policy, s.offered_by)
        )
        actions: dict[str, ActionDef] = {}
        for action in ACTIONS.values():
            sources = tuple(s for s in action.sources if s in offered)
            if sources and (action.dest is None or action.dest in offered):
                actions[action.name] = attrs.evolve(action, sources=sources)
        #: The stages this service uses, in the programme's order.
        self.states: tuple[State, ...] = offered
        #: The actions this service offers, by name.
        self.actions: Mapping[str, ActionDef] = MappingProxyType(actions)
        self._check()
        # Issue 14 (D2): every action first checks the actor's role (the table's ``roles``).
        self._guards = {
            name: ((ROLE_RULE, role_rule(a.roles, name)), *resolve(a.guards))
            for name, a in actions.items()
        }
        self.machine = self._build_machine()  # after self._guards: its conditions use them
        self._events = self.machine.events

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def for_policy(policy: Policy) -> Workflow:
        """The workflow for ``policy``, built and checked once and then shared (the 64 most
        recently used policies are kept; a service normally has one or two)."""
        return Workflow(policy)

    # -- building -------------------------------------------------------------------------------

    def _check(self) -> None:
        problems: list[str] = []
        for action in self.actions.values():
            problems += [
                f"action {action.name!r} names the unknown guard {g!r}"
                for g in action.guards
                if g not in GUARDS
            ]
            if action.name not in EFFECTS:
                problems.append(f"action {action.name!r} has no effect")
            if not action.roles:
                problems.append(f"action {action.name!r} names no role that may take it")
            if len(set(action.sources)) != len(action.sources):
                problems.append(f"action {action.name!r} lists a source stage twice")
        terminal = {s for s in self.states if STATES[s].terminal}
        for action in self.actions.values():
            if terminal.intersection(action.sources):
                problems.append(f"action {action.name!r} leaves an end stage")
        reachable = self.reachable_from(State.REFERRED)
        problems += [
            f"stage {s.value!r} cannot be reached from 'referred'"
            for s in self.states
            if s not in reachable
        ]
        problems += [
            f"stage {s.value!r} cannot reach an end stage"
            for s in self.states
            if s not in terminal and not terminal.intersection(self.reachable_from(s))
        ]
        if problems:
            raise InvalidWorkflow(
                f"The workflow for policy {self.policy.name!r} is inconsistent: "
                + "; ".join(problems)
                + ". Fix the workflow table or the policy."
            )

    def _build_machine(self) -> Machine:
        transitions = [
            {
                "trigger": action.name,
                "source": [s.value for s in action.sources],
                "dest": action.dest.value if action.dest is not None else None,
                "conditions": [_condition(self._guards[action.name], action.guards)],
            }
            for action in self.actions.values()
        ]
        return Machine(
            model=None,
            states=[s.value for s in self.states],
            initial=State.REFERRED.value,
            transitions=transitions,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
            name=self.policy.name,
        )

    # -- questions about the table --------------------------------------------------------------

    def reachable_from(self, start: State) -> frozenset[State]:
        """The stages reachable from ``start`` (itself included) by the stage-changing actions."""
        seen = {start}
        todo = deque([start])
        while todo:
            here = todo.popleft()
            for action in self.actions.values():
                if action.dest is not None and here in action.sources and action.dest not in seen:
                    seen.add(action.dest)
                    todo.append(action.dest)
        return frozenset(seen)

    def action(self, name: str) -> ActionDef:
        """The action called ``name``; :class:`UnknownAction` if the workflow has none."""
        try:
            return self.actions[name]
        except KeyError:
            if name in ACTIONS:
                return ACTIONS[name]
            raise UnknownAction(name, tuple(ACTIONS)) from None

    # -- running actions ------------------------------------------------------------------------

    def blockers(
        self, record: CaseRecord, action: ActionDef, inp: Input | None, act: Acting
    ) -> list[Blocker]:
        """Every reason ``action`` cannot be taken now, without changing anything."""
        unavailable = self._unavailable(record, action)
        if unavailable is not None:
            return [unavailable]
        return run_guards(self._guards[action.name], record, self.policy, inp, act)

    def dispatch(
        self, record: CaseRecord, action: ActionDef, inp: Input | None, act: Acting
    ) -> tuple[State, list[Blocker]]:
        """Run ``action`` through the shared machine: the stage it leads to, or the blockers."""
        unavailable = self._unavailable(record, action)
        if unavailable is not None:
            return record.state, [unavailable]
        carrier = _Carrier(record, self.policy, inp, act)
        self._events[action.name].trigger(carrier)
        return _STATE_BY_VALUE[carrier.state], carrier.blockers

    def _unavailable(self, record: CaseRecord, action: ActionDef) -> Blocker | None:
        if action.name not in self.actions:
            return Blocker(
                "not_offered",
                f"This service does not offer the action {action.name.replace('_', ' ')} "
                f"(policy {self.policy.name!r}).",
                "",
            )
        if record.state in action.sources:
            return None
        if STATES[record.state].terminal:
            return Blocker(
                f"case_{record.state.value}",
                f"The case is {record.state.label}; a {record.state.label} case accepts no "
                "further actions.",
                "",
            )
        stages = ", ".join(s.label for s in action.sources)
        return Blocker(
            "wrong_stage",
            f"{action.name.replace('_', ' ').capitalize()} is possible only at the "
            f"{stages} stage(s); the case is at the {record.state.label} stage.",
            "",
        )
