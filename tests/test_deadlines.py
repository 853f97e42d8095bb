"""Deadlines (issue 13): every dated obligation of a case, judged at the caller's time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from rjflow import (
    AgreementAction,
    Attendance,
    ContactActivity,
    InvalidDocument,
    InvalidInput,
    OffenceCategory,
    Policy,
    RiskOutcome,
    State,
    Victim,
)
from rjflow.deadlines import CODES, DueState, due, next_due, overdue_by_facilitator
from rjflow.demo import DEMO_START, build_demo_case
from rjflow.erasure import erase_free_text
from rjflow.serialization import loads
from tests.builders import KEYRING, at_stage, consent, new_case, session

DAY = timedelta(days=1)


def _codes(case, at):  # type: ignore[no-untyped-def]
    return {(o.code, o.subject): o for o in case.due(at)}


def _in_review(deadline: date = date(2026, 4, 1)):  # type: ignore[no-untyped-def]
    case, clock = at_stage(State.CONFERENCE)
    case.propose_agreement(
        [AgreementAction("A1", "Mend it", "O1", deadline)], at=clock(), actor="F1"
    )
    for party in ("O1", "V1", "S1", "F1"):
        case.sign_agreement(party, at=clock(), actor="F1")
    session(case, clock, 1)
    case.start_reviews(at=clock(), actor="F1")
    return case, clock


class TestStates:
    def test_a_referred_case_owes_first_contact_from_its_referral(self) -> None:
        """Unconatcted victim: upcoming, then due within due_soon_within, then overdue."""
        case, _ = new_case()
        opened = case.record.opened_at
        limit = opened + case.policy.first_contact_within
        states = [
            _codes(case, t)[("first_contact_due", "V1")].state
            for t in (
                opened,
                limit - timedelta(days=7, seconds=1),
                limit - DAY,
                limit,
                limit + timedelta(seconds=1),
            )
        ]
        assert states == [
            DueState.UPCOMING,
            DueState.UPCOMING,
            DueState.DUE,
            DueState.DUE,
            DueState.OVERDUE,
        ]
        assert _codes(case, opened)[("first_contact_due", "V1")].due_at == opened + timedelta(
            days=10
        )

    def test_information_given_to_the_victim_is_first_contact(self) -> None:
        case, clock = at_stage(State.PREPARATION)
        assert ("first_contact_due", "V1") in _codes(case, clock())
        case.give_information("V1", ContactActivity.SHUTTLE, at=clock(), actor="F1")
        assert ("first_contact_due", "V1") not in _codes(case, clock())

    def test_a_victim_added_later_is_counted_from_joining(self) -> None:
        case, clock = at_stage(State.INTRODUCTION)
        joined = clock() + 20 * DAY
        case.add_party(Victim("V2"), at=joined, actor="F1")
        found = _codes(case, joined)[("first_contact_due", "V2")]
        assert found.due_at == joined + case.policy.first_contact_within

    def test_request_only_offences_wait_for_the_victim(self) -> None:
        """The service does not make the first approach for sexual harm: nothing is due."""
        case, clock = new_case(category=OffenceCategory.SEXUAL_OFFENCE)
        assert ("first_contact_due", "V1") not in _codes(case, clock() + 30 * DAY)
        asked = clock() + 40 * DAY
        case.record_request("V1", at=asked, actor="F1")
        found = _codes(case, asked)[("first_contact_due", "V1")]
        assert found.due_at == asked + case.policy.first_contact_within

    def test_naive_time_is_refused(self) -> None:
        case, _ = new_case()
        with pytest.raises(InvalidInput):
            case.due(datetime(2026, 12, 1))  # noqa: DTZ001 - the fault under test

    def test_an_ended_case_owes_nothing(self) -> None:
        assert build_demo_case().due(DEMO_START + 900 * DAY) == ()


class TestAgreementAndReview:
    def test_an_action_is_overdue_exactly_when_the_record_says_so(self) -> None:
        """The independent rule: CaseRecord.overdue_actions (deadline before the day)."""
        case, _ = _in_review(date(2026, 4, 1))
        for day in (date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 2)):
            for hour in (0, 23):
                at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
                found = _codes(case, at)[("agreement_action_due", "A1")]
                overdue = "A1" in case.record.overdue_actions(at.date())
                assert (found.state is DueState.OVERDUE) == overdue, at

    def test_a_final_action_is_not_due(self) -> None:
        case, clock = _in_review()
        case.record_progress("A1", "done", at=clock(), actor="F1")
        assert ("agreement_action_due", "A1") not in _codes(case, clock())

    def test_the_next_review_counts_from_the_last_review_session(self) -> None:
        case, clock = _in_review()
        started = case.history[-1].at
        assert _codes(case, started)[("review_due", None)].due_at == started + 28 * DAY
        held = clock() + 5 * DAY
        case.record_session(duration=timedelta(hours=1), at=held, actor="F1")
        assert _codes(case, held)[("review_due", None)].due_at == held + 28 * DAY
        missed = held + 30 * DAY
        case.record_session(
            duration=timedelta(0), attendance=Attendance.MISSED_ACCEPTABLE, at=missed, actor="F1"
        )
        # a missed review is not a review held: still due from the one held
        assert _codes(case, missed)[("review_due", None)].state is DueState.OVERDUE


class TestRisk:
    def test_reassessment_falls_due_when_the_rules_start_refusing(self) -> None:
        """Independent: the safeguarding rule's own blocker ``risk_assessment_expired``."""
        case, clock = at_stage(State.PREPARATION)
        case.assess_risk(RiskOutcome.FAVOURABLE, at=clock(), actor="F1")
        made = case.record.risk_assessments[-1].at
        found = _codes(case, clock())[("risk_reassessment_due", None)]
        assert found.due_at == made + case.policy.risk_assessment_valid_for
        for at in (found.due_at, found.due_at + timedelta(seconds=1)):
            expired = "risk_assessment_expired" in {
                b.code for b in case.blockers("choose_shuttle_mediation", at=at)
            }
            overdue = _codes(case, at)[("risk_reassessment_due", None)].state is DueState.OVERDUE
            assert expired == overdue

    def test_a_material_change_makes_reassessment_due_from_the_change(self) -> None:
        case, clock = at_stage(State.PREPARATION)
        case.assess_risk(RiskOutcome.FAVOURABLE, at=clock(), actor="F1")
        changed = clock()
        case.record_new_information(at=changed, actor="F1")
        found = _codes(case, changed + DAY)[("risk_reassessment_due", None)]
        assert found.due_at == changed and found.state is DueState.OVERDUE
        case.assess_risk(RiskOutcome.FAVOURABLE, at=clock(), actor="F1")
        assert _codes(case, clock())[("risk_reassessment_due", None)].state is DueState.UPCOMING


class TestIdleAndEnforcement:
    def test_idle_counts_from_the_last_change(self) -> None:
        case, _ = at_stage(State.INTRODUCTION)
        last = case.history[-1].at
        found = _codes(case, last)[("case_idle", None)]
        assert found.due_at == last + Policy().idle_after

    def test_an_erasure_is_not_activity(self) -> None:
        """Erasing free text (data protection) does not reset the no-activity clock."""
        case, clock = _in_review()
        last = case.history[-1].at
        erase_free_text(case, at=clock() + 20 * DAY, actor="M1")
        assert case.history[-1].action == "erase_free_text"
        assert _codes(case, last)[("case_idle", None)].due_at == last + Policy().idle_after

    def test_a_warning_and_a_referral_for_breach(self) -> None:
        case, clock = at_stage(State.INTRODUCTION)
        for _ in range(2):
            case.record_session(
                duration=timedelta(0),
                attendance=Attendance.MISSED_UNACCEPTABLE,
                at=clock(),
                actor="F1",
            )
        at = clock()
        found = _codes(case, at)
        steps = case.record.enforcement_steps(case.policy)
        assert found[("warning_window_ends", None)].due_at == steps[0].at + timedelta(days=365)
        assert found[("breach_outcome_due", None)].due_at == steps[1].at + timedelta(days=28)
        case.record_breach_outcome("order_continues", at=at, actor="F1")
        assert ("breach_outcome_due", None) not in _codes(case, at)
        # once the window has closed it asks for nothing
        assert ("warning_window_ends", None) not in _codes(case, at + 400 * DAY)


class TestShape:
    def test_messages_are_sentences_naming_ids_only(self) -> None:
        case, _ = _in_review()
        consent_case, clock = new_case()
        consent(consent_case, clock, "O1", ContactActivity.SHUTTLE)
        for obligation in (*case.due(DEMO_START + 90 * DAY), *consent_case.due(clock())):
            assert obligation.code in CODES
            assert obligation.message.endswith(".") and obligation.message[0].isupper()
            assert "Mend it" not in obligation.message
            assert obligation.due_at.tzinfo is UTC

    def test_next_due_and_the_caseload_view(self) -> None:
        one, _ = new_case(case_id="C1")
        two, _ = _in_review()
        at = DEMO_START + 60 * DAY
        assert next_due(one, at) == min(o.due_at for o in due(one, at))
        groups = overdue_by_facilitator(iter([one, two]), at)
        assert set(groups) == {"F1"}
        pairs = groups["F1"]
        assert {case_id for case_id, _ in pairs} == {"C1"}  # both builders use C1
        assert all(o.state is DueState.OVERDUE for _, o in pairs)
        assert [o.due_at for _, o in pairs] == sorted(o.due_at for _, o in pairs)


def test_across_a_synthetic_caseload() -> None:
    """On 600 synthetic cases at three times: states follow the due times, the list is in
    order, ended cases owe nothing, and overdue agreement actions are exactly the record's."""
    from tests.synthetic import synthetic_caseload  # noqa: PLC0415

    soon = Policy().due_soon_within
    seen: set[str] = set()
    for case in synthetic_caseload(600, seed=3):
        for at in (
            datetime(2026, 1, 15, tzinfo=UTC),
            datetime(2026, 7, 1, tzinfo=UTC),
            datetime(2027, 3, 1, tzinfo=UTC),
        ):
            found = case.due(at)
            if not case.is_open:
                assert found == ()
                continue
            assert list(found) == sorted(found, key=lambda o: (o.due_at, o.code, o.subject or ""))
            for o in found:
                seen.add(o.code)
                expected = (
                    DueState.OVERDUE
                    if at > o.due_at
                    else DueState.DUE
                    if at >= o.due_at - soon
                    else DueState.UPCOMING
                )
                assert o.state is expected
            overdue = {
                o.subject
                for o in found
                if o.code == "agreement_action_due" and o.state is DueState.OVERDUE
            }
            if case.record.agreement_binding(case.policy):
                assert overdue == set(case.record.overdue_actions(at.date()))
    assert seen >= set(CODES) - {"breach_outcome_due"}


class TestSealedRecordsStayGood:
    """Regression: adding the deadline values to Policy changed its fingerprint, so a record
    sealed by the previous release (the demo case, sealed with the tests' keyring by commit
    ca54287, in tests/fixtures/sealed-before-deadlines.json) no longer loaded with the key."""

    FIXTURE = Path(__file__).parent / "fixtures" / "sealed-before-deadlines.json"

    def test_a_record_sealed_before_the_deadline_values_still_loads(self) -> None:
        case = loads(self.FIXTURE.read_text(encoding="utf-8"), keyring=KEYRING)
        assert case.record == build_demo_case().record  # (free-text salts differ)

    def test_deadline_values_leave_a_sealed_record_good(self) -> None:
        text = self.FIXTURE.read_text(encoding="utf-8")
        other = Policy(idle_after=timedelta(days=5), review_every=timedelta(days=14))
        assert loads(text, keyring=KEYRING, policy=other).policy == other
        # ...but a value that judges actions still does not
        with pytest.raises(InvalidDocument):
            loads(text, keyring=KEYRING, policy=Policy(max_sessions=11))
