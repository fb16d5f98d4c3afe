"""Demo data tests. Tests that load the whole demo data do it once per module, through the
session-wide client, and empty the tables themselves (tests/support/database.py)."""
