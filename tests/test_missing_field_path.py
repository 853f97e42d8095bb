"""A missing field is named once in the error's path, in a saved document and in an
application's JSON input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rjflow import Case, Facilitator, InvalidDocument, InvalidInput, Offence, OffenceCategory
from rjflow.demo import build_demo_case
from rjflow.serialization import from_dict, to_dict


def test_a_missing_field_of_a_document_is_named_once_not_twice() -> None:
    """Regression: a document whose event lacked ``at`` was reported at
    ``events[0].at.at``."""
    document = to_dict(build_demo_case())
    del document["events"][0]["at"]
    with pytest.raises(InvalidDocument) as caught:
        from_dict(document)
    assert str(caught.value).startswith("events[0].at: is required but missing")
    assert caught.value.path == "events[0].at"


def test_a_missing_field_of_a_party_in_json_input_is_named_once_not_twice() -> None:
    """Regression: a party sent as JSON without its ``id`` was reported as ``party.id.id``."""
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    case = Case.open(
        "RJ-1",
        offence=Offence(OffenceCategory.THEFT),
        offender="O1",
        victims=["V1"],
        facilitators=[Facilitator("F1", "advanced")],
        lead_facilitator="F1",
        at=at,
        actor="F1",
    )
    with pytest.raises(InvalidInput) as caught:
        case.blockers("add_party", party={"role": "supporter", "id": "S1"})
    assert "'party.supports'" in str(caught.value)
    assert "supports.supports" not in str(caught.value)
