"""One reader for every entry point (issue 9, item 6): the same file gives the same answer
through ``loads(bytes)``, ``load_jsonl(path)``, ``load_jsonl(lines)``, the store's import and
the ``rjflow`` command (``check`` of .json and .jsonl, ``explain``, ``diagram --case``)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rjflow import InvalidDocument, State
from rjflow._reader import MAX_DEPTH, iter_lines, parse, read_document
from rjflow.cli import main
from rjflow.demo import build_demo_case
from rjflow.serialization import dumps, load_jsonl, loads
from rjflow.store import SQLiteStore

from .builders import at_stage

DEMO = build_demo_case()
TEXT = dumps(DEMO)
BOM = b"\xef\xbb\xbf"
DEEP = "[" * 100_000 + "]" * 100_000

#: A valid case whose closure note holds characters str.splitlines() breaks lines on.
_CLOSED, _clock = at_stage(State.INTRODUCTION, case_id="RJ-LS")
_CLOSED.close(reason="other", note="before\u2028middle\u2029after", at=_clock(), actor="M1")
SEPARATORS = dumps(_CLOSED)

#: Bad files, by the kind of fault; each must be refused alike everywhere.
BAD = {
    "invalid utf-8": TEXT.encode()[:40] + b"\xff\xfe" + TEXT.encode()[40:],
    "utf-16": TEXT.encode("utf-16"),
    "deep nesting": DEEP.encode(),
    "duplicate key": ('{"schema_version": 1, ' + TEXT[1:]).encode(),
    "NaN": b'{"schema_version": NaN}',
    "huge float": b'{"schema_version": 1e400}',
    "lone surrogate": TEXT.replace('"actor": "M1"', '"actor": "M\\ud800"', 1).encode(),
    "BOM inside": TEXT.encode()[:1] + BOM + TEXT.encode()[1:],
    "double BOM": BOM + BOM + TEXT.encode(),
    "not json": b"{oops",
}


# -- the entry points, each giving "ok" or the error's kind and path ----------------------


def via_loads(data: bytes, _folder: Path) -> str:
    try:
        loads(data)
    except InvalidDocument as exc:
        return type(exc).__name__
    return "ok"


def via_load_jsonl_path(data: bytes, folder: Path) -> str:
    path = folder / "one.jsonl"
    path.write_bytes(data + b"\n")
    report = load_jsonl(path)
    return "ok" if report.ok and len(report.cases) == 1 else "InvalidDocument"


def via_load_jsonl_lines(data: bytes, _folder: Path) -> str:
    report = load_jsonl([data])
    return "ok" if report.ok and len(report.cases) == 1 else "InvalidDocument"


def via_store_import(data: bytes, folder: Path) -> str:
    path = folder / "one.jsonl"
    path.write_bytes(data + b"\n")
    with SQLiteStore(":memory:") as store:
        report = store.import_jsonl(path)
        imported = store.case_ids()
    return "ok" if report.ok and len(imported) == 1 else "InvalidDocument"


def via_cli(*command: str, suffix: str = ".json") -> Callable[[bytes, Path], str]:
    def run(data: bytes, folder: Path) -> str:
        path = folder / f"case{suffix}"
        path.write_bytes(data + (b"\n" if suffix == ".jsonl" else b""))
        result = CliRunner().invoke(main, [*command, str(path)])
        assert "Traceback" not in result.output
        codes = {0: "ok", 1: "InvalidDocument"}
        assert result.exit_code in codes, (result.exit_code, result.stderr)
        return codes[result.exit_code]

    return run


ENTRY_POINTS = {
    "loads(bytes)": via_loads,
    "load_jsonl(path)": via_load_jsonl_path,
    "load_jsonl(lines)": via_load_jsonl_lines,
    "store.import_jsonl": via_store_import,
    "rjflow check .json": via_cli("check"),
    "rjflow check .jsonl": via_cli("check", suffix=".jsonl"),
    "rjflow explain": via_cli("explain"),
    "rjflow diagram --case": via_cli("diagram", "--case"),
}


def answers(data: bytes) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        return {name: read(data, Path(folder)) for name, read in ENTRY_POINTS.items()}


class TestRegressions:
    def test_bom_file_is_valid_in_check_as_in_explain(self) -> None:
        """Regression: a case file starting with a UTF-8 BOM loaded with explain and
        loads(bytes), but rjflow check called it invalid."""
        assert set(answers(BOM + TEXT.encode()).values()) == {"ok"}
        assert loads("\ufeff" + TEXT) == DEMO  # text read with encoding="utf-8", BOM kept

    def test_line_separators_in_a_note_do_not_split_a_line(self) -> None:
        """Regression: check split JSON Lines with str.splitlines(), so a note holding U+2028
        or U+2029 broke one case into three invalid lines."""
        assert set(answers(SEPARATORS.encode()).values()) == {"ok"}
        report = load_jsonl([SEPARATORS, SEPARATORS.encode()])
        assert report.ok
        assert [c.record for c in report.cases] == [_CLOSED.record] * 2

    def test_deep_nesting_is_invalid_document_and_the_batch_goes_on(self, tmp_path: Path) -> None:
        """Regression: '[' * 100_000 raised RecursionError, and load_jsonl aborted the whole
        batch; now it is one bad line and the others load."""
        with pytest.raises(InvalidDocument):
            loads(DEEP)
        path = tmp_path / "batch.jsonl"
        path.write_text("\n".join([TEXT, DEEP, TEXT]) + "\n", encoding="utf-8")
        report = load_jsonl(path)
        assert len(report.cases) == 2
        assert [p.line for p in report.problems] == [2]


@pytest.mark.parametrize("kind", sorted(BAD))
def test_every_entry_point_refuses_a_bad_file_alike(kind: str) -> None:
    """Each bad file: every entry point says it is an InvalidDocument (no other error, no
    traceback, no entry point accepting what another refuses)."""
    assert set(answers(BAD[kind]).values()) == {"InvalidDocument"}, answers(BAD[kind])


def test_messages_give_the_position_not_the_content() -> None:
    """Decoding errors name the byte offset and line, never the bytes or the text."""
    with pytest.raises(InvalidDocument) as err:
        loads(b'{"note": "S\xe9cret"}')
    assert "at byte 11" in str(err.value)
    assert "cret" not in str(err.value)
    report = load_jsonl([TEXT.encode(), b'{"note": "\xff"}'])
    assert report.problems[0].line == 2
    assert "Line 2 is not valid UTF-8 (at byte 10)" in report.problems[0].message


def test_lines_split_on_newline_only(tmp_path: Path) -> None:
    """A path is split on \\n only; \\r\\n endings, a BOM on line 1 and blank lines (JSON
    whitespace only) are fine; a line of other whitespace (U+2028, \\x0c) is a problem."""
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        BOM
        + TEXT.encode()
        + b"\r\n\r\n \t\n"
        + "\u2028".encode()
        + b"\n\x0c\n"
        + TEXT.encode()
        + b"\x85".decode("latin-1").encode()
        + b"\n"
    )
    numbered = list(iter_lines(path))
    assert [n for n, _ in numbered] == [1, 4, 5, 6]
    report = load_jsonl(path)
    assert len(report.cases) == 1
    assert [p.line for p in report.problems] == [4, 5, 6]


def test_bom_accepted_at_the_start_of_any_line_and_doubled(tmp_path: Path) -> None:
    """Regression: a BOM at the start of line 2, or two at the start of the file, was dropped
    by load_jsonl, import_jsonl and rjflow check, and loads(bytes) accepted two; only one
    U+FEFF at the very start of the file is dropped (docs/format.md)."""
    for data in (TEXT.encode() + b"\n" + BOM + TEXT.encode(), BOM + BOM + TEXT.encode()):
        path = tmp_path / "bom.jsonl"
        path.write_bytes(data + b"\n")
        for source in (path, data.split(b"\n"), data.decode().split("\n")):
            report = load_jsonl(source)
            assert [p.line for p in report.problems] == [data.count(b"\n") + 1]
        with SQLiteStore(":memory:") as store:
            assert not store.import_jsonl(path).ok
        assert CliRunner().invoke(main, ["check", str(path)]).exit_code == 1
    doubled = "\ufeff\ufeff" + TEXT
    with pytest.raises(InvalidDocument):
        loads(doubled)
    with pytest.raises(InvalidDocument):
        loads(doubled.encode())


def test_a_path_is_read_lazily(tmp_path: Path) -> None:
    """iter_lines yields the first line before reading the rest of the file."""
    path = tmp_path / "lazy.jsonl"
    path.write_text(TEXT + "\n" + "x" * 10 + "\n", encoding="utf-8")
    lines = iter_lines(path)
    assert next(lines) == (1, TEXT)
    path.write_text("", encoding="utf-8")  # the open handle still reads the old content
    assert next(lines)[0] == 2


def test_duplicate_and_non_finite_choices() -> None:
    """The documented choices: duplicate keys, NaN, Infinity and lone surrogates refused;
    a surrogate *pair* is one character and accepted; nesting up to MAX_DEPTH accepted."""
    for text in ('{"a": 1, "a": 1}', "NaN", "-Infinity", '["\\udc00"]', '{"\\ud800": 1}'):
        with pytest.raises(InvalidDocument):
            parse(text)
    assert parse('"\\ud83d\\ude00"') == "\U0001f600"
    assert parse("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(InvalidDocument):
        parse("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(depth=st.integers(0, 200_000), opener=st.sampled_from(["[", '{"a":', "[{}, "]))
def test_any_nesting_depth_is_a_value_or_invalid_document(depth: int, opener: str) -> None:
    """Any nesting depth from 0 to 200,000 (300 examples): parsed when within MAX_DEPTH,
    otherwise InvalidDocument; never RecursionError."""
    closer = {"[": "]", '{"a":': "}", "[{}, ": "]"}[opener]
    text = opener * depth + "1" + closer * depth
    if depth <= MAX_DEPTH - (opener == "[{}, "):
        assert parse(text) is not None
    else:
        with pytest.raises(InvalidDocument):
            parse(text)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_give_the_same_answer_from_loads_and_load_jsonl(data: bytes) -> None:
    """Any bytes without a newline (300 examples): loads and load_jsonl agree, and raise
    nothing but InvalidDocument."""
    data = data.replace(b"\n", b" ")
    try:
        loads(data)
        loaded = True
    except InvalidDocument:
        loaded = False
    report = load_jsonl([data])
    blank = not data.decode("utf-8", "replace").removeprefix("\ufeff").strip(" \t\r")
    assert report.ok == (loaded or blank)


line_pieces = st.sampled_from(
    ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", " ", "\t", "x"]
)


@settings(max_examples=300, deadline=None)
@given(
    cases=st.lists(st.booleans(), min_size=1, max_size=5),
    junk=st.lists(line_pieces, max_size=4).map("".join),
)
def test_only_newline_splits_lines(cases: list[bool], junk: str) -> None:
    """Lines of good cases (some with U+2028 in a note) and lines of other line-break
    characters (300 examples): the path, the text lines and the byte lines give the same
    cases and the same problem lines."""
    lines = [SEPARATORS if sep else TEXT for sep in cases] + [junk]
    raw = "\n".join(lines).encode() + b"\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.jsonl"
        path.write_bytes(raw)
        from_path = load_jsonl(path)
    from_text = load_jsonl(lines)
    from_bytes = load_jsonl(line.encode() for line in lines)
    for report in (from_path, from_text, from_bytes):
        assert len(report.cases) == len(cases)
        assert [p.line for p in report.problems] == ([len(lines)] if junk.strip(" \t\r") else [])


@settings(max_examples=200, deadline=None)
@given(value=st.recursive(st.text(max_size=5) | st.integers(), lambda s: st.lists(s, max_size=3)))
def test_read_document_matches_json_for_plain_values(value: object) -> None:
    """Plain JSON values (200 examples) read back as the standard library writes them."""
    text = json.dumps(value)
    try:
        assert read_document(text) == value
        assert read_document(text.encode()) == value
    except InvalidDocument:
        assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in json.dumps(value, ensure_ascii=False))
