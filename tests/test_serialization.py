"""Saving and loading: round trips, the hash chain, and a fuzzed loader that only ever
answers with a case or a typed error."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rjflow import HistoryTampered, InvalidDocument, InvalidInput, Policy, serialization
from rjflow.demo import build_demo_case
from rjflow.history import canonical_json, event_hash
from rjflow.serialization import (
    dumps,
    from_dict,
    json_schema,
    load_jsonl,
    loads,
    to_dict,
)

from .builders import SEAL_KEY, at_stage
from .test_stateful import State

DEMO = build_demo_case()
DOC = to_dict(DEMO)
TEXT = dumps(DEMO)


class TestRoundTrip:
    def test_dict_and_json_round_trip_to_an_equal_case(self) -> None:
        """Saved and loaded back, a case is identical: state, records, version, history."""
        assert from_dict(DOC) == DEMO
        loaded = loads(TEXT)
        assert loaded == DEMO
        assert loaded.record == DEMO.record
        assert dumps(loaded) == TEXT

    def test_output_matches_the_shipped_schema(self) -> None:
        """What rjflow writes is what its published JSON Schema describes."""
        jsonschema.Draft202012Validator.check_schema(json_schema())
        jsonschema.validate(DOC, json_schema())

    def test_a_loaded_case_keeps_working(self) -> None:
        """A loaded case accepts further actions and chains them onto its history."""
        case, clock = at_stage(State.INTRODUCTION)
        loaded = loads(dumps(case))
        loaded.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
        assert loaded.history[-1].previous_hash == case.history[-1].hash

    def test_the_policy_decides_on_load(self) -> None:
        """A history valid under one policy is refused under one that forbids its steps."""
        with pytest.raises(InvalidDocument, match="rules refuse"):
            from_dict(DOC, policy=Policy(max_sessions=2))


def mutated(path: list[Any], value: Any, base: dict[str, Any] = DOC) -> dict[str, Any]:
    """A deep copy of ``base`` with the value at ``path`` replaced."""
    doc = copy.deepcopy(base)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


class TestTamperEvidence:
    def test_an_altered_event_is_named(self) -> None:
        """Changing an event's data breaks its hash: the error names its sequence."""
        with pytest.raises(HistoryTampered) as err:
            from_dict(mutated(["events", 6, "data", "duration"], 3600))
        assert err.value.sequence == 7

    def test_a_removed_event_is_named(self) -> None:
        """Removing an event leaves a gap in the sequence."""
        doc = copy.deepcopy(DOC)
        del doc["events"][4]
        with pytest.raises(HistoryTampered) as err:
            from_dict(doc)
        assert err.value.sequence == 5

    def test_reordered_events_are_named(self) -> None:
        """Swapping two events breaks sequence and links."""
        doc = copy.deepcopy(DOC)
        doc["events"][3], doc["events"][4] = doc["events"][4], doc["events"][3]
        with pytest.raises(HistoryTampered) as err:
            from_dict(doc)
        assert err.value.sequence == 4

    def test_an_inserted_event_is_named(self) -> None:
        """Inserting a copy of event 3 makes position 4 the first that does not check out."""
        doc = copy.deepcopy(DOC)
        doc["events"].insert(2, copy.deepcopy(doc["events"][2]))
        with pytest.raises(HistoryTampered) as err:
            from_dict(doc)
        assert err.value.sequence == 4

    def test_a_rehashed_forgery_is_refused_by_the_rules(self) -> None:
        """Even with every hash recomputed, an event the rules refuse cannot be loaded."""
        doc = copy.deepcopy(DOC)
        doc["events"][6]["data"]["duration"] = 4 * 3600  # a 4-hour session
        previous = doc["events"][5]["hash"]
        for raw in doc["events"][6:]:
            raw["previous_hash"] = previous
            fields = {k: raw[k] for k in raw if k != "hash"}
            raw["hash"] = event_hash(**fields)
            previous = raw["hash"]
        with pytest.raises(InvalidDocument) as err:
            from_dict(doc)
        assert err.value.sequence == 7
        assert "session_too_long" in str(err.value)

    @pytest.mark.parametrize(
        ("path", "value", "fragment"),
        [
            (["schema_version"], 2, "schema_version 2"),
            (["state"], "closed", "the history gives 'completed'"),
            (["version"], 3, "'version' says 3"),
            (["events", 0, "data", "offence", "category"], "arson", "Event 1 was altered"),
            (["events", 2, "to_state"], "limbo", None),
            (["events", 1, "sequence"], "2", "whole number"),
            (["events", 1, "at"], "yesterday", "ISO 8601"),
            (["events", 1, "at"], "2026-03-03T09:00:00", "time zone"),
            (["events", 1, "surprise"], True, "unknown field"),
            # Found by the fuzzer: data that is not JSON (mixed key types) cannot be hashed.
            (["events", 1, "data"], {"x": {1: "a", "b": 2}}, "not plain JSON data"),
        ],
    )
    def test_bad_fields_get_a_typed_error(
        self, path: list[Any], value: Any, fragment: str | None
    ) -> None:
        """Wrong types, unknown versions and stages: a typed error, never a case."""
        with pytest.raises(InvalidDocument) as err:
            from_dict(mutated(path, value))
        if fragment is not None:
            assert fragment in str(err.value)


SEALED = to_dict(DEMO, seal_key=SEAL_KEY)


def sealed_with(path: list[Any], value: Any) -> dict[str, Any]:
    return mutated(path, value, SEALED)


class TestSealedSnapshot:
    def test_round_trips_with_the_key_and_matches_the_schema(self) -> None:
        """Saved with a key and loaded with it, the case is identical; the document is the
        unsealed one plus the snapshot, and matches the published schema."""
        loaded = from_dict(SEALED, seal_key=SEAL_KEY)
        assert loaded == DEMO
        assert loaded.record == DEMO.record
        assert {k: v for k, v in SEALED.items() if k != "snapshot"} == DOC
        assert set(SEALED["snapshot"]) == {"record", "seal"}
        jsonschema.validate(SEALED, json_schema())
        assert loads(dumps(DEMO, seal_key=SEAL_KEY), seal_key=SEAL_KEY) == DEMO

    def test_a_case_loaded_from_its_snapshot_keeps_working(self) -> None:
        """A case built from a snapshot accepts actions and chains them on, as a replayed one."""
        case, clock = at_stage(State.INTRODUCTION)
        loaded = loads(dumps(case, seal_key=SEAL_KEY), seal_key=SEAL_KEY)
        replayed = loads(dumps(case))
        at = clock()
        for c in (loaded, replayed):
            c.acknowledge_responsibility(guilty_plea=True, at=at, actor="F1")
        assert loaded == replayed

    def test_without_the_key_the_snapshot_is_ignored_and_the_history_replayed(self) -> None:
        """An altered snapshot cannot mislead a load that does not trust it."""
        doc = sealed_with(["snapshot", "record", "state"], "closed")
        assert doc != SEALED
        assert from_dict(doc) == DEMO

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (["snapshot", "record", "state"], "closed"),
            (["snapshot", "record", "sessions"], []),
            (["snapshot", "record", "version"], 3),
            (["snapshot", "seal"], "0" * 64),
        ],
    )
    def test_an_altered_snapshot_is_refused(self, path: list[Any], value: Any) -> None:
        """Any change to the sealed record or its seal: InvalidDocument at snapshot.seal."""
        doc = sealed_with(path, value)
        assert doc != SEALED
        with pytest.raises(InvalidDocument, match="seal does not match") as err:
            from_dict(doc, seal_key=SEAL_KEY)
        assert err.value.path == "snapshot.seal"

    def test_another_key_or_policy_is_refused(self) -> None:
        """A seal is good only with its key and under the policy that judged the record."""
        with pytest.raises(InvalidDocument, match="another key or under another policy"):
            from_dict(SEALED, seal_key=b"x" * 32)
        with pytest.raises(InvalidDocument, match="another key or under another policy"):
            from_dict(SEALED, seal_key=SEAL_KEY, policy=Policy(max_sessions=11))

    def test_a_snapshot_moved_to_another_history_is_refused(self) -> None:
        """The seal binds the record to the last event's hash: it cannot be grafted."""
        other = to_dict(at_stage(State.INTRODUCTION)[0])
        other["snapshot"] = SEALED["snapshot"]
        with pytest.raises(InvalidDocument, match="seal does not match"):
            from_dict(other, seal_key=SEAL_KEY)

    def test_the_chain_is_still_verified(self) -> None:
        """A sealed snapshot does not excuse an altered event."""
        with pytest.raises(HistoryTampered) as err:
            from_dict(sealed_with(["events", 6, "data", "duration"], 3600), seal_key=SEAL_KEY)
        assert err.value.sequence == 7

    @pytest.mark.parametrize(
        "snapshot", [None, [], "text", {"record": {}}, {"record": [], "seal": "x"}, {"a": 1}]
    )
    def test_a_malformed_snapshot_is_refused(self, snapshot: Any) -> None:
        """The snapshot is an object of exactly record (an object) and seal (text)."""
        with pytest.raises(InvalidDocument) as err:
            from_dict(sealed_with(["snapshot"], snapshot), seal_key=SEAL_KEY)
        assert err.value.path == "snapshot"

    @pytest.mark.parametrize("key", [b"short", "a text key of 32 characters....", None, 42])
    def test_a_weak_or_mistyped_key_is_refused(self, key: Any) -> None:
        """The key is bytes, at least 16 of them; the message never repeats the key."""
        for call in (lambda: dumps(DEMO, seal_key=key), lambda: loads(TEXT, seal_key=key)):
            if key is None:
                call()  # None means: no seal
                continue
            with pytest.raises(InvalidInput, match="at least 16 bytes") as err:
                call()
            assert str(key) not in str(err.value)

    def test_a_seal_over_a_record_of_another_version_is_refused(self) -> None:
        """Defence in depth: even a validly sealed record must belong to its own history."""
        # Only a holder of the key can do this (here: the private _seal).
        doc = copy.deepcopy(SEALED)
        record = doc["snapshot"]["record"]
        record["version"] = 3
        doc["snapshot"]["seal"] = serialization._seal(
            SEAL_KEY, DEMO.policy, doc["events"][-1]["hash"], canonical_json(record)
        )
        with pytest.raises(InvalidDocument) as err:
            from_dict(doc, seal_key=SEAL_KEY)
        assert err.value.path == "snapshot.record.version"

    def test_json_lines_load_with_the_key(self, tmp_path: Any) -> None:
        """load_jsonl passes the key on: sealed lines load from their snapshots."""
        path = tmp_path / "cases.jsonl"
        path.write_text(dumps(DEMO, seal_key=SEAL_KEY) + "\n" + TEXT + "\n", encoding="utf-8")
        report = load_jsonl(path, seal_key=SEAL_KEY)
        assert report.ok
        assert report.cases == (DEMO, DEMO)


class TestJsonLines:
    def test_reports_every_bad_line_and_loads_the_good_ones(self, tmp_path: Any) -> None:
        """Each bad line is reported with its number; the good ones load."""
        other, _ = at_stage(State.PREPARATION)
        lines = [
            TEXT,
            "",
            "{not json",
            dumps(other),
            json.dumps(mutated(["events", 3, "actor"], "F2")),
            "[1, 2]",
        ]
        path = tmp_path / "cases.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = load_jsonl(path)
        assert [c.case_id for c in report.cases] == [DEMO.case_id, other.case_id]
        assert [p.line for p in report.problems] == [3, 5, 6]
        assert report.problems[1].sequence == 4
        assert not report.ok


# -- fuzzing ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += paths_of(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += paths_of(v, (*prefix, i))
    return found


FIELDS = ("sequence", "at", "actor", "action", "data", "from_state", "to_state", "previous_hash")
SMALL = to_dict(at_stage(State.INTRODUCTION)[0])
SMALL_PATHS = paths_of(SMALL)[1:]


SMALL_SEALED = to_dict(at_stage(State.INTRODUCTION)[0], seal_key=SEAL_KEY)
SMALL_SEALED_PATHS = paths_of(SMALL_SEALED)[1:]


@st.composite
def mutations(draw: st.DrawFn, sealed: bool = False) -> Any:
    doc = copy.deepcopy(SMALL_SEALED if sealed else SMALL)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(SMALL_SEALED_PATHS if sealed else SMALL_PATHS))
        target: Any = doc
        try:
            for key in path[:-1]:
                target = target[key]
            kind = draw(st.sampled_from(["replace", "delete"]))
            deletable = isinstance(target, dict) or (
                isinstance(target, list) and path[-1] < len(target)
            )
            if kind == "delete" and deletable:
                del target[path[-1]]
            else:
                target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    if draw(st.booleans()):
        rehash(doc)  # a forger who recomputes the chain: the parser and the rules must hold
    return doc


def rehash(doc: Any) -> None:
    """Recompute every hash of a (possibly mangled) document, where its shape allows."""
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        return
    previous = "0" * 64
    for raw in events:
        if not isinstance(raw, dict):
            return
        raw["previous_hash"] = previous
        fields = {k: raw.get(k) for k in FIELDS}
        try:
            raw["hash"] = event_hash(**fields)
        except (TypeError, ValueError):
            return
        previous = raw["hash"]


def loads_or_typed_error(doc: Any, seal_key: bytes | None = None) -> None:
    try:
        case = from_dict(doc, seal_key=seal_key)
    except InvalidDocument as err:
        assert str(err)
        return
    # Anything that loads must be a faithful, schema-valid case (its sealed snapshot included,
    # when it was loaded from one).
    from_snapshot = seal_key is not None and "snapshot" in doc
    assert to_dict(case, seal_key=seal_key if from_snapshot else None) == doc
    jsonschema.validate(doc, json_schema())


FUZZ = settings(max_examples=5000, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FUZZ
@given(mutations())
def test_fuzz_mutated_documents(doc: Any) -> None:
    """Mutated real documents: a case equal to the document, or InvalidDocument."""
    loads_or_typed_error(doc)


@FUZZ
@given(mutations(sealed=True))
def test_fuzz_mutated_sealed_documents(doc: Any) -> None:
    """Mutated sealed documents loaded with the key: a faithful case, or InvalidDocument."""
    loads_or_typed_error(doc, seal_key=SEAL_KEY)


@FUZZ
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"schema_version": st.just(1)},
            optional={
                "case_id": json_values,
                "state": json_values,
                "version": json_values,
                "events": st.lists(
                    st.dictionaries(st.sampled_from(list(DOC["events"][0])), json_values)
                ),
            },
        ),
    )
)
def test_fuzz_random_documents(doc: Any) -> None:
    """Random JSON values: never anything but InvalidDocument."""
    loads_or_typed_error(doc)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_random_text(text: Any) -> None:
    """Random bytes and text given to loads(): InvalidDocument, never another exception."""
    with pytest.raises(InvalidDocument):
        loads(text)


json_text = st.text(max_size=20)


@settings(max_examples=500, deadline=None)
@given(
    sequence=st.integers(1, 10**9),
    at=json_text,
    actor=json_text,
    action=json_text,
    data=st.dictionaries(json_text, json_values, max_size=5),
    from_state=st.none() | json_text,
    to_state=st.none() | json_text,
    previous_hash=json_text,
)
def test_event_hash_is_sha256_of_the_documented_canonical_json(**fields: Any) -> None:
    """The hand-spelled encoding equals json.dumps(sort_keys, compact, UTF-8), byte for byte."""
    reference = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert event_hash(**fields) == hashlib.sha256(reference.encode()).hexdigest()


def test_record_updated_equals_attrs_evolve() -> None:
    """The generated copy is exactly attrs.evolve, and refuses unknown fields."""
    rec = DEMO.record
    assert rec.updated(version=99, closure=None) == attrs.evolve(rec, version=99, closure=None)
    # A copier is generated per set of changed fields: every set gives attrs.evolve's answer.
    for changes in ({}, {"sessions": ()}, {"closure": None, "version": 99}, {"case_id": "X"}):
        assert rec.updated(**changes) == attrs.evolve(rec, **changes)
    with pytest.raises(TypeError, match="no field"):
        rec.updated(colour="red")
