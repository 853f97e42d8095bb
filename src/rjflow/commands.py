"""The inputs each action takes, checked for shape when they are built.

An input object says *what* the caller asks for (a session of 2 hours, consent from V1 to a
face-to-face meeting); the guards then decide whether the programme allows it now, and the
effects say how the case record changes.  Inputs are what the history stores: each event
carries its input, in the plain JSON form :mod:`rjflow.serialization` gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from rjflow._validate import (
    _check_id,
    boolean,
    calendar_date,
    collection,
    free_text,
    is_id,
    nonnegative_timedelta,
    opaque_id,
    opaque_ids,
    plain_timedelta,
    redacted,
    to_enum,
    valid_text,
    whole_number,
)
from rjflow.activities import (
    ActionStatus,
    AgreementAction,
    Attendance,
    BreachOutcome,
    ClosureReason,
    ContactActivity,
    MessageDirection,
    RiskOutcome,
    VictimUpdateAbout,
)
from rjflow.errors import InvalidInput
from rjflow.offences import Offence
from rjflow.parties import Facilitator, Offender, Party, Staff, Supporter, Victim

__all__ = [
    "CONFERENCE_LENGTH",
    "TEXT_LENGTH",
    "AcceptSupporter",
    "Acting",
    "AddParty",
    "ApproveRiskAssessment",
    "AssessRisk",
    "AssignLeadFacilitator",
    "Close",
    "ConsentInput",
    "DeclineAll",
    "DraftLetter",
    "HoldConference",
    "InformVictim",
    "Input",
    "LetterInput",
    "NoInput",
    "OpenCase",
    "ProposeAgreement",
    "RecordAcknowledgement",
    "RecordBreachOutcome",
    "RecordFeedback",
    "RecordFollowUp",
    "RecordNewInformation",
    "RecordProgress",
    "RecordRequest",
    "RecordSentence",
    "RecordSession",
    "RecordShuttleMessage",
    "RecordVictimWishes",
    "ReviewLetter",
    "SignAgreement",
    "VaryAgreement",
    "WaiveAgreementAction",
]


#: The longest free text an input takes (a closure note, what an agreement action says).
TEXT_LENGTH = 2000

#: The kinds of party who may join a case after it opened (:class:`AddParty`).
_JOINING = (Victim, Supporter, Facilitator, Staff)


def _instance(kind: type | tuple[type, ...], what: str) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InvalidInput(f"{attribute.name!r} must be {what} (got {type(value).__name__}).")

    return check


def _parties(value: Iterable[Party]) -> tuple[Any, ...]:
    return collection("parties", value, "parties")


def _victims(value: Iterable[str]) -> tuple[Any, ...]:
    return collection("victims", value, "victim ids")


def _supporters(value: Iterable[str]) -> tuple[Any, ...]:
    return collection("supporters", value, "supporter ids")


def _actions(value: Iterable[AgreementAction]) -> tuple[Any, ...]:
    return collection("actions", value, "agreement actions")


def _optional_date(value: date | None) -> date | None:
    return None if value is None else calendar_date("sentenced_on", value)


def _sentence_date(value: date) -> date:
    return calendar_date("sentenced_on", value)


def _whole(value: int) -> int:
    # An int subclass (an IntEnum, say) becomes a plain int; anything else is for the
    # validator to judge (typed as what it accepts: a whole number).
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _duration(value: timedelta) -> timedelta:
    # A timedelta subclass becomes a plain timedelta; anything else is for the validator.
    converted: timedelta = plain_timedelta(value)  # type: ignore[assignment]
    return converted


def _to_attendance(value: Attendance | str) -> Attendance:
    return to_enum(Attendance, "attendance", value)


def _to_activity(value: ContactActivity | str) -> ContactActivity:
    return to_enum(ContactActivity, "activity", value)


def _to_outcome(value: RiskOutcome | str) -> RiskOutcome:
    return to_enum(RiskOutcome, "outcome", value)


def _to_direction(value: MessageDirection | str) -> MessageDirection:
    return to_enum(MessageDirection, "direction", value)


def _to_status(value: ActionStatus | str) -> ActionStatus:
    return to_enum(ActionStatus, "status", value)


def _to_reason(value: ClosureReason | str) -> ClosureReason:
    return to_enum(ClosureReason, "reason", value)


def _check_unique(ids: list[str]) -> None:
    """Every party and staff member has an id of their own (ids are validated opaque ids, so
    the repeated one may be named)."""
    seen: set[str] = set()
    for party_id in ids:
        if party_id in seen:
            raise InvalidInput(
                f"Two parties share the id {party_id}; give every party its own id (the "
                "offender, each victim, supporter, facilitator and staff member)."
            )
        seen.add(party_id)


@attrs.frozen
class Acting:
    """Who takes an action and when: what the rules judge besides the record and the input.

    ``at`` is the time the action is recorded (timezone-aware, UTC); ``actor`` the opaque id of
    the person recording it, or None when a screen only asks what may happen next without
    saying who would act (rules about the actor are then not judged).  ``occurred_at`` is when
    it happened, for an entry made late (None: when it is recorded); rules about time that
    concern the happening (such as a risk assessment's expiry) judge :attr:`happened_at`.
    """

    at: datetime
    actor: str | None = None
    occurred_at: datetime | None = None

    @property
    def happened_at(self) -> datetime:
        """When the action happened: ``occurred_at`` when given, else ``at``."""
        return self.at if self.occurred_at is None else self.occurred_at


@attrs.frozen
class NoInput:
    """The input of an action that needs nothing but its time and actor."""


def _staff(value: Iterable[Staff]) -> tuple[Any, ...]:
    return collection("staff", value, "Staff values")


@attrs.frozen
class OpenCase:
    """Everything known when a case is referred."""

    offence: Offence = attrs.field(validator=_instance(Offence, "an Offence"))
    parties: tuple[Party, ...] = attrs.field(converter=_parties)
    sentenced_on: date | None = attrs.field(default=None, converter=_optional_date)
    lead_facilitator: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(opaque_id)
    )
    # Issue 14 (D2): the case's managers and administrators.  None only in opening events
    # saved before staff roles were recorded (schema 1); ``Case.open`` always gives a tuple.
    staff: tuple[Staff, ...] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_staff)
    )

    @staff.validator
    def _check_staff(self, _attribute: object, staff: tuple[Staff, ...] | None) -> None:
        if staff is None:
            return
        for member in staff:
            if not isinstance(member, Staff):
                raise InvalidInput(
                    f"Every staff member must be a Staff value (got {type(member).__name__})."
                )
        ids = [p.id for p in (*self.parties, *staff)]
        _check_unique(ids)

    @parties.validator
    def _check_parties(self, _attribute: object, parties: tuple[Party, ...]) -> None:
        kinds = (Offender, Victim, Supporter, Facilitator)
        for p in parties:
            if not isinstance(p, kinds):
                hint = (
                    ' Wrap each id in its party, e.g. Facilitator("F1") or Victim("V1").'
                    if isinstance(p, str)
                    else ""
                )
                raise InvalidInput(
                    "Every party must be an Offender, Victim, Supporter or Facilitator "
                    f"(got {type(p).__name__})." + hint
                )
        ids = [p.id for p in parties]
        for party_id in ids:  # a party built around its validators is still checked here
            _check_id("parties", party_id)
        _check_unique(ids)
        if sum(isinstance(p, Offender) for p in parties) != 1:
            raise InvalidInput("A case has exactly one offender; pass offender='<id>'.")
        if not any(isinstance(p, Victim) for p in parties):
            raise InvalidInput("A case needs at least one victim; pass victims=['<id>', ...].")
        for p in parties:
            if isinstance(p, Supporter) and p.supports not in ids:
                # Both are validated ids (Supporter's own validators), so both may be quoted.
                supported = repr(p.supports) if is_id(p.supports) else "someone"
                raise InvalidInput(
                    f"Supporter {p.id} supports {supported}, who is not a party to the case."
                )
        if self.lead_facilitator is not None:
            # Checked here as well as by its own validator, which attrs runs after this one:
            # only a validated id is ever quoted.
            _check_id("lead_facilitator", self.lead_facilitator)
        if self.lead_facilitator is not None and not any(
            isinstance(p, Facilitator) and p.id == self.lead_facilitator for p in parties
        ):
            raise InvalidInput(
                f"Lead facilitator {self.lead_facilitator} is not one of the case's facilitators; "
                "add them with facilitators=[Facilitator(...)]."
            )


@attrs.frozen
class RecordSentence:
    """The date the offender was sentenced; the programme starts once sentenced."""

    sentenced_on: date = attrs.field(
        converter=_sentence_date,
        metadata={"doc": "The date the offender was sentenced."},
    )


@attrs.frozen
class AssignLeadFacilitator:
    """Make one of the case's facilitators its lead."""

    facilitator: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "The id of the case's facilitator who becomes its lead."},
    )


@attrs.frozen
class AddParty:
    """Add a victim, supporter, facilitator or member of staff who joins the case later."""

    party: Party = attrs.field(
        validator=_instance(_JOINING, "a Victim, Supporter, Facilitator or Staff"),
        metadata={
            "doc": (
                "The person joining the case: a victim, a supporter, a facilitator or a member of"
                " staff (a manager or an administrator), by their reference, never their name."
            ),
            "kinds": _JOINING,
        },
    )


@attrs.frozen
class RecordSession:
    """A session of the current stage: how long it lasted and whether the offender came.

    A missed session has a duration of zero.
    """

    duration: timedelta = attrs.field(
        converter=_duration,
        validator=nonnegative_timedelta,
        metadata={
            # What it means, for the caseworker's form; how it is written is the field's
            # kind's (a timedelta in Python, ISO 8601 text such as PT1H30M in JSON).
            "doc": "How long the session lasted; zero for a missed session.",
            "policy_limit": "max_session_length",
        },
    )
    attendance: Attendance = attrs.field(
        default=Attendance.ATTENDED,
        converter=_to_attendance,
        metadata={
            "doc": (
                "Whether the offender attended, or missed the session with or without an "
                "acceptable reason."
            ),
        },
    )

    def __attrs_post_init__(self) -> None:
        attended = self.attendance is Attendance.ATTENDED
        if attended and not self.duration:
            raise InvalidInput(
                "A session the offender attended lasted some time: give its duration, more "
                "than zero."
            )
        if not attended and self.duration:
            raise InvalidInput(
                "A missed session has no duration: give zero as its duration, or record it as "
                "attended."
            )


@attrs.frozen
class ConsentInput:
    """A party and an activity: used to give information, record, decline or withdraw consent.

    ``interpreter_provided``: an interpreter was there (required to inform a party who needs
    one, and to record their consent).
    """

    party: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the participant concerned."}
    )
    activity: ContactActivity = attrs.field(
        converter=_to_activity, metadata={"doc": "The restorative activity concerned."}
    )
    interpreter_provided: bool = attrs.field(
        default=False,
        validator=boolean,
        metadata={"doc": "An interpreter was there (required for a participant who needs one)."},
    )  # issue 14


@attrs.frozen
class RecordAcknowledgement:
    """The offender acknowledges the basic facts and takes responsibility."""

    guilty_plea: bool = attrs.field(
        validator=boolean, metadata={"doc": "The offender pleaded guilty."}
    )


@attrs.frozen
class AssessRisk:
    """A suitability and risk assessment.  ``approved_by`` is the manager who signed off an
    enhanced assessment (kept for saved cases; prefer :class:`ApproveRiskAssessment`, taken by
    the manager).  ``subject``: the participant assessed, or None for the whole case."""

    outcome: RiskOutcome = attrs.field(
        converter=_to_outcome, metadata={"doc": "The assessment's outcome."}
    )
    enhanced: bool = attrs.field(
        default=False,
        validator=boolean,
        metadata={
            "doc": "An enhanced assessment, as sensitive offences need; a manager approves it."
        },
    )
    approved_by: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(opaque_id),
        metadata={
            "doc": (
                "The id of the manager who approved it, for cases recorded that way; record "
                "a manager's approval with the approve risk assessment action instead."
            ),
        },
    )
    subject: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(opaque_id),
        metadata={"doc": "The id of the participant assessed; empty for the whole case."},
    )


#: The length a conference session is recorded with when none is given: the seed's three
#: hours.  Pass the real duration.
CONFERENCE_LENGTH = timedelta(hours=3)


def _positive_timedelta(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(
            f"{attribute.name!r} must be a positive timedelta, for example timedelta(hours=2)."
        )


@attrs.frozen
class HoldConference:
    """The conference takes place.  ``victims``: who meets the offender (empty: every victim);
    ``supporters``: who comes with them (None: every supporter of those present);
    ``duration``: how long the conference lasted; it is recorded as the conference's session
    (default :data:`CONFERENCE_LENGTH`, three hours)."""

    victims: tuple[str, ...] = attrs.field(
        default=(),
        converter=_victims,
        validator=opaque_ids,
        metadata={"doc": "The ids of the victims who meet the offender; empty for every victim."},
    )
    supporters: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(_supporters),
        validator=attrs.validators.optional(opaque_ids),
        metadata={
            "doc": (
                "The ids of the supporters who come; leave it empty when every supporter of the "
                "participants present comes."
            ),
        },
    )
    # -- sessions (issue 14): the conference is its own session --
    duration: timedelta = attrs.field(
        default=CONFERENCE_LENGTH,
        validator=[nonnegative_timedelta, _positive_timedelta],
        metadata={
            "doc": "How long the conference lasted.",
            "policy_limit": "max_session_length",
        },
    )


@attrs.frozen
class DraftLetter:
    """The offender has drafted a letter of apology to ``victim``."""

    victim: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the victim the letter is to."}
    )


@attrs.frozen
class RecordShuttleMessage:
    """The facilitator carried one message between the offender and ``victim``.

    ``vetted``: the facilitator checked the message before carrying it, as practice requires
    of every message (as of a letter).  A message not checked is not carried: ``False`` is
    refused.  The default is True because recording a carried message always meant this (and
    events recorded before the field existed say nothing of it).
    """

    victim: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "The id of the victim the message is carried to or from."},
    )
    direction: MessageDirection = attrs.field(
        converter=_to_direction, metadata={"doc": "Which way the message was carried."}
    )
    vetted: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={
            "doc": (
                "The facilitator checked the message before carrying it (a message not checked is"
                " refused)."
            ),
        },
    )  # issue 14


def _check_actions(_inst: object, _attribute: object, actions: tuple[AgreementAction, ...]) -> None:
    if not actions:
        raise InvalidInput("An outcome agreement needs at least one action.")
    for act in actions:
        if not isinstance(act, AgreementAction):
            raise InvalidInput(
                f"Agreement actions must be AgreementAction values (got {type(act).__name__})."
            )
        opaque_id(None, attrs.fields(AgreementAction).id, act.id)
        opaque_id(None, attrs.fields(AgreementAction).responsible, act.responsible)
        valid_text("what", act.what, max_length=TEXT_LENGTH)
        if not act.what.strip():
            raise InvalidInput(f"Agreement action {act.id} must say what is to be done.")
        if type(act.deadline) is not date:
            raise InvalidInput(
                f"Agreement action {act.id} needs a deadline date (a date, not a datetime)."
            )
    seen: set[str] = set()
    for act in actions:
        if act.id in seen:  # a validated id (AgreementAction's own validator): may be named
            raise InvalidInput(
                f"Two agreement actions share the id {act.id}; give each action its own id."
            )
        seen.add(act.id)


@attrs.frozen
class ProposeAgreement:
    """An outcome agreement of SMART actions, put to the participants for signature."""

    actions: tuple[AgreementAction, ...] = attrs.field(
        converter=_actions,
        validator=_check_actions,
        metadata={
            "doc": (
                "The agreement's actions, each specific and dated: its id, what is to be "
                "done, who is responsible and by when."
            ),
            "min_items": 1,
        },
    )


@attrs.frozen
class SignAgreement:
    """``party`` signs the outcome agreement."""

    party: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the participant who signs."}
    )


@attrs.frozen
class RecordProgress:
    """Progress on one agreement action, recorded at a review."""

    action_id: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the agreement action."}
    )
    status: ActionStatus = attrs.field(
        converter=_to_status,
        metadata={
            "doc": "Where the action stands.",
            "never_offered": (ActionStatus.WAIVED,),  # use_waive_agreement_action
        },
    )


def _satisfaction(_inst: object, _attribute: object, value: Any) -> None:
    if not 1 <= whole_number("satisfaction", value) <= 5:
        raise InvalidInput(f"'satisfaction' must be a whole number from 1 to 5 (got {value}).")


@attrs.frozen
class RecordFeedback:
    """A participant's evaluation after the activity."""

    party: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the participant giving feedback."}
    )
    satisfaction: int = attrs.field(
        converter=_whole,
        validator=_satisfaction,
        metadata={
            "doc": "How satisfied they are, from 1 (not at all) to 5 (very).",
            "minimum": 1,
            "maximum": 5,
        },
    )
    things_changed: bool = attrs.field(
        validator=boolean, metadata={"doc": "Whether things changed for them."}
    )


@attrs.frozen
class Close:
    """End the case early.  ``note`` is required when the reason is ``OTHER``."""

    reason: ClosureReason = attrs.field(
        converter=_to_reason,
        metadata={
            "doc": "Why the case is closed early.",
            "never_offered": (ClosureReason.COMPLETED,),  # the complete action's (use_complete)
        },
    )
    note: str | None = attrs.field(
        default=None,
        validator=free_text(TEXT_LENGTH),
        repr=redacted,
        metadata={
            "free_text": True,
            "doc": (
                "A note on the closure, required when the reason is other; never shown in "
                "rjflow's messages."
            ),
            "max_length": TEXT_LENGTH,
        },
    )


# -- agreement, enforcement and evaluation (issue 14) ----------------------------------------


@attrs.frozen
class VaryAgreement:
    """New terms for a signed outcome agreement; everyone signs again."""

    actions: tuple[AgreementAction, ...] = attrs.field(
        converter=_actions,
        validator=_check_actions,
        metadata={
            "doc": (
                "The agreement's new terms: each action with an id, what is to be done, who is "
                "responsible and a deadline date."
            ),
            "min_items": 1,
        },
    )


@attrs.frozen
class WaiveAgreementAction:
    """Set aside one agreement action with the parties' agreement."""

    action_id: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the agreement action set aside."}
    )


def _to_about(value: VictimUpdateAbout | str) -> VictimUpdateAbout:
    return to_enum(VictimUpdateAbout, "about", value)


@attrs.frozen
class InformVictim:
    """``victim`` was told about progress on the agreement or about the case's conclusion."""

    victim: str = attrs.field(validator=opaque_id, metadata={"doc": "The id of the victim told."})
    about: VictimUpdateAbout = attrs.field(
        converter=_to_about, metadata={"doc": "What the victim was told about."}
    )


@attrs.frozen
class RecordVictimWishes:
    """Whether ``victim`` wishes to be kept informed of progress and of the conclusion."""

    victim: str = attrs.field(validator=opaque_id, metadata={"doc": "The id of the victim."})
    keep_informed: bool = attrs.field(
        validator=boolean,
        metadata={
            "doc": "The victim wishes to be kept informed of progress and of the conclusion."
        },
    )


@attrs.frozen
class RecordFollowUp:
    """Follow-up contact with ``party`` after the activity."""

    party: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the participant contacted."}
    )


def _to_breach(value: BreachOutcome | str) -> BreachOutcome:
    return to_enum(BreachOutcome, "outcome", value)


@attrs.frozen
class RecordBreachOutcome:
    """The court's outcome of a referral for breach."""

    outcome: BreachOutcome = attrs.field(
        converter=_to_breach, metadata={"doc": "The court's decision on the referral for breach."}
    )


# -- change of mind, supporters, letters (issue 14) ------------------------------------------


def _to_optional_activity(value: ContactActivity | str | None) -> ContactActivity | None:
    return None if value is None else _to_activity(value)


@attrs.frozen
class RecordRequest:
    """``party`` came to the service themselves and asked for ``activity``, or for restorative
    justice in general when ``activity`` is None (a victim's is a victim-initiated request)."""

    party: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the participant who asked."}
    )
    activity: ContactActivity | None = attrs.field(
        default=None,
        converter=_to_optional_activity,
        metadata={"doc": "The activity asked for; empty for restorative justice in general."},
    )


@attrs.frozen
class AcceptSupporter:
    """Party ``by`` accepts (``accepted=True``) or does not accept ``supporter`` at the
    meeting; the latest answer is in force."""

    supporter: str = attrs.field(validator=opaque_id, metadata={"doc": "The id of the supporter."})
    by: str = attrs.field(
        validator=opaque_id,
        metadata={
            "doc": "The id of the party, on the side the supporter does not support, who answers."
        },
    )
    accepted: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={"doc": "The supporter is accepted at the meeting; no: no longer accepted."},
    )


@attrs.frozen
class ReviewLetter:
    """The facilitator reviewed the letter to ``victim`` (None: the case's only letter) and
    approved it (``approved=True``) or returned it for a redraft."""

    victim: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(opaque_id),
        metadata={
            "doc": "The id of the victim the letter is to; empty for the case's only letter."
        },
    )
    approved: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={"doc": "The letter is approved; no: returned for a redraft."},
    )


@attrs.frozen
class LetterInput:
    """Which letter to deliver or hold on file: the one to ``victim`` (None: the case's only
    letter)."""

    victim: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(opaque_id),
        metadata={
            "doc": "The id of the victim the letter is to; empty for the case's only letter."
        },
    )


# -- safeguarding (issue 14, D2) ---------------------------------------------------------------


@attrs.frozen
class ApproveRiskAssessment:
    """A manager (the actor) approves the enhanced assessment in force for ``subject`` (None:
    the case-wide one)."""

    subject: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(opaque_id),
        metadata={
            "doc": (
                "The id of the participant whose assessment is approved; empty for the case-wide "
                "one."
            ),
        },
    )


@attrs.frozen
class RecordNewInformation:
    """New information bearing on risk was received about ``subject`` (None: the whole case).
    Its content stays in the embedding application; the case only records that risk must be
    assessed again."""

    subject: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(opaque_id),
        metadata={
            "doc": "The id of the participant the information concerns; empty for the whole case."
        },
    )


# -- end of safeguarding --------------------------------------------------------------------

# -- consent (issue 14 fixes) -----------------------------------------------------------------


@attrs.frozen
class DeclineAll:
    """A party who declines restorative justice altogether and does not want to be approached
    again: every activity they could take part in is declined at once.

    ``interpreter_provided``: an interpreter was there.
    """

    party: str = attrs.field(
        validator=opaque_id, metadata={"doc": "The id of the participant who declines."}
    )
    interpreter_provided: bool = attrs.field(
        default=False,
        validator=boolean,
        metadata={"doc": "An interpreter was there (required for a participant who needs one)."},
    )


#: Any action's input.
Input = (
    NoInput
    | OpenCase
    | RecordSentence
    | AssignLeadFacilitator
    | AddParty
    | RecordSession
    | ConsentInput
    | RecordAcknowledgement
    | AssessRisk
    | HoldConference
    | DraftLetter
    | RecordShuttleMessage
    | ProposeAgreement
    | SignAgreement
    | RecordProgress
    | RecordFeedback
    | Close
    | VaryAgreement
    | WaiveAgreementAction
    | InformVictim
    | RecordVictimWishes
    | RecordFollowUp
    | RecordBreachOutcome
    | RecordRequest
    | AcceptSupporter
    | ReviewLetter
    | LetterInput
    | ApproveRiskAssessment
    | RecordNewInformation
    | DeclineAll
)
