"""The register's tables, their migrations, and the check that a database is a register.

One SQL subset that both DuckDB and PostgreSQL accept (``TEXT``, ``BIGINT``, ``DATE``,
``TIMESTAMP``, ``DOUBLE PRECISION``, sequences with ``nextval``). The large per-review tables
(``tier_state``, ``changes``, ``figures``) carry no primary key: DuckDB keeps such indexes in
memory, and the register validates uniqueness before it writes. PostgreSQL gets plain indexes
for the per-customer look-ups (``Migration.postgresql``).

Column kinds (``str``, ``int``, ``float``, ``date``, ``ts``) are the contract between the
tables, the Arrow tables written into them and the frames read back (:mod:`.backend`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tierlab.register.errors import RegisterError

if TYPE_CHECKING:  # pragma: no cover
    from tierlab.register.backend import Session

__all__ = ["APP", "COLUMNS", "MIGRATIONS", "SCHEMA_VERSION", "Migration", "ensure_schema"]

#: Marks a database as a tierlab register (``schema_version.app``).
APP = "tierlab-register"

#: Column kinds of every table, in table order.
COLUMNS: dict[str, dict[str, str]] = {
    "reviews": {
        "review_date": "date", "scheme_name": "str", "scheme_hash": "str", "scheme_text": "str",
        "scheme_source": "str", "review_freq": "str", "tier_names": "str",
        "data_fingerprint": "str", "run_at": "ts", "ran_by": "str", "tierlab_version": "str",
        "customers": "int", "changes": "int",
    },
    "tier_state": {
        "review_date": "date", "customer_id": "str", "tier": "str", "qualified": "str",
        "since": "date", "promote_streak": "int", "demote_streak": "int", "grace_left": "int",
        "streaks": "str",
    },
    "changes": {
        "review_date": "date", "customer_id": "str", "from_tier": "str", "to_tier": "str",
        "direction": "str", "rule": "str", "reason": "str", "reason_zh": "str",
    },
    "figures": {"review_date": "date", "customer_id": "str", "metric": "str", "value": "float"},
    "overrides": {
        "id": "int", "customer_id": "str", "tier": "str", "valid_from": "date",
        "valid_until": "date", "reason": "str", "created_at": "ts", "created_by": "str",
    },
    "notes": {"id": "int", "customer_id": "str", "text": "str", "created_at": "ts",
              "created_by": "str"},
}

#: SQL type of each column kind.
SQL_TYPES = {"str": "TEXT", "int": "BIGINT", "float": "DOUBLE PRECISION", "date": "DATE",
             "ts": "TIMESTAMP"}


@dataclass(frozen=True)
class Migration:
    """One step of the schema: statements for both engines, then PostgreSQL-only ones."""

    version: int
    description: str
    statements: tuple[str, ...]
    postgresql: tuple[str, ...] = field(default=())


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "reviews, tier state, changes, figures, overrides, notes", (
        "CREATE TABLE register_lock (id BIGINT PRIMARY KEY, holder TEXT, locked_at TIMESTAMP)",
        "INSERT INTO register_lock (id, holder, locked_at) VALUES (1, NULL, NULL)",
        """CREATE TABLE reviews (
            review_date DATE PRIMARY KEY, scheme_name TEXT NOT NULL, scheme_hash TEXT NOT NULL,
            scheme_text TEXT NOT NULL, scheme_source TEXT, review_freq TEXT NOT NULL,
            tier_names TEXT NOT NULL, data_fingerprint TEXT NOT NULL, run_at TIMESTAMP NOT NULL,
            ran_by TEXT NOT NULL, tierlab_version TEXT NOT NULL, customers BIGINT NOT NULL,
            changes BIGINT NOT NULL)""",
        """CREATE TABLE tier_state (
            review_date DATE NOT NULL, customer_id TEXT NOT NULL, tier TEXT NOT NULL,
            qualified TEXT, since DATE, promote_streak BIGINT NOT NULL,
            demote_streak BIGINT NOT NULL, grace_left BIGINT NOT NULL, streaks TEXT)""",
        """CREATE TABLE changes (
            review_date DATE NOT NULL, customer_id TEXT NOT NULL, from_tier TEXT,
            to_tier TEXT NOT NULL, direction TEXT NOT NULL, rule TEXT NOT NULL,
            reason TEXT NOT NULL, reason_zh TEXT)""",
        """CREATE TABLE figures (
            review_date DATE NOT NULL, customer_id TEXT NOT NULL, metric TEXT NOT NULL,
            value DOUBLE PRECISION)""",
        "CREATE SEQUENCE overrides_id",
        """CREATE TABLE overrides (
            id BIGINT PRIMARY KEY DEFAULT nextval('overrides_id'), customer_id TEXT NOT NULL,
            tier TEXT NOT NULL, valid_from DATE NOT NULL, valid_until DATE,
            reason TEXT NOT NULL, created_at TIMESTAMP NOT NULL, created_by TEXT NOT NULL)""",
        "CREATE SEQUENCE notes_id",
        """CREATE TABLE notes (
            id BIGINT PRIMARY KEY DEFAULT nextval('notes_id'), customer_id TEXT NOT NULL,
            text TEXT NOT NULL, created_at TIMESTAMP NOT NULL, created_by TEXT NOT NULL)""",
    ), postgresql=(
        "CREATE INDEX tier_state_review ON tier_state (review_date)",
        "CREATE INDEX tier_state_customer ON tier_state (customer_id)",
        "CREATE INDEX changes_review ON changes (review_date)",
        "CREATE INDEX changes_customer ON changes (customer_id)",
        "CREATE INDEX figures_customer ON figures (customer_id)",
    )),
)

#: The schema version this tierlab writes and reads.
SCHEMA_VERSION = MIGRATIONS[-1].version

_OURS = {"schema_version", "register_lock", *COLUMNS}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_schema(db: Session) -> int:
    """Check that ``db`` is a register and bring its schema up to date.

    A database without any table becomes a new register. Returns the schema version.

    Raises
    ------
    RegisterError
        The database holds other tables (DuckDB), some of the register's tables without a
        ``schema_version`` table, a schema written by a newer tierlab, or another application's
        ``schema_version``.
    """
    tables = db.tables()
    where = db.where
    if "schema_version" not in tables:
        clash = sorted(tables & _OURS) if db.engine == "postgresql" else sorted(tables)
        if clash:
            raise RegisterError(
                f"{where}: not a tierlab register: it holds table(s) {clash[:5]} but no "
                "schema_version table. Give the path of a register, or a new path (or an empty "
                "PostgreSQL database) to create one")
        version = 0
    else:
        version = _read_version(db)
    if version > SCHEMA_VERSION:
        raise RegisterError(
            f"{where}: the register has schema version {version}, written by a newer tierlab; "
            f"this tierlab reads up to version {SCHEMA_VERSION}. Upgrade tierlab")
    if version == SCHEMA_VERSION:
        return version
    db.begin()
    try:
        db.lock_schema()
        if "schema_version" in db.tables():  # another process may have migrated meanwhile
            version = _read_version(db)
        else:
            db.execute("CREATE TABLE schema_version (version BIGINT PRIMARY KEY, "
                       "app TEXT NOT NULL, description TEXT NOT NULL, "
                       "applied_at TIMESTAMP NOT NULL)")
        for m in MIGRATIONS:
            if m.version <= version:
                continue
            for sql in m.statements + (m.postgresql if db.engine == "postgresql" else ()):
                db.execute(sql)
            db.execute("INSERT INTO schema_version (version, app, description, applied_at) "
                       "VALUES (?, ?, ?, ?)", (m.version, APP, m.description, _now()))
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return SCHEMA_VERSION


def _read_version(db: Session) -> int:
    rows = db.rows("SELECT app, MAX(version) FROM schema_version GROUP BY app")
    apps = {str(r[0]) for r in rows}
    if apps != {APP}:
        raise RegisterError(
            f"{db.where}: not a tierlab register: its schema_version table belongs to "
            f"{sorted(apps) or 'nothing (it is empty)'}. Give the path of a register, or a new "
            "path to create one")
    return int(rows[0][1])
