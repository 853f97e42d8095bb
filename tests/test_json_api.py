"""Issue 10, item 2: JSON in, JSON out.  ``fire``, ``blockers`` and ``can`` take JSON-shaped
input through the converter that reads the history; options, blockers, events and the case
summary have a documented JSON form."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rjflow import ActionRefused, Blocker, ClosureReason, InvalidInput, State
from rjflow._convert import format_duration, parse_duration, unstructure
from rjflow.forms import form, input_json
from rjflow.freetext import reveal
from rjflow.history import Event
from rjflow.states import ACTIONS

from .builders import at_stage
from .strategies import inputs
from .test_forms import _sample

STAGES = [State.REFERRED, State.INTRODUCTION, State.PREPARATION, State.CONFERENCE]
STAGES += [State.LETTER_OF_APOLOGY, State.SHUTTLE_MEDIATION, State.REVIEW]
SECRET = "Jane Doe, 1 High St"


def _outcome(case: Any, action: str, at: Any, data: dict[str, Any]) -> tuple[Any, ...]:
    try:
        event = case.fire(action, at=at, actor="F1", **data)
    except ActionRefused as refused:
        return ("refused", refused.codes)
    except InvalidInput as invalid:
        return ("invalid", type(invalid))
    return (event.action, reveal(event), event.from_state, event.to_state, case.record)


@st.composite
def _typed_input(draw: st.DrawFn) -> tuple[State, str, dict[str, Any]]:
    stage = draw(st.sampled_from(STAGES))
    case, _ = at_stage(stage)
    action = draw(st.sampled_from([o.action for o in case.options()]))
    return stage, action, draw(inputs(action, case.record))


class TestJsonIn:
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(_typed_input())
    def test_json_input_fires_the_same_event_as_typed_input(
        self, drawn: tuple[State, str, dict[str, Any]]
    ) -> None:
        """Round trip: a typed input, turned into JSON text and back, fired on an equal case,
        gives the same event and the same record — or the same refusal (300 examples)."""
        stage, action, data = drawn
        try:
            inp = ACTIONS[action].input(**data)
        except InvalidInput:
            return
        wire = json.loads(json.dumps(input_json(inp)))
        case, clock = at_stage(stage)
        twin = copy.deepcopy(case)
        at = clock()
        typed = _outcome(case, action, at, data)
        assert _outcome(twin, action, at, wire) == typed
        assert ("invalid", InvalidInput) != typed

    def test_json_input_is_judged_by_blockers_and_can(self) -> None:
        """A form's proposed input, as JSON, is judged before anything changes."""
        case, clock = at_stage(State.INTRODUCTION)
        assert [b.code for b in case.blockers("record_session", duration="PT3H1M")] == [
            "session_too_long"
        ]
        assert case.can("record_session", duration="PT2H", attendance="attended")
        assert case.version == len(case.history)
        event = case.fire("record_session", at=clock(), actor="F1", duration="PT1H30M")
        assert event.data["duration"] == 5400

    def test_enums_dates_and_parties_as_json(self) -> None:
        """Enum values, ISO dates, parties by role and agreement actions as objects."""
        case, clock = at_stage(State.REFERRED, sentenced=False)
        case.fire("record_sentence", at=clock(), actor="F1", sentenced_on="2026-02-01")
        assert case.record.sentenced_on.isoformat() == "2026-02-01"
        case.fire("add_party", at=clock(), actor="F1", party={"role": "victim", "id": "V2"})
        assert case.record.party("V2") is not None
        case.fire("close", at=clock(), actor="F1", reason="other", note="Moved away.")
        assert case.record.closure is not None
        assert case.record.closure.reason is ClosureReason.OTHER

    @pytest.mark.parametrize("stage", STAGES)
    def test_bad_json_names_the_field_and_never_echoes_it(self, stage: State) -> None:
        """Every field of every possible action, given JSON of the wrong shape, is refused with
        InvalidInput naming the field; the value given never appears in the message."""
        case, _ = at_stage(stage)
        for option in case.options():
            fields = form(option.action).fields
            base = {f.name: _sample(f) for f in fields}
            for field in fields:
                wrong: list[object] = [{SECRET: [SECRET]}]
                if field.kind != "text":
                    wrong.append(SECRET)
                for value in wrong:
                    with pytest.raises(InvalidInput) as raised:
                        case.blockers(option.action, **{**base, field.name: value})
                    message = str(raised.value)
                    assert f"'{field.name}" in message, (option.action, field.name, message)
                    assert "Jane" not in message and "High St" not in message
                    assert raised.value.__cause__ is None and raised.value.__context__ is None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("PT2H", timedelta(hours=2)),
            ("PT90M", timedelta(minutes=90)),
            ("PT1H30M15S", timedelta(hours=1, minutes=30, seconds=15)),
            ("P1DT1H", timedelta(days=1, hours=1)),
            ("PT0S", timedelta(0)),
        ],
    )
    def test_iso_durations(self, text: str, expected: timedelta) -> None:
        """ISO 8601 durations are read, and written back in one spelling."""
        assert parse_duration(text) == expected
        assert parse_duration(format_duration(expected)) == expected

    @pytest.mark.parametrize("text", ["90", "P", "PT", "P1M", "P1W", "PT1.5H", "-PT1H", "pt1h"])
    def test_duration_refuses_bare_numbers_months_and_fractions(self, text: str) -> None:
        """A bare number (seconds? minutes?) and an ambiguous or fractional duration are refused."""
        with pytest.raises(InvalidInput):
            parse_duration(text)

    @given(st.integers(0, 10**7))
    def test_format_duration_round_trips(self, seconds: int) -> None:
        """Every whole number of seconds is written as text that reads back to itself."""
        assert parse_duration(format_duration(timedelta(seconds=seconds))).total_seconds() == (
            seconds
        )


class TestJsonOut:
    def test_options_keep_allowed_and_blockers(self) -> None:
        """An option's JSON says whether it is allowed and why not (attrs.asdict drops it)."""
        case, _ = at_stage(State.REFERRED, sentenced=False)
        data = [o.to_json_dict() for o in case.options()]
        json.dumps(data)
        start = next(o for o in data if o["action"] == "start_introduction")
        assert start["allowed"] is False
        assert start["leads_to"] == "introduction"
        assert [b["code"] for b in start["blockers"]] == ["offender_not_sentenced"]
        assert set(start["blockers"][0]) == {
            "code",
            "message",
            "guard",
            "subject",
            "template",
            "params",
        }

    def test_blocker_json(self) -> None:
        """A blocker's JSON holds its six fields; one made without a template takes its
        message as its template, braces escaped."""
        b = Blocker("c", "A message {x}.", "g", "V1")
        assert b.to_json_dict() == {
            "code": "c",
            "message": "A message {x}.",
            "guard": "g",
            "subject": "V1",
            "template": "A message {{x}}.",
            "params": {},
        }

    def test_event_json_is_the_saved_form(self) -> None:
        """An event's JSON is what a saved document holds for it, with occurred_at always
        present, and it is plain JSON."""
        case, clock = at_stage(State.INTRODUCTION)
        case.fire("close", at=clock(), actor="F1", reason="other", note="Moved away.")
        for event in case.history:
            data = event.to_json_dict()
            json.dumps(data)
            saved = unstructure(event, Event)
            saved.setdefault("occurred_at", None)
            assert data == saved
        assert case.history[-1].to_json_dict()["texts"]["/note"]["text"] == "Moved away."

    def test_case_summary_json(self) -> None:
        """A case's summary: its id, stage, version, whether open, times, policy, closure."""
        case, clock = at_stage(State.INTRODUCTION)
        summary = case.to_json_dict()
        assert summary["case_id"] == "C1"
        assert (summary["state"], summary["stage"]) == ("introduction", "introduction")
        assert summary["version"] == len(case.history)
        assert summary["is_open"] is True and summary["closure_reason"] is None
        case.close(reason="other", note="x", at=clock(), actor="F1")
        closed = case.to_json_dict()
        assert (closed["state"], closed["closure_reason"], closed["is_open"]) == (
            "closed",
            "other",
            False,
        )
        json.dumps(closed)
