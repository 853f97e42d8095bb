"""The one reader of JSON and JSON Lines: every entry point decodes, splits and parses here.

``loads``, ``load_jsonl``, the ``rjflow`` command and the store all read through this module,
so a file is read the same way wherever it is given.  The rules (documented for users in
``docs/format.md``, "Reading rules"):

- **Decoding.** Bytes are UTF-8 (RFC 8259 §8.1).  One byte order mark (U+FEFF) at the very
  start of a file or document is dropped, as RFC 8259 allows a parser to do; anywhere else it
  is an error (also at the start of a later line of JSON Lines, and a second one at the
  start).  Invalid UTF-8 raises :class:`~rjflow.InvalidDocument` naming the line and the
  byte offset, never the bytes.  Text already decoded (``str``) loses a leading U+FEFF too.
- **Lines.** JSON Lines are split on ``"\\n"`` only (jsonlines.org), never on the other
  characters :meth:`str.splitlines` treats as line breaks (``\\r``, ``\\x0b``, ``\\x0c``,
  ``\\x1c``-``\\x1e``, ``\\x85``, U+2028, U+2029).  A ``"\\r"`` before the ``"\\n"`` is JSON
  whitespace and is ignored.  A line holding only JSON whitespace (space, tab, CR) is blank.
- **Parsing.** Strict JSON: ``NaN``, ``Infinity`` and numbers too large for a float are
  refused, as are an object holding the same key twice (RFC 8259 §4 leaves its meaning
  undefined, so rjflow refuses rather than guess) and text holding a lone surrogate (an
  ``\\ud800`` escape not part of a pair: it cannot be written as UTF-8, so it could not be
  saved again).  Nesting deeper than :data:`MAX_DEPTH` is refused, including input deep
  enough to exhaust Python's recursion limit.  Every refusal is an
  :class:`~rjflow.InvalidDocument` whose message names the position, never the content.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rjflow.errors import InvalidDocument

__all__ = ["MAX_DEPTH", "decode", "iter_lines", "parse", "read_document"]

#: The deepest nesting of arrays and objects accepted.  A saved case is about six levels deep.
MAX_DEPTH = 64

_BOM = "\ufeff"
_BOM_BYTES = b"\xef\xbb\xbf"
_JSON_WHITESPACE = " \t\r\n"
_SURROGATE = re.compile("[\ud800-\udfff]")
#: A surrogate as a JSON escape (or a false alarm such as an escaped backslash before "ud800").
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _where(line: int | None) -> str:
    return f"line {line}" if line is not None else "the text"


def decode(data: bytes, *, line: int | None = None, first: bool = True) -> str:
    """``data`` decoded as UTF-8, one leading byte order mark dropped when ``first`` (the
    start of the file).  Raises :class:`~rjflow.InvalidDocument` naming the byte offset."""
    if first and data.startswith(_BOM_BYTES):
        data = data[len(_BOM_BYTES) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDocument(
            f"{_where(line).capitalize()} is not valid UTF-8 (at byte {exc.start}); save the "
            "file as UTF-8.",
            path="$",
        ) from None


def _reject_constant(name: str) -> Any:
    raise InvalidDocument(
        f"The text holds the number {name}, which JSON does not allow; write a finite number.",
        path="$",
    )


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidDocument(
            "The text holds a number too large for a floating-point value; write a smaller number.",
            path="$",
        )
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise InvalidDocument(
            "An object in the text holds the same key twice; keep each key once.", path="$"
        )
    return result


def _step(path: str, key: object) -> str:
    """``path`` extended by ``key``, as ``events[3].data.note``; the document is ``$``."""
    if isinstance(key, int):
        return f"[{key}]" if path == "$" else f"{path}[{key}]"
    # A key is shown only when it is name-shaped: any other key may be free text.
    name = key if isinstance(key, str) and _NAME.fullmatch(key) else "(key)"
    return name if path == "$" else f"{path}.{name}"


def _deeper_than_max(value: Any) -> bool:
    """True when arrays and objects nest deeper than MAX_DEPTH: one pass per level, no
    recursion, containers only (the fast check run on every document)."""
    level = [value]
    for _ in range(MAX_DEPTH):
        deeper: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            deeper += [c for c in children if type(c) is dict or type(c) is list]
        if not deeper:
            return False
        level = deeper
    return True


def _check_tree(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and lone surrogates, naming where: the slow,
    precise walk, run only when the fast checks find something."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise InvalidDocument(
                    f"The text at {path} holds a lone surrogate escape (such as \\ud800), "
                    "which is not a character; correct the text.",
                    path=path,
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise InvalidDocument(
                f"The text is nested deeper than {MAX_DEPTH} levels; a saved case never is.",
                path=path,
            )
        if isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    raise InvalidDocument(
                        f"A key in {path} holds a lone surrogate escape (such as \\ud800), "
                        "which is not a character; correct the text.",
                        path=path,
                    )
                stack.append((child, _step(path, key), depth + 1))
        else:
            stack.extend((child, _step(path, i), depth + 1) for i, child in enumerate(item))


def parse(text: str, *, line: int | None = None) -> Any:
    """``text`` parsed as one strict JSON value (see the module docstring).

    A U+FEFF is an error here, as anywhere but the very start of a file (which
    :func:`read_document` and :func:`iter_lines` drop before calling this).  Raises
    :class:`~rjflow.InvalidDocument`, never another exception; the message gives the
    position (line and column) and never the content.
    """
    if text.startswith(_BOM):
        raise InvalidDocument(
            f"{_where(line).capitalize()} holds a byte order mark (U+FEFF) that is not at the "
            "very start of the file; remove it.",
            path="$",
        )
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_reject_constant,
            parse_float=_finite,
        )
    except InvalidDocument:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if line is None else f"column {exc.colno}"
        raise InvalidDocument(
            f"The text is not valid JSON: {exc.msg} ({where}).", path="$"
        ) from None
    except RecursionError:
        raise InvalidDocument(
            f"The text is nested deeper than {MAX_DEPTH} levels; a saved case never is.", path="$"
        ) from None
    except ValueError:  # an integer of more digits than Python converts (sys.int_info)
        raise InvalidDocument(
            "The text holds a number with too many digits; a saved case has none.", path="$"
        ) from None
    if _deeper_than_max([value]) or _may_hold_surrogates(text):
        _check_tree(value)  # finds the place, or finds the escape was a harmless "\\ud800"
    return value


def _may_hold_surrogates(text: str) -> bool:
    """False when no string parsed from ``text`` can hold a surrogate (the usual case, found
    without a regular expression over the whole text)."""
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")  # raw surrogates (only in text not decoded from bytes) fail here
    except UnicodeEncodeError:
        return True
    return False


def read_document(source: str | bytes) -> Any:
    """One JSON document from text or UTF-8 bytes: :func:`decode` then :func:`parse`; one
    leading U+FEFF is dropped, a second one (or one anywhere else) is an error."""
    if isinstance(source, bytes | bytearray | memoryview):
        return parse(decode(bytes(source)))
    if isinstance(source, str):
        return parse(source.removeprefix(_BOM))
    raise InvalidDocument(
        f"A saved case is read from text or bytes (got {type(source).__name__}).", path="$"
    )


def iter_lines(source: Path | Iterable[str | bytes]) -> Iterator[tuple[int, str | InvalidDocument]]:
    """The non-blank lines of a JSON Lines source, lazily, as ``(line number, text)``; a line
    that cannot be decoded comes as ``(line number, InvalidDocument)`` and the rest follow.

    ``source`` is a path (opened in binary and split on ``"\\n"`` only) or an iterable of lines
    (text or bytes), one line each, with or without their ``"\\n"``.  Raises ``OSError`` when
    a path cannot be opened.
    """
    if isinstance(source, Path):
        with source.open("rb") as handle:  # binary files split on b"\n" only
            yield from iter_lines(handle)
        return
    items: Iterable[object] = source  # checked item by item: callers may pass anything
    for number, raw in enumerate(items, start=1):
        if isinstance(raw, bytes | bytearray):
            try:
                text = decode(bytes(raw), line=number, first=number == 1)
            except InvalidDocument as exc:
                yield number, exc
                continue
        elif isinstance(raw, str):
            text = raw[1:] if number == 1 and raw.startswith(_BOM) else raw
        else:
            yield (
                number,
                InvalidDocument(f"Line {number} is a {type(raw).__name__}, not text.", path="$"),
            )
            continue
        if text.endswith("\n"):
            text = text[:-1]
        if text.strip(_JSON_WHITESPACE):
            yield number, text
