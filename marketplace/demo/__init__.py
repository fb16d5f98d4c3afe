"""The demo world: fictional organizations, people, a catalogue of 850 listings, match requests,
needs, saved searches and a revenue-sharing ledger (no real hospital or company). The data are YAML files in data/; the
modules here turn them into the same world every time and load it through the domains' services.

Every demo user's password is DEMO_PASSWORD; README.md lists the logins.
"""

from marketplace.demo.load import load_demo_data
from marketplace.demo.organizations import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "load_demo_data"]
