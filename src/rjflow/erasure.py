"""Erasing free text while keeping the record (UK GDPR storage limitation and erasure).

>>> from datetime import timedelta
>>> from rjflow import ERASED, Case, Offence, OffenceCategory, Staff, erase_free_text
>>> from rjflow.demo import DEMO_START
>>> from rjflow.serialization import dumps, loads
>>> case = Case.open("RJ-1", offence=Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
...                  offender="O1", victims=["V1"], staff=[Staff("M1", "manager")],
...                  at=DEMO_START, actor="M1")
>>> _ = case.close(reason="other", note="moved abroad", at=DEMO_START + timedelta(days=1),
...                actor="M1")
>>> case.record.closure.note
'moved abroad'
>>> event = erase_free_text(case, at=DEMO_START + timedelta(days=400), actor="M1")
>>> event.action, [dict(erased) for erased in event.data["texts"]]
('erase_free_text', [{'sequence': 2, 'field': '/note'}])
>>> case.record.closure.note is ERASED
True
>>> loads(dumps(case)) == case       # the history still verifies and replays
True

The erasure is itself an event of the history (action ``erase_free_text``): who erased,
when, why (an :class:`~rjflow.ErasureReason`) and which fields — by event sequence and JSON
Pointer, never their text.  Being in the chain, it cannot be removed without breaking it, and
a text that is missing without a recorded erasure is reported as tampering.  It changes no
stage and no fact of the case, only its version; it is accepted at any stage, also after the
case ended (erasure usually happens when the retention period ends).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from rjflow._reader import read_document
from rjflow._validate import _check_id, aware_datetime, of_type
from rjflow.case import Case
from rjflow.errors import InvalidInput
from rjflow.freetext import ERASE_ACTION, ErasureReason, event_commitments
from rjflow.history import Event
from rjflow.integrity import Keyring
from rjflow.policy import LONDON_CRC, Policy
from rjflow.serialization import from_dict, replay, to_dict

__all__ = ["erase_free_text", "erase_free_text_in"]


def erase_free_text(
    case: Case,
    *,
    at: datetime,
    actor: str,
    reason: ErasureReason | str = ErasureReason.SUBJECT_REQUEST,
    events: Iterable[int] | None = None,
) -> Event:
    """Erase the free text of ``case`` — all of it, or that of the events whose sequence
    numbers are in ``events`` — and record the erasure as one new event, which is returned.

    The texts (and their salts) are removed from the history; each erased field then reads
    as :data:`~rjflow.ERASED` in the record (``Closure.note``, ``AgreementAction.what``), the
    chain still verifies and the case still replays.  Save the case afterwards (a store's
    ``save`` deletes the erased texts there too; a saved document must be written again,
    and older copies and backups erased by the application).

    ``at`` (timezone-aware, not before the case's last change) and ``actor`` (an opaque id)
    are when and by whom; ``reason`` why.  Raises :class:`~rjflow.InvalidInput`, changing
    nothing, when there is no free text left to erase, a sequence number is not an event of
    the case holding free text, or ``case``/``at``/``actor``/``reason`` are malformed.
    """
    of_type("case", case, Case, "a rjflow Case")
    at = aware_datetime("at", at)
    _check_id("actor", actor)
    try:
        why = ErasureReason(reason.value if isinstance(reason, ErasureReason) else reason)
    except ValueError:
        raise InvalidInput(
            f"'reason' must be one of {', '.join(repr(r.value) for r in ErasureReason)}."
        ) from None
    rec = case.record
    if at < rec.updated_at:
        raise InvalidInput(
            f"'at' ({at.isoformat()}) is earlier than the case's last change "
            f"({rec.updated_at.isoformat()}); record changes in the order they happened."
        )
    history = case.history
    wanted = _chosen(events, history)
    targets = [
        (e.sequence, pointer)
        for e in history
        if wanted is None or e.sequence in wanted
        for pointer in event_commitments(e)
        if pointer in e.texts
    ]
    if not targets:
        raise InvalidInput(
            "There is no free text left to erase"
            + (" in the events chosen." if wanted is not None else " in this case.")
        )
    erased = {seq: {p for s, p in targets if s == seq} for seq, _ in targets}
    kept = [
        attrs.evolve(
            e, texts={p: t for p, t in e.texts.items() if p not in erased.get(e.sequence, ())}
        )
        if e.sequence in erased
        else e
        for e in history
    ]
    erasure = Event.create(
        sequence=len(history) + 1,
        at=at,
        actor=actor,
        action=ERASE_ACTION,
        data={
            "reason": why.value,
            "texts": [{"sequence": seq, "field": pointer} for seq, pointer in targets],
        },
        from_state=rec.state.value,
        to_state=None,
        previous_hash=history[-1].hash,
    )
    rebuilt = replay([*kept, erasure], policy=case.policy, migrated_from=case._migrated_from)
    # Nothing below can fail: the case changes whole or not at all.
    case._record = rebuilt._record
    case._events = rebuilt._events
    return erasure


def erase_free_text_in(
    document: Mapping[str, Any] | str | bytes,
    *,
    at: datetime,
    actor: str,
    reason: ErasureReason | str = ErasureReason.SUBJECT_REQUEST,
    events: Iterable[int] | None = None,
    policy: Policy = LONDON_CRC,
    keyring: Keyring | None = None,
) -> dict[str, Any]:
    """Erase free text in a saved document (a dict, or JSON text): the document to write back.

    The document is loaded (and verified) as :func:`rjflow.serialization.from_dict` does,
    with ``keyring`` when given; its free text is erased as :func:`erase_free_text` does; and
    it is saved again — sealed under the keyring's current key, with a fresh snapshot when it
    had one.  The caller replaces the stored copy with the result (and erases older copies).
    Text is read by the same reader as :func:`~rjflow.serialization.loads` (see
    ``docs/format.md``, "Reading rules").  Raises what loading and :func:`erase_free_text`
    raise, and :class:`~rjflow.InvalidInput`, changing nothing, when the document is sealed (has
    ``integrity``) and no ``keyring`` is given; the input is never changed.
    """
    data: Any = document
    if isinstance(document, str | bytes):
        data = read_document(document)  # the one reader: same rules as loads
    if keyring is None and isinstance(data, Mapping) and "integrity" in data:
        raise InvalidInput(
            "The document is sealed with a key: pass keyring= (the keyring that sealed it) so "
            "the erased document can be sealed again; without it the seal would be dropped."
        )
    case = from_dict(data, policy=policy, keyring=keyring)
    had_snapshot = keyring is not None and "snapshot" in data
    erase_free_text(case, at=at, actor=actor, reason=reason, events=events)
    return to_dict(case, keyring=keyring, snapshot=had_snapshot)


def _chosen(events: Iterable[int] | None, history: tuple[Event, ...]) -> set[int] | None:
    if events is None:
        return None
    if isinstance(events, str | bytes) or not hasattr(events, "__iter__"):
        raise InvalidInput("'events' must be a list of event sequence numbers, or None for all.")
    chosen = set()
    for seq in events:
        if type(seq) is not int or not 1 <= seq <= len(history):
            raise InvalidInput(
                f"'events' must hold sequence numbers of this case's events, 1 to {len(history)}."
            )
        if not event_commitments(history[seq - 1]):
            raise InvalidInput(f"Event {seq} holds no free text to erase.")
        chosen.add(seq)
    return chosen
