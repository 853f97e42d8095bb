"""Closing a case early, with a reason from the fixed list (practice, inferred)."""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    ClosureReason,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    Close,
    Input,
)
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
)


@_guard
def closure_reason_valid(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A closure has a reason from the fixed list; 'other' needs a note (practice, inferred)."""
    if not isinstance(inp, Close):
        return
    if inp.reason is ClosureReason.COMPLETED:
        yield _block(
            "use_complete",
            "A case is completed with the 'complete' action once its reviews are done; close is "
            "for ending a case early, with another reason.",
        )
    elif inp.reason is ClosureReason.OTHER and not (inp.note or "").strip():
        yield _block(
            "closure_note_required",
            "Closing for an 'other' reason needs a note saying why; add a note.",
        )
