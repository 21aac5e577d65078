"""The tier register: committed reviews in an embedded DuckDB file or a PostgreSQL database.

>>> from tierlab.register import Register   # doctest: +SKIP
>>> reg = Register("reports/register.duckdb")   # doctest: +SKIP
"""

from tierlab.register.commit import CommitResult, data_fingerprint
from tierlab.register.errors import RegisterBusyError, RegisterError
from tierlab.register.register import DEFAULT_REGISTER, Register
from tierlab.register.schema import SCHEMA_VERSION

__all__ = ["Register", "RegisterError", "RegisterBusyError", "CommitResult",
           "data_fingerprint", "DEFAULT_REGISTER", "SCHEMA_VERSION"]
