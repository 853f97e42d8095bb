"""Issue 10, item 5: action names as a type, kept equal to the workflow table."""

from __future__ import annotations

from typing import get_args

import pytest

import rjflow
from rjflow import ActionName, InvalidInput, State, UnknownAction, action_name
from rjflow.action_names import ACTION_NAMES, is_action_name
from rjflow.states import ACTIONS

from .builders import at_stage


def test_action_name_lists_the_table_in_order() -> None:
    """ActionName is exactly the table's action names, in its order: an action added to or
    removed from the table must be added to or removed from the Literal too."""
    assert get_args(ActionName) == tuple(ACTIONS)
    assert tuple(ACTIONS) == ACTION_NAMES


def test_action_name_checks_text_from_a_form() -> None:
    """A name that arrives as text is checked; a wrong one raises UnknownAction, which repeats
    it only when it is shaped like an action name."""
    assert action_name("record_session") == "record_session"
    assert is_action_name("close") and not is_action_name("Close") and not is_action_name(3)
    with pytest.raises(UnknownAction) as typo:
        action_name("record_sesion")
    assert typo.value.name == "record_sesion"
    with pytest.raises(UnknownAction) as personal:
        action_name("Jane Doe")
    assert personal.value.name is None and "Jane" not in str(personal.value)
    with pytest.raises(UnknownAction):
        action_name(None)


def test_party_and_action_name_are_public() -> None:
    """Party and the action-name helpers are exported from rjflow."""
    assert {"Party", "ActionName", "action_name"} <= set(rjflow.__all__)
    assert rjflow.Party is rjflow.parties.Party


def test_is_at_checks_the_stage_before_and_after_an_action() -> None:
    """is_at answers for the stage now (the pattern that type-checks), and refuses a stage
    given as text, which would always be False."""
    case, clock = at_stage(State.INTRODUCTION)
    assert case.is_at(State.INTRODUCTION) and not case.is_at(State.REFERRED)
    case.close(reason="other", note="x", at=clock(), actor="F1")
    assert case.is_at(State.COMPLETED, State.CLOSED)
    with pytest.raises(InvalidInput):
        case.is_at("closed")  # type: ignore[arg-type]
