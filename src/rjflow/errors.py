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

from rjflow.blocker import Blocker

__all__ = [
    "ActionRefused",
    "CaseExists",
    "CaseNotFound",
    "ConcurrencyConflict",
    "CorruptRecord",
    "HistoryTampered",
    "IntegrityError",
    "InvalidDocument",
    "InvalidInput",
    "InvalidWorkflow",
    "PolicyChanged",
    "PolicyMismatch",
    "RJFlowError",
    "SourceUnavailable",
    "StoreUnavailable",
    "UnknownAction",
]


_ACTION_NAME = re.compile(r"[a-z_]{1,40}")


class RJFlowError(Exception):
    """The base of every error rjflow raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (worker pools, task queues): rebuild from the
        # message and the attributes, not by calling ``__init__`` again with the wrong args.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[RJFlowError], args: tuple[object, ...], state: dict[str, object]) -> object:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidInput(RJFlowError, ValueError):
    """An argument is malformed: the wrong type, out of range, or a naive datetime.

    Nothing was changed.  The message names the argument and says what it must be.
    """


class UnknownAction(RJFlowError, ValueError):
    """An action (trigger or record-keeping action) name is not part of the workflow.

    ``name`` is the name given when it is shaped like an action name (``[a-z_]{1,40}``), else
    None: anything else may be text meant for somewhere else, such as a person's name, and an
    error's attributes end up in logs too.
    """

    def __init__(self, name: str, known: Sequence[str]) -> None:
        shaped = isinstance(name, str) and _ACTION_NAME.fullmatch(name) is not None
        self.name: str | None = name if shaped else None
        self.known = tuple(known)
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


class PolicyMismatch(InvalidDocument):
    """A saved case records that another policy judged it, and the load named no policy.

    Loading it under the default would judge its history by rules its service never set, so
    rjflow refuses rather than choose: pass ``policy=`` (the service's policy, for example
    ``Policy.from_toml(path)``).  ``recorded`` is the document's policy fingerprint (hex).
    """

    def __init__(self, message: str, *, recorded: str) -> None:
        self.recorded = recorded
        super().__init__(message, path="policy.fingerprint")

    def __reduce__(self) -> tuple[object, ...]:
        return (_policy_mismatch, (str(self), self.recorded))


def _policy_mismatch(message: str, recorded: str) -> PolicyMismatch:
    return PolicyMismatch(message, recorded=recorded)


class PolicyChanged(RJFlowError, UserWarning):
    """A warning (a ``UserWarning``, and an ``RJFlowError`` where warnings are turned into
    errors): a saved case was loaded, by the caller's explicit choice (``policy=``),
    under a policy other than the one its document records; its history was replayed and
    judged under the policy given.  ``recorded`` and ``given`` are the two fingerprints (hex).

    Silence it where re-judging is intended (``warnings.simplefilter("ignore",
    PolicyChanged)``); turn it into an error with ``"error"``.
    """

    def __init__(self, message: str, *, recorded: str, given: str) -> None:
        self.recorded = recorded
        self.given = given
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_policy_changed, (str(self), self.recorded, self.given))


def _policy_changed(message: str, recorded: str, given: str) -> PolicyChanged:
    return PolicyChanged(message, recorded=recorded, given=given)


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

    ``expected_version``: the version the saving copy was loaded at (what ``save`` was
    given); ``actual_version``: the version the store holds.  Load the case again, re-apply
    the change and save again.
    """

    def __init__(self, case_id: str, expected_version: int, actual_version: int) -> None:
        self.case_id = case_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"Case {case_id} was changed by someone else: this copy was loaded at version "
            f"{expected_version} but the store now holds version {actual_version}. Nothing "
            "was saved; load the case again, repeat the change and save again."
        )


class CaseNotFound(RJFlowError, KeyError):
    """The store holds no case with this id.  ``case_id`` is the (validated) id asked for.

    A ``KeyError`` too, so ``except KeyError`` around a lookup keeps working.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(
            f"The store has no case {case_id}. Check the id, or save the case before loading it."
        )

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class CaseExists(ConcurrencyConflict):
    """A *new* case (``expected_version=0``) was saved under an id the store already holds.

    Nothing was written.  ``actual_version`` is the stored case's version.  A subclass of
    :class:`ConcurrencyConflict`, so code that reloads and retries on conflicts keeps working.
    """

    def __init__(self, case_id: str, actual_version: int) -> None:
        super().__init__(case_id, 0, actual_version)
        self.args = (
            f"The store already holds a case {case_id} (version {actual_version}); nothing was "
            "saved. Give the new case an id of its own, or load the stored case to change it.",
        )


class CorruptRecord(InvalidDocument):
    """A row of the store cannot be read back as an event: it was altered or damaged outside
    rjflow.  ``case_id`` names the case and ``sequence`` the event (when it is readable); the
    row's content is never repeated."""

    def __init__(self, message: str, *, case_id: str, path: str | None, sequence: int | None):
        self.case_id = case_id
        super().__init__(message, path=path, sequence=sequence)


class StoreUnavailable(RJFlowError, OSError):
    """The store's database cannot be opened or used: its folder does not exist, it may not be
    written, it is not an SQLite database, or another writer held it longer than ``timeout``.

    Nothing was written.  The message says what to check; ``path`` is the database path the
    application gave (kept out of the message).
    """

    path: str | None = None


class SourceUnavailable(RJFlowError, OSError):
    """A file given to read (``load_jsonl``'s path) cannot be opened or read: it does not
    exist, is a folder, or may not be read.  ``strerror`` and ``errno`` are the system's;
    ``path`` is the path given (kept out of the message, which never repeats it).
    """

    path: str | None = None

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    @classmethod
    def reading(cls, what: str, exc: OSError, path: str | None = None) -> SourceUnavailable:
        """The error for ``exc``, raised while reading ``what`` ("The JSON Lines file"): the
        system's reason and what to check, never the path (kept in ``path``)."""
        error = cls(
            f"{what} cannot be read ({exc.strerror or 'unreadable'}); check that the path "
            "names an existing file you may read."
        )
        error.errno, error.strerror, error.path = exc.errno, exc.strerror, path
        return error
