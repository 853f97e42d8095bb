"""Cases built through the public API, stopped at a given stage, for unit tests.

The builders live in :mod:`rjflow.testing` (issue 12: the suite uses what applications get);
this module re-exports them under the names the tests import, and keeps the test-only keys.
"""

from __future__ import annotations

from rjflow import Keyring
from rjflow.testing import (
    SPECIALISMS,
    T0,
    Clock,
    at_stage,
    codes,
    consent,
    new_case,
    ready_supporters,
    session,
)

__all__ = [
    "KEYRING",
    "KEY_ID",
    "SEAL_KEY",
    "SPECIALISMS",
    "T0",
    "Clock",
    "at_stage",
    "codes",
    "consent",
    "new_case",
    "ready_supporters",
    "session",
]

#: A seal key for sealed-snapshot tests (an application would use 32 random bytes).
SEAL_KEY = b"rjflow tests' sealing key, 32 B"

#: A keyring for keyed-integrity tests, and its key id.
KEY_ID = "test-2026"
KEYRING = Keyring({KEY_ID: b"rjflow tests' integrity key, 32B"}, current=KEY_ID)
