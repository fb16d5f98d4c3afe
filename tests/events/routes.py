"""The events routes of the role × organization matrix (tests/app/test_tenancy.py reads these
lists): each feature of events adds its API and page routes here, with the data they need."""

from __future__ import annotations

from tests.app.matrix import Route

API_ROUTES: list[Route] = []

PAGE_ROUTES: list[Route] = []
