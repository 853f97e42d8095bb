"""Where a report from JSON Lines spends its time: the phases of one pass, from a profile.

    python bench/reporting_profile.py --size 2000            # replay (each history replayed)
    python bench/reporting_profile.py --size 2000 --sealed   # sealed snapshots, with a keyring

Runs ``report(iter_jsonl(...))`` once under cProfile over bench/reporting.py's caseload file
(made there first) and prints each phase's share of the profiled time: reading and parsing
the JSON (the one reader's checks included), structuring the events, verifying the hash chain
and seals, replaying the events through the rules or taking the record from the snapshot,
the report's own facts and tally.  Shares, not times: the profiler slows small calls most, so
use bench/reporting.py for seconds; the shares say which part a change must make cheaper.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reporting import RING, caseload_file
from rjflow.caseload import iter_jsonl
from rjflow.reporting import Period, build_report, case_facts

#: (phase, (file, function, called from)) whose cumulative time is the phase's; no phase
#: nests in another.  Names of rjflow's loading internals: a phase whose function is renamed
#: shows 0.0% and its time goes to "the rest".
PHASES = (
    ("read and parse the JSON (the one reader's checks)", ("_reader.py", "parse", None)),
    ("structure the events (cattrs)", ("serialization.py", "<listcomp>", "_load_current")),
    ("verify the hash chain", ("serialization.py", "_verify_history", None)),
    ("verify the seals", ("serialization.py", "_check_integrity", None)),
    ("replay the events through the rules", ("serialization.py", "_replay", None)),
    ("the record from the sealed snapshot", ("serialization.py", "_from_snapshot", None)),
    ("the report's facts (case_facts)", ("reporting.py", "case_facts", None)),
    ("the report's tally (build_report)", ("reporting.py", "add", None)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sealed", action="store_true")
    args = parser.parse_args()
    path, _ = caseload_file(args.size, args.seed, args.sealed)
    keyring = RING if args.sealed else None
    period = Period.days(date(2026, 1, 1), date(2026, 12, 31))
    profile = cProfile.Profile()
    profile.enable()
    build_report((case_facts(c) for c in iter_jsonl(path, keyring=keyring)), period)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max(ct for (_f, _l, _n), (_cc, _nc, _tt, ct, _c) in stats.items())
    print(f"{args.size} cases, {'sealed' if args.sealed else 'replay'}; profiled {total:.2f} s")
    seen = 0.0
    for phase, (filename, name, caller) in PHASES:
        spent = sum(
            ct
            for (f, _line, n), (_cc, _nc, _tt, ct, callers) in stats.items()
            if f.endswith(filename)
            and n == name
            and (caller is None or any(c[2] == caller for c in callers))
        )
        seen += spent
        print(f"  {phase:<52} {spent / total:6.1%}")
    rest = "the rest (the loop, opening the case, the rest of loading)"
    print(f"  {rest:<52} {1 - seen / total:6.1%}")


if __name__ == "__main__":
    main()
