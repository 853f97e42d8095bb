"""A caseload read lazily: the cases of a JSON Lines file one at a time.

:func:`rjflow.serialization.load_jsonl` keeps every case it loads; a report or a deadline
list over 100,000 cases needs each case only long enough to take what it counts.
:func:`iter_jsonl` reads the file with the very same reader (line splitting, decoding,
parsing and loading as :func:`~rjflow.serialization.load_jsonl`), yielding each case, or a
:class:`~rjflow.serialization.LineProblem` for a line that does not load, as it goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rjflow import _reader
from rjflow.case import Case
from rjflow.errors import InvalidDocument, SourceUnavailable
from rjflow.integrity import Keyring
from rjflow.policy import Policy
from rjflow.serialization import LineProblem, from_dict

__all__ = ["iter_jsonl"]


def iter_jsonl(
    path: Path, *, policy: Policy | None = None, keyring: Keyring | None = None
) -> Iterator[Case | LineProblem]:
    """Each case of the JSON Lines file at ``path`` as it is read, or a
    :class:`~rjflow.serialization.LineProblem` (line number and message) for a line that does
    not load; blank lines are skipped.  ``policy``: as for
    :func:`~rjflow.serialization.from_dict` — None judges each case under the policy it records
    (a case judged under another policy than the default is then a problem line, never
    silently re-judged).  Raises :class:`~rjflow.SourceUnavailable` (whose
    message does not repeat the path) when the file cannot be opened or read."""
    try:
        for number, line in _reader.iter_lines(Path(path)):
            if isinstance(line, InvalidDocument):
                yield LineProblem(number, str(line), line.sequence)
                continue
            try:
                data = _reader.parse(line, line=number)
                yield from_dict(data, policy=policy, keyring=keyring)
            except InvalidDocument as exc:
                yield LineProblem(number, str(exc), exc.sequence)
    except OSError as exc:
        error = SourceUnavailable(
            f"The JSON Lines file cannot be read ({exc.strerror or 'unreadable'}); check that "
            "the path names an existing file you may read."
        )
        error.errno, error.strerror = exc.errno, exc.strerror
        raise error from None
