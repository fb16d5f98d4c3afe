"""A listing's state machine (declared for marketplace/states.py): its statuses, steps, who takes
each and the hooks; and freshness, the 180 days after which a published listing nobody confirmed
turns stale (a timed job marks it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import false, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import states
from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.validation import check_complete
from marketplace.config import Settings
from marketplace.db import utcnow
from marketplace.i18n import N_
from marketplace.tenancy import Principal

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=180)
# Listings due for confirmation show up in the TTO's list this long before they turn stale.
DUE_WARNING = timedelta(days=30)


def freshness(listing: Listing, now: datetime) -> dict:
    """Days since the TTO last confirmed the listing, and days until it turns stale."""
    if listing.confirmed_at is None:
        return {"since": None, "left": None}
    since = (now - listing.confirmed_at).days
    return {"since": since, "left": STALE_AFTER.days - since}


def _listing_sides(principal: Principal, listing: Listing, _context: object) -> set[str]:
    """The owning institution's people, among them the listing's author; the platform's."""
    sides = {"platform"} if principal.is_platform else set()
    if listing.institution_id == principal.organization_id:
        sides.add("institution")
        if listing.created_by_user_id == principal.user_id:
            sides.add("author")
    return sides


async def _check_complete(step: states.Step) -> None:
    check_complete(step.record)


async def _enter(step: states.Step) -> None:
    listing = step.record
    listing.status = step.target
    if step.target == Status.published:
        listing.published_at = listing.published_at or step.now
        listing.confirmed_at = step.now
        listing.is_stale = False


BY_TTO = (states.Party("institution", TTO_ROLES), states.Party("platform", frozenset({Role.platform_admin})))
# An inventor submits only what they wrote.
BY_AUTHOR = (*BY_TTO, states.Party("author", frozenset({Role.inventor})))
# The lifecycle. `confirm` keeps a published listing published and marks it current. Listings may
# be inserted in any status (the demo data, imports of past listings and the benchmark seed them
# so); the database guards every later move (migration 0010).
LIFECYCLE = states.Machine(
    name="listing",
    table="listings",
    column="status",
    states=tuple(Status),
    initial=frozenset(Status),
    actions={
        action.name: action
        for action in (
            states.Action("submit", frozenset({Status.draft}), Status.pending_review, BY_AUTHOR),
            states.Action("return", frozenset({Status.pending_review}), Status.draft, BY_TTO),
            states.Action(
                "publish",
                frozenset({Status.draft, Status.pending_review}),
                Status.published,
                BY_TTO,
                guard=_check_complete,
            ),
            states.Action("withdraw", frozenset({Status.published}), Status.withdrawn, BY_TTO),
            states.Action("republish", frozenset({Status.withdrawn}), Status.published, BY_TTO, guard=_check_complete),
            states.Action(
                "archive",
                frozenset({Status.draft, Status.pending_review, Status.published, Status.withdrawn}),
                Status.archived,
                BY_TTO,
            ),
            states.Action("restore", frozenset({Status.archived}), Status.draft, BY_TTO),
            states.Action("confirm", frozenset({Status.published}), Status.published, BY_TTO),
        )
    },
    sides=_listing_sides,
    refusal=N_("A listing that is %(state)s cannot be %(action)s."),
    refusal_field=N_("Not allowed from the listing's current status."),
    enter=_enter,
    organization=lambda step: step.record.institution_id,
)


async def mark_stale(session: AsyncSession, now: datetime | None = None) -> int:
    """Flag published listings not confirmed for 180 days (a timed job); returns how many changed."""
    cutoff = (now or utcnow()) - STALE_AFTER
    result = await session.execute(
        update(Listing)
        .where(Listing.status == Status.published, Listing.is_stale.is_(false()), Listing.confirmed_at < cutoff)
        .values(is_stale=True)
        .returning(Listing.id, Listing.institution_id)
    )
    rows = result.all()
    for listing_id, institution_id in rows:
        await audit.record(
            session, "listing_marked_stale", organization_id=institution_id, subject_type="listings", subject_id=listing_id
        )
    return len(rows)


async def stale_job(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's hourly job: listings unconfirmed for STALE_AFTER become stale."""
    async with sessionmaker() as session, session.begin():
        changed = await mark_stale(session)
    if changed:
        log.info("marked %d listing(s) stale", changed)
