"""Reading a rule file (a tier scheme) safely: plain YAML data, bounded in size and depth.

A rule file is data an analyst writes, and it may also come from someone else. It is read with
a :class:`yaml.SafeLoader` (no tags that build objects) that also refuses what plain rules never
need and a hostile file uses to exhaust memory or time:

- anchors and aliases (``&a`` / ``*a``): nested aliases expand exponentially (a "billion
  laughs" file of a few hundred bytes becomes gigabytes); repeat the setting instead;
- files over :data:`MAX_FILE_BYTES`;
- collections nested deeper than :data:`MAX_DEPTH` (the shipped schemes need 6).

A YAML syntax error is reported with its line and column, and the common slip of an unquoted
operator (``op: >=``, which YAML reads as a folded block) says to quote it: ``op: ">="``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent

from tierlab.errors import SchemeError

__all__ = ["MAX_FILE_BYTES", "MAX_DEPTH", "read_rule_file", "load_rules_text"]

#: Largest rule file read (bytes): the shipped schemes are under 2 KB.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of YAML mappings/lists (condition groups nested the allowed 10 deep need 24).
MAX_DEPTH = 50


class _RuleLoader(yaml.SafeLoader):
    """``SafeLoader`` without anchors or aliases and with a bounded nesting depth."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused("uses an alias (*" + str(event.anchor) + ")", event.start_mark)
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise _Refused("defines an anchor (&" + str(event.anchor) + ")", event.start_mark)
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(f"nests mappings/lists more than {MAX_DEPTH} levels deep",
                               event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self.depth -= 1


class _Refused(Exception):
    def __init__(self, what: str, mark: Any):
        super().__init__(what)
        self.what, self.mark = what, mark


def _line(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"


_BARE_OP = re.compile(r"\bop\s*:\s*([<>=!]+)")


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """A short explanation of a YAML syntax error, with its line and a fix when one is known."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"not valid YAML: {problem}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    bare = [m for m in _BARE_OP.finditer(line) if m.start(1) <= mark.column + 1]
    if bare:
        op = bare[-1].group(1)
        return (f"line {mark.line + 1}: the operator {op} must be quoted, e.g. op: \"{op}\" "
                f"(unquoted, YAML reads {op[0]!r} as its own syntax; it said: {problem})")
    return f"not valid YAML at {_line(mark)}: {problem}"


def load_rules_text(text: str, source: str) -> Any:
    """Parse rule-file text (see the module documentation for what is refused).

    Raises
    ------
    SchemeError
        Naming ``source`` and the line, for invalid YAML, anchors/aliases or too deep nesting.
    """
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise SchemeError(f"{source}: the rule file is larger than {MAX_FILE_BYTES:,} bytes; "
                          "a tier scheme is a short text file")
    loader = _RuleLoader(text)
    try:
        return loader.get_single_data()
    except _Refused as exc:
        hint = ("repeat the setting instead of referring to it" if "nests" not in exc.what
                else "a tier scheme needs far less nesting")
        raise SchemeError(f"{source}: {_line(exc.mark)}: the rule file {exc.what}, which rule "
                          f"files may not; {hint}") from None
    except yaml.YAMLError as exc:
        raise SchemeError(f"{source}: {_yaml_problem(exc, text)}") from None
    finally:
        loader.dispose()


def read_rule_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse a rule file, checking its size before reading it.

    Raises
    ------
    SchemeError
        Naming the file: missing, unreadable, too large, not UTF-8 or refused YAML.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SchemeError(f"{path}: the rule file is {size:,} bytes, more than "
                              f"{MAX_FILE_BYTES:,}; a tier scheme is a short text file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemeError(f"{path}: scheme file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError(f"{path}: cannot read the scheme file: {exc}") from None
    return load_rules_text(text, str(path))
