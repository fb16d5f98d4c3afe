"""Ledger tests. Policies, results with inventors and incomes come from tests/ledger/factories.py;
the world (tests/support/world.py) gives the institutions: the own one in Shanghai (70% floor),
the other in Beijing."""
