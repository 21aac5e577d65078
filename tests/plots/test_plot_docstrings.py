"""Tests of :mod:`tierlab.plots._docstrings` (shared docstring parts)."""

from __future__ import annotations

import pydoc

import pytest

from tierlab import plots
from tierlab.plots._docstrings import DocstringComponents, fill_doc

AX_ENTRY = ("ax : Axes, optional\n"
            "    Axes to draw on; a new figure is created when None.")


@pytest.mark.parametrize("name", sorted(plots.__all__))
def test_every_plot_documents_ax_once_and_leaves_no_field(name):
    doc = getattr(plots, name).__doc__
    assert doc.count(AX_ENTRY) == 1
    assert "{params" not in doc and "{{" not in doc
    assert "\nRaises\n------\nTypeError\n" in doc
    text = pydoc.render_doc(getattr(plots, name), renderer=pydoc.plaintext)
    assert "    ax : Axes, optional\n        Axes to draw on" in text  # help() keeps the layout


def test_literal_braces_of_a_choice_survive():
    doc = plots.plot_tier_distribution.__doc__
    assert 'value : {"both", "customers", "revenue"}, default "both"' in doc


def test_fill_doc_dedents_and_inserts_multiline_components():
    @fill_doc
    def plot_example(ax=None):
        """Draw an example.

        Parameters
        ----------
        {params.ax}
        kind : {{"a", "b"}}
            Which.
        """

    assert plot_example.__doc__ == ('Draw an example.\n\nParameters\n----------\n'
                                    f'{AX_ENTRY}\nkind : {{"a", "b"}}\n    Which.')


def test_components_read_as_attributes_and_name_the_missing_one():
    parts = DocstringComponents({"x": """
        x : int
            A number.
        """})
    assert parts.x == "x : int\n    A number."
    assert "x" in dir(parts)
    with pytest.raises(AttributeError, match="no docstring component 'y'; have: x"):
        _ = parts.y
