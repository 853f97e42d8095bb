"""The exceptions rjflow raises.

Every exception derives from :class:`RJFlowError`; where one resembles a built-in it
subclasses that too, so ``except ValueError`` keeps working in code that does not know
rjflow.  Messages are full sentences that say what was wrong and what would make it right.
They never contain names, addresses, offence narratives or notes: parties appear only by
their opaque ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rjflow.guards import Blocker

__all__ = [
    "ActionRefused",
    "ConcurrencyConflict",
    "HistoryTampered",
    "IntegrityError",
    "InvalidDocument",
    "InvalidInput",
    "InvalidWorkflow",
    "RJFlowError",
    "UnknownAction",
]


class RJFlowError(Exception):
    """The base of every error rjflow raises on purpose."""


class InvalidInput(RJFlowError, ValueError):
    """An argument is malformed: the wrong type, out of range, or a naive datetime.

    Nothing was changed.  The message names the argument and says what it must be.
    """


class UnknownAction(RJFlowError, ValueError):
    """An action (trigger or record-keeping action) name is not part of the workflow."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(
            f"{name!r} is not an action of the restorative justice workflow; "
            f"use one of: {', '.join(sorted(self.known))}."
        )


class ActionRefused(RJFlowError):
    """The programme's rules do not allow the action now.

    ``blockers`` lists *every* reason, each with a stable ``code`` and a message a caseworker
    can act on.  The case is exactly as it was before the attempt.
    """

    def __init__(
        self, *, case_id: str, state: str, action: str, blockers: Sequence[Blocker]
    ) -> None:
        self.case_id = case_id
        self.state = state
        self.action = action
        self.blockers = tuple(blockers)
        reasons = " ".join(f"({i}) {b.message}" for i, b in enumerate(self.blockers, 1))
        noun = "reason" if len(self.blockers) == 1 else "reasons"
        super().__init__(
            f"Case {case_id}: {action.replace('_', ' ')} is not allowed at the "
            f"{state.replace('_', ' ')} stage, for {len(self.blockers)} {noun}: {reasons}"
        )

    @property
    def codes(self) -> tuple[str, ...]:
        """The blockers' codes, in order: stable values for programs to test."""
        return tuple(b.code for b in self.blockers)


class InvalidWorkflow(RJFlowError):
    """A workflow table or policy is inconsistent; the message names what to fix."""


class InvalidDocument(RJFlowError, ValueError):
    """A saved case (a dict, JSON text or a JSON Lines row) cannot be loaded.

    ``path`` points at the offending part of the document (for example
    ``events[3].data.duration_seconds``) when it is known; ``sequence`` names the first
    event that could not be replayed, when the problem lies in one.
    """

    def __init__(self, message: str, *, path: str | None = None, sequence: int | None = None):
        self.path = path
        self.sequence = sequence
        super().__init__(message)


class HistoryTampered(InvalidDocument):
    """A case's history fails verification: an event was altered, removed, reordered or
    inserted.  ``sequence`` is the first event whose hash or position does not check out."""


class IntegrityError(HistoryTampered):
    """A document loaded with the application's keyring fails its keyed integrity check: the
    integrity seal is missing, made with a key the keyring does not hold, does not match, or
    was made over another case or another length of history (newest events removed or added).

    The message says what was found and what to do; ``path`` points at the part of the
    document concerned.  Only a holder of the key can make a seal that verifies.
    """


class ConcurrencyConflict(RJFlowError):
    """Another writer saved the case first; nothing was written.

    Load the case again, re-apply the change and save again.
    """

    def __init__(self, case_id: str, expected_version: int, actual_version: int) -> None:
        self.case_id = case_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"Case {case_id} was changed by someone else: this copy is at version "
            f"{expected_version} but the store holds version {actual_version}. Nothing was "
            "saved; load the case again, repeat the change and save again."
        )
