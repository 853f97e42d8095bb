"""rjflow's errors survive a trip between processes (worker pools, task queues pickle them)."""

from __future__ import annotations

import copy
import pickle

import pytest

from rjflow import errors
from rjflow.blocker import Blocker
from rjflow.errors import (
    ActionRefused,
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    CorruptRecord,
    HistoryTampered,
    IntegrityError,
    InvalidDocument,
    InvalidInput,
    InvalidWorkflow,
    PolicyChanged,
    PolicyMismatch,
    RJFlowError,
    SourceUnavailable,
    StoreUnavailable,
    UnknownAction,
)

SAMPLES: list[RJFlowError] = [
    RJFlowError("Something went wrong."),
    InvalidInput("'at' must be timezone-aware."),
    UnknownAction("record_sesion", ("record_session",)),
    ActionRefused(
        case_id="C1",
        state="referred",
        action="start_introduction",
        blockers=[Blocker("offender_not_sentenced", "Record the sentence first.", "g", None)],
    ),
    InvalidWorkflow("The workflow is inconsistent."),
    InvalidDocument("events[3]: bad.", path="events[3]", sequence=4),
    HistoryTampered("Event 2 was altered.", sequence=2),
    IntegrityError("The seal does not match.", path="integrity.mac"),
    ConcurrencyConflict("C1", 3, 4),
    CaseNotFound("C1"),
    CaseExists("C1", 5),
    CorruptRecord("Stored case C1 cannot be read.", case_id="C1", path="events[0]", sequence=1),
    StoreUnavailable("The store's database cannot be used."),
    SourceUnavailable("The file cannot be read."),
    PolicyMismatch("Judged under another policy.", recorded="a" * 64),
    PolicyChanged("Loaded under another policy.", recorded="a" * 64, given="b" * 64),
]


def test_every_error_class_has_a_sample() -> None:
    """A new error class must be added here, so that it is checked too."""
    assert {type(e).__name__ for e in SAMPLES} == set(errors.__all__)


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_pickle_and_copy_keep_class_message_and_fields(error: RJFlowError) -> None:
    """Regression: ActionRefused, ConcurrencyConflict and UnknownAction could not be unpickled
    (their __init__ takes other arguments than the exception's args), so an error raised in a
    worker process arrived as a TypeError."""
    for again in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(again) is type(error)
        assert str(again) == str(error)
        assert again.__dict__ == error.__dict__
    if isinstance(error, ActionRefused):
        assert pickle.loads(pickle.dumps(error)).codes == ("offender_not_sentenced",)


def test_unknown_action_keeps_no_caller_text_that_is_not_an_action_name() -> None:
    """Regression (review): UnknownAction.name held the raw text given, e.g. a person's name,
    which reaches logs that record an error's attributes."""
    assert UnknownAction("Jane Canary", ("close",)).name is None
    assert UnknownAction("record_sesion", ("close",)).name == "record_sesion"
