"""Regression tests for the faults a review of issue 9 ("Boundaries that hold") found, each
named after its fault."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rjflow import CorruptRecord, InvalidInput, Policy, SourceUnavailable
from rjflow.demo import build_demo_case
from rjflow.serialization import _fingerprint, load_jsonl
from rjflow.store import SQLiteStore

from .builders import new_case


def test_store_load_returns_another_case_when_rows_are_copied_under_another_id(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.save(build_demo_case(), expected_version=0)
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT INTO rjflow_events SELECT 'RJ-OTHER', sequence, at, actor, action, data, "
            "from_state, to_state, previous_hash, hash FROM rjflow_events"
        )
        db.execute(
            "INSERT INTO rjflow_texts SELECT 'RJ-OTHER', sequence, pointer, salt, text "
            "FROM rjflow_texts"
        )
    db.close()
    with SQLiteStore(path) as store, pytest.raises(CorruptRecord) as caught:
        store.load("RJ-OTHER")
    assert caught.value.case_id == "RJ-OTHER"
    assert "RJ-OTHER" in str(caught.value)
    assert build_demo_case().case_id not in str(caught.value)


def test_store_save_accepts_a_case_of_another_policy_it_cannot_load_back() -> None:
    other = Policy(name="Youth justice Jane Canary", max_sessions=8)
    case, _ = new_case(policy=other)
    with SQLiteStore(":memory:") as store:
        with pytest.raises(InvalidInput) as caught:
            store.save(case, expected_version=0)
        assert store.case_ids() == []
    message = str(caught.value)
    assert "different policy" in message
    assert _fingerprint(other)[:12] in message
    assert "Canary" not in message


def test_load_jsonl_treats_json_text_as_a_path_and_repeats_it() -> None:
    """A str holding JSON text is refused as text, not opened as a file name; the message
    never repeats it."""
    for text in ('{"note": "Jane Canary"}\n', '{"note": "Jane Canary"}', "a\nJane Canary"):
        with pytest.raises(InvalidInput) as caught:
            load_jsonl(text)
        assert "Canary" not in str(caught.value)
        assert "Path" in str(caught.value)


def test_load_jsonl_open_error_repeats_the_path(tmp_path: Path) -> None:
    """A path that cannot be opened: SourceUnavailable (an OSError), the system's reason, the
    path kept on the error and not in the message."""
    missing = tmp_path / "Jane Canary.jsonl"
    for source in (missing, str(missing), tmp_path):
        with pytest.raises(SourceUnavailable) as caught:
            load_jsonl(source)
        assert isinstance(caught.value, OSError)
        assert "Canary" not in str(caught.value)
        assert caught.value.path == str(source)
    assert caught.value.strerror  # the folder: the system says why


def test_load_jsonl_of_a_wrong_type_raises_type_error() -> None:
    for source in (None, 3, b'{"a": 1}\n', 2.5):
        with pytest.raises(InvalidInput, match="'source'"):
            load_jsonl(source)  # type: ignore[arg-type]
