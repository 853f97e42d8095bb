"""Validation as strict as the rule: what rjflow accepts on write loads on read.

Issue 9, items 3 (invalid text: lone surrogates, control characters) and 4 (ids matched in
full, a str never taken for a collection, element types checked, policy values normalised,
enums by value or label).
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rjflow import (
    LONDON_CRC,
    ActionStatus,
    AgreementAction,
    Attendance,
    Case,
    ClosureReason,
    ContactActivity,
    Facilitator,
    InvalidDocument,
    InvalidInput,
    MessageDirection,
    Offence,
    OffenceCategory,
    Offender,
    Policy,
    PractitionerLevel,
    RiskOutcome,
    RJFlowError,
    State,
    Supporter,
    Victim,
)
from rjflow._convert import structure, unstructure
from rjflow._validate import to_enum
from rjflow.activities import BreachOutcome, VictimUpdateAbout
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
from rjflow.parties import Party
from rjflow.serialization import _fingerprint, dumps, from_dict, loads, to_dict
from rjflow.states import ACTIONS

from .builders import T0, Clock, at_stage, new_case
from .test_canaries import DOC, POSITIONS, _planted
from .test_time import _rehash

# -- item 3: text that is not valid Unicode text -------------------------------------------------


class TestInvalidText:
    def test_close_note_lone_surrogate_unicode_encode_error(self) -> None:
        """Issue 9's input: ``close(reason="other", note="x\\ud800")`` raised a bare
        UnicodeEncodeError; now InvalidInput naming the field, and nothing changed."""
        case, clock = new_case()
        before = dumps(case)
        with pytest.raises(InvalidInput, match="'note'") as err:
            case.close(reason="other", note="x\ud800", at=clock(), actor="F1")
        assert "\ud800" not in str(err.value)
        assert dumps(case) == before

    @pytest.mark.parametrize(
        "text", ["x\x00y", "bell\x07", "\x1b[31mred", "del\x7f", "\x9b2J", "next\x85line"]
    )
    def test_free_text_with_control_characters_is_refused(self, text: str) -> None:
        """NUL and the other C0 controls (but tab and line breaks) are never a caseworker's
        text; they are refused, naming the field."""
        case, clock = new_case()
        with pytest.raises(InvalidInput, match="'note'"):
            case.close(reason="other", note=text, at=clock(), actor="F1")
        assert case.version == 1

    def test_line_breaks_and_tabs_in_a_note_are_kept(self) -> None:
        """Ordinary multi-line text is accepted and loads back unchanged."""
        case, clock = new_case()
        case.close(reason="other", note="Line one\r\nline\ttwo — ünïcode ✓", at=clock(), actor="F1")
        assert loads(dumps(case)) == case

    def test_agreement_wording_with_a_lone_surrogate_is_refused(self) -> None:
        """An agreement action's wording is text like a note."""
        with pytest.raises(InvalidInput, match="'what'"):
            ProposeAgreement((AgreementAction("A1", "fix\udfff", "O1", date(2026, 6, 1)),))

    def test_policy_name_with_a_lone_surrogate_is_refused(self) -> None:
        """A policy's name is text too (it is shown in diagrams and saved fingerprints)."""
        with pytest.raises(InvalidInput, match=r"Policy\.name"):
            Policy(name="Youth\ud83d")

    def test_policy_name_is_any_text_but_lone_surrogates(self) -> None:
        """A policy's name is the service's label: line breaks and other characters are kept
        (diagrams and the terminal escape them); only a lone surrogate is refused."""
        policy = Policy(name="Youth justice\r\n  referred --> completed\x1b[0m")
        case, _ = new_case(policy=policy)
        assert loads(dumps(case), policy=policy) == case
        with pytest.raises(InvalidInput, match="blank"):
            Policy(name="  ")

    def test_document_with_a_lone_surrogate_is_an_invalid_document(self) -> None:
        """JSON may spell a lone surrogate as an escape; loading such a document gives
        InvalidDocument, not UnicodeEncodeError."""
        case, clock = new_case()
        case.close(reason="other", note="Moved abroad", at=clock(), actor="F1")
        text = dumps(case).replace("Moved abroad", "\\ud800")
        with pytest.raises(InvalidDocument):
            loads(text)
        doc = to_dict(case)
        doc["events"][0]["actor"] = "F\ud800"
        with pytest.raises(InvalidDocument):
            from_dict(doc)


#: Text drawn from all of Unicode, lone surrogates and controls included, plus id-like text.
any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=12),
    st.text(st.characters(codec="ascii"), max_size=12),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,5}\n?", fullmatch=True),
    st.sampled_from(["x\ud800", "\udc00", "\x00", "V1", "O1", "A1", "F1", "M1", "S1", ""]),
)


def _open_with(slot: str, text: str) -> tuple[Case, Clock]:
    ids = {"case_id": "C1", "offender": "O1", "victim": "V1", "actor": "F1"}
    if slot in ids:
        ids[slot] = text
    facilitator = text if slot == "facilitator" else "F1"
    lead = text if slot == "lead_facilitator" else facilitator
    supporter = Supporter(
        text if slot == "supporter" else "S1", text if slot == "supports" else "V1"
    )
    clock = Clock()
    case = Case.open(
        ids["case_id"],
        offence=Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
        offender=ids["offender"],
        victims=[ids["victim"]],
        supporters=[supporter],
        facilitators=[Facilitator(facilitator, PractitionerLevel.ADVANCED)],
        lead_facilitator=lead,
        at=clock(),
        actor=ids["actor"],
        policy=Policy(name=text) if slot == "policy_name" else LONDON_CRC,
    )
    return case, clock


OPEN_SLOTS = [
    "case_id",
    "offender",
    "victim",
    "actor",
    "facilitator",
    "lead_facilitator",
    "supporter",
    "supports",
    "policy_name",
]

#: (stage, action, keyword inputs with the text in ``TEXT``'s place).
TEXT = object()
ACTION_SLOTS: list[tuple[State, str, dict[str, Any]]] = [
    (State.REFERRED, "close", {"reason": "other", "note": TEXT}),
    (State.REFERRED, "assign_lead_facilitator", {"facilitator": TEXT}),
    (State.REFERRED, "add_party", {"party": "victim"}),
    (State.REFERRED, "add_party", {"party": "supporter"}),
    (State.REFERRED, "add_party", {"party": "facilitator"}),
    (State.PREPARATION, "give_information", {"party": TEXT, "activity": "shuttle"}),
    (State.PREPARATION, "record_consent", {"party": TEXT, "activity": "face_to_face"}),
    (State.PREPARATION, "assess_risk", {"outcome": "favourable", "approved_by": TEXT}),
    (State.CONFERENCE, "hold_conference", {}),
    (State.LETTER_OF_APOLOGY, "draft_letter", {"victim": TEXT}),
    (State.SHUTTLE_MEDIATION, "record_shuttle_message", {"victim": TEXT, "direction": "to_victim"}),
    (State.CONFERENCE, "propose_agreement", {"actions": "what"}),
    (State.CONFERENCE, "propose_agreement", {"actions": "id"}),
    (State.CONFERENCE, "propose_agreement", {"actions": "responsible"}),
    (State.REVIEW, "record_feedback", {"party": TEXT, "satisfaction": 4, "things_changed": True}),
    (State.REVIEW, "record_progress", {"action_id": TEXT, "status": "done"}),
    (State.REFERRED, "record_sentence", {"sentenced_on": date(2026, 2, 1), "actor": TEXT}),
]


def _inputs(template: dict[str, Any], text: str) -> tuple[dict[str, Any], str]:
    data = {k: (text if v is TEXT else v) for k, v in template.items()}
    actor = data.pop("actor", "F1")
    party = data.get("party")
    if party == "victim":
        data["party"] = Victim(text)
    elif party == "supporter":
        data["party"] = Supporter("S2", supports=text)
    elif party == "facilitator":
        data["party"] = Facilitator(text)
    actions = data.get("actions")
    if isinstance(actions, str):
        fields = {"id": "A1", "what": "Repair the fence", "responsible": "O1"}
        fields[actions] = text
        data["actions"] = [AgreementAction(deadline=date(2026, 9, 1), **fields)]
    if template == {}:
        data["victims"] = [text]
    return data, actor


def _accepted_or_invalid_input(run: Any) -> bool:
    try:
        run()
    except InvalidInput:
        return False
    return True


@given(st.sampled_from(OPEN_SLOTS), any_text)
def test_random_text_in_every_opening_field(slot: str, text: str) -> None:
    """Random Unicode (surrogates, controls, trailing newlines included) in every text field
    of opening a case (100 examples in the dev profile, 1,300 in ci): either InvalidInput,
    or a case that saves and loads to an equal case; never another exception."""
    result: list[Case] = []
    if _accepted_or_invalid_input(lambda: result.append(_open_with(slot, text)[0])):
        case = result[0]
        assert loads(dumps(case), policy=case.policy) == case


@given(st.sampled_from(range(len(ACTION_SLOTS))), any_text)
def test_random_text_in_every_action_field(index: int, text: str) -> None:
    """Random Unicode in every text field of every action's input, and in ``actor`` (100
    examples in the dev profile, 1,300 in ci): InvalidInput leaving the case unchanged, a
    refusal by the rules, or an accepted change that saves and loads; nothing else."""
    stage, action, template = ACTION_SLOTS[index]
    case, clock = at_stage(stage)
    before = dumps(case)
    try:
        data, actor = _inputs(template, text)
        case.fire(action, at=clock(), actor=actor, **data)
    except RJFlowError:  # InvalidInput, or ActionRefused by the rules: nothing changed
        assert dumps(case) == before
    assert loads(dumps(case)) == case


@given(
    st.lists(st.integers(0, len(POSITIONS) - 1), min_size=1, max_size=3),
    any_text,
    st.booleans(),
)
def test_random_text_in_random_document_positions(
    indexes: list[int], text: str, as_json: bool
) -> None:
    """Random Unicode (lone surrogates included) in random string positions of a saved case,
    loaded from a dict or from JSON text (100 examples in the dev profile, 1,300 in ci): a
    case that saves again, or InvalidDocument; never UnicodeEncodeError or another error."""
    doc = DOC
    for index in indexes:
        path, how = POSITIONS[index]
        try:
            doc = _planted(doc, path, how, text)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier plant replaced this position's parent
    try:
        # As JSON text, a lone surrogate travels as an escape such as \ud800.
        case = loads(json.dumps(doc, ensure_ascii=True)) if as_json else from_dict(doc)
    except InvalidDocument:
        return
    assert loads(dumps(case)) == case


def test_every_enum_member_by_value_label_and_name() -> None:
    """Every member of every enum rjflow accepts is found by itself, its value, its label
    (any case) and its name (any case)."""
    for cls in (
        OffenceCategory,
        PractitionerLevel,
        ContactActivity,
        Attendance,
        ClosureReason,
        RiskOutcome,
        MessageDirection,
        ActionStatus,
    ):
        for member in cls:
            spellings: list[Any] = [member, member.value, member.name, member.name.lower()]
            label = getattr(member, "label", None)
            if isinstance(label, str):
                spellings += [label, label.upper(), label.title()]
            for spelling in spellings:
                assert to_enum(cls, "field", spelling) is member, (cls, spelling)


# -- item 4: validation looser than the rule ----------------------------------------------------


class TestIdsInFull:
    def test_case_id_trailing_newline_accepted(self) -> None:
        """Issue 9's input: ``Case.open("RJ-1\\n", ...)`` was accepted (``$`` matches before a
        trailing newline) and stored as another key."""
        with pytest.raises(InvalidInput, match="'case_id'"):
            _open_with("case_id", "RJ-1\n")

    @pytest.mark.parametrize("slot", [s for s in OPEN_SLOTS if s != "policy_name"])
    def test_every_id_with_a_trailing_newline_is_refused(self, slot: str) -> None:
        """Every id of opening a case is matched in full."""
        with pytest.raises(InvalidInput):
            _open_with(slot, "V1\n")


class TestCollections:
    def test_specialisms_string_becomes_set_of_letters(self) -> None:
        """Issue 9's input: ``specialisms="domestic_abuse"`` became a set of letters."""
        with pytest.raises(InvalidInput, match="'specialisms'"):
            Facilitator("F1", specialisms="domestic_abuse")  # type: ignore[arg-type]

    def test_specialisms_non_category_saves_but_cannot_load(self) -> None:
        """Issue 9's input: ``specialisms={5}`` was accepted, saved, and then failed to load."""
        with pytest.raises(InvalidInput, match="'specialisms'"):
            Facilitator("F1", specialisms={5})  # type: ignore[arg-type]

    def test_specialisms_are_normalised_to_category_values(self) -> None:
        """Members, values and labels are all stored as the category's value."""
        lead = Facilitator(
            "F1", specialisms=[OffenceCategory.STALKING, "hate_crime", "Domestic Abuse"]
        )
        assert lead.specialisms == {"stalking", "hate_crime", "domestic_abuse"}

    @pytest.mark.parametrize("victims", ["V1", {"V1": 1}, 5])
    def test_hold_conference_victims_string_taken_for_list(self, victims: Any) -> None:
        """``hold_conference(victims="V1")`` went in as the victims "V" and "1"."""
        case, clock = at_stage(State.PREPARATION)
        with pytest.raises(InvalidInput, match="'victims'"):
            case.hold_conference(victims=victims, at=clock(), actor="F1")

    def test_parties_mapping_taken_for_list(self) -> None:
        """A dict of parties is not a list of them (its keys would be taken)."""
        with pytest.raises(InvalidInput, match="'parties'"):
            OpenCase(Offence("theft"), {Offender("O1"): 1, Victim("V1"): 2})  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("argument", "value"),
        [("victims", {"V1": "Jane"}), ("supporters", "S1"), ("facilitators", Facilitator("F1"))],
    )
    def test_open_lists_given_as_text_dict_or_one_value(self, argument: str, value: Any) -> None:
        """``Case.open``'s lists refuse a dict (its keys), a str (its letters) or one value."""
        with pytest.raises(InvalidInput, match=argument):
            Case.open(
                "C1",
                offence=Offence("theft"),  # type: ignore[arg-type]
                offender="O1",
                at=T0,
                actor="F1",
                **{"victims": ["V1"], argument: value},
            )

    def test_policy_categories_string_taken_for_set(self) -> None:
        """One category given bare, not in a set, is refused (as before), naming the field."""
        with pytest.raises(InvalidInput, match=r"Policy\.conference_categories"):
            Policy(conference_categories="violence")  # type: ignore[arg-type]


class TestPolicyNormalised:
    def test_case_open_with_something_else_than_a_policy(self) -> None:
        """A dict or a name given as the policy is refused with InvalidInput, not an
        AttributeError from deep inside the workflow."""
        for policy in ({"max_sessions": 8}, "London CRC"):
            with pytest.raises(InvalidInput, match="'policy' must be a Policy"):
                Case.open(
                    "C1",
                    offence=Offence("theft"),  # type: ignore[arg-type]
                    offender="O1",
                    victims=["V1"],
                    at=T0,
                    actor="F1",
                    policy=policy,  # type: ignore[arg-type]
                )

    def test_policy_min_lead_level_int_crashes_later(self) -> None:
        """Issue 9's input: ``Policy(min_lead_level=2)`` was accepted and crashed later with
        AttributeError.  Now it is the intermediate level: equal policies, one fingerprint."""
        by_number = Policy(min_lead_level=2)  # type: ignore[arg-type]
        by_member = Policy(min_lead_level=PractitionerLevel.INTERMEDIATE)
        by_label = Policy(min_lead_level="Intermediate")  # type: ignore[arg-type]
        assert by_number == by_member == by_label
        assert by_number.min_lead_level is PractitionerLevel.INTERMEDIATE
        assert _fingerprint(by_number) == _fingerprint(by_member) == _fingerprint(by_label)
        case, _ = at_stage(State.CONFERENCE, policy=by_number)
        assert case.state is State.CONFERENCE

    @pytest.mark.parametrize(
        "field",
        ["max_sessions", "min_review_sessions", "min_conference_sessions", "required_sessions"],
    )
    @pytest.mark.parametrize("value", [True, 2.0, "2", None])
    def test_policy_whole_numbers_refuse_bools_floats_text(self, field: str, value: Any) -> None:
        """A count is an int: ``True`` (== 1) and ``2.0`` are refused, naming the field."""
        with pytest.raises(InvalidInput, match=f"Policy.{field}"):
            Policy(**{field: value})

    @pytest.mark.parametrize(
        "field", [a.name for a in attrs.fields(Policy) if a.type in ("bool", bool)]
    )
    def test_policy_switches_refuse_ints(self, field: str) -> None:
        """A switch is True or False; 1 and "yes" are refused."""
        for value in (1, 0, "yes", None):
            with pytest.raises(InvalidInput, match=field):
                Policy(**{field: value})

    def test_policy_duration_in_whole_seconds(self) -> None:
        """A session length with microseconds would lose them in the document; refused."""
        with pytest.raises(InvalidInput, match="max_session_length"):
            Policy(max_session_length=timedelta(hours=3, microseconds=1))
        with pytest.raises(InvalidInput, match="max_session_length"):
            Policy(max_session_length=10800)  # type: ignore[arg-type]


class TestEnums:
    def test_facilitator_level_label_refused(self) -> None:
        """Issue 9's input: ``Facilitator("F1", "advanced")`` was refused although
        "advanced" is the level's own label."""
        assert Facilitator("F1", "advanced").level is PractitionerLevel.ADVANCED  # type: ignore[arg-type]
        assert Facilitator("F1", "ADVANCED").level is PractitionerLevel.ADVANCED  # type: ignore[arg-type]
        assert Facilitator("F1", 3).level is PractitionerLevel.ADVANCED  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [True, 3.0, "3", "expert", None])
    def test_level_refuses_bools_floats_and_unknown_text(self, value: Any) -> None:
        """``True == 1`` and ``3.0 == 3`` in Python; neither is a level."""
        with pytest.raises(InvalidInput, match="'level'"):
            Facilitator("F1", value)

    def test_every_enum_accepts_its_labels(self) -> None:
        """Offence categories and contact activities by their caseworker labels."""
        assert Offence("Household burglary").category is OffenceCategory.HOUSEHOLD_BURGLARY  # type: ignore[arg-type]
        assert ConsentInput("V1", "a face-to-face meeting").activity is ContactActivity.FACE_TO_FACE  # type: ignore[arg-type]
        assert (
            RecordSession(timedelta(0), "MISSED_ACCEPTABLE").attendance
            is Attendance.MISSED_ACCEPTABLE
        )  # type: ignore[arg-type]

    def test_documents_take_enum_values_only(self) -> None:
        """Labels are for callers: a saved document stays canonical, so a label in it is
        refused."""
        doc = to_dict(new_case()[0])
        doc["events"][0]["data"]["parties"][-1]["level"] = "advanced"
        with pytest.raises(InvalidDocument, match="level"):
            from_dict(_rehash(doc))

    def test_documents_take_specialism_values_only(self) -> None:
        """A facilitator's specialisms in a document are category values, not labels, even
        in an event whose chain was recomputed."""
        case, clock = new_case()
        case.add_party(Facilitator("F2", 3, ["Stalking"]), at=clock(), actor="F1")  # type: ignore[arg-type]
        doc = to_dict(case)
        assert doc["events"][1]["data"]["party"]["specialisms"] == ["stalking"]
        assert from_dict(doc) == case
        doc["events"][1]["data"]["party"]["specialisms"] = ["Stalking"]
        with pytest.raises(InvalidDocument, match="specialisms"):
            from_dict(_rehash(doc))


class TestBooleansAndNumbers:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: Victim("V1", requested_rj=1),
            lambda: Offence("theft", direct_personal_harm=1),
            lambda: Offence("theft", ongoing_contact="no"),
            lambda: RecordAcknowledgement(1),
            lambda: AssessRisk("favourable", enhanced=0),
            lambda: RecordFeedback("V1", 4, things_changed=1),
            lambda: RecordFeedback("V1", True, things_changed=True),
            lambda: RecordFeedback("V1", 4.0, things_changed=True),
            lambda: RecordSession(7200, "attended"),
        ],
    )
    def test_bools_ints_and_durations_are_not_interchangeable(self, build: Any) -> None:
        """A bool field refuses 1, an int field refuses True and 4.0, a duration refuses a
        number of seconds."""
        with pytest.raises(InvalidInput):
            build()

    def test_int_subclass_is_stored_as_int(self) -> None:
        """An IntEnum given as a satisfaction score is stored as the plain number."""
        feedback = RecordFeedback("V1", PractitionerLevel.ADVANCED, True)  # type: ignore[arg-type]
        assert type(feedback.satisfaction) is int


# -- property: wrong kinds in every field of every input class ----------------------------------

_ACTION = AgreementAction("A1", "Repair the fence", "O1", date(2026, 6, 1))
#: A valid set of arguments for every input and value class a caller builds.
TEMPLATES: dict[type, dict[str, Any]] = {
    Offender: {"id": "O1"},
    Victim: {"id": "V1", "requested_rj": False},
    Supporter: {"id": "S1", "supports": "V1"},
    Facilitator: {"id": "F1", "level": PractitionerLevel.ADVANCED, "specialisms": frozenset()},
    Offence: {"category": OffenceCategory.THEFT, "direct_personal_harm": False},
    OpenCase: {
        "offence": Offence(OffenceCategory.THEFT),
        "parties": (Offender("O1"), Victim("V1"), Facilitator("F1")),
        "sentenced_on": None,
        "lead_facilitator": "F1",
    },
    RecordSentence: {"sentenced_on": date(2026, 1, 1)},
    AssignLeadFacilitator: {"facilitator": "F1"},
    AddParty: {"party": Victim("V2")},
    RecordSession: {"duration": timedelta(hours=2), "attendance": Attendance.ATTENDED},
    ConsentInput: {"party": "V1", "activity": ContactActivity.SHUTTLE},
    RecordAcknowledgement: {"guilty_plea": True},
    AssessRisk: {"outcome": RiskOutcome.FAVOURABLE, "enhanced": False, "approved_by": None},
    HoldConference: {"victims": (), "supporters": None},
    DraftLetter: {"victim": "V1"},
    RecordShuttleMessage: {"victim": "V1", "direction": MessageDirection.TO_VICTIM},
    ProposeAgreement: {"actions": (_ACTION,)},
    SignAgreement: {"party": "V1"},
    RecordProgress: {"action_id": "A1", "status": ActionStatus.DONE},
    RecordFeedback: {"party": "V1", "satisfaction": 4, "things_changed": True},
    Close: {"reason": ClosureReason.OTHER, "note": "Moved abroad"},
    VaryAgreement: {"actions": (_ACTION,)},
    WaiveAgreementAction: {"action_id": "A1"},
    InformVictim: {"victim": "V1", "about": VictimUpdateAbout.PROGRESS},
    RecordVictimWishes: {"victim": "V1", "keep_informed": True},
    RecordFollowUp: {"party": "V1"},
    RecordBreachOutcome: {"outcome": BreachOutcome.ORDER_CONTINUES},
    RecordRequest: {"party": "V1", "activity": ContactActivity.FACE_TO_FACE},
    AcceptSupporter: {"supporter": "S1", "by": "O1", "accepted": True},
    ReviewLetter: {"victim": "V1", "approved": True},
    LetterInput: {"victim": "V1"},
    ApproveRiskAssessment: {"subject": "V1"},
    RecordNewInformation: {"subject": "V1"},
    DeclineAll: {"party": "V1"},  # issue 14 fixes
    Policy: {},
}
SLOTS = [
    (cls, a.name) for cls in TEMPLATES for a in attrs.fields(cls) if a.init
]  # every field of every class

_enums: list[enum.Enum] = [
    m
    for cls in (OffenceCategory, PractitionerLevel, ContactActivity, Attendance, ClosureReason)
    for m in cls
]
wrong_kinds = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 20),
    st.integers(),
    st.floats(),
    any_text,
    st.binary(max_size=4),
    st.sampled_from(_enums),
    st.sampled_from([m.value for m in _enums]),
    st.sampled_from(["advanced", "Domestic abuse", "a face-to-face meeting", "V1", "A1"]),
    st.lists(st.one_of(any_text, st.integers(), st.sampled_from(_enums)), max_size=3),
    st.frozensets(st.sampled_from([m.value for m in _enums] + [5, True]), max_size=3),
    st.dictionaries(any_text, st.integers(), max_size=2),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(),
    st.sampled_from(
        [Victim("V3"), Offender("O1"), Offence(OffenceCategory.THEFT), _ACTION, (_ACTION,)]
    ),
)


@given(st.sampled_from(SLOTS), wrong_kinds)
def test_wrong_kinds_are_refused_or_round_trip(slot: tuple[type, str], value: Any) -> None:
    """For random values of the wrong kinds in every field of every input class (100 examples
    in the dev profile, 1,300 in ci): InvalidInput, or a value that unstructures and
    structures back to an equal value (and, for an opening, a case that saves and loads)."""
    cls, field = slot
    kwargs = {**TEMPLATES[cls], field: value}
    try:
        built = cls(**kwargs)
    except InvalidInput:
        return
    as_type: Any = Party if cls in (Offender, Victim, Supporter, Facilitator) else cls
    assert structure(unstructure(built, cls), as_type, "value") == built
    if cls is OpenCase:
        case = Case._opened("C1", built, T0, "F1", LONDON_CRC)
        assert loads(dumps(case)) == case
    if cls is Policy:
        case, _ = new_case(policy=built)
        assert loads(dumps(case), policy=built) == case
        assert _fingerprint(structure(unstructure(built, Policy), Policy, "p")) == _fingerprint(
            built
        )


def test_templates_cover_every_input_class() -> None:
    """The property above builds every input class an action takes."""
    assert {a.input for a in ACTIONS.values()} - {NoInput} <= set(TEMPLATES)
