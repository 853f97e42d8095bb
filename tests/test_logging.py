"""rjflow is quiet in an application's logs (issue 9, "Also: transitions logging")."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import Machine

from rjflow import State
from rjflow._logging import DISPATCHING

from .builders import at_stage, consent, session


def engine_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("transitions")]


def test_a_stage_change_at_debug_logs_nothing_from_transitions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Regression: each stage change wrote about ten DEBUG and two INFO lines from
    transitions into the application's logs; at DEBUG, none reach it now."""
    case, clock = at_stage(State.INTRODUCTION)
    session(case, clock)
    case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
    with caplog.at_level(logging.DEBUG):
        case.start_preparation(at=clock(), actor="F1")
        assert case.state is State.PREPARATION
        refused = not case.can("hold_conference")  # a refused dispatch too
    assert refused
    assert engine_records(caplog) == []


def test_transitions_used_directly_still_logs(caplog: pytest.LogCaptureFixture) -> None:
    """An application's own transitions machine keeps all of its records, before and after
    rjflow dispatches, and the logger's level is untouched."""
    case, clock = at_stage(State.INTRODUCTION)
    before = logging.getLogger("transitions.core").level

    class Light:
        pass

    light = Light()
    machine = Machine(light, states=["red", "green"], initial="red", name="app")
    machine.add_transition("go", "red", "green")
    with caplog.at_level(logging.DEBUG):
        light.go()  # type: ignore[attr-defined]
        session(case, clock)
    messages = [r.getMessage() for r in engine_records(caplog)]
    assert any("Entering state green" in m for m in messages)
    assert sum(r.levelno == logging.INFO for r in engine_records(caplog)) >= 2
    assert logging.getLogger("transitions.core").level == before


def test_warnings_from_the_engine_still_pass(caplog: pytest.LogCaptureFixture) -> None:
    """Only chatter is dropped: a WARNING logged by transitions during a dispatch passes."""
    logger = logging.getLogger("transitions.core")
    token = DISPATCHING.set(True)
    try:
        with caplog.at_level(logging.DEBUG):
            logger.debug("chatter")
            logger.warning("something is wrong")
    finally:
        DISPATCHING.reset(token)
    assert [r.getMessage() for r in engine_records(caplog)] == ["something is wrong"]


def test_the_flag_is_per_thread(caplog: pytest.LogCaptureFixture) -> None:
    """While one thread dispatches, another thread's own transitions records still pass."""
    logger = logging.getLogger("transitions.core")
    started, release = threading.Event(), threading.Event()

    def dispatching() -> None:
        token = DISPATCHING.set(True)
        started.set()
        release.wait(10)
        DISPATCHING.reset(token)

    worker = threading.Thread(target=dispatching)
    with caplog.at_level(logging.DEBUG):
        worker.start()
        started.wait(10)
        logger.info("from the application")
        release.set()
        worker.join()
    assert [r.getMessage() for r in engine_records(caplog)] == ["from the application"]


def test_the_rjflow_logger_has_a_null_handler() -> None:
    """The library's logger has a NullHandler and no other handler rjflow added."""
    handlers = logging.getLogger("rjflow").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


@settings(max_examples=30, deadline=None)
@given(hours=st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=4))
def test_any_run_of_actions_logs_nothing_from_transitions(hours: list[int]) -> None:
    """Random runs of sessions, consents and stage changes (30 examples): no transitions
    record below WARNING reaches a DEBUG handler on the root logger."""
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    handler, level = Collect(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        case, clock = at_stage(State.PREPARATION)
        for h in hours:
            session(case, clock, hours=h)
        for party in ("O1", "V1"):
            consent(case, clock, party, "face_to_face")
        case.can("hold_conference")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert [r for r in seen if r.name.startswith("transitions")] == []
