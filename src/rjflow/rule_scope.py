"""When a rule can block and what it needs to pass: small declarations that the static checks
(:mod:`rjflow.policy_check`) and the test paths (:mod:`rjflow.paths`) read (issue 12).

A rule (guard, :mod:`rjflow.rules`) is a function; what it looks at is not visible from
outside.  :data:`SCOPES` says, for the rules where it matters, in data:

- which **facts** of the record it needs to pass, or under which it always blocks, where a
  fact (:data:`FACTS`) is a question about the record that, once true, stays true (no event
  undoes it: responsibility acknowledged), made only by the actions :data:`ESTABLISHED_BY`
  names.  From these, :func:`stage_facts` derives what holds in every case at each stage (by
  the stage-changing actions' rules on every route into it), :func:`possible_facts` what some
  case there may have, and :func:`dead_edges` the action edges of the table no case can
  take (an action at a source stage where one of its rules can never pass);
- which **policy settings** can make it block at all (``required_sessions``: the default 0
  sets no total, so the rule always passes; nor can it block when every route to completion
  holds the total anyway), with a policy change under which it can;
- the **stages** where alone it can block (the conference's consent rule for its sessions),
  so a policy that offers none of them cannot show it block;
- that it blocks only when **one actor took two actions** whose roles (the table's ``roles``
  column) no one party holds together on a new case (the approver of a risk assessment is not
  its assessor);
- under which policies it can **never pass**.

:func:`impossible_outcomes` turns these into the rule outcomes a policy makes impossible, each
with its reason; nothing here lists outcomes by hand.  ``tests/test_rule_scope.py`` checks
every declaration against the engine (a fact is never undone; a rule that needs a fact blocks
without it; a policy change makes the rule block, and the same steps under the policy
without it do not).

>>> from rjflow import Policy
>>> impossible_outcomes(Policy())["required_sessions_held:blocks"]
'blocks only when required_sessions is above 0; this policy has required_sessions = 0'
>>> from rjflow.states import ACTIONS
>>> dead_edges(Policy(), ACTIONS)
{}
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from rjflow.offences import OffenceCategory
from rjflow.parties import PractitionerLevel, StaffRole
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.states import ACTIONS, STATES, ActionDef, State

__all__ = [
    "ESTABLISHED_BY",
    "FACTS",
    "HOLDINGS",
    "SCOPES",
    "RuleScope",
    "dead_edges",
    "impossible_outcomes",
    "possible_facts",
    "stage_facts",
]

#: Facts about a case's record that, once true, stay true: no event undoes them.
FACTS: Mapping[str, Callable[[CaseRecord], bool]] = MappingProxyType(
    {
        "responsibility acknowledged": lambda rec: rec.acknowledgement is not None,
        "letter drafted": lambda rec: bool(rec.letters),
    }
)

#: The only actions that make each fact true.
ESTABLISHED_BY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "responsibility acknowledged": ("acknowledge_responsibility",),
        "letter drafted": ("draft_letter",),
    }
)

#: The sets of roles one party can hold on a case opened with roles on record
#: (:meth:`rjflow.record.CaseRecord.roles_of`): a facilitator, the lead facilitator, or a
#: member of staff in one role.
HOLDINGS: tuple[frozenset[StaffRole], ...] = (
    frozenset({StaffRole.FACILITATOR}),
    frozenset({StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR}),
    *(frozenset({role}) for role in StaffRole),
)


@attrs.frozen
class RuleScope:
    """What one rule needs and when it can block (every field optional).

    ``needs``: facts (:data:`FACTS`) without which the rule blocks (at the stages
    ``needs_at``; everywhere when ``None``); ``refuses``: facts under
    which it always blocks; ``blocks_only_if``: a test on the policy, false when the rule
    cannot block under it, described by ``when`` and reading the ``settings`` named;
    ``blocking_policy``: policy changes under which it can block (a test shows it does);
    ``blocks_only_at``: the stages where alone the rule can block (it passes elsewhere);
    ``exceeds_fewest``: a setting the rule blocks only above, when it is at most the fewest
    attended sessions any route to completion holds (the total-sessions rule);
    ``same_actor``: the two actions one actor must both have taken for the rule to block;
    ``never_passes_if``: a test on the policy, true when the rule can never pass, described
    by ``never_when``.
    """

    needs: frozenset[str] = frozenset()
    needs_at: frozenset[State] | None = None
    refuses: frozenset[str] = frozenset()
    blocks_only_if: Callable[[Policy], bool] | None = None
    when: str = ""
    settings: tuple[str, ...] = ()
    blocking_policy: Mapping[str, Any] = attrs.field(factory=dict)
    exceeds_fewest: str = ""
    blocks_only_at: frozenset[State] | None = None
    same_actor: tuple[str, str] | None = None
    never_passes_if: Callable[[Policy], bool] | None = None
    never_when: str = ""


_DOMESTIC = (OffenceCategory.DOMESTIC_ABUSE,)

#: The rules whose scope matters to the checks and the paths, by name.
SCOPES: Mapping[str, RuleScope] = MappingProxyType(
    {
        "responsibility_acknowledged": RuleScope(needs=frozenset({"responsibility acknowledged"})),
        "not_yet_acknowledged": RuleScope(refuses=frozenset({"responsibility acknowledged"})),
        "ended_only_for_a_held_letter": RuleScope(
            needs=frozenset({"letter drafted"}),
            needs_at=frozenset({State.COMPLETED, State.CLOSED}),
        ),
        "required_sessions_held": RuleScope(
            blocks_only_if=lambda p: p.required_sessions > 0,
            when="required_sessions is above 0",
            settings=("required_sessions",),
            blocking_policy={"required_sessions": 6, "max_sessions": 12},
            exceeds_fewest="required_sessions",
        ),
        "guilty_plea_recorded": RuleScope(
            blocks_only_if=lambda p: p.require_guilty_plea,
            when="require_guilty_plea is on",
            settings=("require_guilty_plea",),
            blocking_policy={"require_guilty_plea": True},
        ),
        "offence_not_excluded": RuleScope(
            blocks_only_if=lambda p: bool(p.excluded_with_ongoing_contact),
            when="excluded_with_ongoing_contact lists a category",
            settings=("excluded_with_ongoing_contact",),
            blocking_policy={"excluded_with_ongoing_contact": frozenset(_DOMESTIC)},
        ),
        "conference_consent_in_force": RuleScope(blocks_only_at=frozenset({State.CONFERENCE})),
        "approver_not_assessor": RuleScope(
            same_actor=("assess_risk", "approve_risk_assessment"),
        ),
        "offence_eligible_for_conference": RuleScope(
            never_passes_if=lambda p: (
                not p.conference_categories and not p.conference_for_direct_personal_harm
            ),
            never_when=(
                "conference_categories is empty and conference_for_direct_personal_harm is off"
            ),
        ),
        "lead_facilitator_qualified": RuleScope(
            never_passes_if=lambda p: (
                max(p.min_lead_level, p.min_sensitive_lead_level) > max(PractitionerLevel)
            ),
            never_when="a required lead level is above advanced",
        ),
    }
)


def _needs(action: ActionDef, stage: State) -> frozenset[str]:
    """The facts ``action`` needs to be taken at ``stage``."""
    scopes = [SCOPES[g] for g in action.guards if g in SCOPES]
    return frozenset().union(
        *(s.needs for s in scopes if s.needs_at is None or stage in s.needs_at)
    )


def _never_passes(policy: Policy, action: ActionDef) -> str | None:
    for guard in action.guards:
        scope = SCOPES.get(guard)
        never = scope.never_passes_if if scope is not None else None
        if scope is not None and never is not None and never(policy):
            return f"its rule {guard} never passes: {scope.never_when}"
    return None


def _refused_at(
    action: ActionDef, stage: State, facts: frozenset[str], possible: frozenset[str] | None
) -> str | None:
    """Why ``action`` can never be taken at ``stage``, where every case has ``facts`` and
    some case may have ``possible`` (``None``: not yet known), if it cannot."""
    for guard in action.guards:
        scope = SCOPES.get(guard)
        if scope is None:
            continue
        held = sorted(scope.refuses & facts)
        if held:
            return f"its rule {guard} never passes there: every case there has {held[0]}"
        wanted = scope.needs_at is None or stage in scope.needs_at
        lacking = sorted(scope.needs - possible) if wanted and possible is not None else []
        if lacking:
            return f"its rule {guard} never passes there: no case there has {lacking[0]}"
    return None


def possible_facts(policy: Policy, actions: Mapping[str, ActionDef]) -> dict[State, frozenset[str]]:
    """The facts some case at each stage may have under ``policy``: those an offered action
    establishes (:data:`ESTABLISHED_BY`) at that stage or at a stage before it on a route."""
    here_made = {
        stage: frozenset(
            fact
            for fact, makers in ESTABLISHED_BY.items()
            for name in makers
            if name in actions and stage in actions[name].sources
        )
        for stage in State
    }
    found: dict[State, frozenset[str]] = {State.REFERRED: here_made[State.REFERRED]}
    moves = [a for a in actions.values() if a.dest is not None]
    todo = deque([State.REFERRED])
    while todo:
        here = todo.popleft()
        for action in moves:
            if here not in action.sources or action.dest is None:
                continue
            if _never_passes(policy, action):
                continue
            arriving = found[here] | here_made[action.dest]
            known = found.get(action.dest, frozenset())
            if action.dest not in found or not arriving <= known:
                found[action.dest] = known | arriving
                todo.append(action.dest)
    return found


def stage_facts(policy: Policy, actions: Mapping[str, ActionDef]) -> dict[State, frozenset[str]]:
    """The facts that hold in every case at each stage a case can reach under ``policy``
    (by the rules of the stage-changing ``actions`` on every route into it, from referral,
    where none holds).  A stage no route reaches is left out."""
    facts: dict[State, frozenset[str]] = {State.REFERRED: frozenset()}
    moves = [a for a in actions.values() if a.dest is not None]
    todo = deque([State.REFERRED])
    while todo:
        here = todo.popleft()
        for action in moves:
            if here not in action.sources or action.dest is None:
                continue
            if _never_passes(policy, action) or _refused_at(action, here, facts[here], None):
                continue
            arriving = facts[here] | _needs(action, here)
            known = facts.get(action.dest)
            merged = arriving if known is None else known & arriving
            if merged != known:
                facts[action.dest] = merged
                todo.append(action.dest)
    return facts


def dead_edges(policy: Policy, actions: Mapping[str, ActionDef]) -> dict[tuple[str, State], str]:
    """The action edges (action, source stage) of ``actions`` no case can take under
    ``policy`` although a case can reach the stage, each with the reason: one of the action's
    rules can never pass there (by the facts every case at the stage has, or by the policy).
    """
    facts = stage_facts(policy, actions)
    possible = possible_facts(policy, actions)
    found: dict[tuple[str, State], str] = {}
    for action in actions.values():
        for stage in action.sources:
            if stage not in facts:
                continue
            why = _never_passes(policy, action) or _refused_at(
                action, stage, facts[stage], possible.get(stage, frozenset())
            )
            if why:
                found[(action.name, stage)] = why
    return found


def _order(stage: State) -> int:
    return list(State).index(stage)


def _shown(value: object) -> str:
    """A setting's value as the policy file writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, frozenset | set | tuple | list):
        return "[" + ", ".join(sorted(f'"{getattr(v, "value", v)}"' for v in value)) + "]"
    return repr(value)


def _roles(action: str) -> str:
    roles = ACTIONS[action].roles
    return " or ".join(r.label for r in StaffRole if r in roles)


def impossible_outcomes(policy: Policy, fewest_sessions: int | None = None) -> dict[str, str]:
    """The rule outcomes (``"rule:blocks"`` / ``"rule:passes"``) no new case can show under
    ``policy``, each with the reason, derived from :data:`SCOPES`.  ``fewest_sessions``: the
    fewest attended sessions any route to completion holds under ``policy``
    (:func:`rjflow.policy_check.fewest_sessions_to_complete`), when known."""
    found: dict[str, str] = {}
    for name, scope in SCOPES.items():
        setting = scope.exceeds_fewest
        if scope.blocks_only_if is not None and not scope.blocks_only_if(policy):
            values = ", ".join(f"{s} = {_shown(getattr(policy, s))}" for s in scope.settings)
            found[f"{name}:blocks"] = f"blocks only when {scope.when}; this policy has {values}"
        elif (
            setting and fewest_sessions is not None and getattr(policy, setting) <= fewest_sessions
        ):
            found[f"{name}:blocks"] = (
                f"blocks only when {setting} is above the {fewest_sessions} attended sessions "
                f"every route to completion holds under this policy; this policy has "
                f"{setting} = {_shown(getattr(policy, setting))}"
            )
        if scope.blocks_only_at is not None:
            switches = [STATES[s].offered_by for s in sorted(scope.blocks_only_at, key=_order)]
            if all(w is not None and not getattr(policy, w) for w in switches):
                stages = " or ".join(s.label for s in sorted(scope.blocks_only_at, key=_order))
                values = ", ".join(f"{w} = false" for w in switches if w is not None)
                found[f"{name}:blocks"] = (
                    f"blocks only at the {stages} stage, which this policy does not offer "
                    f"({values})"
                )
        if scope.same_actor is not None:
            first, second = scope.same_actor
            both = [h for h in HOLDINGS if h & ACTIONS[first].roles and h & ACTIONS[second].roles]
            if not both:
                found[f"{name}:blocks"] = (
                    f"blocks only when one person took both {first} ({_roles(first)}) and "
                    f"{second} ({_roles(second)}), roles no one holds together on a new case; "
                    "only a case saved before roles were recorded (schema 1) can show it"
                )
        if scope.never_passes_if is not None and scope.never_passes_if(policy):
            found[f"{name}:passes"] = f"never passes when {scope.never_when}"
    return found
