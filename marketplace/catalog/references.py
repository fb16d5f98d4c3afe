"""What other domains read of the catalogue (listings by id, a result with its inventors, patent
numbers, who owns a listing) and the summaries they keep on a listing through it (an open licence,
free beds), which reach search through the outbox like any listing change. Mixed into CatalogService."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.catalog.models import Inventor, IpAsset, Listing, ListingKind
from marketplace.errors import NotFound


class ListingReferences:
    session: AsyncSession

    async def listing_refs(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Listing]:
        """Listings by id whatever their status, for records the caller may already see that point
        at them (a match request keeps showing its listing's title after a withdrawal)."""
        if not ids:
            return {}
        return {item.id: item for item in await self.session.scalars(select(Listing).where(Listing.id.in_(ids)))}

    async def ip_assets_of(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, list[IpAsset]]:
        """The patents (and other IP) of listings by id, in their order, for documents that cite
        them (a licence agreement names the patent numbers it covers)."""
        found: dict[uuid.UUID, list[IpAsset]] = {listing_id: [] for listing_id in ids}
        if ids:
            stmt = select(IpAsset).where(IpAsset.listing_id.in_(ids)).order_by(IpAsset.listing_id, IpAsset.position)
            for asset in await self.session.scalars(stmt):
                found[asset.listing_id].append(asset)
        return found

    async def result_institution(self, result_id: uuid.UUID) -> uuid.UUID:
        """The institution a result belongs to, for the platform admin acting on it; NotFound for
        anything else."""
        found = await self.session.scalar(
            select(Listing.institution_id).where(Listing.id == result_id, Listing.kind == ListingKind.result)
        )
        if found is None:
            raise NotFound()
        return found

    async def institution_result(self, institution_id: uuid.UUID, result_id: uuid.UUID) -> Listing:
        """A result of the institution, whatever its status, with its inventors and their shares (the
        ledger splits income by them); NotFound for anything else."""
        stmt = select(Listing).where(
            Listing.id == result_id, Listing.institution_id == institution_id, Listing.kind == ListingKind.result
        )
        listing = await self.session.scalar(stmt.options(selectinload(Listing.inventors)))
        if listing is None:
            raise NotFound()
        return listing

    async def listing_institution(self, listing_id: uuid.UUID) -> uuid.UUID:
        """The institution a listing of any kind belongs to (the platform admin recording clinical
        service income on a resource); NotFound for anything else."""
        found = await self.session.scalar(
            select(Listing.institution_id).where(Listing.id == listing_id, Listing.institution_id.is_not(None))
        )
        if found is None:
            raise NotFound()
        return found

    async def institution_listing(self, institution_id: uuid.UUID, listing_id: uuid.UUID) -> Listing:
        """A listing of the institution of any kind (a result, or a resource such as a research ward
        or trial site), whatever its status, with its inventors; NotFound for anything else."""
        stmt = select(Listing).where(Listing.id == listing_id, Listing.institution_id == institution_id)
        listing = await self.session.scalar(stmt.options(selectinload(Listing.inventors)))
        if listing is None:
            raise NotFound()
        return listing

    async def set_open_licence(self, listing_id: uuid.UUID, summary: dict | None) -> None:
        """Licensing declared (a summary of its terms) or withdrew (None) an open licence on the
        result. A change of a published listing, so search's outbox picks it up in this transaction."""
        listing = await self.session.scalar(select(Listing).where(Listing.id == listing_id).with_for_update())
        if listing is None:
            raise NotFound()
        listing.open_licence = summary
        await self.session.flush()

    async def set_bed_availability(self, listing_id: uuid.UUID, summary: dict | None) -> None:
        """Beds computed the research ward listing's free beds over the next 90 days (None: no
        wards). Written only when it changed, so an unchanged daily refresh queues nothing for search."""
        listing = await self.session.scalar(select(Listing).where(Listing.id == listing_id).with_for_update())
        if listing is None:
            raise NotFound()
        if listing.bed_availability != summary:
            listing.bed_availability = summary
            await self.session.flush()

    async def names_inventor(self, listing_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Whether the listing names the user as one of its inventors."""
        return bool(await self.session.scalar(self.listings_naming(user_id).where(Inventor.listing_id == listing_id).limit(1)))

    @staticmethod
    def listings_naming(user_id: uuid.UUID) -> Select:
        """The ids of the listings that name the user as an inventor (as a subquery)."""
        return select(Inventor.listing_id).where(Inventor.user_id == user_id)
