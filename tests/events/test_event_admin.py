"""Events run by an organizer (issue 17, point 1): who creates which event, every field checked
field by field, what may be edited when, the steps and their audit, who sees drafts, and the job
that closes registration at the deadline."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.db import CHINA_TIME, make_sessionmaker, utcnow
from marketplace.events import admin
from marketplace.events.admin import close_registrations
from marketplace.events.models import Event, EventState
from tests.events.factories import seed_event, seed_registration
from tests.events.registration_factories import event_body

API = "/api/v1/events"


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_a_platform_admin_creates_a_draft_of_the_platform_and_a_tto_its_own_open_day(client, db, world) -> None:
    response = await client.post(API, json=event_body(), headers=world.bearer(Role.platform_admin))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["organizer_id"] == str(world.orgs["platform/own"].id)
    assert created["state"] == "draft"
    assert created["tables"] == ["1", "2", "3", "4", "5"]
    assert len(created["slots"]) == 12 and created["slots"][0]["number"] == 0
    assert created["slots"][6]["starts_at"].startswith(event_body()["ends_on"] + "T09:00:00")
    assert "open_registration" in created["actions"]

    own_day = await client.post(API, json=event_body(tables=["A1", "A2"]), headers=world.bearer(Role.tto_staff))
    assert own_day.status_code == 201, own_day.text
    assert own_day.json()["organizer_id"] == str(world.orgs["institution/own"].id)
    assert own_day.json()["tables"] == ["A1", "A2"]
    for role in (Role.inventor, Role.company_admin, Role.platform_analyst):
        assert (await client.post(API, json=event_body(), headers=world.bearer(role))).status_code == 403
    audited = await db.scalars(select(AuditEvent.action).where(AuditEvent.action == "event_created"))
    assert len(list(audited)) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_on": (date.today() + timedelta(days=29)).isoformat()}, "ends_on"),  # before the first day
        ({"ends_on": (date.today() + timedelta(days=37)).isoformat()}, "ends_on"),  # eight days
        ({"day_ends_at": "08:00:00"}, "day_ends_at"),
        ({"day_starts_at": "09:00:00", "day_ends_at": "09:20:00", "slot_minutes": 30}, "slot_minutes"),
        (
            {
                "registration_deadline": datetime.combine(
                    date.today() + timedelta(days=30), time(9, 30), tzinfo=CHINA_TIME
                ).isoformat()
            },
            "registration_deadline",
        ),
        ({"registration_deadline": (utcnow() - timedelta(hours=1)).isoformat()}, "registration_deadline"),
        ({"venue": "", "online_url": ""}, "venue"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"online_url": "ftp://example.com/x"}, "online_url"),
        ({"areas": ["oncology", "astrology"]}, "areas[1]"),
        ({"table_count": None, "tables": ["A", "A"]}, "tables"),
        ({"table_count": None, "tables": ["A", "  "]}, "tables"),
        ({"table_count": None}, "tables"),
        ({"capacity": 10**12}, "capacity"),
        ({"capacity": 1}, "capacity"),
        ({"slot_minutes": 5}, "slot_minutes"),
        ({"table_count": 201}, "table_count"),
        ({"talk_minutes": 0}, "talk_minutes"),
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"registration_deadline": "2026-12-01T18:00:00"}, "registration_deadline"),  # no offset
        ({"title": "   "}, "title"),
    ],
)
async def test_every_field_is_checked_and_named(client, world, overrides, field) -> None:
    body = {k: v for k, v in event_body(**overrides).items() if v is not None}
    response = await client.post(API, json=body, headers=world.bearer(Role.platform_admin))
    assert response.status_code in (400, 422), response.text
    assert field in fields(response), response.text


async def test_control_characters_are_refused_before_anything_is_written(client, db, world) -> None:
    response = await client.post(API, json=event_body(title="对接会\x00"), headers=world.bearer(Role.platform_admin))
    assert response.status_code == 400
    assert "title" in fields(response)
    assert await db.scalar(select(Event.id)) is None
    # Direct callers of the service (jobs, demo data) get the same answer.
    service = admin.EventService(db)
    principal = await world.principal(db, world.emails[Role.platform_admin])
    import msgspec

    from marketplace.events.schemas import EventIn

    data = msgspec.convert(event_body(description="a\x1bb"), EventIn)
    with pytest.raises(Exception) as refused:
        await service.create_event(principal, data)
    assert [e.field for e in refused.value.errors] == ["description"]  # type: ignore[attr-defined]


async def test_days_hours_and_slots_change_only_in_draft_and_capacity_never_below_registered(client, db, world) -> None:
    event = await seed_event(db, world, EventState.registration_open, capacity=3)
    await seed_registration(db, event, world.orgs["company/own"])
    await seed_registration(db, event, world.orgs["institution/own"])
    headers = world.bearer(Role.platform_admin)
    moved = await client.patch(f"{API}/{event.id}", json={"slot_minutes": 20}, headers=headers)
    assert moved.status_code == 422 and "slot_minutes" in fields(moved)
    shrunk = await client.patch(f"{API}/{event.id}", json={"capacity": 2, "title": "改名"}, headers=headers)
    assert shrunk.status_code == 200, shrunk.text
    too_small = await client.patch(f"{API}/{event.id}", json={"capacity": 1}, headers=headers)
    assert too_small.status_code == 400  # below the schema's minimum
    await db.execute(update(Event).where(Event.id == event.id).values(capacity=5))
    await db.commit()
    below = await client.patch(f"{API}/{event.id}", json={"capacity": 2, "venue": "新会场"}, headers=headers)
    assert below.status_code == 200
    draft = await seed_event(db, world, EventState.draft)
    retimed = await client.patch(f"{API}/{draft.id}", json={"slot_minutes": 20, "table_count": 8}, headers=headers)
    assert retimed.status_code == 200, retimed.text
    assert len(retimed.json()["slots"]) == 18 and len(retimed.json()["tables"]) == 8


async def test_capacity_below_the_registered_teams_is_a_field_error(client, db, world) -> None:
    event = await seed_event(db, world, EventState.registration_open, capacity=10)
    for org in ("company/own", "company/other", "institution/own"):
        await seed_registration(db, event, world.orgs[org])
    response = await client.patch(f"{API}/{event.id}", json={"capacity": 2}, headers=world.bearer(Role.platform_admin))
    assert response.status_code == 422 and "capacity" in fields(response)


async def test_a_running_event_is_not_edited(client, db, world) -> None:
    event = await seed_event(db, world, EventState.running)
    response = await client.patch(f"{API}/{event.id}", json={"title": "改名"}, headers=world.bearer(Role.platform_admin))
    assert response.status_code == 422 and "state" in fields(response)


async def test_steps_go_through_the_machine_are_audited_and_a_cancel_needs_a_reason(client, db, world) -> None:
    event = await seed_event(db, world, EventState.draft, organizer="institution/own")
    headers = world.bearer(Role.tto_manager)
    url = f"{API}/{event.id}/transitions"
    opened = await client.post(url, json={"action": "open_registration"}, headers=headers)
    assert opened.status_code == 200 and opened.json()["state"] == "registration_open"
    assert (await client.post(url, json={"action": "start"}, headers=headers)).status_code == 409
    assert (await client.post(url, json={"action": "deadline_passed"}, headers=headers)).status_code == 422
    assert (
        await client.post(url, json={"action": "close_registration"}, headers=world.bearer(Role.company_admin))
    ).status_code == 403
    no_reason = await client.post(url, json={"action": "cancel"}, headers=headers)
    assert no_reason.status_code == 422 and "reason" in fields(no_reason)
    for action in ("close_registration", "reopen_registration", "close_registration", "start", "close"):
        moved = await client.post(url, json={"action": action}, headers=headers)
        assert moved.status_code == 200, (action, moved.text)
    assert moved.json()["state"] == "closed"
    steps = list(
        await db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("event_%")).order_by(AuditEvent.occurred_at))
    )
    assert steps.count("event_close_registration") == 2 and "event_close" in steps


async def test_each_step_calls_the_consequences_hook(client, db, world, monkeypatch) -> None:
    seen = []

    async def hook(session, event, action, principal, now):
        seen.append((event.state, action, principal.role if principal else None))

    monkeypatch.setattr(admin, "after_event_step", hook)
    event = await seed_event(db, world, EventState.registration_open)
    headers = world.bearer(Role.platform_admin)
    await client.post(f"{API}/{event.id}/transitions", json={"action": "cancel", "reason": "场地取消"}, headers=headers)
    assert seen == [("cancelled", "cancel", Role.platform_admin)]


async def test_a_draft_is_its_organizers_alone(client, db, world) -> None:
    draft = await seed_event(db, world, EventState.draft, organizer="institution/own")
    for role in (Role.tto_manager, Role.platform_admin):
        assert (await client.get(f"{API}/{draft.id}", headers=world.bearer(role))).status_code == 200
    for role in (Role.inventor, Role.company_member, Role.platform_analyst):
        assert (await client.get(f"{API}/{draft.id}", headers=world.bearer(role))).status_code == 404
    listed = await client.get(API, headers=world.bearer(Role.company_member))
    assert str(draft.id) not in {e["id"] for e in listed.json()}
    mine = await client.get(API, headers=world.bearer(Role.tto_staff))
    assert str(draft.id) in {e["id"] for e in mine.json()}


async def test_the_list_puts_upcoming_first_and_filters_by_state_and_time(client, db, world) -> None:
    soon = await seed_event(db, world, EventState.registration_open, starts_on=date.today() + timedelta(days=10))
    later = await seed_event(db, world, EventState.registration_open, starts_on=date.today() + timedelta(days=40))
    past = await seed_event(
        db,
        world,
        EventState.closed,
        starts_on=date.today() - timedelta(days=40),
        registration_deadline=utcnow() - timedelta(days=50),
    )
    headers = world.bearer(Role.company_member)
    ids = [e["id"] for e in (await client.get(API, headers=headers)).json()]
    assert ids == [str(soon.id), str(later.id), str(past.id)]
    assert [e["id"] for e in (await client.get(API, params={"when": "past"}, headers=headers)).json()] == [str(past.id)]
    closed = (await client.get(API, params={"state": "closed"}, headers=headers)).json()
    assert [e["id"] for e in closed] == [str(past.id)]


async def test_the_deadline_job_moves_events_to_scheduling_and_one_bad_event_holds_back_none(
    engine, db, world, monkeypatch, caplog
) -> None:
    due = [await seed_event(db, world, EventState.registration_open) for _ in range(3)]
    future = await seed_event(db, world, EventState.registration_open)
    ids = [e.id for e in due]
    await db.execute(update(Event).where(Event.id.in_(ids)).values(registration_deadline=utcnow() - timedelta(minutes=5)))
    await db.commit()
    broken = ids[1]

    async def hook(session, event, action, principal, now):
        assert action == "deadline_passed" and principal is None
        if event.id == broken:
            raise RuntimeError("boom")

    monkeypatch.setattr(admin, "after_event_step", hook)
    with caplog.at_level(logging.ERROR):
        assert await close_registrations(make_sessionmaker(engine)) == 2
    states = dict((await db.execute(select(Event.id, Event.state).execution_options(populate_existing=True))).all())
    assert [states[i] for i in ids] == ["scheduling", "registration_open", "scheduling"]
    assert states[future.id] == "registration_open"
    assert str(broken) in caplog.text
    audited = await db.scalar(select(AuditEvent).where(AuditEvent.action == "event_deadline_passed").limit(1))
    assert audited is not None and audited.actor_user_id is None


async def test_registration_does_not_open_past_its_deadline(client, db, world) -> None:
    event = await seed_event(db, world, EventState.draft)
    await db.execute(update(Event).where(Event.id == event.id).values(registration_deadline=utcnow() - timedelta(minutes=1)))
    await db.commit()
    url = f"{API}/{event.id}/transitions"
    refused = await client.post(url, json={"action": "open_registration"}, headers=world.bearer(Role.platform_admin))
    assert refused.status_code == 422 and "registration_deadline" in fields(refused)
    assert (
        await client.post(url, json={"action": "open_registration"}, headers=world.bearer(Role.tto_manager))
    ).status_code == 404  # a draft: not even seen
