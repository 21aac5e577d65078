"""The pre-save hook keeps committed notebooks clean (the browser test saves in JupyterLab)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from tierlab import explore_savehook as hook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _dirty(nb: dict) -> dict:
    """What JupyterLab adds to a notebook it runs and saves."""
    nb = copy.deepcopy(nb)
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7",
                                       "codemirror_mode": {"name": "ipython", "version": 3}}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            cell["execution_count"] = i + 1
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x\n"}]
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
            cell["metadata"]["scrolled"] = True
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stripping_a_saved_notebook_gives_the_committed_file(path):
    committed = path.read_text(encoding="utf-8")
    nb = json.loads(committed)
    dirty = _dirty(nb)
    assert dirty != nb
    stripped = hook.strip_notebook(dirty)
    # written the way the Jupyter server writes a notebook
    text = nbformat.writes(nbformat.from_dict(stripped), version=nbformat.NO_CONVERT)
    assert text + ("\n" if not text.endswith("\n") else "") == committed


def test_hook_strips_project_notebooks_only(tmp_path, monkeypatch):
    nb = _dirty(json.loads((ROOT / "notebooks" / "explore.ipynb").read_text(encoding="utf-8")))
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    monkeypatch.setenv("TIERLAB_PROJECT_ROOT", str(project))

    class Manager:
        root_dir = str(project)

    model: dict = {"type": "notebook", "content": copy.deepcopy(nb)}
    hook.strip_on_save(model, "notebooks/explore.ipynb", Manager())
    assert "language_info" not in model["content"]["metadata"]
    assert all(c.get("outputs", []) == [] for c in model["content"]["cells"])

    elsewhere: dict = {"type": "notebook", "content": copy.deepcopy(nb)}
    hook.strip_on_save(elsewhere, "scratch/mine.ipynb", Manager())
    assert elsewhere["content"] == nb  # an analyst's own notebook keeps its outputs
    assert hook.is_project_notebook(project / "notebooks" / "x.ipynb")
    assert not hook.is_project_notebook(project / "x.ipynb")


def test_server_extension_config_is_shipped():
    config = json.loads((ROOT / "jupyter-config" / "jupyter_server_config.d" / "tierlab.json")
                        .read_text(encoding="utf-8"))
    module = next(iter(config["ServerApp"]["jpserver_extensions"]))
    assert module == hook.__name__
    assert hook._jupyter_server_extension_points() == [{"module": hook.__name__}]
