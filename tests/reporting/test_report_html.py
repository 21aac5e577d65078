"""The executed HTML of each report, as a manager reads it (small data, English and Chinese).

Each report runs with papermill on small data in a temporary folder and is exported as the
runner does; the tests read the HTML's visible text and tables (no images, styles or scripts).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest

from tierlab.reporting.html import REMOVE_TAG, export_html
from tierlab.reporting.parameters import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[2]
HEADINGS = {"segmentation": ("Summary", "摘要", "1. Data quality", "1. 数据质量"),
            "impact": ("Summary", "摘要", "1. The schemes", "1. 分级方案")}


class _Page(HTMLParser):
    """Visible text, headings in order, table cells and row headers of an exported report."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.headings: list[str] = []
        self.cells: list[str] = []
        self.row_headers = 0
        self._skip = 0
        self._heading: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag in ("h1", "h2"):
            self._heading = []
        elif tag == "tbody":
            self._in_body += 1
        elif tag == "td":
            self._cell = []
        elif tag == "th" and self._in_body:
            self.row_headers += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading).replace("¶", "").strip())
            self._heading = None
        elif tag == "tbody":
            self._in_body -= 1
        elif tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module", params=[("segmentation", "en"), ("segmentation", "zh"),
                                        ("impact", "en"), ("impact", "zh")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def report(request, small_data, tmp_path_factory):
    name, lang = request.param
    folder = tmp_path_factory.mktemp(f"{name}_{lang}")
    params = {"transactions": str(small_data.transactions),
              "customers": str(small_data.customers), "lang": lang,
              "out_dir": str(folder / "out")}
    if name == "segmentation":
        params["holdout_months"] = 3
    else:
        params.update(holdout_months=3, sweep_values=[300.0, 500.0, 700.0])
    executed = folder / "run.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / NOTEBOOKS[name]), str(executed),
                               parameters=params, kernel_name="python3", cwd=str(folder),
                               progress_bar=False, execution_timeout=300)
    html = export_html(executed, folder / "report.html").read_text(encoding="utf-8")
    return name, lang, html, folder


@pytest.mark.slow
def test_no_developer_artefacts(report):
    name, lang, html, folder = report
    page = _read(html)
    text = " ".join(page.text)
    for word in ("Traceback", "Warning", "LoadResult", "threadpool", "<threadpoolctl",
                 "UserWarning", "tierlab."):
        assert word not in text, f"{name}/{lang}: {word!r} in the report"
    for path in (str(folder), str(ROOT), "/tmp/", "/home/", "site-packages", ".ipynb"):
        assert path not in text, f"{name}/{lang}: a path ({path}) in the report"


@pytest.mark.slow
def test_tables_are_for_people(report):
    name, lang, html, _ = report
    page = _read(html)
    assert page.cells, "the report shows tables"
    bad = [c for c in page.cells if c in ("NaN", "nan", "None", "<NA>", "NaT", "inf", "-inf")]
    assert not bad, f"{name}/{lang}: raw missing values in cells: {bad[:5]}"
    assert page.row_headers == 0, "no index column: row labels are ordinary first columns"
    assert "row_heading" not in html and 'class="blank' not in html
    assert not [c for c in page.cells if re.fullmatch(r"0\.\d{4,}", c)], "shares as 23.1%"
    assert any(re.fullmatch(r"\d{1,3}\.\d%", c) for c in page.cells)


@pytest.mark.slow
def test_summary_comes_first_in_the_report_language(report):
    name, lang, html, _ = report
    page = _read(html)
    summary_en, summary_zh, first_en, first_zh = HEADINGS[name]
    summary, first = (summary_zh, first_zh) if lang == "zh" else (summary_en, first_en)
    assert len(page.headings) > 3
    assert page.headings[1] == summary, page.headings[:3]  # after the title only
    assert first in page.headings
    assert page.headings.index(summary) < page.headings.index(first)
    chinese = [h for h in page.headings if re.search("[\u4e00-\u9fff]", h)]
    if lang == "zh":
        assert chinese == page.headings, "every heading in Chinese"
    else:
        assert not chinese


@pytest.mark.slow
def test_summary_says_what_matters(report):
    name, lang, html, _ = report
    text = " ".join(_read(html).text)
    if lang == "en":
        assert "Study date:" in text and "transactions of" in text
        if name == "segmentation":
            assert "Since the previous review" in text and "of revenue" in text
    else:
        assert "研究日期" in text and "笔交易" in text
        if name == "segmentation":
            assert "与上次评审" in text and "高级客户" in text  # tier labels from the scheme


def test_notes_for_developers_are_left_out(tmp_path):
    nb = nbformat.v4.new_notebook()
    note = nbformat.v4.new_markdown_cell("Every figure comes from a `tierlab` function")
    note.metadata["tags"] = [REMOVE_TAG]
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [nbformat.v4.new_output("stream", name="stderr", text="/tmp/k/UserWarning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
    nb.cells = [note, nbformat.v4.new_markdown_cell("# Kept"), code]
    nbformat.write(nb, str(tmp_path / "x.ipynb"))
    html = export_html(tmp_path / "x.ipynb", tmp_path / "x.html").read_text(encoding="utf-8")
    assert "Kept" in html and "shown" in html
    assert "tierlab` function" not in html and "Every figure" not in html
    assert "UserWarning" not in html


@pytest.mark.slow
def test_chinese_tables_have_chinese_headers(report):
    """zh: every table header is in Chinese (cluster, validity and flag columns included), and
    the run's own marker files are not listed among the files written."""
    name, lang, html, _ = report
    headers = [re.sub(r"<[^>]+>", "", h).strip()
               for h in re.findall(r"<th[^>]*>(.*?)</th>", html, flags=re.S)]
    assert headers
    if lang == "zh":
        english = sorted({h for h in headers if h and not re.search("[\u4e00-\u9fff]", h)})
        assert not english, f"{name}: headers not in Chinese: {english}"
    assert ".running" not in " ".join(_read(html).text)
