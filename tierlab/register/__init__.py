"""The tier register: committed reviews in an embedded DuckDB file or a PostgreSQL database.

>>> from tierlab.register import Register   # doctest: +SKIP
>>> reg = Register("reports/register.duckdb")   # doctest: +SKIP
>>> reg.review(tx, scheme).message               # doctest: +SKIP

Modules: :mod:`.schema` (tables, migrations), :mod:`.backend` (DuckDB/PostgreSQL),
:mod:`.commit` (what a review commit must satisfy), :mod:`.register` (the :class:`Register`),
:mod:`.review` (the scheduled review from the committed state), :mod:`.state_codec` (the
engine's state ↔ rows), :mod:`.views` and :mod:`.history` (the read side), :mod:`.notify`.
"""

from tierlab.register.commit import CommitResult, data_fingerprint
from tierlab.register.errors import RegisterBusyError, RegisterError
from tierlab.register.history import RegisterHistory
from tierlab.register.register import DEFAULT_REGISTER, Register
from tierlab.register.review import ReviewOutcome
from tierlab.register.schema import SCHEMA_VERSION

__all__ = ["Register", "RegisterError", "RegisterBusyError", "CommitResult", "ReviewOutcome",
           "RegisterHistory", "data_fingerprint", "DEFAULT_REGISTER", "SCHEMA_VERSION"]
