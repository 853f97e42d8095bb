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
from typing import Any

from rjflow import _reader
from rjflow._validate import of_type
from rjflow.case import Case
from rjflow.errors import InvalidDocument, SourceUnavailable
from rjflow.integrity import Keyring
from rjflow.policy import Policy
from rjflow.reporting import CaseFacts, case_facts
from rjflow.serialization import LineProblem, from_dict, sealed_history

__all__ = ["iter_jsonl", "iter_jsonl_facts"]


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


class _History:
    """What :func:`~rjflow.reporting.case_facts` reads: a history."""

    __slots__ = ("history",)

    def __init__(self, history: tuple[Any, ...]) -> None:
        self.history = history


def iter_jsonl_facts(
    path: Path, *, keyring: Keyring, policy: Policy | None = None
) -> Iterator[CaseFacts | LineProblem]:
    """The report facts (:func:`~rjflow.reporting.case_facts`) of each case of the JSON Lines
    file at ``path``, or a :class:`~rjflow.serialization.LineProblem` for a line that does not
    load, as :func:`iter_jsonl` with ``keyring`` would give them, faster: a sealed document's
    facts are read from its history once the chain, the free texts and the seals check out
    (:func:`~rjflow.serialization.sealed_history`), without replaying its events through the
    rules or building its case.  Any other line is loaded in full, so it gives exactly the
    facts, or the problem, :func:`iter_jsonl` gives.

    Facts need a keyring: without one, only replaying a history shows it obeys the rules (a
    hash chain can be recomputed by anyone), so use :func:`iter_jsonl` and
    :func:`~rjflow.reporting.case_facts`.  Raises :class:`~rjflow.SourceUnavailable` as
    :func:`iter_jsonl` does, and :class:`~rjflow.InvalidInput` for a ``keyring`` or
    ``policy`` of the wrong type."""
    of_type("keyring", keyring, Keyring, "a rjflow Keyring")
    try:
        for number, line in _reader.iter_lines(Path(path)):
            if isinstance(line, InvalidDocument):
                yield LineProblem(number, str(line), line.sequence)
                continue
            try:
                data = _reader.parse(line, line=number)
                events = sealed_history(data, keyring=keyring, policy=policy)
                if events is not None:
                    yield case_facts(_History(events))
                else:
                    yield case_facts(from_dict(data, policy=policy, keyring=keyring))
            except InvalidDocument as exc:
                yield LineProblem(number, str(exc), exc.sequence)
    except OSError as exc:
        error = SourceUnavailable(
            f"The JSON Lines file cannot be read ({exc.strerror or 'unreadable'}); check that "
            "the path names an existing file you may read."
        )
        error.errno, error.strerror = exc.errno, exc.strerror
        raise error from None
