"""Data in and out: loading messy exports, writing the tier table.

Public entry points are re-exported from :mod:`tierlab`; this package only groups them.
"""
