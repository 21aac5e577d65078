"""Reading rule files: plain YAML only — no aliases, bounded size and depth, readable errors."""

from __future__ import annotations

import time

import pytest
import yaml
from tier_cases import MONTHLY

from tierlab.errors import SchemeError
from tierlab.tiers.rulefile import MAX_DEPTH, MAX_FILE_BYTES, load_rules_text
from tierlab.tiers.scheme import TierScheme


def alias_bomb() -> str:
    """Nine levels of nine aliases each: ~600 bytes that expand to 9**9 (387 million) items.

    Everything sits under keys a scheme allows, so nothing rejects the file before its
    description is turned into text.
    """
    lines = ["name: bomb", "description:", "  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines += ["tiers:", "  - name: Low", "  - name: High",
              "    when: {metric: spend, op: '>', value: 1}"]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    assert path.stat().st_size < 700
    began = time.perf_counter()
    with pytest.raises(SchemeError, match=rf"{path}: line 3, column 5: the rule file defines an "
                                          r"anchor \(&a0\), which rule files may not"):
        TierScheme.from_yaml(path)
    assert time.perf_counter() - began < 1.0


def test_a_single_alias_is_refused_too(tmp_path):
    path = tmp_path / "alias.yaml"
    text = yaml.safe_dump(MONTHLY, sort_keys=False).replace("review: monthly",
                                                           "review: monthly\nx: *y")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError, match=r"alias.yaml: line \d+, column \d+: the rule file "
                                          r"uses an alias \(\*y\).*repeat the setting"):
        TierScheme.from_yaml(path)


def test_a_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(MONTHLY) + "# padding\n" * (MAX_FILE_BYTES // 10 + 1),
                    encoding="utf-8")
    with pytest.raises(SchemeError, match=rf"{path}: the rule file is [\d,]+ bytes, more than "
                                          r"1,000,000"):
        TierScheme.from_yaml(path)
    with pytest.raises(SchemeError, match=r"text.yaml: the rule file is larger than"):
        load_rules_text("#" * (MAX_FILE_BYTES + 1), "text.yaml")


def test_deep_nesting_is_refused_with_the_line(tmp_path):
    path = tmp_path / "deep.yaml"
    when = '{all: [' * 400 + '{metric: spend, op: ">", value: 1}' + ']}' * 400
    path.write_text(f"name: deep\ntiers:\n  - name: Low\n  - name: High\n    when: {when}\n",
                    encoding="utf-8")
    with pytest.raises(SchemeError, match=rf"deep.yaml: line 5, column \d+: the rule file nests "
                                          rf"mappings/lists more than {MAX_DEPTH} levels deep"):
        TierScheme.from_yaml(path)


@pytest.mark.parametrize("style", ["block", "flow"])
def test_an_unquoted_operator_says_to_quote_it(tmp_path, style):
    path = tmp_path / "rules.yaml"
    when = ("\n      metric: spend\n      op: >=\n      value: 100" if style == "block"
            else "{metric: spend, op: >=, value: 100}")
    path.write_text(f"name: x\ntiers:\n  - name: Low\n  - name: Mid\n    when: {when}\n",
                    encoding="utf-8")
    line = 7 if style == "block" else 5
    with pytest.raises(SchemeError, match=rf"rules.yaml: line {line}: the operator >= must be "
                                          r"quoted, e.g. op: \">=\""):
        TierScheme.from_yaml(path)


def test_the_shipped_style_still_reads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(MONTHLY, allow_unicode=True), encoding="utf-8")
    assert TierScheme.from_yaml(path) == TierScheme.from_dict(MONTHLY)
