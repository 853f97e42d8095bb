"""Run the caseworker app: ``python -m examples.caseworker_app [--db PATH] [--port N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from examples.caseworker_app import create_app, seed


def main() -> None:
    """Open (and on first use seed) the store, then serve the app on localhost."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="out/caseworker.sqlite", help="the SQLite store")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    app = create_app(args.db)
    seed(args.db)
    app.run(host="127.0.0.1", port=args.port)


main()
