"""The events pages: the list, an event's page, the organizer's form (field errors beside the
fields, the typed values kept), the registration form and cancelling."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.events.models import Event, EventState, Presentation, Registration, RegistrationState
from tests.catalog.factories import published
from tests.events.factories import fresh, seed_event, seed_registration
from tests.events.registration_factories import add_talk, matrix_event_form
from tests.support.web import error_of, login, post_form


async def test_the_organizer_edits_an_open_event_through_its_form(client, db, world) -> None:
    event = await seed_event(db, world, EventState.registration_open, organizer="institution/own")
    await login(client, world.emails[Role.tto_manager])
    form = matrix_event_form(world, Role.tto_manager, "own") | {"capacity": "45", "title": "新标题"}
    response = await post_form(client, f"/events/{event.id}/edit", form)
    assert response.status_code == 302, [line for line in response.text.splitlines() if "error" in line]
    await db.refresh(event)
    assert (event.title, event.capacity) == ("新标题", 45)


async def test_a_refused_form_shows_each_error_beside_its_field_and_keeps_the_typed_values(client, db, world) -> None:
    await login(client, world.emails[Role.platform_admin])
    form = matrix_event_form(world, Role.platform_admin, "own") | {
        "title": "春季对接会",
        "ends_on": "2020-01-01",
        "day_ends_at": "08:00",
        "online_url": "javascript:alert(1)",
        "capacity": "99999999999",
        "tables": "A\nA",
    }
    response = await post_form(client, "/events", form)
    assert response.status_code == 422
    page = response.text
    assert error_of(page, "capacity")
    assert 'value="春季对接会"' in page and 'value="javascript:alert(1)"' in page
    assert await db.scalar(select(Event.id)) is None
    # The rules' errors come back once the types are right.
    form["capacity"] = "30"
    again = await post_form(client, "/events", form)
    assert again.status_code == 422
    for name in ("ends_on", "day_ends_at", "online_url", "tables"):
        assert error_of(again.text, name)


async def test_an_organizer_creates_a_draft_opens_it_and_a_company_registers_and_cancels(client, db, world) -> None:
    await login(client, world.emails[Role.tto_manager])
    created = await post_form(client, "/events", matrix_event_form(world, Role.tto_manager, "own") | {"areas": ["oncology"]})
    assert created.status_code == 302, created.text
    event_id = created.headers["location"].rsplit("/", 1)[1]
    event = await db.scalar(select(Event).where(Event.id == event_id))
    assert event is not None and event.organizer_id == world.orgs["institution/own"].id and event.areas == ["oncology"]
    assert event.tables == ["1", "2", "3", "4", "5"]
    opened = await post_form(client, f"/events/{event_id}/transitions", {"action": "open_registration"})
    assert opened.status_code == 302
    no_reason = await post_form(client, f"/events/{event_id}/transitions", {"action": "cancel"})
    assert no_reason.status_code == 422 and error_of(no_reason.text, "reason")

    await login(client, world.emails[Role.company_member])
    page = (await client.get(f"/events/{event_id}")).text
    assert f'href="/events/{event_id}/register"' in page
    form_page = (await client.get(f"/events/{event_id}/register")).text
    assert "data-select-all" in form_page and 'name="slots" value="11"' in form_page
    none = await post_form(client, f"/events/{event_id}/register", {"note": "两人"})
    assert none.status_code == 422 and error_of(none.text, "slots")
    assert "两人" in none.text
    done = await post_form(client, f"/events/{event_id}/register", {"slots": ["0", "6"], "note": "两人"})
    assert done.status_code == 302, done.text
    registration = await db.scalar(select(Registration).where(Registration.event_id == event.id))
    assert registration is not None and registration.available_slots == [0, 6]
    changed = await post_form(client, f"/events/{event_id}/register", {"slots": ["1"]})
    assert changed.status_code == 302
    await db.refresh(registration)
    assert registration.available_slots == [1]
    cancel_url = f"/events/{event_id}/registrations/{registration.id}/cancel"
    refused = await post_form(client, cancel_url, {"reason": ""})
    assert refused.status_code == 422
    cancelled = await post_form(client, cancel_url, {"reason": "行程冲突"})
    assert cancelled.status_code == 302
    await db.refresh(registration)
    assert registration.state == RegistrationState.cancelled


async def test_an_institution_picks_listings_with_minutes_and_sees_the_roadshow(client, db, world) -> None:
    event = await seed_event(db, world)
    listing = await published(db, world)
    await login(client, world.emails[Role.tto_staff])
    refused = await post_form(client, f"/events/{event.id}/register", {"slots": ["0"]})
    assert refused.status_code == 422 and error_of(refused.text, "listings")
    done = await post_form(
        client, f"/events/{event.id}/register", {"slots": ["0"], "listing_ids": [str(listing)], f"minutes_{listing}": "12"}
    )
    assert done.status_code == 302, done.text
    page = (await client.get(f"/events/{event.id}")).text
    assert "08:48–09:00" in page  # a 12-minute talk just before the meetings


async def test_a_draft_is_not_found_for_outsiders_and_people_stay_private(client, db, world) -> None:
    draft = await seed_event(db, world, EventState.draft, organizer="institution/other")
    event = await seed_event(db, world)
    await seed_registration(db, event, world.orgs["company/other"])
    await fresh(db, world.orgs["company/other"])
    await login(client, world.emails[Role.company_member])
    assert (await client.get(f"/events/{draft.id}")).status_code == 404
    assert (await client.get(f"/events/{draft.id}/register")).status_code == 404
    page = (await client.get(f"/events/{event.id}")).text
    assert world.orgs["company/other"].name_zh in page
    assert "target@company.other.test" not in page and "admin@company.other.test" not in page
    listing = (await client.get("/events")).text
    assert str(event.id) in listing and str(draft.id) not in listing


async def test_the_organizer_moves_a_talk_earlier_with_the_pages_arrows(client, db, world) -> None:
    event = await seed_event(db, world, EventState.registration_open)
    team = await seed_registration(db, event, world.orgs["institution/own"])
    first = await add_talk(db, world, event, team, "外泌体肝癌早筛")
    second = await add_talk(db, world, event, team, "术后认知评估软件")
    event_id = event.id
    await login(client, world.emails[Role.platform_admin])
    page = (await client.get(f"/events/{event_id}")).text
    assert page.index("外泌体肝癌早筛") < page.index("术后认知评估软件")
    response = await post_form(client, f"/events/{event_id}/roadshow", {"presentation_id": str(second), "direction": "up"})
    assert response.status_code == 302
    order = list(
        await db.scalars(select(Presentation.id).where(Presentation.event_id == event_id).order_by(Presentation.position))
    )
    assert order == [second, first]
    # Not a direction, or not a talk of this roadshow: the field is named and nothing moves.
    refused = await post_form(client, f"/events/{event_id}/roadshow", {"presentation_id": str(first), "direction": "sideways"})
    assert refused.status_code == 422 and "不是允许的取值。" in refused.text
    stranger = await post_form(client, f"/events/{event_id}/roadshow", {"presentation_id": "not-an-id", "direction": "up"})
    assert stranger.status_code == 422
    assert list(
        await db.scalars(select(Presentation.id).where(Presentation.event_id == event_id).order_by(Presentation.position))
    ) == [second, first]


async def test_digits_that_are_not_ascii_are_a_field_error_not_a_server_error(client, db, world) -> None:
    event = await seed_event(db, world, EventState.registration_open)
    await login(client, world.emails[Role.platform_admin])
    form = matrix_event_form(world, Role.platform_admin, "own") | {"capacity": "²", "tables": "³"}
    response = await post_form(client, "/events", form)
    assert response.status_code == 422 and error_of(response.text, "capacity")
    await login(client, world.emails[Role.tto_manager])
    refused = await post_form(client, f"/events/{event.id}/register", {"slots": ["¹"], "note": "x"})
    assert refused.status_code == 422
