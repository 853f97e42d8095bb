"""Guards: the programme's rules, each a named, pure function that explains itself.

A guard looks at a case record, the policy and the action's input (None when a caller only
asks whether an action is possible) and yields nothing when the rule holds, or one
:class:`Blocker` per reason it does not.  A blocker carries a stable ``code`` for programs
and a ``message`` for the caseworker: what is wrong and what would make it right.  Parties
appear by id only; names, narratives and notes never do.

The workflow table (:mod:`rjflow.states`) names the guards on each action; :data:`GUARDS`
maps those names to these functions.

>>> from rjflow.guards import GUARDS
>>> GUARDS["offender_sentenced"].__doc__
'The programme starts once the offender is sentenced (seed).'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

import attrs

from rjflow.activities import (
    ActionStatus,
    ClosureReason,
    ConsentStatus,
    ContactActivity,
    LetterStatus,
    RiskOutcome,
)
from rjflow.commands import (
    AddParty,
    AssignLeadFacilitator,
    Close,
    ConsentInput,
    DraftLetter,
    HoldConference,
    Input,
    ProposeAgreement,
    RecordAcknowledgement,
    RecordFeedback,
    RecordProgress,
    RecordSession,
    RecordShuttleMessage,
    SignAgreement,
)
from rjflow.offences import OffenceCategory
from rjflow.parties import Offender, Supporter, Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.states import STATES, State

__all__ = ["GUARDS", "Blocker", "Guard"]


@attrs.frozen
class Blocker:
    """One reason an action is not allowed now.

    ``code`` is stable across releases (programs may branch on it); ``message`` is a full
    sentence for the caseworker; ``guard`` names the rule that raised it; ``subject`` is the
    id of the party or agreement action concerned, when there is one (a screen can highlight
    it).
    """

    code: str
    message: str
    guard: str
    subject: str | None = None

    def __str__(self) -> str:
        return self.message


#: A guard: (record, policy, input or None) -> the reasons the rule does not hold.
Guard = Callable[[CaseRecord, Policy, Input | None], Iterator[Blocker]]

_REGISTRY: dict[str, Guard] = {}


def _guard(fn: Guard) -> Guard:
    _REGISTRY[fn.__name__] = fn
    return fn


def _block(code: str, message: str, subject: str | None = None) -> Blocker:
    # The guard's name is filled in by ``evaluate``; guards say code, message and subject.
    return Blocker(code, message, "", subject)


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if m else f"{h} h"


# -- the programme and its stages --------------------------------------------------------------


@_guard
def offender_sentenced(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The programme starts once the offender is sentenced (seed)."""
    if rec.sentenced_on is None:
        yield _block(
            "offender_not_sentenced",
            "The offender's sentence has not been recorded; the programme starts once the "
            "offender is sentenced. Record the sentence date first.",
        )


@_guard
def lead_facilitator_assigned(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """A trained facilitator leads the programme (seed)."""
    if rec.facilitator(rec.lead_facilitator) is None:
        yield _block(
            "no_lead_facilitator",
            "No lead facilitator is assigned; assign one of the case's trained facilitators.",
        )


@_guard
def stage_session_held(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The sessions run in order: each stage holds at least one session before the next (seed);
    reviews hold ``Policy.min_review_sessions``."""
    needed = policy.min_review_sessions if rec.state is State.REVIEW else 1
    held = rec.sessions_held_in(rec.state)
    if held < needed:
        kind = STATES[rec.state].session_kind
        label = kind.value.replace("_", " ") if kind else rec.state.label
        if held == 0 and needed == 1:
            message = (
                f"No {label} session has been attended yet; record an attended {label} "
                "session before the case moves on."
            )
        else:
            message = (
                f"The {label} stage needs {needed} attended sessions before the case moves on "
                f"and {held} has been held; record another attended {label} session."
            )
        yield _block("stage_session_missing", message)


@_guard
def sessions_remaining(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The programme has at most ``Policy.max_sessions`` attended sessions (seed)."""
    if isinstance(inp, RecordSession) and not inp.duration:
        return  # a missed session does not use one of the programme's sessions
    if rec.sessions_held >= policy.max_sessions:
        yield _block(
            "session_limit_reached",
            f"All {policy.max_sessions} sessions of the programme have been held; no further "
            "session can take place. Complete the case if it is ready, or close it.",
        )


@_guard
def session_length_within_limit(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """Each session lasts up to ``Policy.max_session_length`` (seed: three hours)."""
    if isinstance(inp, RecordSession) and inp.duration > policy.max_session_length:
        limit = _hours(policy.max_session_length.total_seconds())
        yield _block(
            "session_too_long",
            f"A session lasts at most {limit}; this one was given as "
            f"{_hours(inp.duration.total_seconds())}. Correct the duration, or record the "
            "time as two sessions.",
        )


@_guard
def not_referred_for_enforcement(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """After ``Policy.max_unacceptable_absences`` unacceptable absences the case is referred
    for enforcement and the programme pauses (practice, inferred)."""
    if rec.unacceptable_absences >= policy.max_unacceptable_absences:
        yield _block(
            "referred_for_enforcement",
            f"The offender has missed {rec.unacceptable_absences} sessions without an acceptable "
            "reason, so the case is referred for enforcement. Close the case with the reason "
            "'enforcement'.",
        )


# -- the offence -------------------------------------------------------------------------------


@_guard
def offence_eligible_for_conference(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """A conference only for a violent offence, household burglary, or an offence where direct
    personal harm was caused (seed; ``Policy.conference_categories``)."""
    off = rec.offence
    if off.category in policy.conference_categories:
        return
    if off.direct_personal_harm and policy.conference_for_direct_personal_harm:
        return
    allowed = " or ".join(sorted(c.label for c in policy.conference_categories))
    harm = (
        ", or an offence that caused direct personal harm"
        if policy.conference_for_direct_personal_harm
        else ""
    )
    yield _block(
        "offence_not_eligible",
        f"A conference is only for {allowed}{harm}; this case's offence ({off.category.label}) "
        "is not. Offer a letter of apology or shuttle mediation instead.",
    )


@_guard
def offence_not_excluded(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """This service excludes contact for some offences where offender and victim are likely to
    have ongoing contact (London CRC; ``Policy.excluded_with_ongoing_contact``)."""
    off = rec.offence
    if off.ongoing_contact and off.category in policy.excluded_with_ongoing_contact:
        yield _block(
            "offence_excluded",
            f"This service excludes {off.category.label} offences where offender and victim "
            "are likely to have ongoing contact, so no contact can take place. Close the case "
            "as unsuitable.",
        )


# -- the offender ------------------------------------------------------------------------------


@_guard
def responsibility_acknowledged(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """The offender acknowledges the basic facts and takes responsibility before any contact
    with the victim (practice)."""
    if rec.acknowledgement is None:
        yield _block(
            "responsibility_not_acknowledged",
            "The offender has not acknowledged the basic facts and taken responsibility; record "
            "the acknowledgement before any contact with the victim.",
        )


@_guard
def not_yet_acknowledged(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The acknowledgement is recorded once."""
    if rec.acknowledgement is not None:
        yield _block(
            "already_acknowledged",
            "The offender's acknowledgement of responsibility is already recorded.",
        )


@_guard
def guilty_plea_recorded(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """London CRC also requires a guilty plea (``Policy.require_guilty_plea``)."""
    if (
        policy.require_guilty_plea
        and isinstance(inp, RecordAcknowledgement)
        and not inp.guilty_plea
    ):
        yield _block(
            "guilty_plea_required",
            "This service requires a guilty plea as well as acknowledging responsibility; "
            "without one the case is unsuitable and should be closed as such.",
        )


# -- risk and facilitators ---------------------------------------------------------------------


@_guard
def risk_assessment_favourable(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """A favourable suitability and risk assessment is in force before contact; sensitive
    offences need an enhanced one signed off by a manager (practice)."""
    latest = rec.risk_assessment
    if latest is None:
        yield _block(
            "risk_not_assessed",
            "No suitability and risk assessment is recorded; a facilitator must assess risk "
            "before any contact.",
        )
        return
    if latest.outcome is not RiskOutcome.FAVOURABLE:
        yield _block(
            "risk_unfavourable",
            "The latest risk assessment is unfavourable, so contact cannot go ahead. Reassess "
            "when circumstances change, or close the case as unsuitable.",
        )
    if policy.is_sensitive(rec.offence.category) and (
        not latest.enhanced or latest.approved_by is None
    ):
        yield _block(
            "enhanced_risk_assessment_needed",
            f"A {rec.offence.category.label} offence is sensitive: contact needs an enhanced "
            "risk assessment signed off by a manager. Record one.",
        )


@_guard
def lead_facilitator_qualified(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """Contact is led by an intermediate or advanced practitioner; sensitive cases need an
    advanced one with specialist training in the area (practice; ``Policy.min_lead_level``,
    ``Policy.min_sensitive_lead_level``, ``Policy.sensitive_needs_specialism``)."""
    lead = rec.facilitator(rec.lead_facilitator)
    if lead is None:
        yield from lead_facilitator_assigned(rec, policy, inp)
        return
    sensitive = policy.is_sensitive(rec.offence.category)
    needed = policy.min_sensitive_lead_level if sensitive else policy.min_lead_level
    if lead.level < needed:
        why = f"a {rec.offence.category.label} case" if sensitive else "this activity"
        yield _block(
            "lead_facilitator_level_too_low",
            f"Lead facilitator {lead.id} is a {lead.level.label} practitioner; {why} must be "
            f"led by an {needed.label} practitioner or above. Assign another lead facilitator.",
            lead.id,
        )
    category = rec.offence.category
    if sensitive and policy.sensitive_needs_specialism and category.value not in lead.specialisms:
        yield _block(
            "lead_facilitator_not_trained",
            f"Lead facilitator {lead.id} has no specialist training for {category.label} cases; "
            "assign a lead facilitator who has it.",
            lead.id,
        )


# -- victims and consent -----------------------------------------------------------------------


def _conference_victims(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    if isinstance(inp, HoldConference):
        return inp.victims or tuple(v.id for v in rec.victims)
    if rec.conference is not None:
        return rec.conference.victims
    return tuple(v.id for v in rec.victims)


def _shuttle_victims(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    if isinstance(inp, RecordShuttleMessage):
        return (inp.victim,)
    return tuple(v.id for v in rec.victims if rec.consents_to(v.id, ContactActivity.SHUTTLE))


def _contact_victims(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    """The victims the action would bring into contact with the offender."""
    if rec.state is State.LETTER_OF_APOLOGY and rec.letter is not None:
        return (rec.letter.victim,)
    if isinstance(inp, RecordShuttleMessage) or rec.state is State.SHUTTLE_MEDIATION:
        return _shuttle_victims(rec, inp)
    if isinstance(inp, HoldConference) or rec.conference is not None:
        return _conference_victims(rec, inp)
    return tuple(v.id for v in rec.victims)


def _consent_blockers(
    rec: CaseRecord,
    who: str,
    party_id: str,
    activity: ContactActivity,
    otherwise: str = "Offer another activity, or close the case.",
) -> Iterator[Blocker]:
    status = rec.consent_status(party_id, activity)
    if status is ConsentStatus.GIVEN:
        return
    if status is None:
        yield _block(
            f"{who}_consent_missing",
            f"{who.capitalize()} {party_id} has not consented to {activity.label}; give them "
            "information about it and record their written consent first.",
            party_id,
        )
    elif status is ConsentStatus.DECLINED:
        yield _block(
            f"{who}_declined",
            f"{who.capitalize()} {party_id} declined {activity.label}; it cannot go ahead with "
            f"them. {otherwise}",
            party_id,
        )
    else:
        yield _block(
            f"{who}_consent_withdrawn",
            f"{who.capitalize()} {party_id} withdrew consent to {activity.label}; it cannot go "
            f"ahead with them. {otherwise}",
            party_id,
        )


def _known_victims(rec: CaseRecord, ids: tuple[str, ...]) -> Iterator[Blocker]:
    for vid in ids:
        if not isinstance(rec.party(vid), Victim):
            yield _block(
                "unknown_victim",
                f"Party {vid} is not a victim on this case; add them as a victim first, or correct "
                "the id.",
                vid,
            )


@_guard
def victims_consent_face_to_face(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """Every victim who is to meet the offender has given informed consent to a face-to-face
    meeting, and it is in force (seed, practice)."""
    ids = _conference_victims(rec, inp)
    unknown = list(_known_victims(rec, ids))
    yield from unknown
    if unknown:
        return
    for vid in ids:
        yield from _consent_blockers(rec, "victim", vid, ContactActivity.FACE_TO_FACE)
    if isinstance(inp, HoldConference) and inp.supporters is not None:
        for sid in inp.supporters:
            sup = rec.party(sid)
            if not isinstance(sup, Supporter) or sup.supports not in (*ids, rec.offender.id):
                yield _block(
                    "unknown_supporter",
                    f"Party {sid} is not a supporter of anyone at this conference; list only "
                    "supporters of the victims present or of the offender.",
                    sid,
                )


@_guard
def offender_consents_face_to_face(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """The offender agrees to meet the victim (practice: participation is voluntary)."""
    yield from _consent_blockers(rec, "offender", rec.offender.id, ContactActivity.FACE_TO_FACE)


@_guard
def conference_consent_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """A conference session takes place only while everyone's consent is in force: a
    withdrawal blocks it at once (practice)."""
    if rec.state is not State.CONFERENCE:
        return
    yield from victims_consent_face_to_face(rec, policy, None)
    yield from offender_consents_face_to_face(rec, policy, None)


@_guard
def victims_consent_shuttle(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """Shuttle mediation only with a victim's informed consent to indirect contact, in force
    (seed, practice)."""
    ids = _shuttle_victims(rec, inp)
    if isinstance(inp, RecordShuttleMessage):
        if isinstance(rec.party(inp.victim), Victim):
            yield from _consent_blockers(rec, "victim", inp.victim, ContactActivity.SHUTTLE)
        return
    if not ids:
        yield _block(
            "victim_consent_missing",
            f"No victim has consented to {ContactActivity.SHUTTLE.label}; give a victim "
            "information about it and record their written consent first.",
        )


@_guard
def offender_consents_shuttle(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """The offender agrees to shuttle mediation (practice: participation is voluntary)."""
    yield from _consent_blockers(rec, "offender", rec.offender.id, ContactActivity.SHUTTLE)


@_guard
def sexual_harm_victim_request(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """For sexual harm, contact only when the victim asked for it (practice;
    ``Policy.sexual_harm_needs_victim_request``)."""
    if not policy.sexual_harm_needs_victim_request:
        return
    if rec.offence.category is not OffenceCategory.SEXUAL_OFFENCE:
        return
    for vid in _contact_victims(rec, inp):
        victim = rec.party(vid)
        if isinstance(victim, Victim) and not victim.requested_rj:
            yield _block(
                "victim_did_not_request",
                f"For sexual harm, contact happens only when the victim asked for restorative "
                f"justice, and victim {vid} has not. Do not approach them about it.",
                vid,
            )


@_guard
def victim_known(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The victim named in the input is a victim on this case."""
    if isinstance(inp, DraftLetter | RecordShuttleMessage):
        yield from _known_victims(rec, (inp.victim,))


@_guard
def party_can_consent(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Consent is given by the offender or a victim; a letter is received by a victim only."""
    if not isinstance(inp, ConsentInput):
        return
    party = rec.party(inp.party)
    if party is None:
        yield _block(
            "unknown_party",
            f"Party {inp.party} is not a party to this case; add them first, or correct the id.",
            inp.party,
        )
    elif not isinstance(party, Offender | Victim) or (
        inp.activity is ContactActivity.RECEIVE_LETTER and not isinstance(party, Victim)
    ):
        who = (
            "a victim"
            if inp.activity is ContactActivity.RECEIVE_LETTER
            else "a victim or the offender"
        )
        yield _block(
            "party_cannot_consent",
            f"Party {inp.party} is a {party.role.value}; consent to {inp.activity.label} is given "
            "by "
            f"{who}.",
        )


@_guard
def party_not_declined(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """A person who declined is not contacted again about it (practice)."""
    if not isinstance(inp, ConsentInput):
        return
    if rec.consent_status(inp.party, inp.activity) is ConsentStatus.DECLINED:
        yield _block(
            "party_declined",
            f"Party {inp.party} declined {inp.activity.label} and must not be contacted again "
            "about it.",
        )


@_guard
def information_given(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Information about the process, its outcomes and monitoring comes before consent
    (practice; ``Policy.information_before_consent``)."""
    if not policy.information_before_consent or not isinstance(inp, ConsentInput):
        return
    if not rec.informed_about(inp.party, inp.activity):
        yield _block(
            "information_not_given",
            f"Party {inp.party} has not been given information about {inp.activity.label}; explain "
            "the process, its possible outcomes and how an agreement is monitored, record that, "
            "then record consent.",
        )


@_guard
def consent_not_in_force(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Consent is recorded once; it stays in force until withdrawn."""
    if isinstance(inp, ConsentInput) and rec.consents_to(inp.party, inp.activity):
        yield _block(
            "consent_already_given",
            f"Party {inp.party}'s consent to {inp.activity.label} is already recorded and in "
            "force.",
        )


@_guard
def consent_in_force(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Only consent that is in force can be withdrawn."""
    if inp is None and not any(rec.consents_to(c.party, c.activity) for c in rec.consents):
        yield _block(
            "no_consent_to_withdraw",
            "No one's consent is in force, so there is nothing to withdraw.",
        )
    if isinstance(inp, ConsentInput) and not rec.consents_to(inp.party, inp.activity):
        yield _block(
            "no_consent_to_withdraw",
            f"Party {inp.party} has no consent to {inp.activity.label} in force, so there is "
            "nothing "
            "to withdraw. To record a refusal, record a decline.",
        )


# -- parties -----------------------------------------------------------------------------------


@_guard
def party_id_free(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Each party has its own id; a supporter supports someone on the case."""
    if not isinstance(inp, AddParty):
        return
    if rec.party(inp.party.id) is not None:
        yield _block(
            "party_id_taken",
            f"Id {inp.party.id} is already used by a party to this case; give the new party its "
            "own id.",
        )
    if isinstance(inp.party, Supporter) and rec.party(inp.party.supports) is None:
        yield _block(
            "unknown_party",
            f"Supporter {inp.party.id} supports {inp.party.supports}, who is not a party to this "
            "case; add that party first, or correct the id.",
        )


@_guard
def party_is_facilitator(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The lead facilitator is one of the case's facilitators."""
    if isinstance(inp, AssignLeadFacilitator) and rec.facilitator(inp.facilitator) is None:
        yield _block(
            "not_a_facilitator",
            f"Party {inp.facilitator} is not a facilitator on this case; add them as a facilitator "
            "first.",
        )


@_guard
def participant_known(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Feedback comes from the offender, a victim or a supporter on the case."""
    if isinstance(inp, RecordFeedback) and not isinstance(
        rec.party(inp.party), Offender | Victim | Supporter
    ):
        yield _block(
            "unknown_participant",
            f"Party {inp.party} is not a participant (offender, victim or supporter) on this case.",
        )


# -- letter of apology -------------------------------------------------------------------------


def _letter_blocker(rec: CaseRecord, wanted: LetterStatus, next_step: str) -> Iterator[Blocker]:
    letter = rec.letter
    status = letter.status if letter is not None else None
    if status is not wanted:
        now = "not drafted yet" if status is None else status.value.replace("_", " ")
        yield _block(
            "letter_not_ready",
            f"The letter of apology is {now}; {next_step}",
        )


@_guard
def letter_not_started(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """One letter of apology per case."""
    if rec.letter is not None:
        yield _block("letter_already_drafted", "The letter of apology is already drafted.")


@_guard
def letter_drafted(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The facilitator reviews a drafted letter (practice)."""
    yield from _letter_blocker(rec, LetterStatus.DRAFTED, "it must be drafted before review.")


@_guard
def letter_reviewed(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """A letter is delivered or held on file only after the facilitator reviewed it
    (practice)."""
    yield from _letter_blocker(
        rec,
        LetterStatus.REVIEWED,
        "the facilitator must review it before it is delivered or held on file.",
    )


@_guard
def victim_consents_to_letter(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """A letter is delivered only with the victim's prior informed agreement; otherwise it is
    held on file (practice)."""
    if rec.letter is not None:
        yield from _consent_blockers(
            rec,
            "victim",
            rec.letter.victim,
            ContactActivity.RECEIVE_LETTER,
            "Hold the letter on file instead.",
        )


# -- shuttle, agreement, reviews ---------------------------------------------------------------


@_guard
def activity_concluded(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The activity has run its course: the letter delivered or held on file; at least one
    shuttle message carried."""
    if rec.state is State.LETTER_OF_APOLOGY and (
        rec.letter is None
        or rec.letter.status not in (LetterStatus.DELIVERED, LetterStatus.HELD_ON_FILE)
    ):
        yield _block(
            "letter_not_settled",
            "The letter of apology has not been delivered or held on file yet; settle it "
            "before reviews start.",
        )
    if rec.state is State.SHUTTLE_MEDIATION and not rec.shuttle_messages:
        yield _block(
            "no_shuttle_messages",
            "No shuttle message has been carried yet; record at least one before reviews start.",
        )


@_guard
def agreement_settled(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """An outcome agreement binds only when signed by all parties (seed); one that is not
    fully signed must be completed or set aside."""
    if rec.agreement is not None and not rec.agreement.binding:
        unsigned = ", ".join(rec.agreement.unsigned)
        yield _block(
            "agreement_unsigned",
            f"The outcome agreement is not signed by every participant yet (unsigned: "
            f"{unsigned}); collect the signatures, or set the agreement aside.",
            rec.agreement.unsigned[0],
        )


@_guard
def agreement_not_binding(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """A signed agreement is final."""
    if rec.agreement is not None and rec.agreement.binding:
        yield _block(
            "agreement_binding",
            "The outcome agreement is signed by everyone and binding; it cannot be replaced or "
            "set aside.",
        )


@_guard
def agreement_proposed(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """There is an outcome agreement to act on."""
    if rec.agreement is None:
        yield _block("no_agreement", "No outcome agreement has been proposed yet.")


@_guard
def responsible_parties_known(
    rec: CaseRecord, policy: Policy, inp: Input | None
) -> Iterator[Blocker]:
    """Each action names a party on the case as responsible for it."""
    if not isinstance(inp, ProposeAgreement):
        return
    for act in inp.actions:
        if rec.party(act.responsible) is None:
            yield _block(
                "unknown_party",
                f"Agreement action {act.id} names {act.responsible} as responsible, who is not a "
                "party to this case.",
            )


@_guard
def signatory_may_sign(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Every participant signs, once."""
    if rec.agreement is None:
        return
    if inp is None and rec.agreement.binding:
        yield _block("already_signed", "Every participant has already signed the agreement.")
    if not isinstance(inp, SignAgreement):
        return
    if inp.party not in rec.agreement.signatories:
        yield _block(
            "not_a_signatory",
            f"Party {inp.party} is not a participant asked to sign this agreement.",
        )
    elif inp.party not in rec.agreement.unsigned:
        yield _block("already_signed", f"{inp.party} has already signed the agreement.")


@_guard
def agreement_action_known(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """Progress is recorded on the actions of a binding agreement."""
    if rec.agreement is None or not rec.agreement.binding:
        yield _block(
            "no_binding_agreement",
            "There is no signed outcome agreement whose progress could be reviewed.",
        )
        return
    if isinstance(inp, RecordProgress) and rec.agreement.action(inp.action_id) is None:
        yield _block(
            "unknown_agreement_action",
            f"The agreement has no action {inp.action_id}; use one of its action ids.",
        )


@_guard
def agreement_fulfilled(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """The programme completes when every agreed action is done (seed: reviews of progress on
    the agreement)."""
    if rec.agreement is None:
        return
    outstanding = [
        a.id for a in rec.agreement.actions if rec.action_status(a.id) is not ActionStatus.DONE
    ]
    if outstanding:
        yield _block(
            "agreement_actions_outstanding",
            f"Agreement action(s) {', '.join(outstanding)} are not done yet; record progress at a "
            "review, or close the case (enforcement) if they were not complied with.",
            outstanding[0],
        )


@_guard
def closure_reason_valid(rec: CaseRecord, policy: Policy, inp: Input | None) -> Iterator[Blocker]:
    """A closure has a reason from the fixed list; 'other' needs a note (practice, inferred)."""
    if not isinstance(inp, Close):
        return
    if inp.reason is ClosureReason.COMPLETED:
        yield _block(
            "use_complete",
            "A case is completed with the 'complete' action once its reviews are done; close is "
            "for ending a case early, with another reason.",
        )
    elif inp.reason is ClosureReason.OTHER and not (inp.note or "").strip():
        yield _block(
            "closure_note_required",
            "Closing for an 'other' reason needs a note saying why; add a note.",
        )


#: Every guard, by the name the workflow table uses.
GUARDS: Mapping[str, Guard] = MappingProxyType(dict(_REGISTRY))


def evaluate(
    names: tuple[str, ...], rec: CaseRecord, policy: Policy, inp: Input | None
) -> list[Blocker]:
    """Every blocker the named guards raise, each stamped with its guard's name."""
    return run_guards(resolve(names), rec, policy, inp)


def resolve(names: tuple[str, ...]) -> tuple[tuple[str, Guard], ...]:
    """The named guards, looked up once (a workflow does this when it is built)."""
    return tuple((name, _REGISTRY[name]) for name in names)


def run_guards(
    guards: tuple[tuple[str, Guard], ...], rec: CaseRecord, policy: Policy, inp: Input | None
) -> list[Blocker]:
    """Every blocker ``guards`` (from :func:`resolve`) raise, stamped with the guard's name."""
    found: list[Blocker] = []
    for name, guard in guards:
        for b in guard(rec, policy, inp):
            found.append(Blocker(b.code, b.message, name, b.subject))
    return found
