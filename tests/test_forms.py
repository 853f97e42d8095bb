"""Issue 10, item 1: each action's input as data (rjflow.forms), and a JSON Schema per action
that accepts what the input classes accept and refuses what they refuse."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rjflow import LONDON_CRC, ClosureReason, InvalidInput, Policy, State, UnknownAction
from rjflow._convert import input_value
from rjflow.commands import RecordFeedback
from rjflow.forms import Form, FormField, form, forms, input_json
from rjflow.states import ACTIONS
from rjflow.workflow import Workflow

from .builders import at_stage
from .strategies import POLICIES, inputs

STAGES = [State.REFERRED, State.INTRODUCTION, State.PREPARATION, State.CONFERENCE]
STAGES += [State.LETTER_OF_APOLOGY, State.SHUTTLE_MEDIATION, State.REVIEW]


def _validator(f: Form) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(f.json_schema())


def every_field(of: tuple[FormField, ...]) -> Iterator[FormField]:
    """Each field, then the fields inside it (a list's rows, each variant of a party)."""
    for x in of:
        yield x
        yield from every_field(x.fields)
        for variant in x.variants.values():
            yield from every_field(variant)


class TestEveryActionHasAForm:
    @pytest.mark.parametrize("name", list(ACTIONS))
    def test_form_fields_are_the_input_class_arguments(self, name: str) -> None:
        """A form lists exactly the keyword arguments its input class takes, with the same
        required ones (read here from the class's signature, not from attrs)."""
        f = form(name)
        params = inspect.signature(ACTIONS[name].input).parameters.values()
        assert f.action == name
        assert [x.name for x in f.fields] == [p.name for p in params]
        assert [x.name for x in f.fields if x.required] == [
            p.name for p in params if p.default is inspect.Parameter.empty
        ]

    @pytest.mark.parametrize("name", list(ACTIONS))
    def test_every_field_has_help_text_and_a_valid_schema(self, name: str) -> None:
        """Every field says what it is, and each action's JSON Schema is a valid schema."""
        f = form(name)
        assert all(x.help.endswith(".") for x in every_field(f.fields)), [
            x.name for x in every_field(f.fields) if not x.help.endswith(".")
        ]
        jsonschema.Draft202012Validator.check_schema(f.json_schema())

    @pytest.mark.parametrize("name", list(ACTIONS))
    def test_help_says_what_a_field_means_not_how_it_is_written(self, name: str) -> None:
        """A form may ask for a duration in minutes or a date with a calendar: the help a
        caseworker reads next to it never names a wire format (the kind does)."""
        for x in every_field(form(name).fields):
            assert not re.search(r"ISO|8601|\bPT\d|\d{4}-\d\d-\d\d", x.help), (x.name, x.help)

    @pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
    def test_forms_cover_the_policy_workflow(self, policy: Policy) -> None:
        """forms(policy) has one form per action the policy's workflow offers."""
        assert [f.action for f in forms(policy)] == list(Workflow.for_policy(policy).actions)

    def test_unknown_action_has_no_form(self) -> None:
        """A misspelled action is refused, as fire refuses it."""
        with pytest.raises(UnknownAction):
            form("record_sesion")

    def test_limits_come_from_the_policy(self) -> None:
        """A session's maximum length is the policy's, not a constant."""
        short = Policy(name="short sessions", max_session_length=timedelta(hours=1, minutes=30))
        (duration,) = [f for f in form("record_session", short).fields if f.name == "duration"]
        assert duration.limits == {"maximum": "PT1H30M", "maximum_seconds": 5400}
        (default,) = [f for f in form("record_session").fields if f.name == "duration"]
        assert default.limits["maximum_seconds"] == 3 * 3600

    def test_choices_carry_values_and_labels(self) -> None:
        """A choice field lists the enum's values with the caseworker's labels."""
        (reason,) = [f for f in form("close").fields if f.name == "reason"]
        assert [c.value for c in reason.choices] == [
            m.value for m in ClosureReason if m is not ClosureReason.COMPLETED
        ]
        (withdrew,) = [c for c in reason.choices if c.value == "victim_withdrew"]
        assert withdrew.label == "victim withdrew"
        assert reason.schema["enum"] == [m.value for m in ClosureReason]
        (attendance,) = [f for f in form("record_session").fields if f.name == "attendance"]
        assert [c.label for c in attendance.choices] == [
            "attended",
            "missed, with an acceptable reason",
            "missed, without an acceptable reason",
        ]

    @pytest.mark.parametrize(
        ("action", "field", "never", "code"),
        [
            ("close", "reason", "completed", "use_complete"),
            ("record_progress", "status", "waived", "use_waive_agreement_action"),
        ],
    )
    def test_a_choice_the_rules_always_refuse_is_not_offered_but_explained(
        self, action: str, field: str, never: str, code: str
    ) -> None:
        """The form leaves it out; the schema takes it, and rjflow says why it is refused."""
        (f,) = [x for x in form(action).fields if x.name == field]
        assert never not in [c.value for c in f.choices] and never in f.schema["enum"]
        stage = State.REVIEW if action == "record_progress" else State.PREPARATION
        case, _ = at_stage(stage)
        extra = {"action_id": "A1"} if action == "record_progress" else {}
        blockers = case.blockers(action, **{field: never, **extra})  # type: ignore[arg-type]
        assert code in {b.code for b in blockers}

    def test_json_form_of_a_form(self) -> None:
        """A form's JSON data holds its fields and its schema, and is plain JSON."""
        data = form("record_feedback").to_json_dict()
        assert data["action"] == "record_feedback"
        assert [f["name"] for f in data["fields"]] == ["party", "satisfaction", "things_changed"]
        assert data["fields"][1]["limits"] == {"minimum": 1, "maximum": 5}
        assert data["json_schema"]["required"] == ["party", "satisfaction", "things_changed"]


@st.composite
def _stage_action_input(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    stage = draw(st.sampled_from(STAGES))
    case, _ = at_stage(stage)
    action = draw(st.sampled_from([o.action for o in case.options()]))
    return action, draw(inputs(action, case.record))


class TestSchemasMatchTheInputClasses:
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(_stage_action_input())
    def test_schema_accepts_every_input_the_builders_produce(
        self, drawn: tuple[str, dict[str, Any]]
    ) -> None:
        """Every input the shared strategies draw that its class accepts is valid against the
        action's JSON Schema, in its JSON form (300 examples)."""
        action, data = drawn
        try:
            inp = ACTIONS[action].input(**data)
        except InvalidInput:
            return  # a malformed input drawn on purpose; refused below
        errors = list(_validator(form(action)).iter_errors(input_json(inp)))
        assert not errors, [e.message for e in errors]

    @pytest.mark.parametrize("name", list(ACTIONS))
    def test_schema_refuses_unknown_and_missing_fields(self, name: str) -> None:
        """An unknown key is refused; so is a document missing any required field."""
        f = form(name)
        validator = _validator(f)
        assert not validator.is_valid({"not_a_field": 1})
        for field in f.fields:
            if field.required:
                others = {x.name: _sample(x) for x in f.fields if x.name != field.name}
                assert not validator.is_valid(others), field.name

    @pytest.mark.parametrize("name", list(ACTIONS))
    def test_schema_refuses_wrong_types(self, name: str) -> None:
        """Each field refuses a value of another JSON type, and an enum field a value that
        is not one of its choices."""
        f = form(name)
        validator = _validator(f)
        base = {x.name: _sample(x) for x in f.fields}
        assert validator.is_valid(base), list(validator.iter_errors(base))
        for field in f.fields:
            wrong: list[object] = [{"x": 1}]
            wrong += [] if field.json_type == "boolean" else [True]
            wrong += [] if field.json_type == "string" else ["text"]
            if field.kind == "choice":
                wrong.append("not one of them")
            for value in wrong:
                assert not validator.is_valid({**base, field.name: value}), (field.name, value)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("party", "Jane Doe"),
            ("satisfaction", 0),
            ("satisfaction", 6),
        ],
    )
    def test_feedback_schema_refuses_what_the_class_refuses(
        self, field: str, value: object
    ) -> None:
        """A name where an id goes, or a satisfaction outside 1-5, is refused by both."""
        data = {"party": "V1", "satisfaction": 3, "things_changed": True, field: value}
        assert not _validator(form("record_feedback")).is_valid(data)
        with pytest.raises(InvalidInput):
            RecordFeedback(**data)  # type: ignore[arg-type]

    @pytest.mark.parametrize("text", ["90", "PT", "P1M", "PT1.5H", "2h", "-PT1H", "P1W"])
    def test_duration_schema_refuses_what_fire_refuses(self, text: str) -> None:
        """A bare number or a duration with months, weeks or fractions is not a duration."""
        assert not _validator(form("record_session")).is_valid({"duration": text})


def _sample(field: Any) -> object:
    """A valid JSON value for ``field``."""
    if field.choices and field.kind == "choice":
        return field.choices[0].value
    samples: dict[str, object] = {
        "id": "V1",
        "text": "A note.",
        "date": "2026-03-02",
        "duration": "PT1H",
        "yes_no": True,
        "whole_number": field.limits.get("minimum", 1),
        "ids": ["V1"],
        "party": {"role": "victim", "id": "V2"},
        "list": [
            {"id": "A1", "what": "Repair the fence", "responsible": "O1", "deadline": "2026-05-01"}
        ],
    }
    return samples[field.kind]


def test_input_classes_and_forms_agree_on_defaults() -> None:
    """A field's default, read back as JSON input, is the class's own default."""
    for name, definition in ACTIONS.items():
        for field in form(name, LONDON_CRC).fields:
            if field.required:
                continue
            (attribute,) = [a for a in attrs.fields(definition.input) if a.name == field.name]
            read = input_value(definition.input, field.name, field.default)
            assert read == attribute.default or (read, attribute.default) == ([], ()), (
                name,
                field.name,
            )
