"""Loading the demo world into an empty database, through the domains' public services: the
platform and its administrator by bootstrap, organizations by that administrator, people by
invitation, listings with their history, requests and needs by the people taking part, the revenue-sharing
ledger by each institution's TTO manager (by the platform admin where it has none), licences by both sides,
wards, bed allocations and trials by the TTOs and the companies; then two years of deal history for the
operator dashboard (history.py); last, a past and an upcoming matchmaking event (events.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.accounts.organizations import organization_count
from marketplace.accounts.services import AccountService
from marketplace.db import china_day, utcnow
from marketplace.demo import people
from marketplace.demo.catalogue import demo_listings
from marketplace.demo.organizations import (
    ALL_COMPANIES,
    ALL_INSTITUTIONS,
    DEMO_PASSWORD,
    FOUNDATION_INSTITUTION_COUNT,
    PLATFORM,
    SAVED_SEARCHES,
    USERS,
)
from marketplace.demo.profiles import demo_profiles
from marketplace.demo.words import FOUNDATION_INVENTOR_NAME

INVENTOR = "inventor@pujiang.example"  # named on Pujiang's results, the author of its results still in draft


async def load_demo_data(session: AsyncSession) -> bool:
    """Load once: returns False and changes nothing when any organization exists."""
    if await organization_count(session):
        return False
    now = utcnow()
    orgs = await _organizations_and_people(session)
    institutions = [orgs[i.name_zh] for i in ALL_INSTITUTIONS]
    inventor = await people.user_id(AccountService(session), INVENTOR)
    await _listings(session, institutions, inventor, now)
    from marketplace.demo.matching import load_demo_needs, load_demo_requests

    foundation = {i.name_zh: orgs[i.name_zh] for i in ALL_INSTITUTIONS[:FOUNDATION_INSTITUTION_COUNT]}
    await load_demo_requests(session, foundation, now)
    await load_demo_needs(session, foundation, now)
    from marketplace.demo.ledger import load_demo_ledger

    await load_demo_ledger(session, {i.name_zh: orgs[i.name_zh] for i in ALL_INSTITUTIONS}, now)
    from marketplace.demo.licensing import load_demo_licensing

    await load_demo_licensing(session, foundation, now)
    from marketplace.demo.beds import load_demo_beds

    await load_demo_beds(session, {i.name_zh: orgs[i.name_zh] for i in ALL_INSTITUTIONS}, now)
    await _saved_searches(session)
    from marketplace.demo.history_load import load_demo_history

    await load_demo_history(session, orgs, now)
    from marketplace.demo.events import load_demo_events

    await load_demo_events(session, orgs, now)
    from marketplace.demo.history_views import load_demo_views

    await load_demo_views(session, china_day(now))
    from marketplace.analytics.services import AnalyticsService

    # The dashboards read materialised views: fill them now rather than at the worker's next round.
    await session.flush()
    await AnalyticsService(session).refresh()
    return True


async def _organizations_and_people(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Every organization's id by Chinese name, each demo person a member where USERS says."""
    accounts = AccountService(session)
    first = next(u for u in USERS if u[3] == Role.platform_admin)
    _org, email, name, _role = first
    membership = await accounts.bootstrap_platform(PLATFORM, email=email, name=name, password=DEMO_PASSWORD)
    admin = await people.principal(accounts, membership.user_id)
    orgs = {PLATFORM.name_zh: membership.organization_id}
    for data in [*ALL_INSTITUTIONS, *ALL_COMPANIES]:
        orgs[data.name_zh] = (await accounts.create_organization(admin, data)).id
    for name, profile in demo_profiles(ALL_INSTITUTIONS, ALL_COMPANIES):
        await accounts.update_organization_profile(admin, orgs[name], profile)
    for user in USERS:
        if user is first:
            continue
        org, email, name, role = user
        _invitation, _user, token = await accounts.invite(
            admin, orgs[org], email=email, name=name, role=role, ttl=timedelta(days=1)
        )
        await accounts.accept_invitation(token, password=DEMO_PASSWORD)
    return orgs


async def _listings(session: AsyncSession, institutions: list[uuid.UUID], inventor: uuid.UUID, now: datetime) -> None:
    from marketplace.catalog.services import CatalogService

    catalog = CatalogService(session)
    for item in demo_listings():
        author = None
        if item.institution_index == 0 and item.data.kind == "result":
            for person in item.data.inventors or []:
                if person.name == FOUNDATION_INVENTOR_NAME:
                    person.user_id = inventor
            author = inventor if item.status in ("draft", "pending_review") else None
        await catalog.add_existing(
            institutions[item.institution_index],
            item.data,
            status=item.status,
            published_at=item.published_at(now),
            confirmed_at=item.confirmed_at(now),
            created_by_user_id=author,
            flush=False,
        )
    await session.flush()


async def _saved_searches(session: AsyncSession) -> None:
    """The demo company member watches searches, so alerts and the digest have work to show."""
    from marketplace.search.saved_searches import SavedSearchService

    accounts = AccountService(session)
    saved = SavedSearchService(session)
    for item in SAVED_SEARCHES:
        member = await people.principal(accounts, await people.user_id(accounts, item["user"]))
        await saved.create(member, item["name"], item["query"], email_enabled=item["email_enabled"])
