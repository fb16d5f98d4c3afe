"""One demo listing as the generator makes it: its institution, its fields, its status and ages
(apart from the generator, so the result and resource builders and the catalogue share it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from marketplace.catalog.schemas import ListingCreate


@dataclass
class DemoListing:
    institution_index: int  # into organizations.ALL_INSTITUTIONS
    data: ListingCreate
    status: str  # draft | pending_review | published | withdrawn | archived
    published_days_ago: int | None
    confirmed_days_ago: int | None

    def published_at(self, now: datetime) -> datetime | None:
        return None if self.published_days_ago is None else now - timedelta(days=self.published_days_ago)

    def confirmed_at(self, now: datetime) -> datetime | None:
        return None if self.confirmed_days_ago is None else now - timedelta(days=self.confirmed_days_ago)
