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
    Agreement,
    Closure,
    ClosureReason,
    Conference,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    Feedback,
    InformationGiven,
    Letter,
    LetterStatus,
    MaterialChange,
    MaterialChangeKind,
    ProgressUpdate,
    RiskAssessment,
    Session,
    ShuttleMessage,
    Signature,
)
from rjflow.commands import (
    AddParty,
    ApproveRiskAssessment,
    AssessRisk,
    AssignLeadFacilitator,
    Close,
    ConsentInput,
    DraftLetter,
    HoldConference,
    Input,
    OpenCase,
    ProposeAgreement,
    RecordAcknowledgement,
    RecordFeedback,
    RecordNewInformation,
    RecordProgress,
    RecordSentence,
    RecordSession,
    RecordShuttleMessage,
    SignAgreement,
)
from rjflow.parties import Facilitator, Staff
from rjflow.record import CaseRecord
from rjflow.states import STATES, State

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
    return {"closure": Closure(ClosureReason.COMPLETED, at)}


@_effect("close")
def _close(rec: CaseRecord, inp: Close, at: datetime, actor: str) -> dict[str, Any]:
    return {"closure": Closure(inp.reason, at, inp.note)}


@_effect("hold_conference")
def _hold_conference(
    rec: CaseRecord, inp: HoldConference, at: datetime, actor: str
) -> dict[str, Any]:
    victims = inp.victims or tuple(v.id for v in rec.victims)
    if inp.supporters is not None:
        supporters = inp.supporters
    else:
        present = (*victims, rec.offender.id)
        supporters = tuple(s.id for s in rec.supporters if s.supports in present)
    lead = rec.lead_facilitator
    assert lead is not None  # the lead_facilitator_qualified guard has passed
    return {"conference": Conference(at, lead, victims, supporters)}


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
    given = InformationGiven(inp.party, inp.activity, at, actor)
    return {"information": (*rec.information, given)}


def _decide(status: ConsentStatus) -> Effect:
    def decide(rec: CaseRecord, inp: ConsentInput, at: datetime, actor: str) -> dict[str, Any]:
        decision = ConsentDecision(inp.party, inp.activity, status, at, actor)
        return {"consents": (*rec.consents, decision)}

    return decide


_effect("record_consent")(_decide(ConsentStatus.GIVEN))
_effect("record_decline")(_decide(ConsentStatus.DECLINED))
_effect("withdraw_consent")(_decide(ConsentStatus.WITHDRAWN))


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
    return {"letter": Letter(inp.victim, LetterStatus.DRAFTED, at)}


def _letter_to(status: LetterStatus) -> Effect:
    def settle(rec: CaseRecord, inp: Input, at: datetime, actor: str) -> dict[str, Any]:
        assert rec.letter is not None  # the letter guards have passed
        if status is LetterStatus.REVIEWED:
            return {"letter": attrs.evolve(rec.letter, status=status, reviewed_by=actor)}
        return {"letter": attrs.evolve(rec.letter, status=status, settled_at=at)}

    return settle


_effect("review_letter")(_letter_to(LetterStatus.REVIEWED))
_effect("deliver_letter")(_letter_to(LetterStatus.DELIVERED))
_effect("hold_letter_on_file")(_letter_to(LetterStatus.HELD_ON_FILE))


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
    return {"agreement": Agreement(at, inp.actions, _signatories(rec))}


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

# -- end of safeguarding --------------------------------------------------------------------

#: Every action's effect, by action name.
EFFECTS: Mapping[str, Effect] = MappingProxyType(dict(_REGISTRY))
