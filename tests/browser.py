"""Debian's headless Chromium for the tests that open a page (the caseload report, the example
app): where it is, the flags it needs here, and what a test does without it.

No tool downloads a browser of its own.  Without Chromium a test is skipped with one line
saying how to get it; under ``CI=true`` it fails instead, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

#: Chromium as the machine's closed network needs it: no sandbox (CI runs as root), no GPU,
#: and none of the background connections it would try at start.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HOW = "apt-get install -y chromium; pip install -e '.[test]'"


def missing(why: str) -> NoReturn:
    """Skip the test, saying ``why`` and how to get what is missing; fail it under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; CI must have it ({HOW}, as .ci/run does)")
    pytest.skip(f"{why}: this test needs it ({HOW})")


def chromium() -> str:
    """The path of Debian's chromium, or :func:`missing`."""
    found = (
        "/usr/bin/chromium"
        if Path("/usr/bin/chromium").exists()
        else shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if found is None:
        missing("Debian's chromium is not installed")
    return found
