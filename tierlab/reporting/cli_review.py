"""The ``tierlab review`` command and ``tierlab tiers --register``: the tier register's CLI.

``tierlab review TRANSACTIONS --scheme FILE --register PATH_OR_URL [--until DATE] [--dry-run]
[--rebuild NEW_PATH]`` commits the next due review(s) (:meth:`Register.review`); a second run
on the same data is a no-op that says so. ``tierlab tiers --register PATH_OR_URL --out FILE``
writes the tier management table of the last committed review, computing nothing.

Exit status as for every ``tierlab`` command: 0 done (also "already up to date"), 1 the data,
the scheme or the register refused it, 2 the command line is wrong. Progress and the summary go
to stderr; stdout gets the one result line (the register's message, or the table's path), and
with ``--dry-run`` the changes that would be committed, as CSV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tierlab.errors import ArgumentError, TierlabError
from tierlab.reporting.arguments import add_input_options

__all__ = ["add_review_parser", "add_register_option", "cmd_review", "cmd_tiers_register",
           "REVIEW_EXAMPLES"]

REVIEW_EXAMPLES = """\
examples:
  tierlab review data/transactions.csv --scheme rules/tiers.yaml \\
      --register reports/register.duckdb                 # the monthly review (cron)
  tierlab review data/transactions.csv --scheme rules/tiers.yaml \\
      --register reports/register.duckdb --dry-run       # what would change
  tierlab review data/transactions.csv --scheme rules/new_tiers.yaml \\
      --register postgresql://tiers@db/loyalty --until 2025-06-30
  tierlab review data/transactions.csv --scheme rules/new_tiers.yaml \\
      --register reports/register.duckdb --rebuild reports/register_new.duckdb
  tierlab tiers --register reports/register.duckdb --out reports/tiers.xlsx
"""


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)



def add_review_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``review`` command to the subparsers ``sub`` of the ``tierlab`` parser."""
    rev = sub.add_parser(
        "review", help="commit the next due tier review(s) to the tier register",
        description="Compute the next due review(s) up to --until (default: the last complete "
                    "review period in the data), continuing from the register's last "
                    "committed state, and commit each in one transaction. Running it again on "
                    "the same data is a no-op that says so; an earlier review or a gap is "
                    "refused. A new scheme file applies from the next review and is recorded.",
        epilog=REVIEW_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    rev.add_argument("transactions", metavar="TRANSACTIONS",
                     help="the full transaction log (.csv, .txt, .tsv, .xlsx, .parquet)")
    rev.add_argument("--scheme", required=True, metavar="FILE", help="tier scheme (YAML)")
    rev.add_argument("--register", required=True, metavar="PATH_OR_URL",
                     help="register: a DuckDB file (created when missing) or postgresql://…")
    rev.add_argument("--until", metavar="DATE",
                     help="last review to compute (default: the last complete period)")
    rev.add_argument("--dry-run", action="store_true",
                     help="compute and print the changes; commit nothing")
    rev.add_argument("--rebuild", metavar="NEW_PATH_OR_URL",
                     help="replay every review from scratch into this NEW register "
                          "(overrides and notes copied; the register itself is not written)")
    add_input_options(rev)
    rev.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                     help="wait this long for another writer (default 30)")
    return rev


def add_register_option(tiers: argparse.ArgumentParser) -> None:
    """Add ``--register`` to the ``tiers`` command (the table from a register)."""
    tiers.add_argument("--register", metavar="PATH_OR_URL",
                       help="write the table of the register's last committed review instead "
                            "of running a scheme (TRANSACTIONS and --scheme are not given)")


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from tierlab.io.load import load_customers, load_transactions
    from tierlab.tiers.scheme import TierScheme

    scheme = TierScheme.from_yaml(args.scheme)
    res = load_transactions(args.transactions, columns=dict(args.columns) or None,
                            date_format=args.date_format)
    if res.summary["rows_rejected"]:
        _err(f"{args.transactions}: {res.summary['rows_rejected']:,} rows rejected")
    customers = None
    if args.customers:
        customers = load_customers(args.customers,
                                   columns=dict(args.customer_columns) or None).customers
    return scheme, res.transactions, customers


def cmd_review(args: argparse.Namespace) -> int:
    """Run ``tierlab review``; returns the exit status."""
    from tierlab.register import Register

    if args.rebuild and args.dry_run:
        _err("tierlab review: error: --rebuild and --dry-run do not go together (a rebuild "
             "writes a new register; delete it if unwanted)")
        return 2
    try:
        scheme, tx, customers = _load(args)
        reg = Register(args.register, timeout=args.timeout)
        if args.rebuild:
            new, out = reg.rebuild(args.rebuild, tx, scheme, args.until, customers=customers)
        else:
            out = reg.review(tx, scheme, args.until, dry_run=args.dry_run, customers=customers)
    except ArgumentError as exc:
        _err(f"tierlab review: error: {exc}")
        return 2
    except TierlabError as exc:
        _err(f"tierlab review: error: {exc}")
        return 1
    except OSError as exc:
        _err(f"tierlab review: error: {exc}")
        return 1
    for r in out.results:
        _err(f"  {r.message}")
    for note in out.notes:
        _err(f"  note: {note}")
    print(out.message, flush=True)
    if args.dry_run and len(out.changes):
        cols = ["review", "customer_id", "from_tier", "to_tier", "rule", "reason"]
        frame = out.changes[cols].sort_values(["review", "customer_id"], kind="stable")
        frame.assign(review=frame["review"].dt.date).to_csv(sys.stdout, index=False)
    return 0


def cmd_tiers_register(args: argparse.Namespace) -> int:
    """Run ``tierlab tiers --register``: the table of the last committed review.

    A wrong combination (no data and no register, or both) exits 2 like argparse's usage errors.
    """
    if not args.register:  # a usage error, as argparse gives for a missing option
        _err("tierlab tiers: error: the following arguments are required: TRANSACTIONS and "
             "--scheme (or --register PATH_OR_URL for the committed table)")
        raise SystemExit(2)
    if args.transactions or args.scheme:
        _err("tierlab tiers: error: --register writes the committed table; leave out "
             "TRANSACTIONS and --scheme (or --register to run the scheme)")
        raise SystemExit(2)
    import os

    from tierlab.io.export import export_tier_table
    from tierlab.io.load import load_customers
    from tierlab.register import Register

    try:
        hist = Register(args.register).as_history()
        customers = None
        if args.customers:
            customers = load_customers(args.customers,
                                       columns=dict(args.customer_columns) or None).customers
        salt = args.salt or os.environ.get("TIERLAB_SALT")
        path = export_tier_table(hist, customers, args.out, mask_contacts=not args.show_contacts,
                                 pseudonymize=args.pseudonymize, salt=salt,
                                 lang=getattr(args, "lang", "en"))
    except ArgumentError as exc:
        _err(f"tierlab tiers: error: {exc}")
        return 2
    except TierlabError as exc:
        _err(f"tierlab tiers: error: {exc}")
        return 1
    except OSError as exc:
        _err(f"tierlab tiers: error: cannot write {args.out}: {exc.strerror or exc}")
        return 1
    _err(f"{hist.scheme.name}: {len(hist.customer_ids):,} customers at the committed review of "
         f"{hist.reviews[-1].date()} ({args.register})"
         + ("" if args.show_contacts else "; contacts masked"))
    print(Path(path))
    return 0
