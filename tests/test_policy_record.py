"""A saved case records the policy that judged it; loading it under another is an explicit
choice that says so (issue 12)."""

from __future__ import annotations

import copy
import json
import warnings

import jsonschema
import pytest

from rjflow import (
    LONDON_CRC,
    InvalidDocument,
    Policy,
    PolicyChanged,
    PolicyMismatch,
    RJFlowError,
    State,
)
from rjflow.policy import example_policy
from rjflow.serialization import _fingerprint, dumps, from_dict, json_schema, load_jsonl, to_dict

from .builders import at_stage

YOUTH = example_policy("youth").policy
CANARY = "Canary Smith"


@pytest.fixture(scope="module")
def youth_doc() -> dict[str, object]:
    case, _ = at_stage(State.PREPARATION, policy=YOUTH)
    return to_dict(case)


def test_the_document_records_the_policy_that_judged_it(youth_doc: dict[str, object]) -> None:
    assert youth_doc["policy"] == {"name": YOUTH.name, "fingerprint": _fingerprint(YOUTH)}
    jsonschema.validate(youth_doc, json_schema())


def test_the_default_loads_what_it_judged_without_a_word() -> None:
    case, _ = at_stage(State.INTRODUCTION)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert from_dict(to_dict(case)) == case


def test_a_case_of_another_policy_needs_policy_given(youth_doc: dict[str, object]) -> None:
    """Without policy=, a case judged under another policy is refused, not re-judged."""
    with pytest.raises(PolicyMismatch) as caught:
        from_dict(youth_doc)
    assert isinstance(caught.value, InvalidDocument)
    assert caught.value.recorded == _fingerprint(YOUTH)
    assert caught.value.path == "policy.fingerprint"
    assert "policy=" in str(caught.value)


def test_the_recorded_policy_given_loads_without_a_word(youth_doc: dict[str, object]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        case = from_dict(youth_doc, policy=YOUTH)
    assert case.policy == YOUTH


def test_another_policy_given_is_reported(youth_doc: dict[str, object]) -> None:
    """Given explicitly, another policy judges the history, with a PolicyChanged warning; the
    case then records the policy that judged it now."""
    other = Policy(name="Youth, revised", max_sessions=12, youth_needs_appropriate_adult=True)
    with pytest.warns(PolicyChanged) as caught:
        case = from_dict(youth_doc, policy=other)
    warning = caught[0].message
    assert isinstance(warning, PolicyChanged) and isinstance(warning, RJFlowError)
    assert (warning.recorded, warning.given) == (_fingerprint(YOUTH), _fingerprint(other))
    assert case.policy == other
    assert to_dict(case)["policy"]["fingerprint"] == _fingerprint(other)  # type: ignore[index]


def test_an_older_document_without_the_record_still_loads(youth_doc: dict[str, object]) -> None:
    """The field is optional on read: documents saved before issue 12 load as before."""
    old = {k: v for k, v in youth_doc.items() if k != "policy"}
    assert from_dict(old, policy=YOUTH).state is State.PREPARATION
    case, _ = at_stage(State.INTRODUCTION)
    plain = {k: v for k, v in to_dict(case).items() if k != "policy"}
    assert from_dict(plain) == case


@pytest.mark.parametrize(
    "record",
    [
        "London",
        None,
        {"name": "x"},
        {"name": "x", "fingerprint": "F" * 64},
        {"name": 1, "fingerprint": "a" * 64},
        {"name": "x", "fingerprint": "a" * 64, "extra": 1},
    ],
)
def test_a_malformed_record_is_refused(record: object) -> None:
    case, _ = at_stage(State.INTRODUCTION)
    doc = to_dict(case)
    doc["policy"] = record
    with pytest.raises(InvalidDocument) as caught:
        from_dict(doc)
    assert caught.value.path == "policy"


def test_a_renamed_policy_record_is_an_altered_document() -> None:
    """The fingerprint covers the name: a matching fingerprint under another name is an edit;
    the name given is not repeated."""
    case, _ = at_stage(State.INTRODUCTION)
    doc = to_dict(case)
    doc["policy"]["name"] = CANARY
    with pytest.raises(InvalidDocument) as caught:
        from_dict(doc)
    assert caught.value.path == "policy.name"
    assert CANARY not in str(caught.value)


def test_the_recorded_name_is_never_repeated(youth_doc: dict[str, object]) -> None:
    doc = copy.deepcopy(youth_doc)
    doc["policy"]["name"] = CANARY  # type: ignore[index]
    with pytest.raises(PolicyMismatch) as caught:
        from_dict(doc)
    assert CANARY not in str(caught.value) and CANARY not in repr(caught.value)


def test_json_lines_report_the_mismatch_by_line(youth_doc: dict[str, object]) -> None:
    case, _ = at_stage(State.INTRODUCTION)
    lines = [dumps(case), json.dumps(youth_doc)]
    report = load_jsonl(lines)
    assert len(report.cases) == 1
    assert [p.line for p in report.problems] == [2]
    assert "another policy" in report.problems[0].message
    assert load_jsonl(lines[1:], policy=YOUTH).ok


def test_the_default_is_still_london_crc() -> None:
    """A load naming no policy judges under London CRC's programme, as before."""
    case, _ = at_stage(State.INTRODUCTION)
    assert from_dict(to_dict(case)).policy is LONDON_CRC
