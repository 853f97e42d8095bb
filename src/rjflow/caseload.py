"""A caseload read lazily: the cases of a JSON Lines file one at a time.

:func:`rjflow.serialization.load_jsonl` keeps every case it loads; a report or a deadline
list over 100,000 cases needs each case only long enough to take what it counts.
:func:`iter_jsonl` reads the file with the very same reader (line splitting, decoding,
parsing and loading as :func:`~rjflow.serialization.load_jsonl`), yielding each case, or a
:class:`~rjflow.serialization.LineProblem` for a line that does not load, as it goes.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections import deque
from collections.abc import Iterator
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

from rjflow import _reader
from rjflow._validate import of_type
from rjflow.case import Case
from rjflow.errors import InvalidDocument, InvalidInput, SourceUnavailable
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
        raise SourceUnavailable.reading("The JSON Lines file", exc, str(path)) from None


class _History:
    """What :func:`~rjflow.reporting.case_facts` reads: a history."""

    __slots__ = ("history",)

    def __init__(self, history: tuple[Any, ...]) -> None:
        self.history = history


def _line_facts(
    number: int, line: str, keyring: Keyring, policy: Policy | None
) -> CaseFacts | LineProblem:
    """One line's report facts, or its problem (see :func:`iter_jsonl_facts`)."""
    try:
        data = _reader.parse(line, line=number)
        events = sealed_history(data, keyring=keyring, policy=policy)
        if events is not None:
            return case_facts(_History(events))
        return case_facts(from_dict(data, policy=policy, keyring=keyring))
    except InvalidDocument as exc:
        return LineProblem(number, str(exc), exc.sequence)


#: What this worker process reads with: set by the pool's initializer in each worker (the
#: ``fork`` start method hands it over in the forked memory, never through a pipe).
_WORKER: list[tuple[Keyring, Policy | None]] = []


def _start_worker(keyring: Keyring, policy: Policy | None) -> None:
    _WORKER[:] = [(keyring, policy)]


_Warned = Warning


def _chunk_facts(
    chunk: list[tuple[int, str]],
) -> tuple[list[CaseFacts | LineProblem], list[_Warned]]:
    """A batch's facts, and the warnings reading it raised (a worker's warnings would
    otherwise never reach the caller's filters and logs: the parent raises them again)."""
    keyring, policy = _WORKER[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = [_line_facts(number, line, keyring, policy) for number, line in chunk]
    # The warnings themselves (rjflow's pickle with their fields): the caller gets them whole.
    return items, [
        w.message if isinstance(w.message, Warning) else w.category(str(w.message)) for w in caught
    ]


def _chunks(
    lines: Iterator[tuple[int, str | InvalidDocument]], size: int
) -> Iterator[list[tuple[int, str]] | LineProblem]:
    chunk: list[tuple[int, str]] = []
    for number, line in lines:
        if isinstance(line, InvalidDocument):
            if chunk:
                yield chunk
                chunk = []
            yield LineProblem(number, str(line), line.sequence)
            continue
        chunk.append((number, line))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _in_parallel(
    path: Path, keyring: Keyring, policy: Policy | None, workers: int
) -> Iterator[CaseFacts | LineProblem]:
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, _start_worker, (keyring, policy)) as pool:
        pending: deque[
            AsyncResult[tuple[list[CaseFacts | LineProblem], list[_Warned]]] | LineProblem
        ] = deque()
        for item in _chunks(_reader.iter_lines(Path(path)), _CHUNK):
            if isinstance(item, LineProblem):
                pending.append(item)
            else:
                pending.append(pool.apply_async(_chunk_facts, (item,)))
            while len(pending) > 4 * workers:  # bounded: the file is never held whole
                yield from _results(pending.popleft())
        while pending:
            yield from _results(pending.popleft())


def _results(
    item: AsyncResult[tuple[list[CaseFacts | LineProblem], list[_Warned]]] | LineProblem,
) -> list[CaseFacts | LineProblem] | tuple[LineProblem]:
    if isinstance(item, LineProblem):
        return (item,)
    items, warned = item.get()
    for warning in warned:
        warnings.warn(warning, stacklevel=4)
    return items


#: Lines a worker reads at a time.
_CHUNK = 256


def iter_jsonl_facts(
    path: Path, *, keyring: Keyring, policy: Policy | None = None, workers: int = 1
) -> Iterator[CaseFacts | LineProblem]:
    """The report facts (:func:`~rjflow.reporting.case_facts`) of each case of the JSON Lines
    file at ``path``, or a :class:`~rjflow.serialization.LineProblem` for a line that does not
    load, in the file's order, as :func:`iter_jsonl` with ``keyring`` would give them, faster:
    a sealed document's facts are read from its history once the chain, the free texts and the
    seals check out (:func:`~rjflow.serialization.sealed_history`), without replaying its
    events through the rules or building its case.  Any other line is loaded in full, so it
    gives exactly the facts, or the problem, :func:`iter_jsonl` gives.

    ``workers``: processes reading at once (default 1: this process; at most the number of
    processors, ``os.cpu_count()``).  More than one needs the ``fork``
    start method (Linux, macOS): the workers inherit the keyring and never receive it through
    a pipe; lines go to them 256 at a time, and at most a few batches per worker are in
    flight, so the file is never held whole.  A warning a line raises in a worker (such as
    :class:`~rjflow.PolicyChanged`) is raised again here, whole.  The
    arguments are checked when the first item is asked for (this is a generator).

    Facts need a keyring: without one, only replaying a history shows it obeys the rules (a
    hash chain can be recomputed by anyone), so use :func:`iter_jsonl` and
    :func:`~rjflow.reporting.case_facts`.  Raises :class:`~rjflow.SourceUnavailable` as
    :func:`iter_jsonl` does, and :class:`~rjflow.InvalidInput` for a ``keyring``, ``policy``
    or ``workers`` of the wrong type, ``workers`` outside 1 to ``os.cpu_count()``, or above 1
    where processes cannot fork."""
    of_type("keyring", keyring, Keyring, "a rjflow Keyring")
    if policy is not None:
        of_type("policy", policy, Policy, "a rjflow Policy")
    most = max(1, os.cpu_count() or 1)
    if type(workers) is not int:
        raise InvalidInput(
            f"'workers' must be a whole number, such as 1 or 2 (got {type(workers).__name__})."
        )
    if not 1 <= workers <= most:
        raise InvalidInput(
            f"'workers' must be from 1 (read in this process) to {most}, the number of "
            "processors here."
        )
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise InvalidInput(
            "'workers' above 1 needs processes that fork (Linux, macOS); give workers=1 here."
        )
    try:
        if workers > 1:
            yield from _in_parallel(Path(path), keyring, policy, workers)
            return
        for number, line in _reader.iter_lines(Path(path)):
            if isinstance(line, InvalidDocument):
                yield LineProblem(number, str(line), line.sequence)
                continue
            yield _line_facts(number, line, keyring, policy)
    except OSError as exc:
        raise SourceUnavailable.reading("The JSON Lines file", exc, str(path)) from None
