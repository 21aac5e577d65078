"""What a report runs and with which parameters: notebooks by name, parameters parsed and checked.

:func:`parse_parameters` merges the ``-f``/``-y``/``-p`` sources of ``tierlab report``;
:func:`check_parameters` checks them against the notebook's ``parameters`` cell
(:func:`papermill.inspect_notebook`) before anything runs: unknown names and values of the
wrong type raise :class:`ParameterError`, a bad argument (exit status 2 on the command line).

Parameter paths: relative input paths (``transactions``, ``customers``, ``scheme``,
``schemes``, ``overrides``) that exist relative to the caller's working directory are made
absolute here; others are left for the notebook, which looks them up in the project root (see
:mod:`tierlab.reporting.paths`). ``out_dir`` is always the run folder, set by the runner.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tierlab.errors import ArgumentError, did_you_mean
from tierlab.reporting.paths import project_root

__all__ = [
    "NOTEBOOKS",
    "OUT_PARAMETER",
    "PATH_PARAMETERS",
    "ParameterError",
    "ParameterNote",
    "check_parameters",
    "notebook_parameters",
    "other_notebook_parameters",
    "parse_parameters",
    "quiet_papermill",
    "resolve_notebook",
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
#: Parameter set by :func:`tierlab.reporting.runner.run_report` itself (the run folder).
OUT_PARAMETER = "out_dir"


class ParameterError(ArgumentError):
    """A notebook parameter is unknown, of the wrong type, or cannot be read."""


class ParameterNote(UserWarning):
    """A parameter was left out because it belongs to another bundled notebook (not an error).

    One parameters file can serve both reports: ``scheme`` (segmentation) and ``schemes``
    (impact) sit side by side, each notebook takes its own and notes the other.
    """


def other_notebook_parameters(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parameters of the other bundled notebooks: name → the first notebook that has it."""
    here = Path(path).resolve()
    owners: dict[str, str] = {}
    for short, file in NOTEBOOKS.items():
        other = project_root() / "notebooks" / file
        if not other.exists() or other.resolve() == here:
            continue
        for name in notebook_parameters(other):  # a loop over a few parameter names
            owners.setdefault(name, short)
    return owners


# ------------------------------------------------------------------------------------- notebooks
def resolve_notebook(notebook: str | os.PathLike[str]) -> tuple[str, Path]:
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


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, dict]:
    """The parameters of a notebook: name → ``{name, inferred_type_name, default, help}``."""
    import papermill

    with quiet_papermill():
        return dict(papermill.inspect_notebook(str(path)))


@contextlib.contextmanager
def quiet_papermill() -> Iterator[None]:
    """Silence papermill's own log (INFO lines per cell) while the block runs."""
    import logging

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


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
                     files: Sequence[str | os.PathLike[str]] = ()) -> dict[str, Any]:
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


def check_parameters(notebook: str | os.PathLike[str], params: Mapping[str, Any], *,
                     allow_out_dir: bool = False,
                     notes: list[str] | None = None) -> dict[str, Any]:
    """Check parameters against a notebook's ``parameters`` cell; return them normalized.

    Parameters
    ----------
    notebook : path
        The notebook.
    params : mapping
        Name → value.
    allow_out_dir : bool
        Accept ``out_dir`` (it is set by :func:`run_report` itself).
    notes : list, optional
        Where to append a note for each parameter left out because it belongs to another
        bundled notebook (``schemes`` given to the segmentation report); without a list, each
        note is a :class:`ParameterNote` warning.

    Returns
    -------
    dict
        The parameters, with relative input paths that exist in the working directory made
        absolute.

    Raises
    ------
    ParameterError
        An unknown name — in no bundled notebook — (with a "did you mean" and the list of
        parameters) or a value whose type does not match the notebook's annotation.
    """
    known = notebook_parameters(notebook)
    if not known:
        raise ParameterError(f"{notebook}: no cell tagged 'parameters'; tag one in JupyterLab "
                             "(property inspector → tags) so the notebook can take parameters")
    listing = ", ".join(f"{n} ({p['inferred_type_name']})" for n, p in known.items())
    out: dict[str, Any] = {}
    others: dict[str, str] | None = None
    for name, value in params.items():
        if name not in known:
            if others is None:
                others = other_notebook_parameters(notebook)
            if name in others:  # one parameters file for both reports: not an error
                note = (f"{Path(notebook).name}: parameter {name!r} is for the {others[name]} "
                        "report; left out here")
                if notes is not None:
                    notes.append(note)
                else:
                    warnings.warn(note, ParameterNote, stacklevel=2)
                continue
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
