"""Docstring parts shared by the plot functions, written once (seaborn's ``_docstrings`` idea).

A plot function's docstring names a part as ``{params.ax}`` on a line of its own and is filled
by :func:`fill_doc` when the function is defined; braces meant literally (the ``{"a", "b"}`` of a
choice) are doubled, as with :meth:`str.format`. The filled text is plain numpydoc, so ``help()``
and the doctests read it like any other docstring.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["DocstringComponents", "fill_doc", "params"]

F = TypeVar("F", bound=Callable[..., object])


class DocstringComponents:
    """Named docstring fragments, each dedented, read as attributes (``params.ax``).

    Parameters
    ----------
    components : mapping of str to str
        Name -> numpydoc text (an entry of a Parameters or Raises section).
    """

    def __init__(self, components: Mapping[str, str]) -> None:
        self._components = {name: textwrap.dedent(text).strip("\n")
                            for name, text in components.items()}

    def __getattr__(self, name: str) -> str:
        try:
            return self.__dict__["_components"][name]
        except KeyError:
            raise AttributeError(f"no docstring component {name!r}; have: "
                                 f"{', '.join(self.__dict__['_components'])}") from None

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._components]


#: The parameter and error entries several plot functions share.
params = DocstringComponents({
    "ax": """
        ax : Axes, optional
            Axes to draw on; a new figure is created when None.
        """,
    "annot": """
        annot : bool, default True
            Write the value in each cell.
        """,
    "cbar": """
        cbar : bool, default True
            Draw a colour bar (seaborn adds it beside *ax*).
        """,
    "raises": """
        TypeError
            The data or *ax* is not of the documented type.
        DataError
            The frame is empty, or a needed column is missing or not numeric (the message names
            it and the columns the frame has).
        """,
    "raises_choice": """
        ArgumentError
            An option is not one of its documented values (the message suggests the closest).
        """,
})


def fill_doc(func: F) -> F:
    """Fill the ``{params.<name>}`` fields of *func*'s docstring with :data:`params`."""
    if func.__doc__:
        func.__doc__ = inspect.cleandoc(func.__doc__).format(params=params)
    return func
