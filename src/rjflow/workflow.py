"""The engine: one validated workflow and one shared ``transitions`` machine per policy.

:meth:`Workflow.for_policy` derives a service's workflow from the table in
:mod:`rjflow.states` (dropping the activities its policy does not offer), checks it (every
guard and effect exists, every stage is reachable, every open stage can still end, nothing
leaves an end stage, and an end stage accepts only the record-keeping actions of
:data:`~rjflow.states.EVALUATION_ACTIONS`) and builds **one**
``transitions.Machine`` for it, cached per policy.

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

from rjflow._logging import DISPATCHING
from rjflow.blocker import Blocker
from rjflow.commands import Acting, Input
from rjflow.effects import EFFECTS
from rjflow.errors import InvalidWorkflow, UnknownAction
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules import GUARDS, resolve, run_guards
from rjflow.rules.roles import ROLE_RULE, role_rule
from rjflow.states import ACTIONS, EVALUATION_ACTIONS, STATES, ActionDef, State

__all__ = ["Workflow"]

_STATE_BY_VALUE = {s.value: s for s in State}

#: The rules schema 1 (rjflow 0.1) judged by.  An event carried over from a schema-1 document
#: is judged by these alone: the rules added since did not exist when it was recorded.
SCHEMA_1_RULES = frozenset(
    {
        "offender_sentenced",
        "lead_facilitator_assigned",
        "stage_session_held",
        "sessions_remaining",
        "session_length_within_limit",
        "not_referred_for_enforcement",
        "offence_eligible_for_conference",
        "offence_not_excluded",
        "responsibility_acknowledged",
        "not_yet_acknowledged",
        "guilty_plea_recorded",
        "risk_assessment_favourable",
        "lead_facilitator_qualified",
        "victims_consent_face_to_face",
        "offender_consents_face_to_face",
        "conference_consent_in_force",
        "victims_consent_shuttle",
        "offender_consents_shuttle",
        "sexual_harm_victim_request",
        "victim_known",
        "party_can_consent",
        "party_not_declined",
        "information_given",
        "consent_not_in_force",
        "consent_in_force",
        "party_id_free",
        "party_is_facilitator",
        "participant_known",
        "letter_not_started",
        "letter_drafted",
        "letter_reviewed",
        "victim_consents_to_letter",
        "activity_concluded",
        "agreement_settled",
        "agreement_not_binding",
        "agreement_proposed",
        "responsible_parties_known",
        "signatory_may_sign",
        "agreement_action_known",
        "agreement_fulfilled",
        "closure_reason_valid",
    }
)


@functools.cache
def _default_input(cls: type) -> Input | None:
    """The input ``cls()`` when every field of ``cls`` has a default, else None."""
    if all(a.default is not attrs.NOTHING for a in attrs.fields(cls) if a.init):
        built: Input = cls()
        return built
    return None


class _Carrier:
    """What transitions dispatches on for one action: the case's stage, and what the guards
    need.  Lives for one call; never registered with the machine."""

    __slots__ = ("act", "blockers", "input", "judged", "policy", "record", "state")

    def __init__(
        self,
        record: CaseRecord,
        policy: Policy,
        inp: Input | None,
        act: Acting,
        judged: bool = True,
    ) -> None:
        self.state = record.state.value
        self.record = record
        self.policy = policy
        self.input = inp
        self.act = act
        self.judged = judged
        self.blockers: list[Blocker] = []


def _condition(guards: tuple[tuple[str, Any], ...], names: tuple[str, ...]) -> Any:
    """A transitions condition that evaluates every guard and keeps the reasons."""

    def all_guards_pass(event_data: Any) -> bool:
        carrier: _Carrier = event_data.model
        judged = guards if carrier.judged else tuple(g for g in guards if g[0] in SCHEMA_1_RULES)
        carrier.blockers = run_guards(
            judged, carrier.record, carrier.policy, carrier.input, carrier.act
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
            switch = action.offered_by  # issue 14: an action a policy switch offers
            if switch is not None and not getattr(policy, switch):
                continue
            if sources and (action.dest is None or action.dest in offered):
                actions[action.name] = attrs.evolve(action, sources=sources)
        #: The stages this service uses, in the programme's order.
        self.states: tuple[State, ...] = offered
        #: The actions this service offers, by name.
        self.actions: Mapping[str, ActionDef] = MappingProxyType(actions)
        #: The names of the actions that may be taken from each stage, in the table's order.
        self.actions_from: Mapping[State, tuple[str, ...]] = MappingProxyType(
            {s: tuple(n for n, a in actions.items() if s in a.sources) for s in offered}
        )
        self._check()
        # Issue 14 (D2): every action first checks the actor's role (the table's ``roles``).
        self._guards = {
            name: ((ROLE_RULE, role_rule(a.roles, name)), *resolve(a.guards))
            for name, a in actions.items()
        }
        self.machine = self._build_machine()  # after self._guards: its conditions use them
        self._events = self.machine.events
        #: The policy as schema 1 read it: values added since take their schema-1 meaning.
        self._schema_1_policy = attrs.evolve(policy, facilitator_signs_agreement=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled by its policy: the transitions machine is rebuilt (or found) on unpickling.
        return (Workflow.for_policy, (self.policy,))

    def __deepcopy__(self, _memo: object) -> Workflow:
        return self  # one shared, unchanging workflow per policy

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
            # An end stage is left by nothing; it accepts only EVALUATION_ACTIONS' record-keeping.
            if not terminal.intersection(action.sources):
                continue
            if action.dest is not None:
                problems.append(f"action {action.name!r} leaves an end stage")
            elif action.name not in EVALUATION_ACTIONS:
                problems.append(
                    f"action {action.name!r} is taken at an end stage but is not an evaluation "
                    "action"
                )
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
        found = (self.actions.get(name) or ACTIONS.get(name)) if isinstance(name, str) else None
        if found is None:
            # Raised outside any handler: no chained KeyError repeats the caller's text.
            raise UnknownAction(name, tuple(ACTIONS))
        return found

    # -- running actions ------------------------------------------------------------------------

    def blockers(
        self, record: CaseRecord, action: ActionDef, inp: Input | None, act: Acting
    ) -> list[Blocker]:
        """Every reason ``action`` cannot be taken now, without changing anything.

        A question without input (``inp`` None) about an action whose input has a default
        for every field is judged with those defaults, the input :meth:`dispatch` gets when the
        action is fired without arguments: asking and firing always agree.  Otherwise the
        rules that depend on the input are not judged.
        """
        unavailable = self._unavailable(record, action)
        if unavailable is not None:
            return [unavailable]
        if inp is None:
            inp = _default_input(action.input)
        return run_guards(self._guards[action.name], record, self.policy, inp, act)

    def dispatch(
        self,
        record: CaseRecord,
        action: ActionDef,
        inp: Input | None,
        act: Acting,
        *,
        judged: bool = True,
        available: bool = False,
    ) -> tuple[State, list[Blocker]]:
        """Run ``action`` through the shared machine: the stage it leads to, or the blockers.

        ``judged=False`` is for an event carried over from an older schema: it is judged by
        the rules that schema had (:data:`SCHEMA_1_RULES`, under the policy as it read then),
        not by rules added since, which did not exist when it was recorded.
        ``available=True``: the caller has just checked that the service offers ``action`` at
        the record's stage (the typed action methods check it before the input).
        """
        if not available:
            unavailable = self._unavailable(record, action)
            if unavailable is not None:
                return record.state, [unavailable]
        policy = self.policy if judged else self._schema_1_policy
        carrier = _Carrier(record, policy, inp, act, judged)
        token = DISPATCHING.set(True)  # transitions' per-dispatch chatter stays out of app logs
        try:
            self._events[action.name].trigger(carrier)
        finally:
            DISPATCHING.reset(token)
        return _STATE_BY_VALUE[carrier.state], carrier.blockers

    def _unavailable(self, record: CaseRecord, action: ActionDef) -> Blocker | None:
        if action.name not in self.actions:
            # Translators: {action} is an action's name in English words ("record session");
            # {policy} the policy's name, quoted.
            return Blocker.of(
                "not_offered",
                "This service does not offer the action {action} (policy {policy}).",
                action=action.name.replace("_", " "),
                policy=repr(self.policy.name),
            )
        if record.state in action.sources:
            return None
        if STATES[record.state].terminal:
            accepted = ", ".join(
                a.replace("_", " ") for a in self.actions if a in EVALUATION_ACTIONS
            )
            # Translators: {stage} is an end stage's label ("completed"); {accepted} lists
            # action names in English words.
            return Blocker.of(
                "case_" + record.state.value,
                "The case is {stage}; a {stage} case accepts only the record-keeping of an ended "
                "case ({accepted}).",
                stage=record.state.label,
                accepted=accepted,
            )
        stages = ", ".join(s.label for s in action.sources)
        # Translators: {action} is an action's name in English words ("Record session");
        # {stages} lists stage labels.
        return Blocker.of(
            "wrong_stage",
            "{action} is possible only at the {stages} stage(s); the case is at the {stage} stage.",
            action=action.name.replace("_", " ").capitalize(),
            stages=stages,
            stage=record.state.label,
        )
