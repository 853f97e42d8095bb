"""The workflow table: the one place the programme's wiring lives.

Each row of :data:`ACTIONS` is an action a caseworker can take: the stages it may be taken
from, the stage it leads to (``None`` for record-keeping that keeps the stage), the *names* of
the guards that must all pass, and the input it takes.  The shared state machine, the
diagrams, the documentation tables, the static checks and the test paths are all derived from
this table; nothing else spells out a stage, an action or a guard's wiring.

>>> from rjflow.states import ACTIONS, State
>>> ACTIONS["hold_conference"].dest
<State.CONFERENCE: 'conference'>
>>> "victims_consent_face_to_face" in ACTIONS["hold_conference"].guards
True
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from rjflow.activities import SessionKind
from rjflow.commands import (
    AcceptSupporter,
    AddParty,
    ApproveRiskAssessment,
    AssessRisk,
    AssignLeadFacilitator,
    Close,
    ConsentInput,
    DeclineAll,
    DraftLetter,
    HoldConference,
    InformVictim,
    LetterInput,
    NoInput,
    ProposeAgreement,
    RecordAcknowledgement,
    RecordBreachOutcome,
    RecordFeedback,
    RecordFollowUp,
    RecordNewInformation,
    RecordProgress,
    RecordRequest,
    RecordSentence,
    RecordSession,
    RecordShuttleMessage,
    RecordVictimWishes,
    ReviewLetter,
    SignAgreement,
    VaryAgreement,
    WaiveAgreementAction,
)
from rjflow.parties import StaffRole

__all__ = [
    "ACTIONS",
    "EVALUATION_ACTIONS",
    "OPEN_STATES",
    "STATES",
    "ActionDef",
    "State",
    "StateDef",
]


class State(enum.Enum):
    """The stages of a restorative justice case."""

    REFERRED = "referred"
    INTRODUCTION = "introduction"
    PREPARATION = "preparation"
    CONFERENCE = "conference"
    LETTER_OF_APOLOGY = "letter_of_apology"
    SHUTTLE_MEDIATION = "shuttle_mediation"
    REVIEW = "review"
    COMPLETED = "completed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The stage as a caseworker would say it."""
        return self.value.replace("_", " ")


@attrs.frozen
class StateDef:
    """A stage: what it is, which session kind is held in it, and the policy switch (a
    ``Policy`` attribute name) that offers it, if any."""

    state: State
    description: str
    session_kind: SessionKind | None = None
    terminal: bool = False
    offered_by: str | None = None


# -- roles (issue 14, D2): who may take an action ------------------------------------------------
_R = StaffRole
#: Any facilitator on the case (the lead is one too).
FACILITATORS: frozenset[StaffRole] = frozenset({_R.FACILITATOR})
#: The lead facilitator, who runs the case.
LEAD: frozenset[StaffRole] = frozenset({_R.LEAD_FACILITATOR})
#: A manager (supervisor) on the case.
MANAGERS: frozenset[StaffRole] = frozenset({_R.MANAGER})
#: An administrator on the case.
ADMINISTRATORS: frozenset[StaffRole] = frozenset({_R.ADMINISTRATOR})
#: Anyone on the case's staff.
ANY_STAFF: frozenset[StaffRole] = frozenset(StaffRole)


@attrs.frozen
class ActionDef:
    """One row of the workflow table.

    ``roles``: the staff roles (:class:`~rjflow.parties.StaffRole`) that may take the action;
    the engine refuses it from an actor holding none of them (a facilitator by default).
    """

    name: str
    sources: tuple[State, ...]
    dest: State | None
    guards: tuple[str, ...]
    input: type
    summary: str
    #: The policy switch (a ``Policy`` attribute name) that offers the action, where its
    #: stages alone do not say (a letter delivered from the review stage).  Issue 14.
    offered_by: str | None = None
    roles: frozenset[StaffRole] = FACILITATORS


_STATES = (
    StateDef(State.REFERRED, "The case has been referred; the offender is to be sentenced."),
    StateDef(
        State.INTRODUCTION,
        "The offender meets the facilitator; the programme is explained.",
        SessionKind.INTRODUCTION,
    ),
    StateDef(
        State.PREPARATION,
        "Offender and victim are prepared; consent and risk are assessed.",
        SessionKind.PREPARATION,
    ),
    StateDef(
        State.CONFERENCE,
        "Victim and offender meet with a trained facilitator.",
        SessionKind.CONFERENCE,
        offered_by="conference_enabled",
    ),
    StateDef(
        State.LETTER_OF_APOLOGY,
        "The offender writes a letter of apology; it is delivered only with consent.",
        SessionKind.LETTER_OF_APOLOGY,
        offered_by="letter_enabled",
    ),
    StateDef(
        State.SHUTTLE_MEDIATION,
        "The facilitator carries messages between offender and victim, who never meet.",
        SessionKind.SHUTTLE_MEDIATION,
        offered_by="shuttle_enabled",
    ),
    StateDef(
        State.REVIEW,
        "Progress on what was agreed is reviewed.",
        SessionKind.REVIEW,
    ),
    StateDef(State.COMPLETED, "The programme is complete.", terminal=True),
    StateDef(State.CLOSED, "The case was closed before completion, with a reason.", terminal=True),
)

#: Every stage, in the programme's order.
STATES: Mapping[State, StateDef] = MappingProxyType({s.state: s for s in _STATES})

#: The stages in which a case can still change.
OPEN_STATES: tuple[State, ...] = tuple(s.state for s in _STATES if not s.terminal)

_S = State
_ACTIVITIES = (_S.CONFERENCE, _S.LETTER_OF_APOLOGY, _S.SHUTTLE_MEDIATION)
_SESSION_STAGES = tuple(s.state for s in _STATES if s.session_kind is not None)
_CONTACT_STAGES = (_S.INTRODUCTION, _S.PREPARATION, *_ACTIVITIES, _S.REVIEW)
_AGREEMENT_STAGES = (_S.CONFERENCE, _S.SHUTTLE_MEDIATION)
_ENDED = (_S.COMPLETED, _S.CLOSED)

_CONTACT_GUARDS = (
    "offence_not_excluded",
    "responsibility_acknowledged",
    "risk_assessment_favourable",
    "lead_facilitator_qualified",
    "sexual_harm_victim_request",
)
_PROGRESS_GUARDS = ("stage_session_held", "not_referred_for_enforcement")

_ACTIONS: tuple[ActionDef, ...] = (
    # -- triggers: the case moves to another stage ---------------------------------------
    ActionDef(
        "start_introduction",
        (_S.REFERRED,),
        _S.INTRODUCTION,
        ("offender_sentenced", "lead_facilitator_assigned"),
        NoInput,
        "Begin the programme with an introduction session.",
        roles=LEAD,
    ),
    ActionDef(
        "start_preparation",
        (_S.INTRODUCTION,),
        _S.PREPARATION,
        (*_PROGRESS_GUARDS, "responsibility_acknowledged", "sessions_remaining"),
        NoInput,
        "Prepare offender and victim for a restorative activity.",
        roles=LEAD,
    ),
    ActionDef(
        "hold_conference",
        (_S.PREPARATION, _S.SHUTTLE_MEDIATION),
        _S.CONFERENCE,
        (
            *_PROGRESS_GUARDS,
            "offence_eligible_for_conference",
            *_CONTACT_GUARDS,
            "victims_consent_face_to_face",
            "offender_consents_face_to_face",
            "supporters_may_attend",
            "sessions_remaining",
            "session_length_within_limit",
        ),
        HoldConference,
        "Victim and offender meet with a trained facilitator.",
        roles=LEAD,
    ),
    ActionDef(
        "choose_letter_of_apology",
        (_S.PREPARATION,),
        _S.LETTER_OF_APOLOGY,
        (*_PROGRESS_GUARDS, "responsibility_acknowledged", "sessions_remaining"),
        NoInput,
        "The victim does not wish to meet: the offender writes a letter of apology.",
        roles=LEAD,
    ),
    ActionDef(
        "choose_shuttle_mediation",
        (_S.PREPARATION,),
        _S.SHUTTLE_MEDIATION,
        (
            *_PROGRESS_GUARDS,
            *_CONTACT_GUARDS,
            "victims_consent_shuttle",
            "offender_consents_shuttle",
            "sessions_remaining",
        ),
        NoInput,
        "The victim does not wish to meet: the facilitator carries messages between them.",
        roles=LEAD,
    ),
    ActionDef(
        "start_reviews",
        _ACTIVITIES,
        _S.REVIEW,
        (*_PROGRESS_GUARDS, "activity_concluded", "agreement_settled", "sessions_remaining"),
        NoInput,
        "Review the offender's progress on what was agreed.",
        roles=LEAD,
    ),
    ActionDef(
        "complete",
        (_S.REVIEW,),
        _S.COMPLETED,
        (
            *_PROGRESS_GUARDS,
            "agreement_fulfilled",
            "agreement_in_force",
            "required_sessions_held",
            "victims_informed_of_conclusion",
        ),
        NoInput,
        "The programme is complete.",
        roles=LEAD,
    ),
    ActionDef(
        "close",
        OPEN_STATES,
        _S.CLOSED,
        ("closure_reason_valid", "enforcement_follows_breach"),
        Close,
        "Close the case early, with a reason.",
        roles=LEAD | MANAGERS,
    ),
    # -- record-keeping: the case stays where it is --------------------------------------
    ActionDef(
        "record_sentence",
        (_S.REFERRED,),
        None,
        (),
        RecordSentence,
        "Record the date the offender was sentenced.",
        roles=ANY_STAFF,
    ),
    ActionDef(
        "add_party",
        OPEN_STATES,
        None,
        ("party_id_free",),
        AddParty,
        "Add a victim, supporter or facilitator.",
        roles=ANY_STAFF,
    ),
    ActionDef(
        "assign_lead_facilitator",
        OPEN_STATES,
        None,
        ("party_is_facilitator",),
        AssignLeadFacilitator,
        "Make one of the case's facilitators its lead.",
        roles=LEAD | MANAGERS | ADMINISTRATORS,
    ),
    ActionDef(
        "record_session",
        _SESSION_STAGES,
        None,
        (
            "not_referred_for_enforcement",
            "session_length_within_limit",
            "sessions_remaining",
            "conference_consent_in_force",
            "session_risk_current",
        ),
        RecordSession,
        "Record a session of the current stage, attended or missed.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "give_information",
        (*OPEN_STATES, *_ENDED),
        None,
        (
            "ended_only_for_a_held_letter",
            "party_can_consent",
            "party_not_declined",
            "interpreter_present",
            "victim_asked_first",
            "approach_risk_assessed",
        ),
        ConsentInput,
        "Record that a party was told about an activity, its outcomes and monitoring.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "record_consent",
        (*OPEN_STATES, *_ENDED),
        None,
        (
            "ended_only_for_a_held_letter",
            "party_can_consent",
            "party_not_declined",
            "information_given",
            "consent_not_in_force",
            "interpreter_present",
            "victim_asked_first",
        ),
        ConsentInput,
        "Record a party's written, informed consent to an activity.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "record_decline",
        (*OPEN_STATES, *_ENDED),
        None,
        ("party_can_consent",),
        ConsentInput,
        "Record that a party declined an activity; they are not asked about it again.",
        roles=ANY_STAFF,
    ),
    ActionDef(
        "withdraw_consent",
        (*OPEN_STATES, *_ENDED),
        None,
        ("consent_in_force",),
        ConsentInput,
        "Record that a party withdrew consent; what depended on it is blocked at once. They may "
        "be asked again later: a wish not to be approached again is recorded as a decline.",
        roles=ANY_STAFF,
    ),
    ActionDef(
        "acknowledge_responsibility",
        # Not from preparation: a case enters it only once responsibility is acknowledged, and
        # the acknowledgement is recorded once (check P104 finds such a dead edge).
        (_S.INTRODUCTION,),
        None,
        ("not_yet_acknowledged", "guilty_plea_recorded"),
        RecordAcknowledgement,
        "The offender acknowledges the basic facts and takes responsibility.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "assess_risk",
        _CONTACT_STAGES,
        None,
        ("risk_subject_is_participant", "approval_by_another_manager"),
        AssessRisk,
        "Record a suitability and risk assessment; the latest one is in force.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "draft_letter",
        (_S.LETTER_OF_APOLOGY,),
        None,
        ("letter_not_started", "victim_known"),
        DraftLetter,
        "The offender has drafted the letter of apology.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "review_letter",
        (_S.LETTER_OF_APOLOGY,),
        None,
        ("letter_drafted",),
        ReviewLetter,
        "The facilitator reviewed a drafted letter: approved it, or returned it for a redraft.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "deliver_letter",
        (_S.LETTER_OF_APOLOGY, _S.REVIEW, *_ENDED),
        None,
        (
            "letter_deliverable",
            "victim_consents_to_letter",
            "offence_not_excluded",
            "risk_assessment_favourable",
            "sexual_harm_victim_request",
        ),
        LetterInput,
        "Deliver an approved letter (now or later, from the file) to its victim, who agreed.",
        offered_by="letter_enabled",
        roles=FACILITATORS,
    ),
    ActionDef(
        "hold_letter_on_file",
        (_S.LETTER_OF_APOLOGY,),
        None,
        ("letter_reviewed",),
        LetterInput,
        "Keep an approved letter on file; it can be delivered later if the victim asks.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "record_shuttle_message",
        (_S.SHUTTLE_MEDIATION,),
        None,
        (
            "not_referred_for_enforcement",
            "victim_known",
            *_CONTACT_GUARDS,
            "victims_consent_shuttle",
            "offender_consents_shuttle",
            "message_vetted",
        ),
        RecordShuttleMessage,
        "The facilitator carried a message between offender and victim.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "propose_agreement",
        _AGREEMENT_STAGES,
        None,
        (
            "agreement_not_binding",
            "responsible_parties_known",
            "agreement_actions_dated",
            "risk_assessment_favourable",
        ),
        ProposeAgreement,
        "Put an outcome agreement of SMART actions to the participants.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "sign_agreement",
        (*_AGREEMENT_STAGES, _S.REVIEW),
        None,
        (
            "agreement_proposed",
            "signatory_may_sign",
            "risk_assessment_favourable",
        ),
        SignAgreement,
        "A participant signs the outcome agreement.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "abandon_agreement",
        _AGREEMENT_STAGES,
        None,
        ("agreement_proposed", "agreement_not_binding"),
        NoInput,
        "Set aside an agreement that not everyone signed; go on without one.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "record_progress",
        (_S.REVIEW,),
        None,
        ("agreement_action_known", "progress_not_waiver"),
        RecordProgress,
        "Record progress on an agreement action at a review.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "record_feedback",
        (_S.REVIEW, *_ENDED),
        None,
        ("participant_known",),
        RecordFeedback,
        "Record a participant's evaluation of the activity.",
        roles=FACILITATORS | MANAGERS | ADMINISTRATORS,
    ),
)

_ACTIONS += (
    # -- safeguarding (issue 14, D2) ------------------------------------------------------
    ActionDef(
        "approve_risk_assessment",
        _CONTACT_STAGES,
        None,
        ("risk_assessment_awaiting_approval", "approver_not_assessor"),
        ApproveRiskAssessment,
        "A manager who did not make it approves the enhanced risk assessment in force.",
        roles=MANAGERS,
    ),
    ActionDef(
        "record_new_information",
        OPEN_STATES,
        None,
        ("risk_subject_is_participant",),
        RecordNewInformation,
        "Record that new information bearing on risk was received: risk must be reassessed.",
        roles=ANY_STAFF,
    ),
    # -- agreement (issue 14) --
    ActionDef(
        "vary_agreement",
        (*_AGREEMENT_STAGES, _S.REVIEW),
        None,
        (
            "agreement_proposed",
            "agreement_signed_by_all",
            "responsible_parties_known",
            "agreement_actions_dated",
            "risk_assessment_favourable",
        ),
        VaryAgreement,
        "Vary a signed outcome agreement with the parties; everyone signs the new terms.",
        roles=FACILITATORS,
    ),
    # -- consent (issue 14 fixes) --
    ActionDef(
        "decline_all",
        (*OPEN_STATES, *_ENDED),
        None,
        ("participant_may_decline",),
        DeclineAll,
        "A party declines restorative justice altogether and asks not to be approached again: "
        "every activity they could take part in is declined at once.",
        roles=ANY_STAFF,
    ),
    # -- agreement (issue 14 fixes) --
    ActionDef(
        "withdraw_variation",
        (*_AGREEMENT_STAGES, _S.REVIEW),
        None,
        ("variation_pending",),
        NoInput,
        "Not everyone signs the varied terms: set the variation aside; the signed terms stay "
        "in force.",
        roles=FACILITATORS,
    ),
    ActionDef(
        "waive_agreement_action",
        (_S.REVIEW,),
        None,
        ("agreement_action_known", "action_waivable"),
        WaiveAgreementAction,
        "Set aside one agreement action, agreed with the parties at a review.",
        roles=LEAD | MANAGERS,
    ),
    # -- enforcement (issue 14) --
    ActionDef(
        "record_breach_outcome",
        _SESSION_STAGES,
        None,
        ("breach_referral_pending",),
        RecordBreachOutcome,
        "Record the court's outcome of a referral for breach: the order continues or is revoked.",
        roles=LEAD | MANAGERS | ADMINISTRATORS,
    ),
    # -- evaluation (issue 14) --
    ActionDef(
        "record_victim_wishes",
        OPEN_STATES,
        None,
        ("victim_to_inform_known",),
        RecordVictimWishes,
        "Record whether a victim wishes to be kept informed of progress and the conclusion.",
        roles=FACILITATORS | MANAGERS | ADMINISTRATORS,
    ),
    ActionDef(
        "inform_victim",
        (*OPEN_STATES, *_ENDED),
        None,
        ("victim_to_inform_known", "update_fits_stage"),
        InformVictim,
        "Record that a victim was told about progress or about the case's conclusion.",
        roles=FACILITATORS | MANAGERS,
    ),
    ActionDef(
        "record_follow_up",
        (_S.REVIEW, *_ENDED),
        None,
        ("follow_up_party_known",),
        RecordFollowUp,
        "Record follow-up contact with a participant after the activity.",
        roles=FACILITATORS | MANAGERS | ADMINISTRATORS,
    ),
    # -- change of mind and supporters (issue 14) --
    ActionDef(
        "record_request",
        OPEN_STATES,
        None,
        ("party_may_request",),
        RecordRequest,
        "A party came back themselves and asked for restorative justice (or one activity).",
        roles=FACILITATORS | MANAGERS | ADMINISTRATORS,
    ),
    ActionDef(
        "accept_supporter",
        OPEN_STATES,
        None,
        ("supporter_acceptance_valid",),
        AcceptSupporter,
        "A party on the other side accepts (or no longer accepts) a supporter at the meeting.",
        roles=FACILITATORS,
    ),
)

# -- late entry (issue 14 fixes): what belongs to a stage happened during it -------------------
#: Record-keeping that belongs to the stage it is recorded in (besides every stage change).
_STAGE_BOUND = frozenset(
    {
        "record_session",
        "record_shuttle_message",
        "draft_letter",
        "review_letter",
        "hold_letter_on_file",
        "propose_agreement",
        "record_progress",
        "waive_agreement_action",
    }
)
_ACTIONS = tuple(
    attrs.evolve(a, guards=(*a.guards, "happened_in_stage"))
    if a.dest is not None or a.name in _STAGE_BOUND
    else a
    for a in _ACTIONS
)

#: The only actions an ended (completed or closed) case accepts, all record-keeping: the
#: service's evaluation (practice: feedback and follow-up after the end; the victim is told
#: of the conclusion), a letter held on file delivered when its victim asks (practice: "if and
#: when" the victim chooses; their consent to receive it is recorded first), and a
#: participant's withdrawal or decline (consent is
#: withdrawable at any time: RJC codes, Victims' Code).  The workflow checks that no other
#: action has an end stage as a source.
EVALUATION_ACTIONS: frozenset[str] = frozenset(
    {
        "record_feedback",
        "record_follow_up",
        "inform_victim",
        # -- issue 14 fixes: after the end too --
        "give_information",  # only about receiving a letter held on file for the victim
        "record_consent",  # likewise
        "deliver_letter",
        "withdraw_consent",
        "record_decline",
        "decline_all",
    }
)

#: Every action of the workflow, by name, in the table's order.
ACTIONS: Mapping[str, ActionDef] = MappingProxyType({a.name: a for a in _ACTIONS})
