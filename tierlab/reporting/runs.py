"""Run folders of a report: fresh, running, failed, published, pruned.

A run folder ``<out>/<name>/<YYYY-MM-DD_HHMMSS>/`` holds :data:`RUNNING_MARKER` from its
creation until the run ends. A run that fails is renamed ``<stamp>_failed`` and gets
:data:`FAILED_NOTE` (why). A run whose process was killed outright (SIGKILL, power loss) cannot
clean up: its marker names a process that no longer exists, and :func:`recover_unfinished`
(called before each run) marks it failed then. Markers of live processes are left alone, so
concurrent runs into one folder never touch each other.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
from pathlib import Path

__all__ = [
    "FAILED_NOTE",
    "RUNNING_MARKER",
    "finish",
    "fresh_run_dir",
    "is_unfinished",
    "list_runs",
    "mark_failed",
    "prune_runs",
    "publish_run",
    "recover_unfinished",
    "run_stamp",
]

#: File in a run folder while its run is in progress (process id, host, start time).
RUNNING_MARKER = ".running"
#: File in a failed run folder saying why it failed.
FAILED_NOTE = "FAILED.txt"
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}_\d{6}")


def run_stamp(now: dt.datetime | None = None) -> str:
    """The name of a run folder made at ``now`` (default: now)."""
    return (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")


def fresh_run_dir(parent: Path, stamp: str) -> Path:
    """Create ``parent/stamp`` (or ``stamp-2``, ``-3`` … if taken) with its running marker."""
    candidate = parent / stamp
    i = 1
    while True:
        if not candidate.with_name(candidate.name + "_failed").exists():
            try:
                candidate.mkdir(parents=True)
                break
            except FileExistsError:  # taken, maybe by a concurrent run
                pass
        i += 1
        candidate = parent / f"{stamp}-{i}"
    marker = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": dt.datetime.now().isoformat(timespec="seconds")}
    (candidate / RUNNING_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    return candidate


def finish(run_dir: Path) -> None:
    """Remove the running marker of a run that ended (before it is published)."""
    (run_dir / RUNNING_MARKER).unlink(missing_ok=True)


def mark_failed(run_dir: Path, reason: str) -> Path:
    """Rename a run folder to ``<name>_failed``, write why, drop its marker; the new path."""
    failed = run_dir if run_dir.name.endswith("_failed") else \
        run_dir.with_name(run_dir.name + "_failed")
    if failed != run_dir:
        try:
            run_dir.rename(failed)
        except OSError:
            failed = run_dir
    try:
        (failed / FAILED_NOTE).write_text(reason.rstrip() + "\n", encoding="utf-8")
        finish(failed)
    except OSError:
        pass
    return failed


def is_unfinished(run_dir: Path) -> bool:
    """Whether a run folder's marker names a process of this host that no longer exists."""
    try:
        marker = json.loads((run_dir / RUNNING_MARKER).read_text(encoding="utf-8"))
        pid = int(marker["pid"])
        host = str(marker.get("host", ""))
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        return True  # an unreadable marker: its writer died while writing it
    if host and host != socket.gethostname():
        return False  # cannot tell from here
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a live process of another user
        return False
    return False


def recover_unfinished(name_dir: Path) -> list[Path]:
    """Mark failed the run folders whose process died without ending them; their new paths."""
    if not name_dir.is_dir():
        return []
    found = [p for p in sorted(name_dir.iterdir())
             if p.is_dir() and _DATED.match(p.name) and not p.name.endswith("_failed")
             and is_unfinished(p)]
    return [mark_failed(p, "The run did not finish: its process ended without cleaning up "
                           "(killed, e.g. by SIGKILL, or the machine stopped). Found and marked "
                           "failed by a later run.") for p in found]


def list_runs(name_dir: Path) -> list[tuple[Path, str]]:
    """The dated run folders of a notebook, newest first, each with its state.

    States: ``"ok"``, ``"running"``, ``"failed: <why>"`` (the first line of
    :data:`FAILED_NOTE`), and ``"failed: did not finish (killed?)"`` for a run whose process
    died without ending it (renamed ``_failed`` by the next run, not by listing).
    """
    if not name_dir.is_dir():
        return []
    found = []
    for p in sorted((p for p in name_dir.iterdir() if p.is_dir() and _DATED.match(p.name)),
                    key=lambda p: p.name, reverse=True):
        if p.name.endswith("_failed"):
            note = p / FAILED_NOTE
            why = note.read_text(encoding="utf-8").strip().splitlines()[:1] \
                if note.is_file() else []
            found.append((p, "failed" + (f": {why[0]}" if why else "")))
        elif (p / RUNNING_MARKER).exists():
            found.append((p, "failed: did not finish (killed?)" if is_unfinished(p)
                          else "running"))
        else:
            found.append((p, "ok"))
    return found


def publish_run(run_dir: Path, html: Path, name_dir: Path, out: Path, name: str
                ) -> tuple[Path, Path]:
    """Copy the run to ``latest/`` and its HTML to ``<out>/<name>.html``, replacing old ones."""
    latest = name_dir / "latest"
    tmp = name_dir / f".latest-new-{run_dir.name}"
    old = name_dir / f".latest-old-{run_dir.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(run_dir, tmp)
    if latest.exists():
        latest.rename(old)
    tmp.rename(latest)
    shutil.rmtree(old, ignore_errors=True)
    top = out / f"{name}.html"
    tmp_html = out / f".{name}.html.new"
    shutil.copyfile(html, tmp_html)
    os.replace(tmp_html, top)
    return latest, top


def prune_runs(name_dir: Path, keep: int, *, current: Path) -> None:
    """Delete all but the newest ``keep`` dated run folders.

    Never ``current``, ``latest`` or a run still in progress.
    """
    runs = sorted((p for p in name_dir.iterdir() if p.is_dir() and _DATED.match(p.name)),
                  key=lambda p: p.name, reverse=True)
    for old in runs[max(int(keep), 1):]:
        if old != current and not ((old / RUNNING_MARKER).exists() and not is_unfinished(old)):
            shutil.rmtree(old, ignore_errors=True)
