"""Needs tests. Need and response bodies, and needs opened, responded to and moved through the
API, come from tests/matching/needs/factories.py; published listings from tests/catalog/factories.py."""
