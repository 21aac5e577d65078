"""The ``tierlab`` command: ``report``, ``tiers`` and ``check-scheme``.

Exit status: 0 success; 1 the run failed, the data or the scheme is invalid (``check-scheme``:
the scheme has errors; lint warnings alone exit 0); 2 the command line is wrong (unknown
option, a value that is not a date, unknown notebook or notebook parameter, a parameter of the
wrong type: argparse's usage errors and :class:`~tierlab.errors.ArgumentError`) — nothing ran.
Progress goes to stderr; the one result line (the report's or table's path) to stdout, so
``tierlab report segmentation`` is usable from cron.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tierlab.errors import ArgumentError, TierlabError
from tierlab.reporting import cli_review

__all__ = ["main", "build_parser"]

EXAMPLES = """\
examples:
  tierlab report segmentation --out reports/
  tierlab report segmentation -p scheme data/rules/monthly_spend_strict.yaml -p holdout_months 3
  tierlab report impact -y "{schemes: [data/rules/hotel_loyalty.yaml,
                                       data/rules/hotel_loyalty_strict.yaml]}"
  tierlab report segmentation -f params.yaml
  tierlab report segmentation --parameters          # list the notebook's parameters
  tierlab tiers data/sample/transactions.csv --scheme data/rules/monthly_spend.yaml \\
      --customers data/sample/customers.csv --out reports/tiers.xlsx
  tierlab check-scheme data/rules/*.yaml
"""


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected name=header, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _date(text: str) -> str:
    """A ``--as-of`` value: checked to be a date, passed on as written."""
    import pandas as pd

    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD"
                                         ) from None
    return text


# long because it declares every option of every command in one place, as --help shows them
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tierlab`` command."""
    parser = argparse.ArgumentParser(
        prog="tierlab", description="Customer tiering: reports, tier tables and scheme checks.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    rep = sub.add_parser(
        "report", help="run a study notebook and publish an HTML report",
        description="Run a notebook with papermill into OUT/NAME/<date_time>/ (executed .ipynb, "
                    "HTML without code, metrics.json, tables) and, only if it succeeds, publish "
                    "it as OUT/NAME/latest/ and OUT/NAME.html. A failed run exits 1, prints the "
                    "failing cell's error and keeps its notebook in OUT/NAME/<date_time>_failed/.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("notebook", metavar="NAME|PATH",
                     help="segmentation, impact, explore, or a path to an .ipynb")
    rep.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("KEY", "VALUE"),
                     help="a parameter (numbers and True/False/None are converted; repeatable)")
    rep.add_argument("-y", "--parameters-yaml", metavar="YAML",
                     help='parameters as a YAML mapping, e.g. "{as_of: 2025-06-30}"')
    rep.add_argument("-f", "--parameters-file", action="append", default=[], metavar="FILE",
                     help="a YAML file of parameters (repeatable; -y and -p override it)")
    rep.add_argument("--out", default="reports", metavar="DIR",
                     help="folder for the reports (default: reports/)")
    rep.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                     help="fail when a single cell runs longer than this")
    rep.add_argument("--keep", type=int, default=None, metavar="N",
                     help="after a successful run keep only the newest N run folders")
    rep.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    rep.add_argument("--parameters", dest="list_parameters", action="store_true",
                     help="list the notebook's parameters and exit")

    tiers = sub.add_parser(
        "tiers", help="write the tier management table (.xlsx or .csv)",
        description="Run a tier scheme over a transaction log and write the tier management "
                    "table: customer id, name, contact (masked), tier, label, tier since, "
                    "previous tier, reason, notes; .xlsx adds 'summary' and 'changes' sheets, "
                    ".csv writes <stem>_summary.csv and <stem>_changes.csv beside it.")
    tiers.add_argument("transactions", metavar="TRANSACTIONS", nargs="?",
                       help="transaction log (.csv, .txt, .tsv, .xlsx, .parquet)")
    tiers.add_argument("--scheme", metavar="FILE", help="tier scheme (YAML)")
    tiers.add_argument("--customers", metavar="FILE", help="customer table")
    tiers.add_argument("--columns", nargs="+", type=_pair, default=[], metavar="NAME=HEADER",
                       help="transaction column mapping, e.g. customer_id=客户ID amount=消费金额")
    tiers.add_argument("--customer-columns", nargs="+", type=_pair, default=[],
                       metavar="NAME=HEADER", help="customer table column mapping")
    tiers.add_argument("--date-format", metavar="FMT", help="date format, e.g. %%d/%%m/%%Y")
    tiers.add_argument("--overrides", metavar="FILE",
                       help="manual overrides (customer_id, tier, from, until, reason)")
    tiers.add_argument("--as-of", metavar="DATE", type=_date,
                       help="last day of data to use (default: the last date in the data)")
    tiers.add_argument("--out", required=True, metavar="FILE.xlsx|FILE.csv",
                       help="where to write the table")
    tiers.add_argument("--show-contacts", action="store_true",
                       help="write phone numbers and e-mail addresses unmasked")
    tiers.add_argument("--pseudonymize", action="store_true",
                       help="replace customer ids by keyed pseudonyms; drop name, contact, notes")
    tiers.add_argument("--salt", metavar="TEXT",
                       help="key of the pseudonyms (keep it to link exports; default: random, or "
                            "$TIERLAB_SALT)")

    cli_review.add_register_option(tiers)
    cli_review.add_review_parser(sub)

    chk = sub.add_parser(
        "check-scheme", help="validate tier schemes and list lint warnings",
        description="Validate YAML tier schemes: errors (exit 1) and lint warnings (exit 0).")
    chk.add_argument("schemes", nargs="+", metavar="FILE", help="scheme file(s)")
    chk.add_argument("--transactions", metavar="FILE",
                     help="also warn about tiers nobody qualifies for in this data")
    chk.add_argument("--columns", nargs="+", type=_pair, default=[], metavar="NAME=HEADER",
                     help="transaction column mapping")
    chk.add_argument("--date-format", metavar="FMT", help="date format of the transactions")
    return parser


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- report
def _cmd_report(args: argparse.Namespace) -> int:
    from tierlab.reporting import runner as report

    try:
        _, path = report.resolve_notebook(args.notebook)
        if args.list_parameters:
            params = report.notebook_parameters(path)
            print(f"parameters of {path.name}:")
            for p in params.values():
                line = f"  {p['name']}: {p['inferred_type_name']} = {p['default']}"
                print(line + (f"    # {p['help']}" if p["help"] else ""))
            return 0
        params = report.parse_parameters(args.parameter, args.parameters_yaml,
                                         args.parameters_file)
        log = None if args.quiet else _err
        run = report.run_report(args.notebook, params, out=args.out, log=log,
                                timeout=args.timeout, keep=args.keep)
    except ArgumentError as exc:  # a ParameterError: unknown notebook or a bad parameter
        _err(f"tierlab report: error: {exc}")
        return 2
    except report.ReportFailed as exc:
        _err(f"tierlab report: FAILED: {exc}")
        if exc.traceback:
            _err("\n" + exc.traceback)
        return 1
    except TierlabError as exc:
        _err(f"tierlab report: error: {exc}")
        return 1
    except OSError as exc:  # e.g. the reports folder cannot be written
        _err(f"tierlab report: error: {exc}")
        return 1
    if log is not None:
        log(f"  notebook, metrics.json, tables and tier table: {_show_path(run.latest_dir)}/")
    print(_show_path(run.latest_html), flush=True)
    return 0


def _show_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------- tiers
def _cmd_tiers(args: argparse.Namespace) -> int:
    import os

    from tierlab.io.export import export_tier_table, tier_table_summary
    from tierlab.io.load import load_customers, load_transactions
    from tierlab.tiers.scheme import TierScheme

    if args.register or not (args.transactions and args.scheme):
        return cli_review.cmd_tiers_register(args)
    try:
        scheme = TierScheme.from_yaml(args.scheme)
        res = load_transactions(args.transactions, columns=dict(args.columns) or None,
                                date_format=args.date_format)
        if res.summary["rows_rejected"]:
            reasons = ", ".join(f"{k} {v:,}" for k, v in res.summary["rejected_by_reason"].items())
            _err(f"{args.transactions}: {res.summary['rows_rejected']:,} rows rejected "
                 f"({reasons})")
        customers = None
        if args.customers:
            customers = load_customers(args.customers,
                                       columns=dict(args.customer_columns) or None).customers
        hist = scheme.run(res.transactions, customers=customers, overrides=args.overrides,
                          end=args.as_of)
        salt = args.salt or os.environ.get("TIERLAB_SALT")
        path = export_tier_table(hist, customers, args.out, mask_contacts=not args.show_contacts,
                                 pseudonymize=args.pseudonymize, salt=salt)
    except ArgumentError as exc:
        _err(f"tierlab tiers: error: {exc}")
        return 2
    except TierlabError as exc:
        _err(f"tierlab tiers: error: {exc}")
        return 1
    except OSError as exc:
        _err(f"tierlab tiers: error: cannot write {args.out}: {exc.strerror or exc}")
        return 1
    summary = tier_table_summary(hist)
    counts = ", ".join(f"{t} {n:,}" for t, n in zip(summary["tier"], summary["customers"],
                                                     strict=True))
    _err(f"{scheme.name}: {len(hist.customer_ids):,} customers at the review of "
         f"{hist.reviews[-1].date()}: {counts}"
         + ("" if args.show_contacts else "; contacts masked"))
    print(_show_path(Path(path)))
    return 0


# ------------------------------------------------------------------------------------- check
def _cmd_check_scheme(args: argparse.Namespace) -> int:
    from tierlab.tiers.scheme import TierScheme

    tx = None
    if args.transactions:
        from tierlab.io.load import load_transactions

        try:
            tx = load_transactions(args.transactions, columns=dict(args.columns) or None,
                                   date_format=args.date_format).transactions
        except TierlabError as exc:
            _err(f"tierlab check-scheme: error: {exc}")
            return 1
    status = 0
    for file in args.schemes:
        try:
            scheme = TierScheme.from_yaml(file)
            warnings = scheme.lint(tx)
        except TierlabError as exc:  # an invalid scheme, or data the scheme cannot run on
            print(f"{file}: ERROR: {_without_prefix(str(exc), file)}")
            status = 1
            continue
        tiers = " < ".join(scheme.tier_names)
        if warnings:
            print(f"{file}: OK with {len(warnings)} warning(s) — {scheme.name}: {tiers}")
            for w in warnings:
                print(f"  warning: {w}")
        else:
            print(f"{file}: OK — {scheme.name}: {tiers}")
    return status


def _without_prefix(message: str, file: str) -> str:
    prefix = f"{file}: "
    return message[len(prefix):] if message.startswith(prefix) else message


# ------------------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tierlab`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"report": _cmd_report, "tiers": _cmd_tiers, "check-scheme": _cmd_check_scheme,
                "review": cli_review.cmd_review}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
