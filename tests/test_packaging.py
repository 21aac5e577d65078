"""Packaging: pyproject.toml is the single source of dependencies; the public API resolves."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import tierlab

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    declared = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    mirrored = {_name(r): r.replace(" ", "") for r in conda if _name(r) not in ("python", "pip")}
    assert mirrored == declared, "environment.yml and pyproject.toml list different packages"
    assert any(".[dev]" in p for p in pip), "environment.yml must pip-install the dev extra"
    python = next(d for d in conda if _name(d) == "python")
    assert python.replace("python", "") == project["requires-python"]


def test_every_public_name_resolves():
    for name in tierlab.__all__:
        assert getattr(tierlab, name) is not None, name


def test_import_is_light():
    code = ("import sys, tierlab; heavy = [m for m in ('sklearn', 'matplotlib', 'seaborn', "
            "'scipy') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_modules_respect_the_layering():
    # lower layers never import higher ones
    order = ["errors", "_arrowkeys", "load", "_parquet", "features", "scoring", "schemes", "engine",
             "segment", "btyd", "potential", "evaluate", "compare", "plots", "export", "report",
             "cli"]
    for i, low in enumerate(order):
        path = ROOT / "tierlab" / f"{low}.py"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for high in order[i + 1:]:
            same_layer = [("segment", "potential"), ("schemes", "engine")]
            if (low, high) in same_layer:  # scheme.run() hands over to the engine
                continue
            assert f"tierlab.{high}" not in text and f"from tierlab import {high}" not in text, (
                f"tierlab/{low}.py imports the higher layer tierlab.{high}")
    assert importlib.import_module("tierlab.tiers.engine")
