"""Pages of an event's meeting requests and its schedule: the caller's requests sent and received
with their buttons (accept choosing who hosts, decline with a reason, withdraw, call off), the form
to ask a registered team (/events/{id}/meeting-requests/new?to=<registration>, linked from the
event's page), and the schedule: the organizer's grid (slots × tables) with the "run the
scheduling" button and its summary, a team's own meetings. A refused form is shown again with its
status."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms, i18n
from marketplace.errors import DomainError, InvalidInput, NotFound
from marketplace.events import meeting_views as views
from marketplace.events.lifecycle import EVENT, MEETING, MEETING_REQUEST, is_organizer
from marketplace.events.meeting_requests import MeetingRequests, MeetingRequestsService
from marketplace.events.meeting_schemas import MeetingRequestCreate, MeetingRequestTransitionIn
from marketplace.events.models import Registration, RegistrationState
from marketplace.events.placing import NO_COMMON_SLOT, Placing, PlacingService, Summary
from marketplace.events.scoping import event_for, own_registration
from marketplace.events.slots import slots_of
from marketplace.i18n import N_
from marketplace.states import actions
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, refusal_errors, render

Form = URLEncodedBody[dict[str, str]]
LABELS: dict[str, Any] = {
    "event_state": EVENT.state_label,
    "request_state": MEETING_REQUEST.state_label,
    "request_action": MEETING_REQUEST.action_label,
    "meeting_state": MEETING.state_label,
    "why_labels": {
        NO_COMMON_SLOT: N_("The two teams have no free slot in common."),
        "no_room": N_("No table was free when both teams were."),
    },
}


def errors_of(refusal: DomainError) -> dict[str, str]:
    errors = refusal_errors(refusal)
    errors.setdefault("__all__", i18n.gettext(refusal.message, **refusal.params))
    return errors


def optional_id(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


async def meetings_page(
    request: Request,
    principal: Principal,
    service: MeetingRequestsService,
    event_id: uuid.UUID,
    *,
    status_code: int = 200,
    errors: dict | None = None,
    failed: str | None = None,
) -> Template:
    event, found = await service.list(principal, event_id)
    own = await own_registration(service.session, principal, event)
    registrations = await service.registrations(event)
    meetings = await service.meetings_of(found)
    sent = [r for r in found if own is not None and r.from_registration_id == own.id]
    received = [r for r in found if own is not None and r.to_registration_id == own.id]
    others = [r for r in found if r not in sent and r not in received]
    return render(
        request,
        "events/meetings.html",
        principal,
        status_code=status_code,
        event=event,
        own=own,
        sent=sent,
        received=received,
        others=others,
        meetings=meetings,
        slots=slots_of(event),
        orgs=await views.organizations_of(service.session, registrations),
        subjects=await views.subjects(
            service.session, {r.listing_id for r in found if r.listing_id}, {r.need_id for r in found if r.need_id}
        ),
        hosts=(await views.people_of(service.session, {own.id}))[own.id] if own else [],
        names=await views.names_of(service.session, {r.requested_by_user_id for r in found} | {r.host_user_id for r in found}),
        request_actions={r.id: actions(MEETING_REQUEST, principal, r, event) for r in found},
        organizer=is_organizer(principal, event),
        errors=errors or {},
        failed=failed,
        locale=i18n.current_locale.get(),
        **LABELS,
    )


async def form_page(
    request: Request,
    principal: Principal,
    service: MeetingRequestsService,
    event_id: uuid.UUID,
    to: str | None,
    *,
    status_code: int = 200,
    errors: dict | None = None,
    form: dict | None = None,
) -> Template:
    principal.require()
    event = await event_for(service.session, principal, event_id)
    own = await own_registration(service.session, principal, event)
    registrations = await service.registrations(event)
    orgs = await views.organizations_of(service.session, registrations)
    target: Registration | None = None
    if to:
        try:
            target = registrations.get(uuid.UUID(to))
        except ValueError:
            raise NotFound() from None
        if target is None or target.state != RegistrationState.registered:
            raise NotFound()
    # Without a team named: the registered teams the caller's team may ask (the other kind).
    choices = [
        r
        for r in registrations.values()
        if r.state == RegistrationState.registered and (own is None or r.organization_kind != own.organization_kind)
    ]
    if target is None:
        return render(
            request,
            "events/meetings_choose.html",
            principal,
            event=event,
            own=own,
            choices=sorted(choices, key=lambda r: (r.organization_kind, orgs[r.id].name_zh if r.id in orgs else "")),
            orgs=orgs,
            locale=i18n.current_locale.get(),
            **LABELS,
        )
    return render(
        request,
        "events/meetings_new.html",
        principal,
        status_code=status_code,
        event=event,
        target=target,
        target_org=orgs.get(target.id),
        own=own,
        listings=await views.presented_listings(service.session, target.id) if target.organization_kind == "institution" else [],
        needs=await views.brought_needs(service.session, target.id) if target.organization_kind == "company" else [],
        people=(await views.people_of(service.session, {own.id}))[own.id] if own else [],
        errors=errors or {},
        form=form or {},
        locale=i18n.current_locale.get(),
        **LABELS,
    )


async def schedule_page(
    request: Request,
    principal: Principal,
    placing: PlacingService,
    event_id: uuid.UUID,
    *,
    status_code: int = 200,
    summary: Summary | None = None,
    errors: dict | None = None,
    move_confirmed: bool = False,
) -> Template:
    event, slots, rows, orgs = await placing.grid(principal, event_id)
    cells = {(row.meeting.slot, row.meeting.table_no): row for row in rows if row.meeting.slot is not None}
    names = {row.meeting.id: row for row in rows}
    return render(
        request,
        "events/schedule.html",
        principal,
        status_code=status_code,
        event=event,
        slots=slots,
        rows=rows,
        cells=cells,
        by_meeting=names,
        orgs=orgs,
        placed_rows=[row for row in rows if row.meeting.slot is not None],
        waiting=[row for row in rows if row.meeting.slot is None and row.meeting.state == "unplaced"],
        may_run=await placing.may_run(principal, event),
        organizer=placing.sees_whole_grid(principal, event),
        summary=summary,
        errors=errors or {},
        move_confirmed=move_confirmed,
        locale=i18n.current_locale.get(),
        **LABELS,
    )


class MeetingPages(Controller):
    include_in_schema = False
    path = "/events/{event_id:uuid}"

    @get("/meetings")
    async def meetings(
        self, request: Request, principal: CurrentPrincipal, meeting_requests: MeetingRequests, event_id: FromPath[uuid.UUID]
    ) -> Template:
        return await meetings_page(request, principal, meeting_requests, event_id)

    @get("/meeting-requests/new")
    async def new_request(
        self,
        request: Request,
        principal: CurrentPrincipal,
        meeting_requests: MeetingRequests,
        event_id: FromPath[uuid.UUID],
        to: FromQuery[str | None] = None,
    ) -> Template:
        return await form_page(request, principal, meeting_requests, event_id, to)

    @post("/meeting-requests")
    async def create_request(
        self,
        request: Request,
        principal: CurrentPrincipal,
        meeting_requests: MeetingRequests,
        event_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        principal.require()
        subject = data.get("subject", "")
        body: dict = {
            "to_registration_id": data.get("to_registration_id", ""),
            "message": data.get("message", "").strip(),
            "listing_id": optional_id(subject[len("listing:") :]) if subject.startswith("listing:") else None,
            "need_id": optional_id(subject[len("need:") :]) if subject.startswith("need:") else None,
            "requested_by_user_id": optional_id(data.get("requested_by_user_id")),
        }
        asked, problems = forms.try_convert(body, MeetingRequestCreate, strict=False)
        refusal: DomainError | None
        if asked is not None:
            _, refusal = await attempt(meeting_requests.create(principal, event_id, asked, ip=client_ip(request)))
        else:
            refusal = InvalidInput(*problems)
        if refusal is not None:
            return await form_page(
                request,
                principal,
                meeting_requests,
                event_id,
                data.get("to_registration_id"),
                status_code=refusal.status_code,
                errors=errors_of(refusal),
                form=data,
            )
        flash(request, N_("Your meeting request is sent."))
        return Redirect(f"/events/{event_id}/meetings")

    @post("/meeting-requests/{request_id:uuid}/transitions")
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        meeting_requests: MeetingRequests,
        event_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        principal.require()
        body = {
            "action": data.get("action", ""),
            "reason": data.get("reason", "").strip(),
            "host_user_id": optional_id(data.get("host_user_id")),
        }
        step, problems = forms.try_convert(body, MeetingRequestTransitionIn, strict=False)
        refusal: DomainError | None
        if step is not None:
            _, refusal = await attempt(meeting_requests.transition(principal, event_id, request_id, step, ip=client_ip(request)))
        else:
            refusal = InvalidInput(*problems)
        if refusal is not None:
            return await meetings_page(
                request,
                principal,
                meeting_requests,
                event_id,
                status_code=refusal.status_code,
                errors=errors_of(refusal),
                failed=str(request_id),
            )
        flash(request, N_("Saved."))
        return Redirect(f"/events/{event_id}/meetings#r-{request_id}")

    @get("/schedule")
    async def schedule(
        self, request: Request, principal: CurrentPrincipal, placing: Placing, event_id: FromPath[uuid.UUID]
    ) -> Template:
        return await schedule_page(request, principal, placing, event_id)

    @post("/schedule")
    async def run(
        self, request: Request, principal: CurrentPrincipal, placing: Placing, event_id: FromPath[uuid.UUID], data: Form
    ) -> Template:
        move = data.get("move_confirmed") in ("1", "on", "true")
        summary, refusal = await attempt(placing.run(principal, event_id, move_confirmed=move, ip=client_ip(request)))
        return await schedule_page(
            request,
            principal,
            placing,
            event_id,
            status_code=refusal.status_code if refusal else 200,
            summary=summary,
            errors=errors_of(refusal) if refusal else None,
            move_confirmed=move,
        )
