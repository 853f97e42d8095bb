"""Issue 14, D3: agreements that stay voluntary, enforcement as the law has it, evaluation
after the end, and sessions.

The two regression tests named after the issue's inputs 2 and 4 pin the faults; the classes
below state every new rule both ways (it blocks when broken, it is silent when it holds).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rjflow import (
    ActionRefused,
    ActionStatus,
    AgreementAction,
    AgreementOutcome,
    Attendance,
    Case,
    ClosureReason,
    ContactActivity,
    EnforcementStepKind,
    InvalidInput,
    Policy,
    RJType,
    State,
    VictimUpdateAbout,
)
from rjflow.serialization import dumps, loads, replay

from .builders import SEAL_KEY, Clock, at_stage, codes, consent, ready_supporters, session

F2F = ContactActivity.FACE_TO_FACE
DEADLINE = date(2026, 6, 1)


def _agreement(case: Case, clock: Clock, *ids: str) -> None:
    actions = [AgreementAction(i, "Repair the garden gate", "O1", DEADLINE) for i in ids]
    case.propose_agreement(actions, at=clock(), actor="F1")


def _sign_all(case: Case, clock: Clock) -> None:
    for party in case.record.agreement_missing(case.policy):
        case.sign_agreement(party, at=clock(), actor="F1")


def agreed(*ids: str, policy: Policy | None = None) -> tuple[Case, Clock]:
    """A case at reviews with a binding agreement of actions ``ids`` (default A1, A2) and one
    review session held."""
    kwargs = {} if policy is None else {"policy": policy}
    case, clock = at_stage(State.CONFERENCE, **kwargs)
    _agreement(case, clock, *(ids or ("A1", "A2")))
    _sign_all(case, clock)
    case.start_reviews(at=clock(), actor="F1")
    session(case, clock, 1)
    return case, clock


def progress(case: Case, clock: Clock, action_id: str, status: str) -> None:
    case.record_progress(action_id, status, at=clock(), actor="F1")


def missed(case: Case, clock: Clock) -> None:
    case.record_session(
        duration=timedelta(0), attendance=Attendance.MISSED_UNACCEPTABLE, at=clock(), actor="F1"
    )


# -- the inputs ------------------------------------------------------------------------


def test_input_2_failing_one_agreement_action_never_leads_to_enforcement() -> None:
    """An offender does not finish one action of a signed agreement: the case completes with
    the agreement partly fulfilled; no blocker sends staff to enforcement, and the case cannot
    be closed for enforcement on that ground (UN Basic Principles 2002/12 §17)."""
    case, clock = agreed("A1", "A2")
    progress(case, clock, "A1", "done")
    progress(case, clock, "A2", "not_complied")
    assert case.blockers("complete") == ()
    for option in case.options():  # nothing tells staff to close the case for enforcement
        assert all("(enforcement)" not in b.message for b in option.blockers)
        assert all("'enforcement'" not in b.message for b in option.blockers)
    assert codes(case, "close", reason=ClosureReason.ENFORCEMENT) == {"no_enforcement_grounds"}
    case.complete(at=clock(), actor="F1")
    closure = case.record.closure
    assert closure is not None
    assert closure.reason is ClosureReason.COMPLETED
    assert closure.outcome is AgreementOutcome.PARTLY_FULFILLED
    assert closure.rj_type is RJType.DIRECT


def test_input_2_action_not_complied_with_no_longer_blocks_completion_for_ever() -> None:
    """An action marked not complied with is a final status: it does not block completion,
    and while the agreement still binds the action can be waived with the parties instead."""
    case, clock = agreed("A1")
    progress(case, clock, "A1", "not_complied")
    assert case.can("complete")
    case.waive_agreement_action("A1", at=clock(), actor="F1")
    assert case.record.action_status("A1") is ActionStatus.WAIVED
    case.complete(at=clock(), actor="F1")
    assert case.record.closure is not None
    # Nothing agreed was carried out, so it is not reported as fulfilled (review finding).
    assert case.record.closure.outcome is AgreementOutcome.NOT_FULFILLED


def test_input_4_withdrawn_consent_means_the_signature_no_longer_binds() -> None:
    """A victim withdraws face-to-face consent after the conference: their signature on the
    agreement no longer makes it binding, and a new signature from them is refused until
    they consent again."""
    case, clock = at_stage(State.CONFERENCE)
    _agreement(case, clock, "A1")
    for party in ("O1", "S1", "F1"):
        case.sign_agreement(party, at=clock(), actor="F1")
    case.withdraw_consent("V1", F2F, at=clock(), actor="F1")
    # (a withdrawal is also a material change: risk is assessed again before contact)
    assert codes(case, "sign_agreement", party="V1") == {
        "signer_consent_not_in_force",
        "risk_reassessment_needed",
    }
    assert not case.record.agreement_binding(case.policy)

    signed, clock = at_stage(State.CONFERENCE)
    _agreement(signed, clock, "A1")
    _sign_all(signed, clock)
    assert signed.record.agreement_binding(signed.policy)
    signed.withdraw_consent("V1", F2F, at=clock(), actor="F1")
    assert not signed.record.agreement_binding(signed.policy)
    assert signed.record.agreement_missing(signed.policy) == ("V1",)
    assert "signature_lapsed" in codes(signed, "start_reviews")
    # Consent given again: the signature counts again.
    consent(signed, clock, "V1", F2F)
    assert signed.record.agreement_binding(signed.policy)


# -- agreements ------------------------------------------------------------------------------


class TestAgreementTerms:
    def test_an_action_cannot_be_owned_by_a_facilitator(self) -> None:
        """Actions are owned by the offender, a victim or a supporter, never staff."""
        case, _ = at_stage(State.CONFERENCE)
        staff = [AgreementAction("A1", "Repair", "F1", DEADLINE)]
        assert codes(case, "propose_agreement", actions=staff) == {"responsible_not_participant"}
        supporter = [AgreementAction("A1", "Repair", "S1", DEADLINE)]
        assert codes(case, "propose_agreement", actions=supporter) == set()

    def test_a_deadline_on_the_day_of_the_agreement_is_accepted(self) -> None:
        """The deadline may be the very day the agreement is made, not the day before."""
        case, clock = at_stage(State.CONFERENCE)
        at = clock()
        same_day = [AgreementAction("A1", "Repair", "O1", at.date())]
        day_before = [AgreementAction("A1", "Repair", "O1", at.date() - timedelta(days=1))]
        assert case.blockers("propose_agreement", at=at, actions=same_day) == ()
        refused = case.blockers("propose_agreement", at=at, actions=day_before)
        assert {b.code for b in refused} == {"deadline_before_agreement"}

    def test_the_lead_facilitator_signs_where_policy_says(self) -> None:
        """By default the lead facilitator signs ("signed by all parties"); a service can
        switch that off, and then the facilitator is not a signatory."""
        case, clock = at_stage(State.CONFERENCE)
        _agreement(case, clock, "A1")
        for party in ("O1", "V1", "S1"):
            case.sign_agreement(party, at=clock(), actor="F1")
        assert case.record.agreement_missing(case.policy) == ("F1",)
        assert codes(case, "start_reviews") == {"agreement_unsigned"}
        case.sign_agreement("F1", at=clock(), actor="F1")
        assert case.can("start_reviews")

        policy = Policy(facilitator_signs_agreement=False)
        other, clock = at_stage(State.CONFERENCE, policy=policy)
        _agreement(other, clock, "A1")
        assert codes(other, "sign_agreement", party="F1") == {"not_a_signatory"}
        for party in ("O1", "V1", "S1"):
            other.sign_agreement(party, at=clock(), actor="F1")
        assert other.record.agreement_binding(policy)

    def test_a_shuttle_agreement_needs_shuttle_consent_to_sign(self) -> None:
        """In shuttle mediation a signature needs the signer's shuttle consent in force."""
        case, clock = at_stage(State.SHUTTLE_MEDIATION)
        _agreement(case, clock, "A1")
        assert case.record.agreement is not None
        assert case.record.agreement.activity is ContactActivity.SHUTTLE
        assert case.can("sign_agreement", party="V1")
        case.withdraw_consent("V1", ContactActivity.SHUTTLE, at=clock(), actor="F1")
        # (a withdrawal is also a material change: risk is assessed again before contact)
        assert codes(case, "sign_agreement", party="V1") == {
            "signer_consent_not_in_force",
            "risk_reassessment_needed",
        }


class TestVariation:
    def test_varied_terms_need_everyones_signature_again(self) -> None:
        """Varying clears the signatures: progress and completion wait for the new terms to be
        signed by all; progress on an action that stays is kept."""
        case, clock = agreed("A1", "A2")
        progress(case, clock, "A1", "done")
        new_terms = [
            AgreementAction("A1", "Repair the garden gate", "O1", DEADLINE),
            AgreementAction("A3", "Write a letter", "O1", date(2026, 9, 1)),
        ]
        case.vary_agreement(new_terms, at=clock(), actor="F1")
        agreement = case.record.agreement
        assert agreement is not None
        assert agreement.variations == 1
        assert agreement.signatures == ()
        assert [a.id for a in agreement.actions] == ["A1", "A3"]
        assert case.record.action_status("A1") is ActionStatus.DONE
        assert codes(case, "record_progress", action_id="A3", status="done") == {
            "no_binding_agreement"
        }
        assert "agreement_unsigned" in codes(case, "complete")
        _sign_all(case, clock)
        progress(case, clock, "A3", "done")
        case.complete(at=clock(), actor="F1")
        assert case.record.closure is not None
        assert case.record.closure.outcome is AgreementOutcome.FULFILLED

    def test_variation_checks_its_terms_like_a_proposal(self) -> None:
        """New terms are dated after the variation and owned by a participant."""
        case, _ = agreed("A1")
        staff = [AgreementAction("A1", "Repair", "F1", DEADLINE)]
        late = [AgreementAction("A1", "Repair", "O1", date(2026, 1, 1))]
        assert "responsible_not_participant" in codes(case, "vary_agreement", actions=staff)
        assert "deadline_before_agreement" in codes(case, "vary_agreement", actions=late)


def test_overdue_actions_are_the_ones_to_review() -> None:
    """An action past its deadline without a final status is overdue; done or waived ones
    are not."""
    case, clock = agreed("A1", "A2")
    after = DEADLINE + timedelta(days=1)
    assert case.record.overdue_actions(DEADLINE) == ()
    assert case.record.overdue_actions(after) == ("A1", "A2")
    progress(case, clock, "A1", "done")
    case.waive_agreement_action("A2", at=clock(), actor="F1")
    assert case.record.overdue_actions(after) == ()


class TestWaiver:
    def test_a_waiver_needs_the_agreement_in_force(self) -> None:
        """The parties' agreement to a waiver is evidenced by the agreement binding now: after
        a signer's consent was withdrawn no action can be waived."""
        case, clock = agreed("A1")
        case.withdraw_consent("V1", F2F, at=clock(), actor="F1")
        assert codes(case, "waive_agreement_action", action_id="A1") == {"no_binding_agreement"}

    def test_progress_cannot_waive(self) -> None:
        """Waiving is its own action; record_progress refuses the waived status."""
        case, _ = agreed("A1")
        assert codes(case, "record_progress", action_id="A1", status="waived") == {
            "use_waive_agreement_action"
        }


class TestOutcome:
    @pytest.mark.parametrize(
        ("statuses", "outcome"),
        [
            (("done", "done"), AgreementOutcome.FULFILLED),
            (("done", "not_complied"), AgreementOutcome.PARTLY_FULFILLED),
            (("not_complied", "not_complied"), AgreementOutcome.NOT_FULFILLED),
        ],
    )
    def test_completion_records_the_outcome(
        self, statuses: tuple[str, str], outcome: AgreementOutcome
    ) -> None:
        """The outcome follows the actions' final statuses."""
        case, clock = agreed("A1", "A2")
        progress(case, clock, "A1", statuses[0])
        progress(case, clock, "A2", statuses[1])
        case.complete(at=clock(), actor="F1")
        assert case.record.closure is not None
        assert case.record.closure.outcome is outcome

    def test_an_action_in_progress_blocks_completion(self) -> None:
        """Nothing is left 'in progress' at the end: every action needs a final status."""
        case, clock = agreed("A1")
        progress(case, clock, "A1", "in_progress")
        assert codes(case, "complete") == {"agreement_actions_outstanding"}
        blocker = case.blockers("complete")[0]
        assert "enforcement" not in blocker.message.lower()

    def test_no_agreement_means_no_outcome(self) -> None:
        """A conference without an agreement completes with no agreement outcome."""
        case, clock = at_stage(State.REVIEW)
        session(case, clock, 1)
        case.complete(at=clock(), actor="F1")
        assert case.record.closure is not None
        assert case.record.closure.outcome is None


class TestVictimKeptInformed:
    def test_a_victim_who_asked_is_told_of_the_conclusion_before_completion(self) -> None:
        """Informing of the conclusion is required only when the victim asked to be kept
        informed; a later wish not to be told lifts it."""
        case, clock = at_stage(State.REVIEW)
        session(case, clock, 1)
        assert case.can("complete")
        case.record_victim_wishes("V1", keep_informed=True, at=clock(), actor="F1")
        assert codes(case, "complete") == {"victim_not_informed"}
        case.inform_victim("V1", about=VictimUpdateAbout.PROGRESS, at=clock(), actor="F1")
        assert codes(case, "complete") == {"victim_not_informed"}
        case.record_victim_wishes("V1", keep_informed=False, at=clock(), actor="F1")
        assert case.can("complete")
        case.record_victim_wishes("V1", keep_informed=True, at=clock(), actor="F1")
        case.inform_victim("V1", about="conclusion", at=clock(), actor="F1")
        case.complete(at=clock(), actor="F1")
        assert case.state is State.COMPLETED


# -- enforcement -----------------------------------------------------------------------------


class TestEnforcement:
    def test_a_first_absence_is_a_warning_and_does_not_pause(self) -> None:
        """One unacceptable absence is a recorded warning; the programme goes on."""
        case, clock = at_stage(State.INTRODUCTION)
        missed(case, clock)
        steps = case.record.enforcement_steps(case.policy)
        assert [s.kind for s in steps] == [EnforcementStepKind.WARNING]
        session(case, clock)
        assert "referred_for_enforcement" not in codes(case, "start_preparation")

    def test_the_order_continues_and_so_does_the_programme(self) -> None:
        """A second absence within the window is a referral; when the court lets the order
        continue, the programme resumes; a further absence within the window of the warning
        is referred again."""
        case, clock = at_stage(State.INTRODUCTION)
        missed(case, clock)
        missed(case, clock)
        kinds = [s.kind for s in case.record.enforcement_steps(case.policy)]
        assert kinds == [EnforcementStepKind.WARNING, EnforcementStepKind.BREACH_REFERRAL]
        assert "referred_for_enforcement" in codes(case, "record_session", duration=timedelta(1))
        case.record_breach_outcome("order_continues", at=clock(), actor="F1")
        assert codes(case, "record_breach_outcome", outcome="order_revoked") == {
            "no_breach_referral"
        }
        session(case, clock)
        case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        case.start_preparation(at=clock(), actor="F1")
        missed(case, clock)
        assert case.record.breach_referrals_pending(case.policy) == 1

    def test_an_absence_after_the_window_is_a_new_warning(self) -> None:
        """Absences further apart than ``Policy.enforcement_window`` are two warnings."""
        policy = Policy(enforcement_window=timedelta(days=30))
        case, clock = at_stage(State.INTRODUCTION, policy=policy)
        missed(case, clock)
        late = Clock(clock() + timedelta(days=31))
        missed(case, late)
        kinds = [s.kind for s in case.record.enforcement_steps(policy)]
        assert kinds == [EnforcementStepKind.WARNING, EnforcementStepKind.WARNING]

    def test_a_revoked_order_keeps_the_case_paused_until_closed_for_enforcement(self) -> None:
        """After revocation nothing moves on; the case closes with the reason enforcement."""
        case, clock = at_stage(State.INTRODUCTION)
        missed(case, clock)
        missed(case, clock)
        case.record_breach_outcome("order_revoked", at=clock(), actor="F1")
        assert "order_revoked" in codes(case, "record_session", duration=timedelta(hours=1))
        assert case.can("close", reason="enforcement")
        case.close(reason="enforcement", at=clock(), actor="F1")
        assert case.state is State.CLOSED

    def test_old_absence_events_replay_into_the_same_steps(self) -> None:
        """Sessions saved with missed_unacceptable replay to the same warnings and referrals
        (they are derived state, not events of their own)."""
        case, clock = at_stage(State.INTRODUCTION)
        missed(case, clock)
        missed(case, clock)
        rebuilt = replay(case.history, policy=case.policy)
        assert rebuilt.record.enforcement_steps(case.policy) == case.record.enforcement_steps(
            case.policy
        )
        assert [e.action for e in case.history[-2:]] == ["record_session", "record_session"]


# -- evaluation after the end ----------------------------------------------------------------


class TestEvaluationAfterTheEnd:
    @pytest.mark.parametrize("end", ["complete", "close"])
    def test_an_ended_case_accepts_feedback_follow_up_and_the_conclusion(self, end: str) -> None:
        """Feedback, follow-up contact and informing the victim of the conclusion are recorded
        after the end; every other action is refused, naming what is accepted."""
        case, clock = at_stage(State.REVIEW)
        session(case, clock, 1)
        if end == "complete":
            case.complete(at=clock(), actor="F1")
        else:
            case.close(reason=ClosureReason.OFFENDER_WITHDREW, at=clock(), actor="F1")
        case.record_feedback("V1", satisfaction=4, things_changed=True, at=clock(), actor="F1")
        case.record_follow_up("O1", at=clock(), actor="F1")
        case.inform_victim("V1", about="conclusion", at=clock(), actor="F1")
        assert len(case.record.follow_ups) == 1
        assert codes(case, "inform_victim", victim="V1", about="progress") == {"case_ended"}
        with pytest.raises(ActionRefused) as refused:
            case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
        assert refused.value.blockers[0].code == f"case_{case.state.value}"
        assert "record feedback" in refused.value.blockers[0].message
        assert not case.is_open
        assert "accepts only these evaluation actions" in case.explain()


class TestRJType:
    def test_a_delivered_letter_is_indirect_and_one_held_on_file_is_none(self) -> None:
        """A case with no victim contact cannot complete as direct or indirect RJ."""
        for deliver in (True, False):
            case, clock = at_stage(State.LETTER_OF_APOLOGY)
            consent(case, clock, "V1", ContactActivity.RECEIVE_LETTER)
            session(case, clock)
            case.draft_letter("V1", at=clock(), actor="F1")
            case.review_letter(at=clock(), actor="F1")
            if deliver:
                case.deliver_letter(at=clock(), actor="F1")
            else:
                case.hold_letter_on_file(at=clock(), actor="F1")
            case.start_reviews(at=clock(), actor="F1")
            session(case, clock)
            case.complete(at=clock(), actor="F1")
            assert case.record.closure is not None
            assert case.record.closure.rj_type is (RJType.INDIRECT if deliver else RJType.NONE)

    def test_shuttle_messages_are_indirect_and_an_early_closure_is_none(self) -> None:
        """Messages carried are indirect RJ; a case closed before any contact delivered
        none."""
        case, clock = at_stage(State.SHUTTLE_MEDIATION)
        assert case.record.rj_type is RJType.NONE
        case.record_shuttle_message("V1", "to_victim", at=clock(), actor="F1")
        assert case.record.rj_type is RJType.INDIRECT
        early, clock = at_stage(State.INTRODUCTION)
        early.close(reason=ClosureReason.VICTIM_DECLINED, at=clock(), actor="F1")
        assert early.record.closure is not None
        assert early.record.closure.rj_type is RJType.NONE


# -- sessions --------------------------------------------------------------------------------


class TestSessions:
    def test_the_conference_is_its_own_session(self) -> None:
        """hold_conference records an attended conference session of the given length; it
        counts towards the limit and may not exceed the three hours."""
        case, clock = at_stage(State.PREPARATION)
        session(case, clock)
        case.assess_risk("favourable", at=clock(), actor="F1")
        for party in ("O1", "V1"):
            consent(case, clock, party, F2F)
        ready_supporters(case, clock)  # issue 14: supporters who attend consent and are accepted
        assert codes(case, "hold_conference", duration=timedelta(hours=3, minutes=1)) == {
            "session_too_long"
        }
        held = case.record.sessions_held
        case.hold_conference(at=clock(), actor="F1", duration=timedelta(hours=2))
        last = case.record.sessions[-1]
        assert (last.kind.value, last.duration, last.attended) == (
            "conference",
            timedelta(hours=2),
            True,
        )
        assert case.record.sessions_held == held + 1
        # The conference's own session meets min_conference_sessions (1).
        assert "stage_session_missing" not in codes(case, "start_reviews")

    def test_the_conference_session_counts_towards_the_limit(self) -> None:
        """With a limit of three, introduction + preparation + the conference use them all."""
        case, _ = at_stage(State.CONFERENCE, policy=Policy(max_sessions=3))
        assert case.record.sessions_held == 3
        assert codes(case, "record_session", duration=timedelta(hours=1)) == {
            "session_limit_reached"
        }

    def test_per_stage_minimums_come_from_policy(self) -> None:
        """A service can ask two introduction sessions, or none."""
        two = Policy(min_introduction_sessions=2)
        case, clock = at_stage(State.INTRODUCTION, policy=two)
        case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        session(case, clock)
        assert "stage_session_missing" in codes(case, "start_preparation")
        session(case, clock)
        assert case.can("start_preparation")
        none = Policy(min_introduction_sessions=0)
        quick, clock = at_stage(State.INTRODUCTION, policy=none)
        quick.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        assert quick.can("start_preparation")

    def test_a_policy_cannot_require_more_sessions_than_it_allows(self) -> None:
        """required_sessions is at most max_sessions; minimums are not negative."""
        with pytest.raises(InvalidInput, match="required_sessions"):
            Policy(required_sessions=13)
        with pytest.raises(InvalidInput, match="min_letter_sessions"):
            Policy(min_letter_sessions=-1)
        assert Policy(max_sessions=8, required_sessions=8).required_sessions == 8


def test_a_completed_case_with_its_outcome_saves_and_loads() -> None:
    """The closure's outcome and RJ type load back, replayed or from a sealed snapshot."""
    case, clock = agreed("A1")
    progress(case, clock, "A1", "done")
    case.complete(at=clock(), actor="F1")
    case.record_follow_up("V1", at=clock(), actor="F1")
    assert loads(dumps(case), policy=case.policy) == case
    sealed = dumps(case, seal_key=SEAL_KEY)
    assert loads(sealed, policy=case.policy, seal_key=SEAL_KEY) == case


# -- found by a practitioner's review (issue 14 fixes) -----------------------------------------


@pytest.mark.parametrize("change", ["withdraw_consent", "record_decline"])
def test_a_supporters_withdrawal_or_decline_makes_their_signature_lapse(change: str) -> None:
    """A supporter who signed and then withdraws (or declines) no longer makes the agreement
    bind ("a signature counts only while the signer's consent is in force"); nor may they sign
    new terms until they consent again."""
    case, clock = agreed("A1")
    assert "S1" in case.record.agreement_signatories(case.policy)
    assert case.record.agreement_binding(case.policy)
    if change == "record_decline":
        case.withdraw_consent("S1", F2F, at=clock(), actor="F1")
    case.fire(change, party="S1", activity=F2F, at=clock(), actor="F1")
    assert not case.record.signature_counts("S1")
    assert not case.record.agreement_binding(case.policy)
    assert case.record.agreement_missing(case.policy) == ("S1",)
    assert "signature_lapsed" in codes(case, "complete")
    assert "no_binding_agreement" in codes(case, "record_progress", action_id="A1", status="done")


def test_a_supporter_who_withdrew_cannot_sign_varied_terms() -> None:
    """New terms need the supporter's signature with consent in force, as the offender's and
    the victim's do."""
    case, clock = agreed("A1")
    case.withdraw_consent("S1", F2F, at=clock(), actor="F1")
    case.assess_risk("favourable", at=clock(), actor="F1")  # a withdrawal is a material change
    case.vary_agreement(
        [AgreementAction("A1", "Paint the gate", "O1", DEADLINE)], at=clock(), actor="F1"
    )
    assert "signer_consent_not_in_force" in codes(case, "sign_agreement", party="S1")


def test_a_varied_action_starts_again() -> None:
    """An action whose terms change in a variation is reviewed afresh: its earlier status (done
    or waived, not complied with) was for other terms; an unchanged action keeps its status."""
    case, clock = agreed("A1", "A2", "A3")
    progress(case, clock, "A1", "done")
    progress(case, clock, "A2", "done")
    case.waive_agreement_action("A3", at=clock(), actor="F1")
    kept_a1 = next(a for a in case.record.agreement.actions if a.id == "A1")
    new_a2 = AgreementAction("A2", "A shorter course", "O1", date(2026, 9, 1))
    new_a3 = AgreementAction("A3", "Write again", "O1", date(2026, 9, 1))
    case.vary_agreement([kept_a1, new_a2, new_a3], at=clock(), actor="F1")
    assert case.record.action_status("A1") is ActionStatus.DONE
    assert case.record.action_status("A2") is ActionStatus.NOT_STARTED
    assert case.record.action_status("A3") is ActionStatus.NOT_STARTED
    _sign_all(case, clock)
    assert "agreement_actions_outstanding" in codes(case, "complete")


def test_an_action_dropped_then_brought_back_by_a_variation_starts_again() -> None:
    """An id used again for new terms does not inherit the status of the action it once named."""
    case, clock = agreed("A1", "A2")
    progress(case, clock, "A2", "not_complied")
    kept_a1 = next(a for a in case.record.agreement.actions if a.id == "A1")
    case.vary_agreement([kept_a1], at=clock(), actor="F1")
    _sign_all(case, clock)
    back = AgreementAction("A2", "Something new", "O1", date(2026, 9, 1))
    case.vary_agreement([kept_a1, back], at=clock(), actor="F1")
    assert case.record.action_status("A2") is ActionStatus.NOT_STARTED


def test_varying_needs_a_current_favourable_risk_assessment() -> None:
    """Varying the agreement brings the parties together again: risk must be current and
    favourable, as for proposing and signing."""
    case, clock = agreed("A1")
    actions = [AgreementAction("A1", "Repair the gate", "O1", date(2028, 1, 1))]
    later = case.record.updated_at + timedelta(days=400)
    expired = {b.code for b in case.blockers("vary_agreement", at=later, actions=actions)}
    assert expired == {"risk_assessment_expired"}
    case.assess_risk("unfavourable", at=clock(), actor="F1")
    assert "risk_unfavourable" in codes(case, "vary_agreement", actions=actions)


def test_an_agreement_whose_actions_were_all_waived_is_not_fulfilled() -> None:
    """Every action waived: nothing agreed was carried out, so the case completes with the
    agreement not fulfilled (never reported as fulfilled)."""
    case, clock = agreed("A1", "A2")
    case.waive_agreement_action("A1", at=clock(), actor="F1")
    case.waive_agreement_action("A2", at=clock(), actor="F1")
    case.complete(at=clock(), actor="F1")
    assert case.record.closure is not None
    assert case.record.closure.outcome is AgreementOutcome.NOT_FULFILLED


def test_a_refused_variation_leaves_the_signed_terms_in_force() -> None:
    """The victim will not sign the varied terms: the variation is withdrawn, the signed terms
    (and their actions' statuses) stay in force, and the case reviews and completes."""
    case, clock = agreed("A1", "A2")
    progress(case, clock, "A1", "done")
    signed = case.record.agreement
    new_a1 = AgreementAction("A1", "Different terms", "O1", date(2026, 9, 1))
    case.vary_agreement([new_a1], at=clock(), actor="F1")
    case.sign_agreement("O1", at=clock(), actor="F1")
    stuck = case.blockers("complete")
    assert any("withdraw_variation" in b.message for b in stuck)
    case.withdraw_variation(at=clock(), actor="F1")
    assert case.record.agreement == signed
    assert case.record.agreement_binding(case.policy)
    assert case.record.action_status("A1") is ActionStatus.DONE
    assert codes(case, "withdraw_variation") == {"no_variation_pending"}
    progress(case, clock, "A2", "done")
    case.complete(at=clock(), actor="F1")
    assert case.record.closure is not None
    assert case.record.closure.outcome is AgreementOutcome.FULFILLED
    assert replay(case.history, policy=case.policy) == case
    assert loads(dumps(case), policy=case.policy) == case


def test_a_variation_everyone_signed_cannot_be_withdrawn() -> None:
    """Once every signatory signed the varied terms they are the agreement in force."""
    case, clock = agreed("A1")
    case.vary_agreement(
        [AgreementAction("A1", "New", "O1", date(2026, 9, 1))], at=clock(), actor="F1"
    )
    _sign_all(case, clock)
    assert codes(case, "withdraw_variation") == {"no_variation_pending"}
    case.withdraw_consent("V1", F2F, at=clock(), actor="F1")  # a lapse is not a pending variation
    assert codes(case, "withdraw_variation") == {"no_variation_pending"}
