"""The landing page's content for visitors: the platform's headline figures and the new and featured
listings. Each figure comes from its domain's service (organizations from accounts, listings from the
catalogue as the public sees it) or from analytics' own reporting views (matches made, requests by
listing), so the landing page says what the dashboards say; those views are refreshed every five
minutes (the refresh_analytics job), so "matches made" and "most requested" may lag that much."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from litestar.di import NamedDependency
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization, OrgKind
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Listing, ListingKind, Status, TherapeuticArea
from marketplace.catalog.public_listings import public_listings
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession, utcnow
from marketplace.tenancy import ANONYMOUS

NEW_COUNT = 6
FEATURED_COUNT = 3
# Featured: the published listings companies asked about most in this window (match requests
# submitted, whatever became of them) — what the market finds worth asking about now.
FEATURED_WINDOW = timedelta(days=90)


@dataclass
class Figures:
    institutions: int
    listings: int  # published results
    resources: int  # published clinical resources
    matches: int  # requests an institution accepted (the dashboards' "accepted" stage)


@dataclass
class Showcase:
    figures: Figures
    new: list[Listing]
    featured: list[Listing]
    owners: dict[uuid.UUID, Organization] = field(default_factory=dict)
    areas: list[TherapeuticArea] = field(default_factory=list)


class FrontDoorService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def figures(self) -> Figures:
        catalog = CatalogService(self.session)
        _, results = await catalog.search(ANONYMOUS, kind=ListingKind.result, status=Status.published, page_size=1)
        _, resources = await catalog.search(ANONYMOUS, kind=ListingKind.resource, status=Status.published, page_size=1)
        counts = await AccountService(self.session).organization_counts()
        matches = await self.session.scalar(text("SELECT count(*) FROM analytics_requests WHERE accepted_at IS NOT NULL"))
        return Figures(counts.get(OrgKind.institution, 0), results, resources, int(matches or 0))

    async def featured_ids(self) -> list[uuid.UUID]:
        rows = await self.session.execute(
            text(
                "SELECT listing_id FROM analytics_requests WHERE submitted_at >= :since"
                " GROUP BY listing_id ORDER BY count(*) DESC, max(submitted_at) DESC LIMIT :n"
            ),
            {"since": utcnow() - FEATURED_WINDOW, "n": FEATURED_COUNT * 2},  # some may be withdrawn since
        )
        return [row[0] for row in rows.all()]

    async def showcase(self) -> Showcase:
        catalog = CatalogService(self.session)
        ranked = await self.featured_ids()
        by_id = {listing.id: listing for listing in await public_listings(self.session, ranked)} if ranked else {}
        featured = [by_id[i] for i in ranked if i in by_id][:FEATURED_COUNT]
        shown = {listing.id for listing in featured}
        recent, _ = await catalog.search(ANONYMOUS, status=Status.published, page_size=NEW_COUNT + FEATURED_COUNT)
        new = [listing for listing in recent if listing.id not in shown][:NEW_COUNT]
        owners = await AccountService(self.session).public_organizations({item.institution_id for item in [*featured, *new]})
        return Showcase(await self.figures(), new, featured, owners, await catalog.areas())


FrontDoor = NamedDependency[FrontDoorService]


async def provide_front_door(db_session: DbSession) -> FrontDoorService:
    return FrontDoorService(db_session)
