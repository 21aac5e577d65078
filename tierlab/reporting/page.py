"""What a report notebook shows, in one language: headings, sentences, tables, figures, notes.

A report notebook creates one :class:`ReportPage` right after its parameters and shows
everything through it, so that every text comes from the catalogue (:mod:`tierlab.i18n`) in
the report's language, every table is a :func:`~tierlab.reporting.tables.people_table`, every
figure is drawn with translated labels and a CJK font, and Python warnings become notes
(:mod:`tierlab.reporting.notes`) instead of pink boxes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierlab.i18n import check_lang, column_label, text
from tierlab.reporting.notes import NoteTaker
from tierlab.reporting.tables import Note, people_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from tierlab.tiers.scheme import TierScheme

__all__ = ["ReportPage", "sweep_label"]

_WINDOW_EN = {"all": "lifetime", "YTD": "year to date"}


def sweep_label(scheme: TierScheme, path: str, lang: str = "en") -> str:
    """A swept setting for people: ``High: spend in 1 month >`` instead of its YAML path."""
    from tierlab.tiers.conditions import METRICS, Metric
    from tierlab.tiers.reasons import metric_words

    lang = check_lang(lang)
    owner = path.rsplit(".", 1)[0]
    for tier in scheme.tiers:
        leaves = [] if tier.when is None else tier.when.leaves()
        for leaf in leaves:
            if leaf.path != owner or not isinstance(leaf, Metric):
                continue
            shown = scheme.labels[tier.name] if lang == "zh" else tier.name
            window = scheme.metric_window(leaf)
            if lang == "zh":
                metric = metric_words(Metric(leaf.metric, window, leaf.op, 0), "zh",
                                      one_month=True)
                return text("sweep_label", lang, tier=shown, metric=metric, op=leaf.op)
            name = METRICS[leaf.metric][1]
            if window is None:
                what = name
            elif window in _WINDOW_EN:
                what = f"{_WINDOW_EN[window]} {name}"
            else:
                n = int(window[:-1])
                what = f"{name} in {n} month{'s' if n > 1 else ''}"
            return text("sweep_label", lang, tier=shown, metric=what, op=leaf.op)
    return path


class ReportPage:
    """Shows a report's content in one language (``en`` or ``zh``).

    Parameters
    ----------
    lang : {"en", "zh"}
    tier_labels : mapping, optional
        Tier name → label shown in Chinese tables and figures (the scheme's labels).
    """

    def __init__(self, lang: str = "en", tier_labels: Mapping[str, str] | None = None):
        self.lang = check_lang(lang)
        self.tier_labels = dict(tier_labels or {})
        self.notes = NoteTaker(self.lang)  # notes are shown live once the summary is out

    # ----------------------------------------------------------------- set-up
    def start(self) -> ReportPage:
        """Route warnings into notes and set the plots' look (call once, at the top)."""
        self.notes.start()
        return self

    def use_scheme(self, scheme: TierScheme) -> None:
        """Take the tier labels (shown in Chinese) from *scheme*."""
        if self.lang == "zh":
            self.tier_labels.update(scheme.labels)

    # ----------------------------------------------------------------- texts
    def words(self, key: str, **fields: Any) -> str:
        """The catalogue text *key* in the page's language."""
        return text(key, self.lang, **fields)

    def column(self, name: object) -> str:
        """A column name for people in the page's language (``region`` → ``地区``)."""
        return column_label(name, self.lang)

    def show(self, obj: object) -> None:
        """Display *obj* (a table) where the cell is, e.g. inside a loop."""
        from IPython.display import display

        display(obj)

    def tier(self, name: object) -> str:
        """A tier as the page names it (its label in Chinese)."""
        return self.tier_labels.get(str(name), str(name))

    def _display(self, markdown: str) -> None:
        from IPython.display import Markdown, display

        display(Markdown(markdown))

    def _show_note(self, note: str) -> None:
        self._display(f"> {note}")

    def title(self, key: str) -> None:
        """The report title."""
        self._display(f"# {self.words(key)}")

    def heading(self, key: str, number: int | None = None) -> None:
        """A section heading (``## 2. Data quality``)."""
        prefix = f"{number}. " if number is not None else ""
        self._display(f"## {prefix}{self.words(key)}")

    def say(self, key: str, **fields: Any) -> None:
        """A paragraph from the catalogue."""
        self._display(self.words(key, **fields))

    def summary(self, markdown: str) -> None:
        """The summary section (heading and sentences); later notes show where they arise."""
        self._display(f"## {self.words('h_summary')}\n\n{markdown}")
        self.notes.show_with(self._show_note)

    def markdown(self, markdown: str) -> None:
        """A paragraph already in the page's language (e.g. a summary)."""
        self._display(markdown)

    # ----------------------------------------------------------------- tables and figures
    def table(self, frame: pd.DataFrame, **options: Any) -> Styler | Note:
        """:func:`~tierlab.reporting.tables.people_table` in the page's language."""
        options.setdefault("tier_labels", self.tier_labels if self.lang == "zh" else None)
        return people_table(frame, self.lang, **options)

    def figure(self, fig: Figure | None = None) -> None:
        """Translate the fixed texts of *fig* (default: the current figure), then show it."""
        import matplotlib.pyplot as plt

        from tierlab.plots import localize

        fig = plt.gcf() if fig is None else fig
        localize(fig, self.lang, self.tier_labels)
        if not fig.get_constrained_layout():
            with warnings.catch_warnings():  # a layout it cannot improve is no news for a reader
                warnings.simplefilter("ignore")
                fig.tight_layout()  # translated labels have new widths: no overlaps
        plt.show()
