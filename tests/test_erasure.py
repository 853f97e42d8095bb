"""Erasure that keeps the record: free text is committed to by the chain and kept beside it,
so it can be erased while the history still verifies and the case still replays."""

from __future__ import annotations

import copy
import json
import pickle
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rjflow import (
    ERASED,
    AgreementAction,
    ErasureReason,
    HistoryTampered,
    InvalidDocument,
    InvalidInput,
    erase_free_text,
)
from rjflow.activities import Closure
from rjflow.commands import Close
from rjflow.erasure import erase_free_text_in
from rjflow.freetext import FREE_TEXT, free_text_values
from rjflow.history import event_hash, text_commitment, verify_chain
from rjflow.serialization import dumps, from_dict, json_schema, loads, replay, to_dict
from rjflow.states import EVALUATION_ACTIONS
from rjflow.store import SQLiteStore

from .builders import KEYRING, Clock, at_stage
from .echo import echoes
from .test_stateful import State

NOTE = "Victim moved to 12 Canary Lane"
WHAT = "Repay £40 to the canary café"


def closed_with_text(
    note: str = NOTE, what: str = WHAT, case_id: str = "RJ-ER-1"
) -> tuple[Any, Clock]:
    """A case with an agreement proposed (free text) and then closed with a note."""
    case, clock = at_stage(State.CONFERENCE, case_id=case_id)
    case.propose_agreement(
        [
            AgreementAction("A1", what, "O1", date(2026, 9, 1)),
            AgreementAction("A2", "Write a letter", "O1", date(2026, 9, 2)),
        ],
        at=clock(),
        actor="F1",
    )
    case.close(reason="other", note=note, at=clock(), actor="F1")
    return case, clock


HASHED = ("sequence", "at", "actor", "action", "data", "from_state", "to_state", "previous_hash")


class TestWhereFreeTextLives:
    def test_free_text_fields_are_declared_with_metadata(self) -> None:
        """The input and value classes mark their free text once, with attrs metadata."""
        assert attrs.fields(Close).note.metadata[FREE_TEXT] is True
        assert attrs.fields(AgreementAction).what.metadata[FREE_TEXT] is True
        assert attrs.fields(Closure).note.metadata[FREE_TEXT] is True
        assert free_text_values(Close("other", "x")) == [("/note", "x")]
        assert free_text_values(Close("victim_declined")) == []

    def test_the_hashed_data_holds_a_commitment_and_the_text_sits_beside(self) -> None:
        """The close event's data commits to the note; the note and its salt are in texts,
        and the commitment is SHA-256 of the documented bytes."""
        case, _ = closed_with_text()
        close = case.history[-1]
        commitment = close.data["note"]["$text"]
        entry = close.texts["/note"]
        assert entry.text == NOTE
        assert len(entry.salt) == 32
        assert commitment == text_commitment(bytes.fromhex(entry.salt), NOTE)
        raw = b"rjflow free text 1\n" + bytes.fromhex(entry.salt) + NOTE.encode()
        assert commitment == __import__("hashlib").sha256(raw).hexdigest()
        assert NOTE not in json.dumps(close.data, ensure_ascii=False)
        proposal = case.history[-2]
        assert set(proposal.texts) == {"/actions/0/what", "/actions/1/what"}
        assert case.record.closure is not None
        assert case.record.closure.note == NOTE

    def test_salts_are_random_and_reused_on_replay(self) -> None:
        """The same note twice gets two salts; replay keeps the stored ones."""
        a, _ = closed_with_text()
        b, _ = closed_with_text()
        assert a.history[-1].texts["/note"].salt != b.history[-1].texts["/note"].salt
        assert a.record == b.record
        assert replay(a.history, policy=a.policy).history == a.history

    def test_the_text_repr_is_redacted(self) -> None:
        """A FreeText's repr never shows the text."""
        case, _ = closed_with_text()
        assert NOTE not in repr(case.history[-1].texts["/note"])

    def test_a_lone_surrogate_is_refused_naming_the_field(self) -> None:
        """Text that cannot be written as UTF-8: InvalidInput naming the field, case unchanged."""
        case, clock = at_stage(State.PREPARATION)
        before = case.history
        with pytest.raises(InvalidInput, match="'note'"):
            case.close(reason="other", note="x\ud800", at=clock(), actor="F1")
        assert case.history == before

    def test_erased_cannot_be_recorded_as_text(self) -> None:
        """ERASED marks erased text; passing it as a note is refused."""
        case, clock = at_stage(State.PREPARATION)
        with pytest.raises(InvalidInput, match="ERASED"):
            case.close(reason="other", note=ERASED, at=clock(), actor="F1")


class TestErase:
    def test_erasing_keeps_the_chain_and_the_replay(self) -> None:
        """Regression (issue 9, item 11): erasing a note used to break the chain.  Now the
        history verifies, replays and round-trips, and the erased fields read as ERASED."""
        case, clock = closed_with_text()
        version = case.version
        erasure = erase_free_text(case, at=clock(), actor="M1", reason="retention_ended")
        assert case.version == version + 1
        assert erasure.action == "erase_free_text"
        assert erasure.data == {
            "reason": "retention_ended",
            "texts": [
                {"sequence": version - 1, "field": "/actions/0/what"},
                {"sequence": version - 1, "field": "/actions/1/what"},
                {"sequence": version, "field": "/note"},
            ],
        }
        verify_chain(case.history)
        assert case.record.closure is not None
        assert case.record.closure.note is ERASED
        assert str(case.record.closure.note) == "[erased]"
        assert case.record.agreement is not None
        assert [a.what for a in case.record.agreement.actions] == [ERASED, ERASED]
        assert replay(case.history, policy=case.policy) == case
        text = dumps(case)
        assert loads(text) == case
        assert NOTE not in text
        assert WHAT not in text
        assert from_dict(to_dict(case, keyring=KEYRING), keyring=KEYRING) == case
        sealed = to_dict(case, keyring=KEYRING, snapshot=True)
        assert NOTE not in json.dumps(sealed, ensure_ascii=False)
        assert from_dict(sealed, keyring=KEYRING).record == case.record

    def test_erasing_chosen_events_only(self) -> None:
        """events=[n] erases that event's texts and leaves the others."""
        case, clock = closed_with_text()
        close = case.version
        erase_free_text(case, at=clock(), actor="M1", events=[close])
        assert case.record.closure is not None
        assert case.record.closure.note is ERASED
        assert case.record.agreement is not None
        assert case.record.agreement.actions[0].what == WHAT
        assert loads(dumps(case)) == case
        erase_free_text(case, at=clock(), actor="M1")  # the rest, later
        assert [a.what for a in case.record.agreement.actions] == [ERASED, ERASED]
        assert loads(dumps(case)) == case

    def test_nothing_left_to_erase(self) -> None:
        """A second erasure of everything has nothing to erase: InvalidInput, no change."""
        case, clock = closed_with_text()
        erase_free_text(case, at=clock(), actor="M1")
        before = case.history
        with pytest.raises(InvalidInput, match="no free text left"):
            erase_free_text(case, at=clock(), actor="M1")
        assert case.history == before

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"events": [1]}, "holds no free text"),
            ({"events": [99]}, "sequence numbers"),
            ({"events": "12"}, "list of event sequence numbers"),
            ({"events": [True]}, "sequence numbers"),
            ({"reason": "because"}, "'reason' must be one of"),
            ({"actor": "Jane Doe"}, "opaque id"),
            ({"at": "yesterday"}, "at"),
        ],
    )
    def test_bad_arguments_change_nothing(self, kwargs: dict[str, Any], fragment: str) -> None:
        """Malformed arguments: InvalidInput, and the case exactly as it was."""
        case, clock = closed_with_text()
        before = (case.history, case.record)
        args: dict[str, Any] = {"at": clock(), "actor": "M1", **kwargs}
        with pytest.raises(InvalidInput, match=fragment) as err:
            erase_free_text(case, **args)
        assert (case.history, case.record) == before
        assert "Jane" not in str(err.value)

    def test_an_erasure_dated_before_the_last_change_is_refused(self) -> None:
        """Time runs forward for erasures too."""
        case, _ = closed_with_text()
        with pytest.raises(InvalidInput, match="earlier"):
            erase_free_text(case, at=case.record.opened_at, actor="M1")

    def test_an_ended_case_still_accepts_its_erasure_and_nothing_else(self) -> None:
        """Erasure is not a workflow action: a closed case stays closed and offers only the
        evaluation actions an ended case accepts (never the erasure)."""
        case, clock = closed_with_text()
        erase_free_text(case, at=clock(), actor="M1", reason=ErasureReason.SUBJECT_REQUEST)
        assert case.state is State.CLOSED
        assert {o.action for o in case.options()} == set(EVALUATION_ACTIONS)


class TestTamperedTexts:
    def setup_method(self) -> None:
        case, self.clock = closed_with_text()
        self.case = case
        self.doc = to_dict(case)

    def test_an_altered_text_is_named_by_event_and_field_never_quoted(self) -> None:
        """A changed note no longer matches its commitment: HistoryTampered naming the event
        and the field, without the text (old or new)."""
        doc = copy.deepcopy(self.doc)
        doc["events"][-1]["texts"]["/note"]["text"] = "Victim moved to 13 Canary Lane"
        with pytest.raises(HistoryTampered) as err:
            from_dict(doc)
        assert err.value.sequence == self.case.version
        assert err.value.path == f"events[{self.case.version - 1}].texts/note"
        assert "Canary" not in str(err.value)

    def test_a_changed_salt_is_detected(self) -> None:
        """The salt is part of the commitment."""
        doc = copy.deepcopy(self.doc)
        doc["events"][-1]["texts"]["/note"]["salt"] = "0" * 32
        with pytest.raises(HistoryTampered):
            from_dict(doc)

    def test_a_text_removed_without_a_recorded_erasure(self) -> None:
        """Texts cannot silently disappear: an erasure must be recorded."""
        doc = copy.deepcopy(self.doc)
        del doc["events"][-1]["texts"]["/note"]
        with pytest.raises(HistoryTampered, match="no erasure of it is recorded"):
            from_dict(doc)

    def test_the_erasure_event_removed(self) -> None:
        """Dropping the erasure event (newest) leaves texts missing without a record."""
        erase_free_text(self.case, at=self.clock(), actor="M1")
        doc = to_dict(self.case)
        del doc["events"][-1]
        doc["version"] -= 1
        with pytest.raises(HistoryTampered, match="no erasure"):
            from_dict(doc)

    def test_an_erased_text_put_back(self) -> None:
        """A text restored after its erasure was recorded: refused."""
        doc_before = copy.deepcopy(self.doc)
        erase_free_text(self.case, at=self.clock(), actor="M1")
        doc = to_dict(self.case)
        doc["events"][-2]["texts"] = doc_before["events"][-1]["texts"]
        with pytest.raises(InvalidDocument, match="still present"):
            from_dict(doc)

    def test_a_text_moved_to_another_field(self) -> None:
        """Swapping two texts (salts included) between fields: neither matches."""
        doc = copy.deepcopy(self.doc)
        texts = doc["events"][-2]["texts"]
        texts["/actions/0/what"], texts["/actions/1/what"] = (
            texts["/actions/1/what"],
            texts["/actions/0/what"],
        )
        with pytest.raises(HistoryTampered):
            from_dict(doc)

    def test_plain_text_in_the_hashed_data_is_refused(self) -> None:
        """A note written into the hashed data (chain recomputed) instead of committed."""
        doc = copy.deepcopy(self.doc)
        doc["events"][-1]["data"]["note"] = "plain"
        doc["events"][-1]["texts"] = {}
        doc["events"][-1]["hash"] = event_hash(**{k: doc["events"][-1][k] for k in HASHED})
        with pytest.raises(InvalidDocument, match="commitment exactly at the free-text fields"):
            from_dict(doc)

    @pytest.mark.parametrize(
        "texts",
        [
            {"/reason": {"salt": "0" * 32, "text": "x"}},
            {"/note": {"salt": "XYZ", "text": "x"}},
            {"/note": {"salt": "0" * 32}},
            {"/note": "text"},
            [],
        ],
    )
    def test_malformed_texts_are_refused(self, texts: Any) -> None:
        """Texts only for committed fields, with a 32-digit salt and a text."""
        doc = copy.deepcopy(self.doc)
        doc["events"][-1]["texts"] = texts
        with pytest.raises(InvalidDocument):
            from_dict(doc)

    def test_events_without_texts_are_refused(self) -> None:
        """texts is required in schema 2 (an empty object when there is none)."""
        doc = copy.deepcopy(self.doc)
        del doc["events"][0]["texts"]
        with pytest.raises(InvalidDocument, match="texts: is required") as err:
            from_dict(doc)
        assert err.value.path == "events[0].texts"

    @pytest.mark.parametrize(
        "data",
        [
            {"reason": "retention_ended"},
            {"reason": "whim", "texts": [{"sequence": 1, "field": "/note"}]},
            {"reason": "other", "texts": []},
            {"reason": "other", "texts": [{"sequence": 99, "field": "/note"}]},
            {"reason": "other", "texts": [{"sequence": 2, "field": "/note"}]},
            {"reason": "other", "texts": [{"sequence": 2, "field": "no pointer"}]},
        ],
    )
    def test_a_malformed_erasure_event_is_refused(self, data: Any) -> None:
        """Erasure data: a known reason and the (earlier event, committed field) pairs."""
        erase_free_text(self.case, at=self.clock(), actor="M1")
        doc = to_dict(self.case)
        doc["events"][-1]["data"] = data
        doc["events"][-1]["hash"] = event_hash(**{k: doc["events"][-1][k] for k in HASHED})
        with pytest.raises(InvalidDocument):
            from_dict(doc)


class TestStore:
    def test_saving_after_an_erasure_deletes_the_stored_texts(self, tmp_path: Path) -> None:
        """The store keeps texts in their own table; saving the erasure deletes their rows."""
        path = tmp_path / "cases.db"
        case, clock = closed_with_text()
        with SQLiteStore(path) as store:
            store.save(case, expected_version=0)
            assert store.load(case.case_id) == case
            version = case.version
            erase_free_text(case, at=clock(), actor="M1")
            store.save(case, expected_version=version)
            assert store.load(case.case_id) == case
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM rjflow_texts").fetchone() == (0,)
            dumped = "".join(str(row) for row in db.execute("SELECT * FROM rjflow_events"))
        assert NOTE not in dumped
        assert "Canary" not in dumped


# -- property: random unicode texts ---------------------------------------------------------

# Free text is any Unicode text but lone surrogates and control characters (tab and line
# breaks allowed), as rjflow accepts it.
texts = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r"),
    min_size=1,
    max_size=40,
).filter(str.strip)


@settings(max_examples=200, deadline=None)
@given(note=texts, what=texts)
def test_random_texts_round_trip_and_erase(note: str, what: str) -> None:
    """Any Unicode note and agreement text: saved and loaded identically; erased, the history
    still verifies, round-trips and holds neither text."""
    case, clock = closed_with_text(note=note, what=what)
    assert case.record.closure is not None
    assert case.record.closure.note == note
    assert loads(dumps(case)) == case
    erase_free_text(case, at=clock(), actor="M1")
    verify_chain(case.history)
    loaded = loads(dumps(case))
    assert loaded == case
    assert all(not e.texts for e in loaded.history)
    assert loaded.record.closure is not None
    assert loaded.record.closure.note is ERASED


@settings(max_examples=200, deadline=None)
@given(note=texts, replacement=texts)
@example(note="Moved abroad", replacement="what")  # a word of the message is not an echo
@example(note="Moved abroad", replacement="text")
def test_random_text_changes_are_detected(note: str, replacement: str) -> None:
    """Any changed note is detected, and the message quotes neither text."""
    case, _ = closed_with_text(note=note)
    doc = to_dict(case)
    doc["events"][-1]["texts"]["/note"]["text"] = replacement
    if replacement == note:
        assert from_dict(doc) == case
        return
    with pytest.raises(HistoryTampered) as err:
        from_dict(doc)
    assert err.value.sequence == case.version
    message = str(err.value)
    doc["events"][-1]["texts"]["/note"]["text"] = "\u00a7reference\u00a7"
    with pytest.raises(HistoryTampered) as reference:
        from_dict(doc)
    assert not echoes(note, message, str(reference.value))
    assert not echoes(replacement, message, str(reference.value))


def test_erased_reads_as_erased() -> None:
    """ERASED is the text "[erased]", with a repr that says what it is; copies and pickles
    keep the one instance."""
    assert ERASED == "[erased]"
    assert repr(ERASED) == "ERASED"
    assert isinstance(ERASED, str)
    assert copy.deepcopy(ERASED) is ERASED
    assert pickle.loads(pickle.dumps(ERASED)) is ERASED
    case, clock = closed_with_text()
    erase_free_text(case, at=clock(), actor="M1")
    assert case.record.closure is not None
    copied = copy.deepcopy(case.record.closure)
    assert copied.note is ERASED


def test_the_store_erases_a_stored_case(tmp_path: Path) -> None:
    """SQLiteStore.erase_free_text loads, erases and saves: rows gone, case still loads."""
    path = tmp_path / "cases.db"
    case, clock = closed_with_text()
    with SQLiteStore(path, keyring=KEYRING) as store:
        store.save(case, expected_version=0)
        erased = store.erase_free_text(case.case_id, at=clock(), actor="M1", events=[case.version])
        assert erased.record.closure is not None
        assert erased.record.closure.note is ERASED
        assert store.load(case.case_id) == erased
    with sqlite3.connect(path) as db:
        pointers = [row[0] for row in db.execute("SELECT pointer FROM rjflow_texts")]
    assert sorted(pointers) == ["/actions/0/what", "/actions/1/what"]


class TestEraseInADocument:
    def test_a_sealed_document_with_a_snapshot(self) -> None:
        """erase_free_text_in: the document to write back, sealed again, snapshot re-made,
        without the texts; the input is not changed."""
        case, clock = closed_with_text()
        doc = to_dict(case, keyring=KEYRING, snapshot=True)
        before = copy.deepcopy(doc)
        out = erase_free_text_in(doc, at=clock(), actor="M1", keyring=KEYRING)
        assert doc == before
        assert set(out) >= {"integrity", "snapshot"}
        text = json.dumps(out, ensure_ascii=False)
        assert NOTE not in text
        assert WHAT not in text
        loaded = from_dict(out, keyring=KEYRING)
        assert loaded.record.closure is not None
        assert loaded.record.closure.note == ERASED
        assert from_dict(out) == loaded  # by replay too

    def test_json_text_and_a_plain_document(self) -> None:
        """JSON text works too; without a keyring the result is unsealed."""
        case, clock = closed_with_text()
        out = erase_free_text_in(dumps(case), at=clock(), actor="M1", events=[case.version])
        assert "integrity" not in out
        assert NOTE not in json.dumps(out, ensure_ascii=False)
        assert WHAT in json.dumps(out, ensure_ascii=False)

    def test_a_bad_document_is_refused(self) -> None:
        """Text that is not JSON, or a tampered document: InvalidDocument."""
        case, clock = closed_with_text()
        with pytest.raises(InvalidDocument):
            erase_free_text_in("{nope", at=clock(), actor="M1")
        doc = to_dict(case)
        doc["events"][-1]["texts"]["/note"]["text"] = "changed"
        with pytest.raises(HistoryTampered):
            erase_free_text_in(doc, at=clock(), actor="M1")

    def test_erase_free_text_in_bypasses_the_shared_reader(self) -> None:
        """Text goes through the one reader: deep nesting, duplicate keys and UTF-16 are
        InvalidDocument (never RecursionError); one leading BOM is accepted, as by loads."""
        case, clock = closed_with_text()
        text = dumps(case)
        bad = [
            "[" * 100_000 + "]" * 100_000,
            '{"a": 1, "a": 2}',
            text.encode("utf-16"),
            "\ufeff\ufeff" + text,
        ]
        for source in bad:
            with pytest.raises(InvalidDocument):
                erase_free_text_in(source, at=clock(), actor="M1")
        for source in ("\ufeff" + text, b"\xef\xbb\xbf" + text.encode()):
            out = erase_free_text_in(source, at=clock(), actor="M1")
            assert NOTE not in json.dumps(out, ensure_ascii=False)

    def test_erase_free_text_in_drops_the_seal_without_a_keyring(self) -> None:
        """A sealed document without keyring=: InvalidInput saying the keyring is needed,
        instead of a result with its integrity and snapshot silently dropped."""
        case, clock = closed_with_text()
        doc = to_dict(case, keyring=KEYRING, snapshot=True)
        with pytest.raises(InvalidInput, match="keyring"):
            erase_free_text_in(doc, at=clock(), actor="M1")
        with pytest.raises(InvalidInput, match="keyring"):
            erase_free_text_in(json.dumps(doc), at=clock(), actor="M1")


# -- fuzz: mutated documents holding texts and an erasure ------------------------------------


def _with_erasure() -> dict[str, Any]:
    case, clock = closed_with_text(case_id="RJ-FZ-1")
    erase_free_text(case, at=clock(), actor="M1", events=[case.version - 1])
    doc = to_dict(case)
    jsonschema.validate(doc, json_schema())
    return doc


ERASED_DOC = _with_erasure()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["$text", "salt", "text", "sequence", "field", "x"]), inner
        )
    ),
    max_leaves=6,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


# Mostly the parts this change added: texts, commitments and the erasure event.
TARGETS = [
    p
    for p in _paths(ERASED_DOC)[1:]
    if "texts" in p
    or p[-1] == "$text"
    or (len(p) > 1 and p[:2] == ("events", len(ERASED_DOC["events"]) - 1))
]


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_fuzz_documents_with_texts_and_an_erasure(data: st.DataObject) -> None:
    """Mutated texts, commitments and erasure events (chain maybe recomputed): a faithful
    case or InvalidDocument, never another exception."""
    doc = copy.deepcopy(ERASED_DOC)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(TARGETS))
        target: Any = doc
        try:
            for key in path[:-1]:
                target = target[key]
            if data.draw(st.booleans()) and isinstance(target, dict):
                del target[path[-1]]
            else:
                target[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    if data.draw(st.booleans()):
        for raw in doc["events"]:
            if isinstance(raw, dict):
                try:
                    raw["hash"] = event_hash(**{k: raw[k] for k in HASHED})
                except (KeyError, TypeError, ValueError):
                    break
    try:
        case = from_dict(doc)
    except InvalidDocument as err:
        assert NOTE not in str(err)
        return
    assert to_dict(case) == doc
