"""Run a study notebook with papermill and publish a code-free HTML report.

``run_report("segmentation", {"scheme": "data/rules/monthly_spend_strict.yaml"})`` (or
``tierlab report segmentation -p scheme ...``):

1. finds the notebook (a name from :data:`NOTEBOOKS` or a path to an ``.ipynb``);
2. checks the parameters against the notebook's ``parameters`` cell
   (:func:`papermill.inspect_notebook`): unknown names and values of the wrong type are rejected
   before anything runs (:class:`ParameterError`);
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

Parameter paths: relative input paths (``transactions``, ``customers``, ``scheme``,
``schemes``, ``overrides``) that exist relative to the caller's working directory are made
absolute here; others are left for the notebook, which looks them up in the project root (see
:mod:`tierlab.study`). ``out_dir`` is always the run folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tierlab.errors import SchemeError, TierlabError, did_you_mean
from tierlab.study import project_root

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

#: Short names of the bundled notebooks (in ``notebooks/`` under the project root).
NOTEBOOKS: dict[str, str] = {
    "segmentation": "segmentation_study.ipynb",
    "impact": "rule_change_impact.ipynb",
    "explore": "explore.ipynb",
}
#: Parameters holding input paths (made absolute against the caller's directory when they
#: exist there).
PATH_PARAMETERS = ("transactions", "customers", "scheme", "schemes", "overrides")
#: Parameter set by :func:`run_report` itself (the run folder).
OUT_PARAMETER = "out_dir"
KERNEL = "python3"


class ParameterError(SchemeError):
    """A notebook parameter is unknown, of the wrong type, or cannot be read."""


class ReportFailed(TierlabError):
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


# ------------------------------------------------------------------------------------- notebooks
def resolve_notebook(notebook: str | os.PathLike) -> tuple[str, Path]:
    """``(name, path)`` of a notebook given by short name or path.

    Raises
    ------
    ParameterError
        Neither a known name nor an existing ``.ipynb`` file.
    """
    text = str(notebook)
    if text in NOTEBOOKS:
        path = project_root() / "notebooks" / NOTEBOOKS[text]
        if not path.exists():
            raise ParameterError(f"notebook {text!r}: {path} not found; is the project root "
                                 "right? (set TIERLAB_PROJECT_ROOT)")
        return text, path
    p = Path(text).expanduser()
    if p.suffix == ".ipynb" and p.exists():
        return p.stem, p.resolve()
    if p.suffix == ".ipynb":
        raise ParameterError(f"notebook {text}: file not found")
    raise ParameterError(f"unknown notebook {text!r}{did_you_mean(text, NOTEBOOKS)}; use one of "
                         f"{', '.join(NOTEBOOKS)} or a path to an .ipynb file")


def notebook_parameters(path: str | os.PathLike) -> dict[str, dict]:
    """The parameters of a notebook: name → ``{name, inferred_type_name, default, help}``."""
    import papermill

    with _quiet_papermill():
        return dict(papermill.inspect_notebook(str(path)))


# ------------------------------------------------------------------------------------- parameters
def _resolve_scalar(value: str) -> Any:
    """Like ``papermill -p``: True/False/None, then int, then float, else the text."""
    if value == "True":
        return True
    if value == "False":
        return False
    if value == "None":
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def _plain(value: Any) -> Any:
    """YAML dates → ISO text (recursively), so they reach the notebook as strings."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def parse_parameters(pairs: Sequence[Sequence[str]] = (), yaml_text: str | None = None,
                     files: Sequence[str | os.PathLike] = ()) -> dict[str, Any]:
    """Merge parameters given as files (``-f``), a YAML string (``-y``) and pairs (``-p``).

    Later sources win: files in order, then the YAML string, then the pairs. ``-p`` values are
    converted like papermill does (``True``/``False``/``None``, integers, floats, else text);
    YAML gives lists, mappings and dates (dates become ``YYYY-MM-DD`` text).

    Raises
    ------
    ParameterError
        A file is missing or a YAML text is not a mapping.
    """
    params: dict[str, Any] = {}
    sources: list[tuple[str, str]] = []
    for f in files:
        p = Path(f).expanduser()
        try:
            sources.append((str(p), p.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ParameterError(f"parameters file {p}: {exc.strerror or exc}") from None
    if yaml_text is not None:
        sources.append(("-y", yaml_text))
    for label, text in sources:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"parameters {label}: not valid YAML: {exc}") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ParameterError(f"parameters {label}: expected a mapping such as "
                                 f"'{{scheme: data/rules/x.yaml}}', got {type(data).__name__}")
        params.update({str(k): _plain(v) for k, v in data.items()})
    for pair in pairs:
        key, value = pair
        params[str(key)] = _resolve_scalar(value)
    return params


def _split_args(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


_BASE_TYPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "dict": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "None": lambda v: v is None,
    "NoneType": lambda v: v is None,
    "Any": lambda v: True,
}


def _type_ok(value: Any, annotation: str) -> bool:
    """Whether ``value`` fits a papermill annotation text (``Optional[list[str]]``…).

    Unknown type names accept anything (the notebook will check).
    """
    ann = annotation.strip()
    m = re.fullmatch(r"(\w+)\[(.*)\]", ann)
    if m:
        head, args = m.group(1), _split_args(m.group(2))
        if head == "Optional":
            return value is None or _type_ok(value, args[0])
        if head == "Union":
            return any(_type_ok(value, a) for a in args)
        if head in ("list", "List", "Sequence"):
            return isinstance(value, list) and all(_type_ok(v, args[0]) for v in value)
        if head in ("dict", "Dict", "Mapping"):
            return isinstance(value, dict) and (len(args) != 2 or all(
                _type_ok(k, args[0]) and _type_ok(v, args[1]) for k, v in value.items()))
        return True
    check = _BASE_TYPES.get(ann)
    return True if check is None else check(value)


def check_parameters(notebook: str | os.PathLike, params: Mapping[str, Any], *,
                     allow_out_dir: bool = False) -> dict[str, Any]:
    """Check parameters against a notebook's ``parameters`` cell; return them normalized.

    Parameters
    ----------
    notebook : path
        The notebook.
    params : mapping
        Name → value.
    allow_out_dir : bool
        Accept ``out_dir`` (it is set by :func:`run_report` itself).

    Returns
    -------
    dict
        The parameters, with relative input paths that exist in the working directory made
        absolute.

    Raises
    ------
    ParameterError
        An unknown name (with a "did you mean" and the list of parameters) or a value whose type
        does not match the notebook's annotation.
    """
    known = notebook_parameters(notebook)
    if not known:
        raise ParameterError(f"{notebook}: no cell tagged 'parameters'; tag one in JupyterLab "
                             "(property inspector → tags) so the notebook can take parameters")
    listing = ", ".join(f"{n} ({p['inferred_type_name']})" for n, p in known.items())
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in known:
            raise ParameterError(f"{Path(notebook).name} has no parameter {name!r}"
                                 f"{did_you_mean(name, known)}; its parameters are: {listing}")
        if name == OUT_PARAMETER and not allow_out_dir:
            raise ParameterError("out_dir is set by tierlab report (the dated run folder); use "
                                 "--out DIR to choose where reports go")
        ann = known[name]["inferred_type_name"]
        if ann not in ("None", "") and not _type_ok(value, ann):
            raise ParameterError(f"parameter {name!r} must be {ann}, got {value!r} "
                                 f"({type(value).__name__}); -p only converts numbers and "
                                 "True/False/None, use -y or -f for lists, mappings and dates")
        out[name] = _absolute_inputs(value) if name in PATH_PARAMETERS else value
    return out


def _absolute_inputs(value: Any) -> Any:
    if isinstance(value, list):
        return [_absolute_inputs(v) for v in value]
    if isinstance(value, str) and value.strip():
        p = Path(value).expanduser()
        if not p.is_absolute() and p.exists():
            return str(p.resolve())
        return str(p) if p.is_absolute() else value
    return value


# ------------------------------------------------------------------------------------- running
@contextlib.contextmanager
def _quiet_papermill() -> Iterator[None]:
    import logging

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


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


def _progress_engine(report: Callable[[str], None] | None):
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


def export_html(notebook: str | os.PathLike, html: str | os.PathLike, *,
                title: str | None = None) -> Path:
    """Export an executed notebook to HTML without code (inputs and prompts removed)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title or Path(notebook).stem}})
    html = Path(html)
    html.write_text(body, encoding="utf-8")
    return html


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


def run_report(notebook: str | os.PathLike, parameters: Mapping[str, Any] | None = None, *,
               out: str | os.PathLike = "reports", log: Callable[[str], None] | None = None,
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
    import papermill
    from papermill.engines import papermill_engines
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
    engine = f"tierlab-progress-{id(say)}"
    papermill_engines.register(engine, _progress_engine(say if log else None))
    try:
        with _kernel_environment(), _quiet_papermill():
            papermill.execute_notebook(
                str(nb_path), str(executed), parameters=params, kernel_name=KERNEL,
                engine_name=engine, cwd=str(run_dir), progress_bar=False,
                log_output=False, request_save_on_cell_execute=True,
                execution_timeout=timeout,
                # the kernel's own log (e.g. ipykernel 7's "running over TCP" notice) is noise
                # in a scheduled run; cell errors still reach the notebook and this process
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        say("  exporting HTML without code …")
        export_html(executed, html, title=f"{name} report")
    except PapermillExecutionError as exc:
        failed = _mark_failed(run_dir)
        tb = _strip_ansi("\n".join(exc.traceback or []))
        raise ReportFailed(
            f"{nb_path.name}: cell In [{exc.exec_count}] failed: {exc.ename}: "
            f"{_strip_ansi(str(exc.evalue))}\nThe executed notebook is kept for debugging: "
            f"{failed / executed.name}\nThe last good report was left in place.",
            run_dir=failed, notebook=failed / executed.name, cell=exc.exec_count,
            ename=exc.ename, evalue=_strip_ansi(str(exc.evalue)), traceback=tb,
        ) from None
    except (KeyboardInterrupt, Exception) as exc:  # kernel died, export failed, interrupted …
        failed = _mark_failed(run_dir)
        raise ReportFailed(
            f"{nb_path.name}: the run failed: {type(exc).__name__}: {exc}\nOutputs so far are "
            f"kept in {failed}\nThe last good report was left in place.",
            run_dir=failed, notebook=failed / executed.name, ename=type(exc).__name__,
            evalue=str(exc),
        ) from exc
    finally:
        papermill_engines._engines.pop(engine, None)

    latest_dir, latest_html = _publish(run_dir, html, name_dir, out, name)
    if keep is not None:
        _prune(name_dir, keep, current=run_dir)
    seconds = time.perf_counter() - t0
    say(f"  done in {seconds:.1f} s")
    return ReportRun(name=name, run_dir=run_dir, notebook=executed, html=html,
                     latest_dir=latest_dir, latest_html=latest_html, parameters=shown,
                     seconds=seconds)


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

