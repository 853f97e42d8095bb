"""The case record: an immutable snapshot of everything known about one case.

A :class:`CaseRecord` never changes; each accepted action produces a new one (see
:mod:`rjflow.effects`).  The questions the rules ask of a case (who consented to what, which
risk assessment is in force, how many sessions were held) are answered here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import attrs

from rjflow.activities import (
    Acknowledgement,
    ActionStatus,
    Agreement,
    Attendance,
    Closure,
    Conference,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    Feedback,
    InformationGiven,
    Letter,
    MaterialChange,
    ProgressUpdate,
    RiskAssessment,
    Session,
    ShuttleMessage,
)
from rjflow.offences import Offence
from rjflow.parties import Facilitator, Offender, Party, Staff, StaffRole, Supporter, Victim
from rjflow.states import STATES, State

__all__ = ["CaseRecord"]


@attrs.frozen
class CaseRecord:
    """Everything known about one case at one version."""

    case_id: str
    state: State
    offence: Offence
    parties: tuple[Party, ...]
    opened_at: datetime
    updated_at: datetime
    version: int
    sentenced_on: date | None = None
    lead_facilitator: str | None = None
    sessions: tuple[Session, ...] = ()
    information: tuple[InformationGiven, ...] = ()
    consents: tuple[ConsentDecision, ...] = ()
    acknowledgement: Acknowledgement | None = None
    risk_assessments: tuple[RiskAssessment, ...] = ()
    conference: Conference | None = None
    letter: Letter | None = None
    shuttle_messages: tuple[ShuttleMessage, ...] = ()
    agreement: Agreement | None = None
    progress: tuple[ProgressUpdate, ...] = ()
    feedback: tuple[Feedback, ...] = ()
    closure: Closure | None = None
    # -- safeguarding and roles (issue 14, D2) --
    material_changes: tuple[MaterialChange, ...] = ()
    roles_on_record: bool = False

    def updated(self, **changes: Any) -> CaseRecord:
        """A copy with ``changes``: what ``attrs.evolve`` does, without re-running
        ``__init__`` (a record has no validators or converters to re-run), since this runs on
        every accepted action."""
        key = frozenset(changes)
        copy = _COPIERS.get(key)
        if copy is None:
            unknown = key - _FIELDS
            if unknown:
                raise TypeError(f"CaseRecord has no field(s) {', '.join(sorted(unknown))}")
            copy = _COPIERS[key] = _make_copier(key)
        return copy(self, changes)

    # -- parties ---------------------------------------------------------------------------

    def party(self, party_id: str) -> Party | None:
        """The party with this id, or None."""
        for p in self.parties:
            if p.id == party_id:
                return p
        return None

    @property
    def offender(self) -> Offender:
        """The offender (a case always has exactly one)."""
        for p in self.parties:
            if isinstance(p, Offender):
                return p
        raise AssertionError("a case record always has an offender")  # pragma: no cover

    @property
    def victims(self) -> tuple[Victim, ...]:
        """The victims, in the order they were added."""
        return tuple(p for p in self.parties if isinstance(p, Victim))

    @property
    def supporters(self) -> tuple[Supporter, ...]:
        """The supporters, in the order they were added."""
        return tuple(p for p in self.parties if isinstance(p, Supporter))

    def facilitator(self, party_id: str | None) -> Facilitator | None:
        """The facilitator with this id, or None."""
        p = self.party(party_id) if party_id is not None else None
        return p if isinstance(p, Facilitator) else None

    # -- consent -----------------------------------------------------------------------------

    def consent_status(self, party_id: str, activity: ContactActivity) -> ConsentStatus | None:
        """The party's latest decision about ``activity``, or None if never asked."""
        for decision in reversed(self.consents):
            if decision.party == party_id and decision.activity is activity:
                return decision.status
        return None

    def consents_to(self, party_id: str, activity: ContactActivity) -> bool:
        """True when the party's consent to ``activity`` is in force now."""
        return self.consent_status(party_id, activity) is ConsentStatus.GIVEN

    def informed_about(self, party_id: str, activity: ContactActivity) -> bool:
        """True when the party was given information about ``activity``."""
        return any(i.party == party_id and i.activity is activity for i in self.information)

    # -- risk and sessions -------------------------------------------------------------------

    @property
    def risk_assessment(self) -> RiskAssessment | None:
        """The latest assessment recorded, whoever it concerns; the one in force for the case
        or a participant is :meth:`latest_risk_assessment`."""
        return self.risk_assessments[-1] if self.risk_assessments else None

    @property
    def sessions_held(self) -> int:
        """Sessions the offender attended; these count towards the programme's limit."""
        return sum(1 for s in self.sessions if s.attendance is Attendance.ATTENDED)

    @property
    def unacceptable_absences(self) -> int:
        """Sessions missed without an acceptable reason."""
        return sum(1 for s in self.sessions if s.attendance is Attendance.MISSED_UNACCEPTABLE)

    def sessions_held_in(self, state: State) -> int:
        """Attended sessions of the kind held in ``state``."""
        kind = STATES[state].session_kind
        return sum(1 for s in self.sessions if s.kind is kind and s.attended)

    # -- agreement ---------------------------------------------------------------------------

    def action_status(self, action_id: str) -> ActionStatus:
        """The latest recorded progress on an agreement action (NOT_STARTED if none)."""
        for update in reversed(self.progress):
            if update.action_id == action_id:
                return update.status
        return ActionStatus.NOT_STARTED

    @property
    def is_open(self) -> bool:
        """True while the case can still change."""
        return self.state not in (State.COMPLETED, State.CLOSED)

    # -- roles and safeguarding (issue 14, D2) ---------------------------------------------

    def roles_of(self, actor: str) -> frozenset[StaffRole]:
        """The staff roles ``actor`` holds on this case (empty for participants and strangers).

        Every facilitator holds ``FACILITATOR``, the lead also ``LEAD_FACILITATOR``; a
        :class:`~rjflow.parties.Staff` party holds their own role.  In a case opened before
        roles were recorded (``roles_on_record`` False: schema-1 documents) an actor who is not
        a participant is read as holding every staff role, since the history never said which.
        """
        party = self.party(actor)
        if isinstance(party, Facilitator):
            if actor == self.lead_facilitator:
                return _LEAD_ROLES
            return _FACILITATOR_ROLES
        if isinstance(party, Staff):
            return frozenset({party.role})
        if party is None and not self.roles_on_record:
            return _ALL_ROLES
        return frozenset()

    def is_participant(self, party_id: str) -> bool:
        """True for the offender, a victim or a supporter (anyone who is not staff)."""
        party = self.party(party_id)
        return party is not None and not isinstance(party, Facilitator | Staff)

    def latest_risk_assessment(self, subject: str | None) -> RiskAssessment | None:
        """The latest recorded assessment of ``subject`` (None: the case-wide one)."""
        for assessment in reversed(self.risk_assessments):
            if assessment.subject == subject:
                return assessment
        return None

    def superseding_change(self, assessment: RiskAssessment) -> MaterialChange | None:
        """The latest material change recorded after ``assessment`` (or happening after it was
        made) that concerns its subject: while there is one, it no longer counts."""
        for change in reversed(self.material_changes):
            concerns = (
                change.subject is None
                or assessment.subject is None
                or change.subject == assessment.subject
            )
            if concerns and (change.sequence > assessment.sequence or change.at > assessment.at):
                return change
        return None


_FIELDS = frozenset(a.name for a in attrs.fields(CaseRecord))


#: One generated copier per set of changed fields (an action's effect always changes the same
#: fields, so there are a few dozen of these at most).
_COPIERS: dict[frozenset[str], Callable[[CaseRecord, dict[str, Any]], CaseRecord]] = {}


def _make_copier(changed: frozenset[str]) -> Callable[[CaseRecord, dict[str, Any]], CaseRecord]:
    # Like attrs' own generated __init__: one line per field, no loop, no getattr by name;
    # changed fields come from ``changes``, the others from the record being copied.
    lines = ["def copy(self, changes):", "    new = _new(CaseRecord)"]
    lines += [
        f"    _set(new, {a.name!r}, changes[{a.name!r}])"
        if a.name in changed
        else f"    _set(new, {a.name!r}, self.{a.name})"
        for a in attrs.fields(CaseRecord)
    ]
    lines.append("    return new")
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "CaseRecord": CaseRecord,
    }
    exec("\n".join(lines), namespace)  # code generated from the class's own field names
    copy: Callable[[CaseRecord, dict[str, Any]], CaseRecord] = namespace["copy"]
    return copy


_FACILITATOR_ROLES = frozenset({StaffRole.FACILITATOR})
_LEAD_ROLES = frozenset({StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR})
_ALL_ROLES = frozenset(StaffRole)
