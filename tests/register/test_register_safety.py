"""Safety: foreign files, schema versions, SIGKILL mid-commit, two writers at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from writer import SCHEME, customer_ids, february

import tierlab as tl
from tierlab.register import Register, RegisterError
from tierlab.register.backend import open_session
from tierlab.register.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer.py")


# ------------------------------------------------------------------ foreign and corrupted files
def test_a_csv_renamed_duckdb_is_refused_by_name(tmp_path):
    path = tmp_path / "register.duckdb"
    path.write_text("customer_id,tier\nC1,Gold\n")
    with pytest.raises(RegisterError, match=f"{path}: not a tierlab register"):
        Register(path)
    assert path.read_text().startswith("customer_id")  # left as it was


def test_a_corrupted_register_is_refused_by_name(tmp_path):
    path = tmp_path / "register.duckdb"
    Register(path)
    data = bytearray(path.read_bytes())
    data[0:4096] = b"\xff" * 4096  # the header is gone
    path.write_bytes(bytes(data))
    with pytest.raises(RegisterError, match=str(path)):
        Register(path)


def test_another_duckdb_database_is_not_taken_over(tmp_path):
    path = tmp_path / "sales.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.close()
    with pytest.raises(RegisterError, match=r"not a tierlab register.*\['orders'\]"):
        Register(path)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(RegisterError, match="is a directory"):
        Register(tmp_path)


def test_schema_version_is_recorded_and_a_newer_one_refused(target):
    Register(target)
    with open_session(target, 5) as db:
        rows = db.rows("SELECT version, app FROM schema_version ORDER BY version")
        assert rows == [(v, "tierlab-register") for v in range(1, SCHEMA_VERSION + 1)]
        db.execute("INSERT INTO schema_version (version, app, description, applied_at) "
                   "VALUES (?, 'tierlab-register', 'future', CURRENT_TIMESTAMP)",
                   (SCHEMA_VERSION + 1,))
    with pytest.raises(RegisterError, match=f"schema version {SCHEMA_VERSION + 1}.*newer"):
        Register(target)


def test_a_database_with_clashing_tables_is_refused(pg_url):
    with open_session(pg_url, 5) as db:
        db.execute("CREATE TABLE reviews (id INTEGER)")
    with pytest.raises(RegisterError, match=r"\['reviews'\] but no schema_version"):
        Register(pg_url)


def test_an_unreachable_server_is_named_without_its_password():
    url = "postgresql://me:secret@127.0.0.1:1/nowhere"
    with pytest.raises(RegisterError, match=r"postgresql://me:\*\*\*@127.0.0.1:1/nowhere"
                       ) as info:
        Register(url, timeout=1)
    assert "secret" not in str(info.value)


# ------------------------------------------------------------------ processes
def _seed(target: str, n: int) -> None:
    ids = customer_ids(n)
    state = pd.DataFrame({"customer_id": ids, "tier": "Low", "since": "2025-01-31"})
    changes = pd.DataFrame({"customer_id": ids, "to_tier": "Low", "direction": "new",
                            "rule": "initial", "reason": "first review"})
    Register(target).commit_review("2025-01-31", tl.TierScheme.from_dict(SCHEME), state,
                                   changes, data_fingerprint="jan", ran_by="seed")


def _writer(target: str, n: int, tier: str, tag: str, pause_at: str = "",
            pause: float = 0.0, timeout: float = 30.0,
            release: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WRITER), target, str(n), tier, tag, pause_at, str(pause),
         str(timeout), *([str(release)] if release else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(proc: subprocess.Popen, line: str, limit: float = 120.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + limit
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        got = proc.stdout.readline().strip()
        if not got and proc.poll() is not None:
            raise AssertionError(f"writer ended before {line!r}: {seen} {proc.stderr.read()}")
        seen.append(got)
        if got.startswith(line):
            return seen
    raise AssertionError(f"writer did not reach {line!r} in {limit} s: {seen}")


def _feb_rows(target: str) -> tuple[int, int, int]:
    with open_session(target, 60) as db:
        return tuple(int(db.rows(f"SELECT COUNT(*) FROM {t} WHERE review_date = ?",
                                 (pd.Timestamp("2025-02-28").date(),))[0][0])
                     for t in ("reviews", "tier_state", "changes"))  # type: ignore[return-value]


@pytest.mark.slow
@pytest.mark.parametrize("killed_after", ["tier_state", "changes"])
def test_sigkill_mid_commit_leaves_the_previous_review(target, killed_after):
    n = 50_000
    _seed(target, n)
    proc = _writer(target, n, "Mid", "killed", pause_at=killed_after, pause=120)
    _wait_for(proc, killed_after)  # rows written inside the open transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    reg = Register(target)  # opens cleanly
    assert reg.last_review() == pd.Timestamp("2025-01-31")
    assert _feb_rows(target) == (0, 0, 0)
    assert (reg.state()["tier"] == "Low").all() and len(reg.state()) == n
    # the lock died with the writer: the review can be committed now
    state, changes = february(n, "High", "retry")
    res = reg.commit_review("2025-02-28", tl.TierScheme.from_dict(SCHEME), state, changes,
                            data_fingerprint="retry")
    assert res.committed and _feb_rows(target) == (1, n, n)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.5])
def test_sigkill_at_any_moment_gives_all_or_nothing(target, delay):
    n = 100_000
    _seed(target, n)
    proc = _writer(target, n, "Mid", "timed")
    _wait_for(proc, "locked")
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    rows = _feb_rows(target)
    assert rows in [(0, 0, 0), (1, n, n)], rows
    reg = Register(target)
    assert reg.last_review() == pd.Timestamp("2025-02-28" if rows[0] else "2025-01-31")


@pytest.mark.slow
@pytest.mark.parametrize("timeout, loser", [(60.0, "noop"), (0.5, "busy")],
                         ids=["waits", "fails-cleanly"])
def test_two_writers_at_once_never_interleave(target, tmp_path, timeout, loser):
    n = 2_000
    _seed(target, n)
    release = tmp_path / "release"
    first = _writer(target, n, "Mid", "A", pause_at="tier_state", pause=120, release=release)
    _wait_for(first, "locked")  # A holds the lock, its rows half written, until released
    second = _writer(target, n, "High", "B", timeout=timeout)
    if loser == "busy":
        out_b = _wait_for(second, "result")[-1]  # B gave up while A still held the lock
        release.touch()
    else:
        _wait_for(second, "start")
        time.sleep(1.0)  # B is now queued behind A
        release.touch()
        out_b = _wait_for(second, "result")[-1]
    out_a = _wait_for(first, "result")[-1]
    first.wait(30)
    second.wait(30)
    assert out_a == "result committed"
    assert out_b.startswith(f"result {loser}"), out_b
    reg = Register(target)
    state = reg.state()
    assert len(state) == n and (state["tier"] == "Mid").all()
    changes = reg.changes()
    feb = changes[changes["review"] == pd.Timestamp("2025-02-28")]
    assert len(feb) == n and (feb["reason"] == "A").all()
    assert reg.reviews()["ran_by"].tolist() == ["seed", "A"]
