"""``python -m rjflow``: the same as the ``rjflow`` command."""

from rjflow.cli import run

run()
