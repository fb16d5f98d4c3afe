"""Analytics' own table. Its other relations are the reporting views of migration 0016
(analytics_listing_dims, and the materialised analytics_listings, analytics_requests,
analytics_agreements, analytics_incomes and its daily sums analytics_income_days), read with SQL in figures.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base

# In refresh order: analytics_income_days sums analytics_incomes.
MATERIALISED_VIEWS = (
    "analytics_listings",
    "analytics_requests",
    "analytics_agreements",
    "analytics_incomes",
    "analytics_income_days",
)


class Refresh(Base):
    """When the materialised views were last refreshed: the dashboards say "figures as of"."""

    __tablename__ = "analytics_refreshes"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
