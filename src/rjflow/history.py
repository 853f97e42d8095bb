"""The history: one immutable event for every accepted change, chained by SHA-256.

Each :class:`Event` records who did what, when, at which stage, with which input, and carries
the hash of its own content together with the previous event's hash.  Changing, removing,
reordering or inserting an event breaks the chain, and :func:`verify_chain` names the first
event that no longer checks out.  The history is the truth: replaying it rebuilds the case.

Free text (a closure note, what an agreement action says) is personal data that must stay
erasable, so it is kept *beside* the hash, not in it: an event's ``data`` holds, at each
free-text field, a commitment ``{"$text": <hex>}`` (see :func:`text_commitment`), and the
event's ``texts`` maps that field's JSON Pointer (RFC 6901, into ``data``) to a
:class:`FreeText` — the salt and the text.  Removing a text leaves the chain intact; changing
one no longer matches its commitment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

import attrs

from rjflow._frozen import FrozenDict, freeze, frozen_texts, shared_dict, thaw
from rjflow.errors import HistoryTampered, InvalidDocument

__all__ = [
    "GENESIS_HASH",
    "TEXT_SALT_BYTES",
    "Event",
    "FreeText",
    "event_hash",
    "text_commitment",
    "verify_chain",
]

#: The "previous hash" of a case's first event.
GENESIS_HASH = "0" * 64

_string = encode_basestring


def _integer(value: int) -> str:
    # JSON's text for an int is its decimal repr; anything else goes through the encoder.
    return int.__repr__(value) if type(value) is int else _dumps(value)


_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)
_dumps = _encoder.encode


def _not_json(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# CPython: one C encoder made once, rather than one per call as ``JSONEncoder.encode`` does.
# The same settings as ``_encoder``; no cycle check (markers None) because event data and
# records are built from inputs or parsed from JSON text, neither of which can refer to itself.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = (
    _make_c_encoder(None, _not_json, encode_basestring, None, ":", ",", True, False, False)
    if _make_c_encoder is not None
    else None
)


def canonical_json(data: Mapping[str, Any]) -> str:
    """``data`` as compact JSON text with sorted keys, non-ASCII kept: the form that is hashed."""
    if _c_encode is not None and isinstance(data, dict):
        return "".join(_c_encode(data, 0))
    return _dumps(data)


def event_hash(
    *,
    sequence: int,
    at: str,
    actor: str,
    action: str,
    data: Mapping[str, Any],
    from_state: str | None,
    to_state: str | None,
    previous_hash: str,
    occurred_at: str | None = None,
) -> str:
    """SHA-256 (hex) of an event's canonical encoding: compact JSON with sorted keys, UTF-8.

    The encoding is exactly ``json.dumps(fields, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` of the eight fields, plus ``occurred_at`` when the event has one (an
    event without it hashes exactly as before it existed, so saved chains still verify); it is
    spelled out key by key because this runs on every accepted action.
    """
    q = _string
    origin = "null" if from_state is None else q(from_state)
    target = "null" if to_state is None else q(to_state)
    occurred = "" if occurred_at is None else f'"occurred_at":{q(occurred_at)},'
    body = (
        f'{{"action":{q(action)},"actor":{q(actor)},"at":{q(at)},"data":{canonical_json(data)},'
        f'"from_state":{origin},{occurred}"previous_hash":{q(previous_hash)},'
        f'"sequence":{_integer(sequence)},"to_state":{target}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


#: The length of a free-text salt, in bytes (stored as twice as many hexadecimal digits).
TEXT_SALT_BYTES = 16

_TEXT_DOMAIN = b"rjflow free text 1\n"


def text_commitment(salt: bytes, text: str) -> str:
    """The commitment to one free-text value: SHA-256 (hex) of ``b"rjflow free text 1\\n"``,
    then the 16 salt bytes, then the text's UTF-8 bytes.

    The prefix and the salt have fixed lengths, so the bytes hashed name exactly one (salt,
    text) pair; the random salt keeps a short text ("yes") from being found by guessing.
    Raises ``UnicodeEncodeError`` for text that is not valid Unicode (a lone surrogate).
    """
    return hashlib.sha256(_TEXT_DOMAIN + salt + text.encode("utf-8")).hexdigest()


@attrs.frozen
class FreeText:
    """One free-text value kept beside an event, outside its hash: ``salt`` (32 lowercase
    hexadecimal digits, 16 random bytes) and ``text``.  Its repr never shows the text."""

    salt: str
    text: str = attrs.field(repr=False)

    def commitment(self) -> str:
        """The commitment this salt and text give (what the event's data must hold)."""
        return text_commitment(bytes.fromhex(self.salt), self.text)


@attrs.frozen
class Event:
    """One accepted change to a case.

    ``sequence`` counts from 1 (the opening); ``from_state`` is the stage the change was made
    in (None for the opening) and ``to_state`` the stage it led to, or None when the stage did
    not change.  ``data`` is the action's input as plain JSON data, deeply read-only (a
    ``dict`` and ``list`` that refuse every change, so no holder of an event can rewrite the
    accepted history), each free-text value replaced by its commitment; ``texts`` holds those
    values (by JSON Pointer into ``data``), outside the hash, so that they can be erased.  A
    pointer committed in ``data`` but absent from ``texts`` is an erased text.  ``at`` is when the
    change was recorded; ``occurred_at`` when it happened, for an entry made late (None: at
    ``at``).
    """

    sequence: int
    at: datetime
    actor: str
    action: str
    data: Mapping[str, Any] = attrs.field(converter=freeze)
    from_state: str | None
    to_state: str | None
    previous_hash: str
    hash: str
    texts: Mapping[str, FreeText] = attrs.field(factory=FrozenDict, converter=frozen_texts)
    occurred_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        sequence: int,
        at: datetime,
        actor: str,
        action: str,
        data: Mapping[str, Any],
        from_state: str | None,
        to_state: str | None,
        previous_hash: str,
        texts: Mapping[str, FreeText] | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """A new event, its hash computed from its content and ``previous_hash`` (``texts``
        stay outside the hash)."""
        digest = event_hash(
            sequence=sequence,
            at=at.isoformat(),
            actor=actor,
            action=action,
            data=data,
            from_state=from_state,
            to_state=to_state,
            previous_hash=previous_hash,
            occurred_at=None if occurred_at is None else occurred_at.isoformat(),
        )
        return cls(
            sequence,
            at,
            actor,
            action,
            data,
            from_state,
            to_state,
            previous_hash,
            digest,
            texts=frozen_texts(texts),
            occurred_at=occurred_at,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The event as JSON data, as a saved document holds it (:mod:`rjflow.serialization`):
        times as ISO 8601 text, ``data`` a plain copy (durations in whole seconds, enums by
        value, each free text as its commitment), ``texts`` the free texts kept beside it (by
        JSON Pointer into ``data``: ``{"salt", "text"}``), and ``occurred_at`` null unless the
        entry was made late."""
        return {
            "sequence": self.sequence,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "data": thaw(self.data),
            "from_state": self.from_state,
            "to_state": self.to_state,
            "previous_hash": self.previous_hash,
            "hash": self.hash,
            "texts": {
                pointer: {"salt": text.salt, "text": text.text}
                for pointer, text in self.texts.items()
            },
            "occurred_at": None if self.occurred_at is None else self.occurred_at.isoformat(),
        }

    def expected_hash(self) -> str:
        """The hash this event's content calls for (equal to ``hash`` unless tampered)."""
        return event_hash(
            sequence=self.sequence,
            at=self.at.isoformat(),
            actor=self.actor,
            action=self.action,
            data=self.data,
            from_state=self.from_state,
            to_state=self.to_state,
            previous_hash=self.previous_hash,
            occurred_at=None if self.occurred_at is None else self.occurred_at.isoformat(),
        )


def share_repeats(events: Sequence[Event]) -> None:
    """Let the events of a verified chain hold repeated values once: each event its
    predecessor's hash object as its ``previous_hash`` (the first :data:`GENESIS_HASH`), and
    small data of ids, enum values and numbers a shared equal dict (see
    :func:`rjflow._frozen.shared_dict`), instead of equal copies.  Only for events just built
    from a document, which nothing else holds yet; no value changes, so neither do the hashes,
    equality or the saved text."""
    previous = GENESIS_HASH
    for event in events:
        if event.previous_hash == previous:
            object.__setattr__(event, "previous_hash", previous)
        previous = event.hash
        data = shared_dict(event.data)  # type: ignore[arg-type]
        if data is not event.data:
            object.__setattr__(event, "data", data)


def verify_chain(events: Sequence[Event]) -> None:
    """Check sequence numbers, links and hashes; raise :class:`HistoryTampered` at the first
    event that does not check out."""
    previous = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        if event.sequence != position:
            raise HistoryTampered(
                f"Event {position} of the history carries sequence number {event.sequence}: "
                "an event was removed, inserted or reordered. Restore the history from a "
                "trusted copy.",
                sequence=position,
            )
        if event.previous_hash != previous:
            raise HistoryTampered(
                f"Event {position} does not follow the event before it (its previous hash does "
                "not match): the history was altered. Restore it from a trusted copy.",
                sequence=position,
            )
        try:
            expected = event.expected_hash()
        except (TypeError, ValueError):
            raise InvalidDocument(
                f"Event {position}'s data is not plain JSON data (text keys; text, numbers, "
                "booleans, null, lists and objects only).",
                path=f"events[{position - 1}].data",
                sequence=position,
            ) from None
        if expected != event.hash:
            raise HistoryTampered(
                f"Event {position} was altered after it was recorded (its hash does not match "
                "its content). Restore the history from a trusted copy.",
                sequence=position,
            )
        previous = event.hash
