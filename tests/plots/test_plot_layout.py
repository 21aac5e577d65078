"""Plots as a report shows them: 1400 px wide, in English and Chinese, no overlapping labels."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pytest

from tierlab import plots
from tierlab.plots._base import cjk_font

LABELS = {"Low": "低级客户", "Mid": "中级客户", "High": "高级客户"}


def _overlaps(texts) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent()) for t in texts
             if t.get_visible() and t.get_text()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2)
            if ba.overlaps(bb) and ba.width > 0 and bb.width > 0]


def _check(fig) -> None:
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert not _overlaps(axis.get_ticklabels()), (ax.get_title(), _overlaps(
                axis.get_ticklabels()))
    titles = [ax.title for ax in fig.axes]
    assert not _overlaps(titles)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_rows_of_plots_at_1400_px(comparison, history, lang):
    if lang == "zh" and cjk_font() is None:
        pytest.skip("no CJK font installed")
    # the impact report's row of three comparisons and the segmentation's tier plots
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5), dpi=100)
    for ax, value in zip(axes, ("customers", "revenue_share", "benefit_cost"), strict=True):
        plots.plot_scheme_comparison(comparison, value=value, ax=ax)
    plots.localize(fig, lang, LABELS)
    _check(fig)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), dpi=100)
    plots.plot_migration(comparison.migration["strict"], ax=axes[0])
    plots.plot_tier_trend(history, ax=axes[1])
    plots.localize(fig, lang, LABELS)
    _check(fig)


def test_chinese_plot_texts_and_labels(comparison):
    if cjk_font() is None:
        pytest.skip("no CJK font installed")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plots.plot_scheme_comparison(comparison, value="customers", ax=ax)
    assert plots.localize(fig, "zh", LABELS)
    assert ax.get_title() == "各方案下各等级的客户数"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["低级客户", "中级客户", "高级客户"]
    assert cjk_font() in ax.title.get_fontfamily()
    fig2, ax2 = plt.subplots()
    plots.plot_scheme_comparison(comparison, value="customers", ax=ax2)
    assert not plots.localize(fig2, "en", LABELS)
    assert ax2.get_title() == "Customers per tier under each scheme"


def test_without_a_cjk_font_labels_stay_latin_and_one_warning(comparison, monkeypatch):
    from tierlab.plots import _base

    monkeypatch.setattr(_base, "cjk_font", lambda: None)
    monkeypatch.setattr(_base, "_warned_no_cjk", False)
    fig, ax = plt.subplots()
    plots.plot_scheme_comparison(comparison, value="customers", ax=ax)
    with pytest.warns(UserWarning, match="no Chinese font"):
        assert not plots.localize(fig, "zh", LABELS)
    assert ax.get_title() == "Customers per tier under each scheme"  # no boxes: still Latin
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.localize(fig, "zh", LABELS)  # warned once only
