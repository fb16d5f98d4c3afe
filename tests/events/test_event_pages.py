"""The events pages: the list, an event's page, the organizer's form (field errors beside the
fields, the typed values kept), the registration form and cancelling."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.events.models import EventState
from tests.events.factories import seed_event
from tests.events.registration_factories import matrix_event_form
from tests.support.web import login, post_form


async def test_the_organizer_edits_an_open_event_through_its_form(client, db, world) -> None:
    event = await seed_event(db, world, EventState.registration_open, organizer="institution/own")
    await login(client, world.emails[Role.tto_manager])
    form = matrix_event_form(world, Role.tto_manager, "own") | {"capacity": "45", "title": "新标题"}
    response = await post_form(client, f"/events/{event.id}/edit", form)
    assert response.status_code == 302, [line for line in response.text.splitlines() if "error" in line]
    await db.refresh(event)
    assert (event.title, event.capacity) == ("新标题", 45)
