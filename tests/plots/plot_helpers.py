"""Shared inputs and Axes readers of the plot tests (hand-built, not from tierlab)."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from matplotlib.collections import QuadMesh
from matplotlib.patches import Rectangle

TIERS = ["Low", "Mid", "High"]
CJK_TIERS = ["低级客户", "中级客户", "高级客户"]
RULES = Path(__file__).resolve().parents[2] / "data" / "rules"


def draw(ax):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph")
        ax.figure.canvas.draw()


def ticks(ax, axis="x"):
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels]


def bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def mesh(ax) -> QuadMesh:
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    return meshes[0]


def mesh_values(ax) -> np.ndarray:
    arr = mesh(ax).get_array()
    return np.ma.filled(arr.astype(float), np.nan)


def assert_labelled(ax):
    assert ax.get_title().strip()
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()


def fake_history(codes, tier_names=TIERS, labels=None, start="2025-01-31"):
    codes = np.asarray(codes, dtype=np.int8)
    reviews = pd.date_range(start, periods=codes.shape[1], freq="ME")
    labels = labels or {n: n for n in tier_names}
    scheme = SimpleNamespace(tier_names=list(tier_names), labels=labels, name="Test scheme")
    return SimpleNamespace(codes=codes, reviews=reviews, scheme=scheme)


HISTORY_CODES = [[0, 0, 1, 1, 2],
                 [-1, 0, 0, 0, 0],
                 [-1, -1, 2, 2, 1],
                 [1, 1, 1, 2, 2]]


def naive_counts(codes, k):
    codes = np.asarray(codes)
    out = np.zeros((k, codes.shape[1]))
    for i in range(codes.shape[0]):
        for t in range(codes.shape[1]):
            if codes[i, t] >= 0:
                out[codes[i, t], t] += 1
    return out
