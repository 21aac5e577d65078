"""The tier register: committed reviews, month after month, in DuckDB or PostgreSQL.

A :class:`Register` opens one connection per operation and closes it after, so several
processes can use one register; a review is written in one database transaction under the
register's write lock (see :mod:`tierlab.register.backend` for how each engine does it).
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tierlab import __version__
from tierlab.calendar import as_day
from tierlab.errors import ArgumentError, DataError, did_you_mean
from tierlab.i18n import check_lang
from tierlab.register import commit as rules
from tierlab.register import notify, views
from tierlab.register.backend import Session, open_session, shown, to_arrow
from tierlab.register.commit import CommitResult
from tierlab.register.errors import RegisterError
from tierlab.register.history import RegisterHistory
from tierlab.register.review import ReviewOutcome, rebuild_into, run_review
from tierlab.register.schema import COLUMNS, ensure_schema
from tierlab.tiers.scheme import TierScheme

__all__ = ["Register", "DEFAULT_REGISTER"]

#: Where a register lives when no path is given.
DEFAULT_REGISTER = Path("reports") / "register.duckdb"

_REVIEW_KINDS = COLUMNS["reviews"]
_STATE_KINDS = {k: v for k, v in COLUMNS["tier_state"].items() if k != "review_date"}
_CHANGE_KINDS = COLUMNS["changes"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class Register:
    """Committed tier reviews in a DuckDB file (default) or a PostgreSQL database.

    Parameters
    ----------
    path_or_url : str or Path, default ``reports/register.duckdb``
        A file path (created with its folder when missing) or ``postgresql://user@host/db``.
    timeout : float, default 30
        Seconds to wait for another writer before :class:`RegisterBusyError`.

    Raises
    ------
    RegisterError
        The file or database is not a register (another DuckDB file, a CSV, a newer schema).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> reg = Register(pathlib.Path(tempfile.mkdtemp()) / "register.duckdb")
    >>> reg.reviews().empty
    True
    """

    def __init__(self, path_or_url: str | Path = DEFAULT_REGISTER, *, timeout: float = 30.0):
        self.target = path_or_url
        self.where = shown(path_or_url)
        self.timeout = float(timeout)
        with self._session() as db:
            self.schema_version = ensure_schema(db)

    def _session(self) -> Session:
        return open_session(self.target, self.timeout)

    def session(self) -> Session:
        """A new connection to the register's database, for ``with`` (closed after)."""
        return self._session()

    def __repr__(self) -> str:
        last = self.last_review()
        return (f"<Register {self.where}: "
                + (f"last review {last.date()}>" if last is not None else "no review yet>"))

    # ----------------------------------------------------------------- reviews
    def reviews(self) -> pd.DataFrame:
        """Committed reviews, oldest first: date, scheme (name, hash, text), data, who, when."""
        with self._session() as db:
            return db.frame(f"SELECT {', '.join(_REVIEW_KINDS)} FROM reviews "
                            "ORDER BY review_date", _REVIEW_KINDS)

    def last_review(self) -> pd.Timestamp | None:
        """Date of the last committed review (None before the first)."""
        with self._session() as db:
            rows = db.rows("SELECT MAX(review_date) FROM reviews")
        return None if rows[0][0] is None else pd.Timestamp(rows[0][0])

    def _review(self, db: Session, review_date: object | None) -> pd.Series:
        reviews = db.frame(f"SELECT {', '.join(_REVIEW_KINDS)} FROM reviews "
                           "ORDER BY review_date", _REVIEW_KINDS)
        if reviews.empty:
            raise RegisterError(f"{self.where}: no review committed yet")
        if review_date is None:
            return reviews.iloc[-1]
        ts = as_day(review_date, "review_date", error=ArgumentError)
        hit = reviews.index[reviews["review_date"] == ts]
        if not len(hit):
            raise RegisterError(
                f"{self.where}: no committed review on {ts.date()}; committed: "
                f"{[d.date().isoformat() for d in reviews['review_date']][-6:]}")
        return reviews.loc[hit[0]]

    def scheme(self, review_date: object | None = None) -> TierScheme:
        """The scheme a committed review used (default: the last review)."""
        import yaml

        with self._session() as db:
            row = self._review(db, review_date)
        source = row["scheme_source"] or f"{self.where} (review {row['review_date'].date()})"
        return TierScheme.from_dict(yaml.safe_load(row["scheme_text"]), source=source)

    def state(self, review_date: object | None = None) -> pd.DataFrame:
        """Tier state per customer after a review (default: the last): what the next continues.

        Columns are :data:`~tierlab.register.commit.STATE_COLUMNS`, the shape
        :meth:`commit_review` takes; customers in text order.
        """
        with self._session() as db:
            day = self._review(db, review_date)["review_date"]
            rows = db.frame(f"SELECT {', '.join(_STATE_KINDS)} FROM tier_state "
                            "WHERE review_date = ?", _STATE_KINDS, (day.date(),))
        return rows.iloc[views.text_order(rows["customer_id"].to_numpy())].reset_index(
            drop=True)

    # ----------------------------------------------------------------- read side
    def _dtype(self, db: Session) -> pd.CategoricalDtype:
        reviews = db.frame("SELECT review_date, tier_names FROM reviews ORDER BY review_date",
                           {"review_date": "date", "tier_names": "str"})
        if reviews.empty:
            return views.tier_dtype([])
        seen = [n for text in reviews["tier_names"] for n in json.loads(text)]
        latest = json.loads(reviews["tier_names"].iloc[-1])
        return views.tier_dtype(latest, seen)

    def current(self, lang: str = "en") -> pd.DataFrame:
        """Like ``TierHistory.current``: tier, label, since, previous_tier, reason per customer."""
        lang = check_lang(lang)
        with self._session() as db:
            dtype = self._dtype(db)
            last = db.rows("SELECT MAX(review_date) FROM reviews")[0][0]
            state = db.frame("SELECT customer_id, tier FROM tier_state WHERE review_date = ?",
                             {"customer_id": "str", "tier": "str"}, (last,))
            latest = db.frame(
                f"SELECT {', '.join('c.' + c for c in _CHANGE_KINDS)} FROM changes c JOIN "
                "(SELECT customer_id, MAX(review_date) AS last FROM changes "
                "GROUP BY customer_id) m "
                "ON c.customer_id = m.customer_id AND c.review_date = m.last", _CHANGE_KINDS)
        labels = self.scheme().labels if last is not None else {}
        return views.current_frame(state, latest, dtype, labels, lang)

    def history(self) -> pd.DataFrame:
        """Like ``TierHistory.tiers``: customer × review date, ordered tier categories."""
        with self._session() as db:
            dtype = self._dtype(db)
            dates = db.frame("SELECT review_date FROM reviews ORDER BY review_date",
                             {"review_date": "date"})
            rows = db.frame("SELECT review_date, customer_id, tier FROM tier_state",
                            {"review_date": "date", "customer_id": "str", "tier": "str"})
        return views.history_frame(rows, pd.DatetimeIndex(dates["review_date"]), dtype)

    def changes(self, lang: str = "en") -> pd.DataFrame:
        """Like ``TierHistory.changes``; ``lang="zh"`` gives the Chinese reasons where stored."""
        lang = check_lang(lang)
        with self._session() as db:
            dtype = self._dtype(db)
            rows = db.frame(f"SELECT {', '.join(_CHANGE_KINDS)} FROM changes", _CHANGE_KINDS)
        return views.changes_frame(rows, dtype, lang)

    def explain(self, customer_id: object, lang: str = "en") -> pd.DataFrame:
        """Like ``TierHistory.explain``: one customer's reviews, figures, tiers and reasons."""
        lang = check_lang(lang)
        cid = str(customer_id)
        with self._session() as db:
            state = db.frame("SELECT review_date, qualified, tier FROM tier_state "
                             "WHERE customer_id = ?",
                             {"review_date": "date", "qualified": "str", "tier": "str"},
                             (cid,))
            if state.empty:
                some = db.rows("SELECT DISTINCT customer_id FROM changes LIMIT 100000")
                raise DataError(f"customer {cid!r} is not in the register {self.where}"
                                f"{did_you_mean(cid, [str(r[0]) for r in some])}")
            figures = db.frame("SELECT review_date, metric, value FROM figures "
                               "WHERE customer_id = ?",
                               {"review_date": "date", "metric": "str", "value": "float"},
                               (cid,))
            changes = db.frame(f"SELECT {', '.join(_CHANGE_KINDS)} FROM changes "
                               "WHERE customer_id = ?", _CHANGE_KINDS, (cid,))
        return views.explain_frame(state, figures, changes, lang)

    def as_history(self) -> RegisterHistory:
        """The committed reviews as a :class:`~tierlab.TierHistory` (what notebooks take).

        ``tiers``, ``codes``, ``at`` and the plots read the committed tiers; ``changes``,
        ``current`` and ``explain`` are :meth:`changes`, :meth:`current`, :meth:`explain`.
        """
        if self.last_review() is None:
            raise RegisterError(f"{self.where}: no review committed yet; run "
                                "`tierlab review` first")
        tiers = self.history()
        with self._session() as db:
            dtype = self._dtype(db)
            rows = db.frame("SELECT review_date, customer_id, qualified AS tier FROM tier_state",
                            {"review_date": "date", "customer_id": "str", "tier": "str"})
        qualified = views.history_frame(rows, pd.DatetimeIndex(tiers.columns), dtype)
        return RegisterHistory(self, self.scheme(), tiers, qualified)

    # ----------------------------------------------------------------- the scheduled review
    def review(self, transactions: pd.DataFrame, scheme: TierScheme, until: object | None = None,
               *, dry_run: bool = False, customers: pd.DataFrame | None = None,
               ran_by: str | None = None) -> ReviewOutcome:
        """Compute and commit the next due review(s), continuing from the committed state.

        Parameters
        ----------
        transactions : DataFrame
            The full transaction log (canonical columns); the rules read past months.
        scheme : TierScheme
            Applies from the next review; a scheme that differs from the last review's is
            recorded with the reviews it applies to.
        until : date-like, optional
            Last review to compute (a date inside a period means the period before it).
            Default: the last complete review period in the data.
        dry_run : bool, default False
            Compute, commit nothing: the outcome lists what would change.
        customers : DataFrame, optional
            Customer table, for schemes that test customer attributes.
        ran_by : str, optional
            Who or what ran it (default ``user@host``).

        Returns
        -------
        ReviewOutcome
            The reviews committed (none when up to date: a no-op that says so) and their
            changes.

        Raises
        ------
        DataError
            The transactions lack customers of the register or the months before the review.
        RegisterError
            A committed tier is not in the new scheme; another writer committed meanwhile.
        """
        return run_review(self, transactions, scheme, until, dry_run=dry_run,
                          customers=customers, ran_by=ran_by)

    def rebuild(self, new_path_or_url: str | Path, transactions: pd.DataFrame,
                scheme: TierScheme, until: object | None = None, *,
                customers: pd.DataFrame | None = None,
                ran_by: str | None = None) -> tuple[Register, ReviewOutcome]:
        """Replay every review from scratch with ``scheme`` into a NEW register.

        The committed reviews here stay as they are; overrides and notes are copied. The new
        register must not hold a review yet. Returns it with the outcome of the replay.
        """
        return rebuild_into(self, Register(new_path_or_url, timeout=self.timeout),
                            transactions, scheme, until, customers=customers, ran_by=ran_by)

    # ----------------------------------------------------------------- overrides and notes
    def overrides(self) -> pd.DataFrame:
        """Manual overrides as the engine takes them: customer_id, tier, from, until, reason."""
        kinds = {"customer_id": "str", "tier": "str", "valid_from": "date",
                 "valid_until": "date", "reason": "str"}
        with self._session() as db:
            rows = db.frame(f"SELECT {', '.join(kinds)} FROM overrides ORDER BY id", kinds)
        return rows.rename(columns={"valid_from": "from", "valid_until": "until"})

    def add_override(self, customer_id: object, tier: str, start: object,
                     until: object | None = None, reason: str = "manual override", *,
                     by: str | None = None) -> int:
        """Fix a customer's tier for the reviews from ``start`` to ``until`` (inclusive).

        Reviews already committed do not change; the override applies to the reviews committed
        afterwards. Contact details in ``reason`` are masked before storing. Returns its id.
        """
        cid = str(customer_id).strip()
        if not cid:
            raise ArgumentError("add_override: customer_id is empty")
        begin = as_day(start, "start", error=ArgumentError)
        end = None if until is None else as_day(until, "until", error=ArgumentError)
        if end is not None and end < begin:
            raise ArgumentError(f"add_override: until={end.date()} is before "
                                f"start={begin.date()}")
        if self.last_review() is not None:
            names = self.scheme().tier_names
            if tier not in names:
                raise DataError(f"add_override: unknown tier {tier!r}"
                                f"{did_you_mean(tier, names)}; the scheme's tiers are {names}")
        row = pd.DataFrame({"customer_id": [cid], "tier": [str(tier)], "valid_from": [begin],
                            "valid_until": [end], "reason": [notify.masked_text(reason)],
                            "created_at": [_now()], "created_by": [by or _who()]})
        return self._append("overrides", row)

    def notes(self, customer_id: object | None = None) -> pd.DataFrame:
        """Notes (contact details masked), oldest first; all or one customer's."""
        kinds = COLUMNS["notes"]
        sql = f"SELECT {', '.join(kinds)} FROM notes"
        params: tuple[str, ...] = ()
        if customer_id is not None:
            sql, params = sql + " WHERE customer_id = ?", (str(customer_id),)
        with self._session() as db:
            return db.frame(sql + " ORDER BY id", kinds, params)

    def add_note(self, customer_id: object, text: str, *, by: str | None = None) -> int:
        """Add a note on a customer; phone numbers and e-mails in it are masked. Returns its id."""
        cid = str(customer_id).strip()
        if not cid or not str(text).strip():
            raise ArgumentError("add_note: give a customer_id and a non-empty text")
        row = pd.DataFrame({"customer_id": [cid], "text": [notify.masked_text(text)],
                            "created_at": [_now()], "created_by": [by or _who()]})
        return self._append("notes", row)

    def _append(self, table: str, row: pd.DataFrame) -> int:
        kinds = {k: v for k, v in COLUMNS[table].items() if k != "id"}
        with self._session() as db:
            db.begin()
            try:
                db.insert(table, to_arrow(row, kinds))
                new_id = int(db.rows(f"SELECT MAX(id) FROM {table}")[0][0])
                db.commit()
            except BaseException:
                db.rollback()
                raise
        return new_id

    # ----------------------------------------------------------------- write side
    def commit_review(self, review_date: object, scheme: TierScheme, state_frame: pd.DataFrame,
                      changes_frame: pd.DataFrame, *, data_fingerprint: str,
                      ran_by: str | None = None, figures: pd.DataFrame | None = None,
                      on_step: Callable[[str], None] | None = None) -> CommitResult:
        """Commit one review in one database transaction.

        Parameters
        ----------
        review_date : date-like
            End of one of the scheme's review periods.
        scheme : TierScheme
            The scheme this review applied (stored with its content hash).
        state_frame : DataFrame
            One row per customer with a tier after the review; columns
            :data:`~tierlab.register.commit.STATE_COLUMNS` (customer_id and tier required).
        changes_frame : DataFrame
            This review's changes: customer_id, from_tier (empty for new), to_tier, direction
            (new/up/down), rule (initial/promotion/demotion/override), reason, optional
            reason_zh and review (= review_date).
        data_fingerprint : str
            Identifies the data the review saw (:func:`data_fingerprint`).
        ran_by : str, optional
            Who or what ran it (default ``user@host``).
        figures : DataFrame, optional
            customer_id plus one numeric column per metric (shown by :meth:`explain`).
        on_step : callable, optional
            Called with the name of each step (``locked``, ``reviews``, ``tier_state``,
            ``changes``, ``figures``, ``commit``): progress for long commits.

        Returns
        -------
        CommitResult
            ``committed=False`` when that review was already committed (nothing written).

        Raises
        ------
        RegisterError
            The review is earlier than the last committed one, or leaves a gap.
        RegisterBusyError
            Another writer held the register longer than ``timeout``.
        DataError, ArgumentError
            The frames are inconsistent (see :mod:`tierlab.register.commit`).
        """
        # long: one transaction from lock to commit, its steps kept in order in one place
        step = on_step or (lambda name: None)
        day = rules.review_timestamp(review_date, scheme)
        digest = rules.scheme_hash(scheme)
        with self._session() as db:  # refuse early, before validating large frames
            done = self._refuse_out_of_order(db, day, scheme, digest)
        if done is not None:
            return done
        state = rules.state_rows(state_frame, day, scheme)
        changes = rules.change_rows(changes_frame, day, scheme, state)
        figs = rules.figure_rows(figures, day, state)
        with self._session() as db:
            db.begin()
            try:
                db.lock_writer(ran_by or _who())
                step("locked")
                done = self._refuse_out_of_order(db, day, scheme, digest)  # again, locked
                if done is not None:
                    db.rollback()
                    return done
                last, previous, previous_hash = self._previous(db)
                rules.check_continuity(state, changes, previous, day, last)
                review = pd.DataFrame([{
                    "review_date": day, "scheme_name": scheme.name, "scheme_hash": digest,
                    "scheme_text": rules.scheme_text(scheme), "scheme_source": scheme.source,
                    "review_freq": scheme.review, "tier_names": json.dumps(scheme.tier_names,
                                                                           ensure_ascii=False),
                    "data_fingerprint": str(data_fingerprint), "run_at": _now(),
                    "ran_by": ran_by or _who(), "tierlab_version": __version__,
                    "customers": state.num_rows, "changes": changes.num_rows}])
                db.insert("reviews", to_arrow(review, _REVIEW_KINDS))
                step("reviews")
                db.insert("tier_state", state)
                step("tier_state")
                db.insert("changes", changes)
                step("changes")
                db.insert("figures", figs)
                step("figures")
                db.commit()
                step("commit")
            except BaseException:
                db.rollback()
                raise
        changed = previous_hash is not None and previous_hash != digest
        return CommitResult(day, True, f"{self.where}: committed review {day.date()} "
                            f"({state.num_rows} customers, {changes.num_rows} changes"
                            + (", new scheme" if changed else "") + ")",
                            state.num_rows, changes.num_rows, changed)

    def _refuse_out_of_order(self, db: Session, day: pd.Timestamp, scheme: TierScheme,
                             digest: str) -> CommitResult | None:
        """None when ``day`` is the next due review; a no-op result when already committed."""
        rows = db.rows("SELECT review_date, scheme_hash, data_fingerprint FROM reviews "
                       "ORDER BY review_date")
        dates = [pd.Timestamp(r[0]) for r in rows]
        if day in dates:
            r = rows[dates.index(day)]
            same = r[1] == digest
            return CommitResult(day, False, (
                f"{self.where}: review {day.date()} is already committed; nothing written"
                + ("" if same else " (it was committed with another scheme; announced tiers "
                   "do not change)")))
        if dates and day < dates[-1]:
            raise RegisterError(
                f"{self.where}: review {day.date()} is earlier than the last committed review "
                f"{dates[-1].date()}; committed reviews are not rewritten. To replay from "
                "scratch, rebuild into a new register")
        if dates:
            due = rules.next_due(dates[-1], scheme)
            if day > due:
                raise RegisterError(
                    f"{self.where}: review {day.date()} would leave a gap: the next due review "
                    f"after {dates[-1].date()} is {due.date()}; commit that one first")
        return None

    def _previous(self, db: Session) -> tuple[pd.Timestamp | None, pd.DataFrame, str | None]:
        rows = db.rows("SELECT review_date, scheme_hash FROM reviews "
                       "ORDER BY review_date DESC LIMIT 1")
        kinds = {"customer_id": "str", "tier": "str"}
        if not rows:
            return None, pd.DataFrame({"customer_id": [], "tier": []}), None
        prev = db.frame("SELECT customer_id, tier FROM tier_state WHERE review_date = ?",
                        kinds, (rows[0][0],))
        return pd.Timestamp(rows[0][0]), prev, str(rows[0][1])

    # ----------------------------------------------------------------- notifications
    def notification_list(self, review_date: object | None = None,
                          customers: pd.DataFrame | None = None, lang: str = "en",
                          mask_contacts: bool = True) -> pd.DataFrame:
        """Customers whose tier changed at a review, with the reason in their language.

        See :func:`tierlab.register.notify.notification_list`.
        """
        lang = check_lang(lang)
        with self._session() as db:
            day = self._review(db, review_date)["review_date"]
            rows = db.frame(f"SELECT {', '.join(_CHANGE_KINDS)} FROM changes "
                            "WHERE review_date = ?", _CHANGE_KINDS, (day.date(),))
            dtype = self._dtype(db)
        labels = self.scheme(day).labels
        return notify.notification_list(rows, dtype, labels, customers, lang, mask_contacts)

    def export_notifications(self, path: str | Path, review_date: object | None = None,
                             customers: pd.DataFrame | None = None, lang: str = "en",
                             mask_contacts: bool = True) -> Path:
        """Write :meth:`notification_list` as CSV (UTF-8 with BOM) or Excel (by suffix)."""
        frame = self.notification_list(review_date, customers, lang, mask_contacts)
        return notify.write(frame, path)
