"""What happens in a case, as immutable records: sessions, consent, risk assessments, the
conference, the letter of apology, shuttle messages, the outcome agreement and its reviews,
feedback and closure.

These are values.  A case gains them only through its own methods (see :class:`rjflow.Case`),
each of which checks the programme's rules first and appends one event to the history.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

import attrs

from rjflow._validate import redacted

__all__ = [
    "Acknowledgement",
    "ActionStatus",
    "Agreement",
    "AgreementAction",
    "AgreementOutcome",
    "Attendance",
    "BreachDecision",
    "BreachOutcome",
    "Closure",
    "ClosureReason",
    "Conference",
    "ConsentDecision",
    "ConsentStatus",
    "ContactActivity",
    "EnforcementStep",
    "EnforcementStepKind",
    "Feedback",
    "FollowUp",
    "InformationGiven",
    "Letter",
    "LetterStatus",
    "MaterialChange",
    "MaterialChangeKind",
    "MessageDirection",
    "PartyRequest",
    "ProgressUpdate",
    "RJType",
    "RiskAssessment",
    "RiskOutcome",
    "Session",
    "SessionKind",
    "ShuttleMessage",
    "Signature",
    "SupporterAcceptance",
    "VictimUpdate",
    "VictimUpdateAbout",
    "VictimWish",
]


class SessionKind(enum.Enum):
    """The programme's sessions, in the order the seed gives them."""

    INTRODUCTION = "introduction"
    PREPARATION = "preparation"
    CONFERENCE = "conference"
    LETTER_OF_APOLOGY = "letter_of_apology"
    SHUTTLE_MEDIATION = "shuttle_mediation"
    REVIEW = "review"


class Attendance(enum.Enum):
    """Whether the offender came to a session, and if not whether the absence was acceptable."""

    ATTENDED = "attended"
    MISSED_ACCEPTABLE = "missed_acceptable"
    MISSED_UNACCEPTABLE = "missed_unacceptable"

    @property
    def label(self) -> str:
        """The attendance as a caseworker would say it."""
        return {
            Attendance.ATTENDED: "attended",
            Attendance.MISSED_ACCEPTABLE: "missed, with an acceptable reason",
            Attendance.MISSED_UNACCEPTABLE: "missed, without an acceptable reason",
        }[self]


@attrs.frozen
class Session:
    """One session of the programme.  Only attended sessions count towards the limit."""

    number: int
    kind: SessionKind
    held_at: datetime
    duration: timedelta
    attendance: Attendance
    recorded_by: str

    @property
    def attended(self) -> bool:
        """True when the session took place with the offender present."""
        return self.attendance is Attendance.ATTENDED


class ContactActivity(enum.Enum):
    """The activities a person consents to separately: agreeing to one is not agreeing to all."""

    FACE_TO_FACE = "face_to_face"
    SHUTTLE = "shuttle"
    RECEIVE_LETTER = "receive_letter"

    @property
    def label(self) -> str:
        """The activity as a caseworker would say it."""
        return {
            ContactActivity.FACE_TO_FACE: "a face-to-face meeting",
            ContactActivity.SHUTTLE: "shuttle mediation (indirect contact)",
            ContactActivity.RECEIVE_LETTER: "receiving a letter of apology",
        }[self]


@attrs.frozen
class InformationGiven:
    """A party was told about an activity, its possible outcomes and how an agreement would be
    monitored.  Informed consent needs this first."""

    party: str
    activity: ContactActivity
    at: datetime
    by: str
    interpreter: bool = False  # an interpreter was provided (issue 14)


class ConsentStatus(enum.Enum):
    """A party's latest decision about an activity."""

    GIVEN = "given"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@attrs.frozen
class ConsentDecision:
    """One decision by one party about one activity; the latest decision is the one in force."""

    party: str
    activity: ContactActivity
    status: ConsentStatus
    at: datetime
    recorded_by: str
    interpreter: bool = False  # an interpreter was provided (issue 14)


@attrs.frozen
class Acknowledgement:
    """The offender acknowledges the basic facts and takes responsibility for the harm."""

    at: datetime
    recorded_by: str
    guilty_plea: bool


class RiskOutcome(enum.Enum):
    """A suitability and risk assessment's conclusion."""

    FAVOURABLE = "favourable"
    UNFAVOURABLE = "unfavourable"


@attrs.frozen
class RiskAssessment:
    """A facilitator's suitability and risk assessment; the latest one is the one in force.

    ``enhanced`` marks the enhanced assessment sensitive cases need, and ``approved_by`` the
    manager who signed it off (``approved_at``: when).  ``subject`` is the participant it
    assesses, or None for the whole case; ``sequence`` is the history event that recorded it,
    which places it in the recorded order against material changes.  ``at`` is when it was
    made (the action's ``occurred_at`` when given).
    """

    at: datetime
    assessed_by: str
    outcome: RiskOutcome
    enhanced: bool
    approved_by: str | None
    subject: str | None = None
    sequence: int = 0
    approved_at: datetime | None = None


@attrs.frozen
class Conference:
    """The face-to-face meeting: who was there and who led it."""

    held_at: datetime
    lead_facilitator: str
    victims: tuple[str, ...]
    supporters: tuple[str, ...]


class LetterStatus(enum.Enum):
    """Where a letter of apology stands."""

    DRAFTED = "drafted"
    REVIEWED = "reviewed"
    DELIVERED = "delivered"
    HELD_ON_FILE = "held_on_file"
    RETURNED = "returned_for_redraft"  # the facilitator asked for a redraft (issue 14)


@attrs.frozen
class Letter:
    """A letter of apology to one victim (one letter per victim).  Its text stays in the
    embedding application.

    ``drafts`` counts the drafts (a letter returned for a redraft is drafted again);
    ``settled_at`` is when it was last delivered or held on file, ``held_at`` when it was
    first held on file (kept when a held letter is delivered later).
    """

    victim: str
    status: LetterStatus
    drafted_at: datetime
    reviewed_by: str | None = None
    settled_at: datetime | None = None
    drafts: int = 1
    held_at: datetime | None = None


class MessageDirection(enum.Enum):
    """Which way a facilitator carried a shuttle message."""

    TO_VICTIM = "to_victim"
    TO_OFFENDER = "to_offender"


@attrs.frozen
class ShuttleMessage:
    """One message carried by the facilitator between offender and a victim, who never meet."""

    number: int
    victim: str
    direction: MessageDirection
    at: datetime
    carried_by: str


@attrs.frozen
class AgreementAction:
    """A SMART action in an outcome agreement: what, who is responsible, by when.

    ``what`` is free text for the embedding application; rjflow never puts it in a message.
    """

    id: str = attrs.field(metadata={"doc": "The action's reference, such as A1."})
    what: str = attrs.field(
        repr=redacted, metadata={"free_text": True, "doc": "What is to be done."}
    )
    responsible: str = attrs.field(metadata={"doc": "The id of the participant who is to do it."})
    deadline: date = attrs.field(metadata={"doc": "The date by which it is to be done."})


@attrs.frozen
class Signature:
    """A party's signature on the outcome agreement."""

    party: str
    at: datetime


@attrs.frozen
class Agreement:
    """An outcome agreement.

    ``signatories`` are the participants asked to sign; ``facilitator`` the lead facilitator
    who facilitated it (signs too where ``Policy.facilitator_signs_agreement``); ``activity``
    the activity it belongs to (face to face at a conference, shuttle in shuttle mediation),
    whose consent each participant's signature needs; ``variations`` how many times its terms
    were varied (each variation clears the signatures).  Whether it binds *now* also depends
    on consent and policy: ask :meth:`rjflow.CaseRecord.agreement_binding`.
    """

    proposed_at: datetime
    actions: tuple[AgreementAction, ...]
    signatories: tuple[str, ...]
    signatures: tuple[Signature, ...] = ()
    # -- agreement (issue 14) --
    activity: ContactActivity | None = None
    facilitator: str | None = None
    variations: int = 0

    @property
    def unsigned(self) -> tuple[str, ...]:
        """The signatories who have not signed yet, in the order they were listed."""
        signed = {s.party for s in self.signatures}
        return tuple(p for p in self.signatories if p not in signed)

    @property
    def binding(self) -> bool:
        """True once every listed participant has signed.  This ignores the facilitator's
        signature and consent: whether the agreement binds now is
        :meth:`rjflow.CaseRecord.agreement_binding`."""
        return not self.unsigned

    def signed_by(self, party: str) -> bool:
        """True when ``party`` has signed the current terms."""
        return any(s.party == party for s in self.signatures)

    def action(self, action_id: str) -> AgreementAction | None:
        """The action with this id, or None."""
        for act in self.actions:
            if act.id == action_id:
                return act
        return None


class ActionStatus(enum.Enum):
    """Progress on one agreement action, as recorded at a review."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_COMPLIED = "not_complied"
    #: Set aside with the parties' agreement (``waive_agreement_action``), never by
    #: ``record_progress``; a final status, like done and not complied.
    WAIVED = "waived"

    @property
    def label(self) -> str:
        """The status as a caseworker would say it."""
        if self is ActionStatus.NOT_COMPLIED:
            return "not complied with"
        return str(self.value).replace("_", " ")

    @property
    def final(self) -> bool:
        """True for the statuses an action can end with: done, not complied, waived."""
        return self in (ActionStatus.DONE, ActionStatus.NOT_COMPLIED, ActionStatus.WAIVED)


@attrs.frozen
class ProgressUpdate:
    """Progress on one agreement action recorded at a review."""

    action_id: str
    status: ActionStatus
    at: datetime
    recorded_by: str


@attrs.frozen
class Feedback:
    """A participant's evaluation after the activity: satisfaction from 1 (very dissatisfied)
    to 5 (very satisfied), and whether they feel things changed for the better."""

    party: str
    satisfaction: int
    things_changed: bool
    at: datetime


class ClosureReason(enum.Enum):
    """Why a case ended.  ``COMPLETED`` is set by completing the programme."""

    COMPLETED = "completed"
    UNSUITABLE = "unsuitable"
    VICTIM_NOT_CONTACTABLE = "victim_not_contactable"
    VICTIM_DECLINED = "victim_declined"
    OFFENDER_DECLINED = "offender_declined"
    VICTIM_WITHDREW = "victim_withdrew"
    OFFENDER_WITHDREW = "offender_withdrew"
    ENFORCEMENT = "enforcement"
    OTHER = "other"


@attrs.frozen
class Closure:
    """How and when a case ended.  ``note`` is required for ``OTHER`` and never shown in errors.

    ``outcome``: how the outcome agreement ended (None without an agreement, or when it was
    closed before every action had a final status); ``rj_type``: the kind of restorative
    justice delivered (direct, indirect or none), computed from the record.
    """

    reason: ClosureReason
    at: datetime
    note: str | None = attrs.field(default=None, repr=redacted, metadata={"free_text": True})
    # -- evaluation (issue 14) --
    outcome: AgreementOutcome | None = None
    rj_type: RJType | None = None


# -- agreement, enforcement and evaluation (issue 14) ----------------------------------------


class AgreementOutcome(enum.Enum):
    """How an outcome agreement ended, from its actions' final statuses (practice: an
    agreement is voluntary, so it can end partly or not fulfilled, never in enforcement)."""

    FULFILLED = "fulfilled"
    PARTLY_FULFILLED = "partly_fulfilled"
    NOT_FULFILLED = "not_fulfilled"

    @classmethod
    def of(cls, statuses: tuple[ActionStatus, ...]) -> AgreementOutcome:
        """The outcome of actions with these final statuses: fulfilled when at least one is
        done and every other done or waived; partly fulfilled when at least one is done and
        another not complied with; not fulfilled when none is done (an agreement whose every
        action was waived is not reported as fulfilled: nothing agreed was carried out).
        Source: practice (honest reporting of outcomes), *inferred*.

        >>> AgreementOutcome.of((ActionStatus.DONE, ActionStatus.WAIVED)).value
        'fulfilled'
        >>> AgreementOutcome.of((ActionStatus.DONE, ActionStatus.NOT_COMPLIED)).value
        'partly_fulfilled'
        >>> AgreementOutcome.of((ActionStatus.WAIVED, ActionStatus.NOT_COMPLIED)).value
        'not_fulfilled'
        >>> AgreementOutcome.of((ActionStatus.WAIVED, ActionStatus.WAIVED)).value
        'not_fulfilled'
        """
        if ActionStatus.DONE in statuses and all(
            s in (ActionStatus.DONE, ActionStatus.WAIVED) for s in statuses
        ):
            return cls.FULFILLED
        if ActionStatus.DONE in statuses:
            return cls.PARTLY_FULFILLED
        return cls.NOT_FULFILLED


class RJType(enum.Enum):
    """The kind of restorative justice a case delivered, for honest reporting: direct (a
    conference was held), indirect (a letter delivered or shuttle messages carried), or none
    (no contact with a victim took place)."""

    DIRECT = "direct"
    INDIRECT = "indirect"
    NONE = "none"


class EnforcementStepKind(enum.Enum):
    """What an unacceptable absence led to (Sentencing Act 2020, Sch. 10)."""

    WARNING = "warning"
    BREACH_REFERRAL = "breach_referral"


@attrs.frozen
class EnforcementStep:
    """A warning or a referral for breach, derived from an unacceptable absence (session
    ``session``, held at ``at``).  Derived from the sessions, never recorded separately."""

    kind: EnforcementStepKind
    session: int
    at: datetime


class BreachOutcome(enum.Enum):
    """The court's outcome of a referral for breach."""

    ORDER_CONTINUES = "order_continues"
    ORDER_REVOKED = "order_revoked"


@attrs.frozen
class BreachDecision:
    """The recorded outcome of a referral for breach."""

    outcome: BreachOutcome
    at: datetime
    recorded_by: str


@attrs.frozen
class VictimWish:
    """A victim's wish to be kept informed of progress and of the case's conclusion
    (Victims' Code); the latest one is in force."""

    victim: str
    keep_informed: bool
    at: datetime
    recorded_by: str


class VictimUpdateAbout(enum.Enum):
    """What a victim was told about."""

    PROGRESS = "progress"
    CONCLUSION = "conclusion"


@attrs.frozen
class VictimUpdate:
    """A victim was told about progress on the agreement or about the case's conclusion."""

    victim: str
    about: VictimUpdateAbout
    at: datetime
    by: str


@attrs.frozen
class FollowUp:
    """Follow-up contact with a participant after the activity, for the service's own
    evaluation; also recorded after the case ended."""

    party: str
    at: datetime
    by: str


# -- change of mind and supporters (issue 14) ------------------------------------------------


@attrs.frozen
class PartyRequest:
    """A party came to the service themselves and asked for restorative justice.

    ``activity`` is what they asked for, or None when they asked for restorative justice in
    general.  A request lifts an earlier decline: of that activity, or of every activity when
    the request is general.  A request by a victim is a *victim-initiated* request, which the
    request-only rule (``Policy.victim_request_required_for``) waits for.  ``position`` is the
    number of consent decisions recorded before it: where it sits in the party's timeline
    (see ``CaseRecord.timeline``).
    """

    party: str
    activity: ContactActivity | None
    at: datetime
    recorded_by: str
    position: int


@attrs.frozen
class SupporterAcceptance:
    """A party on the other side accepted (or no longer accepts) a supporter at the meeting.

    ``by`` is the accepting party: the offender for a victim's supporter, each victim who
    meets the offender for the offender's supporter.  The latest answer is in force.
    """

    supporter: str
    by: str
    accepted: bool
    at: datetime
    recorded_by: str


# -- safeguarding (issue 14, D2) ------------------------------------------------------------------


class MaterialChangeKind(enum.Enum):
    """What changed in a case so that its risk must be assessed again (practice: risk is
    re-checked throughout)."""

    PARTY_ADDED = "party_added"
    LEAD_CHANGED = "lead_changed"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    NEW_INFORMATION = "new_information"

    @property
    def label(self) -> str:
        """The change as a caseworker would say it."""
        return {
            MaterialChangeKind.PARTY_ADDED: "a participant was added",
            MaterialChangeKind.LEAD_CHANGED: "the lead facilitator changed",
            MaterialChangeKind.CONSENT_WITHDRAWN: "consent was withdrawn",
            MaterialChangeKind.NEW_INFORMATION: "new information was recorded",
        }[self]


@attrs.frozen
class MaterialChange:
    """A change after which earlier risk assessments no longer count.

    ``subject`` is the participant it concerns (None: the whole case); it supersedes the
    assessments of that participant and the case-wide ones, or every assessment when it
    concerns the whole case.  ``sequence`` is the history event that recorded it (the recorded
    order is what counts); ``at`` is when it happened.
    """

    kind: MaterialChangeKind
    at: datetime
    sequence: int
    subject: str | None = None
