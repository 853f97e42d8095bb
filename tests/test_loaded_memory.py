"""A loaded caseload keeps each repeated value once (issue 15: memory per loaded case).

Sharing is invisible to the caller: the values, hashes, equality and the saved text are
those of the document; only the number of copies held in memory changes.
"""

from __future__ import annotations

import itertools
import sys

from rjflow import Event, State
from rjflow._frozen import EMPTY_DICT, EMPTY_LIST, FrozenDict, freeze, shared_dict
from rjflow._validate import enum_values
from rjflow.activities import ContactActivity
from rjflow.history import GENESIS_HASH, canonical_json, verify_chain
from rjflow.serialization import dumps, loads
from tests.builders import at_stage


def _fresh(text: str) -> str:
    """An equal text that is a new object (as json.loads makes one per occurrence)."""
    return "".join(list(text))


def test_a_loaded_history_keeps_each_hash_once_and_still_verifies() -> None:
    case, _ = at_stage(State.REVIEW)
    loaded = loads(dumps(case))
    events = loaded.history
    assert events[0].previous_hash is GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.previous_hash is before.hash
    verify_chain(events)
    assert list(events) == list(case.history)
    assert dumps(loaded) == dumps(case)


def test_events_of_two_loaded_cases_share_who_acted_and_the_action() -> None:
    text = dumps(at_stage(State.PREPARATION)[0])
    first, second = loads(text).history, loads(text).history
    assert first[-1] == second[-1]
    assert first[-1].actor is second[-1].actor
    assert first[-1].action is second[-1].action
    assert first[-1].from_state is second[-1].from_state


def test_long_texts_such_as_hashes_are_not_interned() -> None:
    text = dumps(at_stage(State.PREPARATION)[0])
    first, second = loads(text).history, loads(text).history
    assert first[-1].hash == second[-1].hash
    assert first[-1].hash is not second[-1].hash


def test_empty_frozen_values_are_one_shared_object_and_still_refuse_change() -> None:
    assert freeze({}) is EMPTY_DICT and freeze([]) is EMPTY_LIST and freeze(()) is EMPTY_LIST
    assert freeze({"a": {}})["a"] is EMPTY_DICT
    for method, args in (("__setitem__", ("k", 1)), ("update", ({"k": 1},))):
        try:
            getattr(EMPTY_DICT, method)(*args)
        except TypeError:
            pass
        else:  # pragma: no cover - the failure this test exists for
            raise AssertionError(f"EMPTY_DICT.{method} changed the shared empty dict")
    assert EMPTY_DICT == {} and not EMPTY_DICT
    try:
        EMPTY_LIST.append(1)
    except TypeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("EMPTY_LIST.append changed the shared empty list")
    assert EMPTY_LIST == []


def test_an_event_without_free_text_holds_the_shared_empty_texts() -> None:
    case, _ = at_stage(State.PREPARATION)
    assert all(e.texts is EMPTY_DICT for e in case.history if not e.texts)
    loaded = loads(dumps(case))
    assert all(e.texts is EMPTY_DICT for e in loaded.history if not e.texts)


def test_short_texts_in_frozen_data_are_shared_long_ones_kept() -> None:
    short, long = _fresh("V-2026-0001"), _fresh("x" * 64)
    data = freeze({_fresh("party"): short, "ids": [_fresh("V-2026-0001")], "h": long})
    assert data["party"] is sys.intern("V-2026-0001")
    assert data["ids"][0] is data["party"]
    assert data["h"] is long  # not interned: a hash or commitment is unique
    key = next(iter(data))
    assert key is sys.intern("party")
    assert isinstance(data, FrozenDict) and data == {"party": short, "ids": [short], "h": long}


def test_equal_sets_of_enum_values_are_one_object() -> None:
    a = enum_values(ContactActivity, "x", [ContactActivity.SHUTTLE], "activities")
    b = enum_values(ContactActivity, "x", (ContactActivity.SHUTTLE,), "activities")
    assert a == b == frozenset({ContactActivity.SHUTTLE.value})
    assert a is b


def test_sharing_leaves_event_equality_and_hashing_alone() -> None:
    case, _ = at_stage(State.REVIEW)
    loaded = loads(dumps(case))
    for mine, theirs in zip(case.history, loaded.history, strict=True):
        assert isinstance(theirs, Event)
        assert theirs == mine and theirs.expected_hash() == mine.hash


def test_small_data_repeated_across_loaded_events_is_one_object() -> None:
    case, _ = at_stage(State.REVIEW)
    text = dumps(case)
    first, second = loads(text).history, loads(text).history
    sessions = [e for e in first if e.action == "record_session"]
    assert len(sessions) >= 2
    assert all(e.data is sessions[0].data for e in sessions if e.data == sessions[0].data)
    other = [e for e in second if e.action == "record_session"]
    assert other[0].data is sessions[0].data


def test_sharing_small_data_never_conflates_values_json_tells_apart() -> None:
    one, true = freeze({"x": 1}), freeze({"x": True})
    assert one == true  # equal in Python ...
    assert shared_dict(one) is one
    assert shared_dict(true) is true  # ... but not in JSON: not shared
    assert canonical_json(shared_dict(freeze({"x": True}))) == '{"x":true}'
    zero, minus = freeze({"x": 0.0}), freeze({"x": -0.0})
    assert shared_dict(zero) is zero and shared_dict(minus) is minus
    long = freeze({"h": "f" * 64})
    assert shared_dict(long) is long and shared_dict(freeze({"h": "f" * 64})) is not long
    a, b = freeze({"k": "v", "n": None}), freeze({"n": None, "k": "v"})
    assert shared_dict(a) is a and shared_dict(b) is b  # another key order: another text
    assert shared_dict(freeze({"k": "v", "n": None})) is a
