"""Issue 10, item 3: options that say what a proposed input can still change.  An option
judged allowed whose rules read no input field is taken with any valid input; the others name
the fields a form must still have judged by ``case.blockers(action, **input)``."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rjflow import ActionRefused, InvalidInput, State
from rjflow._dependence import input_dependence, reads
from rjflow.states import ACTIONS

from .builders import at_stage
from .strategies import POLICIES, inputs

STAGES = [State.REFERRED, State.INTRODUCTION, State.PREPARATION, State.CONFERENCE]
STAGES += [State.LETTER_OF_APOLOGY, State.SHUTTLE_MEDIATION, State.REVIEW]


@st.composite
def _walked_case(draw: st.DrawFn) -> tuple[Any, Any]:
    """A case at a drawn stage and policy, then a few drawn actions (refusals ignored)."""
    stage, policy = draw(st.sampled_from(STAGES)), draw(st.sampled_from(POLICIES))
    try:
        case, clock = at_stage(stage, policy=policy)
    except ActionRefused:  # the policy does not offer the route to that stage
        case, clock = at_stage(State.PREPARATION, policy=policy)
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from([o.action for o in case.options()]))
        data = draw(inputs(action, case.record))
        with contextlib.suppress(ActionRefused, InvalidInput):
            case.fire(action, at=clock(), actor="F1", **data)
    return case, clock


class TestOptionsSayWhatTheInputChanges:
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(_walked_case(), st.data())
    def test_allowed_without_dependence_means_any_valid_input_succeeds(
        self, walked: tuple[Any, Any], data: st.DataObject
    ) -> None:
        """When options() says allowed and names no field the rules still judge, firing it
        with any valid input succeeds (300 cases, random walks of up to 6 actions)."""
        case, clock = walked
        free = [o for o in case.options() if o.allowed and not o.depends_on]
        if not free:
            return
        option = data.draw(st.sampled_from(free))
        drawn = data.draw(inputs(option.action, case.record))
        try:
            ACTIONS[option.action].input(**drawn)
        except InvalidInput:
            return  # not a valid input
        event = case.fire(option.action, at=clock(), actor="F1", **drawn)
        assert event.action == option.action
        hypothesis.event("fired with any valid input", option.action)

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(_walked_case(), st.data())
    def test_blockers_with_the_input_predict_fire(
        self, walked: tuple[Any, Any], data: st.DataObject
    ) -> None:
        """For an input-dependent option, blockers(action, **input) says exactly whether fire
        succeeds (300 cases)."""
        case, clock = walked
        options = [o for o in case.options() if o.depends_on]
        if not options:
            return
        option = data.draw(st.sampled_from(options))
        drawn = data.draw(inputs(option.action, case.record))
        at = clock()
        try:
            predicted = case.blockers(option.action, at=at, actor="F1", **drawn)
        except InvalidInput:
            return
        try:
            case.fire(option.action, at=at, actor="F1", **drawn)
        except ActionRefused as refused:
            assert refused.blockers == predicted
            hypothesis.event("refused as predicted")
        else:
            assert predicted == ()
            hypothesis.event("fired as predicted")

    def test_a_session_depends_on_its_duration(self) -> None:
        """The reported fault: record_session allowed, then a 181-minute session refused on
        submit.  The option now says its duration is still judged, and blockers judges it."""
        case, _ = at_stage(State.INTRODUCTION)
        (option,) = [o for o in case.options() if o.action == "record_session"]
        assert option.allowed
        assert "duration" in option.depends_on
        assert option.to_json_dict()["depends_on"] == list(option.depends_on)
        codes = [b.code for b in case.blockers("record_session", duration=timedelta(minutes=181))]
        assert codes == ["session_too_long"]

    def test_trigger_without_input_depends_on_nothing(self) -> None:
        """An action without input fields depends on none."""
        case, _ = at_stage(State.INTRODUCTION)
        (option,) = [o for o in case.options() if o.action == "start_preparation"]
        assert option.depends_on == ()

    def test_dependence_follows_the_input_into_helpers(self) -> None:
        """A rule that passes its input to a helper reads what the helper reads: the victims
        who meet are read by consent rules through _conference_victims."""
        assert "victims" in reads("victims_consent_face_to_face")
        assert reads("session_length_within_limit") == {"duration"}
        assert reads("offender_sentenced") == frozenset()

    def test_dependence_names_only_input_fields(self) -> None:
        """depends_on lists fields of the action's input, in the input's order."""
        for action in ACTIONS.values():
            names = [n for n in action.input.__attrs_attrs__ if n.init]  # type: ignore[attr-defined]
            order = [a.name for a in names]
            fields = input_dependence(action)
            assert list(fields) == [n for n in order if n in fields]
