"""Regenerate the bundled sample in ``data/sample/`` from the seeded generator.

Usage (from the repository root)::

    .venv/bin/python data/make_sample.py            # rewrite data/sample/*.csv
    .venv/bin/python data/make_sample.py --check    # exit 1 if the files are out of date

The files are ``tierlab.datasets.generate(**SAMPLE_PARAMS, messy=True)`` written as UTF-8 CSV;
``tests/test_datasets.py`` checks that they still match the generator.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import pandas as pd

from tierlab.datasets import SAMPLE_PARAMS, generate

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
FILES = ("transactions.csv", "customers.csv")


def to_csv_text(frame: pd.DataFrame) -> str:
    """Render *frame* exactly as the sample files are written."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    tx, customers = generate(**SAMPLE_PARAMS, messy=True)
    seconds = time.perf_counter() - began
    texts = dict(zip(FILES, (to_csv_text(tx), to_csv_text(customers)), strict=True))

    if args.check:
        stale = [
            name
            for name, text in texts.items()
            if not (args.out / name).exists()
            or (args.out / name).read_text(encoding="utf-8") != text
        ]
        for name in stale:
            print(f"{args.out / name} is out of date: run data/make_sample.py", file=sys.stderr)
        return 1 if stale else 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="")
    params = ", ".join(f"{k}={v!r}" for k, v in SAMPLE_PARAMS.items())
    print(f"generate({params}, messy=True) in {seconds:.2f} s")
    for name, frame in zip(FILES, (tx, customers), strict=True):
        path = args.out / name
        print(f"  {path}: {len(frame):,} rows, {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
