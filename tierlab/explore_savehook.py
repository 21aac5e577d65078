"""A Jupyter server pre-save hook that keeps the project's notebooks clean on disk.

JupyterLab writes outputs, execution counts, ``metadata.language_info`` (as soon as a kernel
starts), widget state and cell execution metadata into a notebook when it saves (autosave
included), so merely opening a notebook would change the committed file. For notebooks in the
project's ``notebooks/`` folder this hook removes exactly those additions before the file is
written: the browser keeps showing the outputs, the file stays as committed. Other notebooks
are saved untouched.

The module is a Jupyter server extension that installs the hook when the server starts. It is
enabled by ``jupyter-config/jupyter_server_config.d/tierlab.json`` in a Jupyter config path
(``$JUPYTER_CONFIG_PATH`` or ``.venv/etc/jupyter/``); a hook configured by the user runs too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["strip_notebook", "strip_on_save", "is_project_notebook"]

HookType = Callable[..., Any]

#: Notebook-level metadata that JupyterLab, papermill or ipywidgets add.
NOTEBOOK_KEYS = ("language_info", "widgets", "papermill", "signature", "varInspector", "toc")
#: Cell-level metadata that JupyterLab or papermill add (``tags`` and ``jupyter`` are kept).
CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "papermill",
             "heading_collapsed", "hidden", "trusted")


def strip_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """Remove outputs, counts and editor metadata from a notebook dict, in place; return it."""
    meta = nb.get("metadata") or {}
    for key in NOTEBOOK_KEYS:
        meta.pop(key, None)
    for cell in nb.get("cells") or []:
        cmeta = cell.get("metadata") or {}
        for key in CELL_KEYS:
            cmeta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def is_project_notebook(os_path: str | Path) -> bool:
    """True for a notebook in the project's ``notebooks/`` folder."""
    from tierlab.reporting.paths import project_root

    folder = (project_root() / "notebooks").resolve()
    return Path(os_path).resolve().parent == folder


def strip_on_save(model: dict[str, Any], path: str, contents_manager: Any,
                  **kwargs: Any) -> None:
    """``ContentsManager.pre_save_hook``: strip project notebooks before they are written."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = getattr(contents_manager, "root_dir", "") or ""
    if is_project_notebook(Path(root) / path.lstrip("/")):
        strip_notebook(model["content"])


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "tierlab.explore_savehook"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Install :func:`strip_on_save` as the contents manager's pre-save hook."""
    manager = serverapp.contents_manager
    previous: HookType | None = manager.pre_save_hook

    def hook(model: dict[str, Any], path: str, contents_manager: Any, **kwargs: Any) -> None:
        if previous is not None:
            previous(model=model, path=path, contents_manager=contents_manager, **kwargs)
        strip_on_save(model, path, contents_manager, **kwargs)

    manager.pre_save_hook = hook
    serverapp.log.info("tierlab: notebooks in the project's notebooks/ are saved stripped")
