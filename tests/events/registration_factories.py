"""Test data of the organizer's events and registrations (issue 17, points 1–2): the API's bodies,
published listings and open needs to bring, and the tenancy matrix's prepared records."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import update

from marketplace.accounts.models import Role
from marketplace.db import CHINA_TIME, utcnow
from marketplace.events.models import EventState, Presentation
from marketplace.matching.needs.models import Need
from tests.catalog.factories import published
from tests.events.factories import members_of, seed_event, seed_registration
from tests.support.world import ROLE_KIND, World


def event_body(**overrides) -> dict:
    """A two-day event a month ahead, 09:00–12:00 in 30-minute slots (12 slots), five tables."""
    starts = date.today() + timedelta(days=30)
    body = {
        "title": "医企融合对接会",
        "title_en": "Hospital–industry matchmaking",
        "description": "肿瘤专场",
        "starts_on": starts.isoformat(),
        "ends_on": (starts + timedelta(days=1)).isoformat(),
        "day_starts_at": "09:00:00",
        "day_ends_at": "12:00:00",
        "slot_minutes": 30,
        "registration_deadline": datetime.combine(starts - timedelta(days=3), time(18, 0), tzinfo=CHINA_TIME).isoformat(),
        "capacity": 40,
        "venue": "杭州国际博览中心",
        "areas": ["oncology"],
        "table_count": 5,
    }
    body.update(overrides)
    return body


async def open_need(db, world: World, relation: str = "own", state: str = "open") -> uuid.UUID:
    need = Need(
        kind="need",
        organization_id=world.orgs[f"company/{relation}"].id,
        organization_kind="company",
        title="寻找肝癌早筛技术",
        problem="希望引进一项肝癌早筛技术。",
        areas=["oncology"],
        wanted=["result"],
        deadline=date.today() + timedelta(days=60),
        opened_at=utcnow() if state != "draft" else None,
    )
    db.add(need)
    await db.flush()
    if state != "draft":
        await db.execute(update(Need).where(Need.id == need.id).values(state=state))
    await db.commit()
    return need.id


def registration_body(world: World, role: Role, listing_id: uuid.UUID | None = None, **overrides) -> dict:
    body: dict = {"slots": [0, 1, 2]}
    if ROLE_KIND[role] == "institution" and listing_id is not None:
        body["listings"] = [{"listing_id": str(listing_id)}]
    body.update(overrides)
    return body


# ----- the tenancy matrix's prepared records ------------------------------------------------------


def _organizer(role: Role, relation: str) -> str:
    """Events organized by the institution of the role's relation (the platform for the others)."""
    return f"institution/{relation}" if ROLE_KIND[role] == "institution" else "platform/own"


async def matrix_open_event(db, world: World, role: Role, relation: str) -> dict:
    """A fresh event open for registration, organized by the platform, and a published listing of
    the own institution to present."""
    event = await seed_event(db, world, EventState.registration_open)
    world.scratch["listing"] = await published(db, world, "own")
    return {"event": event.id}


async def matrix_organized_event(db, world: World, role: Role, relation: str) -> dict:
    """A fresh open event of the role's own (other) institution; the platform's for other roles."""
    event = await seed_event(db, world, EventState.registration_open, organizer=_organizer(role, relation))
    return {"event": event.id}


async def matrix_registration(db, world: World, role: Role, relation: str) -> dict:
    """An open platform event where the role's own (other) organization is registered (the own
    company for platform roles)."""
    event = await seed_event(db, world, EventState.registration_open)
    kind = ROLE_KIND[role] if ROLE_KIND[role] != "platform" else "company"
    org = world.orgs[f"{kind}/{relation if ROLE_KIND[role] != 'platform' else 'own'}"]
    registration = await seed_registration(db, event, org)
    return {"event": event.id, "registration": registration.id}


async def matrix_roadshow(db, world: World, role: Role, relation: str) -> dict:
    """An event of the role's institution (or the platform) with one institution's two talks."""
    event = await seed_event(db, world, EventState.registration_open, organizer=_organizer(role, relation))
    registration = await seed_registration(db, event, world.orgs["institution/own"])
    talks = []
    for position in range(2):
        listing_id = await published(db, world, "own")
        talk = Presentation(
            id=uuid.uuid4(),
            event_id=event.id,
            registration_id=registration.id,
            listing_id=listing_id,
            position=position,
            minutes=8,
        )
        db.add(talk)
        talks.append(talk.id)
    await db.commit()
    world.scratch["roadshow"] = list(reversed(talks))
    return {"event": event.id}


def matrix_registration_body(world: World, role: Role, relation: str) -> dict:
    return registration_body(world, role, world.scratch.get("listing"))


def matrix_event_form(world: World, role: Role, relation: str) -> dict:
    body = event_body()
    form = {k: str(v) for k, v in body.items() if k not in ("areas", "table_count", "registration_deadline")}
    form["day_starts_at"], form["day_ends_at"] = "09:00", "12:00"
    form["registration_deadline"] = body["registration_deadline"][:16]
    form["tables"] = "5"
    return form


__all__ = ["members_of"]


async def other_admin(db, world: World, kind: str) -> tuple:
    """The other company's (institution's) administrator: their principal and bearer header."""
    from marketplace.accounts.services import AccountService
    from tests.support.world import principal_of

    principal = await principal_of(db, f"admin@{kind}.other.test")
    _token, raw = await AccountService(db).create_token(principal, "other admin")
    await db.commit()
    return principal, {"Authorization": f"Bearer {raw}"}


async def add_talk(db, world: World, event, registration, title: str, minutes: int = 10) -> uuid.UUID:
    """A published listing of the own institution presented by `registration`, last in the roadshow."""
    from sqlalchemy import func, select

    from tests.catalog.factories import result_body

    listing_id = await published(db, world, body=result_body(title_zh=title))
    last = await db.scalar(select(func.max(Presentation.position)).where(Presentation.event_id == event.id))
    talk = Presentation(
        id=uuid.uuid4(),
        event_id=event.id,
        registration_id=registration.id,
        listing_id=listing_id,
        position=0 if last is None else last + 1,
        minutes=minutes,
    )
    db.add(talk)
    await db.commit()
    return talk.id
