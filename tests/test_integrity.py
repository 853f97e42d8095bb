"""Keyed integrity: with the application's keyring, every kind of tampering is detected —
also by a forger who recomputes the whole SHA-256 chain."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from rjflow import (
    AgreementAction,
    HistoryTampered,
    IntegrityError,
    InvalidDocument,
    InvalidInput,
    Keyring,
    RJFlowError,
)
from rjflow.history import event_hash, text_commitment
from rjflow.integrity import integrity_mac
from rjflow.serialization import dumps, from_dict, loads, to_dict

from .builders import KEY_ID, KEYRING, at_stage
from .test_stateful import State

SECRET_A = b"first integrity key, 32 bytes..."
SECRET_B = b"second integrity key, 32 bytes.."


def with_free_text() -> Any:
    """A case at conference with an agreement proposed, then closed with a note."""
    case, clock = at_stage(State.CONFERENCE, case_id="RJ-INT-1")
    case.propose_agreement(
        [AgreementAction("A1", "Repair the fence", "O1", date(2026, 9, 1))],
        at=clock(),
        actor="F1",
    )
    case.close(reason="other", note="Moved away", at=clock(), actor="F1")
    return case


CASE = with_free_text()
SEALED = to_dict(CASE, keyring=KEYRING)
SNAPSHOT = to_dict(CASE, keyring=KEYRING, snapshot=True)
HASHED = ("sequence", "at", "actor", "action", "data", "from_state", "to_state", "previous_hash")


def rehash(doc: dict[str, Any]) -> None:
    """Recompute the chain (what anyone who can write the file can do)."""
    previous = "0" * 64
    for raw in doc["events"]:
        raw["previous_hash"] = previous
        raw["hash"] = event_hash(**{k: raw[k] for k in HASHED})
        previous = raw["hash"]


class TestKeyring:
    def test_repr_shows_key_ids_never_secrets(self) -> None:
        """A keyring can be logged: its repr names the key ids only."""
        ring = Keyring({"2026-05": SECRET_A, "2026-11": SECRET_B}, current="2026-11")
        assert repr(ring) == "Keyring(key_ids=('2026-05', '2026-11'), current='2026-11')"
        assert SECRET_A.decode() not in repr(ring) + str(ring)
        assert "2026-05" in ring
        assert "nope" not in ring

    @pytest.mark.parametrize(
        ("keys", "current", "fragment"),
        [
            ({}, "k", "at least one key"),
            ([("k", SECRET_A)], "k", "mapping"),
            ({"k": b"tiny-secret"}, "k", "at least 16 bytes"),
            ({"k": "a text secret of 32 characters.."}, "k", "at least 16 bytes"),
            ({"bad id\n": SECRET_A}, "bad id\n", "opaque id"),
            ({"k": SECRET_A}, "other", "one of the keyring's key ids"),
            ({"k": SECRET_A}, 5, "opaque id"),
        ],
    )
    def test_a_malformed_keyring_is_refused(self, keys: Any, current: Any, fragment: str) -> None:
        """Key ids are opaque ids, secrets bytes of 16 or more, current one of them; the
        message never repeats a secret."""
        with pytest.raises(InvalidInput, match=fragment) as err:
            Keyring(keys, current=current)
        assert "tiny-secret" not in str(err.value)
        assert "characters" not in str(err.value)

    def test_the_ring_is_read_only(self) -> None:
        """Changing the mapping given does not change the ring."""
        keys = {"k": SECRET_A}
        ring = Keyring(keys, current="k")
        keys["k"] = SECRET_B
        assert from_dict(to_dict(CASE, keyring=ring), keyring=Keyring({"k": SECRET_A}, current="k"))

    def test_loading_with_something_else_than_a_keyring_is_refused(self) -> None:
        """keyring= takes a Keyring, not raw bytes."""
        with pytest.raises(InvalidInput, match="Keyring"):
            from_dict(SEALED, keyring=SECRET_A)  # type: ignore[arg-type]


class TestKeyedRoundTrip:
    def test_round_trip_with_the_keyring(self) -> None:
        """Saved with the keyring and loaded with it: the same case, with or without a
        snapshot; without the keyring, the same case too (by replay)."""
        assert from_dict(SEALED, keyring=KEYRING) == CASE
        assert from_dict(SNAPSHOT, keyring=KEYRING) == CASE
        assert from_dict(SEALED) == CASE
        assert set(SEALED["integrity"]) == {"key_id", "case_id", "version", "head", "mac"}
        assert SEALED["integrity"]["head"] == CASE.history[-1].hash
        assert SEALED["integrity"]["version"] == CASE.version == len(CASE.history)

    def test_the_mac_is_hmac_sha256_of_the_documented_message(self) -> None:
        """The integrity MAC is recomputable from the documented message."""
        import hashlib  # noqa: PLC0415
        import hmac  # noqa: PLC0415

        message = "\n".join(
            [
                "rjflow integrity 1",
                KEY_ID,
                CASE.case_id,
                str(CASE.version),
                CASE.history[-1].hash,
                "-",
                "-",
            ]
        )
        secret = b"rjflow tests' integrity key, 32B"
        expected = hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()
        assert SEALED["integrity"]["mac"] == expected


class TestEveryTamperingKindIsDetectedWithTheKey:
    def test_an_edit_with_the_chain_recomputed(self) -> None:
        """Regression (issue 9, item 8): an event edited and every hash recomputed used to
        load silently; the keyring sees the head moved."""
        doc = copy.deepcopy(SEALED)
        doc["events"][1]["at"] = doc["events"][1]["at"].replace("10:00", "10:01")
        rehash(doc)
        assert from_dict({k: v for k, v in doc.items() if k != "integrity"})  # unkeyed: loads
        with pytest.raises(IntegrityError) as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity.head"

    def test_an_agreement_text_rewritten_with_everything_recomputed(self) -> None:
        """Regression (issue 9, item 8): an agreement action's text edited, with its
        commitment and the whole chain recomputed, used to load silently; with the keyring
        it is refused (without a key it still loads: the documented limit)."""
        doc = copy.deepcopy(SEALED)
        proposal = next(e for e in doc["events"] if e["action"] == "propose_agreement")
        entry = proposal["texts"]["/actions/0/what"]
        entry["text"] = "Nothing to repair"
        proposal["data"]["actions"][0]["what"] = {
            "$text": text_commitment(bytes.fromhex(entry["salt"]), entry["text"])
        }
        rehash(doc)
        unkeyed = from_dict({k: v for k, v in doc.items() if k != "integrity"})
        assert unkeyed.record.agreement is not None
        assert unkeyed.record.agreement.actions[0].what == "Nothing to repair"
        with pytest.raises(IntegrityError) as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity.head"
        assert "repair" not in str(err.value).lower()

    def test_truncation_of_the_newest_events(self) -> None:
        """Regression (issue 9, item 8): deleting the newest events (and fixing version and
        state) used to go unnoticed; the keyring sees fewer events than were sealed."""
        doc = copy.deepcopy(SEALED)
        del doc["events"][-2:]
        doc["version"] -= 2
        doc["state"] = "conference"
        with pytest.raises(IntegrityError, match="were removed") as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity.version"

    def test_truncation_is_seen_without_a_key_only_when_the_seal_is_left(self) -> None:
        """Without a key a seal left in place still catches naive truncation; removed, it
        cannot (the documented limit of the unkeyed chain)."""
        doc = copy.deepcopy(SEALED)
        del doc["events"][-2:]
        doc["version"] -= 2
        doc["state"] = "conference"
        with pytest.raises(HistoryTampered, match="were removed"):
            from_dict(doc)
        del doc["integrity"]
        assert from_dict(doc).version == CASE.version - 2

    def test_an_extension(self) -> None:
        """Events appended by someone without the key (the seal copied over) are seen."""
        case = loads(dumps(CASE))
        doc = to_dict(case)
        doc["events"].append(copy.deepcopy(doc["events"][-1]))
        doc["events"][-1]["sequence"] += 1
        doc["version"] += 1
        rehash(doc)
        doc["integrity"] = SEALED["integrity"]
        with pytest.raises(InvalidDocument):
            from_dict(doc, keyring=KEYRING)

    def test_an_extension_of_a_valid_history(self) -> None:
        """A valid action appended without the key: the seal covers fewer events."""
        case, clock = at_stage(State.PREPARATION, case_id="RJ-INT-2")
        sealed = to_dict(case, keyring=KEYRING)
        case.record_session(
            duration=__import__("datetime").timedelta(hours=1), at=clock(), actor="F1"
        )
        longer = to_dict(case)
        longer["integrity"] = sealed["integrity"]
        assert from_dict({k: v for k, v in longer.items() if k != "integrity"}) == case
        with pytest.raises(IntegrityError, match="were added") as err:
            from_dict(longer, keyring=KEYRING)
        assert err.value.path == "integrity.version"

    def test_reordered_events(self) -> None:
        """Reordering breaks the chain; recomputed, the head moves."""
        doc = copy.deepcopy(SEALED)
        doc["events"][3], doc["events"][4] = doc["events"][4], doc["events"][3]
        with pytest.raises(HistoryTampered):
            from_dict(doc, keyring=KEYRING)
        for i, raw in enumerate(doc["events"], start=1):
            raw["sequence"] = i
        rehash(doc)
        with pytest.raises(InvalidDocument):
            from_dict(doc, keyring=KEYRING)

    def test_the_integrity_seal_removed(self) -> None:
        """No seal, loaded with the keyring: IntegrityError saying what to do."""
        doc = copy.deepcopy(SEALED)
        del doc["integrity"]
        with pytest.raises(IntegrityError, match="no integrity seal") as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity"

    def test_the_snapshot_removed(self) -> None:
        """The seal covers the snapshot's seal: removing the snapshot is seen."""
        doc = copy.deepcopy(SNAPSHOT)
        del doc["snapshot"]
        with pytest.raises(IntegrityError) as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity.mac"

    def test_a_snapshot_added(self) -> None:
        """A snapshot pasted into a document sealed without one is seen."""
        doc = copy.deepcopy(SEALED)
        doc["snapshot"] = SNAPSHOT["snapshot"]
        with pytest.raises(IntegrityError):
            from_dict(doc, keyring=KEYRING)

    def test_the_seal_swapped_between_cases(self) -> None:
        """Another case's (valid) seal names another case."""
        other = to_dict(at_stage(State.PREPARATION, case_id="RJ-INT-3")[0], keyring=KEYRING)
        doc = copy.deepcopy(SEALED)
        doc["integrity"] = other["integrity"]
        with pytest.raises(IntegrityError, match="another case") as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity.case_id"

    def test_same_case_id_sealed_history_swapped(self) -> None:
        """The seal of an earlier save of the same case: the history moved on."""
        case, clock = at_stage(State.PREPARATION, case_id="RJ-INT-4")
        early = to_dict(case, keyring=KEYRING)
        case.assess_risk("favourable", at=clock(), actor="F1")
        late = to_dict(case, keyring=KEYRING)
        early["integrity"] = late["integrity"]
        with pytest.raises(IntegrityError):
            from_dict(early, keyring=KEYRING)

    def test_an_unknown_key_id(self) -> None:
        """A key id the ring does not hold: named (it is an opaque id), with the remedy."""
        ring = Keyring({"2027-01": SECRET_B}, current="2027-01")
        with pytest.raises(IntegrityError, match=f"key {KEY_ID}, which this keyring") as err:
            from_dict(SEALED, keyring=ring)
        assert err.value.path == "integrity.key_id"
        assert SECRET_B.decode() not in str(err.value)

    def test_a_key_id_changed_in_the_document(self) -> None:
        """Relabelling the key id to another key of the ring: the MAC does not match."""
        ring = Keyring({KEY_ID: b"rjflow tests' integrity key, 32B", "x": SECRET_A}, current="x")
        doc = copy.deepcopy(SEALED)
        doc["integrity"]["key_id"] = "x"
        with pytest.raises(IntegrityError, match="does not match"):
            from_dict(doc, keyring=ring)

    def test_the_same_key_id_with_another_secret(self) -> None:
        """The MAC does not verify under another secret of the same id."""
        with pytest.raises(IntegrityError, match="different secret"):
            from_dict(SEALED, keyring=Keyring({KEY_ID: SECRET_A}, current=KEY_ID))

    def test_a_forged_seal(self) -> None:
        """A seal recomputed by someone without the key (any other secret) is refused."""
        doc = copy.deepcopy(SEALED)
        del doc["events"][-1]
        doc["version"] -= 1
        doc["state"] = "conference"
        guess = Keyring({KEY_ID: SECRET_A}, current=KEY_ID)
        del doc["integrity"]
        doc["integrity"] = to_dict(from_dict(doc), keyring=guess)["integrity"]
        with pytest.raises(IntegrityError, match="does not match"):
            from_dict(doc, keyring=KEYRING)

    def test_the_migration_record_removed_or_changed(self) -> None:
        """migrated_from is covered by the seal: it cannot be dropped or edited."""
        doc = copy.deepcopy(SEALED)
        doc["migrated_from"] = {"schema_version": 1, "version": 3, "head": "a" * 64}
        with pytest.raises(IntegrityError):
            from_dict(doc, keyring=KEYRING)

    @pytest.mark.parametrize(
        "integrity",
        [
            None,
            [],
            "x",
            {"key_id": KEY_ID},
            {**dict.fromkeys(("key_id", "case_id", "head", "mac"), "x"), "version": 1},
        ],
    )
    def test_a_malformed_seal(self, integrity: Any) -> None:
        """A seal of the wrong shape: IntegrityError with the key, HistoryTampered without."""
        doc = copy.deepcopy(SEALED)
        doc["integrity"] = integrity
        with pytest.raises(IntegrityError) as err:
            from_dict(doc, keyring=KEYRING)
        assert err.value.path == "integrity"
        if integrity is not None:
            with pytest.raises(HistoryTampered):
                from_dict(doc)


class TestKeyRotation:
    def test_rotation_step_by_step(self) -> None:
        """Add the new key and make it current; loads accept both; re-saves use the new one;
        once every document is re-saved, the old key can go."""
        old = Keyring({"2026-05": SECRET_A}, current="2026-05")
        saved_old = to_dict(CASE, keyring=old)
        both = Keyring({"2026-05": SECRET_A, "2026-11": SECRET_B}, current="2026-11")
        case = from_dict(saved_old, keyring=both)
        saved_new = to_dict(case, keyring=both)
        assert saved_new["integrity"]["key_id"] == "2026-11"
        new = Keyring({"2026-11": SECRET_B}, current="2026-11")
        assert from_dict(saved_new, keyring=new) == CASE
        with pytest.raises(IntegrityError, match="key 2026-05"):
            from_dict(saved_old, keyring=new)

    def test_seal_is_under_the_current_key(self) -> None:
        """The MAC recomputed with integrity_mac under the current key matches."""
        ring = Keyring({"a": SECRET_A, "b": SECRET_B}, current="a")
        doc = to_dict(CASE, keyring=ring)
        assert doc["integrity"]["mac"] == integrity_mac(
            ring, "a", case_id=CASE.case_id, version=CASE.version, head=CASE.history[-1].hash
        )


# -- random structural mutations, loaded with the key ------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers(-3, 10**6) | st.text(max_size=10)
json_values = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
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


@st.composite
def structural_mutations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    base = draw(st.sampled_from([SEALED, SNAPSHOT]))
    doc = copy.deepcopy(base)
    kinds = []
    for _ in range(draw(st.integers(1, 3))):
        events = doc.get("events")
        if not isinstance(events, list):
            events = []
        kind = draw(
            st.sampled_from(["delete", "insert", "duplicate", "reorder", "leaf", "remove_key"])
        )
        kinds.append(kind)
        n = len(events)
        if kind == "delete" and n:
            del events[draw(st.integers(0, n - 1))]
        elif kind == "insert" and n:
            source = copy.deepcopy(events[draw(st.integers(0, n - 1))])
            events.insert(draw(st.integers(0, n)), source)
        elif kind == "duplicate" and n:
            i = draw(st.integers(0, n - 1))
            events.insert(i + 1, copy.deepcopy(events[i]))
        elif kind == "reorder" and n > 1:
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            events[i], events[j] = events[j], events[i]
        elif kind in ("leaf", "remove_key"):
            path = draw(st.sampled_from(paths_of(doc)[1:]))
            target: Any = doc
            for key in path[:-1]:
                target = target[key]
            if kind == "remove_key" and isinstance(target, dict):
                del target[path[-1]]
            else:
                target[path[-1]] = draw(json_values)
    if draw(st.booleans()):  # a forger without the key recomputes what a chain allows
        try:
            rehash(doc)
            doc["version"] = len(doc["events"])
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    return "+".join(kinds), doc


MUTATIONS = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MUTATIONS
@given(structural_mutations())
def test_every_structural_mutation_is_refused_with_the_key(mutation: tuple[str, Any]) -> None:
    """Delete, insert, duplicate or reorder events, change any leaf, remove any key (and maybe
    recompute the chain): loaded with the keyring, an rjflow error — never another exception,
    never a silently different case."""
    kinds, doc = mutation
    changed = doc not in (SEALED, SNAPSHOT)
    assume(changed)  # a mutation that put back what was there is no mutation
    event(kinds.split("+")[0])
    try:
        case = from_dict(doc, keyring=KEYRING)
    except RJFlowError as err:
        assert isinstance(err, InvalidDocument)
        assert "Moved away" not in str(err)
        assert "Repair the fence" not in str(err)
        event("refused")
        return
    # Loaded: only possible if nothing the seal covers changed; then the case is the same.
    event("loaded (the same case)")
    assert case == CASE, f"a changed document loaded as a different case ({kinds})"


# The keyed store's tests are in test_store_contract.py (TestKeyedIntegrity), run on every
# backend.


def test_a_history_whose_case_id_is_a_name_does_not_load() -> None:
    """Case.open refuses a name for a case id; so does loading a history that names one,
    even with every hash recomputed (what loads must be what could have been opened)."""
    doc = json.loads(dumps(at_stage(State.PREPARATION)[0]))
    doc["case_id"] = doc["events"][0]["data"]["case_id"] = "Jane Doe"
    rehash(doc)
    with pytest.raises(InvalidDocument) as caught:
        loads(json.dumps(doc))
    assert "'case_id' must be an opaque id" in str(caught.value)
    assert "Jane" not in str(caught.value)
