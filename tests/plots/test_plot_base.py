"""Tests of :mod:`tierlab.plots._base` (the checks every plot function shares)."""

from __future__ import annotations

import importlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from plots.plot_helpers import (
    CJK_TIERS,
    assert_labelled,
    draw,
    ticks,
)
from tierlab import plots
from tierlab.plots import _base, _docstrings

NAMES = sorted(plots.__all__)


@pytest.mark.parametrize("name", NAMES)
def test_draws_on_the_given_axes_and_returns_it(name, calls, ax):
    func, data = calls[name]
    n_figs = len(plt.get_fignums())
    out = func(data, ax=ax)
    assert out is ax
    assert len(plt.get_fignums()) == n_figs  # no new figure
    assert_labelled(ax)
    draw(ax)


@pytest.mark.parametrize("name", NAMES)
def test_creates_a_figure_when_no_axes_given(name, calls):
    func, data = calls[name]
    plt.close("all")
    out = func(data)
    assert isinstance(out, matplotlib.axes.Axes)
    assert plt.get_fignums() == [out.figure.number]


@pytest.mark.parametrize("name", NAMES)
def test_wrong_input_type_and_axes_are_explained(name, calls):
    func, data = calls[name]
    plt.close("all")
    with pytest.raises(TypeError, match=name):
        func([1, 2, 3])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        func(data, ax="left")
    assert plt.get_fignums() == []  # nothing drawn on failure


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_not_changed(name, calls, ax):
    func, data = calls[name]
    if isinstance(data, pd.DataFrame):
        before = data.copy(deep=True)
        func(data, ax=ax)
        pd.testing.assert_frame_equal(data, before)
    elif hasattr(data, "profile"):
        before = data.profile.copy(deep=True)
        func(data, ax=ax)
        pd.testing.assert_frame_equal(data.profile, before)
    else:
        before = data.codes.copy()
        func(data, ax=ax)
        np.testing.assert_array_equal(data.codes, before)


def test_no_global_styling_on_import_or_use(calls):
    before = dict(matplotlib.rcParams)
    for module in (_docstrings, _base, plots.tiers, plots.value, plots.models, plots):
        importlib.reload(module)
    func, data = calls["plot_migration"]
    func(data)
    assert dict(matplotlib.rcParams) == before


def test_chinese_tier_labels_do_not_warn_or_crash(matrix, summary, strict_warnings):
    cn = matrix.copy()
    cn.index = pd.Index([*CJK_TIERS, "(none)"], name="from")
    cn.columns = pd.Index([*CJK_TIERS, "(none)"], name="to")
    ax = plots.plot_migration(cn)  # seaborn draws the figure inside: glyph warnings muted there
    assert ticks(ax, "y") == [*CJK_TIERS, "(none)"]
    s = summary.copy()
    s.index = pd.Index(CJK_TIERS, name="tier")
    ax = plots.plot_tier_distribution(s)
    assert ticks(ax) == CJK_TIERS
    draw(ax)


def test_a_cjk_font_is_used_on_this_axes_only_when_installed(summary, monkeypatch):
    s = summary.copy()
    s.index = pd.Index(CJK_TIERS, name="tier")
    monkeypatch.setattr(_base, "cjk_font", lambda: "DejaVu Serif")  # stands in for a CJK font
    ax = plots.plot_tier_distribution(s)
    assert ax.get_xticklabels()[0].get_fontfamily()[0] == "DejaVu Serif"
    assert ax.get_yticklabels()[0].get_fontfamily()[0] != "DejaVu Serif"  # only where needed
    assert matplotlib.rcParams["font.family"][0] != "DejaVu Serif"
    ax2 = plots.plot_tier_distribution(summary)  # Latin labels keep the default font
    assert ax2.get_xticklabels()[0].get_fontfamily()[0] != "DejaVu Serif"
