"""Shared test settings.

Hypothesis profiles: ``ci`` (what ``make test`` and CI run) is thorough and deterministic;
``dev`` is quick for local iteration.  Choose with ``HYPOTHESIS_PROFILE``; the default is dev.
"""

from __future__ import annotations

import os
from datetime import timedelta

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
