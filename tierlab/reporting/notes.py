"""Python warnings turned into short notes in the report's language.

A report never shows a raw ``UserWarning`` (class name, kernel path, line of code): while a
report runs, :class:`NoteTaker` replaces :func:`warnings.showwarning`, rewrites each warning as a
sentence a manager understands ("Many customers share the same number of orders, so its score
has 4 levels, not 5.") and keeps it for the summary. Warnings meant for programmers
(``DeprecationWarning``, ``FutureWarning``) are dropped.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

from tierlab.i18n import check_lang, text

__all__ = ["NoteTaker", "note_for", "strip_paths"]

_DEVELOPER = (DeprecationWarning, FutureWarning, PendingDeprecationWarning, ImportWarning,
              ResourceWarning, SyntaxWarning)
_DIMENSIONS = {"R": "dim_recency", "F": "dim_frequency", "M": "dim_monetary"}
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.\-~ ]+){2,}")

# (pattern, catalogue key, fields from the match); the first match wins
_RULES: list[tuple[re.Pattern[str], str, Callable[[re.Match[str], str], dict[str, Any]]]] = [
    (re.compile(r"ties in '[^']+' \((?P<dim>[RFM])\) leave only (?P<k>\d+) of (?P<bins>\d+)"),
     "n_rfm_levels",
     lambda m, lang: {"dimension": text(_DIMENSIONS[m["dim"]], lang), "k": m["k"],
                      "bins": m["bins"]}),
    (re.compile(r"^(?P<model>[\w\- ]+): (?:the maximum-likelihood fit did not converge|"
                r"parameter\(s\) .* reached the search bound)"),
     "n_fit", lambda m, lang: {"model": m["model"].strip()}),
    (re.compile(r"override row\(s\) name customers with no transactions"), "n_overrides",
     lambda m, lang: {}),
    (re.compile(r"the change history has [\d,]+ rows"), "n_history_split", lambda m, lang: {}),
    (re.compile(r"no Chinese font", re.I), "n_no_cjk_font", lambda m, lang: {}),
]


def strip_paths(message: str) -> str:
    """*message* with file-system paths replaced by their last part (no kernel or temp paths)."""
    return _PATH.sub(lambda m: re.split(r"[/\\]", m.group(0))[-1], message)


def note_for(message: str, category: type[Warning], lang: str = "en") -> str | None:
    """The note for a warning, or None when it is meant for programmers only."""
    if issubclass(category, _DEVELOPER):
        return None
    if re.search(r"Glyph \d+ .*missing from", message):
        return None  # missing glyphs are handled by the plots (a CJK font or Latin labels)
    for pattern, key, fields in _RULES:
        m = pattern.search(message)
        if m:
            return text(key, lang, **fields(m, lang))
    first = strip_paths(message.strip().split("\n")[0])
    return text("n_other", lang, message=first)


class NoteTaker:
    """Turns the warnings raised while it is active into notes (shown once each, and kept).

    Parameters
    ----------
    lang : {"en", "zh"}
    show : callable, optional
        Called with each new note (a report displays it in the cell that raised it).
    """

    def __init__(self, lang: str = "en", show: Callable[[str], Any] | None = None):
        self.lang = check_lang(lang)
        self.notes: list[str] = []
        self._show = show
        self._previous: Callable[..., Any] | None = None

    def add(self, note: str) -> None:
        """Keep *note* (once) and show it."""
        if note in self.notes:
            return
        self.notes.append(note)
        if self._show is not None:
            self._show(note)

    def show_with(self, show: Callable[[str], Any] | None) -> None:
        """Show each later note with *show* (None: only keep them)."""
        self._show = show

    def warning(self, message: Warning | str, category: type[Warning], filename: str,
                lineno: int, file: Any = None, line: str | None = None) -> None:
        """A :func:`warnings.showwarning` replacement: the warning becomes a note."""
        note = note_for(str(message), category, self.lang)
        if note is not None:
            self.add(note)

    def start(self) -> NoteTaker:
        """Route warnings here until :meth:`stop` (every warning reaches us, each once)."""
        self._previous = warnings.showwarning
        warnings.showwarning = self.warning
        warnings.simplefilter("default")
        return self

    def stop(self) -> None:
        """Restore the previous warning display."""
        if self._previous is not None:
            warnings.showwarning = self._previous
            self._previous = None
