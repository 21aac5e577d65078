"""The ``tierlab`` command: ``report``, ``tiers`` and ``check-scheme``.

Exit status: 0 success; 1 the run failed, the data or the scheme is invalid (``check-scheme``:
some scheme has errors, every file is still checked; lint warnings alone exit 0), or an
unexpected error (one line naming the file being handled; ``--debug`` or ``TIERLAB_DEBUG=1``
shows its traceback); 2 the command line is wrong (unknown option, a value that is not a date,
an ``--out`` that cannot be written, unknown notebook or notebook parameter, a parameter of the
wrong type: argparse's usage errors and :class:`~tierlab.errors.ArgumentError`) — nothing ran;
128 + N a report stopped by signal N (143: SIGTERM, 130: SIGINT). Progress goes to stderr; the
one result line (the report's or table's path) to stdout, so ``tierlab report segmentation``
is usable from cron. Argument types and CLI-worded errors: :mod:`tierlab.reporting.arguments`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tierlab.errors import ArgumentError, DataError, TierlabError
from tierlab.reporting import cli_review
from tierlab.reporting.arguments import (
    add_input_options,
    cli_column_message,
    column_pairs,
    os_error_text,
    out_path_problem,
    seconds,
    split_column_lists,
)
from tierlab.reporting.limits import DEFAULT_CELL_TIMEOUT, DEFAULT_DEADLINE

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
  tierlab tiers export.csv --columns customer_id=客户ID,timestamp=日期,amount=消费金额 \\
      --scheme data/rules/monthly_spend.yaml --out reports/tiers.xlsx
  tierlab report segmentation --timeout 1200 --deadline 10800   # seconds; 0: no limit
  tierlab check-scheme data/rules/*.yaml
"""


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
    from tierlab.i18n import LANGS

    parser = argparse.ArgumentParser(
        prog="tierlab", description="Customer tiering: reports, tier tables and scheme checks.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error (or set "
                             "TIERLAB_DEBUG=1)")
    common = argparse.ArgumentParser(add_help=False)  # --debug after the command works too
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    rep = sub.add_parser(
        "report", parents=[common], help="run a study notebook and publish an HTML report",
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
    rep.add_argument("--timeout", type=seconds, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                     help="fail when a single cell runs longer than this (default: "
                          f"{DEFAULT_CELL_TIMEOUT}; 0: no limit)")
    rep.add_argument("--deadline", type=seconds, default=DEFAULT_DEADLINE, metavar="SECONDS",
                     help="fail when all cells together run longer than this (default: "
                          f"{DEFAULT_DEADLINE}; 0: no limit)")
    rep.add_argument("--keep", type=int, default=None, metavar="N",
                     help="after a successful run keep only the newest N run folders")
    rep.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    rep.add_argument("--parameters", dest="list_parameters", action="store_true",
                     help="list the notebook's parameters and exit")
    rep.add_argument("--runs", dest="list_runs", action="store_true",
                     help="list the run folders under --out, newest first, with their state "
                          "(ok, running, failed and why), and exit")

    tiers = sub.add_parser(
        "tiers", parents=[common], help="write the tier management table (.xlsx or .csv)",
        description="Run a tier scheme over a transaction log and write the tier management "
                    "table: customer id, name, contact (masked), tier, label, tier since, "
                    "previous tier, reason, notes; .xlsx adds 'summary' and 'changes' sheets, "
                    ".csv writes <stem>_summary.csv and <stem>_changes.csv beside it.")
    tiers.add_argument("transactions", metavar="TRANSACTIONS", nargs="?",
                       help="transaction log (.csv, .txt, .tsv, .xlsx, .parquet)")
    tiers.add_argument("--scheme", metavar="FILE", help="tier scheme (YAML)")
    add_input_options(tiers)
    tiers.add_argument("--no-header", action="store_true",
                       help="the transaction file has no header line: map --columns by "
                            "position, e.g. customer_id=0 timestamp=1 amount=2")
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
    tiers.add_argument("--lang", choices=LANGS, default="en",
                       help="language of the headers, sheet names, reasons and words "
                            "(default: en; zh: Chinese, tiers by their scheme labels)")
    tiers.add_argument("--workers", type=int, metavar="N",
                       help="dataset directory: local worker processes (default: CPUs)")
    tiers.add_argument("--scheduler", metavar="ADDRESS",
                       help="dataset directory: run on this Dask scheduler (tcp://host:8786)")

    cli_review.add_register_option(tiers)
    cli_review.add_review_parser(sub)

    chk = sub.add_parser(
        "check-scheme", parents=[common], help="validate tier schemes and list lint warnings",
        description="Validate YAML tier schemes: errors (exit 1) and lint warnings (exit 0).")
    chk.add_argument("schemes", nargs="+", metavar="FILE", help="scheme file(s)")
    chk.add_argument("--transactions", metavar="FILE",
                     help="also warn about tiers nobody qualifies for in this data")
    chk.add_argument("--columns", action="extend", type=column_pairs, default=[],
                     metavar="NAME=HEADER[,...]",
                     help="transaction column mapping, e.g. customer_id=客户ID (repeatable)")
    chk.add_argument("--date-format", metavar="FMT", help="date format of the transactions")
    return parser


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _debug(args: argparse.Namespace) -> bool:
    """``--debug`` or ``TIERLAB_DEBUG`` set (to anything but 0): show real tracebacks."""
    return bool(getattr(args, "debug", False)) or \
        os.environ.get("TIERLAB_DEBUG", "").strip() not in ("", "0")


def _unexpected(exc: BaseException, file: str | None) -> str:
    """One line for an error tierlab did not foresee: what, where, and what to do."""
    text = " ".join(str(exc).split()) or "(no message)"
    if len(text) > 200:
        text = text[:200] + " …"
    where = f" while handling {file}" if file else ""
    hint = (f"check {file} for something unusual; " if file else "") + \
        "rerun with --debug (or TIERLAB_DEBUG=1) to see the traceback and report it"
    return f"unexpected {type(exc).__name__}{where}: {text} — {hint}"


# ------------------------------------------------------------------------------------- report
def _cmd_report(args: argparse.Namespace) -> int:
    from tierlab.reporting import runner as report

    try:
        name, path = report.resolve_notebook(args.notebook)
        args.current_file = str(path)
        if args.list_parameters:
            params = report.notebook_parameters(path)
            print(f"parameters of {path.name}:")
            for p in params.values():
                line = f"  {p['name']}: {p['inferred_type_name']} = {p['default']}"
                print(line + (f"    # {p['help']}" if p["help"] else ""))
            return 0
        if args.list_runs:
            from tierlab.reporting.runs import list_runs

            for run_dir, state in list_runs(Path(args.out).expanduser() / name):
                print(f"{_show_path(run_dir)}  {state}")
            return 0
        problem = out_path_problem(args.out, folder=True)
        if problem:
            raise ArgumentError(problem)
        params = report.parse_parameters(args.parameter, args.parameters_yaml,
                                         args.parameters_file)
        log = None if args.quiet else _err
        run = report.run_report(args.notebook, params, out=args.out, log=log,
                                timeout=args.timeout, deadline=args.deadline, keep=args.keep,
                                notes=lambda note: _err(f"tierlab report: note: {note}"))
    except ArgumentError as exc:  # a ParameterError: unknown notebook or a bad parameter
        _err(f"tierlab report: error: {exc}")
        return 2
    except report.ReportFailed as exc:
        _err(f"tierlab report: FAILED: {exc}")
        if exc.traceback:
            _err("\n" + exc.traceback)
        return 128 + exc.signum if exc.signum else 1
    except TierlabError as exc:
        _err(f"tierlab report: error: {exc}")
        return 1
    except OSError as exc:  # e.g. the reports folder cannot be written
        _err(f"tierlab report: error: cannot write the reports to {args.out}: "
             f"{os_error_text(exc)}")
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
def _load_transactions(args: argparse.Namespace, file: str) -> Any:
    """``load_transactions`` with its column errors said as ``--columns`` options."""
    from tierlab.io.load import TRANSACTION_COLUMNS, load_transactions

    args.current_file = file
    mapping = dict(args.columns)
    try:
        return load_transactions(file, columns=mapping or None, date_format=args.date_format,
                                 header=None if getattr(args, "no_header", False) else 0)
    except DataError as exc:
        raise DataError(cli_column_message(str(exc), "--columns", mapping,
                                           TRANSACTION_COLUMNS)) from exc


def _cmd_tiers(args: argparse.Namespace) -> int:
    if args.register or not (args.transactions and args.scheme):  # the table of a register
        return cli_review.cmd_tiers_register(args)
    if Path(args.transactions).is_dir():  # a bucketed dataset: run it partitioned
        from tierlab.reporting.cli_dataset import cmd_tiers_dataset

        return cmd_tiers_dataset(args)

    from tierlab.io.export import export_tier_table, tier_table_summary
    from tierlab.io.load import CUSTOMER_COLUMNS, load_customers
    from tierlab.tiers.scheme import TierScheme

    try:
        problem = out_path_problem(args.out, folder=False)
        if problem:
            raise ArgumentError(problem)
        args.current_file = args.scheme
        scheme = TierScheme.from_yaml(args.scheme)
        res = _load_transactions(args, args.transactions)
        if res.summary["rows_rejected"]:
            reasons = ", ".join(f"{k} {v:,}" for k, v in res.summary["rejected_by_reason"].items())
            _err(f"{args.transactions}: {res.summary['rows_rejected']:,} rows rejected "
                 f"({reasons})")
        customers = None
        if args.customers:
            args.current_file = args.customers
            mapping = dict(args.customer_columns)
            try:
                customers = load_customers(args.customers, columns=mapping or None).customers
            except DataError as exc:
                raise DataError(cli_column_message(str(exc), "--customer-columns", mapping,
                                                   CUSTOMER_COLUMNS)) from exc
        args.current_file = args.overrides or args.transactions
        hist = scheme.run(res.transactions, customers=customers, overrides=args.overrides,
                          end=args.as_of)
        salt = args.salt or os.environ.get("TIERLAB_SALT")
        args.current_file = args.out
        path = export_tier_table(hist, customers, args.out, mask_contacts=not args.show_contacts,
                                 pseudonymize=args.pseudonymize, salt=salt, lang=args.lang)
    except ArgumentError as exc:
        _err(f"tierlab tiers: error: {exc}")
        return 2
    except TierlabError as exc:
        _err(f"tierlab tiers: error: {exc}")
        return 1
    except OSError as exc:
        _err(f"tierlab tiers: error: cannot write {args.out}: {os_error_text(exc)}")
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
        try:
            tx = _load_transactions(args, args.transactions).transactions
        except TierlabError as exc:
            _err(f"tierlab check-scheme: error: {exc}")
            return 1
    status = 0
    for file in args.schemes:  # every file is checked, whatever happened to the one before
        args.current_file = file
        try:
            scheme = TierScheme.from_yaml(file)
            warnings = scheme.lint(tx)
        except TierlabError as exc:  # an invalid scheme, or data the scheme cannot run on
            print(f"{file}: ERROR: {_without_prefix(str(exc), file)}", flush=True)
            status = 1
            continue
        except Exception as exc:  # a crash on this file: report it, go on with the next
            if _debug(args):
                traceback.print_exc()
            print(f"{file}: ERROR: {_unexpected(exc, None)}", flush=True)
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
    """Entry point of the ``tierlab`` command; returns the exit status.

    An error tierlab did not foresee prints one line naming the file being handled and exits 1;
    ``--debug`` (or ``TIERLAB_DEBUG=1``) lets its traceback through instead.
    """
    parser = build_parser()
    args = parser.parse_args(split_column_lists(sys.argv[1:] if argv is None else argv))
    args.current_file = None
    handlers = {"report": _cmd_report, "tiers": _cmd_tiers, "check-scheme": _cmd_check_scheme,
                "review": cli_review.cmd_review}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:
        if _debug(args):
            raise
        _err(f"tierlab {args.command}: error: {_unexpected(exc, args.current_file)}")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
