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
    AgreementOutcome,
    Attendance,
    BreachDecision,
    BreachOutcome,
    Closure,
    Conference,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    EnforcementStep,
    EnforcementStepKind,
    Feedback,
    FollowUp,
    InformationGiven,
    Letter,
    LetterStatus,
    MaterialChange,
    PartyRequest,
    ProgressUpdate,
    RiskAssessment,
    RJType,
    Session,
    ShuttleMessage,
    SupporterAcceptance,
    VictimUpdate,
    VictimUpdateAbout,
    VictimWish,
)
from rjflow.offences import Offence
from rjflow.parties import Facilitator, Offender, Party, Staff, StaffRole, Supporter, Victim
from rjflow.policy import Policy
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
    shuttle_messages: tuple[ShuttleMessage, ...] = ()
    agreement: Agreement | None = None
    progress: tuple[ProgressUpdate, ...] = ()
    feedback: tuple[Feedback, ...] = ()
    closure: Closure | None = None
    # -- agreement, enforcement and evaluation (issue 14) --
    breach_decisions: tuple[BreachDecision, ...] = ()
    victim_wishes: tuple[VictimWish, ...] = ()
    victim_updates: tuple[VictimUpdate, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    # -- change of mind, supporters, letters (issue 14) --
    requests: tuple[PartyRequest, ...] = ()
    supporter_acceptances: tuple[SupporterAcceptance, ...] = ()
    letters: tuple[Letter, ...] = ()
    # -- safeguarding and roles (issue 14, D2) --
    material_changes: tuple[MaterialChange, ...] = ()
    roles_on_record: bool = False
    # -- issue 14 fixes: a variation awaiting signatures keeps the signed terms it would replace
    variation_of: Agreement | None = None
    #: How many progress updates were recorded before that variation (restored if withdrawn).
    variation_progress: int = 0
    #: When the case entered its current stage (None: at the opening, or a record saved
    #: before this was kept).
    stage_entered_at: datetime | None = None

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

    # -- change of mind, supporters, letters (issue 14) ------------------------------------

    def timeline(
        self, party_id: str, activity: ContactActivity
    ) -> tuple[ConsentDecision | PartyRequest, ...]:
        """The party's decisions about ``activity`` and their requests that cover it (for
        that activity, or general), in the order they were recorded."""
        entries: list[ConsentDecision | PartyRequest] = []
        requests = [
            r
            for r in self.requests
            if r.party == party_id and (r.activity is None or r.activity is activity)
        ]
        for index, decision in enumerate(self.consents):
            while requests and requests[0].position <= index:
                entries.append(requests.pop(0))
            if decision.party == party_id and decision.activity is activity:
                entries.append(decision)
        return (*entries, *requests)

    def decline_stands(self, party_id: str, activity: ContactActivity) -> bool:
        """True when the party's latest decision about ``activity`` is a decline and they have
        not asked for it (or for restorative justice in general) since: the service must not
        approach them about it."""
        for entry in reversed(self.timeline(party_id, activity)):
            if isinstance(entry, PartyRequest):
                return False
            return entry.status is ConsentStatus.DECLINED
        return False

    def asked_for_rj(self, party_id: str) -> bool:
        """True when the party asked for restorative justice themselves: a victim who asked
        before the referral (``Victim.requested_rj``), or any recorded request."""
        party = self.party(party_id)
        if isinstance(party, Victim) and party.requested_rj:
            return True
        return any(r.party == party_id for r in self.requests)

    def appropriate_adults(self, party_id: str) -> tuple[Supporter, ...]:
        """The appropriate adults (parent, guardian) supporting the party."""
        return tuple(s for s in self.supporters if s.supports == party_id and s.appropriate_adult)

    def accepts_supporter(self, by: str, supporter_id: str) -> bool:
        """True when party ``by``'s latest answer accepts the supporter at the meeting."""
        for answer in reversed(self.supporter_acceptances):
            if answer.by == by and answer.supporter == supporter_id:
                return answer.accepted
        return False

    def letter_to(self, victim_id: str) -> Letter | None:
        """The letter of apology to this victim, or None."""
        for letter in self.letters:
            if letter.victim == victim_id:
                return letter
        return None

    @property
    def letter(self) -> Letter | None:
        """The most recently drafted letter of apology, or None (a case had one letter before
        letters were kept per victim; see :attr:`letters`)."""
        return max(self.letters, key=lambda x: x.drafted_at) if self.letters else None

    @property
    def is_open(self) -> bool:
        """True until the case is completed or closed; an ended case then accepts only the
        record-keeping of ``states.EVALUATION_ACTIONS`` (evaluation, a held letter's delivery,
        a withdrawal or decline)."""
        return self.state not in (State.COMPLETED, State.CLOSED)

    # -- agreement, enforcement and evaluation (issue 14) ----------------------------------

    def agreement_signatories(self, policy: Policy) -> tuple[str, ...]:
        """Who must sign the current agreement's terms: its participants and, where
        ``policy.facilitator_signs_agreement``, the lead facilitator who facilitated it."""
        agreement = self.agreement
        if agreement is None:
            return ()
        if policy.facilitator_signs_agreement and agreement.facilitator is not None:
            return (*agreement.signatories, agreement.facilitator)
        return agreement.signatories

    def agreement_activity(self) -> ContactActivity:
        """The activity the agreement belongs to: face to face when a conference was held,
        shuttle otherwise (agreements recorded before issue 14 did not say)."""
        if self.agreement is not None and self.agreement.activity is not None:
            return self.agreement.activity
        if self.conference is not None:
            return ContactActivity.FACE_TO_FACE
        return ContactActivity.SHUTTLE

    def signer_consent_in_force(self, party_id: str) -> bool:
        """True when ``party_id``'s consent lets their signature on the agreement count: the
        offender's and a victim's consent to the agreement's activity is in force; a
        supporter's is not withdrawn or declined (one who never recorded a decision, possible
        only in a history from before supporters consented, schema 1, keeps it); facilitators
        do not consent (practice: a signature counts only while the signer's consent is in
        force)."""
        party = self.party(party_id)
        activity = self.agreement_activity()
        if isinstance(party, _CONSENTING):
            return self.consents_to(party_id, activity)
        if isinstance(party, Supporter):
            return self.consent_status(party_id, activity) in (None, ConsentStatus.GIVEN)
        return True

    def signature_counts(self, party_id: str) -> bool:
        """True when ``party_id``'s signature on the agreement counts now: they signed its
        current terms and their consent is in force (:meth:`signer_consent_in_force`)."""
        agreement = self.agreement
        if agreement is None or not agreement.signed_by(party_id):
            return False
        return self.signer_consent_in_force(party_id)

    def variation_pending(self, policy: Policy) -> bool:
        """True while varied terms await a signature: the signed terms they would replace
        (:attr:`variation_of`) can be restored with ``withdraw_variation``."""
        agreement = self.agreement
        return (
            self.variation_of is not None
            and agreement is not None
            and any(not agreement.signed_by(p) for p in self.agreement_signatories(policy))
        )

    def agreement_missing(self, policy: Policy) -> tuple[str, ...]:
        """The signatories whose signature is missing or does not count now (consent not in
        force), in order; empty when the agreement binds (or there is none)."""
        return tuple(p for p in self.agreement_signatories(policy) if not self.signature_counts(p))

    def agreement_binding(self, policy: Policy) -> bool:
        """True while there is an agreement that every current signatory has signed, each
        with their consent in force.  The one place this is decided: the rules, the effects
        and the tests ask here."""
        return self.agreement is not None and not self.agreement_missing(policy)

    def agreement_outcome(self) -> AgreementOutcome | None:
        """The agreement's outcome from its actions' statuses, or None when there is no
        agreement or an action has no final status yet."""
        if self.agreement is None:
            return None
        statuses = tuple(self.action_status(a.id) for a in self.agreement.actions)
        if not all(s.final for s in statuses):
            return None
        return AgreementOutcome.of(statuses)

    def overdue_actions(self, on: date) -> tuple[str, ...]:
        """The ids of agreement actions past their deadline on ``on`` without a final status:
        the ones to review, vary or waive with the parties (practice: never to enforce)."""
        if self.agreement is None:
            return ()
        return tuple(
            a.id
            for a in self.agreement.actions
            if a.deadline < on and not self.action_status(a.id).final
        )

    @property
    def rj_type(self) -> RJType:
        """The kind of restorative justice delivered: direct when a conference was held,
        indirect when a letter was delivered or a shuttle message carried, none otherwise."""
        if self.conference is not None:
            return RJType.DIRECT
        delivered = any(x.status is LetterStatus.DELIVERED for x in self.letters)
        if delivered or self.shuttle_messages:  # any victim's letter (one letter per victim)
            return RJType.INDIRECT
        return RJType.NONE

    def enforcement_steps(self, policy: Policy) -> tuple[EnforcementStep, ...]:
        """What each unacceptable absence led to (Sentencing Act 2020, Sch. 10): a warning,
        or a referral for breach when the offender was warned within
        ``policy.enforcement_window`` before it."""
        steps: list[EnforcementStep] = []
        last_warning: datetime | None = None
        for s in self.sessions:
            if s.attendance is not Attendance.MISSED_UNACCEPTABLE:
                continue
            warned = (
                last_warning is not None and s.held_at - last_warning <= policy.enforcement_window
            )
            if warned:
                kind = EnforcementStepKind.BREACH_REFERRAL
            else:
                kind = EnforcementStepKind.WARNING
                last_warning = s.held_at
            steps.append(EnforcementStep(kind, s.number, s.held_at))
        return tuple(steps)

    def breach_referrals_pending(self, policy: Policy) -> int:
        """Referrals for breach whose outcome has not been recorded yet."""
        referrals = sum(
            1
            for step in self.enforcement_steps(policy)
            if step.kind is EnforcementStepKind.BREACH_REFERRAL
        )
        return max(0, referrals - len(self.breach_decisions))

    @property
    def order_revoked(self) -> bool:
        """True once a court revoked the order after a referral for breach."""
        return any(d.outcome is BreachOutcome.ORDER_REVOKED for d in self.breach_decisions)

    def keeps_informed(self, victim_id: str) -> bool:
        """True when the victim's latest recorded wish is to be kept informed."""
        for wish in reversed(self.victim_wishes):
            if wish.victim == victim_id:
                return wish.keep_informed
        return False

    def informed_of(self, victim_id: str, about: VictimUpdateAbout) -> bool:
        """True when the victim was told about ``about``."""
        return any(u.victim == victim_id and u.about is about for u in self.victim_updates)

    # -- roles and safeguarding (issue 14, D2) ---------------------------------------------

    def roles_of(self, actor: str) -> frozenset[StaffRole]:
        """The staff roles ``actor`` holds on this case (empty for participants and strangers).

        Every facilitator holds ``FACILITATOR``, the lead also ``LEAD_FACILITATOR``; a
        :class:`~rjflow.parties.Staff` party holds their own role; anyone else holds none.
        This holds in a case opened before roles were recorded too (``roles_on_record``
        False: schema-1 documents): its own events are replayed by the rules of their time,
        which did not judge the actor, but a new action is taken by staff on record, so such a
        case first adds its managers and administrators (``add_party`` with a
        :class:`~rjflow.parties.Staff`, taken by one of its facilitators).
        """
        party = self.party(actor)
        if isinstance(party, Facilitator):
            if actor == self.lead_facilitator:
                return _LEAD_ROLES
            return _FACILITATOR_ROLES
        if isinstance(party, Staff):
            return frozenset({party.role})
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


#: The parties whose signature needs their consent in force (facilitators do not consent;
#: a supporter's lapses once they withdraw or decline: see ``signer_consent_in_force``).
_CONSENTING = (Offender, Victim)


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
