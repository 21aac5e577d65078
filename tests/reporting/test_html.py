"""tierlab.reporting.html: an executed notebook as HTML without code."""

from __future__ import annotations

import nbformat

from tierlab.reporting.html import export_html


def test_export_html_has_outputs_but_no_code(tmp_path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_source_line = 41 + 1\nprint(secret_source_line)")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="forty-two\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title"), code]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, str(path))
    html = export_html(path, tmp_path / "x.html", title="Sales review").read_text(encoding="utf-8")
    assert "forty-two" in html and "A title" in html
    assert "secret_source_line" not in html
    assert 'class="jp-InputPrompt' not in html and "In&nbsp;[" not in html
    assert 'class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noInput' in html
    assert "<title>Sales review</title>" in html
