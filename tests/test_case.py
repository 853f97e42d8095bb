"""The Case API: the programme's seed rules, atomic refusals, clear errors, closure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from rjflow import (
    ActionRefused,
    AgreementAction,
    Attendance,
    Case,
    ClosureReason,
    ContactActivity,
    InvalidDocument,
    InvalidInput,
    Offence,
    OffenceCategory,
    Policy,
    State,
    UnknownAction,
    Victim,
)
from rjflow.serialization import loads
from rjflow.states import OPEN_STATES

from .builders import Clock, at_stage, consent, new_case, ready_supporters, session


def snapshot(case: Case) -> tuple[object, ...]:
    return (case.record, case.history, case.version, case.state)


class TestTheProgrammeOfTwelveSessions:
    def test_a_thirteenth_session_is_refused_and_changes_nothing(self) -> None:
        """Twelve sessions is the programme; the thirteenth is refused with a clear reason."""
        case, clock = at_stage(State.INTRODUCTION)
        for _ in range(12):
            session(case, clock)
        before = snapshot(case)
        with pytest.raises(ActionRefused) as refused:
            session(case, clock)
        assert refused.value.codes == ("session_limit_reached",)
        assert "12 sessions" in str(refused.value)
        assert snapshot(case) == before

    def test_a_session_of_three_hours_and_one_minute_is_refused(self) -> None:
        """Each session lasts up to three hours: 3 h passes, 3 h 01 min does not."""
        case, clock = at_stage(State.INTRODUCTION)
        case.record_session(duration=timedelta(hours=3), at=clock(), actor="F1")
        before = snapshot(case)
        with pytest.raises(ActionRefused) as refused:
            case.record_session(duration=timedelta(hours=3, minutes=1), at=clock(), actor="F1")
        assert refused.value.codes == ("session_too_long",)
        assert "3 h 01 min" in refused.value.blockers[0].message
        assert snapshot(case) == before

    def test_missed_sessions_do_not_use_up_the_programme(self) -> None:
        """An acceptable absence is recorded but does not count towards the twelve."""
        case, clock = at_stage(State.INTRODUCTION)
        case.record_session(
            duration=timedelta(0), attendance=Attendance.MISSED_ACCEPTABLE, at=clock(), actor="F1"
        )
        assert case.record.sessions_held == 0
        assert case.record.sessions[0].number == 1

    def test_unacceptable_absences_refer_the_case_for_enforcement(self) -> None:
        """A second unacceptable absence within the window of a warning refers the case for
        breach: the programme pauses; once the court revokes the order, it is closed for
        enforcement (Sentencing Act 2020, Sch. 10)."""
        case, clock = at_stage(State.INTRODUCTION)
        for _ in range(2):
            case.record_session(
                duration=timedelta(0), attendance="missed_unacceptable", at=clock(), actor="F1"
            )
        assert "referred_for_enforcement" in {b.code for b in case.blockers("start_preparation")}
        case.record_breach_outcome("order_revoked", at=clock(), actor="F1")
        assert "order_revoked" in {b.code for b in case.blockers("start_preparation")}
        case.close(reason=ClosureReason.ENFORCEMENT, at=clock(), actor="F1")
        assert case.record.closure is not None
        assert case.record.closure.reason is ClosureReason.ENFORCEMENT

    def test_sessions_follow_the_stage(self) -> None:
        """A session's kind is the stage's: introduction first, then preparation."""
        case, _ = at_stage(State.PREPARATION)
        assert [s.kind.value for s in case.record.sessions] == ["introduction"]


class TestConsent:
    def test_withdrawal_blocks_the_conference_at_once(self) -> None:
        """Consent can be withdrawn at any time; what depended on it is blocked immediately."""
        case, clock = at_stage(State.PREPARATION)
        session(case, clock)
        case.assess_risk("favourable", at=clock(), actor="F1")
        consent(case, clock, "O1", ContactActivity.FACE_TO_FACE)
        consent(case, clock, "V1", ContactActivity.FACE_TO_FACE)
        ready_supporters(case, clock)  # V1's supporter S1 attends too: consents, accepted
        assert case.can("hold_conference")
        case.withdraw_consent("V1", ContactActivity.FACE_TO_FACE, at=clock(), actor="F1")
        # A withdrawal is also a material change (issue 14): risk must be assessed again.
        assert [b.code for b in case.blockers("hold_conference")] == [
            "risk_reassessment_needed",
            "victim_consent_withdrawn",
        ]

    def test_consent_is_per_activity(self) -> None:
        """Agreeing to indirect contact is not agreeing to meet."""
        case, clock = at_stage(State.PREPARATION)
        consent(case, clock, "V1", ContactActivity.SHUTTLE)
        assert "victim_consent_missing" in {b.code for b in case.blockers("hold_conference")}

    def test_a_conference_for_some_victims_only(self) -> None:
        """With two victims, the one who consents may meet the offender without the other."""
        case, clock = at_stage(State.PREPARATION, victims=(Victim("V1"), Victim("V2")))
        session(case, clock)
        case.assess_risk("favourable", at=clock(), actor="F1")
        consent(case, clock, "O1", ContactActivity.FACE_TO_FACE)
        consent(case, clock, "V1", ContactActivity.FACE_TO_FACE)
        ready_supporters(case, clock)  # V1's supporter consents and O1 accepts them
        assert [b.subject for b in case.blockers("hold_conference")] == ["V2"]
        case.hold_conference(victims=["V1"], at=clock(), actor="F1")
        assert case.record.conference is not None
        assert case.record.conference.victims == ("V1",)
        assert case.record.conference.supporters == ("S1",)


class TestRefusalsChangeNothing:
    def test_every_blocker_is_listed_in_one_error(self) -> None:
        """A blocked trigger raises one error with every reason and its codes."""
        case, _ = at_stage(State.PREPARATION, category=OffenceCategory.THEFT)
        before = snapshot(case)
        with pytest.raises(ActionRefused) as refused:
            case.hold_conference(at=case.record.updated_at, actor="F1")
        err = refused.value
        assert err.case_id == "C1"
        assert err.state == "preparation"
        assert err.action == "hold_conference"
        assert len(err.codes) >= 4
        assert "offence_not_eligible" in err.codes
        for i, blocker in enumerate(err.blockers, 1):
            assert f"({i}) {blocker.message}" in str(err)
        assert snapshot(case) == before

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"at": datetime(2026, 3, 5, 9, 0)}, "timezone-aware"),  # noqa: DTZ001
            ({"at": "2026-03-05"}, "timezone-aware datetime"),
            ({"actor": "Jane Smith"}, "opaque id"),
            ({"actor": ""}, "opaque id"),
        ],
    )
    def test_malformed_time_or_actor_is_refused(
        self, kwargs: dict[str, object], fragment: str
    ) -> None:
        """Time and actor are checked before anything else; the case is untouched."""
        case, clock = at_stage(State.INTRODUCTION)
        before = snapshot(case)
        args: dict[str, object] = {"at": clock(), "actor": "F1", **kwargs}
        with pytest.raises(InvalidInput, match=fragment):
            case.record_session(duration=timedelta(hours=1), **args)  # type: ignore[arg-type]
        assert snapshot(case) == before

    def test_the_rejected_name_is_not_echoed(self) -> None:
        """An actor given as a person's name is refused without repeating the name."""
        case, clock = at_stage(State.INTRODUCTION)
        with pytest.raises(InvalidInput) as err:
            case.record_session(duration=timedelta(hours=1), at=clock(), actor="Jane Smith")
        assert "Jane" not in str(err.value)

    def test_time_runs_forwards(self) -> None:
        """A change dated before the last one is refused: the history stays in order."""
        case, _ = at_stage(State.INTRODUCTION)
        earlier = case.record.updated_at - timedelta(minutes=1)
        with pytest.raises(InvalidInput, match="earlier than the case's last change"):
            case.record_session(duration=timedelta(hours=1), at=earlier, actor="F1")

    @pytest.mark.parametrize(
        "data",
        [
            {"duration": timedelta(hours=-1)},
            {"duration": timedelta(0)},
            {"duration": 7200},
            {"duration": timedelta(hours=1), "attendance": "absent"},
            {"duration": timedelta(hours=1), "attendance": "missed_acceptable"},
            {"duration": timedelta(hours=1), "room": "B"},
        ],
    )
    def test_invalid_session_input_is_refused(self, data: dict[str, object]) -> None:
        """Malformed session input is refused as InvalidInput and changes nothing."""
        case, clock = at_stage(State.INTRODUCTION)
        before = snapshot(case)
        with pytest.raises(InvalidInput):
            case.fire("record_session", at=clock(), actor="F1", **data)
        assert snapshot(case) == before

    def test_unknown_action(self) -> None:
        """A misspelt action names the ones that exist."""
        case, clock = new_case()
        with pytest.raises(UnknownAction, match="start_introduction"):
            case.fire("begin", at=clock(), actor="F1")


class TestClosure:
    @pytest.mark.parametrize("stage", [s for s in OPEN_STATES if s is not State.CONFERENCE])
    def test_every_open_stage_can_close(self, stage: State) -> None:
        """Closure is possible from every open stage, with a reason."""
        if stage is State.SHUTTLE_MEDIATION or stage is State.LETTER_OF_APOLOGY:
            case, clock = at_stage(stage)
        else:
            case, clock = at_stage(stage)
        case.close(reason=ClosureReason.VICTIM_WITHDREW, at=clock(), actor="F1")
        assert case.state is State.CLOSED
        assert case.history[-1].from_state == stage.value

    def test_closure_from_conference(self) -> None:
        """Closure from the conference stage too."""
        case, clock = at_stage(State.CONFERENCE)
        case.close(reason="offender_withdrew", at=clock(), actor="F1")
        assert case.state is State.CLOSED

    def test_closed_and_completed_accept_only_evaluation(self) -> None:
        """An ended case offers only the evaluation actions and refuses every other action,
        saying why."""
        case, clock = new_case()
        case.close(reason=ClosureReason.UNSUITABLE, at=clock(), actor="F1")
        assert {o.action for o in case.options()} == {
            "record_feedback",
            "record_follow_up",
            "inform_victim",
            # issue 14 fixes: a held letter is delivered, consent withdrawn, after the end too
            "give_information",
            "record_consent",
            "deliver_letter",
            "withdraw_consent",
            "record_decline",
            "decline_all",
        }
        with pytest.raises(ActionRefused) as refused:
            case.record_sentence(sentenced_on=clock().date(), at=clock(), actor="F1")
        assert refused.value.codes == ("case_closed",)

    def test_other_needs_a_note_and_completed_is_not_a_closure(self) -> None:
        """'other' needs a note; 'completed' is what complete does, not close."""
        case, clock = new_case()
        assert case.blockers("close", reason="other")[0].code == "closure_note_required"
        assert case.blockers("close", reason="completed")[0].code == "use_complete"
        case.close(reason="other", note="Offender moved to another area", at=clock(), actor="F1")
        assert case.record.closure is not None
        assert case.record.closure.note == "Offender moved to another area"


class TestQuestions:
    def test_options_list_each_action_of_the_stage_with_reasons(self) -> None:
        """options() is exactly the stage's actions, each allowed iff it has no blockers."""
        case, _ = at_stage(State.PREPARATION)
        options = {o.action: o for o in case.options()}
        assert options["hold_conference"].leads_to is State.CONFERENCE
        assert not options["hold_conference"].allowed
        assert options["record_session"].allowed
        for name, option in options.items():
            assert option.allowed == case.can(name)
            assert option.blockers == case.blockers(name)

    def test_explain_is_plain_text_for_a_caseworker(self) -> None:
        """explain() says where the case is and why each thing is or is not possible."""
        case, _ = new_case(sentenced=False)
        text = case.explain()
        assert "referred stage" in text
        assert "[no ] start_introduction" in text
        assert "Record the sentence date first." in text

    def test_cases_are_equal_by_content(self) -> None:
        """Two cases built the same way are equal; a further change makes them differ."""
        a, clock_a = new_case()
        b, _ = new_case()
        assert a == b
        a.record_sentence(sentenced_on=clock_a().date(), at=clock_a(), actor="F1")
        assert a != b
        assert repr(a).startswith("<Case C1 at referred")


def test_open_validates_the_parties() -> None:
    """A case needs victims by id, and a lead facilitator who is one of its facilitators."""
    t = datetime(2026, 1, 1, tzinfo=UTC)
    offence = Offence(OffenceCategory.VIOLENCE)
    with pytest.raises(InvalidInput, match="list of ids"):
        Case.open("C1", offence=offence, offender="O1", victims="V1", at=t, actor="F1")
    with pytest.raises(InvalidInput, match="at least one victim"):
        Case.open("C1", offence=offence, offender="O1", victims=[], at=t, actor="F1")
    with pytest.raises(InvalidInput, match="share the id O1"):
        Case.open("C1", offence=offence, offender="O1", victims=["O1"], at=t, actor="F1")
    with pytest.raises(InvalidInput, match="not one of the case's facilitators"):
        Case.open(
            "C1",
            offence=offence,
            offender="O1",
            victims=["V1"],
            lead_facilitator="F1",
            at=t,
            actor="F1",
        )


def test_policy_values_are_checked() -> None:
    """A policy with impossible values is refused when it is made."""
    with pytest.raises(InvalidInput, match="max_sessions"):
        Policy(max_sessions=0)
    with pytest.raises(InvalidInput, match="offence categories"):
        Policy(conference_categories="violence")  # type: ignore[arg-type]


def test_clock_helper_moves_forward() -> None:
    """The tests' clock hands out increasing times."""
    clock = Clock()
    assert clock() < clock()


def test_review_stage_needs_the_policys_review_sessions() -> None:
    """With min_review_sessions=2, one review session is not enough to complete."""
    case, clock = at_stage(State.REVIEW, policy=Policy(min_review_sessions=2))
    session(case, clock)
    (blocker,) = case.blockers("complete")
    assert blocker.code == "stage_session_missing"
    assert "needs 2 attended sessions" in blocker.message
    session(case, clock)
    case.complete(at=clock(), actor="F1")
    assert case.state is State.COMPLETED
    assert case.record.closure is not None
    assert case.record.closure.reason is ClosureReason.COMPLETED


def test_options_without_input_still_say_when_nothing_can_be_done() -> None:
    """Withdrawing with no consent in force, or signing a fully signed agreement, is shown as
    blocked even before the caseworker picks a party."""
    case, clock = at_stage(State.PREPARATION)
    assert [b.code for b in case.blockers("withdraw_consent")] == ["no_consent_to_withdraw"]
    consent(case, clock, "V1", ContactActivity.FACE_TO_FACE)
    assert case.can("withdraw_consent")
    conference, clock = at_stage(State.CONFERENCE)
    conference.propose_agreement(
        [AgreementAction("A1", "Repair", "O1", date(2026, 6, 1))], at=clock(), actor="F1"
    )
    assert conference.can("sign_agreement")
    for party in ("O1", "V1", "S1", "F1"):
        conference.sign_agreement(party, at=clock(), actor="F1")
    assert [b.code for b in conference.blockers("sign_agreement")] == ["already_signed"]


def test_party_mistakes_name_the_shared_id_and_the_fix() -> None:
    """Found by a newcomer: "Two parties share an id" did not say which (ids are validated, so
    naming one is safe), and a facilitator given as a bare id did not say how to wrap it."""
    t = datetime(2026, 1, 1, tzinfo=UTC)
    offence = Offence(OffenceCategory.VIOLENCE)
    with pytest.raises(InvalidInput, match="share the id V1;"):
        Case.open("C1", offence=offence, offender="O1", victims=["V1", "V1"], at=t, actor="F1")
    with pytest.raises(InvalidInput, match=r'Facilitator\("F1"\)'):
        Case.open(
            "C1",
            offence=offence,
            offender="O1",
            victims=["V1"],
            facilitators=["F1"],  # type: ignore[list-item]
            at=t,
            actor="F1",
        )


def test_a_document_without_schema_version_is_not_a_saved_case() -> None:
    with pytest.raises(InvalidDocument, match="no schema_version: it is not a saved rjflow case"):
        loads("{}")
