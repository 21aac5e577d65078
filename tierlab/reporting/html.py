"""Executed notebook → HTML report without code."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["export_html"]


def export_html(notebook: str | os.PathLike[str], html: str | os.PathLike[str], *,
                title: str | None = None) -> Path:
    """Export an executed notebook to HTML without code (inputs and prompts removed)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title or Path(notebook).stem}})
    html = Path(html)
    html.write_text(body, encoding="utf-8")
    return html
