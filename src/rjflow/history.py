"""The history: one immutable event for every accepted change, chained by SHA-256.

Each :class:`Event` records who did what, when, at which stage, with which input, and carries
the hash of its own content together with the previous event's hash.  Changing, removing,
reordering or inserting an event breaks the chain, and :func:`verify_chain` names the first
event that no longer checks out.  The history is the truth: replaying it rebuilds the case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

import attrs

from rjflow.errors import HistoryTampered, InvalidDocument

__all__ = ["GENESIS_HASH", "Event", "event_hash", "verify_chain"]

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
    if _c_encode is not None and type(data) is dict:
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


@attrs.frozen
class Event:
    """One accepted change to a case.

    ``sequence`` counts from 1 (the opening); ``from_state`` is the stage the change was made
    in (None for the opening) and ``to_state`` the stage it led to, or None when the stage did
    not change.  ``data`` is the action's input as plain JSON data.  ``at`` is when the change
    was recorded; ``occurred_at`` when it happened, for an entry made late (None: at ``at``).
    """

    sequence: int
    at: datetime
    actor: str
    action: str
    data: Mapping[str, Any]
    from_state: str | None
    to_state: str | None
    previous_hash: str
    hash: str
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
        occurred_at: datetime | None = None,
    ) -> Event:
        """A new event, its hash computed from its content and ``previous_hash``."""
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
            occurred_at,
        )

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
