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

A failed run (an error in a cell, or in the HTML export) raises :class:`ReportFailed` naming the
failing cell and its error; its folder is renamed ``<stamp>_failed`` and keeps the executed
notebook up to the failing cell for debugging; ``latest/`` and ``<name>.html`` are untouched.

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
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierlab.errors import ReportError
from tierlab.reporting.html import export_html
from tierlab.reporting.parameters import (
    NOTEBOOKS,
    OUT_PARAMETER,
    PATH_PARAMETERS,
    ParameterError,
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
    "check_parameters",
    "export_html",
    "notebook_parameters",
    "parse_parameters",
    "resolve_notebook",
    "run_report",
]

KERNEL = "python3"


class ReportFailed(ReportError):
    """A report run failed; the last good report was left in place.

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
    """

    def __init__(self, message: str, *, run_dir: Path, notebook: Path, cell: int | None = None,
                 ename: str = "", evalue: str = "", traceback: str = ""):
        super().__init__(message)
        self.run_dir = run_dir
        self.notebook = notebook
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback


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


def _progress_engine(report: Callable[[str], None] | None) -> type:
    """A papermill engine that reports each section heading as it starts."""
    from papermill.engines import NBClientEngine

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            if report is not None:
                start = nb_man.cell_start
                n = len(nb_man.nb.cells)

                def cell_start(cell, cell_index=None, **kw):
                    if cell.cell_type == "markdown":
                        head = next((ln.lstrip("#").strip() for ln in cell.source.splitlines()
                                     if ln.startswith("#")), None)
                        if head:
                            report(f"  [{(cell_index or 0) + 1:>3}/{n}] {head}")
                    return start(cell, cell_index, **kw)

                nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    return _Engine


def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now()).strftime("%Y-%m-%d_%H%M%S")


def _fresh_dir(parent: Path, stamp: str) -> Path:
    candidate = parent / stamp
    i = 1
    while candidate.exists() or candidate.with_name(candidate.name + "_failed").exists():
        i += 1
        candidate = parent / f"{stamp}-{i}"
    candidate.mkdir(parents=True)
    return candidate


def _publish(run_dir: Path, html: Path, name_dir: Path, out: Path, name: str) -> tuple[Path, Path]:
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


# over 60 lines only by its docstring: the steps (check, execute, export, publish, prune) are
# each one call
def run_report(notebook: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None, *,
               out: str | os.PathLike[str] = "reports", log: Callable[[str], None] | None = None,
               now: dt.datetime | None = None, timeout: int | None = None,
               keep: int | None = None) -> ReportRun:
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
    timeout : int, optional
        Seconds a single cell may run (default: no limit).
    keep : int, optional
        After a successful run, delete all but the newest ``keep`` dated run folders of this
        notebook (failed ones included; ``latest/`` is never deleted). Default: keep all.

    Returns
    -------
    ReportRun

    Raises
    ------
    ParameterError
        Unknown notebook or bad parameters (nothing was run).
    ReportFailed
        The notebook or the HTML export failed (the last good report is untouched).
    """
    from papermill.exceptions import PapermillExecutionError

    say = log or (lambda _msg: None)
    name, nb_path = resolve_notebook(notebook)
    params = check_parameters(nb_path, dict(parameters or {}))
    out = Path(out).expanduser().resolve()
    name_dir = out / name
    name_dir.mkdir(parents=True, exist_ok=True)
    run_dir = _fresh_dir(name_dir, _stamp(now))
    params[OUT_PARAMETER] = str(run_dir)
    executed = run_dir / nb_path.name
    html = executed.with_suffix(".html")

    shown = {k: v for k, v in params.items() if k != OUT_PARAMETER}
    say(f"tierlab report: {nb_path.name} → {run_dir}")
    if shown:
        say("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in shown.items()))
    t0 = time.perf_counter()
    try:
        _execute(nb_path, executed, params, timeout=timeout, progress=log)
        say("  exporting HTML without code …")
        export_html(executed, html, title=f"{name} report")
    except PapermillExecutionError as exc:
        raise _cell_failed(exc, _mark_failed(run_dir), executed.name) from None
    except (KeyboardInterrupt, Exception) as exc:  # kernel died, export failed, interrupted …
        raise _run_failed(exc, _mark_failed(run_dir), executed.name) from exc

    latest_dir, latest_html = _publish(run_dir, html, name_dir, out, name)
    if keep is not None:
        _prune(name_dir, keep, current=run_dir)
    seconds = time.perf_counter() - t0
    say(f"  done in {seconds:.1f} s")
    return ReportRun(name=name, run_dir=run_dir, notebook=executed, html=html,
                     latest_dir=latest_dir, latest_html=latest_html, parameters=shown,
                     seconds=seconds)


def _execute(nb_path: Path, executed: Path, params: dict[str, Any], *, timeout: int | None,
             progress: Callable[[str], None] | None) -> None:
    """Execute the notebook with papermill in the run folder (``params["out_dir"]``)."""
    import papermill
    from papermill.engines import papermill_engines

    engine = f"tierlab-progress-{id(params)}"  # one engine per run
    papermill_engines.register(engine, _progress_engine(progress))
    try:
        with _kernel_environment(), quiet_papermill():
            papermill.execute_notebook(
                str(nb_path), str(executed), parameters=params, kernel_name=KERNEL,
                engine_name=engine, cwd=params[OUT_PARAMETER], progress_bar=False,
                log_output=False, request_save_on_cell_execute=True,
                execution_timeout=timeout,
                # the kernel's own log (e.g. ipykernel 7's "running over TCP" notice) is noise
                # in a scheduled run; cell errors still reach the notebook and this process
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
    finally:
        papermill_engines._engines.pop(engine, None)


def _cell_failed(exc: Any, failed: Path, notebook: str) -> ReportFailed:
    """The error for a cell that raised (a ``PapermillExecutionError``)."""
    evalue = _strip_ansi(str(exc.evalue))
    return ReportFailed(
        f"{notebook}: cell In [{exc.exec_count}] failed: {exc.ename}: {evalue}\nThe executed "
        f"notebook is kept for debugging: {failed / notebook}\nThe last good report was left in "
        "place.",
        run_dir=failed, notebook=failed / notebook, cell=exc.exec_count, ename=exc.ename,
        evalue=evalue, traceback=_strip_ansi("\n".join(exc.traceback or [])))


def _run_failed(exc: BaseException, failed: Path, notebook: str) -> ReportFailed:
    """The error for a run that failed outside a cell (kernel, export, interrupt)."""
    return ReportFailed(
        f"{notebook}: the run failed: {type(exc).__name__}: {exc}\nOutputs so far are "
        f"kept in {failed}\nThe last good report was left in place.",
        run_dir=failed, notebook=failed / notebook, ename=type(exc).__name__, evalue=str(exc))


def _prune(name_dir: Path, keep: int, *, current: Path) -> None:
    """Delete all but the newest ``keep`` dated run folders (never ``current`` or ``latest``)."""
    runs = sorted((p for p in name_dir.iterdir()
                   if p.is_dir() and re.match(r"\d{4}-\d{2}-\d{2}_\d{6}", p.name)),
                  key=lambda p: p.name, reverse=True)
    for old in runs[max(int(keep), 1):]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def _mark_failed(run_dir: Path) -> Path:
    failed = run_dir.with_name(run_dir.name + "_failed")
    try:
        run_dir.rename(failed)
    except OSError:
        return run_dir
    return failed


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)

