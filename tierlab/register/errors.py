"""Errors of the tier register (subclasses of :class:`~tierlab.DataError`)."""

from __future__ import annotations

from tierlab.errors import DataError

__all__ = ["RegisterError", "RegisterBusyError"]


class RegisterError(DataError):
    """The register cannot be used (not a register, a foreign schema, a refused review).

    Messages name the register (file path or URL without its password) and say how to fix it.
    """


class RegisterBusyError(RegisterError):
    """Another writer holds the register and did not let go within the timeout."""
