"""The listings the public sees, as search indexes them and the front door shows them, and what a
listing's card loads."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.catalog.models import Listing
from marketplace.catalog.visibility import ListingVisibility
from marketplace.tenancy import Principal


def load_cards(stmt: Select) -> Select:
    """What a listing's card shows: its areas, not its inventors nor its IP."""
    return stmt.options(selectinload(Listing.areas))


async def public_listings(
    session: AsyncSession, ids: list[uuid.UUID] | None = None, *, after: uuid.UUID | None = None, limit: int | None = None
) -> list[Listing]:
    """What search may show, by id order: the listings the public sees (published), with their
    areas loaded, freshly read. Those of `ids`, or with `after`/`limit` every one a page at a time."""
    stmt = load_cards(
        select(Listing)
        .where(ListingVisibility.visible(Principal()))  # nobody signed in: the public's view
        .order_by(Listing.id)
        .limit(limit)
        .execution_options(populate_existing=True)  # a document is built from the row as it is now
    )
    if ids is not None:
        stmt = stmt.where(Listing.id.in_(ids))
    if after is not None:
        stmt = stmt.where(Listing.id > after)
    return list((await session.scalars(stmt)).all())
