"""Command-line arguments of ``tierlab``: their types, checks, and errors said the CLI way.

- :func:`column_pairs` reads a ``--columns``/``--customer-columns`` value: one argument
  ``NAME=HEADER[,NAME=HEADER…]``, repeatable (the option once took a space-separated list that
  swallowed the file after it; :func:`split_column_lists` still accepts that form where it is
  unambiguous: the words right after the option that start with ``NAME=``);
- :func:`out_path_problem` says why an ``--out`` path cannot be written before anything runs;
- :func:`os_error_text` says the same after an :class:`OSError`;
- :func:`cli_column_message` rewrites a loader message written for Python callers
  (``columns={'amount': …}``) into the option the user types (``--columns amount=…``), with the
  closest header.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import errno
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "COLUMN_OPTIONS",
    "cli_column_message",
    "column_pairs",
    "os_error_text",
    "out_path_problem",
    "seconds",
    "split_column_lists",
]

#: Options whose value is a column mapping.
COLUMN_OPTIONS = ("--columns", "--customer-columns")
_PAIR = re.compile(r"[A-Za-z_]\w*\s*=")
_NEXT_PAIR = re.compile(r",(?=\s*[A-Za-z_]\w*\s*=)")


def column_pairs(text: str) -> list[tuple[str, str]]:
    """``"customer_id=客户ID,amount=消费金额"`` → ``[("customer_id", "客户ID"), …]``.

    A comma separates pairs only where a ``NAME=`` follows, so a header may hold commas.
    """
    pairs = []
    for part in _NEXT_PAIR.split(text):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise argparse.ArgumentTypeError(
                f"expected NAME=HEADER[,NAME=HEADER...], e.g. customer_id=客户ID,amount=消费金额; "
                f"got {text!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that say how to read the transactions and the customer table.

    ``--customers``, ``--columns``, ``--customer-columns`` and ``--date-format``, shared by
    ``tierlab tiers`` and ``tierlab review``.
    """
    parser.add_argument("--customers", metavar="FILE", help="customer table")
    parser.add_argument("--columns", action="extend", type=column_pairs, default=[],
                        metavar="NAME=HEADER[,...]",
                        help="transaction column mapping, e.g. customer_id=客户ID,amount=消费金额 "
                             "(repeatable)")
    parser.add_argument("--customer-columns", action="extend", type=column_pairs, default=[],
                        metavar="NAME=HEADER[,...]",
                        help="customer table column mapping (repeatable)")
    parser.add_argument("--date-format", metavar="FMT", help="date format, e.g. %%d/%%m/%%Y")


def split_column_lists(argv: Sequence[str]) -> list[str]:
    """Repeat a column option before each further ``NAME=HEADER`` word that follows it.

    ``--columns customer_id=客户ID amount=消费金额 export.csv`` (the old form) becomes
    ``--columns customer_id=客户ID --columns amount=消费金额 export.csv``: the words after the
    option that start with ``NAME=`` are its values; the first other word ends them.
    """
    out: list[str] = []
    option, needs_value = None, False
    for i, word in enumerate(argv):
        if word == "--":
            return out + list(argv[i:])
        if option is not None and _PAIR.match(word):
            out += [word] if needs_value else [option, word]
            needs_value = False
            continue
        out.append(word)
        name, eq, _ = word.partition("=")
        option, needs_value = (name, not eq) if name in COLUMN_OPTIONS else (None, False)
    return out


def seconds(text: str) -> float:
    """A ``--timeout``/``--deadline`` value: seconds, 0 for no limit."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0: no limit)")
    return value


def out_path_problem(out: str | os.PathLike[str], *, folder: bool) -> str | None:
    """Why ``--out`` cannot be written (None: it can, as far as can be told beforehand).

    ``folder``: the path is a folder to create (``report``), else a file (``tiers``).
    """
    path = Path(out).expanduser()
    if folder and path.exists() and not path.is_dir():
        return f"--out {out}: {str(path)!r} is a file, not a folder; choose a folder"
    if not folder and path.is_dir():
        return (f"--out {out}: {str(path)!r} is a folder; give a file name such as "
                f"{path / 'tiers.xlsx'}")
    for parent in (path.parent, *path.parent.parents) if not folder else (path, *path.parents):
        if not parent.exists() and not parent.is_symlink():
            continue
        if not parent.is_dir():
            return (f"--out {out}: {str(parent)!r} is a file, not a folder, so nothing can be "
                    f"written under it; choose another path (or move {str(parent)!r} away)")
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"--out {out}: no permission to write in the folder {str(parent)!r}"
        break
    return None


_ERRNO_TEXT = {
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.ENAMETOOLONG: "the name is too long",
}


def os_error_text(exc: OSError) -> str:
    """An :class:`OSError` in words: the path and what is wrong with it."""
    what = _ERRNO_TEXT.get(exc.errno or 0, exc.strerror or str(exc))
    return f"{exc.filename!r}: {what}" if exc.filename else what


_MISSING = re.compile(
    r"required column '(?P<key>\w+)' not found(?: \(did you mean (?P<near>'(?:[^'\\]|\\.)*'|"
    r"\"[^\"]*\")\?\))?\. Columns present: (?P<listing>.*)\. Map it with columns=\{'(?P=key)': "
    r"'<header in the file>'\}", re.DOTALL)
_NOT_IN_FILE = re.compile(
    r"column (?P<header>'(?:[^'\\]|\\.)*'|\"[^\"]*\") \(mapped to '(?P<key>\w+)'\) is not in the "
    r"file \(did you mean (?P<near>'(?:[^'\\]|\\.)*'|\"[^\"]*\")\?\)")


def cli_column_message(message: str, option: str, mapping: Mapping[str, str],
                       known: Mapping[str, Sequence[str]]) -> str:
    """A loader message about columns, rewritten for the command line.

    Parameters
    ----------
    message : str
        The :class:`~tierlab.errors.DataError` text.
    option : str
        ``"--columns"`` or ``"--customer-columns"``.
    mapping : mapping
        What the user mapped already (name → header).
    known : mapping
        Canonical names → headers recognised without a mapping (``TRANSACTION_COLUMNS``).
    """
    m = _MISSING.search(message)
    if m:
        key = m["key"]
        present = _literal_list(m["listing"])
        near = _literal(m["near"]) if m["near"] else _closest(key, present, mapping, known)
        if isinstance(near, str):
            fix = f"add {option} {shlex.quote(f'{key}={near}')}"
        else:
            fix = f"add {option} {key}=HEADER" + (
                f" (HEADER: one of {', '.join(map(repr, near))})" if near else "")
        head = message[:m.start()] + f"required column {key!r} not found. Columns present: " \
            f"{m['listing']}. Map it: {fix}"
        return head + message[m.end():]
    m = _NOT_IN_FILE.search(message)
    if m:
        pair = f"{m['key']}={_literal(m['near'])}"
        return message + f". Fix the mapping: {option} {shlex.quote(pair)}"
    return re.sub(r"\bcolumns= ?", f"{option} ", message)


def _closest(key: str, present: list[str], mapping: Mapping[str, str],
             known: Mapping[str, Sequence[str]]) -> str | list[str]:
    """The header to suggest for ``key``: the only column nothing else claims, else a list."""
    def norm(text: str) -> str:
        return re.sub(r"[\s_\-]", "", text.strip().lstrip("\ufeff").casefold())

    claimed = {norm(h) for h in mapping.values()}
    for other, aliases in known.items():
        if other != key:
            claimed |= {norm(other), *(norm(a) for a in aliases)}
    free = [h for h in present if norm(h) not in claimed]
    if len(free) == 1:
        return free[0]
    match = difflib.get_close_matches(key, free, n=1, cutoff=0.5)
    return match[0] if match else free


def _literal(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.strip("'\"")
    return str(value)


def _literal_list(listing: str) -> list[str]:
    try:
        value = ast.literal_eval(f"[{listing}]")
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
