"""Packaging: pyproject.toml is the single source of dependencies; the public API resolves."""

from __future__ import annotations

import ast
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


def test_import_is_light():
    code = ("import sys, tierlab; heavy = [m for m in ('sklearn', 'matplotlib', 'seaborn', "
            "'scipy') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


# The layers, lowest first (ARCHITECTURE.md). A module may import its own layer and lower ones.
# Every module of the package must be listed: a new module has to say where it sits.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "jsonable", "calendar", "frames", "_kernels", "datasets", "i18n",
                    "messages")),
    ("io", ("io",)),
    ("features", ("features",)),
    ("scoring and tiers", ("scoring", "segments", "tiers")),
    ("models", ("segment", "btyd_common", "btyd", "gamma_gamma", "potential_split",
                "potential_features", "potential_model", "potential_metrics", "potential_eval",
                "potential_flags", "potential")),
    ("evaluation", ("evaluate", "validity")),
    ("comparison", ("compare", "impact", "sweeps")),
    ("plots, register, scale-out", ("plots", "register", "distributed")),
    ("reports", ("reporting",)),
    ("notebook recipes", ("study", "study_dataset", "explore", "explore_app",
                          "explore_savehook")),
]
# former module names kept importable (each only aliases its new home)
ALIASES = {"load", "export", "schemes", "engine", "report", "cli"}


def _layer_of(module: str) -> int:
    parts = module.split(".")[1:]  # drop "tierlab"
    if not parts:
        return len(LAYERS)  # the package itself: the lazy public API sits above everything
    for i, (_, prefixes) in enumerate(LAYERS):
        if parts[0] in prefixes:
            return i
    raise AssertionError(f"tierlab.{'.'.join(parts)} is in no layer: add it to LAYERS "
                         "(tests/test_packaging.py) and to ARCHITECTURE.md")


def _imports(path: Path) -> set[str]:
    """Every tierlab module *path* imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tierlab"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tierlab"):
            if node.module == "tierlab":  # from tierlab import plots → tierlab.plots
                found.update(f"tierlab.{a.name}" for a in node.names
                             if (ROOT / "tierlab" / a.name).exists()
                             or (ROOT / "tierlab" / f"{a.name}.py").exists())
            else:
                found.add(node.module)
    return found


def _package_modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted((ROOT / "tierlab").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def test_every_module_has_a_layer_and_imports_no_higher_one():
    upward = []
    for module, path in _package_modules():
        if module == "tierlab" or module.split(".")[1] in ALIASES:
            continue
        own = _layer_of(module)
        for imported in _imports(path):
            if _layer_of(imported) > own:
                upward.append(f"{module} ({LAYERS[own][0]}) imports {imported}")
    assert not upward, "lower layers must not import higher ones:\n" + "\n".join(upward)


def test_layering_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from tierlab.reporting import runner\n", encoding="utf-8")
    assert any(_layer_of(m) > _layer_of("tierlab.features.rfm") for m in _imports(bad))


def test_aliases_are_the_new_modules():
    homes = {"load": "io.load", "export": "io.export", "schemes": "tiers.scheme",
             "engine": "tiers.engine", "report": "reporting.runner", "cli": "reporting.cli"}
    assert set(homes) == ALIASES
    for old, new in homes.items():
        alias = importlib.import_module(f"tierlab.{old}")
        assert alias is importlib.import_module(f"tierlab.{new}")


# The public API (ARCHITECTURE.md): names are added, never renamed or removed.
PUBLIC_API = {
    "ArgumentError", "DataError", "ReportError", "SchemeError", "TierlabError", "__version__",
    "LoadResult", "load_transactions", "load_customers",
    "rfm", "period_panel", "btyd_summary",
    "RFMScorer", "DEFAULT_SEGMENTS", "segment_map", "assign_segments",
    "TierScheme", "TierHistory", "cross_tiers",
    "cluster_customers", "ClusterResult",
    "calibration_holdout", "BetaGeoModel", "GammaGammaModel", "PotentialModel",
    "flag_customers", "evaluate_potential",
    "tier_summary", "migration_matrix", "stability", "concentration", "holdout_validity",
    "compare_schemes", "threshold_sweep", "Comparison",
    "export_tier_table", "tier_table", "mask_contacts", "mask_phone", "mask_email",
    "generate", "sample_transactions", "sample_customers",
    "Register",
}
PLOTS = {"plot_tier_distribution", "plot_tier_trend", "plot_migration", "plot_lorenz",
         "plot_rfm_heatmap", "plot_threshold_sweep", "plot_holdout", "plot_cluster_profiles",
         "plot_calibration", "plot_scheme_comparison"}


def test_public_names_are_kept():
    assert PUBLIC_API <= set(tierlab.__all__), PUBLIC_API - set(tierlab.__all__)
    for name in tierlab.__all__:
        assert getattr(tierlab, name) is not None, name
    plots = importlib.import_module("tierlab.plots")
    assert PLOTS <= set(plots.__all__) and all(callable(getattr(plots, n)) for n in PLOTS)
    for module in ("tierlab.study", "tierlab.export", "tierlab.plots"):
        assert importlib.import_module(module)
