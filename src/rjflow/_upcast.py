"""Reading documents saved by earlier releases: verify with their rules, then upcast.

An older document is never trusted as it is: its history is first verified with the hashing
rules *of its own schema version* (a reader per version, :data:`READERS`), which turns it into
:class:`Step` values — each accepted change as the rules see it: action, time, actor and the
input in plain JSON, free text in the clear.  Upcasters (:data:`UPCASTERS`, one function per
schema version, ``{n: steps of version n -> steps of version n + 1}``) then reshape the steps
until they are in the current shape, and :mod:`rjflow.serialization` replays them through the
current rules to build a current history (new hashes, free text moved beside the events with
fresh salts).  The old head hash and version are kept as the case's provenance
(``migrated_from`` in the saved document).

A later schema adds one reader (for the version it replaces) and one upcaster; an upcaster
reshapes each step's input by action name (:data:`V1_TO_V2_INPUTS`), since rule changes
usually rename or add an input field of one action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from rjflow._convert import structure
from rjflow.errors import InvalidDocument
from rjflow.history import Event, verify_chain

__all__ = ["READERS", "UPCASTERS", "V1_TO_V2_INPUTS", "Step", "upcast", "upcast_v1_to_v2"]


@attrs.frozen
class Step:
    """One accepted change of an older document, after its history verified: ``data`` is the
    action's input as plain JSON data (free text in the clear)."""

    action: str
    at: datetime
    actor: str
    data: Mapping[str, Any]


#: What an older document's case was: its schema version, version (event count) and the hash
#: of its last event.  Saved again as the document's ``migrated_from``.
Provenance = dict[str, Any]

Reader = Callable[[Mapping[str, Any]], tuple[list[Step], Provenance]]
Upcaster = Callable[[list[Step]], list[Step]]

_V1_TOP_KEYS = frozenset({"schema_version", "case_id", "state", "version", "events"})
_V1_EVENT_KEYS = frozenset(
    {
        "sequence",
        "at",
        "actor",
        "action",
        "data",
        "from_state",
        "to_state",
        "previous_hash",
        "hash",
    }
)


def read_v1(doc: Mapping[str, Any]) -> tuple[list[Step], Provenance]:
    """Verify a schema-1 document's history with the schema-1 rules (SHA-256 chain over the
    eight hashed fields, free text inside ``data``) and return its steps.

    A schema-1 sealed snapshot is not used (the history is replayed instead).  Raises
    :class:`~rjflow.InvalidDocument` / :class:`~rjflow.HistoryTampered` naming what failed.
    """
    extra = set(doc) - _V1_TOP_KEYS - {"snapshot"}
    missing = _V1_TOP_KEYS - set(doc)
    if extra or missing:
        raise InvalidDocument(
            "A schema-1 saved case has exactly the fields "
            f"{', '.join(sorted(_V1_TOP_KEYS))} (and optionally snapshot); "
            + (f"{len(extra)} unknown field(s). " if extra else "")
            + (f"missing: {', '.join(sorted(missing))}." if missing else ""),
            path="$",
        )
    raw_events = doc["events"]
    if not isinstance(raw_events, list):
        raise InvalidDocument("'events' must be a list of events.", path="events")
    events: list[Event] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict) or set(raw) != _V1_EVENT_KEYS:
            raise InvalidDocument(
                f"events[{index}]: a schema-1 event has exactly the fields "
                f"{', '.join(sorted(_V1_EVENT_KEYS))}.",
                path=f"events[{index}]",
                sequence=index + 1,
            )
        events.append(structure(raw, Event, f"events[{index}]"))
    verify_chain(events)
    if not events:
        raise InvalidDocument("A case history needs at least its opening event.", path="events")
    steps = [Step(e.action, e.at, e.actor, e.data) for e in events]
    return steps, {"schema_version": 1, "version": len(events), "head": events[-1].hash}


def _same(data: dict[str, Any]) -> dict[str, Any]:
    return data


#: How each action's input changes from schema 1 to schema 2, by action name; an action not
#: listed keeps its input as it is.  (Schema 2 changed only where free text is kept, which the
#: replay does, so no input changes shape yet.)
V1_TO_V2_INPUTS: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upcast_v1_to_v2(steps: list[Step]) -> list[Step]:
    """Schema-1 steps in the schema-2 shape (see :data:`V1_TO_V2_INPUTS`)."""
    return [attrs.evolve(s, data=V1_TO_V2_INPUTS.get(s.action, _same)(dict(s.data))) for s in steps]


#: Readers of earlier schema versions, by the version they read.
READERS: Mapping[int, Reader] = {1: read_v1}

#: Upcasters by the version they upcast *from*: ``UPCASTERS[n]`` makes version n + 1 steps.
UPCASTERS: Mapping[int, Upcaster] = {1: upcast_v1_to_v2}


def upcast(doc: Mapping[str, Any], version: int, current: int) -> tuple[Sequence[Step], Provenance]:
    """The steps of a document of schema ``version`` (< ``current``), verified with that
    version's rules and upcast to ``current``, with the document's provenance."""
    steps, provenance = READERS[version](doc)
    for step_from in range(version, current):
        steps = UPCASTERS[step_from](steps)
    return steps, provenance
