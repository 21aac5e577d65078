"""Register fixtures: a DuckDB file per test, and a real PostgreSQL server per session.

The server is Debian's ``postgresql`` (``.ci/install-postgres``): ``initdb`` into a temporary
folder as the ``postgres`` user when running as root (initdb refuses root), ``pg_ctl start`` on
a free port of 127.0.0.1, one new database per test, stopped at the end of the session. Without
the binaries the PostgreSQL cases are skipped with a warning; under CI they fail instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
import warnings
from pathlib import Path

import pytest

import tierlab as tl

ENGINES = ["duckdb", "postgresql"]
SCHEME = {
    "name": "Spend", "review": "monthly",
    "tiers": [{"name": "Low", "label": "普通"},
              {"name": "Mid", "label": "银卡",
               "when": {"metric": "spend", "window": "1M", "op": ">=", "value": 100}},
              {"name": "High", "label": "金卡",
               "when": {"metric": "spend", "window": "1M", "op": ">=", "value": 500}}],
}


def _pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    candidates = ([found] if found else []) + sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    for c in candidates:
        if Path(c).exists() and (Path(c).parent / "pg_ctl").exists():
            return Path(c).parent
    return None


def _missing(msg: str) -> None:
    msg = f"PostgreSQL register tests NOT RUN: {msg}; run .ci/install-postgres"
    if os.environ.get("CI"):
        pytest.fail(msg)
    warnings.warn(msg, stacklevel=2)
    pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server():
    """Host, port and superuser of a PostgreSQL server running for this test session."""
    bindir = _pg_bindir()
    if bindir is None:
        _missing("initdb/pg_ctl not found")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install 'tierlab[postgres]')")
    base = Path(tempfile.mkdtemp(prefix="tierlab-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--locale=C", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres"}
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server) -> str:
    """A new, empty database on the session's server."""
    import psycopg

    name = f"reg_{uuid.uuid4().hex[:12]}"
    base = f"postgresql://{pg_server['user']}@{pg_server['host']}:{pg_server['port']}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


@pytest.fixture(params=ENGINES)
def target(request, tmp_path) -> str:
    """Where a new register lives: a DuckDB file, or a PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "reports" / "register.duckdb")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def scheme() -> tl.TierScheme:
    return tl.TierScheme.from_dict(SCHEME)
