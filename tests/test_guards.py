"""Every guard, both ways: a case where its rule is broken (it blocks, with its code) and a
case that differs only in what the rule needs (it does not)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from rjflow import (
    AgreementAction,
    Attendance,
    Case,
    ClosureReason,
    ContactActivity,
    Facilitator,
    Offence,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    RiskOutcome,
    Staff,
    StaffRole,
    State,
    Supporter,
    Victim,
)
from rjflow.history import event_hash
from rjflow.rules import GUARDS
from rjflow.serialization import loads

from .builders import T0, Clock, at_stage, consent, new_case, session

Setup = Callable[[], tuple[Case, Clock]]


@attrs.frozen
class Rule:
    guard: str
    code: str
    action: str
    blocked: Setup
    clear: Setup
    data: dict[str, Any] = attrs.Factory(dict)
    clear_data: dict[str, Any] | None = None
    actor: str | None = None  # issue 14: who asks (None: the role rule is not judged)


def then(setup: Setup, *steps: Callable[[Case, Clock], object]) -> Setup:
    def build() -> tuple[Case, Clock]:
        case, clock = setup()
        for step in steps:
            step(case, clock)
        return case, clock

    return build


def stage(s: State, **kw: Any) -> Setup:
    return lambda: at_stage(s, **kw)


def fresh(**kw: Any) -> Setup:
    return lambda: new_case(**kw)


def ack(case: Case, clock: Clock) -> None:
    case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")


def risk(outcome: RiskOutcome = RiskOutcome.FAVOURABLE, **kw: Any) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.assess_risk(outcome, at=clock(), actor="F1", **kw)


def consented(party: str, activity: ContactActivity) -> Callable[[Case, Clock], None]:
    return lambda case, clock: consent(case, clock, party, activity)


def informed(party: str, activity: ContactActivity) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.give_information(party, activity, at=clock(), actor="F1")


def declined(party: str, activity: ContactActivity) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.record_decline(party, activity, at=clock(), actor="F1")


def withdrew(party: str, activity: ContactActivity) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.withdraw_consent(party, activity, at=clock(), actor="F1")


def requested(party: str, activity: ContactActivity | None = None) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.record_request(party, activity, at=clock(), actor="F1")


def accepted(supporter: str, by: str) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.accept_supporter(supporter, by=by, at=clock(), actor="F1")


def hold(case: Case, clock: Clock) -> None:
    case.hold_letter_on_file(at=clock(), actor="F1")


def missed(case: Case, clock: Clock) -> None:
    case.record_session(
        duration=timedelta(0), attendance=Attendance.MISSED_UNACCEPTABLE, at=clock(), actor="F1"
    )


def sessions(n: int) -> Callable[[Case, Clock], None]:
    def run(case: Case, clock: Clock) -> None:
        for _ in range(n):
            session(case, clock)

    return run


def draft(case: Case, clock: Clock) -> None:
    case.draft_letter("V1", at=clock(), actor="F1")


def review(case: Case, clock: Clock) -> None:
    case.review_letter(at=clock(), actor="F1")


def propose(case: Case, clock: Clock) -> None:
    case.propose_agreement(
        [AgreementAction("A1", "Repair the garden gate", "O1", date(2026, 6, 1))],
        at=clock(),
        actor="F1",
    )


def sign_all(case: Case, clock: Clock) -> None:
    """Every signatory signs: the participants and the lead facilitator (policy default)."""
    assert case.record.agreement is not None
    for party in case.record.agreement_missing(case.policy):
        case.sign_agreement(party, at=clock(), actor="F1")


def vary(*ids: str) -> Callable[[Case, Clock], None]:
    """Vary the agreement to actions ``ids`` (nobody has signed the new terms yet)."""
    return lambda case, clock: case.vary_agreement(
        [AgreementAction(i, "Repair the garden gate", "O1", date(2026, 7, 1)) for i in ids],
        at=clock(),
        actor="F1",
    )


def to_reviews(case: Case, clock: Clock) -> None:
    session(case, clock)
    case.start_reviews(at=clock(), actor="F1")


F2F = ContactActivity.FACE_TO_FACE
SHUTTLE = ContactActivity.SHUTTLE
LETTER = ContactActivity.RECEIVE_LETTER
SEXUAL = OffenceCategory.SEXUAL_OFFENCE
prep = stage(State.PREPARATION)
prep_ready = then(
    prep, sessions(1), risk(), consented("O1", F2F), consented("V1", F2F)
)  # everything a conference needs
shuttle_ready = then(prep, sessions(1), risk(), consented("O1", SHUTTLE), consented("V1", SHUTTLE))
letter_stage = stage(State.LETTER_OF_APOLOGY)
conference = stage(State.CONFERENCE)
reviews = stage(State.REVIEW)
agreed_reviews = then(conference, session, propose, sign_all, to_reviews)
letter_held = then(letter_stage, draft, review, hold)  # issue 14 fixes


def progress(action_id: str, status: str) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.record_progress(action_id, status, at=clock(), actor="F1")


def waive(action_id: str) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.waive_agreement_action(action_id, at=clock(), actor="F1")


def wishes(case: Case, clock: Clock) -> None:
    case.record_victim_wishes("V1", keep_informed=True, at=clock(), actor="F1")


def told_conclusion(case: Case, clock: Clock) -> None:
    case.inform_victim("V1", about="conclusion", at=clock(), actor="F1")


def closed(case: Case, clock: Clock) -> None:
    case.close(reason=ClosureReason.UNSUITABLE, at=clock(), actor="F1")


def breach(outcome: str) -> Callable[[Case, Clock], Any]:
    return lambda case, clock: case.record_breach_outcome(outcome, at=clock(), actor="F1")


#: Two unacceptable absences within the window: a warning, then a referral for breach.
referred = then(stage(State.INTRODUCTION), missed, missed)
#: Ready to complete: the one action done, reviews held.
done_reviews = then(agreed_reviews, session, progress("A1", "done"))


def _without_lead() -> tuple[Case, Clock]:
    clock = Clock()
    case = Case.open(
        "C1",
        offence=Offence(OffenceCategory.VIOLENCE),
        offender="O1",
        victims=["V1"],
        sentenced_on=date(2026, 2, 1),
        at=clock(),
        actor="F1",
    )
    return case, clock


RULES = [
    Rule(
        "offender_sentenced",
        "offender_not_sentenced",
        "start_introduction",
        fresh(sentenced=False),
        fresh(),
    ),
    Rule(
        "lead_facilitator_assigned",
        "no_lead_facilitator",
        "start_introduction",
        _without_lead,
        fresh(),
    ),
    Rule(
        "stage_session_held",
        "stage_session_missing",
        "start_preparation",
        then(stage(State.INTRODUCTION), ack),
        then(stage(State.INTRODUCTION), ack, sessions(1)),
    ),
    Rule(
        "sessions_remaining",
        "session_limit_reached",
        "record_session",
        then(stage(State.INTRODUCTION), sessions(12)),
        then(stage(State.INTRODUCTION), sessions(11)),
        {"duration": timedelta(hours=1)},
    ),
    Rule(
        "session_length_within_limit",
        "session_too_long",
        "record_session",
        stage(State.INTRODUCTION),
        stage(State.INTRODUCTION),
        {"duration": timedelta(hours=3, minutes=1)},
        {"duration": timedelta(hours=3)},
    ),
    Rule(
        "not_referred_for_enforcement",
        "referred_for_enforcement",
        "record_session",
        then(stage(State.INTRODUCTION), missed, missed),
        then(stage(State.INTRODUCTION), missed),
        {"duration": timedelta(hours=1)},
    ),
    Rule(
        "offence_eligible_for_conference",
        "offence_not_eligible",
        "hold_conference",
        stage(State.PREPARATION, category=OffenceCategory.THEFT),
        stage(State.PREPARATION, category=OffenceCategory.THEFT, direct_personal_harm=True),
    ),
    Rule(
        "offence_not_excluded",
        "offence_excluded",
        "hold_conference",
        stage(State.PREPARATION, category=OffenceCategory.DOMESTIC_ABUSE, ongoing_contact=True),
        stage(State.PREPARATION, category=OffenceCategory.DOMESTIC_ABUSE),
    ),
    Rule(
        "responsibility_acknowledged",
        "responsibility_not_acknowledged",
        "start_preparation",
        then(stage(State.INTRODUCTION), sessions(1)),
        then(stage(State.INTRODUCTION), sessions(1), ack),
    ),
    Rule(
        "not_yet_acknowledged",
        "already_acknowledged",
        "acknowledge_responsibility",
        then(stage(State.INTRODUCTION), ack),
        stage(State.INTRODUCTION),
    ),
    Rule(
        "guilty_plea_recorded",
        "guilty_plea_required",
        "acknowledge_responsibility",
        stage(State.INTRODUCTION),
        stage(State.INTRODUCTION),
        {"guilty_plea": False},
        {"guilty_plea": True},
    ),
    Rule(
        "risk_assessment_favourable",
        "risk_unfavourable",
        "hold_conference",
        then(prep_ready, risk(RiskOutcome.UNFAVOURABLE)),
        then(prep_ready, risk(RiskOutcome.UNFAVOURABLE), risk()),
    ),
    Rule(
        "lead_facilitator_qualified",
        "lead_facilitator_level_too_low",
        "hold_conference",
        stage(State.PREPARATION, level=PractitionerLevel.FOUNDATION),
        stage(State.PREPARATION, level=PractitionerLevel.INTERMEDIATE),
    ),
    Rule(
        "victims_consent_face_to_face",
        "victim_consent_missing",
        "hold_conference",
        then(prep, consented("O1", F2F)),
        then(prep, consented("V1", F2F)),
    ),
    Rule(
        "offender_consents_face_to_face",
        "offender_consent_missing",
        "hold_conference",
        then(prep, consented("V1", F2F)),
        then(prep, consented("O1", F2F)),
    ),
    Rule(
        "conference_consent_in_force",
        "victim_consent_withdrawn",
        "record_session",
        then(conference, withdrew("V1", F2F)),
        conference,
        {"duration": timedelta(hours=2)},
    ),
    Rule(
        "victims_consent_shuttle",
        "victim_consent_missing",
        "choose_shuttle_mediation",
        then(prep, consented("O1", SHUTTLE)),
        then(prep, consented("V1", SHUTTLE)),
    ),
    Rule(
        "offender_consents_shuttle",
        "offender_declined",
        "choose_shuttle_mediation",
        then(prep, declined("O1", SHUTTLE)),
        then(prep, consented("O1", SHUTTLE)),
    ),
    Rule(
        "sexual_harm_victim_request",
        "victim_did_not_request",
        "hold_conference",
        stage(State.PREPARATION, category=SEXUAL),
        stage(State.PREPARATION, category=SEXUAL, victims=(Victim("V1", requested_rj=True),)),
    ),
    Rule(
        "victim_known",
        "unknown_victim",
        "draft_letter",
        letter_stage,
        letter_stage,
        {"victim": "V7"},
        {"victim": "V1"},
    ),
    Rule(
        "party_can_consent",
        "party_cannot_consent",
        "give_information",
        prep,
        prep,
        {"party": "S1", "activity": SHUTTLE},  # a supporter consents to meeting only
        {"party": "S1", "activity": F2F},
    ),
    Rule(
        "party_not_declined",
        "party_declined",
        "give_information",
        then(prep, declined("V1", F2F)),
        then(prep, declined("V1", SHUTTLE)),
        {"party": "V1", "activity": F2F},
    ),
    Rule(
        "information_given",
        "information_not_given",
        "record_consent",
        prep,
        then(prep, informed("V1", F2F)),
        {"party": "V1", "activity": F2F},
    ),
    Rule(
        "consent_not_in_force",
        "consent_already_given",
        "record_consent",
        then(prep, consented("V1", F2F)),
        then(prep, consented("V1", F2F), withdrew("V1", F2F)),
        {"party": "V1", "activity": F2F},
    ),
    Rule(
        "consent_in_force",
        "no_consent_to_withdraw",
        "withdraw_consent",
        then(prep, informed("V1", F2F)),
        then(prep, consented("V1", F2F)),
        {"party": "V1", "activity": F2F},
    ),
    Rule(
        "party_id_free",
        "party_id_taken",
        "add_party",
        prep,
        prep,
        {"party": Victim("V1")},
        {"party": Victim("V2")},
    ),
    Rule(
        "party_is_facilitator",
        "not_a_facilitator",
        "assign_lead_facilitator",
        prep,
        prep,
        {"facilitator": "V1"},
        {"facilitator": "F1"},
    ),
    Rule(
        "participant_known",
        "unknown_participant",
        "record_feedback",
        reviews,
        reviews,
        {"party": "F1", "satisfaction": 4, "things_changed": True},
        {"party": "V1", "satisfaction": 4, "things_changed": True},
    ),
    Rule(
        "letter_not_started",
        "letter_already_drafted",
        "draft_letter",
        then(letter_stage, draft),
        letter_stage,
        {"victim": "V1"},
    ),
    Rule(
        "letter_drafted",
        "letter_not_ready",
        "review_letter",
        letter_stage,
        then(letter_stage, draft),
    ),
    Rule(
        "letter_reviewed",
        "letter_not_ready",
        "hold_letter_on_file",
        then(letter_stage, draft),
        then(letter_stage, draft, review),
    ),
    Rule(
        "victim_consents_to_letter",
        "victim_consent_missing",
        "deliver_letter",
        then(letter_stage, draft, review),
        then(letter_stage, consented("V1", LETTER), draft, review),
    ),
    Rule(
        "activity_concluded",
        "letter_not_settled",
        "start_reviews",
        then(letter_stage, sessions(1), draft, review),
        then(
            letter_stage,
            sessions(1),
            draft,
            review,
            lambda c, k: c.hold_letter_on_file(at=k(), actor="F1"),
        ),
    ),
    Rule(
        "agreement_settled",
        "agreement_unsigned",
        "start_reviews",
        then(conference, session, propose),
        then(conference, session, propose, sign_all),
    ),
    Rule(
        "agreement_not_binding",
        "agreement_binding",
        "abandon_agreement",
        then(conference, propose, sign_all),
        then(conference, propose),
    ),
    Rule(
        "agreement_proposed",
        "no_agreement",
        "sign_agreement",
        conference,
        then(conference, propose),
        {"party": "O1"},
    ),
    Rule(
        "responsible_parties_known",
        "unknown_party",
        "propose_agreement",
        conference,
        conference,
        {"actions": [AgreementAction("A1", "Repair", "Q7", date(2026, 6, 1))]},
        {"actions": [AgreementAction("A1", "Repair", "O1", date(2026, 6, 1))]},
    ),
    Rule(
        "signatory_may_sign",
        "already_signed",
        "sign_agreement",
        then(conference, propose, lambda c, k: c.sign_agreement("O1", at=k(), actor="F1")),
        then(conference, propose),
        {"party": "O1"},
    ),
    Rule(
        "agreement_action_known",
        "unknown_agreement_action",
        "record_progress",
        agreed_reviews,
        agreed_reviews,
        {"action_id": "A9", "status": "done"},
        {"action_id": "A1", "status": "done"},
    ),
    Rule(
        "agreement_fulfilled",
        "agreement_actions_outstanding",
        "complete",
        then(agreed_reviews, session),
        then(
            agreed_reviews,
            session,
            lambda c, k: c.record_progress("A1", "done", at=k(), actor="F1"),
        ),
    ),
    # -- issue 14: agreement, enforcement, evaluation, sessions --
    Rule(
        "agreement_actions_dated",
        "deadline_before_agreement",
        "propose_agreement",
        conference,
        conference,
        {"actions": [AgreementAction("A1", "Repair", "O1", date(2026, 3, 1))]},
        {"actions": [AgreementAction("A1", "Repair", "O1", date(2026, 6, 1))]},
    ),
    Rule(
        "agreement_signed_by_all",
        "agreement_not_signed_yet",
        "vary_agreement",
        then(conference, propose),
        then(conference, propose, sign_all),
        {"actions": [AgreementAction("A1", "Repair", "O1", date(2026, 7, 1))]},
    ),
    Rule(  # issue 14 fixes: a general decline, by a participant
        "participant_may_decline",
        "unknown_participant",
        "decline_all",
        prep,
        prep,
        {"party": "F1"},
        {"party": "V1"},
    ),
    Rule(  # issue 14 fixes: after the end, consent only to receive a letter held on file
        "ended_only_for_a_held_letter",
        "case_ended",
        "record_consent",
        then(letter_held, lambda c, k: c.close(reason="unsuitable", at=k(), actor="F1")),
        then(letter_held, lambda c, k: c.close(reason="unsuitable", at=k(), actor="F1")),
        {"party": "O1", "activity": F2F},
        {"party": "V1", "activity": LETTER},
    ),
    Rule(  # issue 14 fixes: a late entry happened during the stage it belongs to
        "happened_in_stage",
        "happened_before_stage",
        "record_session",
        stage(State.INTRODUCTION),
        stage(State.INTRODUCTION),
        {"duration": timedelta(hours=1), "occurred_at": T0 + timedelta(minutes=30)},
        {"duration": timedelta(hours=1), "occurred_at": T0 + timedelta(hours=1)},
    ),
    Rule(  # issue 14 fixes: a variation not everyone signs is withdrawn
        "variation_pending",
        "no_variation_pending",
        "withdraw_variation",
        agreed_reviews,
        then(agreed_reviews, vary("A1", "A2")),
    ),
    Rule(
        "progress_not_waiver",
        "action_waived",
        "record_progress",
        then(agreed_reviews, waive("A1")),
        agreed_reviews,
        {"action_id": "A1", "status": "done"},
    ),
    Rule(
        "action_waivable",
        "action_settled",
        "waive_agreement_action",
        then(agreed_reviews, progress("A1", "done")),
        then(agreed_reviews, progress("A1", "not_complied")),
        {"action_id": "A1"},
    ),
    Rule(
        "agreement_in_force",
        "signature_lapsed",
        "complete",
        then(done_reviews, withdrew("V1", F2F)),
        done_reviews,
    ),
    Rule(
        "required_sessions_held",
        "required_sessions_not_held",
        "complete",
        stage(State.REVIEW, policy=Policy(required_sessions=5)),  # 4 held on the way
        stage(State.REVIEW, policy=Policy(required_sessions=4)),
    ),
    Rule(
        "breach_referral_pending",
        "no_breach_referral",
        "record_breach_outcome",
        then(stage(State.INTRODUCTION), missed),
        referred,
        {"outcome": "order_continues"},
    ),
    Rule(
        "enforcement_follows_breach",
        "no_enforcement_grounds",
        "close",
        then(referred, breach("order_continues")),
        then(referred, breach("order_revoked")),
        {"reason": ClosureReason.ENFORCEMENT},
    ),
    Rule(
        "victim_to_inform_known",
        "unknown_victim",
        "inform_victim",
        reviews,
        reviews,
        {"victim": "S1", "about": "progress"},
        {"victim": "V1", "about": "progress"},
    ),
    Rule(
        "update_fits_stage",
        "case_ended",
        "inform_victim",
        then(reviews, closed),
        then(reviews, closed),
        {"victim": "V1", "about": "progress"},
        {"victim": "V1", "about": "conclusion"},
    ),
    Rule(
        "follow_up_party_known",
        "unknown_participant",
        "record_follow_up",
        reviews,
        reviews,
        {"party": "F1"},
        {"party": "S1"},
    ),
    Rule(
        "victims_informed_of_conclusion",
        "victim_not_informed",
        "complete",
        then(done_reviews, wishes),
        then(done_reviews, wishes, told_conclusion),
    ),
    # -- change of mind, supporters, youth and access, letters (issue 14) --
    Rule(
        "supporters_may_attend",
        "supporter_not_accepted",
        "hold_conference",
        then(prep_ready, consented("S1", F2F)),
        then(prep_ready, consented("S1", F2F), accepted("S1", "O1")),
        {"supporters": ("S1",)},
    ),
    Rule(
        "interpreter_present",
        "interpreter_needed",
        "give_information",
        stage(State.PREPARATION, victims=(Victim("V1", needs_interpreter=True),)),
        stage(State.PREPARATION, victims=(Victim("V1", needs_interpreter=True),)),
        {"party": "V1", "activity": F2F},
        {"party": "V1", "activity": F2F, "interpreter_provided": True},
    ),
    Rule(
        "party_may_request",
        "unknown_participant",
        "record_request",
        prep,
        prep,
        {"party": "F1"},
        {"party": "V1"},
    ),
    Rule(
        "supporter_acceptance_valid",
        "not_the_other_side",
        "accept_supporter",
        prep,
        prep,
        {"supporter": "S1", "by": "V1"},  # V1 is the side S1 supports
        {"supporter": "S1", "by": "O1"},
    ),
    Rule(
        "victim_asked_first",
        "victim_did_not_request",
        "give_information",
        stage(State.PREPARATION, category=SEXUAL),
        then(stage(State.PREPARATION, category=SEXUAL), requested("V1")),
        {"party": "V1", "activity": F2F},
    ),
    Rule(
        "letter_deliverable",
        "letter_not_ready",
        "deliver_letter",
        then(letter_stage, consented("V1", LETTER), draft),
        then(letter_stage, consented("V1", LETTER), draft, review, hold),
    ),
    Rule(
        "message_vetted",
        "message_not_vetted",
        "record_shuttle_message",
        stage(State.SHUTTLE_MEDIATION),
        stage(State.SHUTTLE_MEDIATION),
        {"victim": "V1", "direction": "to_victim", "vetted": False},
        {"victim": "V1", "direction": "to_victim", "vetted": True},
    ),
    Rule(
        "closure_reason_valid",
        "closure_note_required",
        "close",
        prep,
        prep,
        {"reason": ClosureReason.OTHER},
        {"reason": ClosureReason.OTHER, "note": "Moved away"},
    ),
]

# -- safeguarding that stays current, approvals, roles (issue 14, D2) --------------------------

STALKING = OffenceCategory.STALKING
LEGACY_SHUTTLE = Path(__file__).parent / "fixtures" / "d2-schema1" / "shuttle.json"


def legacy_assessed_by(actor: str) -> Setup:
    """A schema-1 case whose enhanced assessment was recorded by ``actor`` (schema 1 recorded
    no roles, so anyone could), then given its managers X1 and X2 (issue 14 fixes: new actions
    on a migrated case are taken by staff on record)."""

    def build() -> tuple[Case, Clock]:
        doc = json.loads(LEGACY_SHUTTLE.read_text(encoding="utf-8"))
        assessment = doc["events"][6]
        assert assessment["action"] == "assess_risk"
        assessment["actor"] = actor
        assessment["data"]["enhanced"] = True
        previous = "0" * 64
        for raw in doc["events"]:  # the chain as schema 1 computed it
            raw["previous_hash"] = previous
            raw["hash"] = previous = event_hash(**{k: v for k, v in raw.items() if k != "hash"})
        case = loads(json.dumps(doc))
        clock = Clock(case.record.updated_at + timedelta(hours=1))
        for manager in ("X1", "X2"):
            case.add_party(Staff(manager, StaffRole.MANAGER), at=clock(), actor="F1")
        return case, clock

    return build


def approved(case: Case, clock: Clock) -> None:
    case.approve_risk_assessment(at=clock(), actor="M1")


RULES += [
    Rule(
        "actor_permitted",
        "actor_not_permitted",
        "record_session",
        stage(State.INTRODUCTION),
        then(
            stage(State.INTRODUCTION),
            lambda c, k: c.add_party(Facilitator("X9"), at=k(), actor="F1"),
        ),
        {"duration": timedelta(hours=1)},
        actor="X9",
    ),
    Rule(
        "session_risk_current",
        "risk_unfavourable",
        "record_session",
        then(conference, risk(RiskOutcome.UNFAVOURABLE)),
        conference,
        {"duration": timedelta(hours=2)},
    ),
    Rule(
        "approach_risk_assessed",
        "risk_not_assessed",
        "give_information",
        stage(State.PREPARATION, category=STALKING),
        then(stage(State.PREPARATION, category=STALKING), risk(enhanced=True), approved),
        {"party": "V1", "activity": F2F},
    ),
    Rule(
        "risk_subject_is_participant",
        "unknown_participant",
        "assess_risk",
        prep,
        prep,
        {"outcome": "favourable", "subject": "F1"},
        {"outcome": "favourable", "subject": "S1"},
    ),
    Rule(
        "approval_by_another_manager",
        "approver_not_manager",
        "assess_risk",
        prep,
        prep,
        {"outcome": "favourable", "enhanced": True, "approved_by": "F1"},
        {"outcome": "favourable", "enhanced": True, "approved_by": "M1"},
        actor="F1",
    ),
    Rule(
        "risk_assessment_awaiting_approval",
        "risk_assessment_not_enhanced",
        "approve_risk_assessment",
        then(prep, risk()),
        then(prep, risk(enhanced=True)),
        actor="M1",
    ),
    Rule(
        "approver_not_assessor",
        "approver_is_assessor",
        "approve_risk_assessment",
        legacy_assessed_by("X1"),
        legacy_assessed_by("X2"),
        actor="X1",
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.guard)
class TestEachGuard:
    def test_blocks_when_its_rule_is_broken(self, rule: Rule) -> None:
        """The broken case carries a blocker from this guard, with the documented code."""
        case, _ = rule.blocked()
        blockers = case.blockers(rule.action, actor=rule.actor, **rule.data)
        found = [b for b in blockers if b.guard == rule.guard]
        assert rule.code in {b.code for b in found}, case.explain()

    def test_is_silent_when_its_rule_holds(self, rule: Rule) -> None:
        """The clear case has no blocker from this guard."""
        case, _ = rule.clear()
        data = rule.data if rule.clear_data is None else rule.clear_data
        blockers = case.blockers(rule.action, actor=rule.actor, **data)
        found = [b for b in blockers if b.guard == rule.guard]
        assert found == []

    def test_message_is_a_sentence_without_free_text(self, rule: Rule) -> None:
        """Messages are full sentences and never repeat notes or agreement wording."""
        case, _ = rule.blocked()
        for b in case.blockers(rule.action, actor=rule.actor, **rule.data):
            assert b.message[0].isupper()
            assert b.message.endswith(".")
            assert "garden gate" not in b.message.lower()
            assert "moved away" not in b.message.lower()


def test_every_guard_is_tested_both_ways() -> None:
    """The table above covers every guard the workflow names."""
    assert {r.guard for r in RULES} == set(GUARDS)


class TestSensitiveOffences:
    def test_a_sensitive_case_needs_a_specialist_lead(self) -> None:
        """An advanced lead without training in the area is refused; one with it is not."""
        case, clock = at_stage(State.PREPARATION, category=OffenceCategory.STALKING)
        case.add_party(Facilitator("F2", PractitionerLevel.ADVANCED), at=clock(), actor="F1")
        case.assign_lead_facilitator("F2", at=clock(), actor="F1")
        blockers = case.blockers("hold_conference")
        assert [b.subject for b in blockers if b.code == "lead_facilitator_not_trained"] == ["F2"]
        case.add_party(
            Facilitator("F3", PractitionerLevel.ADVANCED, {"stalking"}), at=clock(), actor="F1"
        )
        case.assign_lead_facilitator("F3", at=clock(), actor="M1")  # F1 is no longer the lead
        assert "lead_facilitator_not_trained" not in {
            b.code for b in case.blockers("hold_conference")
        }

    def test_domestic_abuse_needs_an_advanced_lead_and_enhanced_assessment(self) -> None:
        """A sensitive offence: intermediate lead and a plain assessment are both refused."""
        case, clock = at_stage(
            State.PREPARATION,
            category=OffenceCategory.DOMESTIC_ABUSE,
            level=PractitionerLevel.INTERMEDIATE,
        )
        risk()(case, clock)
        codes = {b.code for b in case.blockers("hold_conference")}
        assert {"lead_facilitator_level_too_low", "enhanced_risk_assessment_needed"} <= codes
        case.add_party(
            Facilitator("F2", PractitionerLevel.ADVANCED, {"domestic_abuse"}),
            at=clock(),
            actor="F1",
        )
        case.assign_lead_facilitator("F2", at=clock(), actor="F1")
        risk(enhanced=True, approved_by="M1")(case, clock)
        codes = {b.code for b in case.blockers("hold_conference")}
        assert not codes & {"lead_facilitator_level_too_low", "enhanced_risk_assessment_needed"}

    def test_exclusion_can_be_switched_off_by_policy(self) -> None:
        """With no exclusions configured, ongoing contact does not exclude the offence."""
        open_policy = Policy(excluded_with_ongoing_contact=frozenset())
        case, _ = at_stage(
            State.PREPARATION,
            category=OffenceCategory.DOMESTIC_ABUSE,
            ongoing_contact=True,
            policy=open_policy,
        )
        assert "offence_excluded" not in {b.code for b in case.blockers("hold_conference")}


def test_supporter_of_someone_absent_is_refused() -> None:
    """Only supporters of those present may come to the conference."""
    case, clock = prep_ready()
    case.add_party(Supporter("S2", supports="V1"), at=clock(), actor="F1")
    blockers = case.blockers("hold_conference", victims=("V1",), supporters=("S2", "F1"))
    assert [b.subject for b in blockers if b.code == "unknown_supporter"] == ["F1"]
