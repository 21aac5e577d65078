"""Run a study notebook with papermill and publish a code-free HTML report.

``run_report("segmentation", {"scheme": "data/rules/monthly_spend_strict.yaml"})`` (or
``tierlab report segmentation -p scheme ...``):

1. finds the notebook (a name from :data:`NOTEBOOKS` or a path to an ``.ipynb``);
2. checks the parameters against the notebook's ``parameters`` cell
   (:func:`~tierlab.reporting.parameters.check_parameters`): unknown names and values of the
   wrong type are rejected before anything runs (:class:`ParameterError`);
3. executes it with papermill (kernel ``python3``, working directory = the run folder) into a
   fresh run folder ``<out>/<name>/<YYYY-MM-DD_HHMMSS>/``; the notebook writes its
   ``metrics.json``, tables and tier table there (its ``out_dir``);
4. exports the executed notebook to HTML without code (nbconvert ``HTMLExporter`` with
   ``exclude_input=True``) beside it;
5. only then publishes it: ``<out>/<name>/latest/`` becomes a copy of the run folder and
   ``<out>/<name>.html`` the report.

A failed run raises :class:`ReportFailed` naming the failing cell and its error: an error in a
cell, a cell over its time limit (600 s by default) or the run over its deadline (2 h by
default), a kernel that died, an HTML export that failed, or SIGTERM/SIGINT. Its folder is
renamed ``<stamp>_failed``, says why in ``FAILED.txt`` and keeps the executed notebook up to the
failing cell for debugging; ``latest/`` and ``<name>.html`` are untouched. A run killed outright
(SIGKILL) is found by the next run and marked failed then (:mod:`tierlab.reporting.runs`). How
cells are executed and why no wait on the kernel is unbounded: :mod:`tierlab.reporting.kernel`.

Layout under ``--out`` (default ``reports/``)::

    reports/
      segmentation.html                 the latest good report
      segmentation/
        latest/                         copy of the latest good run
        2025-12-31_060000/              one folder per run: segmentation_study.ipynb,
                                        segmentation_study.html, metrics.json, *.csv, tiers.xlsx
        2025-12-31_070000_failed/       a failed run, kept for debugging

Scheduled runs (cron): progress goes to stderr, the report path to stdout, the exit status
says whether it worked. On the 1st of each month at 06:00::

    0 6 1 * * cd /srv/tierlab && .venv/bin/tierlab report segmentation >> cron.log 2>&1

Parameters are parsed and checked in :mod:`tierlab.reporting.parameters` and the HTML is made
by :mod:`tierlab.reporting.html`; their names are importable from here too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierlab.errors import ReportError
from tierlab.reporting import runs
from tierlab.reporting.html import export_html
from tierlab.reporting.kernel import client_options, progress_engine
from tierlab.reporting.limits import DEFAULT_CELL_TIMEOUT, DEFAULT_DEADLINE, RunLimits
from tierlab.reporting.parameters import (
    NOTEBOOKS,
    OUT_PARAMETER,
    PATH_PARAMETERS,
    ParameterError,
    ParameterNote,
    check_parameters,
    notebook_parameters,
    parse_parameters,
    quiet_papermill,
    resolve_notebook,
)
from tierlab.reporting.paths import project_root

__all__ = [
    "NOTEBOOKS",
    "PATH_PARAMETERS",
    "ParameterError",
    "ReportFailed",
    "ReportRun",
    "RunStopped",
    "check_parameters",
    "export_html",
    "notebook_parameters",
    "parse_parameters",
    "resolve_notebook",
    "run_report",
]

KERNEL = "python3"


class ReportFailed(ReportError):
    """A report run failed; an earlier good report, if any, was left in place.

    Attributes
    ----------
    run_dir : Path
        Folder of the failed run (holds the executed notebook up to the failing cell).
    notebook : Path
        The executed notebook.
    cell : int or None
        Execution count of the failing cell (``In [n]``), when a cell failed.
    ename, evalue : str
        Exception type and message raised in the cell.
    kind : str
        ``"cell"`` (a cell raised), ``"timeout"`` (a cell over its limit), ``"deadline"`` (the
        run over its deadline), ``"kernel"`` (the kernel died), ``"stopped"`` (SIGTERM/SIGINT)
        or ``"error"`` (anything else, e.g. the HTML export).
    signum : int or None
        The signal that stopped the run (``kind == "stopped"``).
    """

    def __init__(self, message: str, *, run_dir: Path, notebook: Path, cell: int | None = None,
                 ename: str = "", evalue: str = "", traceback: str = "", kind: str = "cell",
                 signum: int | None = None):
        super().__init__(message)
        self.run_dir = run_dir
        self.notebook = notebook
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        self.kind = kind
        self.signum = signum


class RunStopped(KeyboardInterrupt):
    """SIGTERM or SIGINT arrived during a run (raised by the handler :func:`run_report` sets)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class ReportRun:
    """A successful run: where everything went."""

    name: str
    run_dir: Path
    notebook: Path
    html: Path
    latest_dir: Path
    latest_html: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------- running
@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Environment for the kernel: this interpreter's ``python3`` kernel, inline figures.

    Puts this environment's Jupyter data folder first on ``JUPYTER_PATH`` (so a ``python3``
    kernel of another Python in the user's folders does not win), unsets ``MPLBACKEND`` (with
    ``Agg`` figures vanish from the notebook) and points ``TIERLAB_PROJECT_ROOT`` at the project.
    """
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "MPLBACKEND",
                                            "TIERLAB_PROJECT_ROOT")}
    try:
        share = Path(sys.prefix) / "share" / "jupyter"
        if (share / "kernels" / KERNEL).is_dir():
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                [str(share)] + ([saved["JUPYTER_PATH"]] if saved["JUPYTER_PATH"] else []))
        os.environ.pop("MPLBACKEND", None)
        os.environ["TIERLAB_PROJECT_ROOT"] = str(project_root())
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`RunStopped` while the block runs.

    So a stopped run shuts its kernel down and is marked failed. Main thread only (Python
    delivers signals there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise RunStopped(signum)

    saved = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def _limit(value: float | None) -> float | None:
    """A time limit: None or 0 (or less) means none."""
    return float(value) if value is not None and value > 0 else None


# over 60 lines only by its docstring and the failure branch: the steps (check, execute, export,
# publish, prune) are each one call
def run_report(notebook: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None, *,
               out: str | os.PathLike[str] = "reports", log: Callable[[str], None] | None = None,
               now: dt.datetime | None = None, timeout: float | None = DEFAULT_CELL_TIMEOUT,
               deadline: float | None = DEFAULT_DEADLINE, keep: int | None = None,
               notes: Callable[[str], None] | None = None) -> ReportRun:
    """Run a notebook with parameters into a dated folder and publish its HTML report.

    Parameters
    ----------
    notebook : str or path
        ``"segmentation"``, ``"impact"``, ``"explore"`` or a path to an ``.ipynb``.
    parameters : mapping, optional
        Notebook parameters (checked with :func:`check_parameters`; ``out_dir`` is set to the
        run folder).
    out : path, default "reports"
        Where the report folders go (relative to the working directory).
    log : callable, optional
        Receives progress lines (e.g. ``print`` to stderr); None is silent.
    now : datetime, optional
        Time stamp of the run folder (default: now).
    timeout : float, default 600
        Seconds a single cell may run; None or 0: no limit per cell.
    deadline : float, default 7200
        Seconds all cells may take together; None or 0: no overall limit.
    keep : int, optional
        After a successful run, delete all but the newest ``keep`` dated run folders of this
        notebook (failed ones included; ``latest/`` and runs in progress are never deleted).
        Default: keep all.
    notes : callable, optional
        Receives each parameter note, one plain line (a parameter left out because it belongs
        to the other bundled report). Default: *log*; with neither, a
        :class:`~tierlab.reporting.parameters.ParameterNote` warning.

    Returns
    -------
    ReportRun

    Raises
    ------
    ParameterError
        Unknown notebook or bad parameters (nothing was run).
    ReportFailed
        The notebook, a time limit, the kernel or the HTML export failed, or SIGTERM/SIGINT
        stopped the run (an earlier good report is untouched).
    """
    say = log or (lambda _msg: None)
    name, nb_path = resolve_notebook(notebook)
    param_notes: list[str] = []
    params = check_parameters(nb_path, dict(parameters or {}), notes=param_notes)
    tell = notes or log
    for note in param_notes:  # a few lines at most: one per parameter of the other report
        if tell is not None:
            tell(note)
        else:
            warnings.warn(note, ParameterNote, stacklevel=2)
    out = Path(out).expanduser().resolve()
    name_dir = out / name
    name_dir.mkdir(parents=True, exist_ok=True)
    for found in runs.recover_unfinished(name_dir):
        say(f"tierlab report: an earlier run never finished (killed?); marked failed: {found}")
    run_dir = runs.fresh_run_dir(name_dir, runs.run_stamp(now))
    params[OUT_PARAMETER] = str(run_dir)
    executed = run_dir / nb_path.name
    html = executed.with_suffix(".html")
    limits = RunLimits(cell=_limit(timeout), deadline=_limit(deadline))

    shown = {k: v for k, v in params.items() if k != OUT_PARAMETER}
    say(f"tierlab report: {nb_path.name} → {run_dir}")
    if shown:
        say("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in shown.items()))
    t0 = time.perf_counter()
    try:
        with _stop_on_signals():
            _execute(nb_path, executed, params, limits=limits, progress=log)
            limits.stage = "the HTML export"
            say("  exporting HTML without code …")
            export_html(executed, html, title=f"{name} report")
    except (KeyboardInterrupt, Exception) as exc:  # a cell, a limit, the kernel, export, signal
        had_report = (out / f"{name}.html").exists()
        failure = _failure(exc, run_dir, executed.name, limits, had_report)
        failure.run_dir = runs.mark_failed(run_dir, str(failure))
        failure.notebook = failure.run_dir / executed.name
        raise failure from (None if failure.kind in ("cell", "stopped") else exc)

    runs.finish(run_dir)
    latest_dir, latest_html = runs.publish_run(run_dir, html, name_dir, out, name)
    if keep is not None:
        runs.prune_runs(name_dir, keep, current=run_dir)
    seconds = time.perf_counter() - t0
    say(f"  done in {seconds:.1f} s")
    return ReportRun(name=name, run_dir=run_dir, notebook=executed, html=html,
                     latest_dir=latest_dir, latest_html=latest_html, parameters=shown,
                     seconds=seconds)


def _execute(nb_path: Path, executed: Path, params: dict[str, Any], *, limits: RunLimits,
             progress: Callable[[str], None] | None) -> None:
    """Execute the notebook with papermill in the run folder (``params["out_dir"]``)."""
    import papermill
    from papermill.engines import papermill_engines

    engine = f"tierlab-progress-{id(params)}"  # one engine per run
    papermill_engines.register(engine, progress_engine(progress, limits))
    limits.start()
    try:
        with _kernel_environment(), quiet_papermill():
            papermill.execute_notebook(
                str(nb_path), str(executed), parameters=params, kernel_name=KERNEL,
                engine_name=engine, cwd=params[OUT_PARAMETER], progress_bar=False,
                log_output=False, request_save_on_cell_execute=True,
                # the kernel's own log (e.g. ipykernel 7's "running over TCP" notice) is noise
                # in a scheduled run; cell errors still reach the notebook and this process
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
                **client_options(limits),
            )
    finally:
        papermill_engines._engines.pop(engine, None)


def _failure(exc: BaseException, run_dir: Path, notebook: str, limits: RunLimits,
             had_report: bool) -> ReportFailed:
    """The :class:`ReportFailed` for what ended a run (the folder is renamed ``_failed``)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    failed = run_dir.with_name(run_dir.name + "_failed")
    where = _where(limits)
    kept = (f"\nThe executed notebook is kept for debugging: {failed / notebook}\n"
            + ("The last good report was left in place." if had_report else
               "No earlier report exists (nothing was published)."))
    common: dict[str, Any] = {"run_dir": failed, "notebook": failed / notebook}
    if isinstance(exc, PapermillExecutionError):
        evalue = _strip_ansi(str(exc.evalue))
        return ReportFailed(
            f"{notebook}: cell In [{exc.exec_count}] failed: {exc.ename}: {evalue}{kept}",
            cell=exc.exec_count, ename=exc.ename, evalue=evalue,
            traceback=_strip_ansi("\n".join(exc.traceback or [])), kind="cell", **common)
    if isinstance(exc, RunStopped):
        what = f"stopped by {signal.Signals(exc.signum).name} while running {where}"
        return ReportFailed(f"{notebook}: the run was {what}; the kernel was shut down.{kept}",
                            ename="RunStopped", evalue=what, kind="stopped", signum=exc.signum,
                            **common)
    if isinstance(exc, KeyboardInterrupt):
        return ReportFailed(f"{notebook}: the run was interrupted while running {where}.{kept}",
                            ename="KeyboardInterrupt", kind="stopped",
                            signum=int(signal.SIGINT), **common)
    if isinstance(exc, CellTimeoutError):
        if limits.deadline_hit() and limits.deadline is not None:
            what = (f"the run passed its deadline of {limits.deadline:g} s at {where} "
                    "(tierlab report --deadline SECONDS to allow more; 0: no deadline)")
            kind = "deadline"
        else:
            what = (f"{where} ran longer than the limit of {limits.cell or 0:g} s per cell "
                    "(tierlab report --timeout SECONDS to allow more; 0: no limit)")
            kind = "timeout"
        return ReportFailed(f"{notebook}: {what}; the kernel was shut down.{kept}",
                            ename="CellTimeoutError", evalue=what, kind=kind, **common)
    if isinstance(exc, DeadKernelError):
        what = (f"the kernel died while running {where} (out of memory, a crash in a "
                "library, or the process was killed)")
        return ReportFailed(f"{notebook}: {what}.{kept}", ename="DeadKernelError", evalue=what,
                            kind="kernel", **common)
    return ReportFailed(
        f"{notebook}: the run failed at {where}: {type(exc).__name__}: {exc}{kept}",
        ename=type(exc).__name__, evalue=str(exc), kind="error", **common)


def _where(limits: RunLimits) -> str:
    """The running cell, as the error messages name it."""
    if limits.stage:
        return limits.stage
    if limits.cell_index is None:
        return "the start (before the first cell)"
    text = f"cell {limits.cell_index + 1} of the executed notebook"
    return text + (f" (section '{limits.section}')" if limits.section else "")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
