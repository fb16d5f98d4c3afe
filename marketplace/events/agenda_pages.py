"""Pages of a participant's agenda: the printable agenda (the organizer's view of any
registration's with `?registration=`), its iCalendar file, and the check-in and outcome forms on
it. A refused form is shown again with its status, the typed values kept."""

from __future__ import annotations

import uuid
from decimal import InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms, i18n
from marketplace.catalog.services import Catalog
from marketplace.db import utcnow
from marketplace.errors import DomainError, InvalidInput
from marketplace.events.agenda_schemas import OutcomeIn
from marketplace.events.agenda_service import Agendas, AgendaService
from marketplace.events.calendar_file import event_title
from marketplace.events.checkin import may_check_in
from marketplace.events.lifecycle import MEETING, is_organizer
from marketplace.events.outcomes import may_record, presented_listings
from marketplace.i18n import N_
from marketplace.matching.requests.services import ENGAGEMENT_LABELS, ENGAGEMENTS_BY_KIND
from marketplace.matching.web import parse_wan
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, refusal_errors, render

Form = URLEncodedBody[dict[str, str]]

OUTCOME_LABELS = {
    "no_interest": N_("No further interest"),
    "follow_up": N_("Follow up"),
    "match_request": N_("Open a match request"),
}


async def agenda_page(
    request: Request,
    principal: Principal,
    agendas: AgendaService,
    catalog: Any,
    event_id: uuid.UUID,
    registration_id: uuid.UUID | None = None,
    *,
    status_code: int = 200,
    errors: dict | None = None,
    form: dict | None = None,
    form_meeting: uuid.UUID | None = None,
) -> Template:
    found = await agendas.agenda(principal, event_id, registration_id)
    event = found.event
    now = utcnow()
    locale = i18n.current_locale.get()
    nda = await catalog.current_nda()
    offered: dict[uuid.UUID, list] = {}
    for item in found.meetings:
        if item.request.listing_id is None and item.meeting.institution_id not in offered:
            offered[item.meeting.institution_id] = await presented_listings(agendas.session, event, item.meeting.institution_id)
    return render(
        request,
        "events/agenda.html",
        principal,
        status_code=status_code,
        agenda=found,
        event=event,
        event_title=event_title(event, locale),
        locale=locale,
        organizer=is_organizer(principal, event),
        check_in={item.meeting.id: may_check_in(principal, event, item.meeting) for item in found.meetings},
        record={item.meeting.id: may_record(principal, event, item.meeting, now) for item in found.meetings},
        offered=offered,
        engagements={kind: list(types) for kind, types in ENGAGEMENTS_BY_KIND.items()},
        engagement_labels=ENGAGEMENT_LABELS,
        outcome_labels=OUTCOME_LABELS,
        meeting_state=MEETING.state_label,
        nda=nda,
        nda_text=nda.text_en if locale == "en" else nda.text_zh,
        errors=errors or {},
        form=form or {},
        form_meeting=form_meeting,
    )


def _fen(text: str) -> int | str | None:
    """A budget typed in 万元 (as on a listing's request form), as fen."""
    if not text.strip():
        return None
    try:
        return parse_wan(text)
    except (ValueError, InvalidOperation):
        return text  # refused by the conversion with a field error beside the input


class AgendaPages(Controller):
    include_in_schema = False

    @get("/events/{event_id:uuid}/agenda")
    async def agenda(
        self,
        request: Request,
        principal: CurrentPrincipal,
        agendas: Agendas,
        catalog: Catalog,
        event_id: FromPath[uuid.UUID],
        registration: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        principal.require()
        return await agenda_page(request, principal, agendas, catalog, event_id, registration)

    @get("/events/{event_id:uuid}/agenda.ics")
    async def calendar(
        self, request: Request, principal: CurrentPrincipal, agendas: Agendas, event_id: FromPath[uuid.UUID]
    ) -> Response:
        principal.require()
        content, name = await agendas.calendar(
            principal, event_id, request.url.hostname or "localhost", i18n.current_locale.get()
        )
        return Response(
            content,
            media_type="text/calendar",  # Litestar adds "; charset=utf-8"
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
        )

    @post("/events/{event_id:uuid}/meetings/{meeting_id:uuid}/check-in")
    async def check_in(
        self,
        request: Request,
        principal: CurrentPrincipal,
        agendas: Agendas,
        catalog: Catalog,
        event_id: FromPath[uuid.UUID],
        meeting_id: FromPath[uuid.UUID],
        registration: FromQuery[uuid.UUID | None] = None,
    ) -> Response:
        """A side's person checks in; the organizer, from a team's agenda (`registration`), both sides."""
        principal.require()
        _, refusal = await attempt(agendas.check_in(principal, event_id, meeting_id, ip=client_ip(request)))
        if refusal is not None:
            return await agenda_page(
                request,
                principal,
                agendas,
                catalog,
                event_id,
                registration,
                status_code=refusal.status_code,
                errors=refusal_errors(refusal),
                form_meeting=meeting_id,
            )
        flash(request, N_("Checked in: the meeting is held."))
        back = f"?registration={registration}" if registration else ""
        return Redirect(f"/events/{event_id}/agenda{back}#meeting-{meeting_id}")

    @post("/events/{event_id:uuid}/meetings/{meeting_id:uuid}/outcome")
    async def outcome(
        self,
        request: Request,
        principal: CurrentPrincipal,
        agendas: Agendas,
        catalog: Catalog,
        event_id: FromPath[uuid.UUID],
        meeting_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        principal.require()
        body: dict[str, Any] = {"outcome": data.get("outcome", ""), "note": data.get("note", "")}
        if body["outcome"] == "match_request":
            body.update(
                {
                    "engagement_type": data.get("engagement_type") or None,
                    "purpose": data.get("purpose", "").strip(),
                    "timeline": data.get("timeline", "").strip(),
                    "budget_min_fen": _fen(data.get("budget_min", "")),
                    "budget_max_fen": _fen(data.get("budget_max", "")),
                    "message": data.get("message", ""),
                    "nda_version": forms.whole_number(data.get("nda_version", ""), 9),
                    "accept_nda": data.get("accept_nda") == "on",
                }
            )
            if data.get("listing_id"):
                body["listing_id"] = data["listing_id"]
        step, problems = forms.try_convert(body, OutcomeIn, strict=False)
        refusal: DomainError | None
        if step is not None:
            _, refusal = await attempt(agendas.record_outcome(principal, event_id, meeting_id, step, ip=client_ip(request)))
        else:
            refusal = InvalidInput(*problems)
        if refusal is not None:
            errors = refusal_errors(refusal, {"budget_min_fen": "budget_min", "budget_max_fen": "budget_max"})
            return await agenda_page(
                request,
                principal,
                agendas,
                catalog,
                event_id,
                status_code=refusal.status_code,
                errors=errors,
                form=data,
                form_meeting=meeting_id,
            )
        flash(request, N_("The outcome is recorded."))
        return Redirect(f"/events/{event_id}/agenda#meeting-{meeting_id}")
