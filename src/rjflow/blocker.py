"""One reason an action is not allowed now: the small value every layer shares.

It sits at the bottom of the package (it imports nothing from rjflow) so that the rules that
raise blockers, the errors that carry them and the case that reports them never import one
another in a circle.
"""

from __future__ import annotations

import attrs

__all__ = ["Blocker"]


@attrs.frozen
class Blocker:
    """One reason an action is not allowed now.

    ``code`` is stable across releases (programs may branch on it); ``message`` is a full
    sentence for the caseworker; ``guard`` names the rule that raised it; ``subject`` is the
    id of the party or agreement action concerned, when there is one (a screen can highlight
    it).

    >>> b = Blocker("session_too_long", "A session lasts at most 3 h.", "a_rule")
    >>> b.code, str(b)
    ('session_too_long', 'A session lasts at most 3 h.')
    """

    code: str
    message: str
    guard: str
    subject: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_json_dict(self) -> dict[str, str | None]:
        """The blocker as JSON data: ``{"code", "message", "guard", "subject"}`` (``subject``
        null when no party or agreement action is concerned).

        >>> b = Blocker("too_long", "At most 3 h.", "a_rule", "V1")
        >>> b.to_json_dict()
        {'code': 'too_long', 'message': 'At most 3 h.', 'guard': 'a_rule', 'subject': 'V1'}
        """
        return {
            "code": self.code,
            "message": self.message,
            "guard": self.guard,
            "subject": self.subject,
        }
