"""JSON API of events and registrations: /api/v1/events, an event's steps, its registrations and
roadshow order. Signed-in callers only (a bearer token), like the rest of the API: a draft event
is its organizer's alone (404 for everyone else)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Request, get, patch, post, put
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from marketplace.accounts.api import requires_bearer
from marketplace.events import schemas
from marketplace.events.admin import Events
from marketplace.events.models import EventState
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import client_ip

# `state` is a name Litestar keeps for the app state, so the parameter is named in the query only.
StateQuery = Annotated[
    str | None,
    QueryParameter(name="state", schema_extra={"one_of": None, "type": OpenAPIType.STRING, "enum": sorted(EventState)}),
]
When = Literal["upcoming", "past"]


class EventsApi(Controller):
    path = "/api/v1/events"
    tags = ["events"]
    guards = [requires_bearer]

    @get("/")
    async def list_events(
        self, principal: CurrentPrincipal, events: Events, when: FromQuery[When | None] = None, state_filter: StateQuery = None
    ) -> list[schemas.EventOut]:
        """Upcoming events (soonest first), then past ones; an organizer sees its drafts too."""
        return [await events.event_out(principal, e) for e in await events.list_events(principal, when=when, state=state_filter)]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_event(
        self, request: Request, principal: CurrentPrincipal, events: Events, data: JSONBody[schemas.EventIn]
    ) -> schemas.EventOut:
        """A draft event: a platform admin's is the platform's, a TTO's is its institution's open day."""
        return await events.event_out(principal, await events.create_event(principal, data, ip=client_ip(request)))

    @get("/{event_id:uuid}")
    async def get_event(self, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID]) -> schemas.EventOut:
        """The event with its slots (number, start, end) and the caller's `actions`."""
        return await events.event_out(principal, await events.get_event(principal, event_id))

    @patch("/{event_id:uuid}")
    async def update_event(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.EventUpdate],
    ) -> schemas.EventOut:
        """The organizer edits a draft or an open event (days, hours and slot length only a draft)."""
        return await events.event_out(principal, await events.update_event(principal, event_id, data, ip=client_ip(request)))

    @post("/{event_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TransitionIn],
    ) -> schemas.EventOut:
        """The organizer's step (`actions` lists them); `cancel` needs a reason."""
        moved = await events.transition_event(principal, event_id, data.action, data.reason, ip=client_ip(request))
        return await events.event_out(principal, moved)

    @get("/{event_id:uuid}/registrations")
    async def list_registrations(
        self, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID]
    ) -> list[schemas.RegistrationOut]:
        """The registered teams and what they present or bring; people only for their own organization and the organizer."""
        event, registrations = await events.list_registrations(principal, event_id)
        return await events.registrations_out(principal, event, registrations)

    @post("/{event_id:uuid}/registrations", status_code=HTTP_201_CREATED)
    async def register(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.RegistrationIn],
    ) -> schemas.RegistrationOut:
        """The caller's institution or company registers; a full event is a 409."""
        created = await events.register(principal, event_id, data, ip=client_ip(request))
        event = await events.get_event(principal, event_id)
        return (await events.registrations_out(principal, event, [created]))[0]

    @get("/{event_id:uuid}/registrations/{registration_id:uuid}")
    async def get_registration(
        self, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID], registration_id: FromPath[uuid.UUID]
    ) -> schemas.RegistrationOut:
        event, registration = await events.get_registration(principal, event_id, registration_id)
        return (await events.registrations_out(principal, event, [registration]))[0]

    @patch("/{event_id:uuid}/registrations/{registration_id:uuid}")
    async def update_registration(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        event_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.RegistrationUpdate],
    ) -> schemas.RegistrationOut:
        """The team changes its people, slots, listings or needs until the event runs."""
        changed = await events.update_registration(principal, event_id, registration_id, data, ip=client_ip(request))
        event = await events.get_event(principal, event_id)
        return (await events.registrations_out(principal, event, [changed]))[0]

    @post("/{event_id:uuid}/registrations/{registration_id:uuid}/transitions", status_code=200)
    async def transition_registration(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        event_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TransitionIn],
    ) -> schemas.RegistrationOut:
        """`cancel` with a reason, by the team or the organizer; it frees the place."""
        moved = await events.transition_registration(
            principal, event_id, registration_id, data.action, data.reason, ip=client_ip(request)
        )
        event = await events.get_event(principal, event_id)
        return (await events.registrations_out(principal, event, [moved]))[0]

    @put("/{event_id:uuid}/roadshow")
    async def reorder_roadshow(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.RoadshowIn],
    ) -> list[schemas.PresentationOut]:
        """The organizer's roadshow order: every presentation id once."""
        await events.reorder_roadshow(principal, event_id, data.order, ip=client_ip(request))
        return await events.roadshow_out(await events.get_event(principal, event_id))
