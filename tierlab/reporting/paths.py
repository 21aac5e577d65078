"""Where a study's files are: the project root, input files and output folders.

A notebook runs with different working directories: JupyterLab and nbval start the kernel in
``notebooks/``, papermill in the caller's directory, ``tierlab report`` in the run folder. So
parameters name files like this:

- an absolute path is used as is;
- a relative *input* path (transactions, customers, schemes) is looked up in the working
  directory first, then in the project root (the folder holding ``data/`` and ``notebooks/``;
  override with the environment variable ``TIERLAB_PROJECT_ROOT``). So the defaults
  ``data/sample/transactions.csv`` and ``data/rules/monthly_spend.yaml`` work from anywhere;
- a relative *output* folder (``out_dir``) is taken relative to the project root.

``tierlab report`` makes the relative paths given on its command line absolute against the
directory it was started from (when the file exists there) before the notebook sees them.
"""

from __future__ import annotations

import os
from pathlib import Path

from tierlab.errors import DataError

__all__ = ["PROJECT_ROOT_ENV", "project_root", "resolve_input", "resolve_output"]

#: Environment variable naming the project root (default: the folder above the package).
PROJECT_ROOT_ENV = "TIERLAB_PROJECT_ROOT"

#: The folder above the installed ``tierlab`` package (a clone's root with an editable install).
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent


def project_root() -> Path:
    """The project folder that holds ``data/``, ``notebooks/`` and ``reports/``.

    ``$TIERLAB_PROJECT_ROOT`` when set, else the folder above the installed ``tierlab`` package
    when it has a ``data/`` or ``notebooks/`` folder (a clone with an editable install), else the
    working directory.

    Returns
    -------
    Path
        Absolute path of the project folder.
    """
    env = os.environ.get(PROJECT_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    if (_PACKAGE_PARENT / "notebooks").is_dir() or (_PACKAGE_PARENT / "data").is_dir():
        return _PACKAGE_PARENT
    return Path.cwd().resolve()


def resolve_input(path: str | os.PathLike[str] | None, *, what: str = "file") -> Path:
    """An existing input file: absolute as is, relative from the working directory or the root.

    Parameters
    ----------
    path : str or PathLike
        The path as written in a notebook parameter.
    what : str
        What the file is (``"transactions"``, ``"scheme"``…), for the error message.

    Returns
    -------
    Path
        Absolute path of the file.

    Raises
    ------
    DataError
        If no path is given or the file exists in neither place (the message names both).
    """
    if path is None or str(path).strip() == "":
        raise DataError(f"{what}: no path given")
    p = Path(str(path)).expanduser()
    if p.is_absolute():
        if p.exists():
            return p
        raise DataError(f"{what}: {p} does not exist")
    tried = [Path.cwd() / p, project_root() / p]
    for candidate in tried:
        if candidate.exists():
            return candidate.resolve()
    raise DataError(f"{what}: {p} not found (looked in {tried[0].parent} and {tried[1].parent}); "
                    "pass an absolute path or a path relative to the project root")


def resolve_output(path: str | os.PathLike[str]) -> Path:
    """An output folder (created): absolute as is, relative to the project root.

    Parameters
    ----------
    path : str or PathLike
        The folder as written in a notebook parameter.

    Returns
    -------
    Path
        Absolute path of the folder, which exists.
    """
    p = Path(str(path)).expanduser()
    if not p.is_absolute():
        p = project_root() / p
    p.mkdir(parents=True, exist_ok=True)
    return p.resolve()
