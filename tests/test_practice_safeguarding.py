"""Issue 14 (D2): safeguarding that stays current, who may do what, and late entry.

The two regression tests named ``test_input_5_...`` and ``test_input_6_...`` pin the inputs of
the issue; the classes below test each new rule both ways (a case where it blocks and one that
differs only in what it needs), the roles of every kind of actor, and late entry (bounds,
ordering, hashing, the saved format).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from rjflow import (
    ActionRefused,
    AgreementAction,
    Attendance,
    Case,
    ContactActivity,
    Event,
    Facilitator,
    HistoryTampered,
    InvalidInput,
    Offence,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    RiskScope,
    Staff,
    StaffRole,
    State,
    Supporter,
    Victim,
)
from rjflow.diagrams import diagram_model, to_dot, to_mermaid
from rjflow.history import event_hash, verify_chain
from rjflow.serialization import dumps, json_schema, loads, migrated_from, replay, to_dict
from rjflow.states import ACTIONS
from rjflow.store import SQLiteStore

from .builders import T0, Clock, at_stage, codes, consent, new_case, ready_supporters, session

F2F = ContactActivity.FACE_TO_FACE
SHUTTLE = ContactActivity.SHUTTLE
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
FIXTURES = Path(__file__).parent / "fixtures" / "d2-schema1"


def later(case: Case, by: timedelta) -> Clock:
    """A clock that starts ``by`` after the case's last change."""
    return Clock(case.record.updated_at + by)


def ready_for_conference(**kw: object) -> tuple[Case, Clock]:
    """Preparation held, risk assessed (and approved if sensitive), everyone consented."""
    case, clock = at_stage(State.PREPARATION, **kw)  # type: ignore[arg-type]
    session(case, clock)
    sensitive = case.policy.is_sensitive(case.record.offence.category)
    case.assess_risk("favourable", enhanced=sensitive, at=clock(), actor="F1")
    if sensitive:
        case.approve_risk_assessment(at=clock(), actor="M1")
    for party in ("O1", *(v.id for v in case.record.victims)):
        consent(case, clock, party, F2F)
    ready_supporters(case, clock)  # supporters who attend consent and are accepted (issue 14)
    return case, clock


# -- the inputs -------------------------------------------------------------------------


def test_input_5_old_assessment_before_a_second_victim_does_not_clear_the_conference() -> None:
    """An assessment two years old, made before a second victim was added, no longer counts;
    an unfavourable reassessment after the conference stops further sessions and the
    agreement."""
    case, clock = ready_for_conference()
    case.add_party(Victim("V2"), at=clock(), actor="F1")
    clock = later(case, 730 * DAY)
    consent(case, clock, "V2", F2F)
    blocked = codes(case, "hold_conference", at=clock())
    assert {"risk_reassessment_needed"} <= blocked
    case.assess_risk("favourable", at=clock(), actor="F1")
    assert case.can("hold_conference", at=clock(), actor="F1")
    case.hold_conference(at=clock(), actor="F1")
    session(case, clock)
    # After the conference, a reassessment is unfavourable: nothing that is contact goes on.
    case.assess_risk("unfavourable", at=clock(), actor="F1")
    with pytest.raises(ActionRefused) as refused:
        session(case, clock)
    assert "risk_unfavourable" in refused.value.codes
    agreement = [_action("A1")]
    assert "risk_unfavourable" in codes(case, "propose_agreement", actions=agreement)
    # A missed session is still recorded: it is not contact.
    case.record_session(
        duration=timedelta(0),
        attendance=Attendance.MISSED_ACCEPTABLE,
        at=clock(),
        actor="F1",
    )


def test_input_5_an_expired_assessment_is_refused_with_who_can_fix_it() -> None:
    """Two years after the only assessment, contact is refused as expired; the message names
    the role that can reassess."""
    case, clock = ready_for_conference()
    clock = later(case, 730 * DAY)
    blockers = case.blockers("hold_conference", at=clock())
    expired = [b for b in blockers if b.code == "risk_assessment_expired"]
    assert expired, blockers
    assert "a facilitator on the case" in expired[0].message
    assert "90 days" in expired[0].message


def test_input_6_assessor_cannot_approve_and_participants_are_never_staff() -> None:
    """The assessor cannot approve their own enhanced assessment; the offender cannot be the
    assessor, the letter's reviewer, the approver or the actor of any action."""
    case, clock = at_stage(State.PREPARATION, category=OffenceCategory.STALKING)
    session(case, clock)
    case.assess_risk("favourable", enhanced=True, at=clock(), actor="F1")
    # The assessor (a facilitator, not a manager) may not approve it, nor name themselves.
    assert "actor_not_permitted" in codes(case, "approve_risk_assessment", actor="F1")
    refused = codes(
        case, "assess_risk", actor="F1", outcome="favourable", enhanced=True, approved_by="F1"
    )
    assert "approver_not_manager" in refused
    # The offender is never an actor of a staff action.
    for action, data in (
        ("assess_risk", {"outcome": "favourable"}),
        ("approve_risk_assessment", {}),
        ("record_session", {"duration": timedelta(hours=1)}),
        ("close", {"reason": "unsuitable"}),
    ):
        assert "participant_cannot_act" in codes(case, action, actor="O1", **data), action
    assert "approver_not_manager" in codes(
        case, "assess_risk", actor="F1", outcome="favourable", enhanced=True, approved_by="O1"
    )
    with pytest.raises(ActionRefused):
        case.assess_risk("favourable", at=clock(), actor="O1")
    # A manager who did not make it approves it.
    case.approve_risk_assessment(at=clock(), actor="M1")
    assert case.record.risk_assessments[-1].approved_by == "M1"


def test_input_6_the_offender_is_not_the_letters_reviewer() -> None:
    """Only a facilitator on the case reviews the letter of apology."""
    case, clock = at_stage(State.LETTER_OF_APOLOGY)
    case.draft_letter("V1", at=clock(), actor="F1")
    assert "participant_cannot_act" in codes(case, "review_letter", actor="O1")
    assert "participant_cannot_act" in codes(case, "review_letter", actor="S1")
    assert "actor_not_permitted" in codes(case, "review_letter", actor="M1")
    case.review_letter(at=clock(), actor="F1")


def _legacy_assessed_by(actor: str) -> tuple[Case, Clock]:
    """The schema-1 shuttle case with its enhanced assessment recorded by ``actor`` (schema 1
    recorded no roles, so anyone could be the actor), the chain as schema 1 computed it."""
    doc = json.loads((FIXTURES / "shuttle.json").read_text(encoding="utf-8"))
    assessment = doc["events"][6]
    assert assessment["action"] == "assess_risk"
    assessment["actor"] = actor
    assessment["data"]["enhanced"] = True
    previous = "0" * 64
    for raw in doc["events"]:
        raw["previous_hash"] = previous
        raw["hash"] = previous = event_hash(**{k: v for k, v in raw.items() if k != "hash"})
    case = loads(json.dumps(doc))
    return case, later(case, timedelta(hours=1))


def test_input_6_a_legacy_assessor_cannot_approve_their_own() -> None:
    """In a case saved before roles were recorded, the person who assessed cannot approve,
    once they are added as a manager; another manager can."""
    case, clock = _legacy_assessed_by("X1")
    for manager in ("X1", "X2"):
        case.add_party(Staff(manager, StaffRole.MANAGER), at=clock(), actor="F1")
    assert "approver_is_assessor" in codes(case, "approve_risk_assessment", actor="X1")
    case.approve_risk_assessment(at=clock(), actor="X2")
    assert case.record.risk_assessments[-1].approved_by == "X2"


class TestMigratedCasesRecordTheirStaff:
    """Found by a practitioner's review: in a schema-1 case any id that was not a participant
    was read as staff in every role, also for new actions."""

    def test_legacy_events_by_actors_not_on_record_still_load(self) -> None:
        """The previous release recorded no roles: its events load as they were."""
        case, _clock = _legacy_assessed_by("X1")
        assert not case.record.roles_on_record
        assert case.record.risk_assessments[-1].assessed_by == "X1"
        assert loads(dumps(case)) == case  # the saved provenance judges them as they were

    def test_a_new_action_by_someone_not_on_the_staff_is_refused_with_the_way_forward(
        self,
    ) -> None:
        case, clock = _legacy_assessed_by("X1")
        for actor in ("X1", "Z9"):
            refused = case.blockers("record_new_information", actor=actor)
            assert [b.code for b in refused] == ["actor_not_permitted"]
            assert "add_party" in refused[0].message
        assert "actor_not_permitted" in codes(case, "assess_risk", actor="Z9", outcome="favourable")
        with pytest.raises(ActionRefused):
            case.record_new_information(at=clock(), actor="Z9")

    def test_a_new_assessment_names_an_approver_on_record(self) -> None:
        """``approved_by`` on a new assessment names a manager on record, also in a migrated
        case (the legacy approval in its history stays as it was)."""
        case, _clock = _legacy_assessed_by("X1")
        data = {"outcome": "favourable", "enhanced": True, "approved_by": "Z9"}
        assert codes(case, "assess_risk", actor="F1", **data) == {"approver_not_manager"}

    def test_a_migrated_case_adds_its_staff_then_they_act(self) -> None:
        """A facilitator on the case adds the manager; the manager then acts in that role
        only."""
        case, clock = _legacy_assessed_by("X1")
        case.add_party(Staff("Z9", StaffRole.MANAGER), at=clock(), actor="F1")
        case.record_new_information(at=clock(), actor="Z9")
        assert "actor_not_permitted" in codes(
            case, "record_shuttle_message", actor="Z9", victim="V1", direction="to_victim"
        )


def test_a_participant_cannot_record_the_referral() -> None:
    """Opening a case: anyone with an id may record the referral, except its participants."""
    with pytest.raises(InvalidInput, match="participant"):
        Case.open(
            "C9",
            offence=Offence(OffenceCategory.VIOLENCE),
            offender="O1",
            victims=["V1"],
            at=T0,
            actor="O1",
        )
    case = Case.open(
        "C9",
        offence=Offence(OffenceCategory.VIOLENCE),
        offender="O1",
        victims=["V1"],
        at=T0,
        actor="INTAKE-1",
    )
    assert case.record.roles_on_record


def _action(action_id: str) -> AgreementAction:
    return AgreementAction(action_id, "Repair the fence", "O1", date(2026, 9, 1))


# -- safeguarding that stays current ---------------------------------------------------------------


class TestExpiry:
    def test_judged_when_the_action_happens(self) -> None:
        """Valid for 90 days by default: blocked on day 91, not on day 89."""
        case, _ = ready_for_conference()
        made = case.record.risk_assessments[-1].at
        assert case.can("hold_conference", at=made + 89 * DAY)
        assert "risk_assessment_expired" in codes(case, "hold_conference", at=made + 91 * DAY)

    def test_the_policy_sets_the_validity(self) -> None:
        """A service with a 7-day validity refuses after a week."""
        case, _ = ready_for_conference(policy=Policy(risk_assessment_valid_for=timedelta(days=7)))
        made = case.record.risk_assessments[-1].at
        assert case.can("hold_conference", at=made + 6 * DAY)
        assert "risk_assessment_expired" in codes(case, "hold_conference", at=made + 8 * DAY)

    def test_a_reassessment_renews_it(self) -> None:
        """After expiry a new favourable assessment clears contact again."""
        case, _ = ready_for_conference()
        clock = later(case, 100 * DAY)
        case.assess_risk("favourable", at=clock(), actor="F1")
        assert case.can("hold_conference", at=clock())


class TestMaterialChanges:
    @pytest.mark.parametrize(
        "change",
        [
            lambda c, k: c.add_party(Victim("V2"), at=k(), actor="F1"),
            lambda c, k: c.add_party(Supporter("S2", supports="O1"), at=k(), actor="F1"),
            lambda c, k: c.record_new_information(at=k(), actor="F1"),
            lambda c, k: c.record_new_information(subject="O1", at=k(), actor="M1"),
            lambda c, k: (
                c.add_party(Facilitator("F2", PractitionerLevel.ADVANCED), at=k(), actor="F1"),
                c.assign_lead_facilitator("F2", at=k(), actor="F1"),
            ),
        ],
        ids=["victim added", "supporter added", "new information", "about one", "lead changed"],
    )
    def test_each_calls_for_reassessment(self, change: object) -> None:
        """After a material change, the earlier assessment no longer clears contact; a new one
        does."""
        case, clock = ready_for_conference()
        change(case, clock)  # type: ignore[operator]
        for victim in case.record.victims:
            if not case.record.consents_to(victim.id, F2F):
                consent(case, clock, victim.id, F2F)
        assert "risk_reassessment_needed" in codes(case, "hold_conference")
        case.assess_risk("favourable", at=clock(), actor=case.record.lead_facilitator or "F1")
        assert "risk_reassessment_needed" not in codes(case, "hold_conference")

    def test_withdrawn_consent_is_a_material_change(self) -> None:
        """Consent withdrawn: risk must be reassessed (besides the consent itself)."""
        case, clock = ready_for_conference()
        case.withdraw_consent("O1", F2F, at=clock(), actor="F1")
        assert case.record.material_changes[-1].kind.value == "consent_withdrawn"
        assert "risk_reassessment_needed" in codes(case, "hold_conference")

    @pytest.mark.parametrize(
        "change",
        [
            lambda c, k: c.add_party(Facilitator("F2"), at=k(), actor="F1"),
            lambda c, k: c.add_party(Staff("A1", StaffRole.ADMINISTRATOR), at=k(), actor="M1"),
            lambda c, k: c.give_information("V1", SHUTTLE, at=k(), actor="F1"),
        ],
        ids=["co-facilitator", "administrator", "information given"],
    )
    def test_staff_joining_is_not_a_material_change(self, change: object) -> None:
        """Staff joining and ordinary record-keeping leave the assessment in force."""
        case, clock = ready_for_conference()
        change(case, clock)  # type: ignore[operator]
        assert case.record.material_changes == ()
        assert case.can("hold_conference")

    def test_new_information_names_no_free_text(self) -> None:
        """record_new_information takes only a participant id: the information stays in the
        application; an unknown or staff subject is refused."""
        case, _ = ready_for_conference()
        fields = attrs.fields(ACTIONS["record_new_information"].input)
        assert [f.name for f in fields] == ["subject"]
        assert "unknown_participant" in codes(case, "record_new_information", subject="F1")
        assert "unknown_participant" not in codes(case, "record_new_information", subject="S1")


class TestScope:
    PER_PERSON = Policy(risk_assessment_scope=RiskScope.PARTICIPANT)

    def test_per_participant_everyone_contacted_needs_their_own(self) -> None:
        """Per participant: the offender, each victim and each supporter present need one;
        the message names who is missing."""
        case, clock = ready_for_conference(policy=self.PER_PERSON)
        missing = {
            b.subject for b in case.blockers("hold_conference") if b.code == "risk_not_assessed"
        }
        assert missing == {"O1", "V1", "S1"}
        for party in ("O1", "V1"):
            case.assess_risk("favourable", subject=party, at=clock(), actor="F1")
        blockers = case.blockers("hold_conference")
        assert [b.subject for b in blockers if b.code == "risk_not_assessed"] == ["S1"]
        assert "participant S1" in blockers[0].message
        case.assess_risk("favourable", subject="S1", at=clock(), actor="F1")
        assert case.can("hold_conference")
        # Without the supporter coming, their assessment is not needed.
        assert "risk_not_assessed" not in codes(case, "hold_conference", supporters=())

    def test_per_case_an_unfavourable_assessment_of_one_blocks_contact_with_them(self) -> None:
        """Per case (the default): one participant's unfavourable assessment still blocks."""
        case, clock = ready_for_conference()
        case.assess_risk("unfavourable", subject="S1", at=clock(), actor="F1")
        blockers = case.blockers("hold_conference")
        assert [b.subject for b in blockers if b.code == "risk_unfavourable"] == ["S1"]
        assert case.can("hold_conference", supporters=())

    def test_per_participant_a_case_wide_unfavourable_assessment_blocks_everyone(self) -> None:
        """Per participant: an unfavourable case-wide assessment still blocks contact."""
        case, clock = ready_for_conference(policy=self.PER_PERSON)
        for party in ("O1", "V1", "S1"):
            case.assess_risk("favourable", subject=party, at=clock(), actor="F1")
        case.assess_risk("unfavourable", at=clock(), actor="F1")
        assert "risk_unfavourable" in codes(case, "hold_conference")

    def test_new_information_about_one_supersedes_only_theirs(self) -> None:
        """Per participant, information about V1 calls for V1's reassessment, not S1's."""
        case, clock = ready_for_conference(policy=self.PER_PERSON)
        for party in ("O1", "V1", "S1"):
            case.assess_risk("favourable", subject=party, at=clock(), actor="F1")
        case.record_new_information(subject="V1", at=clock(), actor="F1")
        stale = [b.subject for b in case.blockers("hold_conference")]
        assert stale == ["V1"]


class TestEveryContact:
    def test_shuttle_messages_and_choosing_shuttle(self) -> None:
        """An unfavourable reassessment stops shuttle messages and shuttle sessions."""
        case, clock = at_stage(State.SHUTTLE_MEDIATION)
        message = {"victim": "V1", "direction": "to_victim"}
        assert "risk_unfavourable" not in codes(case, "record_shuttle_message", **message)
        case.assess_risk("unfavourable", at=clock(), actor="F1")
        assert "risk_unfavourable" in codes(case, "record_shuttle_message", **message)
        assert "risk_unfavourable" in codes(case, "record_session", duration=timedelta(hours=1))

    def test_signing_the_agreement(self) -> None:
        """A signature is contact: refused after an unfavourable reassessment."""
        case, clock = at_stage(State.CONFERENCE)
        case.propose_agreement([_action("A1")], at=clock(), actor="F1")
        assert "risk_unfavourable" not in codes(case, "sign_agreement", party="O1")
        case.assess_risk("unfavourable", at=clock(), actor="F1")
        assert "risk_unfavourable" in codes(case, "sign_agreement", party="O1")

    def test_letter_delivery(self) -> None:
        """Delivering a letter after new information waits for a reassessment."""
        case, clock = at_stage(State.LETTER_OF_APOLOGY)
        consent(case, clock, "V1", ContactActivity.RECEIVE_LETTER)
        case.draft_letter("V1", at=clock(), actor="F1")
        case.review_letter(at=clock(), actor="F1")
        assert case.can("deliver_letter")
        case.record_new_information(at=clock(), actor="F1")
        assert "risk_reassessment_needed" in codes(case, "deliver_letter")

    def test_first_approach_in_a_sensitive_case(self) -> None:
        """In a sensitive case, informing a victim waits for an approved enhanced assessment;
        in another case it does not."""
        case, clock = at_stage(State.PREPARATION, category=OffenceCategory.HATE_CRIME)
        info = {"party": "V1", "activity": F2F}
        assert "risk_not_assessed" in codes(case, "give_information", **info)
        assert "risk_not_assessed" not in codes(case, "give_information", party="O1", activity=F2F)
        session(case, clock)
        case.assess_risk("favourable", enhanced=True, at=clock(), actor="F1")
        assert "enhanced_risk_assessment_needed" in codes(case, "give_information", **info)
        case.approve_risk_assessment(at=clock(), actor="M1")
        case.give_information("V1", F2F, at=clock(), actor="F1")
        plain, _ = at_stage(State.PREPARATION)
        assert plain.can("give_information", **info)


class TestApproval:
    def test_a_newer_assessment_needs_a_new_approval(self) -> None:
        """An approval is of the assessment in force: a reassessment must be approved again."""
        case, clock = ready_for_conference(category=OffenceCategory.STALKING)
        assert "enhanced_risk_assessment_needed" not in codes(case, "record_new_information")
        case.assess_risk("favourable", enhanced=True, at=clock(), actor="F1")
        assert "enhanced_risk_assessment_needed" in codes(case, "hold_conference")
        case.approve_risk_assessment(at=clock(), actor="M1")
        assert "enhanced_risk_assessment_needed" not in codes(case, "hold_conference")

    def test_only_an_enhanced_assessment_in_force_is_approved_once(self) -> None:
        """Approving a plain assessment, or one already approved, is refused."""
        case, clock = at_stage(State.PREPARATION)
        case.assess_risk("favourable", at=clock(), actor="F1")
        assert "risk_assessment_not_enhanced" in codes(case, "approve_risk_assessment")
        case.assess_risk("favourable", enhanced=True, at=clock(), actor="F1")
        case.approve_risk_assessment(at=clock(), actor="M1")
        assert "risk_assessment_already_approved" in codes(case, "approve_risk_assessment")

    def test_an_old_style_approval_by_another_manager_still_counts(self) -> None:
        """``approved_by`` naming a manager on the case other than the assessor is accepted."""
        case, clock = at_stage(State.PREPARATION, category=OffenceCategory.STALKING)
        case.assess_risk("favourable", enhanced=True, approved_by="M1", at=clock(), actor="F1")
        assert case.record.risk_assessments[-1].approved_by == "M1"


# -- who may do what -----------------------------------------------------------------------------


class TestRoles:
    def test_every_action_names_its_roles_in_the_table(self) -> None:
        """The table says who may take each action; approvals are for managers only."""
        assert all(a.roles for a in ACTIONS.values())
        assert ACTIONS["approve_risk_assessment"].roles == {StaffRole.MANAGER}
        assert StaffRole.LEAD_FACILITATOR in ACTIONS["hold_conference"].roles

    def test_a_co_facilitator_records_sessions_but_the_lead_moves_the_case(self) -> None:
        """A facilitator who is not the lead may record a session, not hold the conference;
        the blocker names the role, not a person."""
        case, clock = ready_for_conference()
        case.add_party(Facilitator("F2"), at=clock(), actor="F1")
        blockers = case.blockers("hold_conference", actor="F2")
        assert [b.code for b in blockers] == ["actor_not_permitted"]
        assert "lead facilitator" in blockers[0].message
        assert "F1" not in blockers[0].message and "F2" not in blockers[0].message
        case.record_session(duration=timedelta(hours=1), at=clock(), actor="F2")

    def test_administrators_keep_records_but_do_not_assess(self) -> None:
        """An administrator records the sentence and new information, but assesses no risk."""
        case, clock = new_case(sentenced=False)
        case.add_party(Staff("A1", StaffRole.ADMINISTRATOR), at=clock(), actor="M1")
        case.record_sentence(sentenced_on=T0.date(), at=clock(), actor="A1")
        case.record_new_information(at=clock(), actor="A1")
        case.start_introduction(at=clock(), actor="F1")
        assert "actor_not_permitted" in codes(case, "assess_risk", actor="A1", outcome="favourable")

    def test_a_stranger_is_refused_and_nothing_changes(self) -> None:
        """An actor with no role on the case is refused atomically."""
        case, clock = at_stage(State.INTRODUCTION)
        before = case.history
        with pytest.raises(ActionRefused) as refused:
            session_by(case, clock, "Z9")
        assert refused.value.codes == ("actor_not_permitted",)
        assert case.history == before

    def test_without_an_actor_the_role_is_not_judged(self) -> None:
        """A screen asking in advance (no actor) gets the other rules only."""
        case, _ = at_stage(State.INTRODUCTION)
        assert case.can("record_session", duration=timedelta(hours=1))

    def test_staff_round_trip_and_may_join_later(self) -> None:
        """Staff given at opening and added later are saved and loaded."""
        case, clock = at_stage(State.PREPARATION)
        case.add_party(Staff("A1", StaffRole.ADMINISTRATOR), at=clock(), actor="M1")
        again = loads(dumps(case))
        assert again == case
        assert again.record.roles_of("A1") == {StaffRole.ADMINISTRATOR}
        assert again.record.roles_of("M1") == {StaffRole.MANAGER}
        assert again.record.roles_of("F1") == {StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR}
        assert again.record.roles_of("O1") == frozenset()

    def test_a_staff_member_is_a_manager_or_administrator(self) -> None:
        """Facilitators are Facilitator parties; a Staff role must be manager or administrator."""
        with pytest.raises(InvalidInput):
            Staff("X", StaffRole.FACILITATOR)
        with pytest.raises(InvalidInput):
            Staff("X", "director")


def session_by(case: Case, clock: Clock, actor: str) -> None:
    case.record_session(duration=timedelta(hours=1), at=clock(), actor=actor)


# -- late entry ------------------------------------------------------------------------------------


class TestLateEntry:
    def test_a_session_recorded_late_keeps_both_times(self) -> None:
        """held_at is when it happened; the event keeps when it happened and when recorded."""
        case, clock = at_stage(State.INTRODUCTION)
        recorded = clock() + 3 * DAY
        held = recorded - 2 * DAY
        ev = case.record_session(
            duration=timedelta(hours=2), at=recorded, occurred_at=held, actor="F1"
        )
        assert case.record.sessions[-1].held_at == held
        assert (ev.at, ev.occurred_at) == (recorded, held)
        assert case.record.updated_at == recorded

    @pytest.mark.parametrize("offset", [-DAY, timedelta(seconds=1)])
    def test_occurred_at_is_bounded_and_a_refusal_changes_nothing(self, offset: timedelta) -> None:
        """Not before the case opened, not after it is recorded."""
        case, clock = at_stage(State.INTRODUCTION)
        at = clock()
        occurred = case.record.opened_at + offset if offset < timedelta(0) else at + offset
        before = case.history
        with pytest.raises(InvalidInput, match="occurred_at"):
            case.record_session(
                duration=timedelta(hours=1), at=at, occurred_at=occurred, actor="F1"
            )
        assert case.history == before

    def test_the_recorded_order_cannot_go_back(self) -> None:
        """``at`` must not go back even for a late entry: ``occurred_at`` carries the past."""
        case, _clock = at_stage(State.INTRODUCTION)
        last = case.record.updated_at
        with pytest.raises(InvalidInput, match="occurred_at"):
            case.record_session(duration=timedelta(hours=1), at=last - DAY, actor="F1")
        # (an hour before ``last`` would be before the introduction began: refused since)
        case.record_session(
            duration=timedelta(hours=1), at=last + HOUR, occurred_at=last, actor="F1"
        )

    def test_expiry_judges_when_the_contact_happened(self) -> None:
        """A conference session held on day 85 and recorded on day 95 is accepted; one held on
        day 95 is refused as expired."""
        case, _clock = at_stage(State.CONFERENCE)
        made = case.record.risk_assessments[-1].at
        at = made + 95 * DAY
        assert case.can("record_session", at=at, occurred_at=made + 85 * DAY, duration=DAY / 24)
        assert "risk_assessment_expired" in codes(
            case, "record_session", at=at, duration=timedelta(hours=1)
        )
        case.record_session(
            duration=timedelta(hours=1), at=at, occurred_at=made + 85 * DAY, actor="F1"
        )

    def test_a_later_assessment_cannot_clear_an_earlier_contact(self) -> None:
        """A shuttle message that happened before any assessment covered it is refused."""
        case, clock = at_stage(State.SHUTTLE_MEDIATION)
        first = case.record.risk_assessments[-1]
        at = clock()
        before_it = first.at - timedelta(minutes=5)
        blocked = codes(
            case,
            "record_shuttle_message",
            at=at,
            occurred_at=before_it,
            victim="V1",
            direction="to_victim",
        )
        assert "risk_not_assessed_then" in blocked

    def test_hash_without_occurred_at_is_unchanged_and_with_it_covers_it(self) -> None:
        """An event without occurred_at hashes exactly as the eight documented fields did; one
        with it hashes the nine, so changing it breaks the chain."""
        case, clock = at_stage(State.INTRODUCTION)
        plain = case.history[-1]
        body = {
            "sequence": plain.sequence,
            "at": plain.at.isoformat(),
            "actor": plain.actor,
            "action": plain.action,
            "data": plain.data,
            "from_state": plain.from_state,
            "to_state": plain.to_state,
            "previous_hash": plain.previous_hash,
        }
        assert plain.hash == _sha(body)
        at = clock()
        late = case.record_session(
            duration=timedelta(hours=1), at=at, occurred_at=at - HOUR, actor="F1"
        )
        late_body = {
            "sequence": late.sequence,
            "at": late.at.isoformat(),
            "occurred_at": (at - HOUR).isoformat(),
            "actor": late.actor,
            "action": late.action,
            "data": late.data,
            "from_state": late.from_state,
            "to_state": late.to_state,
            "previous_hash": late.previous_hash,
        }
        assert late.hash == _sha(late_body)
        forged = [*case.history[:-1], _evolve(late, occurred_at=at - 2 * HOUR)]
        with pytest.raises(HistoryTampered):
            verify_chain(forged)

    def test_round_trip_and_schema(self) -> None:
        """Saved with its occurred_at (absent when not given), loaded equal, schema-valid."""
        case, clock = at_stage(State.INTRODUCTION)
        at = clock()
        case.record_session(duration=timedelta(hours=1), at=at, occurred_at=at - HOUR, actor="F1")
        doc = to_dict(case)
        assert doc["events"][-1]["occurred_at"] == (at - HOUR).isoformat()
        assert all("occurred_at" not in e for e in doc["events"][:-1])
        jsonschema.validate(doc, json_schema())
        assert loads(json.dumps(doc)) == case

    def test_a_tampered_occurred_at_in_a_document_is_refused(self) -> None:
        """Editing occurred_at in a saved document is detected."""
        case, clock = at_stage(State.INTRODUCTION)
        at = clock()
        case.record_session(duration=timedelta(hours=1), at=at, occurred_at=at - HOUR, actor="F1")
        doc = to_dict(case)
        doc["events"][-1]["occurred_at"] = (at - 2 * HOUR).isoformat()
        with pytest.raises(HistoryTampered):
            loads(json.dumps(doc))


def _sha(body: dict[str, object]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _evolve(event: Event, **changes: Any) -> Event:
    return attrs.evolve(event, **changes)


# -- documents saved before issue 14 --------------------------------------------------------------


class TestSchemaOneDocuments:
    @pytest.mark.parametrize("name", ["demo.json", "sensitive-review.json", "shuttle.json"])
    def test_they_load_and_read_every_non_participant_actor_as_staff(self, name: str) -> None:
        """Documents written by the previous release (actors without recorded roles, approvals
        given as ``approved_by``) load, keep where they came from, and load again the same."""
        text = (FIXTURES / name).read_text(encoding="utf-8")
        case = loads(text)
        assert not case.record.roles_on_record
        old = json.loads(text)
        assert migrated_from(case) == {
            "schema_version": 1,
            "version": old["version"],
            "head": old["events"][-1]["hash"],
        }
        assert loads(dumps(case)) == case

    def test_a_legacy_case_keeps_working_under_the_new_rules(self) -> None:
        """Continuing a loaded schema-1 case: participants are still never actors."""
        case = loads((FIXTURES / "shuttle.json").read_text(encoding="utf-8"))
        clock = later(case, timedelta(hours=1))
        assert "participant_cannot_act" in codes(
            case, "record_shuttle_message", actor="V1", victim="V1", direction="to_victim"
        )
        case.record_shuttle_message("V1", "to_victim", at=clock(), actor="F1")


class TestLateEntryInTheStore:
    def test_a_late_entry_is_stored_and_loaded(self, tmp_path: Path) -> None:
        """The SQLite store keeps occurred_at, so a late entry loads back (and verifies)."""
        case, clock = at_stage(State.INTRODUCTION)
        at = clock()
        case.record_session(duration=timedelta(hours=1), at=at, occurred_at=at - HOUR, actor="F1")
        with SQLiteStore(tmp_path / "rj.sqlite3") as store:
            store.save(case, expected_version=0)
            assert store.load(case.case_id) == case


def test_diagrams_with_rules_show_who_may_take_each_action() -> None:
    """With --guards, each edge names the roles that may take it, from the table."""
    model = diagram_model(Policy())
    mermaid = to_mermaid(model, guards=True)
    assert "preparation --> conference : hold conference<br/>by lead facilitator<br/>" in mermaid
    assert "by lead facilitator or manager" in to_dot(model, guards=True)
    assert "by " not in to_mermaid(model)


# -- found by a practitioner's review and the stateful machine (issue 14 fixes) -----------------


def _shuttle_with_two_victims(assessed: tuple[str, ...] = (), **kw: object) -> tuple[Case, Clock]:
    """Two victims, both ready to meet face to face; only V1 in shuttle mediation; the
    participants ``assessed`` have a favourable assessment of their own."""
    case, clock = ready_for_conference(victims=(Victim("V1"), Victim("V2")), **kw)
    for party in assessed:
        case.assess_risk("favourable", subject=party, at=clock(), actor="F1")
    for party in ("O1", "V1"):
        consent(case, clock, party, SHUTTLE)
    case.choose_shuttle_mediation(at=clock(), actor="F1")
    return case, clock


def _fire_codes(case: Case, clock: Clock, action: str, **data: object) -> set[str]:
    """The codes firing ``action`` is refused with (empty when it is accepted)."""
    try:
        case.fire(action, at=clock(), actor="F1", **data)
    except ActionRefused as refused:
        return set(refused.codes)
    return set()


class TestContactJudgesThoseItBringsTogether:
    """Found by the stateful machine: a contact action judged the risk of the parties of the
    stage it was taken from, not of those it brings into contact."""

    def test_a_conference_from_shuttle_mediation_judges_the_risk_of_those_who_will_meet(
        self,
    ) -> None:
        """V2 was never in the shuttle; their unfavourable assessment stops a conference with
        them, not one without them."""
        case, clock = _shuttle_with_two_victims()
        case.assess_risk("unfavourable", subject="V2", at=clock(), actor="F1")
        assert "risk_unfavourable" in codes(case, "hold_conference", victims=("V1", "V2"))
        assert "risk_unfavourable" in codes(case, "hold_conference")  # every victim: V2 too
        assert "risk_unfavourable" not in codes(case, "hold_conference", victims=("V1",))

    def test_a_conference_from_shuttle_mediation_does_not_judge_a_shuttle_victim_not_meeting(
        self,
    ) -> None:
        """V1's own unfavourable assessment stops their shuttle messages, not a conference
        between the offender and V2 alone."""
        case, clock = _shuttle_with_two_victims()
        case.assess_risk("unfavourable", subject="V1", at=clock(), actor="F1")
        message = {"victim": "V1", "direction": "to_victim"}
        assert "risk_unfavourable" in codes(case, "record_shuttle_message", **message)
        assert "risk_unfavourable" not in codes(case, "hold_conference", victims=("V2",))

    def test_a_question_without_input_at_the_shuttle_stage_agrees_with_firing_without_input(
        self,
    ) -> None:
        """Asking without input judges what firing without input would do (every victim
        meets), so options(), can() and fire() agree."""
        policy = Policy(risk_assessment_scope=RiskScope.PARTICIPANT)
        # V2 has no assessment of their own
        case, clock = _shuttle_with_two_victims(("O1", "V1", "S1"), policy=policy)
        asked = codes(case, "hold_conference")
        option = next(o for o in case.options() if o.action == "hold_conference")
        assert {b.code for b in option.blockers} == asked
        assert "risk_not_assessed" in asked
        assert not case.can("hold_conference")
        assert _fire_codes(case, clock, "hold_conference") == asked
        assert case.state is State.SHUTTLE_MEDIATION

    def test_a_request_only_victim_who_never_asked_is_not_brought_to_a_conference_from_shuttle(
        self,
    ) -> None:
        """Sexual harm: V1 asked and is in the shuttle; V2 never asked, so a conference from
        the shuttle stage may not bring V2 to meet the offender."""
        asked, other = Victim("V1", requested_rj=True), Victim("V2", requested_rj=True)
        case, clock = ready_for_conference(
            victims=(asked, other), category=OffenceCategory.SEXUAL_OFFENCE
        )
        for party in ("O1", "V1"):
            consent(case, clock, party, SHUTTLE)
        case.choose_shuttle_mediation(at=clock(), actor="F1")
        case.add_party(Victim("V3"), at=clock(), actor="F1")
        assert "victim_did_not_request" in codes(case, "hold_conference", victims=("V1", "V3"))
        assert "victim_did_not_request" not in codes(case, "hold_conference", victims=("V1",))

    def test_a_letter_delivery_judges_its_own_victims_risk(self) -> None:
        """Two letters: delivering V1's judges V1's risk, not that of the victim whose letter
        was drafted last."""
        policy = Policy(risk_assessment_scope=RiskScope.PARTICIPANT)
        case, clock = at_stage(
            State.LETTER_OF_APOLOGY, victims=(Victim("V1"), Victim("V2")), policy=policy
        )
        for victim in ("V1", "V2"):
            case.draft_letter(victim, at=clock(), actor="F1")
            case.review_letter(victim=victim, at=clock(), actor="F1")
            consent(case, clock, victim, ContactActivity.RECEIVE_LETTER)
        case.assess_risk("favourable", subject="V1", at=clock(), actor="F1")
        case.assess_risk("unfavourable", subject="V2", at=clock(), actor="F1")
        assert "risk_unfavourable" in codes(case, "deliver_letter", victim="V2")
        assert codes(case, "deliver_letter", victim="V1") == set()
        case.deliver_letter(victim="V1", at=clock(), actor="F1")


class TestLateEntryBelongsToItsStage:
    """Found by a practitioner's review: a session could be recorded late with an
    ``occurred_at`` before its stage began (counted as a session of a stage not yet entered)."""

    def test_a_session_dated_before_its_stage_began_is_refused(self) -> None:
        case, clock = at_stage(State.PREPARATION)
        began = case.record.stage_entered_at
        assert began is not None and case.history[-1].action == "start_preparation"
        at = clock()
        early = {"duration": timedelta(hours=1), "occurred_at": began - HOUR}
        assert codes(case, "record_session", at=at, **early) == {"happened_before_stage"}
        before = case.history
        with pytest.raises(ActionRefused) as refused:
            case.fire("record_session", at=at, actor="F1", **early)
        assert refused.value.codes == ("happened_before_stage",)
        assert case.history == before
        case.record_session(duration=timedelta(hours=1), at=at, occurred_at=began, actor="F1")
        assert case.record.sessions[-1].held_at == began

    def test_a_stage_change_dated_before_the_stage_it_leaves_is_refused(self) -> None:
        """Leaving a stage cannot have happened before entering it."""
        case, clock = at_stage(State.INTRODUCTION)
        session(case, clock)
        case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        began = case.record.stage_entered_at
        assert began is not None
        assert "happened_before_stage" in codes(
            case, "start_preparation", at=clock(), occurred_at=began - DAY / 24
        )

    def test_the_new_stage_starts_when_a_late_stage_change_happened(self) -> None:
        """A stage change entered late starts the stage when it happened, not when recorded."""
        case, clock = at_stage(State.INTRODUCTION)
        session(case, clock)
        case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        happened = case.record.updated_at
        case.start_preparation(at=clock() + DAY, occurred_at=happened, actor="F1")
        assert case.record.stage_entered_at == happened
        assert replay(case.history, policy=case.policy) == case

    def test_record_keeping_of_any_stage_may_have_happened_earlier(self) -> None:
        """Consent given at the introduction and recorded during preparation is not refused."""
        case, clock = at_stage(State.PREPARATION)
        began = case.record.stage_entered_at
        assert began is not None
        case.give_information("O1", F2F, at=clock(), occurred_at=began - HOUR, actor="F1")
