"""Effects: how an accepted action changes the case record.

Each effect is a pure function of (record, input, time, actor) returning the fields that
change.  It runs only after every guard has passed, so it never refuses; the engine applies
the changes, the new stage and the new version in one step, so a case is never half-changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from rjflow.activities import (
    Acknowledgement,
    ActionStatus,
    Agreement,
    Attendance,
    BreachDecision,
    Closure,
    ClosureReason,
    Conference,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    Feedback,
    FollowUp,
    InformationGiven,
    Letter,
    LetterStatus,
    MaterialChange,
    MaterialChangeKind,
    PartyRequest,
    ProgressUpdate,
    RiskAssessment,
    Session,
    SessionKind,
    ShuttleMessage,
    Signature,
    SupporterAcceptance,
    VictimUpdate,
    VictimWish,
)
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
    Input,
    LetterInput,
    OpenCase,
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
from rjflow.parties import Facilitator, Staff
from rjflow.record import CaseRecord
from rjflow.rules.consent import activities_of, attending_supporters
from rjflow.states import ACTIONS, STATES, State

__all__ = ["EFFECTS", "Effect", "open_record"]

#: An effect: (record, input, at, actor) -> the record's changed fields.
Effect = Callable[[CaseRecord, Any, datetime, str], dict[str, Any]]

_REGISTRY: dict[str, Effect] = {}


def _effect(*names: str) -> Callable[[Effect], Effect]:
    def register(fn: Effect) -> Effect:
        for name in names:
            _REGISTRY[name] = fn
        return fn

    return register


def open_record(case_id: str, inp: OpenCase, at: datetime) -> CaseRecord:
    """The record of a newly referred case (version 1: the opening event)."""
    return CaseRecord(
        case_id=case_id,
        state=State.REFERRED,
        offence=inp.offence,
        parties=(*inp.parties, *(inp.staff or ())),
        opened_at=at,
        updated_at=at,
        version=1,
        sentenced_on=inp.sentenced_on,
        lead_facilitator=inp.lead_facilitator,
        roles_on_record=inp.staff is not None,
    )


@_effect(
    "start_introduction",
    "start_preparation",
    "choose_letter_of_apology",
    "choose_shuttle_mediation",
    "start_reviews",
)
def _stage_only(rec: CaseRecord, inp: Input, at: datetime, actor: str) -> dict[str, Any]:
    return {}


@_effect("complete")
def _complete(rec: CaseRecord, inp: Input, at: datetime, actor: str) -> dict[str, Any]:
    # The outcome and the RJ type are computed from the record, so reports count them honestly.
    closure = Closure(ClosureReason.COMPLETED, at, None, rec.agreement_outcome(), rec.rj_type)
    return {"closure": closure}


@_effect("close")
def _close(rec: CaseRecord, inp: Close, at: datetime, actor: str) -> dict[str, Any]:
    closure = Closure(inp.reason, at, inp.note, rec.agreement_outcome(), rec.rj_type)
    return {"closure": closure}


@_effect("hold_conference")
def _hold_conference(
    rec: CaseRecord, inp: HoldConference, at: datetime, actor: str
) -> dict[str, Any]:
    victims = inp.victims or tuple(v.id for v in rec.victims)
    supporters = attending_supporters(rec, victims, inp.supporters)
    lead = rec.lead_facilitator
    assert lead is not None  # the lead_facilitator_qualified guard has passed
    # The conference is its own session (issue 14): it counts towards the programme's limit.
    session = Session(
        len(rec.sessions) + 1, SessionKind.CONFERENCE, at, inp.duration, Attendance.ATTENDED, actor
    )
    return {
        "conference": Conference(at, lead, victims, supporters),
        "sessions": (*rec.sessions, session),
    }


@_effect("record_sentence")
def _record_sentence(
    rec: CaseRecord, inp: RecordSentence, at: datetime, actor: str
) -> dict[str, Any]:
    return {"sentenced_on": inp.sentenced_on}


@_effect("add_party")
def _add_party(rec: CaseRecord, inp: AddParty, at: datetime, actor: str) -> dict[str, Any]:
    return {"parties": (*rec.parties, inp.party)}


@_effect("assign_lead_facilitator")
def _assign_lead(
    rec: CaseRecord, inp: AssignLeadFacilitator, at: datetime, actor: str
) -> dict[str, Any]:
    return {"lead_facilitator": inp.facilitator}


@_effect("record_session")
def _record_session(
    rec: CaseRecord, inp: RecordSession, at: datetime, actor: str
) -> dict[str, Any]:
    kind = STATES[rec.state].session_kind
    assert kind is not None  # the table allows sessions only in stages that hold them
    session = Session(len(rec.sessions) + 1, kind, at, inp.duration, inp.attendance, actor)
    return {"sessions": (*rec.sessions, session)}


@_effect("give_information")
def _give_information(
    rec: CaseRecord, inp: ConsentInput, at: datetime, actor: str
) -> dict[str, Any]:
    given = InformationGiven(inp.party, inp.activity, at, actor, inp.interpreter_provided)
    return {"information": (*rec.information, given)}


def _decide(status: ConsentStatus) -> Effect:
    def decide(rec: CaseRecord, inp: ConsentInput, at: datetime, actor: str) -> dict[str, Any]:
        decision = ConsentDecision(
            inp.party, inp.activity, status, at, actor, inp.interpreter_provided
        )
        return {"consents": (*rec.consents, decision)}

    return decide


_effect("record_consent")(_decide(ConsentStatus.GIVEN))
_effect("record_decline")(_decide(ConsentStatus.DECLINED))
_effect("withdraw_consent")(_decide(ConsentStatus.WITHDRAWN))


@_effect("decline_all")  # issue 14 fixes: a general decline, in one step
def _decline_all(rec: CaseRecord, inp: DeclineAll, at: datetime, actor: str) -> dict[str, Any]:
    decisions = tuple(
        ConsentDecision(inp.party, a, ConsentStatus.DECLINED, at, actor, inp.interpreter_provided)
        for a in activities_of(rec, inp.party)
        if not rec.decline_stands(inp.party, a)
    )
    return {"consents": (*rec.consents, *decisions)}


@_effect("acknowledge_responsibility")
def _acknowledge(
    rec: CaseRecord, inp: RecordAcknowledgement, at: datetime, actor: str
) -> dict[str, Any]:
    return {"acknowledgement": Acknowledgement(at, actor, inp.guilty_plea)}


@_effect("assess_risk")
def _assess_risk(rec: CaseRecord, inp: AssessRisk, at: datetime, actor: str) -> dict[str, Any]:
    approved_at = at if inp.approved_by is not None else None
    assessment = RiskAssessment(
        at,
        actor,
        inp.outcome,
        inp.enhanced,
        inp.approved_by,
        inp.subject,
        rec.version + 1,
        approved_at,
    )
    return {"risk_assessments": (*rec.risk_assessments, assessment)}


@_effect("draft_letter")
def _draft_letter(rec: CaseRecord, inp: DraftLetter, at: datetime, actor: str) -> dict[str, Any]:
    old = rec.letter_to(inp.victim)
    if old is None:
        return {"letters": (*rec.letters, Letter(inp.victim, LetterStatus.DRAFTED, at))}
    # A letter returned for a redraft (the letter_not_started guard has passed).
    redraft = Letter(inp.victim, LetterStatus.DRAFTED, at, drafts=old.drafts + 1)
    return {"letters": tuple(redraft if x is old else x for x in rec.letters)}


def _target_letter(rec: CaseRecord, inp: Input) -> Letter:
    victim = inp.victim if isinstance(inp, LetterInput | ReviewLetter) else None
    letter = rec.letter_to(victim) if victim is not None else rec.letters[0]
    assert letter is not None  # the letter guards have passed
    return letter


def _with_letter(rec: CaseRecord, old: Letter, new: Letter) -> dict[str, Any]:
    return {"letters": tuple(new if x is old else x for x in rec.letters)}


@_effect("review_letter")
def _review_letter(rec: CaseRecord, inp: ReviewLetter, at: datetime, actor: str) -> dict[str, Any]:
    old = _target_letter(rec, inp)
    status = LetterStatus.REVIEWED if inp.approved else LetterStatus.RETURNED
    return _with_letter(rec, old, attrs.evolve(old, status=status, reviewed_by=actor))


@_effect("deliver_letter")
def _deliver_letter(rec: CaseRecord, inp: LetterInput, at: datetime, actor: str) -> dict[str, Any]:
    old = _target_letter(rec, inp)
    changes = _with_letter(
        rec, old, attrs.evolve(old, status=LetterStatus.DELIVERED, settled_at=at)
    )
    if rec.closure is not None:  # delivered after the end (issue 14 fixes): report it honestly
        rj_type = rec.updated(letters=changes["letters"]).rj_type
        changes["closure"] = attrs.evolve(rec.closure, rj_type=rj_type)
    return changes


@_effect("hold_letter_on_file")
def _hold_letter(rec: CaseRecord, inp: LetterInput, at: datetime, actor: str) -> dict[str, Any]:
    old = _target_letter(rec, inp)
    held = attrs.evolve(old, status=LetterStatus.HELD_ON_FILE, settled_at=at, held_at=at)
    return _with_letter(rec, old, held)


@_effect("record_shuttle_message")
def _shuttle_message(
    rec: CaseRecord, inp: RecordShuttleMessage, at: datetime, actor: str
) -> dict[str, Any]:
    message = ShuttleMessage(len(rec.shuttle_messages) + 1, inp.victim, inp.direction, at, actor)
    return {"shuttle_messages": (*rec.shuttle_messages, message)}


def _signatories(rec: CaseRecord) -> tuple[str, ...]:
    """Everyone who took part: the offender, the victims and supporters present."""
    if rec.state is State.CONFERENCE and rec.conference is not None:
        return (rec.offender.id, *rec.conference.victims, *rec.conference.supporters)
    victims = tuple(v.id for v in rec.victims if rec.consents_to(v.id, ContactActivity.SHUTTLE))
    return (rec.offender.id, *victims)


@_effect("propose_agreement")
def _propose(rec: CaseRecord, inp: ProposeAgreement, at: datetime, actor: str) -> dict[str, Any]:
    activity = (
        ContactActivity.FACE_TO_FACE if rec.state is State.CONFERENCE else ContactActivity.SHUTTLE
    )
    agreement = Agreement(at, inp.actions, _signatories(rec), (), activity, rec.lead_facilitator, 0)
    return {"agreement": agreement}


@_effect("sign_agreement")
def _sign(rec: CaseRecord, inp: SignAgreement, at: datetime, actor: str) -> dict[str, Any]:
    agreement = rec.agreement
    assert agreement is not None  # the agreement_proposed guard has passed
    signatures = (*agreement.signatures, Signature(inp.party, at))
    return {"agreement": attrs.evolve(agreement, signatures=signatures)}


@_effect("abandon_agreement")
def _abandon(rec: CaseRecord, inp: Input, at: datetime, actor: str) -> dict[str, Any]:
    return {"agreement": None}


@_effect("record_progress")
def _progress(rec: CaseRecord, inp: RecordProgress, at: datetime, actor: str) -> dict[str, Any]:
    update = ProgressUpdate(inp.action_id, inp.status, at, actor)
    return {"progress": (*rec.progress, update)}


@_effect("record_feedback")
def _feedback(rec: CaseRecord, inp: RecordFeedback, at: datetime, actor: str) -> dict[str, Any]:
    entry = Feedback(inp.party, inp.satisfaction, inp.things_changed, at)
    return {"feedback": (*rec.feedback, entry)}


# -- agreement, enforcement and evaluation (issue 14) ----------------------------------------


@_effect("vary_agreement")
def _vary(rec: CaseRecord, inp: VaryAgreement, at: datetime, actor: str) -> dict[str, Any]:
    agreement = rec.agreement
    assert agreement is not None  # the agreement_proposed guard has passed
    varied = attrs.evolve(
        agreement, actions=inp.actions, signatures=(), variations=agreement.variations + 1
    )
    # An action whose terms changed (or that comes back under an id used before) starts
    # again: its earlier status was for other terms.  An unchanged action keeps its status.
    current = {a.id: a for a in agreement.actions}
    restarted = tuple(
        ProgressUpdate(a.id, ActionStatus.NOT_STARTED, at, actor)
        for a in inp.actions
        if current.get(a.id) != a and rec.action_status(a.id) is not ActionStatus.NOT_STARTED
    )
    return {
        "agreement": varied,
        "progress": (*rec.progress, *restarted),
        "variation_of": agreement,  # the signed terms, in force again if this is withdrawn
        "variation_progress": len(rec.progress),
    }


@_effect("withdraw_variation")
def _withdraw_variation(rec: CaseRecord, inp: Input, at: datetime, actor: str) -> dict[str, Any]:
    signed = rec.variation_of
    assert signed is not None  # the variation_pending guard has passed
    # The actions the variation started again take back the status they had under the
    # signed terms (nothing else is recorded on an agreement that does not bind).
    before = {u.action_id: u.status for u in rec.progress[: rec.variation_progress]}
    restored = tuple(
        ProgressUpdate(a.id, before.get(a.id, ActionStatus.NOT_STARTED), at, actor)
        for a in signed.actions
        if rec.action_status(a.id) is not before.get(a.id, ActionStatus.NOT_STARTED)
    )
    return {
        "agreement": signed,
        "progress": (*rec.progress, *restored),
        "variation_of": None,
        "variation_progress": 0,
    }


@_effect("waive_agreement_action")
def _waive(rec: CaseRecord, inp: WaiveAgreementAction, at: datetime, actor: str) -> dict[str, Any]:
    update = ProgressUpdate(inp.action_id, ActionStatus.WAIVED, at, actor)
    return {"progress": (*rec.progress, update)}


@_effect("record_breach_outcome")
def _breach_outcome(
    rec: CaseRecord, inp: RecordBreachOutcome, at: datetime, actor: str
) -> dict[str, Any]:
    decision = BreachDecision(inp.outcome, at, actor)
    return {"breach_decisions": (*rec.breach_decisions, decision)}


@_effect("record_victim_wishes")
def _victim_wishes(
    rec: CaseRecord, inp: RecordVictimWishes, at: datetime, actor: str
) -> dict[str, Any]:
    wish = VictimWish(inp.victim, inp.keep_informed, at, actor)
    return {"victim_wishes": (*rec.victim_wishes, wish)}


@_effect("inform_victim")
def _inform_victim(rec: CaseRecord, inp: InformVictim, at: datetime, actor: str) -> dict[str, Any]:
    update = VictimUpdate(inp.victim, inp.about, at, actor)
    return {"victim_updates": (*rec.victim_updates, update)}


@_effect("record_follow_up")
def _follow_up(rec: CaseRecord, inp: RecordFollowUp, at: datetime, actor: str) -> dict[str, Any]:
    return {"follow_ups": (*rec.follow_ups, FollowUp(inp.party, at, actor))}


# -- change of mind, supporters (issue 14) ----------------------------------------------------


@_effect("record_request")
def _record_request(
    rec: CaseRecord, inp: RecordRequest, at: datetime, actor: str
) -> dict[str, Any]:
    request = PartyRequest(inp.party, inp.activity, at, actor, len(rec.consents))
    return {"requests": (*rec.requests, request)}


@_effect("accept_supporter")
def _accept_supporter(
    rec: CaseRecord, inp: AcceptSupporter, at: datetime, actor: str
) -> dict[str, Any]:
    answer = SupporterAcceptance(inp.supporter, inp.by, inp.accepted, at, actor)
    return {"supporter_acceptances": (*rec.supporter_acceptances, answer)}


# -- safeguarding (issue 14, D2) ---------------------------------------------------------------


@_effect("approve_risk_assessment")
def _approve_risk(
    rec: CaseRecord, inp: ApproveRiskAssessment, at: datetime, actor: str
) -> dict[str, Any]:
    assessments = list(rec.risk_assessments)
    for index in range(len(assessments) - 1, -1, -1):
        if assessments[index].subject == inp.subject:  # the one in force (the guards passed)
            assessments[index] = attrs.evolve(assessments[index], approved_by=actor, approved_at=at)
            break
    return {"risk_assessments": tuple(assessments)}


def _material(kind: MaterialChangeKind, rec: CaseRecord, at: datetime, subject: str | None) -> Any:
    change = MaterialChange(kind, at, rec.version + 1, subject)
    return (*rec.material_changes, change)


@_effect("record_new_information")
def _new_information(
    rec: CaseRecord, inp: RecordNewInformation, at: datetime, actor: str
) -> dict[str, Any]:
    kind = MaterialChangeKind.NEW_INFORMATION
    return {"material_changes": _material(kind, rec, at, inp.subject)}


def _with_material_change(name: str, change: Callable[[CaseRecord, Any], Any]) -> None:
    """Wrap ``name``'s effect so that it also records the material change ``change`` returns
    (a ``(kind, subject)`` pair, or None when the action changes nothing that bears on risk)."""
    base = _REGISTRY[name]

    def effect(rec: CaseRecord, inp: Any, at: datetime, actor: str) -> dict[str, Any]:
        changes = base(rec, inp, at, actor)
        found = change(rec, inp)
        if found is not None:
            changes["material_changes"] = _material(found[0], rec, at, found[1])
        return changes

    _REGISTRY[name] = effect


def _participant_added(rec: CaseRecord, inp: AddParty) -> Any:
    if isinstance(inp.party, Facilitator | Staff):
        return None  # staff joining do not change the risk between the participants
    return (MaterialChangeKind.PARTY_ADDED, None)  # everyone meets someone new: whole case


def _lead_changed(rec: CaseRecord, inp: AssignLeadFacilitator) -> Any:
    if inp.facilitator == rec.lead_facilitator or rec.lead_facilitator is None:
        return None  # the same lead again, or the first one: nothing changed
    return (MaterialChangeKind.LEAD_CHANGED, None)


def _consent_withdrawn(rec: CaseRecord, inp: ConsentInput) -> Any:
    return (MaterialChangeKind.CONSENT_WITHDRAWN, inp.party)


_with_material_change("add_party", _participant_added)
_with_material_change("assign_lead_facilitator", _lead_changed)
_with_material_change("withdraw_consent", _consent_withdrawn)


def _declined_in_force(rec: CaseRecord, inp: DeclineAll) -> Any:
    """A general decline withdraws any consent in force: a material change, as a withdrawal."""
    if any(rec.consents_to(inp.party, a) for a in activities_of(rec, inp.party)):
        return (MaterialChangeKind.CONSENT_WITHDRAWN, inp.party)
    return None


_with_material_change("decline_all", _declined_in_force)

# -- end of safeguarding --------------------------------------------------------------------

# -- late entry (issue 14 fixes): when the current stage began -------------------------------


def _entering(name: str) -> None:
    """Wrap stage-changing action ``name``'s effect so that it records when the new stage
    began: when the action happened (for an entry made late, its ``occurred_at``)."""
    base = _REGISTRY[name]

    def effect(rec: CaseRecord, inp: Any, at: datetime, actor: str) -> dict[str, Any]:
        return {**base(rec, inp, at, actor), "stage_entered_at": at}

    _REGISTRY[name] = effect


for _action in ACTIONS.values():
    if _action.dest is not None:
        _entering(_action.name)

#: Every action's effect, by action name.
EFFECTS: Mapping[str, Effect] = MappingProxyType(dict(_REGISTRY))
