"""Seeded synthetic customer data and the bundled sample.

:func:`generate` draws a realistic transaction log and customer table in the canonical form that
:mod:`tierlab.io.load` produces, so that every part of tierlab can be tried, tested and benchmarked
without real customer data. Everything is fake: names are ``测试客户00042`` / ``测试公司00042``,
phones are ``138000xxxxx``-shaped, e-mails end in ``@example.com``.

What the generator models, so that the tier schemes of the specification are all exercised:

- staggered sign-ups: about a third of customers exist before the period, the rest sign up
  during it; a few sign up and never buy;
- heterogeneous purchase rates (gamma-distributed Poisson rates, heavy tail) and log-normal prices,
  so monthly spend crosses 100 and 500 regularly; a few dozen key accounts (manufacturing and
  foreign trade) place several multi-line orders a month and pass 50,000 or 100,000 a year with
  100+ orders;
- hotel guests whose ``quantity`` is the number of nights (1-5) per stay; elsewhere it counts items;
- churn (a geometric lifetime), yearly seasonality (November/December peaks, a dip in the month of
  Chinese New Year, a summer and holiday peak for hotels), and behaviour drift (some customers ramp
  up, some decay), so tiers move over time;
- about 3 % of rows are returns: the negative of an earlier purchase line of the same customer and
  order, 1-30 days later;
- satisfaction scores 1-5 that rise with spend and fall for decaying customers.

The bundled sample in ``data/sample/`` is exactly ``generate(**SAMPLE_PARAMS, messy=True)`` written
to CSV by ``data/make_sample.py``; :func:`sample_transactions` and :func:`sample_customers` return
the same data by regenerating it, so they work in an installed package without data files.
"""


from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from tierlab.datasets.messy import make_messy
from tierlab.datasets.model import (
    INDUSTRIES,
    RETURN_SHARE,
    customer_table,
    draw_customers,
    draw_transactions,
)
from tierlab.errors import ArgumentError

__all__ = [
    "INDUSTRIES",
    "RETURN_SHARE",
    "SAMPLE_PARAMS",
    "generate",
    "sample_customers",
    "sample_transactions",
]

#: Parameters of the bundled sample (``data/sample/``): ``generate(**SAMPLE_PARAMS, messy=True)``.
SAMPLE_PARAMS: dict[str, Any] = {
    "n_customers": 2000,
    "months": 24,
    "start": "2024-01-01",
    "seed": 2024,
}


# long through its docstring (the generator's documented model); the body is ~15 lines
def generate(
    n_customers: int = 2000,
    *,
    months: int = 24,
    start: str | pd.Timestamp = "2024-01-01",
    seed: int = 0,
    messy: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a synthetic transaction log and customer table.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers in the customer table (a few of them never buy).
    months : int, default 24
        Length of the transaction period in months; the period is
        ``[start, start + months months)``.
    start : str or Timestamp, default "2024-01-01"
        First day of the period (the time of day is dropped).
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same arguments always give the same frames.
    messy : bool, default False
        If True, the transactions come as an export would write them: every column is a string
        (timestamps ``"2024-03-01 14:05:09"``, amounts ``"1234.50"``, quantities ``"2"``), about
        2 % of amounts are written ``"¥1,234.50"`` (``"-¥1,234.50"`` for returns), and a few
        extra rows are added next to the row they copy: copies with a missing ``customer_id``,
        copies with an unparseable ``timestamp`` (``"2024-13-45"``, ``"#VALUE!"`` ...) and exact
        duplicates of an order line. Each kind counts ``max(2, ceil(rows / 10,000))`` rows.
        Rejecting those rows and parsing the amounts gives back the clean transactions exactly.
        The customer table is the same in both modes.

    Returns
    -------
    transactions : DataFrame
        One row per purchase line, sorted by ``timestamp`` then ``order_id``, columns
        ``customer_id`` (str, ``"C00001"``), ``timestamp`` (datetime64[ns]), ``amount``
        (float64, 2 decimals; negative for returns), ``order_id`` (str, ``"O0000001"``; an order
        may have several lines and a return carries the id of the order it refunds),
        ``quantity`` (float64, 1-5 items or hotel nights; negative on returns) and ``channel``
        (str: store, online, app, phone, sales rep).
    customers : DataFrame
        One row per customer: ``customer_id``, ``name``, ``phone``, ``email``, ``region``
        ("local" / "remote"), ``province``, ``industry``, ``signup_date`` (datetime64[ns]),
        ``satisfaction`` (float64, 1-5, NaN when not surveyed), ``notes`` (str or NaN).

    Raises
    ------
    ArgumentError
        If a parameter is out of range.

    See Also
    --------
    sample_transactions, sample_customers : the bundled sample.

    Notes
    -----
    Everything is vectorized over customers and rows; only the bounded messy-mode rendering
    loops over its few problem kinds. Two million customers take well under a minute.

    Examples
    --------
    >>> from tierlab.datasets import generate
    >>> tx, customers = generate(200, months=12, seed=1)
    >>> list(tx.columns)
    ['customer_id', 'timestamp', 'amount', 'order_id', 'quantity', 'channel']
    >>> customers["customer_id"].iloc[0], customers["email"].iloc[0]
    ('C00001', 'c00001@example.com')
    >>> bool((tx["amount"] < 0).mean() < 0.05)
    True
    """
    n, months, t0 = _check_params(n_customers, months, start, seed)
    rng = np.random.default_rng(seed)
    edges = (pd.date_range(t0, periods=months + 1, freq=pd.DateOffset(months=1))
             .to_numpy().astype("datetime64[s]"))

    cust = draw_customers(rng, n, edges)
    tx, cust_of_row = draw_transactions(rng, cust, edges)
    customers = customer_table(rng, cust, tx["amount"].to_numpy(), cust_of_row)
    if messy:
        tx = make_messy(rng, tx)
    return tx, customers


def sample_transactions(*, messy: bool = False) -> pd.DataFrame:
    """Transactions of the bundled sample (``data/sample/transactions.csv``).

    The sample is regenerated with :data:`SAMPLE_PARAMS`, so this works without data files.

    Parameters
    ----------
    messy : bool, default False
        False: the clean canonical transactions, i.e. what loading the CSV gives once the
        deliberately bad rows are rejected. True: the strings exactly as written in the CSV.

    Returns
    -------
    DataFrame
        A new frame on every call; see :func:`generate` for the columns.

    Examples
    --------
    >>> from tierlab.datasets import sample_transactions
    >>> tx = sample_transactions()
    >>> bool(tx["timestamp"].between("2024-01-01", "2026-01-01", inclusive="left").all())
    True
    """
    return _sample(bool(messy))[0].copy()


def sample_customers() -> pd.DataFrame:
    """Customer table of the bundled sample (``data/sample/customers.csv``).

    Returns
    -------
    DataFrame
        ``generate(**SAMPLE_PARAMS)[1]``, a new frame on every call.

    Examples
    --------
    >>> from tierlab.datasets import sample_customers
    >>> len(sample_customers())
    2000
    """
    return _sample(False)[1].copy()


@functools.lru_cache(maxsize=2)
def _sample(messy: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate(**SAMPLE_PARAMS, messy=messy)


# --------------------------------------------------------------------------------------------
# parameters


def _check_params(
    n_customers: Any, months: Any, start: Any, seed: Any
) -> tuple[int, int, pd.Timestamp]:
    for name, value, low, high in (
        ("n_customers", n_customers, 1, 99_999_999),
        ("months", months, 1, 1200),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or not low <= value <= high
        ):
            raise ArgumentError(
                f"generate(): parameter {name!r} must be an integer from {low} to {high}, "
                f"got {value!r}."
            )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ArgumentError(f"generate(): parameter 'seed' must be an integer >= 0, got {seed!r}.")
    try:
        t0 = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(
            f"generate(): parameter 'start' must be a date such as '2024-01-01', got {start!r}."
        ) from exc
    if t0 is pd.NaT or t0.tz is not None:
        raise ArgumentError(
            f"generate(): parameter 'start' must be a tz-naive date such as '2024-01-01', "
            f"got {start!r}."
        )
    return int(n_customers), int(months), t0.normalize()


# --------------------------------------------------------------------------------------------
# customers
