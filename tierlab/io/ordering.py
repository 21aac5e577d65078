"""The canonical order of the text path's valid rows, duplicate order lines, rejected rows.

Valid transactions are ordered by (customer_id, timestamp, amount) and then by the other
columns, so which copy of a duplicate order line is kept never depends on row order: one
integer sort of (customer code, time code), a radix sort when the export is in time order
already, and a small pandas sort of the rows tied on both keys only. Among those tied rows the
duplicate order lines are found and the identical rows counted. The loader then outputs the
accepted rows in source order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierlab._kernels.arrowtext import arrow_text_as_str
from tierlab.io.values import Ids

__all__ = [
    "assemble",
    "first_of_each_id",
    "order_and_dedupe",
    "order_transactions",
    "primary_order",
    "radix_argsort",
    "reason_codes",
    "rejected_frame",
    "sortable",
]


def reason_codes(n: int, masks: list[np.ndarray]) -> np.ndarray:
    """Code of the first mask that holds per row (1-based), 0 when none does."""
    codes = np.zeros(n, dtype=np.int16)
    for i in range(len(masks) - 1, -1, -1):
        codes[masks[i]] = i + 1
    return codes


def sortable(values: Any) -> pd.Series:
    """Values in one dtype that sorts: numbers as float, datetimes as they are, else text."""
    s = pd.Series(values).reset_index(drop=True) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    return s.astype("str")


def _time_codes(t: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-preserving integer codes for timestamps (int64 ns) and their range.

    Whole days, seconds or milliseconds map arithmetically (no hashing); anything finer is
    factorized.
    """
    shifted = t - t.min()
    for unit in (86_400 * 10**9, 10**9, 10**6):
        if not (shifted % unit).any():
            codes = shifted // unit
            return codes, int(codes.max()) + 1
    codes, uniques = pd.factorize(t, sort=True)
    return codes.astype(np.int64, copy=False), len(uniques)


def radix_argsort(values: np.ndarray, bits: int) -> np.ndarray:
    """Stable argsort of non-negative integers below ``2**bits``.

    Least-significant-digit radix sort with 16-bit digits: NumPy's stable sort of ``uint16``
    is itself a counting sort, so each pass is linear.
    """
    digits = [((values >> shift) & 0xFFFF).astype(np.uint16)
              for shift in range(0, max(bits, 1), 16)]
    order = np.argsort(digits[0], kind="stable")
    for digit in digits[1:]:
        order = order[np.argsort(digit[order], kind="stable")]
    return order


def primary_order(c: np.ndarray, nc: int, t: np.ndarray) -> tuple[Any, np.ndarray]:
    """Order rows by (c, t); return (order or None when already sorted, tie mask).

    ``tie[i]`` says sorted row ``i + 1`` equals sorted row ``i`` on both keys. Equal rows come
    in no particular order; the caller orders them (by amount first).
    """
    if len(c) < 2:
        return None, np.zeros(0, dtype=bool)
    same_c = c[1:] == c[:-1]
    later_t = t[1:] >= t[:-1]
    if bool(np.all((c[1:] > c[:-1]) | (same_c & later_t))):  # sorted already
        return None, same_c & (t[1:] == t[:-1])
    del same_c
    if bool(later_t.all()):
        # exports usually come in time order: a stable sort by customer is then the order
        order = radix_argsort(c, max(int(nc - 1).bit_length(), 1))
    else:
        tcode, nt = _time_codes(t)
        if nc * nt < 2**62:  # one int64 key: much faster than a two-key sort
            order = np.argsort(c * nt + tcode)
        else:  # pragma: no cover - needs > 2**62 (c, t) cells
            table = pa.table({"c": c, "t": tcode})
            order = pc.sort_indices(
                table, sort_keys=[("c", "ascending"), ("t", "ascending")]).to_numpy()
        del tcode
    del later_t
    cs = (c.astype(np.int32) if nc < 2**31 else c)[order]
    ts = t[order]
    return order, (cs[1:] == cs[:-1]) & (ts[1:] == ts[:-1])


def order_and_dedupe(
    valid: np.ndarray,
    ids: Ids,
    ts: np.ndarray,
    amount: np.ndarray,
    tie_keys: list[Any],
    n_output: int,
    has_order_id: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Sort valid rows deterministically and find duplicate order lines.

    Rows are ordered by (customer_id, timestamp, amount); only rows tied on customer and
    timestamp are ordered further, by amount, then by *tie_keys* (the first *n_output* are the
    other output columns: the optional canonical ones, then the other columns as read; after
    them the raw text of the mapped columns) and finally by position, so the common case costs
    one integer sort. A duplicate order line equals another line with an order id in every
    output column (SPEC §1: product/sku included); lines that differ in any column, e.g. two
    products at one price, are two purchases.

    Returns (accepted positions in output order, duplicate positions, identical rows kept).
    """
    empty = np.empty(0, dtype=np.int64)
    if len(valid) == 0:
        return empty, empty, 0
    everyone = len(valid) == len(ids.codes)
    c = ids.codes if everyone else ids.codes[valid]
    t = (ts if everyone else ts[valid]).view("int64")
    order, same = primary_order(c, len(ids.uniques), t)
    del c, t
    final = valid.copy() if order is None else valid[order]
    if not same.any():
        return final, empty, 0
    return _sort_ties(final, same, [amount, *tie_keys], n_output + 1, has_order_id)


def _sort_ties(
    final: np.ndarray,
    same: np.ndarray,
    tie_keys: list[Any],
    n_output: int,
    has_order_id: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Order the runs of rows tied on (customer, timestamp) and find duplicate order lines.

    Only the tied rows are gathered, into one small frame sorted by (run, *tie_keys*, row).
    """
    after_tie = np.zeros(len(final), dtype=bool)  # row equals the one before it
    after_tie[1:] = same
    member = after_tie.copy()
    member[:-1] |= same
    slots = np.flatnonzero(member)
    rows = final[slots]
    # tie groups are runs of consecutive slots; a slot not equal to its predecessor starts one
    ties: dict[str, Any] = {"g": np.cumsum(~after_tie[slots])}
    for i, key in enumerate(tie_keys):
        values = key.iloc[rows] if isinstance(key, pd.Series) else key[rows]
        ties[f"k{i}"] = sortable(pd.Series(values).reset_index(drop=True))
    ties["row"] = rows
    tied = pd.DataFrame(ties).sort_values(list(ties), kind="stable", na_position="last")
    final[slots] = tied["row"].to_numpy()
    everything = ["g"] + [f"k{i}" for i in range(n_output)]
    if has_order_id is not None:
        dup = tied.duplicated(subset=everything, keep="first").to_numpy(dtype=bool)
        dup = dup & has_order_id[tied["row"].to_numpy()]
    else:
        dup = np.zeros(len(tied), dtype=bool)
    duplicates = np.sort(tied["row"].to_numpy()[dup])
    identical = int(tied[~dup].duplicated(subset=everything).sum())
    if len(duplicates):
        final = final[~np.isin(final, duplicates)]
    return final, duplicates, identical


def order_transactions(
    valid: np.ndarray,
    ids: Ids,
    parsed: dict[str, Any],
    frame: pd.DataFrame,
    colmap: dict[str, int],
    other_pos: list[int],
) -> tuple[np.ndarray, np.ndarray, int]:
    """The canonical order of the valid rows, the duplicate order lines, identical rows kept."""
    tie_keys = [parsed[k] for k in ("order_id", "quantity", "channel", "currency") if k in parsed]
    tie_keys += [frame.iloc[:, i] for i in other_pos]
    n_output_ties = len(tie_keys)
    # last resort among equal parsed rows: the text as read, so the copy kept never depends
    # on row order
    tie_keys += [frame.iloc[:, i] for i in sorted(colmap.values())]
    order_ids = parsed.get("order_id")
    return order_and_dedupe(
        valid, ids, parsed["timestamp"], parsed["amount"], tie_keys, n_output_ties,
        None if order_ids is None else order_ids.notna().to_numpy(dtype=bool),
    )


def first_of_each_id(ids: Ids, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows kept (first occurrence in file order, sorted by id) and the repeated rows."""
    first = np.unique(ids.codes[valid], return_index=True)[1]
    dup = np.ones(len(valid), dtype=bool)
    dup[first] = False
    keep = valid[~dup]
    return keep[np.argsort(ids.codes[keep])], valid[dup]


def assemble(
    parsed: dict[str, Any],
    frame: pd.DataFrame,
    rows: np.ndarray,
    other_pos: list[int],
    ordered: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Canonical columns then the other columns, rows taken in the given order.

    Columns named in *ordered* are already in output order. All parsed arrays are owned by
    the loader, so the frame is built without another copy.
    """
    identity = len(rows) == len(frame) and bool(np.all(rows == np.arange(len(rows))))
    parts: dict[str, Any] = {}
    for name, values in parsed.items():
        keep = identity or name in ordered
        if isinstance(values, pd.Series):
            parts[name] = (values if keep else values.iloc[rows]).reset_index(drop=True)
        else:
            parts[name] = values if keep else values[rows]
    data = pd.DataFrame(parts, copy=False)
    if other_pos:
        others = arrow_text_as_str(frame.iloc[:, other_pos] if identity
                                   else frame.iloc[rows, other_pos])
        data = pd.concat([data, others.reset_index(drop=True)], axis=1)
    return data


def rejected_frame(
    frame: pd.DataFrame, codes: np.ndarray, reasons: list[str], row_base: int
) -> pd.DataFrame:
    """The rejected rows: original columns as read, then ``source_row`` and ``reason``.

    *codes* holds each row's 1-based index into *reasons* (0 = accepted); input columns that
    are themselves named ``source_row`` or ``reason`` get an `` (input)`` suffix.
    """
    rows = np.flatnonzero(codes)
    rejected = arrow_text_as_str(frame.iloc[rows] if len(rows) else frame.iloc[:0])
    rejected = rejected.reset_index(drop=True)
    rename = {c: f"{c} (input)" for c in rejected.columns if c in ("source_row", "reason")}
    if rename:
        rejected = rejected.rename(columns=rename)
    labels = np.asarray(reasons, dtype=object)
    meta = pd.DataFrame(
        {
            "source_row": (rows + row_base).astype("int64"),
            "reason": pd.array(labels[codes[rows] - 1], dtype="str"),
        }
    )
    return pd.concat([rejected, meta], axis=1)

