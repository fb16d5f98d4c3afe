"""Home-page tests use the shared world (tests/conftest.py); their data comes from factories.py."""
