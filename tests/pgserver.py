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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


class NoServer(Exception):
    """No PostgreSQL server can be started here; the message says why and what to do."""


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def temporary_server() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary folder (unix socket only, no durability: it
    is for tests and benchmarks), yield its DSN, stop and remove it.  NoServer if impossible."""
    binaries = _binaries()
    if binaries is None:
        raise NoServer(HOW)
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise NoServer(
                "PostgreSQL tests skipped: running as root needs a 'postgres' OS user to run "
                "the server (Debian's postgresql package makes one), or set RJFLOW_POSTGRES_DSN."
            ) from None
        if shutil.which("runuser") is None:
            raise NoServer("PostgreSQL tests skipped: running as root needs runuser (util-linux).")
    folder = Path(tempfile.mkdtemp(prefix="rjflow-pg-"))
    data = folder / "data"
    if owner is not None:
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
        tail = log.read_text(errors="replace")[-300:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        reason = f"{exc} {getattr(exc, 'stderr', b'') or b''!r} {tail}".replace("\n", " ")
        raise NoServer(
            f"PostgreSQL tests skipped: the test server did not start: {reason[:400]}; set "
            "RJFLOW_POSTGRES_DSN to a server instead."
        ) from None
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


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A libpq connection string to a PostgreSQL server the tests may use."""
    given = os.environ.get("RJFLOW_POSTGRES_DSN")
    if given:
        yield given
        return
    try:
        server = temporary_server()
        dsn = server.__enter__()
    except NoServer as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs a PostgreSQL server for the store contract: {exc}")
        pytest.skip(str(exc))
    try:
        yield dsn
    finally:
        server.__exit__(None, None, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Every test skipped for want of a server is reported at one place, so ``-ra`` prints
    the reason once (``SKIPPED [N] tests/pgserver.py: ...``) instead of once per test."""
    report = yield
    longrepr = report.longrepr
    if (
        report.skipped
        and isinstance(longrepr, tuple)
        and str(longrepr[2]).startswith("Skipped: PostgreSQL tests skipped")
    ):
        report.longrepr = ("tests/pgserver.py", 1, longrepr[2])
    return report
