"""JSON API of an event's meeting requests and its schedule: /api/v1/events/{id}/meeting-requests
and /api/v1/events/{id}/schedule. The rules are meeting_requests.py's and placing.py's."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.accounts.api import requires_bearer
from marketplace.events import meeting_schemas as schemas
from marketplace.events.lifecycle import MEETING_REQUEST
from marketplace.events.meeting_requests import MeetingRequests
from marketplace.events.models import Event, Meeting, MeetingRequest
from marketplace.events.placing import Placing, Row, Summary
from marketplace.events.slots import slots_of
from marketplace.states import actions
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import client_ip


def meeting_out(event: Event, meeting: Meeting | None) -> schemas.MeetingOut | None:
    if meeting is None:
        return None
    slot = slots_of(event)[meeting.slot] if meeting.slot is not None and meeting.slot < len(slots_of(event)) else None
    return schemas.MeetingOut(
        id=meeting.id,
        state=meeting.state,
        slot=meeting.slot,
        table_no=meeting.table_no,
        table=event.tables[meeting.table_no] if meeting.table_no is not None and meeting.table_no < len(event.tables) else None,
        starts_at=slot.starts_at if slot else None,
        ends_at=slot.ends_at if slot else None,
    )


def request_out(
    principal: Principal, event: Event, request: MeetingRequest, meeting: Meeting | None
) -> schemas.MeetingRequestOut:
    return schemas.MeetingRequestOut(
        id=request.id,
        event_id=request.event_id,
        from_registration_id=request.from_registration_id,
        to_registration_id=request.to_registration_id,
        institution_id=request.institution_id,
        company_id=request.company_id,
        asked_by=request.asked_by,
        listing_id=request.listing_id,
        need_id=request.need_id,
        message=request.message,
        requested_by_user_id=request.requested_by_user_id,
        host_user_id=request.host_user_id,
        state=request.state,
        state_reason=request.state_reason,
        created_at=request.created_at,
        meeting=meeting_out(event, meeting),
        actions=actions(MEETING_REQUEST, principal, request, event),
    )


def summary_out(summary: Summary) -> schemas.ScheduleSummaryOut:
    return schemas.ScheduleSummaryOut(
        placed=summary.placed,
        unplaced=[schemas.UnplacedOut(meeting_id=key, why=why) for key, why in summary.unplaced],
        upper_bound=summary.upper_bound,
        moved=summary.moved,
        seconds=summary.seconds,
    )


def scheduled_out(event: Event, row: Row, orgs: dict, locale: str = "zh_CN") -> schemas.ScheduledMeetingOut:
    placed = meeting_out(event, row.meeting)
    assert placed is not None
    institution, company = orgs.get(row.meeting.institution_id), orgs.get(row.meeting.company_id)
    return schemas.ScheduledMeetingOut(
        meeting_id=row.meeting.id,
        meeting_request_id=row.request.id,
        institution_id=row.meeting.institution_id,
        company_id=row.meeting.company_id,
        institution_name=institution.display_name(locale) if institution else "",
        company_name=company.display_name(locale) if company else "",
        state=row.meeting.state,
        slot=placed.slot,
        table_no=placed.table_no,
        table=placed.table,
        starts_at=placed.starts_at,
        ends_at=placed.ends_at,
    )


class MeetingRequestsApi(Controller):
    path = "/api/v1/events/{event_id:uuid}"
    tags = ["events"]
    guards = [requires_bearer]

    @get("/meeting-requests")
    async def list_requests(
        self, principal: CurrentPrincipal, meeting_requests: MeetingRequests, event_id: FromPath[uuid.UUID]
    ) -> list[schemas.MeetingRequestOut]:
        """The caller's team's requests, sent and received, newest first; the organizer's all."""
        event, found = await meeting_requests.list(principal, event_id)
        meetings = await meeting_requests.meetings_of(found)
        return [request_out(principal, event, request, meetings.get(request.id)) for request in found]

    @post("/meeting-requests", status_code=HTTP_201_CREATED)
    async def create_request(
        self,
        request: Request,
        principal: CurrentPrincipal,
        meeting_requests: MeetingRequests,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.MeetingRequestCreate],
    ) -> schemas.MeetingRequestOut:
        """Ask a registered team of the other kind for a one-to-one meeting (409 for a live
        duplicate of the pair, or past the event's limit of live requests sent)."""
        created = await meeting_requests.create(principal, event_id, data, ip=client_ip(request))
        event, found = await meeting_requests.get(principal, event_id, created.id)
        meetings = await meeting_requests.meetings_of([found])
        return request_out(principal, event, found, meetings.get(found.id))

    @get("/meeting-requests/{request_id:uuid}")
    async def get_request(
        self,
        principal: CurrentPrincipal,
        meeting_requests: MeetingRequests,
        event_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
    ) -> schemas.MeetingRequestOut:
        event, found = await meeting_requests.get(principal, event_id, request_id)
        meetings = await meeting_requests.meetings_of([found])
        return request_out(principal, event, found, meetings.get(found.id))

    @post("/meeting-requests/{request_id:uuid}/transitions", status_code=HTTP_200_OK)
    async def transition_request(
        self,
        request: Request,
        principal: CurrentPrincipal,
        meeting_requests: MeetingRequests,
        event_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.MeetingRequestTransitionIn],
    ) -> schemas.MeetingRequestOut:
        """accept (`host_user_id`: who hosts, default the team's contact), decline (reason),
        withdraw, cancel (reason: calls the meeting off and frees its slot)."""
        await meeting_requests.transition(principal, event_id, request_id, data, ip=client_ip(request))
        event, found = await meeting_requests.get(principal, event_id, request_id)
        meetings = await meeting_requests.meetings_of([found])
        return request_out(principal, event, found, meetings.get(found.id))

    @get("/schedule")
    async def get_schedule(
        self, request: Request, principal: CurrentPrincipal, placing: Placing, event_id: FromPath[uuid.UUID]
    ) -> schemas.ScheduleOut:
        """The organizer's whole grid; a team's own meetings; with slot times and table names."""
        event, slots, rows, orgs = await placing.grid(principal, event_id)
        return schemas.ScheduleOut(
            event_id=event.id,
            event_state=event.state,
            tables=list(event.tables),
            slots=[schemas.SlotOut(number=s.number, starts_at=s.starts_at, ends_at=s.ends_at) for s in slots],
            meetings=[scheduled_out(event, row, orgs) for row in rows],
        )

    @post("/schedule", status_code=HTTP_200_OK)
    async def run_schedule(
        self,
        request: Request,
        principal: CurrentPrincipal,
        placing: Placing,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ScheduleRunIn],
    ) -> schemas.ScheduleSummaryOut:
        """The organizer places the accepted meetings (scheduling or under way); confirmed meetings
        stay put unless `move_confirmed`."""
        summary = await placing.run(principal, event_id, move_confirmed=data.move_confirmed, ip=client_ip(request))
        return summary_out(summary)
