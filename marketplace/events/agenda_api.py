"""JSON API of agendas, check-ins and meeting outcomes:
/api/v1/events/{event_id}/agenda and /api/v1/events/{event_id}/meetings/{meeting_id}[/check-in|/outcome]."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from marketplace import i18n
from marketplace.accounts.api import requires_bearer
from marketplace.events.agenda_schemas import AgendaOut, MeetingOut, OutcomeIn, agenda_out, meeting_out
from marketplace.events.agenda_service import Agendas
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import client_ip


class AgendaApi(Controller):
    path = "/api/v1/events"
    tags = ["events"]
    guards = [requires_bearer]

    @get("/{event_id:uuid}/agenda")
    async def agenda(
        self,
        principal: CurrentPrincipal,
        agendas: Agendas,
        event_id: FromPath[uuid.UUID],
        registration_id: FromQuery[uuid.UUID | None] = None,
    ) -> AgendaOut:
        """The caller's agenda: the roadshow and the caller's own meetings; the organizer may ask
        for any registration's (`registration_id`)."""
        found = await agendas.agenda(principal, event_id, registration_id)
        return agenda_out(found, i18n.current_locale.get())

    @get("/{event_id:uuid}/meetings/{meeting_id:uuid}")
    async def meeting(
        self, principal: CurrentPrincipal, agendas: Agendas, event_id: FromPath[uuid.UUID], meeting_id: FromPath[uuid.UUID]
    ) -> MeetingOut:
        """One meeting, for its two sides, the organizer and the platform's people."""
        item = await agendas.meeting(principal, event_id, meeting_id)
        return meeting_out(item, i18n.current_locale.get())

    @post("/{event_id:uuid}/meetings/{meeting_id:uuid}/check-in", status_code=HTTP_200_OK)
    async def check_in(
        self,
        request: Request,
        principal: CurrentPrincipal,
        agendas: Agendas,
        event_id: FromPath[uuid.UUID],
        meeting_id: FromPath[uuid.UUID],
    ) -> MeetingOut:
        """Check the caller's side in at the table (the organizer checks both): the meeting is held."""
        await agendas.check_in(principal, event_id, meeting_id, ip=client_ip(request))
        item = await agendas.meeting(principal, event_id, meeting_id)
        return meeting_out(item, i18n.current_locale.get())

    @post("/{event_id:uuid}/meetings/{meeting_id:uuid}/outcome", status_code=HTTP_200_OK)
    async def outcome(
        self,
        request: Request,
        principal: CurrentPrincipal,
        agendas: Agendas,
        event_id: FromPath[uuid.UUID],
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[OutcomeIn],
    ) -> MeetingOut:
        """Record the caller's side's outcome, once, after the meeting. `match_request` (companies
        only) opens a match request with the request's fields and the NDA version accepted, and
        links it to the meeting (`match_request_id`)."""
        await agendas.record_outcome(principal, event_id, meeting_id, data, ip=client_ip(request))
        item = await agendas.meeting(principal, event_id, meeting_id)
        return meeting_out(item, i18n.current_locale.get())
