"""The files a study writes into its output folder: ``metrics.json`` and CSV tables.

Both go through :func:`tierlab.reporting.paths.resolve_output`, so a relative folder is taken
relative to the project root; numbers, dates and frames become JSON with
:func:`tierlab.jsonable.to_jsonable` (the one JSON conversion).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tierlab.io.safe_text import write_csv
from tierlab.jsonable import to_jsonable
from tierlab.reporting.paths import resolve_output

__all__ = ["write_metrics", "write_table"]


def write_metrics(out_dir: str | os.PathLike[str], metrics: Mapping[str, Any], *,
                  name: str = "metrics.json") -> Path:
    """Write ``metrics`` as JSON (UTF-8, indented, NaN as null) into ``out_dir``.

    Parameters
    ----------
    out_dir : str or PathLike
        Output folder (created; relative to the project root when relative).
    metrics : mapping
        Figures to write; numpy scalars, timestamps, Series and DataFrames are converted.
    name : str
        File name.

    Returns
    -------
    Path
        The file written.
    """
    path = resolve_output(out_dir) / name
    text = json.dumps(to_jsonable(metrics), ensure_ascii=False, indent=2, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_table(out_dir: str | os.PathLike[str], name: str, frame: pd.DataFrame, *,
                index: bool = True) -> Path:
    """Write a table as ``<name>.csv`` (UTF-8 with BOM, so Excel shows Chinese) into ``out_dir``.

    Parameters
    ----------
    out_dir : str or PathLike
        Output folder (created; relative to the project root when relative).
    name : str
        File name without ``.csv``.
    frame : DataFrame
        The table; two-level column labels are joined with a space.
    index : bool
        Write the index as the first column(s).

    Returns
    -------
    Path
        The file written.
    """
    path = resolve_output(out_dir) / f"{name}.csv"
    out = frame.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.Index([" ".join(str(c) for c in col) for col in out.columns])
    write_csv(out, path, index=index)  # UTF-8 with BOM; text never read as a formula
    return path
