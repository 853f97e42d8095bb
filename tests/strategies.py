"""Hypothesis strategies shared by the stateful, property and fuzz tests.

They live in :mod:`rjflow.testing` (issue 12: the suite uses what applications get); this
module re-exports them under the names the tests import.
"""

from __future__ import annotations

from rjflow.testing import (
    POLICIES,
    SESSION_LENGTHS,
    UNKNOWN,
    inputs,
    levels,
    offences,
)
from rjflow.testing._strategies import (
    _agreement_actions,
    _ids,
    _new_party,
    _session,
    _victims,
)

__all__ = [
    "POLICIES",
    "SESSION_LENGTHS",
    "UNKNOWN",
    "_agreement_actions",
    "_ids",
    "_new_party",
    "_session",
    "_victims",
    "inputs",
    "levels",
    "offences",
]
