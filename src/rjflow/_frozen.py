"""Deeply read-only JSON data: what an event's ``data`` is made of.

An event is part of the accepted history; handing out a plain ``dict`` would let anyone
holding the event rewrite that history (``event.data["sentenced_on"] = ...``).  :func:`freeze`
copies JSON data into :class:`FrozenDict` and :class:`FrozenList`, which *are* ``dict`` and
``list`` (so JSON encoders, cattrs and ``==`` treat them exactly as before, and the canonical
encoding and hash are unchanged) but refuse every change with ``TypeError``.  Being immutable
all the way down, they are hashable, pickle to themselves, and copy as themselves.

>>> data = freeze({"victims": ["V1"], "note": None})
>>> data == {"victims": ["V1"], "note": None}
True
>>> data["victims"].append("V2")
Traceback (most recent call last):
...
TypeError: Event data is read-only: it is part of the accepted history.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NoReturn

from rjflow._readonly import ReadOnlyDict
from rjflow._validate import is_id, redacted

__all__ = [
    "EMPTY_DICT",
    "EMPTY_LIST",
    "FREE_TEXT_KEYS",
    "SHARE_BELOW",
    "FrozenDict",
    "FrozenList",
    "freeze",
    "frozen_texts",
    "shared_dict",
    "thaw",
]

#: The keys whose text values are free text (a closure's note, an agreement action's wording):
#: their ``repr`` is always redacted.
FREE_TEXT_KEYS = frozenset({"note", "what"})

_MESSAGE = "Event data is read-only: it is part of the accepted history."


def _refuse(*_args: object, **_kwargs: object) -> NoReturn:
    raise TypeError(_MESSAGE)


def _shown(key: object, value: object) -> str:
    if isinstance(value, str) and (key in FREE_TEXT_KEYS or not is_id(value)):
        return redacted(value)
    return repr(value)


class FrozenDict(ReadOnlyDict):
    """A ``dict`` that refuses every change; values are frozen JSON data."""

    __slots__ = ()
    refusal = _MESSAGE

    def __repr__(self) -> str:
        # Free text and anything not shaped like an id is redacted: ``log.debug("%r", event)``
        # must not write a note or a name into the application's logs.
        inner = ", ".join(f"{k!r}: {_shown(k, v)}" for k, v in self.items())
        return f"{{{inner}}}"

    def __or__(self, other: Any) -> dict[str, Any]:  # type: ignore[override]
        return {**self, **other}


class FrozenList(list[Any]):
    """A ``list`` that refuses every change; items are frozen JSON data."""

    __slots__ = ()

    def __new__(cls, *args: Any) -> FrozenList:
        self = super().__new__(cls)
        list.extend(self, *args)
        return self

    def __init__(self, *_args: Any) -> None:
        pass

    __setitem__ = __delitem__ = _refuse
    append = extend = insert = pop = remove = reverse = sort = clear = _refuse
    __iadd__ = __imul__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, _memo: object) -> FrozenList:
        return self

    def __repr__(self) -> str:
        return f"[{', '.join(_shown(None, v) for v in self)}]"


_ATOMS = frozenset({str, int, float, bool, type(None), FrozenDict, FrozenList})
_new_dict, _fill_dict = dict.__new__, dict.update
_new_list, _fill_list = list.__new__, list.extend

#: The one empty frozen dict and list: being unchangeable, every empty value can be the same
#: object (a loaded caseload holds one per event otherwise).
EMPTY_DICT: FrozenDict = _new_dict(FrozenDict)
EMPTY_LIST: FrozenList = _new_list(FrozenList)

#: Texts shorter than this are shared through ``sys.intern`` when data is frozen (keys always
#: are): ids, dates and enum values repeat across every event and case of a caseload;
#: hashes, commitments and other long texts are unique and are kept as they are.
SHARE_BELOW = 40
_intern = sys.intern


def _shared(key: str) -> str:
    return _intern(key) if type(key) is str and len(key) < SHARE_BELOW else key


def frozen_texts(value: Mapping[str, Any] | None) -> FrozenDict:
    """``value`` as a frozen dict, the shared empty one when it is empty (an event's
    ``texts``: its values are immutable :class:`~rjflow.history.FreeText` already)."""
    if not value:
        return EMPTY_DICT
    return value if type(value) is FrozenDict else FrozenDict(value)


#: Frozen dicts of a few ids, enum values, whole numbers and booleans, by their items and the
#: items' types: a caseload's events repeat them (every session "attended" for two hours).
#: Bounded: emptied when full, which only costs sharing, never correctness.
_SHARED_DICTS: dict[tuple[Any, ...], FrozenDict] = {}
_SHARED_DICTS_MAX = 4096
_SHAREABLE = frozenset({str, int, bool, type(None)})


def shared_dict(value: FrozenDict) -> FrozenDict:
    """An equal frozen dict already in use, when ``value`` holds only short texts, whole numbers,
    booleans and nulls (at most eight of them); else ``value`` itself.

    Equal means the same keys in the same order with values of the same types and values, so
    the shared dict has exactly the canonical JSON text (and hash) of ``value`` (``1`` and
    ``True`` are equal in Python but not in JSON; floats are never shared: ``0.0`` and
    ``-0.0`` are equal too).
    """
    if type(value) is not FrozenDict or len(value) > 8:
        return value
    key = []
    for k, v in value.items():
        kind = type(v)
        if kind not in _SHAREABLE or (kind is str and len(v) >= SHARE_BELOW):
            return value
        key.append((k, kind, v))
    found = _SHARED_DICTS.get(tuple(key))
    if found is not None:
        return found
    if len(_SHARED_DICTS) >= _SHARED_DICTS_MAX:
        _SHARED_DICTS.clear()
    _SHARED_DICTS[tuple(key)] = value
    return value


def freeze(value: Any) -> Any:
    """``value`` with every dict and list (also tuple) replaced by a read-only copy.

    Anything else is returned as it is (text, numbers, booleans and None are immutable; other
    objects are left for the hash check to refuse as not JSON data).
    """
    # Built with dict's and list's own methods: this runs for every event recorded or loaded.
    # Short texts are shared (``_shared``) and empty values are the shared empty ones, so a
    # loaded caseload does not hold the same key or id once per event.
    kind = type(value)
    if kind is str:
        return _shared(value)
    if kind in _ATOMS:
        return value
    if kind is dict or isinstance(value, Mapping):  # exact dict first: an ABC check is slow
        if not value:
            return EMPTY_DICT
        frozen_dict = _new_dict(FrozenDict)
        _fill_dict(
            frozen_dict,
            {
                (_intern(k) if type(k) is str else k): (
                    (_intern(v) if len(v) < SHARE_BELOW else v)
                    if type(v) is str
                    else v
                    if type(v) in _ATOMS
                    else freeze(v)
                )
                for k, v in value.items()
            },
        )
        return frozen_dict
    if kind is list or isinstance(value, list | tuple):
        if not value:
            return EMPTY_LIST
        frozen_list = _new_list(FrozenList)
        _fill_list(
            frozen_list,
            [
                (_intern(v) if len(v) < SHARE_BELOW else v)
                if type(v) is str
                else v
                if type(v) in _ATOMS
                else freeze(v)
                for v in value
            ],
        )
        return frozen_list
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable copy of frozen data (what :func:`rjflow.serialization.to_dict` hands
    out: the caller's own JSON data)."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value
