"""The read-only ``dict`` that event data and blocker parameters are made of.

A value rjflow hands out must not be changed by its holder (an event's data is part of the
accepted history; a blocker's parameters are part of its reason).  :class:`ReadOnlyDict` *is*
a ``dict`` (so JSON encoders, cattrs and ``==`` treat it as one) filled once when it is made,
refusing every change with ``TypeError`` (the subclass says why), hashing by its items and
copying and pickling to itself.  It imports nothing from rjflow: it is the bottom of both
:mod:`rjflow._frozen` and :mod:`rjflow.blocker`.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn, Self

__all__ = ["ReadOnlyDict"]


class ReadOnlyDict(dict[str, Any]):
    """A ``dict`` that refuses every change; ``refusal`` is the ``TypeError``'s message."""

    __slots__ = ()
    refusal: ClassVar[str] = "This value is read-only."

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # Filled here, once: calling ``__init__`` again changes nothing.
        self = super().__new__(cls)
        dict.update(self, *args, **kwargs)
        return self

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError(self.refusal)

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, _memo: object) -> Self:
        return self
