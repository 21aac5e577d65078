"""The README's quick tour runs as written (so the README stays true)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def test_quick_tour_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## Quick tour", 1)[1]
    code = re.search(r"```python\n(.*?)```", tour, re.S).group(1)
    out = tmp_path / "tiers.xlsx"
    code = code.replace('"reports/tiers.xlsx"', repr(str(out)))
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md quick tour", "exec"), namespace)  # noqa: S102 - our own docs
    assert out.exists()
    hist = namespace["hist"]
    assert len(hist.reviews) == 24 and len(namespace["tx"]) > 60_000
    assert "High" in set(hist.current["tier"].astype(str))


def test_readme_documents_the_two_commands_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make report" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)
