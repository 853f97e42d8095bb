"""Issue 14, D1: change of mind, people and letters, as practice runs them.

One regression test per input of the issue this part owns (inputs 1, 3, 7 and 8), named after
it, then the new rules both ways: blocked, and passing once what they ask for is recorded.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rjflow import (
    ActionRefused,
    AgreementAction,
    Case,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    Event,
    Facilitator,
    InvalidInput,
    LetterStatus,
    Offence,
    OffenceCategory,
    Offender,
    PartyRequest,
    Policy,
    PractitionerLevel,
    RJType,
    State,
    Supporter,
    Victim,
)
from rjflow.serialization import dumps, loads, replay

from .builders import SEAL_KEY, Clock, at_stage, codes, consent, new_case, session

F2F = ContactActivity.FACE_TO_FACE
SHUTTLE = ContactActivity.SHUTTLE
LETTER = ContactActivity.RECEIVE_LETTER
SEXUAL = OffenceCategory.SEXUAL_OFFENCE


def prepared(**kwargs: object) -> tuple[Case, Clock]:
    """A case at preparation with a session held and a favourable risk assessment."""
    case, clock = at_stage(State.PREPARATION, **kwargs)  # type: ignore[arg-type]
    session(case, clock)
    sensitive = case.policy.is_sensitive(case.record.offence.category)
    case.assess_risk(
        "favourable",
        enhanced=sensitive,
        approved_by="M1" if sensitive else None,
        at=clock(),
        actor="F1",
    )
    return case, clock


def ready_to_meet(case: Case, clock: Clock, *parties: str) -> None:
    for party in parties:
        consent(case, clock, party, F2F)


def assert_roundtrip(case: Case) -> None:
    """What rjflow accepted loads back, by replay and from a sealed snapshot."""
    assert replay(case.history, policy=case.policy) == case
    sealed = dumps(case, seal_key=SEAL_KEY)
    assert loads(sealed, policy=case.policy, seal_key=SEAL_KEY) == case


# -- the inputs ---------------------------------------------------------------------


def test_input_1_victim_who_declined_may_come_back() -> None:
    """A victim declines meeting; weeks later they phone and ask for a meeting. The service
    could not approach them (and still cannot, unasked), but their own request lifts the
    decline, and the history says so."""
    case, clock = prepared()
    case.record_decline("V1", F2F, at=clock(), actor="F1")
    refused = case.blockers("give_information", party="V1", activity=F2F)
    assert [b.code for b in refused] == ["party_declined"]
    assert "record_request" in refused[0].message  # says how to record their return
    assert codes(case, "give_information", party="O1", activity=F2F) == set()

    clock.start += timedelta(weeks=3)  # weeks later, the victim phones the service
    event = case.record_request("V1", F2F, at=clock(), actor="F1")
    assert event.action == "record_request"
    assert event.data == {"party": "V1", "activity": "face_to_face"}
    assert case.record.requests[-1].party == "V1"
    ready_to_meet(case, clock, "V1", "O1")
    case.hold_conference(supporters=[], at=clock(), actor="F1")  # V1 comes without S1
    assert case.state is State.CONFERENCE
    assert_roundtrip(case)


def test_input_3_supporter_informed_consenting_and_accepted_before_attending() -> None:
    """A supporter brought to the conference without information or consent is refused; once
    informed, consenting and accepted by the offender they attend (and only then sign)."""
    case, clock = prepared()
    ready_to_meet(case, clock, "O1", "V1")
    assert {"supporter_consent_missing", "supporter_not_accepted"} <= codes(
        case, "hold_conference", supporters=("S1",)
    )
    case.give_information("S1", F2F, at=clock(), actor="F1")
    case.record_consent("S1", F2F, at=clock(), actor="F1")
    assert codes(case, "hold_conference", supporters=("S1",)) == {"supporter_not_accepted"}
    case.accept_supporter("S1", by="O1", at=clock(), actor="F1")
    case.hold_conference(supporters=["S1"], at=clock(), actor="F1")
    assert case.record.conference is not None
    assert case.record.conference.supporters == ("S1",)
    assert_roundtrip(case)


def test_input_3_an_unready_supporter_holds_the_conference_back_until_left_out() -> None:
    """By default every supporter of those present attends, so an uninformed supporter blocks
    the conference (the record must not say they were absent if they came); listing the
    supporters who attend without them lets it go ahead, and they never become a signatory."""
    case, clock = prepared()
    ready_to_meet(case, clock, "O1", "V1")
    blocked = case.blockers("hold_conference")
    assert {b.code for b in blocked} == {"supporter_consent_missing", "supporter_not_accepted"}
    assert all("list the supporters who attend" in b.message for b in blocked)
    case.hold_conference(supporters=[], at=clock(), actor="F1")
    assert case.record.conference is not None
    assert case.record.conference.supporters == ()
    case.propose_agreement(
        [AgreementAction("A1", "Repair the gate", "O1", date(2026, 6, 1))], at=clock(), actor="F1"
    )
    assert case.record.agreement is not None
    assert "S1" not in case.record.agreement.signatories


def test_input_7_two_victims_two_letters_one_held_then_delivered_later() -> None:
    """A case with two victims has a letter for each; one is delivered, the other held on
    file and delivered later, after the case moved on to reviews, when that victim agrees."""
    case, clock = at_stage(State.LETTER_OF_APOLOGY, victims=(Victim("V1"), Victim("V2")))
    session(case, clock)
    consent(case, clock, "V1", LETTER)
    for victim in ("V1", "V2"):
        case.draft_letter(victim, at=clock(), actor="F1")
        case.review_letter(victim=victim, at=clock(), actor="F1")
    assert codes(case, "deliver_letter") == {"letter_victim_needed"}
    case.deliver_letter(victim="V1", at=clock(), actor="F1")
    assert codes(case, "deliver_letter", victim="V2") == {"victim_consent_missing"}
    case.hold_letter_on_file(victim="V2", at=clock(), actor="F1")
    case.start_reviews(at=clock(), actor="F1")
    assert case.state is State.REVIEW

    consent(case, clock, "V2", LETTER)  # "if and when" is the victim's choice
    case.deliver_letter(victim="V2", at=clock(), actor="F1")
    assert codes(case, "deliver_letter", victim="V2") == {"letter_already_delivered"}
    letters = {x.victim: x for x in case.record.letters}
    assert letters["V1"].status is LetterStatus.DELIVERED
    assert letters["V2"].status is LetterStatus.DELIVERED
    assert letters["V2"].held_at is not None
    assert_roundtrip(case)


def test_input_7_a_returned_letter_is_redrafted() -> None:
    """The facilitator returns a draft; the offender redrafts it and it is reviewed again."""
    case, clock = at_stage(State.LETTER_OF_APOLOGY)
    case.draft_letter("V1", at=clock(), actor="F1")
    case.review_letter(approved=False, at=clock(), actor="F1")
    assert case.record.letter_to("V1").status is LetterStatus.RETURNED  # type: ignore[union-attr]
    assert codes(case, "hold_letter_on_file") == {"letter_not_ready"}
    case.draft_letter("V1", at=clock(), actor="F1")
    assert codes(case, "draft_letter", victim="V1") == {"letter_already_drafted"}
    case.review_letter(at=clock(), actor="F1")
    letter = case.record.letter_to("V1")
    assert letter is not None
    assert (letter.status, letter.drafts) == (LetterStatus.REVIEWED, 2)
    assert case.record.letter == letter  # the one-letter view still answers
    assert_roundtrip(case)


def test_input_8_sexual_offence_victim_who_asks_later_is_recorded_as_asking() -> None:
    """A sexual-offence victim who did not ask at referral is not approached; when they ask
    later their request is recorded, and information, consent and contact may follow."""
    case, clock = prepared(category=SEXUAL, direct_personal_harm=True)
    assert codes(case, "give_information", party="V1", activity=F2F) == {"victim_did_not_request"}
    assert codes(case, "record_consent", party="V1", activity=F2F) >= {"victim_did_not_request"}
    assert "victim_did_not_request" in codes(case, "hold_conference")
    case.record_request("V1", at=clock(), actor="F1")  # victim-initiated, in general
    assert case.record.asked_for_rj("V1")
    ready_to_meet(case, clock, "V1", "O1")
    case.hold_conference(supporters=[], at=clock(), actor="F1")
    assert case.state is State.CONFERENCE
    assert_roundtrip(case)


def test_input_8_the_first_approach_to_a_victims_supporter_waits_too() -> None:
    """Approaching a victim's supporter is approaching the victim: it waits for the request."""
    case, clock = prepared(category=SEXUAL, direct_personal_harm=True)
    assert codes(case, "give_information", party="S1", activity=F2F) == {"victim_did_not_request"}
    assert "victim_did_not_request" not in codes(case, "give_information", party="O1", activity=F2F)
    case.record_request("V1", F2F, at=clock(), actor="F1")
    assert codes(case, "give_information", party="S1", activity=F2F) == set()


# -- change of mind, both ways ---------------------------------------------------------------


class TestChangeOfMind:
    def test_a_request_for_another_activity_does_not_lift_a_decline(self) -> None:
        """Asking for shuttle mediation is not asking to meet."""
        case, clock = prepared()
        case.record_decline("V1", F2F, at=clock(), actor="F1")
        case.record_request("V1", SHUTTLE, at=clock(), actor="F1")
        assert "party_declined" in codes(case, "give_information", party="V1", activity=F2F)
        assert codes(case, "give_information", party="V1", activity=SHUTTLE) == set()

    def test_a_general_request_lifts_every_decline(self) -> None:
        """Asking for restorative justice in general reopens every activity they declined."""
        case, clock = prepared()
        case.record_decline("V1", F2F, at=clock(), actor="F1")
        case.record_decline("V1", SHUTTLE, at=clock(), actor="F1")
        case.record_request("V1", at=clock(), actor="F1")
        for activity in (F2F, SHUTTLE):
            assert codes(case, "give_information", party="V1", activity=activity) == set()

    def test_a_decline_after_a_request_stands_again(self) -> None:
        """The timeline is read in order: ask, then decline again, and the decline stands."""
        case, clock = prepared()
        case.record_request("V1", F2F, at=clock(), actor="F1")
        t = clock()
        case.record_decline("V1", F2F, at=t, actor="F1")
        assert case.record.decline_stands("V1", F2F)
        case.record_request("V1", F2F, at=t, actor="F1")  # same minute: order decides
        assert not case.record.decline_stands("V1", F2F)
        kinds = [type(e) for e in case.record.timeline("V1", F2F)]
        assert kinds == [PartyRequest, ConsentDecision, PartyRequest]

    def test_a_victim_may_ask_from_any_open_stage(self) -> None:
        """A victim-initiated request is accepted at every open stage, and at no ended one."""
        for stage in (State.REFERRED, State.INTRODUCTION, State.CONFERENCE, State.REVIEW):
            case, clock = at_stage(stage)
            case.record_request("V1", at=clock(), actor="F1")
            assert case.record.requests[-1].activity is None
        case, clock = at_stage(State.PREPARATION)
        case.close(reason="victim_declined", at=clock(), actor="F1")
        with pytest.raises(ActionRefused):
            case.record_request("V1", at=clock(), actor="F1")

    def test_a_request_names_only_what_the_party_takes_part_in(self) -> None:
        """A supporter asks for RJ or to meet, not to receive the victim's letter."""
        case, _ = at_stage(State.PREPARATION)
        assert codes(case, "record_request", party="S1", activity=LETTER) == {
            "party_cannot_consent"
        }
        assert codes(case, "record_request", party="S1") == set()

    def test_domestic_abuse_can_be_request_only_by_policy(self) -> None:
        """A service adds domestic abuse to the request-only offences; the default does not."""
        only_on_request = Policy(
            victim_request_required_for=frozenset({SEXUAL, OffenceCategory.DOMESTIC_ABUSE})
        )
        case, _ = prepared(category=OffenceCategory.DOMESTIC_ABUSE, policy=only_on_request)
        assert "victim_did_not_request" in codes(case, "give_information", party="V1", activity=F2F)
        case, _ = prepared(category=OffenceCategory.DOMESTIC_ABUSE)
        assert "victim_did_not_request" not in codes(
            case, "give_information", party="V1", activity=F2F
        )

    def test_a_victim_who_asked_at_referral_may_be_approached(self) -> None:
        """``Victim.requested_rj`` still means "asked before the referral"."""
        case, _ = prepared(category=SEXUAL, victims=(Victim("V1", requested_rj=True),))
        assert codes(case, "give_information", party="V1", activity=F2F) == set()


# -- supporters ----------------------------------------------------------------------------


class TestSupporters:
    def test_a_supporter_consents_to_meeting_only(self) -> None:
        """Shuttle mediation and letters pass between offender and victim, not supporters."""
        case, clock = prepared()
        for activity in (SHUTTLE, LETTER):
            assert codes(case, "give_information", party="S1", activity=activity) == {
                "party_cannot_consent"
            }
        consent(case, clock, "S1", F2F)
        assert case.record.consents_to("S1", F2F)

    def test_the_offenders_supporter_is_accepted_by_the_victims_present(self) -> None:
        """The offender's supporter needs each victim who meets the offender to accept them."""
        case, clock = prepared(victims=(Victim("V1"), Victim("V2")))
        case.add_party(Supporter("S2", supports="O1"), at=clock(), actor="F1")
        case.assess_risk("favourable", at=clock(), actor="F1")  # joined: reassess
        ready_to_meet(case, clock, "O1", "V1", "V2", "S2")
        assert codes(case, "accept_supporter", supporter="S2", by="O1") == {"not_the_other_side"}
        case.accept_supporter("S2", by="V1", at=clock(), actor="F1")
        blocked = case.blockers("hold_conference", supporters=("S2",))
        assert [(b.code, b.message.split(" has")[0]) for b in blocked] == [
            ("supporter_not_accepted", "Supporter S2")
        ]
        assert codes(case, "hold_conference", victims=("V1",), supporters=("S2",)) <= {
            "victim_consent_missing"
        }
        case.accept_supporter("S2", by="V2", at=clock(), actor="F1")
        case.hold_conference(supporters=["S2"], at=clock(), actor="F1")

    def test_an_acceptance_can_be_taken_back(self) -> None:
        """The latest answer is in force: an offender who no longer accepts a supporter."""
        case, clock = prepared()
        ready_to_meet(case, clock, "O1", "V1", "S1")
        case.accept_supporter("S1", by="O1", at=clock(), actor="F1")
        case.accept_supporter("S1", by="O1", accepted=False, at=clock(), actor="F1")
        assert codes(case, "hold_conference") == {"supporter_not_accepted"}
        case.hold_conference(supporters=[], at=clock(), actor="F1")
        assert case.record.conference is not None
        assert case.record.conference.supporters == ()


# -- youth and access ---------------------------------------------------------------------------


def youth_case(**kwargs: object) -> tuple[Case, Clock]:
    """A case whose victim V1 is 15, with a parent P1 as appropriate adult."""
    case, clock = prepared(victims=(Victim("V1", under_18=True),), **kwargs)
    case.add_party(Supporter("P1", supports="V1", appropriate_adult=True), at=clock(), actor="F1")
    case.assess_risk("favourable", at=clock(), actor="F1")  # joined: reassess
    return case, clock


class TestYouth:
    def test_a_youths_consent_needs_their_appropriate_adults(self) -> None:
        """V1's consent is not in force for contact until P1 consents too."""
        case, clock = youth_case()
        ready_to_meet(case, clock, "O1", "V1")
        assert "appropriate_adult_consent_missing" in codes(case, "hold_conference")
        consent(case, clock, "P1", F2F)
        assert "supporter_not_accepted" in codes(case, "hold_conference")  # P1: not yet
        case.accept_supporter("P1", by="O1", at=clock(), actor="F1")
        case.hold_conference(supporters=["P1"], at=clock(), actor="F1")  # S1 is not ready
        assert case.record.conference is not None
        assert "P1" in case.record.conference.supporters

    def test_the_appropriate_adult_must_be_listed_when_supporters_are_named(self) -> None:
        """Naming the supporters without the appropriate adult is refused."""
        case, clock = youth_case()
        ready_to_meet(case, clock, "O1", "V1", "P1")
        case.accept_supporter("P1", by="O1", at=clock(), actor="F1")
        assert "appropriate_adult_absent" in codes(case, "hold_conference", supporters=())
        assert "appropriate_adult_absent" not in codes(case, "hold_conference", supporters=("P1",))

    def test_a_youth_without_an_appropriate_adult_is_told_to_add_one(self) -> None:
        """A young offender with no appropriate adult on the case cannot go on to contact;
        once one is added and consents, they can."""
        clock = Clock()
        case = Case.open(
            "C1",
            offence=Offence(OffenceCategory.VIOLENCE),
            offender=Offender("O1", under_18=True),
            victims=["V1"],
            facilitators=[Facilitator("F1", PractitionerLevel.ADVANCED)],
            lead_facilitator="F1",
            sentenced_on=date(2026, 2, 1),
            at=clock(),
            actor="F1",
        )
        case.start_introduction(at=clock(), actor="F1")
        session(case, clock)
        case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        case.start_preparation(at=clock(), actor="F1")
        session(case, clock)
        case.assess_risk("favourable", at=clock(), actor="F1")
        consent(case, clock, "V1", SHUTTLE)
        consent(case, clock, "O1", SHUTTLE)
        blocked = case.blockers("choose_shuttle_mediation")
        assert [b.code for b in blocked] == ["appropriate_adult_missing"]
        assert "appropriate adult" in blocked[0].message
        case.add_party(
            Supporter("G1", supports="O1", appropriate_adult=True), at=clock(), actor="F1"
        )
        case.assess_risk("favourable", at=clock(), actor="F1")  # joined: reassess
        consent(case, clock, "G1", SHUTTLE)
        case.choose_shuttle_mediation(at=clock(), actor="F1")
        assert_roundtrip(case)

    def test_shuttle_waits_for_a_young_victims_appropriate_adult(self) -> None:
        """Found by the stateful machine: shuttle mediation went ahead on a young victim's
        consent alone; it now waits for their appropriate adult's."""
        case, clock = youth_case()
        consent(case, clock, "O1", SHUTTLE)
        consent(case, clock, "V1", SHUTTLE)
        assert codes(case, "choose_shuttle_mediation") == {"appropriate_adult_consent_missing"}
        consent(case, clock, "P1", SHUTTLE)
        case.choose_shuttle_mediation(at=clock(), actor="F1")
        assert case.state is State.SHUTTLE_MEDIATION

    def test_the_policy_can_switch_the_appropriate_adult_rule_off(self) -> None:
        """``Policy.youth_needs_appropriate_adult=False``: the youth's consent alone counts."""
        case, clock = prepared(
            victims=(Victim("V1", under_18=True),),
            policy=Policy(youth_needs_appropriate_adult=False),
        )
        ready_to_meet(case, clock, "O1", "V1")
        assert not codes(case, "hold_conference") & {
            "appropriate_adult_missing",
            "appropriate_adult_consent_missing",
        }

    def test_an_appropriate_adult_consents_to_indirect_contact_too(self) -> None:
        """A young victim's letter is delivered only with their appropriate adult's consent."""
        case, clock = at_stage(State.LETTER_OF_APOLOGY, victims=(Victim("V1", under_18=True),))
        case.add_party(
            Supporter("P1", supports="V1", appropriate_adult=True), at=clock(), actor="F1"
        )
        case.assess_risk("favourable", at=clock(), actor="F1")  # joined: reassess
        case.draft_letter("V1", at=clock(), actor="F1")
        case.review_letter(at=clock(), actor="F1")
        consent(case, clock, "V1", LETTER)
        assert codes(case, "deliver_letter") == {"appropriate_adult_consent_missing"}
        consent(case, clock, "P1", LETTER)
        case.deliver_letter(at=clock(), actor="F1")


class TestInterpreter:
    def test_information_and_consent_need_an_interpreter(self) -> None:
        """Refused without one; recorded as provided with one."""
        case, clock = prepared(victims=(Victim("V1", needs_interpreter=True),))
        with pytest.raises(ActionRefused) as refused:
            case.give_information("V1", F2F, at=clock(), actor="F1")
        assert refused.value.codes == ("interpreter_needed",)
        case.give_information("V1", F2F, interpreter_provided=True, at=clock(), actor="F1")
        assert "interpreter_needed" in codes(case, "record_consent", party="V1", activity=F2F)
        case.record_consent("V1", F2F, interpreter_provided=True, at=clock(), actor="F1")
        assert case.record.information[-1].interpreter
        assert case.record.consents[-1].interpreter
        case.record_decline("V1", SHUTTLE, at=clock(), actor="F1")  # a "no" is always heard
        assert_roundtrip(case)


class TestShuttleVetting:
    def test_an_unchecked_message_is_not_carried(self) -> None:
        """A message the facilitator did not check is refused; a checked one is carried."""
        case, clock = at_stage(State.SHUTTLE_MEDIATION)
        with pytest.raises(ActionRefused) as refused:
            case.record_shuttle_message("V1", "to_victim", vetted=False, at=clock(), actor="F1")
        assert refused.value.codes == ("message_not_vetted",)
        case.record_shuttle_message("V1", "to_victim", at=clock(), actor="F1")
        assert len(case.record.shuttle_messages) == 1


def test_old_letter_events_without_a_victim_still_replay() -> None:
    """Events saved before letters were kept per victim (review, deliver and hold with no
    data) replay: no victim means the case's only letter."""
    case, clock = at_stage(State.LETTER_OF_APOLOGY)
    consent(case, clock, "V1", LETTER)
    case.draft_letter("V1", at=clock(), actor="F1")
    case.review_letter(at=clock(), actor="F1")
    case.deliver_letter(at=clock(), actor="F1")
    old: list[Event] = []
    for e in case.history:
        data = {} if e.action in ("review_letter", "deliver_letter") else dict(e.data)
        old.append(
            Event.create(
                sequence=e.sequence,
                at=e.at,
                actor=e.actor,
                action=e.action,
                data=data,
                from_state=e.from_state,
                to_state=e.to_state,
                previous_hash=old[-1].hash if old else e.previous_hash,
            )
        )
    assert [e.data for e in old if e.action == "review_letter"] == [{}]
    rebuilt = replay(old, policy=case.policy)
    assert rebuilt.record == case.record
    assert rebuilt.record.letter is not None
    assert rebuilt.record.letter.status is LetterStatus.DELIVERED


def test_parties_without_the_new_fields_encode_as_the_previous_release_did() -> None:
    """A party who is not young and needs no interpreter is written exactly as schema 1 wrote
    it, so the opening event of a case saved by the previous release replays to the same
    hash; the new fields appear only when set."""
    case, clock = new_case()
    parties = {p["id"]: set(p) for p in case.history[0].data["parties"]}
    assert parties == {
        "O1": {"role", "id"},
        "V1": {"role", "id", "requested_rj"},
        "S1": {"role", "id", "supports"},
        "F1": {"role", "id", "level", "specialisms"},
    }
    young = Supporter("P1", supports="V1", appropriate_adult=True, needs_interpreter=True)
    event = case.add_party(young, at=clock(), actor="F1")
    assert event.data["party"]["appropriate_adult"] is True
    assert replay(case.history, policy=case.policy) == case


class TestInputs:
    def test_malformed_new_inputs_are_refused_and_change_nothing(self) -> None:
        """Bad input to the new actions gets InvalidInput and leaves the case as it was."""
        case, clock = at_stage(State.LETTER_OF_APOLOGY)
        before = case.history
        bad: list[tuple[str, dict[str, object]]] = [
            ("record_request", {"party": "V1", "activity": "hug"}),
            ("record_request", {"party": "not an id!"}),
            ("accept_supporter", {"supporter": "S1", "by": "O1", "accepted": "yes"}),
            ("review_letter", {"victim": "V1", "approved": 1}),
            ("deliver_letter", {"victim": ""}),
            ("give_information", {"party": "V1", "activity": F2F, "interpreter_provided": "no"}),
        ]
        for action, data in bad:
            with pytest.raises(InvalidInput):
                case.fire(action, at=clock(), actor="F1", **data)
        assert case.history == before

    def test_accepting_someone_who_is_not_a_supporter_is_refused(self) -> None:
        """Only a supporter is accepted; the message names the id and what would be right."""
        case, _ = at_stage(State.PREPARATION)
        (blocker,) = case.blockers("accept_supporter", supporter="V1", by="O1")
        assert blocker.code == "unknown_supporter"
        assert blocker.subject == "V1"
        assert blocker.message.endswith("correct the id.")


# -- found by a practitioner's review (issue 14 fixes) -----------------------------------------


def _completed_with_a_held_letter(consented: bool = False) -> tuple[Case, Clock]:
    """A letter to V1 held on file (V1 did not agree yet, or agreed only once it was held);
    the case then completed."""
    case, clock = at_stage(State.LETTER_OF_APOLOGY)
    session(case, clock)
    case.draft_letter("V1", at=clock(), actor="F1")
    case.review_letter(victim="V1", at=clock(), actor="F1")
    case.hold_letter_on_file(victim="V1", at=clock(), actor="F1")
    if consented:
        consent(case, clock, "V1", LETTER)
    case.start_reviews(at=clock(), actor="F1")
    session(case, clock)
    case.complete(at=clock(), actor="F1")
    return case, clock


def test_a_letter_held_on_file_is_delivered_after_the_case_completed() -> None:
    """The victim asks for the letter months after the end: it is delivered ("if and when" the
    victim chooses) without reopening the case, and the outcome reports indirect RJ."""
    case, clock = _completed_with_a_held_letter()
    assert case.record.closure is not None
    assert case.record.closure.rj_type is RJType.NONE
    assert codes(case, "deliver_letter", victim="V1") == {"victim_consent_missing"}
    consent(case, clock, "V1", LETTER)
    case.deliver_letter(victim="V1", at=clock(), actor="F1")
    assert case.state is State.COMPLETED
    assert case.record.letter_to("V1").status is LetterStatus.DELIVERED  # type: ignore[union-attr]
    assert case.record.closure.rj_type is RJType.INDIRECT
    assert_roundtrip(case)


def test_a_letter_after_the_end_still_needs_a_favourable_current_risk_assessment() -> None:
    """Delivery after the end is contact: the risk rules still hold (say why not)."""
    case, clock = _completed_with_a_held_letter()
    consent(case, clock, "V1", LETTER)
    later = case.record.updated_at + timedelta(days=400)
    found = {b.code for b in case.blockers("deliver_letter", at=later, victim="V1")}
    assert found == {"risk_assessment_expired"}


@pytest.mark.parametrize("stage", [State.COMPLETED, State.CLOSED])
def test_a_participant_may_withdraw_or_decline_after_the_case_ended(stage: State) -> None:
    """Consent is withdrawable at any time: after the end a withdrawal and a decline are
    recorded, and the case stays ended."""
    if stage is State.CLOSED:
        case, clock = at_stage(State.PREPARATION)
        consent(case, clock, "V1", LETTER)
        case.close(reason="unsuitable", at=clock(), actor="F1")
    else:
        case, clock = _completed_with_a_held_letter(consented=True)
    case.withdraw_consent("V1", LETTER, at=clock(), actor="F1")
    assert case.record.consent_status("V1", LETTER) is ConsentStatus.WITHDRAWN
    if stage is State.COMPLETED:
        assert "victim_consent_withdrawn" in codes(case, "deliver_letter", victim="V1")
    case.record_decline("V1", LETTER, at=clock(), actor="F1")
    assert case.state is stage
    assert case.record.consent_status("V1", LETTER) is ConsentStatus.DECLINED
    assert "case_ended" in codes(case, "record_consent", party="O1", activity=F2F)
    assert codes(case, "record_session", duration=timedelta(hours=1)) == {f"case_{stage.value}"}
    assert_roundtrip(case)


def test_a_general_decline_is_recorded_in_one_step() -> None:
    """The victim says no to restorative justice altogether: one step declines every activity
    they could take part in (their consent in force too); the service approaches them about
    none; their own general request lifts it all."""
    case, clock = prepared()
    consent(case, clock, "V1", F2F)
    case.decline_all("V1", at=clock(), actor="F1")
    for activity in (F2F, SHUTTLE, LETTER):
        assert case.record.consent_status("V1", activity) is ConsentStatus.DECLINED
        assert codes(case, "give_information", party="V1", activity=activity) == {"party_declined"}
    assert case.record.material_changes[-1].subject == "V1"  # consent in force was withdrawn
    case.record_request("V1", at=clock(), actor="F1")
    for activity in (F2F, SHUTTLE, LETTER):
        assert codes(case, "give_information", party="V1", activity=activity) == set()
    assert_roundtrip(case)


def test_a_general_decline_covers_only_what_the_party_takes_part_in() -> None:
    """A supporter declines: meeting is the only activity they consent to."""
    case, clock = prepared()
    case.decline_all("S1", at=clock(), actor="F1")
    assert [c.activity for c in case.record.consents if c.party == "S1"] == [F2F]
    assert codes(case, "decline_all", party="F1") == {"unknown_participant"}


def test_a_withdrawal_is_not_a_wish_not_to_be_approached_again() -> None:
    """A withdrawal stops what depended on the consent, and the service may ask again later;
    a wish not to be approached again is recorded explicitly, as a decline."""
    case, clock = prepared()
    consent(case, clock, "V1", F2F)
    case.withdraw_consent("V1", F2F, at=clock(), actor="F1")
    assert codes(case, "give_information", party="V1", activity=F2F) == set()
    withdrawn = [
        b for b in case.blockers("hold_conference") if b.code == "victim_consent_withdrawn"
    ]
    assert withdrawn and "record a decline" in withdrawn[0].message
    case.record_decline("V1", F2F, at=clock(), actor="F1")
    assert codes(case, "give_information", party="V1", activity=F2F) == {"party_declined"}


@pytest.mark.parametrize(
    ("action", "data", "subject"),
    [
        ("record_consent", {"party": "V1", "activity": F2F}, "V1"),  # information_not_given
        ("withdraw_consent", {"party": "V1", "activity": F2F}, "V1"),  # no_consent_to_withdraw
        ("record_consent", {"party": "S1", "activity": SHUTTLE}, "S1"),  # party_cannot_consent
        ("add_party", {"party": Victim("V1")}, "V1"),  # party_id_taken
        ("assign_lead_facilitator", {"facilitator": "V1"}, "V1"),  # not_a_facilitator
        ("record_feedback", {"party": "M1", "satisfaction": 3, "things_changed": True}, "M1"),
        ("assess_risk", {"outcome": "favourable", "subject": "F1"}, "F1"),
        ("assess_risk", {"outcome": "favourable", "enhanced": True, "approved_by": "F1"}, "F1"),
    ],
)
def test_blockers_about_one_party_name_it_as_their_subject(
    action: str, data: dict[str, object], subject: str
) -> None:
    """A blocker that concerns one party carries its id as ``subject``, so that a screen can
    show it beside that party (found by a practitioner's review: several had none)."""
    case, _clock = prepared()
    if action == "record_feedback":
        case, _clock = at_stage(State.REVIEW)
    blockers = [b for b in case.blockers(action, **data) if b.guard != "actor_permitted"]
    assert blockers
    assert all(b.subject == subject for b in blockers), [(b.code, b.subject) for b in blockers]


def test_agreement_blockers_about_one_party_or_action_name_it() -> None:
    """Signing twice, signing as a stranger, progress on an unknown action: each names whom or
    what it concerns."""
    case, clock = at_stage(State.CONFERENCE)
    case.propose_agreement(
        [AgreementAction("A1", "Repair the gate", "O1", date(2026, 6, 1))], at=clock(), actor="F1"
    )
    case.sign_agreement("O1", at=clock(), actor="F1")
    found = {b.code: b.subject for b in case.blockers("sign_agreement", party="O1")}
    assert found == {"already_signed": "O1"}
    found = {b.code: b.subject for b in case.blockers("sign_agreement", party="M1")}
    assert found == {"not_a_signatory": "M1"}
    bad = [AgreementAction("A2", "Repair", "Q7", date(2026, 6, 1))]
    found = {b.code: b.subject for b in case.blockers("propose_agreement", actions=bad)}
    assert found["unknown_party"] == "Q7"


def test_a_young_victims_held_letter_is_delivered_after_the_end_with_their_adults_consent() -> None:
    """After the end, the appropriate adult's information and consent to the letter are
    recorded too (a young victim's consent is in force only with theirs)."""
    case, clock = at_stage(State.LETTER_OF_APOLOGY, victims=(Victim("V1", under_18=True),))
    case.add_party(Supporter("G1", supports="V1", appropriate_adult=True), at=clock(), actor="F1")
    case.assess_risk("favourable", at=clock(), actor="F1")  # a participant was added
    session(case, clock)
    case.draft_letter("V1", at=clock(), actor="F1")
    case.review_letter(victim="V1", at=clock(), actor="F1")
    case.hold_letter_on_file(victim="V1", at=clock(), actor="F1")
    case.close(reason="victim_withdrew", at=clock(), actor="F1")
    consent(case, clock, "V1", LETTER)
    assert "appropriate_adult_consent_missing" in codes(case, "deliver_letter", victim="V1")
    consent(case, clock, "G1", LETTER)
    assert "case_ended" in codes(case, "record_consent", party="G1", activity=F2F)
    case.deliver_letter(victim="V1", at=clock(), actor="F1")
    assert case.record.closure is not None
    assert case.record.closure.rj_type is RJType.INDIRECT
