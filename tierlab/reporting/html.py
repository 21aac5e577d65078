"""Executed notebook → HTML report without code."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REMOVE_TAG", "export_html"]

#: Cells with this tag (a notebook's notes for its developers) are left out of the report.
REMOVE_TAG = "remove_cell"


def export_html(notebook: str | os.PathLike[str], html: str | os.PathLike[str], *,
                title: str | None = None) -> Path:
    """Export an executed notebook to HTML without code (inputs and prompts removed).

    Cells tagged :data:`REMOVE_TAG` and stderr streams are left out: a report holds no
    developer text.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:  # a report shows no stderr stream (library chatter, warnings)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title or Path(notebook).stem}})
    html = Path(html)
    html.write_text(body, encoding="utf-8")
    return html
