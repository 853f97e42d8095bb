"""Free text kept where it can be erased: committed to by the hash chain, stored beside it.

Some inputs carry free text a person wrote — a closure note, what an agreement action says.
That is personal data: a service must be able to erase it on request or when its retention
period ends (UK GDPR art. 5(1)(e) storage limitation, art. 17 erasure) without losing the
record that the case happened as it did.  So:

* Free-text fields are declared once, on the value classes, with the attrs metadata marker
  ``metadata={FREE_TEXT: True}`` (:data:`FREE_TEXT` is ``"free_text"``); the code finds them
  there (:func:`free_text_values`).  A new free-text field needs only the marker.
* In an event's hashed ``data`` each free-text value is replaced by a commitment
  ``{"$text": "<64 hex digits>"}``: SHA-256 of a domain prefix, a 16-byte random salt and the
  text's UTF-8 bytes (:func:`rjflow.history.text_commitment`).  The salt and the text sit in
  the event's ``texts``, keyed by the field's JSON Pointer into ``data`` (``/note``,
  ``/actions/0/what``), outside the hash.
* Erasing removes salt and text and appends one ``erase_free_text`` event to the history,
  naming the erased fields by event sequence and pointer, with a reason and who did it — and
  no text.  The chain still verifies; the case still replays; an erased field reads as
  :data:`ERASED`.

>>> from rjflow.commands import Close
>>> free_text_values(Close("other", "moved abroad"))
[('/note', 'moved abroad')]
>>> str(ERASED)
'[erased]'
"""

from __future__ import annotations

import enum
import functools
import re
import secrets
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from rjflow.commands import OpenCase
from rjflow.errors import HistoryTampered, InvalidDocument, InvalidInput
from rjflow.history import TEXT_SALT_BYTES, Event, FreeText, text_commitment
from rjflow.states import ACTIONS

__all__ = [
    "ERASED",
    "ERASE_ACTION",
    "FREE_TEXT",
    "ErasedText",
    "ErasureReason",
    "commit_free_text",
    "free_text_values",
    "reveal",
    "verify_texts",
]

#: The attrs metadata key that marks a field as free text: ``attrs.field(metadata={FREE_TEXT:
#: True})``.  Such a field holds ``str`` (or None); its value is committed to, not hashed.
FREE_TEXT = "free_text"

#: The action name of the event that records an erasure.
ERASE_ACTION = "erase_free_text"

#: The key of a commitment object in event data: ``{"$text": "<64 hex digits>"}``.
COMMITMENT_KEY = "$text"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_SALT = re.compile(rf"[0-9a-f]{{{2 * TEXT_SALT_BYTES}}}")
_POINTER = re.compile(r"(/[A-Za-z0-9_]{1,64}){1,8}")


class ErasedText(str):
    """The value an erased free-text field reads as: the text ``"[erased]"``.

    There is one instance, :data:`ERASED`.  It is a ``str`` so that code displaying a note keeps
    working; test for it with ``value is ERASED`` in a case built from its history (a record
    loaded from a sealed snapshot holds the equal plain text ``"[erased]"``).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "ERASED"

    def __reduce__(self) -> str:
        # Copies and pickles of a case keep the one instance, so ``is ERASED`` still holds.
        return "ERASED"


#: What an erased free-text field reads as (``str(ERASED) == "[erased]"``).
ERASED = ErasedText("[erased]")


class ErasureReason(enum.Enum):
    """Why free text was erased (recorded in the history, without any personal data)."""

    #: The person asked for their data to be erased (UK GDPR art. 17).
    SUBJECT_REQUEST = "subject_request"
    #: The service's retention period for the text ended (UK GDPR art. 5(1)(e)).
    RETENTION_ENDED = "retention_ended"
    #: Another reason the service records elsewhere.
    OTHER = "other"


_REASONS = frozenset(r.value for r in ErasureReason)


# -- finding free text in inputs ---------------------------------------------------------------

_MAY_HOLD: dict[type, bool] = {}


def _may_hold_free_text(cls: type) -> bool:
    """True when instances of attrs class ``cls`` can hold a free-text field (cached)."""
    known = _MAY_HOLD.get(cls)
    if known is not None:
        return known
    _MAY_HOLD[cls] = True  # while deciding (recursive types): assume it may
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an unresolvable annotation: walk its values instead
        return True
    found = False
    for a in attrs.fields(cls):
        if a.metadata.get(FREE_TEXT):
            found = True
            break
        if any(_may_hold_free_text(t) for t in _attrs_classes(hints.get(a.name))):
            found = True
            break
    _MAY_HOLD[cls] = found
    return found


def _attrs_classes(hint: object) -> Iterator[type]:
    if isinstance(hint, type) and attrs.has(hint):
        yield hint
    for arg in typing.get_args(hint):
        yield from _attrs_classes(arg)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _walk(value: object, pointer: str) -> Iterator[tuple[str, object]]:
    cls = type(value)
    if attrs.has(cls):
        if not _may_hold_free_text(cls):
            return
        for a in attrs.fields(cls):
            item = getattr(value, a.name)
            where = f"{pointer}/{_escape(a.name)}"
            if a.metadata.get(FREE_TEXT):
                if item is not None:
                    yield where, item
            else:
                yield from _walk(item, where)
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{pointer}/{index}")


def free_text_values(inp: object) -> list[tuple[str, Any]]:
    """Every free-text value of an input, as (JSON Pointer into its plain data, value), in
    field order.  Fields marked with :data:`FREE_TEXT` that are None are left out."""
    if not attrs.has(type(inp)) or not _may_hold_free_text(type(inp)):
        return []
    return list(_walk(inp, ""))


def _steps(pointer: str) -> list[str]:
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]


def _set(data: Any, pointer: str, value: object) -> None:
    *parents, last = _steps(pointer)
    target = data
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def commit_free_text(
    inp: object, data: dict[str, Any], recorded: Event | None = None
) -> tuple[dict[str, Any], dict[str, FreeText]]:
    """Replace each free-text value in ``data`` (the plain form of ``inp``, changed in place)
    by its commitment; return ``data`` and the texts to keep beside the event.

    ``recorded`` is the stored event being replayed: its salts are reused, and an erased
    value keeps its stored commitment, so that replay reproduces the very same event.
    Otherwise each salt is 16 bytes from :mod:`secrets`.  Raises :class:`~rjflow.InvalidInput`
    naming the field when a value is not valid Unicode text or is :data:`ERASED` (which marks
    erased text and cannot be recorded).
    """
    texts: dict[str, FreeText] = {}
    salts = {p: t.salt for p, t in recorded.texts.items()} if recorded is not None else {}
    for pointer, value in free_text_values(inp):
        stored = event_commitments(recorded) if value is ERASED and recorded else {}
        if pointer in stored and pointer not in salts:
            _set(data, pointer, {COMMITMENT_KEY: stored[pointer]})
            continue
        if value is ERASED:
            raise InvalidInput(
                f"The free-text field at {pointer} holds ERASED, which marks text that was "
                "erased; record the text itself, or leave the field out."
            )
        if not isinstance(value, str):
            raise InvalidInput(
                f"The free-text field at {pointer} must be text (got {type(value).__name__})."
            )
        salt = salts.get(pointer) or secrets.token_hex(TEXT_SALT_BYTES)
        try:
            digest = text_commitment(bytes.fromhex(salt), value)
        except UnicodeEncodeError:
            raise InvalidInput(
                f"The free-text field at {pointer} is not valid Unicode text (it holds a lone "
                "surrogate); pass text that can be written as UTF-8."
            ) from None
        _set(data, pointer, {COMMITMENT_KEY: digest})
        texts[pointer] = FreeText(salt, str(value))
    return data, texts


# -- checking stored texts ---------------------------------------------------------------------

_POINTER = re.compile(r"(/(?:[a-z_]{1,40}|\d{1,4})){1,8}")


def _shown(pointer: str) -> str:
    """A pointer read from a document, for a message: as it is when it has the shape rjflow
    writes (``/note``, ``/actions/0/what``), else a placeholder, since a document's keys are
    the writer's text and may be personal data."""
    return pointer if _POINTER.fullmatch(pointer) else "/<a field that is not rjflow's>"


def commitments_in(data: object, pointer: str = "") -> dict[str, str]:
    """Every commitment ``{"$text": <hex>}`` in plain event data, by JSON Pointer."""
    found: dict[str, str] = {}
    if isinstance(data, Mapping):
        if len(data) == 1 and COMMITMENT_KEY in data:
            found[pointer] = data[COMMITMENT_KEY]
            return found
        for key, value in data.items():
            found.update(commitments_in(value, f"{pointer}/{_escape(str(key))}"))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            found.update(commitments_in(value, f"{pointer}/{index}"))
    return found


@functools.lru_cache(maxsize=256)
def _action_may_hold_free_text(action: str) -> bool:
    """False when no input of ``action`` can hold free text (so its data cannot hold a
    commitment: a commitment object where the input expects a value fails to parse)."""
    if action == ERASE_ACTION:
        return False  # its data is checked field by field (erasure_targets)
    if action == "open_case":  # rjflow.case.OPEN_ACTION (the case module imports this one)
        return _may_hold_free_text(OpenCase)
    definition = ACTIONS.get(action)
    return definition is None or _may_hold_free_text(definition.input)


def event_commitments(event: Event) -> dict[str, str]:
    """The commitments in an event's data, by JSON Pointer (see :func:`commitments_in`);
    the data is not walked when the event's action cannot hold free text and it keeps none."""
    if not event.texts and not _action_may_hold_free_text(event.action):
        return {}
    return commitments_in(event.data)


def erasure_targets(event: Event) -> list[tuple[int, str]]:
    """The (sequence, pointer) pairs an ``erase_free_text`` event erases; raises
    :class:`~rjflow.InvalidDocument` when its data is not the documented shape."""
    where = f"events[{event.sequence - 1}].data"
    data = event.data
    if not isinstance(data, Mapping) or set(data) != {"reason", "texts"}:
        raise InvalidDocument(
            f"{where}: an erasure event's data has exactly the fields reason and texts.",
            path=where,
            sequence=event.sequence,
        )
    if not isinstance(data["reason"], str) or data["reason"] not in _REASONS:
        raise InvalidDocument(
            f"{where}.reason: expected one of {', '.join(repr(r.value) for r in ErasureReason)}.",
            path=f"{where}.reason",
            sequence=event.sequence,
        )
    texts = data["texts"]
    if not isinstance(texts, list | tuple) or not texts:
        raise InvalidDocument(
            f"{where}.texts: an erasure names at least one erased text.",
            path=f"{where}.texts",
            sequence=event.sequence,
        )
    targets: list[tuple[int, str]] = []
    for index, item in enumerate(texts):
        ok = (
            isinstance(item, Mapping)
            and set(item) == {"sequence", "field"}
            and type(item["sequence"]) is int
            and 1 <= item["sequence"] < event.sequence
            and isinstance(item["field"], str)
            and _POINTER.fullmatch(item["field"]) is not None
        )
        if not ok:
            raise InvalidDocument(
                f"{where}.texts[{index}]: each erased text is an object with the sequence of "
                "an earlier event and the field's JSON Pointer (for example /note).",
                path=f"{where}.texts[{index}]",
                sequence=event.sequence,
            )
        targets.append((item["sequence"], item["field"]))
    if len(set(targets)) != len(targets):
        raise InvalidDocument(
            f"{where}.texts: an erasure names the same text twice.",
            path=f"{where}.texts",
            sequence=event.sequence,
        )
    return targets


def verify_texts(events: Sequence[Event]) -> frozenset[tuple[int, str]]:
    """Check every stored free text against its commitment and every missing one against a
    recorded erasure; return the erased (sequence, pointer) pairs.

    Run after :func:`~rjflow.history.verify_chain`.  Raises :class:`~rjflow.HistoryTampered`
    naming the event and the field (never the text) when a text does not match its
    commitment or is missing without a recorded erasure, and :class:`~rjflow.InvalidDocument`
    when texts are malformed, an erasure names a text the history does not hold or one erased
    before, or an erased text is still present.
    """
    erased: dict[tuple[int, str], int] = {}
    committed: dict[int, dict[str, str]] = {}
    for event in events:
        commitments = event_commitments(event)
        committed[event.sequence] = commitments
        if event.action == ERASE_ACTION:
            _note_erasure(event, committed, erased)
        _check_stored_texts(event, commitments)
    for event in events:
        where = f"events[{event.sequence - 1}]"
        for pointer in committed[event.sequence]:
            present = pointer in event.texts
            by = erased.get((event.sequence, pointer))
            if present and by is not None:
                raise InvalidDocument(
                    f"{where}.texts{_shown(pointer)}: event {by} erased this text, yet it is still "
                    "present; remove it, or restore the document from a trusted copy.",
                    path=f"{where}.texts{_shown(pointer)}",
                    sequence=event.sequence,
                )
            if not present and by is None:
                raise HistoryTampered(
                    f"Event {event.sequence}'s free text at {_shown(pointer)} is missing and no "
                    "erasure of it is recorded: it was removed outside rjflow. Restore it from a "
                    "trusted copy, or erase it with erase_free_text.",
                    path=f"{where}.texts{_shown(pointer)}",
                    sequence=event.sequence,
                )
    return frozenset(erased)


def _note_erasure(
    event: Event, committed: Mapping[int, Mapping[str, str]], erased: dict[tuple[int, str], int]
) -> None:
    where = f"events[{event.sequence - 1}]"
    for target in erasure_targets(event):
        seq, pointer = target
        if pointer not in committed.get(seq, {}):
            raise InvalidDocument(
                f"{where}: the erasure names the field {_shown(pointer)} of event {seq}, which "
                "holds no free text.",
                path=f"{where}.data.texts",
                sequence=event.sequence,
            )
        if target in erased:
            raise InvalidDocument(
                f"{where}: the field {_shown(pointer)} of event {seq} was already erased by event "
                f"{erased[target]}.",
                path=f"{where}.data.texts",
                sequence=event.sequence,
            )
        erased[target] = event.sequence


def _check_stored_texts(event: Event, commitments: Mapping[str, object]) -> None:
    where = f"events[{event.sequence - 1}]"
    for pointer, digest in commitments.items():
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise InvalidDocument(
                f"{where}.data{_shown(pointer)}: a free-text commitment is 64 lowercase "
                "hexadecimal digits.",
                path=f"{where}.data{_shown(pointer)}",
                sequence=event.sequence,
            )
    for pointer, entry in event.texts.items():
        path = f"{where}.texts{_shown(pointer)}"
        if pointer not in commitments:
            raise InvalidDocument(
                f"{path}: event {event.sequence} keeps a text for a field that holds no "
                "free-text commitment.",
                path=path,
                sequence=event.sequence,
            )
        if not _SALT.fullmatch(entry.salt):
            raise InvalidDocument(
                f"{path}.salt: a salt is {2 * TEXT_SALT_BYTES} lowercase hexadecimal digits.",
                path=f"{path}.salt",
                sequence=event.sequence,
            )
        try:
            matches = entry.commitment() == commitments[pointer]
        except UnicodeEncodeError:
            matches = False
        if not matches:
            raise HistoryTampered(
                f"Event {event.sequence}'s free text at {_shown(pointer)} does not match what the "
                "history committed to: it was altered after it was recorded. Restore it from "
                "a trusted copy.",
                path=path,
                sequence=event.sequence,
            )


def reveal(event: Event) -> Mapping[str, Any]:
    """The event's data with each commitment replaced by its text, or by :data:`ERASED` when
    the text is gone (run :func:`verify_texts` first).  The stored data is not changed."""
    commitments = event_commitments(event)
    if not commitments:
        return event.data
    data = _plain_copy(event.data)
    for pointer in commitments:
        entry = event.texts.get(pointer)
        _set(data, pointer, entry.text if entry is not None else ERASED)
    return typing.cast("Mapping[str, Any]", data)


def _plain_copy(value: object) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_copy(v) for v in value]
    return value


def positions_match(inp: object, event: Event) -> None:
    """Raise :class:`~rjflow.InvalidDocument` unless ``event``'s commitments sit exactly at
    the free-text fields of ``inp`` (the input built from it): free text is never stored in
    the hashed data, and a commitment never stands for anything else."""
    expected = {pointer for pointer, _ in free_text_values(inp)}
    actual = set(event_commitments(event))
    if expected != actual:
        wrong = sorted(expected ^ actual)
        where = f"events[{event.sequence - 1}].data"
        raise InvalidDocument(
            f"{where}: free text must be stored as a commitment exactly at the free-text "
            f"fields; the field(s) {', '.join(wrong)} do not follow that rule.",
            path=where,
            sequence=event.sequence,
        )
