"""rjflow is quiet in an application's logs by default, as a library should be.

- The ``rjflow`` logger has a :class:`logging.NullHandler` (the Python logging HOWTO,
  "Configuring Logging for a Library"): rjflow never configures handlers or levels, and
  without a configuration of the application's own nothing rjflow logs is printed.
- ``transitions``, the engine under rjflow, logs about ten DEBUG and two INFO lines for every
  stage change, on its module logger ``transitions.core``; its messages hold the machine's
  name, which rjflow sets to the policy's name.  A :class:`logging.Filter` on that logger
  drops its DEBUG and INFO records **while rjflow is dispatching an action** (a context
  variable set around the dispatch, so it is exact per thread and per asyncio task).  Its
  WARNING and ERROR records always pass, and an application that uses ``transitions``
  directly keeps every record of its own machines: the logger's level and handlers are never
  touched.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

__all__ = ["DISPATCHING", "ENGINE_LOGGERS", "EngineChatterFilter"]

#: True while rjflow dispatches an action through transitions (see :mod:`rjflow.workflow`).
DISPATCHING: ContextVar[bool] = ContextVar("rjflow_dispatching", default=False)

#: The loggers transitions uses for the machines rjflow builds.
ENGINE_LOGGERS = ("transitions.core",)


class EngineChatterFilter(logging.Filter):
    """Drops transitions' records below WARNING that are emitted during an rjflow dispatch."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not DISPATCHING.get()


def _install() -> None:
    rjflow_logger = logging.getLogger("rjflow")
    if not any(isinstance(h, logging.NullHandler) for h in rjflow_logger.handlers):
        rjflow_logger.addHandler(logging.NullHandler())
    for name in ENGINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, EngineChatterFilter) for f in logger.filters):
            logger.addFilter(EngineChatterFilter())


_install()
