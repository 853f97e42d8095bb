"""A real PostgreSQL server for the tests: ``RJFLOW_POSTGRES_DSN`` if set, otherwise one the
test run starts itself from the machine's PostgreSQL binaries (``initdb`` and ``pg_ctl`` in a
temporary folder, listening on a unix socket only), stopped when the run ends.

Without binaries the PostgreSQL tests are skipped with one line saying why and how to run
them; under ``CI=true`` that is a failure instead (CI installs Debian's ``postgresql``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HOW = (
    "PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, pg_ctl) were found; "
    "install them (Debian: apt-get install postgresql) or set RJFLOW_POSTGRES_DSN to a server "
    "the tests may create schemas in."
)


def _binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in roots:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs a PostgreSQL server for the store contract: {reason}")
    pytest.skip(reason)


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A libpq connection string to a PostgreSQL server the tests may use."""
    given = os.environ.get("RJFLOW_POSTGRES_DSN")
    if given:
        yield given
        return
    binaries = _binaries()
    if binaries is None:
        _missing(HOW)
        return
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _missing(
                "PostgreSQL tests skipped: running as root needs a 'postgres' OS user to run "
                "the server (Debian's postgresql package makes one), or set RJFLOW_POSTGRES_DSN."
            )
            return
        if shutil.which("runuser") is None:
            _missing("PostgreSQL tests skipped: running as root needs runuser (util-linux).")
            return
    folder = Path(tempfile.mkdtemp(prefix="rjflow-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    log = folder / "server.log"
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{folder}' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        _missing(f"PostgreSQL tests skipped: the test server did not start ({exc}). {tail}")
        return
    try:
        yield f"host={folder} dbname=postgres user=postgres"
    finally:
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
            check=False,
            timeout=120,
        )
        shutil.rmtree(folder, ignore_errors=True)
