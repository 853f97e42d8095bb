"""Regression tests for the faults a review of issue 9 ("Boundaries that hold") found, each
named after its fault."""

from __future__ import annotations

import copy
import pickle
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rjflow import (
    LONDON_CRC,
    Case,
    ConcurrencyConflict,
    CorruptRecord,
    InvalidDocument,
    InvalidInput,
    Keyring,
    Offence,
    OffenceCategory,
    Policy,
    RJFlowError,
    SourceUnavailable,
    erase_free_text,
)
from rjflow.cli import main
from rjflow.demo import DEMO_START, build_demo_case
from rjflow.diagrams import diagram_model
from rjflow.erasure import erase_free_text_in
from rjflow.serialization import (
    _fingerprint,
    dumps,
    from_dict,
    load_jsonl,
    loads,
    migrated_from,
    replay,
    to_dict,
)
from rjflow.store import SQLiteStore

from .builders import new_case

OFFENCE = Offence(OffenceCategory.HOUSEHOLD_BURGLARY)
SECRET = bytes(range(32))


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
            "from_state, to_state, previous_hash, hash, occurred_at FROM rjflow_events"
        )
        db.execute(
            "INSERT INTO rjflow_texts SELECT 'RJ-OTHER', sequence, pointer, salt, text "
            "FROM rjflow_texts"
        )
    db.close()
    with SQLiteStore(path) as store:
        for read in (store.load, store.version):
            with pytest.raises(CorruptRecord) as caught:
                read("RJ-OTHER")
            assert caught.value.case_id == "RJ-OTHER"
            assert "RJ-OTHER" in str(caught.value)
            assert build_demo_case().case_id not in str(caught.value)
        assert store.load(build_demo_case().case_id).case_id == build_demo_case().case_id


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


# -- wrong types at the public entry points ------------------------------------------------


def test_wrong_types_escape_as_type_errors_not_invalid_input() -> None:
    """The reviewer's inputs: each one is InvalidInput naming the argument, never the value."""
    case = build_demo_case()
    calls: dict[str, Callable[[], object]] = {
        "victims": lambda: Case.open(
            "RJ-9", offence=OFFENCE, offender="O1", victims=None, at=DEMO_START, actor="M1"
        ),
        "path": lambda: SQLiteStore("\ud800"),
        "timeout": lambda: SQLiteStore(":memory:", timeout="x"),  # type: ignore[arg-type]
        "policy": lambda: SQLiteStore(":memory:", policy="x"),  # type: ignore[arg-type]
        "indent": lambda: dumps(case, indent=10**30),
        "events": lambda: replay(["x"]),  # type: ignore[list-item]
        "case": lambda: to_dict("Jane Canary"),  # type: ignore[arg-type]
    }
    for name, call in calls.items():
        with pytest.raises(InvalidInput) as caught:
            call()
        assert f"'{name}'" in str(caught.value)
        assert "Canary" not in str(caught.value)
    for path in (None, b"x.db", "a\x00b", 3):
        with pytest.raises(InvalidInput, match="'path'"):
            SQLiteStore(path)  # type: ignore[arg-type]
    assert not Path("None").exists()


def test_keyring_cannot_be_copied_or_pickled() -> None:
    """copy.deepcopy and pickle of a Keyring work (it was a TypeError: mappingproxy); the
    copy verifies what the original sealed, and no repr shows a secret."""
    ring = Keyring({"k1": SECRET}, current="k1")
    case = build_demo_case()
    sealed = to_dict(case, keyring=ring)
    for copied in (copy.copy(ring), copy.deepcopy(ring), pickle.loads(pickle.dumps(ring))):
        assert copied.key_ids == ring.key_ids and copied.current == ring.current
        assert from_dict(sealed, keyring=copied) == case
        assert SECRET.hex() not in repr(copied) and repr(SECRET) not in repr(copied)


def _junk(text: bool = True) -> st.SearchStrategy[object]:
    """Values of the wrong type for most arguments (text too, unless ``text`` is False)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(),
        st.complex_numbers(),
        st.binary(max_size=8),
        st.builds(object),
        *([st.text(max_size=8)] if text else []),
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=4), inner, max_size=3)
            | st.tuples(inner)
        ),
        max_leaves=5,
    )


_CASE = build_demo_case()
_OK = {"at": DEMO_START, "actor": "M1"}
#: Each public entry point, with one argument replaced by the drawn value.
ENTRY_POINTS: dict[str, Callable[[Any], object]] = {
    "Case.open victims": lambda v: Case.open(
        "RJ-9", offence=OFFENCE, offender="O1", victims=v, **_OK
    ),
    "Case.open offence": lambda v: Case.open(
        "RJ-9", offence=v, offender="O1", victims=["V1"], **_OK
    ),
    "Case.open at": lambda v: Case.open(
        "RJ-9", offence=OFFENCE, offender="O1", victims=["V1"], at=v, actor="M1"
    ),
    "Case.open policy": lambda v: Case.open(
        "RJ-9", offence=OFFENCE, offender="O1", victims=["V1"], policy=v, **_OK
    ),
    "SQLiteStore policy": lambda v: SQLiteStore(":memory:", policy=v),
    "SQLiteStore timeout": lambda v: SQLiteStore(":memory:", timeout=v),
    "SQLiteStore keyring": lambda v: SQLiteStore(":memory:", keyring=v),
    "store.save": lambda v: SQLiteStore(":memory:").save(v, expected_version=0),
    "store.save expected_version": lambda v: SQLiteStore(":memory:").save(
        _CASE, expected_version=v
    ),
    "store.load": lambda v: SQLiteStore(":memory:").load(v),
    "store.version": lambda v: SQLiteStore(":memory:").version(v),
    "dumps": dumps,
    "dumps indent": lambda v: dumps(_CASE, indent=v),
    "to_dict": to_dict,
    "to_dict keyring": lambda v: to_dict(_CASE, keyring=v),
    "loads": loads,
    "from_dict": from_dict,
    "replay": replay,
    "replay items": lambda v: replay([v]),
    "replay policy": lambda v: replay(_CASE.history, policy=v),
    "erase_free_text": lambda v: erase_free_text(v, **_OK),
    "erase_free_text at": lambda v: erase_free_text(_CASE, at=v, actor="M1"),
    "erase_free_text_in": lambda v: erase_free_text_in(v, **_OK),
    "diagram_model policy": diagram_model,
    "diagram_model case": lambda v: diagram_model(LONDON_CRC, v),
    "Keyring keys": lambda v: Keyring(v, current="k1"),
    "Keyring current": lambda v: Keyring({"k1": SECRET}, current=v),
}
#: Arguments that are paths: drawn without text, so no file is created.
PATH_POINTS: dict[str, Callable[[Any], object]] = {
    "SQLiteStore path": SQLiteStore,
    "load_jsonl": load_jsonl,
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@settings(max_examples=60, deadline=None)
@given(value=_junk())
def test_only_rjflow_errors_escape_the_public_entry_points(name: str, value: object) -> None:
    """Any value of a wrong type at each of the 27 entry points above (60 examples each,
    1,620 in all): the call succeeds or raises an RJFlowError, nothing else."""
    try:
        ENTRY_POINTS[name](value)
    except Exception as exc:  # anything but an RJFlowError is the fault
        assert isinstance(exc, RJFlowError), f"{name}: {type(exc).__name__}"


@pytest.mark.parametrize("name", sorted(PATH_POINTS))
@settings(max_examples=60, deadline=None)
@given(value=_junk(text=False))
def test_only_rjflow_errors_escape_where_a_path_is_taken(name: str, value: object) -> None:
    """As above for the 2 arguments that are paths (60 examples each), drawn without text so
    that no file is made."""
    try:
        PATH_POINTS[name](value)
    except Exception as exc:  # anything but an RJFlowError is the fault
        assert isinstance(exc, RJFlowError), f"{name}: {type(exc).__name__}"


# -- migration provenance survives copies ----------------------------------------------------

SCHEMA1_DEMO = Path(__file__).parent / "fixtures" / "schema1" / "demo.json"


def test_migrated_from_lost_by_pickle_and_deepcopy() -> None:
    """A case upcast from schema 1 keeps its provenance through copy, deepcopy and pickle,
    and the copies are equal to it."""
    case = loads(SCHEMA1_DEMO.read_bytes())
    provenance = migrated_from(case)
    assert provenance is not None and provenance["schema_version"] == 1
    for copied in (copy.copy(case), copy.deepcopy(case), pickle.loads(pickle.dumps(case))):
        assert migrated_from(copied) == provenance
        assert copied == case
        assert to_dict(copied) == to_dict(case)


def test_case_equality_ignores_migrated_from() -> None:
    """Two cases with the same events but different provenance judge their history
    differently, so they are not equal."""
    case = loads((SCHEMA1_DEMO.parent / "closed_other.json").read_bytes())
    without = replay(case.history, policy=case.policy)  # this history passes today's rules too
    assert without.history == case.history
    assert without != case
    assert replay(case.history, migrated_from=migrated_from(case)) == case


# -- the command line ----------------------------------------------------------------------


def test_bare_rjflow_prints_help_as_one_line_of_escapes() -> None:
    """`rjflow` with no command: the help with its line breaks (not `\\x0a`), exit 2."""
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2
    assert "\\x0a" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: ")
    assert any(line.strip().startswith("check") for line in lines)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["demo", "--diagram-dir", "{file}"], "it is a file"),
        (["diagram", "-o", "{folder}"], "Is a directory"),
        (["demo", "--store", "{folder}"], "The store's database cannot be used"),
    ],
)
def test_unusable_output_or_store_exits_2_not_3(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    """A file given as the diagram folder, a folder given as the output file or the store:
    an output that cannot be used, exit 3 (docs/cli.md), one line, nothing printed before."""
    a_file = tmp_path / "a-file"
    a_file.write_text("kept")
    filled = [arg.format(file=a_file, folder=tmp_path) for arg in args]
    result = CliRunner().invoke(main, filled)
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith("rjflow: ")
    assert len(result.stderr.splitlines()) == 1
    assert fragment in result.stderr
    assert result.stdout == ""
    assert a_file.read_text() == "kept"


def test_check_of_a_dangling_symlink_says_is_a_directory(tmp_path: Path) -> None:
    """A symbolic link to nothing is a file that does not exist: exit 2, saying so."""
    link = tmp_path / "dangling.json"
    link.symlink_to(tmp_path / "nowhere" / "case.json")
    for command in (["check"], ["explain"]):
        result = CliRunner().invoke(main, [*command, str(link)])
        assert result.exit_code == 2
        assert "No such file or directory" in result.stderr
        assert "directory." not in result.stderr.replace("No such file or directory.", "")


# -- conflict messages ---------------------------------------------------------------------


def test_diverged_history_conflict_says_same_version_twice() -> None:
    """Two writers each saved a different change at the same version: the conflict says the
    histories differ, not "at version N but the store holds version N"."""
    case, clock = new_case(case_id="RJ-DIV")
    with SQLiteStore(":memory:") as store:
        store.save(case, expected_version=0)
        first, second = store.load("RJ-DIV"), store.load("RJ-DIV")
        first.record_sentence(sentenced_on=date(2026, 2, 1), at=clock(), actor="F1")
        second.record_sentence(sentenced_on=date(2026, 2, 2), at=clock(), actor="F1")
        store.save(first, expected_version=case.version)
        with pytest.raises(ConcurrencyConflict) as caught:
            store.save(second, expected_version=second.version)
        assert store.load("RJ-DIV") == first
    message = str(caught.value)
    assert "history differs" in message
    assert f"version {second.version} but the store holds version" not in message
    assert caught.value.actual_version == caught.value.expected_version == second.version


def test_import_jsonl_of_one_case_twice_says_the_store_already_holds_it() -> None:
    """A file holding the same case id on two lines: refused as such, nothing imported."""
    text = dumps(build_demo_case())
    other, _ = new_case(case_id="RJ-FIRST")
    with SQLiteStore(":memory:") as store:
        with pytest.raises(InvalidDocument) as caught:
            store.import_jsonl([dumps(other), text, text])
        assert store.case_ids() == []
    assert "more than once" in str(caught.value)
    assert "already holds" not in str(caught.value)
