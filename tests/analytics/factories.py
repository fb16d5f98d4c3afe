"""Home-page test data: match requests made on a given day (so overdue or stalled), listings in a
status, and reading the queue cards back from a rendered home page."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import utcnow
from marketplace.matching.requests.models import MatchRequest
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from tests.catalog.factories import result_body, seed_listing
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, match_body
from tests.support.world import World


async def listing(
    db,
    world: World,
    title: str,
    *,
    relation: str = "own",
    status: str = "published",
    confirmed_at: datetime | None = None,
    **fields,
) -> uuid.UUID:
    found = await seed_listing(
        db,
        world.orgs[f"institution/{relation}"].id,
        msgspec.convert(result_body(title_zh=title, **fields), ListingCreate),
        status=status,
        confirmed_at=confirmed_at,
    )
    await db.commit()
    return found.id


async def request_on(
    db, world: World, title: str, *, days_ago: int = 0, relation: str = "own", email: str | None = None
) -> MatchRequest:
    """A published result of the own (other) institution titled `title`, and a request on it sent
    `days_ago` days ago by the own company's member (the other company's admin for the other)."""
    listing_id = await listing(db, world, title, relation=relation)
    email = email or (world.emails[Role.company_member] if relation == "own" else OTHER_COMPANY_ADMIN)
    principal = await world.principal(db, email)
    for org in world.orgs.values():  # the response time as a new request's session reads it
        await db.refresh(org)
    sent: datetime = utcnow() - timedelta(days=days_ago)
    request = await MatchingService(db).create(principal, msgspec.convert(match_body(listing_id), MatchRequestCreate), now=sent)
    await db.commit()
    return request


@dataclass(frozen=True)
class Card:
    key: str
    count: str
    href: str
    warn: bool


CARD = re.compile(
    r'<a href="(?P<href>[^"]*)" class="queue-item(?P<cls>[^"]*)" data-queue="(?P<key>[^"]+)">\s*'
    r'<span class="queue-count">(?P<count>[^<]*)</span>'
)


def cards(page: str) -> list[Card]:
    """The home page's queue cards, in page order."""
    return [
        Card(m["key"], m["count"].strip(), html_lib.unescape(m["href"]), "queue-warn" in m["cls"]) for m in CARD.finditer(page)
    ]


def card_map(page: str) -> dict[str, tuple[str, str]]:
    return {c.key: (c.count, c.href) for c in cards(page)}
