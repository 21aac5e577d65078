"""``tierlab tiers DATASET_DIR …``: the tier run over a bucketed dataset, on Dask or a pool.

Routed here by :mod:`tierlab.reporting.cli` when the TRANSACTIONS argument is a directory
(a dataset written by :func:`tierlab.write_dataset`). Writes under ``--out DIR``:

- ``current/part-NNNNN.parquet`` — the current-tier table (one part per bucket);
- ``changes/part-NNNNN.parquet`` — the change history with reasons;
- ``tiers/part-NNNNN.parquet`` — ``customer_id`` and the tier at every review (one column per
  review, named by its ISO date);
- ``tiers.xlsx`` — the tier management table, only when it fits in an Excel sheet.

Progress lines go to stderr while the buckets run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tierlab.errors import ArgumentError, TierlabError

__all__ = ["EXCEL_MAX_ROWS", "cmd_tiers_dataset"]

#: Rows an Excel sheet holds below its header.
EXCEL_MAX_ROWS = 1_048_575


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _client(address: str | None) -> object:
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ArgumentError("--scheduler needs Dask: pip install 'tierlab[dask]'") from None
    try:
        return Client(address, timeout="20s")
    except OSError as exc:
        raise ArgumentError(f"--scheduler {address}: cannot connect ({exc}); start one with "
                            "`dask scheduler` and give its tcp://HOST:PORT address") from None


def cmd_tiers_dataset(args: argparse.Namespace) -> int:
    """Run ``tierlab tiers`` on a dataset directory; returns the exit status."""
    from tierlab.distributed import run_partitioned
    from tierlab.io.export import export_tier_table
    from tierlab.io.load import load_customers
    from tierlab.tiers.scheme import TierScheme

    ignored = [flag for flag, value in (("--columns", args.columns),
                                        ("--date-format", args.date_format)) if value]
    if ignored:
        _say(f"tierlab tiers: note: {', '.join(ignored)} ignored — a dataset already holds "
             "canonical columns")
    out = Path(args.out).expanduser()
    if out.suffix.lower() in (".xlsx", ".csv"):
        _say(f"tierlab tiers: error: --out {args.out}: with a dataset, --out is a directory "
             "(Parquet parts, and tiers.xlsx when it fits)")
        return 2
    client = None
    try:
        scheme = TierScheme.from_yaml(args.scheme)
        customers = None
        if args.customers:
            customers = load_customers(args.customers,
                                       columns=dict(args.customer_columns) or None).customers
        client = _client(args.scheduler)
        where = (f"Dask scheduler {args.scheduler}" if client is not None
                 else f"{args.workers or os.cpu_count()} local worker(s)")
        _say(f"{scheme.name}: running {args.transactions} on {where}")
        hist = run_partitioned(scheme, args.transactions, customers=customers, client=client,
                               end=args.as_of, out=out, overrides=args.overrides,
                               workers=args.workers, progress=_say,
                               lang=getattr(args, "lang", "en"))
        excel = None
        if max(hist.n_customers, hist.n_changes) <= EXCEL_MAX_ROWS:
            _say("writing tiers.xlsx")
            excel = export_tier_table(hist, customers, out / "tiers.xlsx",
                                      mask_contacts=not args.show_contacts,
                                      pseudonymize=args.pseudonymize,
                                      salt=args.salt or os.environ.get("TIERLAB_SALT"),
                                      lang=getattr(args, "lang", "en"))
        else:
            _say(f"tiers.xlsx skipped: {hist.n_customers:,} customers / {hist.n_changes:,} "
                 f"changes exceed an Excel sheet ({EXCEL_MAX_ROWS:,} rows)")
    except ArgumentError as exc:
        _say(f"tierlab tiers: error: {exc}")
        return 2
    except TierlabError as exc:
        _say(f"tierlab tiers: error: {exc}")
        return 1
    except OSError as exc:
        _say(f"tierlab tiers: error: cannot write {args.out}: {exc.strerror or exc}")
        return 1
    finally:
        if client is not None:
            client.close()  # type: ignore[attr-defined]
    counts = ", ".join(f"{t} {n:,}" for t, n in hist.tier_counts.items())
    _say(f"{scheme.name}: {hist.n_customers:,} customers at the review of "
         f"{hist.reviews[-1].date()}: {counts}; {hist.n_changes:,} changes")
    for part in ("current", "changes", "tiers"):
        print(out / part)
    if excel is not None:
        print(excel)
    return 0
