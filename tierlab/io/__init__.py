"""Data in and out: loading messy exports, writing the tier table.

Public entry points are re-exported from :mod:`tierlab`; this package only groups them.

- :mod:`~tierlab.io.load` — ``load_transactions``, ``load_customers``, ``LoadResult`` (the steps
  below, in order);
- :mod:`~tierlab.io.reading` — a file (text, ``.xlsx``, Parquet) or DataFrame → raw table;
- :mod:`~tierlab.io.encodings` — how a text file's bytes decode, line by line when they must;
- :mod:`~tierlab.io.columns` — headers → canonical names (aliases, did-you-mean);
- :mod:`~tierlab.io.values`, :mod:`~tierlab.io.dates` — ids, text, numbers and dates parsed
  with a mask of what was missing or unparseable;
- :mod:`~tierlab.io.ordering` — canonical row order, duplicate order lines, rejected rows;
- :mod:`~tierlab.io.summary` — the JSON-ready summary of a load;
- :mod:`~tierlab.io.export` — the tier management table as CSV or Excel;
- :mod:`~tierlab.io.masking` — masked contacts and keyed pseudonyms.
"""
