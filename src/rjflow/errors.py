"""The exceptions rjflow raises.

Every exception derives from :class:`RJFlowError`; where one resembles a built-in it
subclasses that too, so ``except ValueError`` keeps working in code that does not know
rjflow.  Messages are full sentences that say what was wrong and what would make it right.
They never contain names, addresses, offence narratives or notes: parties appear only by
their opaque ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rjflow.guards import Blocker

__all__ = [
    "ActionRefused",
    "ConcurrencyConflict",
    "HistoryTampered",
    "InvalidDocument",
    "InvalidInput",
    "InvalidWorkflow",
    "RJFlowError",
    "UnknownAction",
]


_ACTION_NAME = re.compile(r"[a-z_]{1,40}")


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
        # The name is quoted only when it is shaped like an action name: anything else may be
        # text the caller meant for somewhere else, such as a person's name.
        shaped = isinstance(name, str) and _ACTION_NAME.fullmatch(name) is not None
        what = f"{name!r} is not" if shaped else "The action name given is not"
        super().__init__(
            f"{what} an action of the restorative justice workflow; "
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
