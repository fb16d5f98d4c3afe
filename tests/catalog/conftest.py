"""Catalogue tests. Listing bodies and listings made directly in any status come from
tests/catalog/factories.py; the browser tests' live server and page from tests/support/live_server.py."""
