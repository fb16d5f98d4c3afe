"""Formulas in exported cells (OWASP, CSV injection), one rule for every export.

A text cell that starts with =, +, -, @, a tab or a carriage return, after any run of ' characters,
gets one more leading ', so Excel and LibreOffice show it as text instead of running it. Reading
back removes that one ' (Excel's own "this is text" prefix), so an export re-imports to the same
values (a typed '=x thus imports as =x). Only text is escaped: a number stays a number.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula → the same text behind a '."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The inverse of neutralise, for a cell as read back."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value
