"""Issue 10, item 4: the stage before the shape.  An action asked for at a stage where it
cannot happen is refused for the stage — by fire, the typed methods, blockers and can — whatever
input it was given, missing or malformed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rjflow import ActionRefused, Case, State
from rjflow.states import ACTIONS

from .builders import at_stage

OPEN = [State.REFERRED, State.INTRODUCTION, State.PREPARATION, State.CONFERENCE]
OPEN += [State.LETTER_OF_APOLOGY, State.SHUTTLE_MEDIATION, State.REVIEW]
STAGE_CODES = {"wrong_stage", "case_closed", "case_completed", "not_offered"}
#: Inputs of the wrong shape: unknown keywords, wrong types, values no field takes.
BAD_INPUTS: list[dict[str, Any]] = [
    {},
    {"bogus": 1},
    {"reason": 42, "party": ["x"], "duration": "90"},
]


def _closed() -> tuple[Case, Any]:
    case, clock = at_stage(State.INTRODUCTION)
    case.close(reason="other", note="Moved away.", at=clock(), actor="F1")
    return case, clock


def _cases() -> list[tuple[str, Case, Any]]:
    built = [(stage.value, *at_stage(stage)) for stage in OPEN]
    return [*built, ("closed", *_closed())]


CASES = _cases()
PAIRS = [
    (label, name)
    for label, case, _ in CASES
    for name in ACTIONS
    if name not in case.workflow.actions or case.state not in case.workflow.actions[name].sources
]


def _case(label: str) -> tuple[Case, Any]:
    for lab, case, clock in CASES:
        if lab == label:
            return copy.deepcopy(case), clock
    raise KeyError(label)


@pytest.mark.parametrize(("label", "action"), PAIRS)
@pytest.mark.parametrize("data", BAD_INPUTS, ids=["none", "unknown", "wrong"])
def test_fire_reports_the_stage_before_the_input(
    label: str, action: str, data: dict[str, Any]
) -> None:
    """fire at a stage where the action cannot happen raises ActionRefused with the stage's
    blocker, whatever the input; the case is unchanged."""
    case, clock = _case(label)
    version = case.version
    with pytest.raises(ActionRefused) as refused:
        case.fire(action, at=clock(), actor="F1", **data)
    assert len(refused.value.blockers) == 1
    assert refused.value.codes[0] in STAGE_CODES
    assert case.version == version


@pytest.mark.parametrize(("label", "action"), PAIRS)
def test_typed_method_reports_the_stage_before_its_arguments(label: str, action: str) -> None:
    """The typed method, called with none of its own arguments, says the stage (not Python's
    "missing 1 required argument")."""
    case, clock = _case(label)
    with pytest.raises(ActionRefused) as refused:
        getattr(case, action)(at=clock(), actor="F1")
    assert refused.value.codes[0] in STAGE_CODES


@pytest.mark.parametrize(("label", "action"), PAIRS)
@pytest.mark.parametrize("data", BAD_INPUTS, ids=["none", "unknown", "wrong"])
def test_blockers_and_can_report_the_stage_before_the_input(
    label: str, action: str, data: dict[str, Any]
) -> None:
    """blockers and can answer with the stage, whatever the proposed input."""
    case, _ = _case(label)
    found = case.blockers(action, **data)
    assert [b.code for b in found] == [case.blockers(action)[0].code]
    assert found[0].code in STAGE_CODES
    assert case.can(action, **data) is False


def test_close_on_a_closed_case_says_it_is_closed_not_that_a_reason_is_missing() -> None:
    """The reported fault: close on a closed case answered "missing 1 required positional
    argument: 'reason'"; the stage is what a caseworker needs to hear first."""
    case, clock = _case("closed")
    with pytest.raises(ActionRefused) as by_name:
        case.fire("close", at=clock(), actor="F1")
    with pytest.raises(ActionRefused) as by_method:
        case.close(at=clock(), actor="F1")
    for refused in (by_name.value, by_method.value):
        assert refused.codes == ("case_closed",)
        assert "closed" in str(refused) and "reason" not in str(refused).split(":")[0]


def test_pairs_cover_every_action() -> None:
    """Every action of the table is tried at some stage where it cannot happen (all but
    those possible at every stage, such as informing a victim)."""
    everywhere = {name for name, a in ACTIONS.items() if set(State) <= set(a.sources)}
    assert {action for _, action in PAIRS} == set(ACTIONS) - everywhere
