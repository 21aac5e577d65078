"""JSON-ready values from tierlab's results (one conversion for metrics files and ``to_dict``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Plain JSON values: NaN/NaT → None, numpy → Python, dates → ISO text, frames → records."""
    if hasattr(obj, "to_dict") and not isinstance(obj, pd.DataFrame | pd.Series | dict):
        return to_jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        frame = obj.copy()
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()
        frame.columns = [str(c) for c in frame.columns]
        return to_jsonable(frame.to_dict(orient="records"))
    if isinstance(obj, pd.Series):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | np.ndarray | pd.Index):
        return [to_jsonable(v) for v in obj]
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp | np.datetime64 | datetime | date):
        ts = pd.Timestamp(obj)
        return None if ts is pd.NaT else (ts.date().isoformat() if ts == ts.normalize()
                                          else ts.isoformat())
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, str | Path):
        return str(obj)
    return str(obj)
