"""A TOML file rjflow reads (a policy file, a key file): its bytes as a document, and what
was wrong when they are not one, in rjflow's words.

tomllib's own messages may quote the file (a key file holds secrets; a policy file anyone's
text), so only what can be said without its content is kept: the kind of fault and where.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

__all__ = ["TomlFault", "parse"]

_WHERE = re.compile(r"at line (\d+), column (\d+)")


class TomlFault(ValueError):
    """Bytes that are not a TOML document.  ``kind``: ``"encoding"`` (not UTF-8 text),
    ``"twice"`` (a key set twice) or ``"syntax"``; ``line`` and ``column`` where the parser
    stopped, when it says (1-based)."""

    def __init__(self, kind: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.line = line
        self.column = column


def parse(data: bytes) -> tuple[dict[str, Any], str]:
    """The document ``data`` holds, and its text (a leading byte order mark, as editors on
    Windows add, read past).  Raises :class:`TomlFault`."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise TomlFault("encoding") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        where = _WHERE.search(str(exc))
        line, column = (int(where.group(1)), int(where.group(2))) if where else (None, None)
        kind = "twice" if str(exc).startswith("Cannot overwrite a value") else "syntax"
        raise TomlFault(kind, line, column) from None
