"""What the meeting pages show beside the requests: the teams' names, the listings a team presents,
the needs it brings and the people it brings (read-only lookups for the pages of meeting_pages.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization, User
from marketplace.catalog.models import Listing
from marketplace.events.models import Attendee, BroughtNeed, Presentation, Registration
from marketplace.matching.needs.models import Need


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    label: str
    label_en: str


async def organizations_of(session: AsyncSession, registrations: dict[uuid.UUID, Registration]) -> dict[uuid.UUID, Organization]:
    """Registration id → its organization."""
    ids = {r.organization_id for r in registrations.values()}
    if not ids:
        return {}
    orgs = {o.id: o for o in await session.scalars(select(Organization).where(Organization.id.in_(ids)))}
    return {rid: orgs[r.organization_id] for rid, r in registrations.items() if r.organization_id in orgs}


async def presented_listings(session: AsyncSession, registration_id: uuid.UUID) -> list[Choice]:
    rows = await session.execute(
        select(Listing.id, Listing.title_zh, Listing.title_en)
        .join(Presentation, Presentation.listing_id == Listing.id)
        .where(Presentation.registration_id == registration_id)
        .order_by(Presentation.position)
    )
    return [Choice(i, zh, en or zh) for i, zh, en in rows.all()]


async def brought_needs(session: AsyncSession, registration_id: uuid.UUID) -> list[Choice]:
    rows = await session.execute(
        select(Need.id, Need.title)
        .join(BroughtNeed, BroughtNeed.need_id == Need.id)
        .where(BroughtNeed.registration_id == registration_id)
        .order_by(Need.title)
    )
    return [Choice(i, title, title) for i, title in rows.all()]


async def subjects(session: AsyncSession, listing_ids: set, need_ids: set) -> dict[uuid.UUID, Choice]:
    """The titles of the listings and needs requests are about."""
    found: dict[uuid.UUID, Choice] = {}
    if listing_ids:
        for i, zh, en in (
            await session.execute(select(Listing.id, Listing.title_zh, Listing.title_en).where(Listing.id.in_(listing_ids)))
        ).all():
            found[i] = Choice(i, zh, en or zh)
    if need_ids:
        for i, title in (await session.execute(select(Need.id, Need.title).where(Need.id.in_(need_ids)))).all():
            found[i] = Choice(i, title, title)
    return found


async def people_of(session: AsyncSession, registration_ids: set) -> dict[uuid.UUID, list[Choice]]:
    """Registration id → the people it brings, by name."""
    result: dict[uuid.UUID, list[Choice]] = {rid: [] for rid in registration_ids}
    if registration_ids:
        rows = await session.execute(
            select(Attendee.registration_id, User.id, User.name)
            .join(User, User.id == Attendee.user_id)
            .where(Attendee.registration_id.in_(registration_ids))
            .order_by(User.name)
        )
        for rid, uid, name in rows.all():
            result[rid].append(Choice(uid, name, name))
    return result


async def names_of(session: AsyncSession, user_ids: set) -> dict[uuid.UUID, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict((await session.execute(select(User.id, User.name).where(User.id.in_(ids)))).all())
