"""Issue 10, item 4: the stage before the shape.  An action asked for at a stage where it
cannot happen is refused for the stage — by fire, the typed methods, blockers and can — whatever
input it was given, missing or malformed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rjflow import ActionRefused, Case, InvalidInput, State
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
#: Before any case the builders open.
T_EARLY = datetime(2000, 1, 1, tzinfo=UTC)
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


# Issue 15: a typed method checks who acts when and the stage once, and its own _do takes them
# as checked.  The shortcut must not outlive the call, nor apply to any other action.


def test_a_typed_call_refused_for_its_input_leaves_no_checked_state_behind() -> None:
    case, clock = at_stage(State.PREPARATION)
    with pytest.raises(InvalidInput):
        case.record_session(duration="two hours", at=clock(), actor="F1")  # type: ignore[arg-type]
    assert case._checked is None
    before = case.version
    with pytest.raises(InvalidInput):
        # Earlier than the case's last change: refused, so the time is still checked.
        case.record_session(duration=timedelta(hours=1), at=T_EARLY, actor="F1")
    assert case._checked is None and case.version == before


def test_a_typed_call_that_succeeds_records_exactly_what_fire_records() -> None:
    typed, clock = at_stage(State.PREPARATION)
    fired = copy.deepcopy(typed)
    at = clock()
    event = typed.record_session(duration=timedelta(hours=1), at=at, actor="F1")
    assert typed._checked is None
    other = fired.fire("record_session", duration=timedelta(hours=1), at=at, actor="F1")
    assert event.data == other.data and event.at == other.at and event.actor == other.actor
    assert typed.record == fired.record
