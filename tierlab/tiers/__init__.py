"""Tier schemes: conditions, parsing and validation, lint, the review engine and its history."""
