"""Registration (issue 17, point 2): who registers when, the capacity (also two teams racing for
the last place), own people, slots within the event, own published listings and own open needs,
editing until the event runs, cancelling frees a place, the roadshow order, and who reads whose
people."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.db import make_sessionmaker, utcnow
from marketplace.errors import Conflict
from marketplace.events.admin import EventService
from marketplace.events.models import Event, EventState, Presentation, Registration
from marketplace.events.schemas import RegistrationIn
from tests.catalog.factories import published
from tests.events.factories import members_of, seed_event, seed_registration
from tests.events.registration_factories import open_need, other_admin

API = "/api/v1/events"


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def register(client, world, event, role, **body):
    return await client.post(f"{API}/{event.id}/registrations", json={"slots": [0, 1], **body}, headers=world.bearer(role))


async def test_an_institution_registers_with_its_published_listings_in_the_roadshow(client, db, world) -> None:
    event = await seed_event(db, world)
    first, second = await published(db, world), await published(db, world)
    response = await register(
        client, world, event, Role.tto_staff, listings=[{"listing_id": str(first)}, {"listing_id": str(second), "minutes": 15}]
    )
    assert response.status_code == 201, response.text
    team = response.json()
    assert team["organization_kind"] == "institution"
    assert [(p["listing_id"], p["minutes"], p["position"]) for p in team["presentations"]] == [
        (str(first), 8, 0),
        (str(second), 15, 1),
    ]
    # The roadshow ends as the first day's meetings begin (09:00 China time).
    assert team["presentations"][-1]["ends_at"].endswith("T09:00:00+08:00")
    assert team["presentations"][0]["starts_at"].endswith("T08:37:00+08:00")
    staff = await world.principal(db, world.emails[Role.tto_staff])
    assert [a["user_id"] for a in team["attendees"]] == [str(staff.user_id)]
    assert team["contact_user_id"] == str(staff.user_id)
    assert (await client.get(f"{API}/{event.id}", headers=world.bearer(Role.tto_staff))).json()["registered"] == 1
    assert await db.scalar(select(AuditEvent.id).where(AuditEvent.action == "event_registered")) is not None


@pytest.mark.parametrize("kind", ["draft", "other", "unpublished", "none"])
async def test_an_institution_presents_only_its_own_published_listings(client, db, world, kind) -> None:
    event = await seed_event(db, world)
    listings = {
        "other": [await published(db, world, "other")],
        "none": [],
    }
    if kind in ("draft", "unpublished"):
        from marketplace.catalog.models import Listing

        listing_id = await published(db, world)
        await db.execute(update(Listing).where(Listing.id == listing_id).values(status="withdrawn"))
        await db.commit()
        listings[kind] = [listing_id]
    body = [{"listing_id": str(i)} for i in listings[kind]]
    response = await register(client, world, event, Role.tto_manager, listings=body)
    assert response.status_code == 422, response.text
    assert any(f.startswith("listings") for f in fields(response)), response.text


async def test_a_company_brings_its_own_open_needs_and_no_listings(client, db, world) -> None:
    event = await seed_event(db, world)
    own, others, draft = (
        await open_need(db, world),
        await open_need(db, world, "other"),
        await open_need(db, world, state="draft"),
    )
    refused = await register(client, world, event, Role.company_member, need_ids=[str(own), str(others), str(draft)])
    assert refused.status_code == 422 and set(fields(refused)) == {"need_ids[1]", "need_ids[2]"}
    listing = await published(db, world)
    no_talks = await register(client, world, event, Role.company_member, listings=[{"listing_id": str(listing)}])
    assert no_talks.status_code == 422 and "listings" in fields(no_talks)
    ok = await register(client, world, event, Role.company_member, need_ids=[str(own)])
    assert ok.status_code == 201, ok.text
    assert [n["id"] for n in ok.json()["needs"]] == [str(own)]


async def test_people_are_members_of_the_own_organization_and_the_contact_one_of_them(client, db, world) -> None:
    event = await seed_event(db, world)
    stranger = (await members_of(db, world.orgs["company/other"]))[0]
    own_people = await members_of(db, world.orgs["company/own"])
    refused = await register(client, world, event, Role.company_admin, attendee_ids=[str(own_people[0].id), str(stranger.id)])
    assert refused.status_code == 422 and set(fields(refused)) == {"attendee_ids[1]"}
    not_coming = await register(
        client, world, event, Role.company_admin, attendee_ids=[str(own_people[0].id)], contact_user_id=str(own_people[1].id)
    )
    assert not_coming.status_code == 422 and "contact_user_id" in fields(not_coming)
    both = await register(
        client,
        world,
        event,
        Role.company_admin,
        attendee_ids=[str(p.id) for p in own_people[:2]],
        contact_user_id=str(own_people[1].id),
    )
    assert both.status_code == 201, both.text
    assert both.json()["contact_user_id"] == str(own_people[1].id)


async def test_slots_lie_within_the_event_and_at_least_one_is_given(client, db, world) -> None:
    event = await seed_event(db, world)  # 12 slots: 0..11
    beyond = await register(client, world, event, Role.company_admin, slots=[3, 12])
    assert beyond.status_code == 422 and set(fields(beyond)) == {"slots[1]"}
    none = await register(client, world, event, Role.company_admin, slots=[])
    assert none.status_code == 400 and "slots" in fields(none)
    negative = await register(client, world, event, Role.company_admin, slots=[-1])
    assert negative.status_code == 400
    ok = await register(client, world, event, Role.company_admin, slots=[11, 3, 3])
    assert ok.status_code == 201 and ok.json()["available_slots"] == [3, 11]


@pytest.mark.parametrize("state", [EventState.draft, EventState.scheduling, EventState.closed])
async def test_registration_is_only_while_open_and_before_the_deadline(client, db, world, state) -> None:
    event = await seed_event(db, world, state, organizer="institution/other")
    response = await register(client, world, event, Role.company_admin)
    assert response.status_code == (404 if state == EventState.draft else 409)


async def test_registration_closes_at_the_deadline_even_before_the_job_runs(client, db, world) -> None:
    event = await seed_event(db, world)
    await db.execute(update(Event).where(Event.id == event.id).values(registration_deadline=utcnow()))
    await db.commit()
    assert (await register(client, world, event, Role.company_admin)).status_code == 409


async def test_a_full_event_refuses_with_a_409_and_a_cancellation_frees_the_place(client, db, world) -> None:
    event = await seed_event(db, world, capacity=2)
    first = await register(client, world, event, Role.company_admin)
    listing = await published(db, world)
    assert (await register(client, world, event, Role.tto_manager, listings=[{"listing_id": str(listing)}])).status_code == 201
    assert (await register(client, world, event, Role.company_admin)).status_code == 409  # registered already
    _, other_company = await other_admin(db, world, "company")
    full = await client.post(f"{API}/{event.id}/registrations", json={"slots": [0]}, headers=other_company)
    assert full.status_code == 409 and "capacity" in fields(full)
    url = f"{API}/{event.id}/registrations/{first.json()['id']}/transitions"
    no_reason = await client.post(url, json={"action": "cancel"}, headers=world.bearer(Role.company_member))
    assert no_reason.status_code == 422 and "reason" in fields(no_reason)
    cancelled = await client.post(url, json={"action": "cancel", "reason": "行程冲突"}, headers=world.bearer(Role.company_member))
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert (await client.get(f"{API}/{event.id}", headers=world.bearer(Role.company_member))).json()["registered"] == 1
    again = await client.post(f"{API}/{event.id}/registrations", json={"slots": [0]}, headers=other_company)
    assert again.status_code == 201, again.text


async def test_two_teams_racing_for_the_last_place_the_database_refuses_the_second(engine, db, world) -> None:
    """Both pass the check in code (each reads one free place); the counter's CHECK refuses one."""
    event = await seed_event(db, world, capacity=2)
    await seed_registration(db, event, world.orgs["institution/own"])
    sessionmaker = make_sessionmaker(engine)
    data = msgspec.convert({"slots": [0]}, RegistrationIn)
    principals = [await world.principal(db, world.emails[Role.company_admin]), (await other_admin(db, world, "company"))[0]]
    read_both = asyncio.Event()
    waiting = 0

    async def one(principal) -> str:
        nonlocal waiting
        async with sessionmaker() as session:
            service = EventService(session)
            checked = service._check_capacity

            async def check_then_wait(event) -> None:
                await checked(event)  # one place free: both pass
                nonlocal waiting
                waiting += 1
                if waiting == 2:
                    read_both.set()
                await read_both.wait()

            service._check_capacity = check_then_wait  # type: ignore[method-assign]
            try:
                await service.register(principal, event.id, data)
                await session.commit()
                return "registered"
            except Conflict as refused:
                await session.rollback()
                return refused.errors[0].field if refused.errors else refused.message

    results = await asyncio.gather(*(one(p) for p in principals))
    assert sorted(results) == ["capacity", "registered"]
    await db.refresh(event)
    assert event.registered == 2


async def test_editing_a_registration_keeps_the_roadshow_place_of_kept_talks(client, db, world) -> None:
    event = await seed_event(db, world)
    a, b, c = [await published(db, world) for _ in range(3)]
    created = await register(client, world, event, Role.tto_manager, listings=[{"listing_id": str(a)}, {"listing_id": str(b)}])
    company = await register(client, world, event, Role.company_admin)
    url = f"{API}/{event.id}/registrations/{created.json()['id']}"
    headers = world.bearer(Role.tto_staff)
    changed = await client.patch(
        url, json={"listings": [{"listing_id": str(b), "minutes": 12}, {"listing_id": str(c)}], "slots": [5]}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert [(p["listing_id"], p["minutes"], p["position"]) for p in changed.json()["presentations"]] == [
        (str(b), 12, 1),
        (str(c), 8, 2),
    ]
    assert changed.json()["available_slots"] == [5]
    assert (await client.patch(url, json={"listings": []}, headers=headers)).status_code == 422
    # Another organization may not edit it; the company's own is not the TTO's either.
    assert (await client.patch(url, json={"note": "x"}, headers=world.bearer(Role.company_admin))).status_code == 403
    company_url = f"{API}/{event.id}/registrations/{company.json()['id']}"
    assert (await client.patch(company_url, json={"note": "x"}, headers=headers)).status_code == 403
    await db.execute(update(Event).where(Event.id == event.id).values(state=EventState.scheduling))
    await db.execute(update(Event).where(Event.id == event.id).values(state=EventState.running))
    await db.commit()
    assert (await client.patch(url, json={"note": "晚到"}, headers=headers)).status_code == 409
    cancel = await client.post(f"{url}/transitions", json={"action": "cancel", "reason": "x"}, headers=headers)
    assert cancel.status_code == 409


async def test_the_organizer_cancels_a_registration_and_reorders_the_roadshow(client, db, world) -> None:
    event = await seed_event(db, world, organizer="institution/own")
    team = await seed_registration(db, event, world.orgs["institution/own"])
    other = await seed_registration(db, event, world.orgs["institution/other"])
    talks = []
    for position, registration in enumerate((team, other, other)):
        talk = Presentation(
            id=uuid.uuid4(),
            event_id=event.id,
            registration_id=registration.id,
            listing_id=await published(db, world, "own" if registration is team else "other"),
            position=position,
            minutes=10,
        )
        db.add(talk)
        talks.append(talk.id)
    await db.commit()
    headers = world.bearer(Role.tto_manager)
    url = f"{API}/{event.id}/roadshow"
    assert (await client.put(url, json={"order": [str(talks[0])]}, headers=headers)).status_code == 422
    _, other_tto = await other_admin(db, world, "institution")
    assert (await client.put(url, json={"order": [str(t) for t in talks]}, headers=other_tto)).status_code == 403
    new_order = [talks[2], talks[0], talks[1]]
    reordered = await client.put(url, json={"order": [str(t) for t in new_order]}, headers=headers)
    assert reordered.status_code == 200, reordered.text
    assert [p["id"] for p in reordered.json()] == [str(t) for t in new_order]
    assert reordered.json()[-1]["ends_at"].endswith("T09:00:00+08:00")
    # The organizer cancels the other institution's registration: its talks leave the roadshow.
    cancelled = await client.post(
        f"{API}/{event.id}/registrations/{other.id}/transitions",
        json={"action": "cancel", "reason": "未按时提交材料"},
        headers=headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    left = await client.put(url, json={"order": [str(talks[0])]}, headers=headers)
    assert left.status_code == 200 and [p["id"] for p in left.json()] == [str(talks[0])]
    state = await db.scalar(select(Registration.state_reason).where(Registration.id == other.id))
    assert state == "未按时提交材料"


async def test_people_of_a_team_are_read_by_their_organization_and_the_organizer_only(client, db, world) -> None:
    event = await seed_event(db, world)
    team = await seed_registration(db, event, world.orgs["company/own"])
    url = f"{API}/{event.id}/registrations/{team.id}"
    own = (await client.get(url, headers=world.bearer(Role.company_member))).json()
    assert own["attendees"] and own["attendees"][0]["email"]
    organizer = (await client.get(url, headers=world.bearer(Role.platform_admin))).json()
    assert organizer["attendees"] == own["attendees"]
    for role in (Role.tto_manager, Role.platform_analyst, Role.inventor):
        outsider = (await client.get(url, headers=world.bearer(role))).json()
        assert outsider["attendees"] is None and outsider["contact_user_id"] is None and outsider["note"] is None
        assert outsider["organization_name"] and outsider["profile_url"] == f"/companies/{world.orgs['company/own'].id}"
    listed = (await client.get(f"{API}/{event.id}/registrations", headers=world.bearer(Role.tto_staff))).json()
    assert [t["id"] for t in listed] == [str(team.id)] and listed[0]["attendees"] is None
