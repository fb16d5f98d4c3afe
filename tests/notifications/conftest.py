"""Notification tests: the SMTP `mailbox` fixture is session-wide (tests/conftest.py)."""
