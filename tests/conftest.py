"""Shared test settings.

Hypothesis profiles: ``ci`` (what ``make test`` and CI run) is thorough and deterministic;
``dev`` is quick for local iteration.  Choose with ``HYPOTHESIS_PROFILE``; the default is dev.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    # 1,300 random histories: about 84% of them run the full 80 steps, so over 1,000 have
    # 50 steps or more (see --hypothesis-show-statistics, "steps: 50+").
    max_examples=1300,
    stateful_step_count=80,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=100,
    stateful_step_count=60,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# -- Hypothesis statistics go to a file, not the screen ---------------------------------------
# Hypothesis attaches each test's statistics to its report; printed, they bury the pass/fail
# summary under ~1,600 lines. They are written to STATISTICS instead, and one line points there.

STATISTICS = Path(os.environ.get("RJFLOW_STATISTICS", "out/hypothesis-statistics.txt"))
_STATS_KEY = "_hypothesis_stats"  # where hypothesis' pytest plugin keeps them on a report
_collected: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    stats = report.__dict__.get(_STATS_KEY)
    if stats:
        _collected.append(stats)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _collected:
        return
    STATISTICS.parent.mkdir(parents=True, exist_ok=True)
    STATISTICS.write_text("\n\n".join(_collected) + "\n", encoding="utf-8")
    stateful = [s for s in _collected if "test_stateful" in s]
    text = "\n".join(stateful)
    reached = re.findall(r"([\d.]+%), reached (\w+)", text)
    deep = re.findall(r"([\d.]+%), steps: 50\+", text)
    terminalreporter.write_line(f"Hypothesis statistics of {len(_collected)} tests: {STATISTICS}")
    if stateful:
        terminalreporter.write_line(
            "Stateful histories: "
            + ", ".join(f"{stage} {share}" for share, stage in reached)
            + f" reached; {', '.join(deep) or 'none'} ran 50 steps or more."
        )


# -- PostgreSQL (issue 11): tests skipped for want of a server report their reason once ------
from .pgserver import pytest_runtest_makereport  # noqa: E402, F401
