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

from rjflow import (
    HistoryTampered,
    IntegrityError,
    InvalidDocument,
    InvalidInput,
    Keyring,
    Policy,
    PolicyChanged,
    serialization,
)
from rjflow.demo import build_demo_case
from rjflow.history import canonical_json, event_hash
from rjflow.integrity import integrity_mac, snapshot_seal
from rjflow.serialization import (
    dumps,
    from_dict,
    json_schema,
    load_jsonl,
    loads,
    to_dict,
)

from .builders import KEY_ID, KEYRING, SEAL_KEY, at_stage
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
        """A history valid under one policy is refused under one that forbids its steps (and
        loading under a policy other than the recorded one says so: issue 12)."""
        with (
            pytest.raises(InvalidDocument, match="rules refuse"),
            pytest.warns(PolicyChanged),
        ):
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
            fields = {k: raw[k] for k in raw if k not in ("hash", "texts")}
            raw["hash"] = event_hash(**fields)
            previous = raw["hash"]
        with pytest.raises(InvalidDocument) as err:
            from_dict(doc)
        assert err.value.sequence == 7
        assert "session_too_long" in str(err.value)

    @pytest.mark.parametrize(
        ("path", "value", "fragment"),
        [
            (["schema_version"], 3, "schema_version 3"),
            (["schema_version"], 0, "schema_version 0"),
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


SEALED = to_dict(DEMO, keyring=KEYRING, snapshot=True)


def sealed_with(path: list[Any], value: Any, *, reseal: bool = False) -> dict[str, Any]:
    """SEALED with one value replaced; ``reseal``: the integrity MAC made again over the
    changed document, as only a holder of the key could (to reach the checks behind it)."""
    doc = mutated(path, value, SEALED)
    if reseal:
        snapshot = doc["snapshot"]
        seal = snapshot.get("seal") if isinstance(snapshot, dict) else None
        doc["integrity"]["mac"] = integrity_mac(
            KEYRING,
            KEY_ID,
            case_id=doc["case_id"],
            version=doc["version"],
            head=doc["events"][-1]["hash"],
            snapshot_seal=seal if isinstance(seal, str) else "-",
        )
    return doc


class TestSealedSnapshot:
    def test_round_trips_with_the_key_and_matches_the_schema(self) -> None:
        """Saved with a keyring and a snapshot and loaded with it, the case is identical; the
        document is the plain one plus integrity and snapshot, and matches the schema."""
        loaded = from_dict(SEALED, keyring=KEYRING)
        assert loaded == DEMO
        assert loaded.record == DEMO.record
        assert {k: v for k, v in SEALED.items() if k not in ("snapshot", "integrity")} == DOC
        assert set(SEALED["snapshot"]) == {"record", "seal"}
        jsonschema.validate(SEALED, json_schema())
        assert loads(dumps(DEMO, keyring=KEYRING, snapshot=True), keyring=KEYRING) == DEMO

    def test_seal_key_is_still_accepted_as_a_one_key_keyring(self) -> None:
        """The previous release's seal_key= saves integrity and a snapshot, and loads them."""
        doc = to_dict(DEMO, seal_key=SEAL_KEY)
        assert set(doc) >= {"integrity", "snapshot"}
        assert from_dict(doc, seal_key=SEAL_KEY) == DEMO
        with pytest.raises(InvalidInput, match="not both"):
            to_dict(DEMO, seal_key=SEAL_KEY, keyring=KEYRING)

    def test_removing_the_seal_no_longer_falls_back_to_replay(self) -> None:
        """Regression (issue 9, item 8): with seal_key, a document whose snapshot and seal
        were deleted used to load by replay; the key now requires the integrity seal."""
        doc = to_dict(DEMO, seal_key=SEAL_KEY)
        del doc["snapshot"], doc["integrity"]
        with pytest.raises(IntegrityError, match="no integrity seal"):
            from_dict(doc, seal_key=SEAL_KEY)

    def test_a_case_loaded_from_its_snapshot_keeps_working(self) -> None:
        """A case built from a snapshot accepts actions and chains them on, as a replayed one."""
        case, clock = at_stage(State.INTRODUCTION)
        loaded = loads(dumps(case, keyring=KEYRING, snapshot=True), keyring=KEYRING)
        replayed = loads(dumps(case))
        at = clock()
        for c in (loaded, replayed):
            c.acknowledge_responsibility(guilty_plea=True, at=at, actor="F1")
        assert loaded.record == replayed.record
        assert loaded.history[:-1] == replayed.history[:-1]

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
        ],
    )
    def test_an_altered_snapshot_record_is_refused(self, path: list[Any], value: Any) -> None:
        """Any change to the sealed record: InvalidDocument at snapshot.seal."""
        doc = sealed_with(path, value)
        assert doc != SEALED
        with pytest.raises(InvalidDocument, match="seal does not match") as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "snapshot.seal"

    def test_an_altered_snapshot_seal_is_refused_by_the_integrity_seal(self) -> None:
        """The integrity MAC covers the snapshot's seal: changing it is an IntegrityError."""
        with pytest.raises(IntegrityError) as err:
            from_dict(sealed_with(["snapshot", "seal"], "0" * 64), keyring=KEYRING)
        assert err.value.path == "integrity.mac"

    def test_another_key_or_policy_is_refused(self) -> None:
        """A seal is good only with its key and under the policy that judged the record."""
        other = Keyring({KEY_ID: b"x" * 32}, current=KEY_ID)
        with pytest.raises(IntegrityError, match="different secret"):
            from_dict(SEALED, keyring=other)
        with (
            pytest.raises(InvalidDocument, match="another key or under another policy"),
            pytest.warns(PolicyChanged),
        ):
            from_dict(SEALED, keyring=KEYRING, policy=Policy(max_sessions=11))

    def test_a_snapshot_moved_to_another_history_is_refused(self) -> None:
        """The seal binds the record to the head: grafted onto another history, even with
        the integrity MAC made again by a key holder, the snapshot's seal does not match."""
        other = to_dict(at_stage(State.INTRODUCTION)[0], keyring=KEYRING, snapshot=True)
        other["snapshot"] = SEALED["snapshot"]
        with pytest.raises(IntegrityError):
            from_dict(other, keyring=KEYRING)
        other["integrity"]["mac"] = integrity_mac(
            KEYRING,
            KEY_ID,
            case_id=other["case_id"],
            version=other["version"],
            head=other["events"][-1]["hash"],
            snapshot_seal=other["snapshot"]["seal"],
        )
        with pytest.raises(InvalidDocument, match="seal does not match"):
            from_dict(other, keyring=KEYRING)

    def test_the_chain_is_still_verified(self) -> None:
        """A sealed snapshot does not excuse an altered event."""
        with pytest.raises(HistoryTampered) as err:
            from_dict(sealed_with(["events", 6, "data", "duration"], 3600), keyring=KEYRING)
        assert err.value.sequence == 7

    @pytest.mark.parametrize(
        "snapshot", [None, [], "text", {"record": {}}, {"record": [], "seal": "x"}, {"a": 1}]
    )
    def test_a_malformed_snapshot_is_refused(self, snapshot: Any) -> None:
        """The snapshot is an object of exactly record (an object) and seal (text): refused by
        the integrity seal, and (resealed by a key holder) by the snapshot's own checks."""
        with pytest.raises(IntegrityError):
            from_dict(sealed_with(["snapshot"], snapshot), keyring=KEYRING)
        with pytest.raises(InvalidDocument) as err:
            from_dict(sealed_with(["snapshot"], snapshot, reseal=True), keyring=KEYRING)
        assert err.value.path == "snapshot"

    @pytest.mark.parametrize("key", [b"short", "a text key of 32 characters....", 42])
    def test_a_weak_or_mistyped_key_is_refused(self, key: Any) -> None:
        """The key is bytes, at least 16 of them; the message never repeats the key."""
        for call in (lambda: dumps(DEMO, seal_key=key), lambda: loads(TEXT, seal_key=key)):
            with pytest.raises(InvalidInput, match="at least 16 bytes") as err:
                call()
            assert str(key) not in str(err.value)

    def test_no_key_means_no_seal(self) -> None:
        """seal_key=None and keyring=None: the plain document, loaded by replay."""
        assert to_dict(DEMO, seal_key=None, keyring=None) == DOC
        assert loads(TEXT, seal_key=None) == DEMO

    def test_a_snapshot_needs_a_keyring(self) -> None:
        """snapshot=True without a keyring would be an unsealed record: refused."""
        with pytest.raises(InvalidInput, match="keyring"):
            to_dict(DEMO, snapshot=True)

    def test_a_seal_over_a_record_of_another_version_is_refused(self) -> None:
        """Defence in depth: even a validly sealed record must belong to its own history."""
        # Only a holder of the key can do this.
        doc = copy.deepcopy(SEALED)
        record = doc["snapshot"]["record"]
        record["version"] = 3
        doc["snapshot"]["seal"] = snapshot_seal(
            KEYRING,
            KEY_ID,
            policy_fingerprint=serialization._fingerprint(DEMO.policy),
            head=doc["events"][-1]["hash"],
            record_text=canonical_json(record),
        )
        doc = sealed_with(["snapshot"], doc["snapshot"], reseal=True)
        with pytest.raises(InvalidDocument) as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "snapshot.record.version"

    def test_json_lines_load_with_the_key(self, tmp_path: Any) -> None:
        """load_jsonl passes the keyring on: sealed lines load from their snapshots, and an
        unsealed line is reported, since the keyring requires the integrity seal."""
        path = tmp_path / "cases.jsonl"
        sealed = dumps(DEMO, keyring=KEYRING, snapshot=True)
        path.write_text(sealed + "\n" + TEXT + "\n" + sealed + "\n", encoding="utf-8")
        report = load_jsonl(path, keyring=KEYRING)
        assert report.cases == (DEMO, DEMO)
        assert [p.line for p in report.problems] == [2]
        assert "no integrity seal" in report.problems[0].message


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


SMALL_SEALED = to_dict(at_stage(State.INTRODUCTION)[0], keyring=KEYRING, snapshot=True)
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


def loads_or_typed_error(doc: Any, keyring: Keyring | None = None) -> None:
    try:
        case = from_dict(doc, keyring=keyring)
    except InvalidDocument as err:
        assert str(err)
        return
    # Anything that loads must be a faithful, schema-valid case (its integrity seal and sealed
    # snapshot included, when it was loaded with the keyring).  A document without the
    # policy it was judged under (as before issue 12) loads, and is saved with it.
    saved = to_dict(case, keyring=keyring, snapshot="snapshot" in doc and keyring is not None)
    if "policy" not in doc:
        del saved["policy"]
    assert saved == doc
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
    """Mutated sealed documents loaded with the keyring: a faithful case, or InvalidDocument."""
    loads_or_typed_error(doc, keyring=KEYRING)


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
