"""CDNOW transactions (23,570 customers, 1997-01-01 .. 1998-06-30) from the lifetimes wheel.

The file ships inside the ``lifetimes`` wheel's ``datasets`` folder. The wheel is downloaded
with ``pip download lifetimes --no-deps`` into a temporary (or given) folder and read straight
from the zip archive: lifetimes is neither installed nor a dependency of tierlab.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

WHEEL_MEMBER = "lifetimes/datasets/CDNOW_master.txt"
WHEEL_VERSION = "0.11.3"


def find_or_download_wheel(folder: Path | None = None) -> Path:
    """Path of a lifetimes wheel in ``folder`` (downloaded there with pip when absent)."""
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="cdnow_"))
    folder.mkdir(parents=True, exist_ok=True)
    wheels = sorted(folder.glob("[Ll]ifetimes-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", f"lifetimes=={WHEEL_VERSION}",
                        "--no-deps", "--quiet", "-d", str(folder)], check=True)
        wheels = sorted(folder.glob("[Ll]ifetimes-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no lifetimes wheel in {folder}")
    return wheels[-1]


def load_cdnow(folder: Path | None = None) -> pd.DataFrame:
    """CDNOW master file as canonical transactions (``customer_id``, ``timestamp``, ``amount``)."""
    with zipfile.ZipFile(find_or_download_wheel(folder)) as wheel:
        text = wheel.read(WHEEL_MEMBER).decode("ascii")
    raw = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, skiprows=1,
                      names=["customer_id", "date", "quantity", "amount"],
                      dtype={"customer_id": str, "date": str})
    return pd.DataFrame({
        "customer_id": raw["customer_id"],
        "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "amount": raw["amount"].astype("float64"),
        "quantity": raw["quantity"].astype("int64"),
    })
