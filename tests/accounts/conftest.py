"""Accounts tests. The session-wide app, client, db and world fixtures come from tests/conftest.py;
organizations, members and API tokens made directly come from tests/accounts/factories.py."""
