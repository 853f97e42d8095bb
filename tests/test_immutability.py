"""Values that are immutable all the way down, and cases that copy and pickle.

An event is part of the accepted history: its ``data`` (and every dict and list inside it)
refuses every change, while hashing and serialising exactly as a plain dict would.  A case
copied or pickled is an equal, independent case that keeps working (issue 9, item 2).
"""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rjflow import Case, ClosureReason, InvalidInput, RJFlowError, State
from rjflow._frozen import freeze
from rjflow.demo import build_demo_case
from rjflow.history import Event, canonical_json, event_hash, verify_chain
from rjflow.serialization import dumps, loads
from rjflow.states import ACTIONS

from .builders import Clock, at_stage
from .strategies import POLICIES, inputs

#: The hash of the demo case's last event, computed by the release before event data was
#: frozen: freezing must not change a single byte of what is hashed.
FIXTURES = Path(__file__).parent / "fixtures" / "schema1"

STAGES = [
    State.REFERRED,
    State.INTRODUCTION,
    State.PREPARATION,
    State.CONFERENCE,
    State.REVIEW,
    State.LETTER_OF_APOLOGY,
    State.SHUTTLE_MEDIATION,
]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, Clock]:
    """A case taken to a random stage under a random policy, then through up to 8 random
    actions (each accepted or refused, as the rules decide)."""
    policy = draw(st.sampled_from(POLICIES))
    stage = draw(st.sampled_from(STAGES))
    try:
        case, clock = at_stage(stage, policy=policy)
    except Exception:  # the policy does not offer that stage: take the default's
        case, clock = at_stage(stage)
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(sorted(ACTIONS)))
        data = draw(inputs(name, case.record))
        try:
            case.fire(name, at=clock(), actor="F1", **data)
        except Exception as exc:  # refused or invalid: must be rjflow's own error
            assert isinstance(exc, RJFlowError), exc
    return case, clock


def containers(value: Any) -> Iterator[Any]:
    """Every dict and list inside ``value``, ``value`` included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from containers(item)
    elif isinstance(value, list):
        yield value
        for item in value:
            yield from containers(item)


DICT_MUTATIONS: list[Callable[[Any], Any]] = [
    lambda d: d.__setitem__("sentenced_on", "2020-01-01"),
    lambda d: d.__delitem__(next(iter(d), "x")),
    lambda d: d.update({"x": 1}),
    lambda d: d.pop(next(iter(d), "x")),
    lambda d: d.popitem(),
    lambda d: d.clear(),
    lambda d: d.setdefault("x", 1),
    lambda d: d.__ior__({"x": 1}),
    lambda d: d.__init__({"x": 1}) or d.get("x") == 1 or _unchanged(),
]
LIST_MUTATIONS: list[Callable[[Any], Any]] = [
    lambda x: x.append("V9"),
    lambda x: x.extend(["V9"]),
    lambda x: x.insert(0, "V9"),
    lambda x: x.__setitem__(0, "V9"),
    lambda x: x.__delitem__(0),
    lambda x: x.pop(),
    lambda x: x.remove(x[0] if x else None),
    lambda x: x.reverse(),
    lambda x: x.sort(),
    lambda x: x.clear(),
    lambda x: x.__iadd__(["V9"]),
    lambda x: x.__imul__(2),
    lambda x: x.__init__(["V9"]) or "V9" in x or _unchanged(),
]


def _unchanged() -> None:
    """Calling ``__init__`` again is allowed but changes nothing: count it as refused."""
    raise TypeError("unchanged")


def attempt_every_mutation(event: Event) -> int:
    """Try every mutation on every container of ``event``; return how many were refused."""
    refused = 0
    with pytest.raises(AttributeError):
        event.data = {}  # type: ignore[misc]
    for container in containers(event.data):
        for mutate in DICT_MUTATIONS if isinstance(container, dict) else LIST_MUTATIONS:
            with pytest.raises((TypeError, AttributeError)):
                mutate(container)
            refused += 1
    return refused


class TestEventData:
    def test_event_data_assignment_cannot_rewrite_history(self) -> None:
        """Issue 9's input: ``event.data["sentenced_on"] = ...`` on a returned event changed
        the accepted history (the case then failed its own hash check)."""
        case, clock = at_stage(State.REFERRED, sentenced=False)
        event = case.record_sentence(sentenced_on=date(2026, 2, 1), at=clock(), actor="F1")
        with pytest.raises(TypeError, match="read-only"):
            event.data["sentenced_on"] = "2020-01-01"  # type: ignore[index]
        assert event.data["sentenced_on"] == "2026-02-01"
        verify_chain(case.history)
        assert loads(dumps(case)) == case

    def test_nested_lists_of_event_data_are_read_only(self) -> None:
        """Lists inside event data (a conference's victims) refuse changes too."""
        case, _ = at_stage(State.CONFERENCE)
        opening = case.history[0]
        with pytest.raises(TypeError):
            opening.data["parties"].append({"id": "V9", "role": "victim"})
        with pytest.raises(TypeError):
            opening.data["parties"][0]["id"] = "V9"

    def test_frozen_data_hashes_and_serialises_as_before(self) -> None:
        """The canonical encoding of frozen data is byte for byte that of a plain copy, and
        the demo's events up to its first free text hash as the previous release's did (kept
        in tests/fixtures/schema1/demo.json; free text is committed to with a random salt
        since schema 2)."""
        demo = build_demo_case()
        # Frozen data hashes exactly as the plain data of the schema-1 release did: every
        # event of the schema-1 demo, its data frozen, hashes to the hash stored then.
        old = json.loads((FIXTURES / "demo.json").read_text(encoding="utf-8"))["events"]
        for stored in old:
            fields = {k: v for k, v in stored.items() if k not in ("hash",)}
            fields["data"] = freeze(fields["data"])
            assert event_hash(**fields) == stored["hash"]
        for event in demo.history:
            plain = json.loads(json.dumps(event.data))
            assert type(plain) is dict
            expected = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert canonical_json(event.data) == expected
            assert event.data == plain
            assert event.expected_hash() == event.hash

    def test_events_are_hashable_now(self) -> None:
        """Deeply frozen data makes an event a hashable value, equal events hashing alike."""
        demo = build_demo_case()
        again = loads(dumps(demo))
        assert {hash(e) for e in demo.history} == {hash(e) for e in again.history}


class TestCopyAndPickle:
    def test_pickle_case_mappingproxy(self) -> None:
        """Issue 9's input: ``pickle.dumps(case)`` raised ``TypeError: cannot pickle
        'mappingproxy'``."""
        case = build_demo_case()
        assert pickle.loads(pickle.dumps(case)) == case

    def test_deepcopy_case_mappingproxy(self) -> None:
        """``copy.deepcopy(case)`` raised the same TypeError."""
        case = build_demo_case()
        assert copy.deepcopy(case) == case
        assert copy.copy(case) == case

    def test_pickled_policy_workflow_and_events(self) -> None:
        """Everything a case holds pickles on its own too."""
        case = build_demo_case()
        for value in (case.policy, case.record, case.history, case.workflow):
            assert pickle.loads(pickle.dumps(value)) == value
        assert pickle.loads(pickle.dumps(case.workflow)) is case.workflow


def _advance(case: Case, clock: Clock) -> None:
    """One accepted action whatever the stage: closing an open case, else nothing to do."""
    if case.is_open:
        case.close(reason=ClosureReason.OTHER, note="Moved abroad", at=clock(), actor="F1")


@given(cases(), st.sampled_from(["pickle", "deepcopy", "copy"]))
def test_copies_are_equal_and_independent(drawn: tuple[Case, Clock], how: str) -> None:
    """For random cases (100 examples in the dev profile, 1,300 in ci): a pickled, deep- or
    shallow-copied case equals the original, and acting on the copy leaves the original as
    it was (and the other way round)."""
    case, clock = drawn
    copied = {
        "pickle": lambda c: pickle.loads(pickle.dumps(c)),
        "deepcopy": copy.deepcopy,
        "copy": copy.copy,
    }[how](case)
    assert copied == case
    assert copied.history == case.history
    before = dumps(case)
    _advance(copied, clock)
    assert dumps(case) == before
    if case.is_open:
        assert copied.version == case.version + 1
        assert copied != case
    verify_chain(copied.history)
    assert loads(dumps(copied), policy=copied.policy) == copied


@given(cases())
def test_every_event_container_refuses_every_mutation(drawn: tuple[Case, Clock]) -> None:
    """For random cases (100 examples in the dev profile, 1,300 in ci): every mutation of
    every dict and list in every event's data raises, and the chain still verifies and the
    case still loads."""
    case, _ = drawn
    before = dumps(case)
    refused = sum(attempt_every_mutation(event) for event in case.history)
    assert refused >= len(DICT_MUTATIONS) * len(case.history)
    verify_chain(case.history)
    assert dumps(case) == before
    assert loads(before, policy=case.policy) == case


def test_a_refused_input_on_a_copy_changes_neither() -> None:
    """Invalid input on a copy raises InvalidInput and changes neither case."""
    case, clock = at_stage(State.INTRODUCTION)
    copied = copy.deepcopy(case)
    with pytest.raises(InvalidInput):
        copied.record_session(duration=timedelta(hours=-1), at=clock(), actor="F1")
    assert copied == case
