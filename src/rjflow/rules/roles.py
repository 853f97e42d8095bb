"""Who may do what: every action is taken by staff in a role on the case that the workflow
table permits for it (practice: RJC Service Provider Code; staff actions are accountable).

Every facilitator on the case holds the *facilitator* role and the facilitator assigned as lead
also the *lead facilitator* role; managers (supervisors) and administrators are staff parties
(:class:`~rjflow.parties.Staff`).  The offender, victims and supporters hold no role, so they are
never recorded as the actor of a staff action (assessor, letter reviewer, approver, anything).
The table's ``roles`` column says which roles may take each action; a refusal names the role
needed, never a person.  When a screen only asks (no actor given), the role is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.blocker import Blocker
from rjflow.commands import Acting, Input
from rjflow.parties import StaffRole
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import Guard, _block, _guard, _words

__all__ = ["ROLE_RULE", "role_rule"]

#: The name the role rule's blockers carry (the engine adds it to every action).
ROLE_RULE = "actor_permitted"


def _needed(roles: frozenset[StaffRole]) -> str:
    """The roles, as a caseworker would say them: "a lead facilitator or a manager"."""
    names = [f"{'an' if r.label[0] in 'aeiou' else 'a'} {r.label}" for r in StaffRole if r in roles]
    if len(names) == len(StaffRole):
        return _words("a member of staff on the case")
    if len(names) == 1:
        return f"{names[0]} on the case"
    return ", ".join(names[:-1]) + f" or {names[-1]} on the case"


def _actor_blockers(
    rec: CaseRecord, roles: frozenset[StaffRole], act: Acting, what: str
) -> Iterator[Blocker]:
    if act.actor is None:
        return
    if rec.roles_of(act.actor) & roles:
        return
    needed = _needed(roles)
    if rec.is_participant(act.actor):
        party = rec.party(act.actor)
        kind = party.role.value if party is not None else "participant"
        # Translators: {what} is an action's name or "this action"; {needed} names roles in
        # English ("a lead facilitator or a manager on the case").
        yield _block(
            "participant_cannot_act",
            "The actor is a participant ({kind}) on this case, and participants never take staff "
            "actions: {what} is for {needed}. Record it as the member of staff who took it.",
            kind=kind,
            what=what,
            needed=needed,
        )
        return
    if not rec.roles_on_record and rec.party(act.actor) is None:
        yield _block(
            "actor_not_permitted",
            "The action {what} is for {needed}, and the actor is not on this case's staff: "
            "the case was saved before staff roles were recorded, so new actions are taken by "
            "staff on record. A facilitator on the case adds the actor as staff in that role "
            "(add_party with Staff), then the action can be recorded.",
            what=what,
            needed=needed,
        )
        return
    yield _block(
        "actor_not_permitted",
        "The action {what} is for {needed}, and the actor holds no such role on this case. "
        "Ask someone in that role, or add the actor to the case in it.",
        what=what,
        needed=needed,
    )


def role_rule(roles: frozenset[StaffRole], action: str = _words("this action")) -> Guard:
    """The role rule for one action of the table: the actor holds one of ``roles``."""
    what = action

    def actor_permitted(
        rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
    ) -> Iterator[Blocker]:
        yield from _actor_blockers(rec, roles, act, what)

    actor_permitted.__doc__ = ACTOR_PERMITTED_DOC
    return actor_permitted


ACTOR_PERMITTED_DOC = (
    "The actor holds a role on the case that the table's ``roles`` column permits for the "
    "action; the offender, victims and supporters never take staff actions (practice: RJC codes; "
    'DOMAIN.md "Roles"). The engine runs this rule first on every action. Not judged when no '
    "actor is given (a screen asking in advance). Cases saved before roles were recorded "
    "(schema 1) replay their own events by the rules of their time, which did not judge the "
    "actor; a new action on such a case is taken by staff on record like any other (add the "
    "case's managers and administrators with add_party first)."
)


@_guard
def actor_permitted(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    # The rule as the table names it (without an action: any staff role will do); the engine
    # uses ``role_rule(action.roles)`` for each action.
    yield from _actor_blockers(rec, frozenset(StaffRole), act, _words("this action"))


actor_permitted.__doc__ = ACTOR_PERMITTED_DOC
