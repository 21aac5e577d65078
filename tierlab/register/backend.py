"""Connections to the register's database: an embedded DuckDB file or a PostgreSQL server.

Each :class:`Session` is one connection, opened for one operation of the register and closed
after it, so a register never blocks other processes between operations. Both engines get the
same SQL (``?`` parameters; PostgreSQL's are translated) and the same column kinds
(:data:`tierlab.register.schema.COLUMNS`); the small differences are here:

========================  =============================  ==================================
                          DuckDB file                    PostgreSQL
========================  =============================  ==================================
two writers               the second cannot open the     the second waits on the lock row
                          file: retried until timeout    until ``lock_timeout``
killed mid-commit         the write-ahead log has no     the server rolls the transaction
                          commit record: ignored         back
bulk rows in              an Arrow table, ``INSERT …     ``COPY … FROM STDIN`` (CSV written
                          SELECT``                       by Arrow)
rows out                  ``.df()``                      ``COPY (…) TO STDOUT`` read by Arrow
========================  =============================  ==================================
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tierlab.register.errors import RegisterBusyError, RegisterError

__all__ = ["Session", "DuckDBSession", "PostgresSession", "open_session", "is_url", "shown",
           "to_arrow", "to_frame"]

_ARROW = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32(),
          "ts": pa.timestamp("us")}
_URL = re.compile(r"^postgres(ql)?(\+\w+)?://", re.IGNORECASE)


def is_url(target: str | Path) -> bool:
    """True when ``target`` is a PostgreSQL URL (``postgresql://…``) rather than a file path."""
    return isinstance(target, str) and bool(_URL.match(target))


def shown(target: str | Path) -> str:
    """The register's name for messages: a path, or a URL with its password hidden."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(target))


# --------------------------------------------------------------------------- frames
def to_arrow(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pa.Table:
    """The columns ``kinds`` of ``frame`` as an Arrow table of the register's types.

    Missing values (``None``, ``NaN``, ``NaT``) become nulls.
    """
    arrays = []
    for col, kind in kinds.items():
        s = frame[col]
        if kind == "date":
            values: Any = pd.to_datetime(s).to_numpy(dtype="datetime64[D]")
        elif kind == "ts":
            values = pd.to_datetime(s).to_numpy(dtype="datetime64[us]")
        elif kind == "int":
            values = s.to_numpy(dtype=np.int64)
        elif kind == "float":
            values = s.to_numpy(dtype=float)
        else:
            values = s.astype(object).where(s.notna(), None).to_numpy()
        arrays.append(pa.array(values, type=_ARROW[kind], from_pandas=True))
    return pa.Table.from_arrays(arrays, names=list(kinds))


def to_frame(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Rows read back, with one dtype per kind whatever the engine returned.

    ``date``/``ts`` → ``datetime64[ns]``; ``str`` → object (``None`` when missing);
    ``int`` → int64 (``Int64`` when some are missing); ``float`` → float64.
    """
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col, kind in kinds.items():
        s = frame[col].reset_index(drop=True)
        if kind in ("date", "ts"):
            out[col] = pd.to_datetime(s).astype("datetime64[ns]")
        elif kind == "int":
            num = pd.to_numeric(s)
            out[col] = num.astype(np.int64) if num.notna().all() else num.astype("Int64")
        elif kind == "float":
            out[col] = pd.to_numeric(s).astype(float)
        else:
            out[col] = s.astype(object).where(s.notna(), None)
    return out


# --------------------------------------------------------------------------- sessions
class Session:
    """One connection to a register's database (use as a context manager).

    Attributes
    ----------
    engine : str
        ``"duckdb"`` or ``"postgresql"``.
    where : str
        The register's name in messages (path, or URL without password).
    """

    engine = ""

    def __init__(self, where: str, timeout: float):
        self.where = where
        self.timeout = timeout

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the engine-specific part
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def frame(self, sql: str, kinds: Mapping[str, str],
              params: Sequence[Any] = ()) -> pd.DataFrame:
        """Rows of ``sql`` whose columns are ``kinds`` (in that order), as :func:`to_frame`."""
        raise NotImplementedError

    def insert(self, table: str, rows: pa.Table) -> None:
        """Append the rows of an Arrow table (column names = the table's columns)."""
        raise NotImplementedError

    def tables(self) -> set[str]:
        raise NotImplementedError

    def lock_schema(self) -> None:
        """Serialise schema migrations between processes (inside a transaction)."""

    def close(self) -> None:
        raise NotImplementedError

    # common
    def begin(self) -> None:
        self.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.execute("ROLLBACK")
        except RegisterError:
            pass  # the connection is already gone or the transaction already ended

    def lock_writer(self, holder: str) -> None:
        """Take the register's write lock for the current transaction (the lock row)."""
        self.execute("UPDATE register_lock SET holder = ?, locked_at = CURRENT_TIMESTAMP "
                     "WHERE id = 1", (holder,))


class DuckDBSession(Session):
    """A connection to an embedded DuckDB register file.

    DuckDB lets one process at a time open a file for writing; another process trying meanwhile
    is retried every 50 ms until ``timeout`` seconds have passed.
    """

    engine = "duckdb"

    def __init__(self, path: Path, timeout: float):
        super().__init__(str(path), timeout)
        import duckdb

        self._duckdb = duckdb
        if path.is_dir():
            raise RegisterError(f"{path}: is a directory; give the register's file, e.g. "
                                f"{path / 'register.duckdb'}")
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.con = duckdb.connect(str(path))
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise RegisterError(
                        f"{path}: not a tierlab register (DuckDB cannot open it: {exc}). Give "
                        "the path of a register file, or a new path to create one") from None
                if time.monotonic() >= deadline:
                    raise RegisterBusyError(
                        f"{path}: the register is in use by another process and was not "
                        f"released within {timeout:g} s; try again when it has finished, or "
                        "pass a longer timeout") from None
                time.sleep(0.05)
            except duckdb.Error as exc:
                raise RegisterError(f"{path}: cannot open the register: {exc}") from None

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        try:
            return self.con.execute(sql, list(params))
        except self._duckdb.TransactionException as exc:
            raise RegisterBusyError(f"{self.where}: another writer in this process changed the "
                                    f"register at the same time ({exc}); try again") from None
        except self._duckdb.Error as exc:
            raise RegisterError(f"{self.where}: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._run(sql, params).fetchall())

    def frame(self, sql: str, kinds: Mapping[str, str],
              params: Sequence[Any] = ()) -> pd.DataFrame:
        raw = self._run(sql, params).df()
        raw.columns = list(kinds)
        return to_frame(raw, kinds)

    def insert(self, table: str, rows: pa.Table) -> None:
        view = "incoming_rows"
        self.con.register(view, rows)
        try:
            cols = ", ".join(rows.column_names)
            self._run(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {view}", ())
        finally:
            self.con.unregister(view)

    def tables(self) -> set[str]:
        return {str(r[0]) for r in self.rows(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()")}

    def close(self) -> None:
        self.con.close()


class PostgresSession(Session):
    """A connection to a register in a PostgreSQL database.

    Writers queue on the ``register_lock`` row; one that waits longer than ``timeout`` seconds
    fails with :class:`RegisterBusyError`. Readers are never blocked (MVCC).
    """

    engine = "postgresql"

    def __init__(self, url: str, timeout: float):
        super().__init__(shown(url), timeout)
        try:
            import psycopg
        except ImportError:
            raise RegisterError(f"{self.where}: a PostgreSQL register needs psycopg; install "
                                "it with pip install 'tierlab[postgres]'") from None
        self._psycopg = psycopg
        dsn = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url, flags=re.IGNORECASE)
        try:
            self.con = psycopg.connect(dsn, autocommit=True,
                                       connect_timeout=max(1, int(timeout)))
        except psycopg.Error as exc:
            raise RegisterError(f"{self.where}: cannot connect to the PostgreSQL register: "
                                f"{str(exc).strip()}") from None
        self.execute("SET DateStyle = 'ISO, YMD'")
        self.execute(f"SET lock_timeout = {max(1, int(timeout * 1000))}")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _fail(self, exc: Exception) -> RegisterError:
        if isinstance(exc, self._psycopg.errors.LockNotAvailable):
            return RegisterBusyError(
                f"{self.where}: another writer holds the register and did not release it "
                f"within {self.timeout:g} s; try again when it has finished, or pass a longer "
                "timeout")
        return RegisterError(f"{self.where}: {str(exc).strip()}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self.con.execute(self._sql(sql), list(params))
        except self._psycopg.Error as exc:
            raise self._fail(exc) from None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self.con.execute(self._sql(sql), list(params))
            return list(cur.fetchall())
        except self._psycopg.Error as exc:
            raise self._fail(exc) from None

    def frame(self, sql: str, kinds: Mapping[str, str],
              params: Sequence[Any] = ()) -> pd.DataFrame:
        buf = io.BytesIO()
        try:
            with self.con.cursor() as cur, cur.copy(
                    f"COPY ({self._sql(sql)}) TO STDOUT (FORMAT csv)", list(params)) as copy:
                for block in copy:
                    buf.write(block)
        except self._psycopg.Error as exc:
            raise self._fail(exc) from None
        names = list(kinds)
        if buf.tell() == 0:
            return to_frame(pd.DataFrame({c: pd.Series([], dtype=object) for c in names}),
                            kinds)
        buf.seek(0)
        # floats as text: PostgreSQL writes NaN/Infinity, which pandas parses and Arrow does not
        types = {c: (pa.string() if k == "float" else _ARROW[k]) for c, k in kinds.items()}
        table = pacsv.read_csv(
            buf, read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""],
                                                 strings_can_be_null=True,
                                                 quoted_strings_can_be_null=False))
        return to_frame(table.to_pandas(), kinds)

    def insert(self, table: str, rows: pa.Table) -> None:
        cols = ", ".join(rows.column_names)
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        try:
            with self.con.cursor() as cur, cur.copy(
                    f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                for batch in rows.to_batches(max_chunksize=200_000):
                    buf = io.BytesIO()
                    pacsv.write_csv(batch, buf, options)
                    copy.write(buf.getvalue())
        except self._psycopg.Error as exc:
            raise self._fail(exc) from None

    def tables(self) -> set[str]:
        return {str(r[0]) for r in self.rows(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()")}

    def lock_schema(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(727274)")  # any fixed key: tierlab's

    def close(self) -> None:
        self.con.close()


def open_session(target: str | Path, timeout: float) -> Session:
    """A session on the register at ``target`` (a file path or ``postgresql://`` URL)."""
    if is_url(target):
        return PostgresSession(str(target), timeout)
    return DuckDBSession(Path(target).expanduser(), timeout)

