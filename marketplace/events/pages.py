"""Pages of events: the list, an event's page (its days, the roadshow, the teams, the caller's
registration and the organizer's steps), the organizer's form and the registration form. The rules
are the event service's; a refused form is shown again with its status and the typed values, so
the request's transaction rolls back and nothing is written."""

from __future__ import annotations

import re
import uuid
from collections.abc import Coroutine
from itertools import groupby
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.db import CHINA_TIME, china_today
from marketplace.errors import DomainError
from marketplace.events.admin import Events, EventService, may_organize
from marketplace.events.lifecycle import EVENT, REGISTRATION, is_organizer
from marketplace.events.models import Event, EventState, Registration
from marketplace.events.schemas import EventIn, EventUpdate, RegistrationIn, RegistrationUpdate, TransitionIn
from marketplace.i18n import N_
from marketplace.matching.web import problem_of
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import area_names, attempt, client_ip, flash, refusal_errors, render

# Checkbox groups send a name many times: the lists are read from the request's form (_lists).
Form = URLEncodedBody[dict[str, Any]]
EVENT_FIELDS = (
    "title", "title_en", "description", "starts_on", "ends_on", "day_starts_at", "day_ends_at", "slot_minutes",
    "talk_minutes", "venue", "online_url", "registration_deadline", "capacity", "request_limit",
)  # fmt: skip
NUMBERS = ("slot_minutes", "talk_minutes", "capacity", "request_limit")
HOUR = re.compile(r"^\d{1,2}:\d{2}$")
LOCAL_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


def _event_body(form: dict[str, str], areas: list[str]) -> dict:
    """The form's text as the API's body: hours with seconds, the deadline in China time, the
    tables by name (one a line) or by count (a number alone)."""
    body: dict = {name: form.get(name, "").strip() for name in EVENT_FIELDS}
    for name in ("day_starts_at", "day_ends_at"):
        if HOUR.match(body[name]):
            body[name] = body[name].zfill(5) + ":00"
    if LOCAL_MOMENT.match(body["registration_deadline"]):
        body["registration_deadline"] += ":00+08:00"
    for name in NUMBERS:
        if (number := forms.whole_number(body[name], 9)) is not None:
            body[name] = number
    # A blank number, day or time is left out: "Required." (or the default) rather than a type error.
    for name in (*NUMBERS, "starts_on", "ends_on", "day_starts_at", "day_ends_at", "registration_deadline"):
        if body[name] == "":
            del body[name]
    tables = [name.strip() for name in re.split(r"[\n,，]", form.get("tables", "")) if name.strip()]
    if len(tables) == 1 and (count := forms.whole_number(tables[0], 9)) is not None:
        body["table_count"] = count
    elif tables:
        body["tables"] = tables
    body["areas"] = areas
    return body


def _event_form(event: Event) -> dict:
    """An event's values as its form shows them."""
    form = {name: str(getattr(event, name)) for name in EVENT_FIELDS}
    form["day_starts_at"] = event.day_starts_at.strftime("%H:%M")
    form["day_ends_at"] = event.day_ends_at.strftime("%H:%M")
    form["registration_deadline"] = event.registration_deadline.astimezone(CHINA_TIME).strftime("%Y-%m-%dT%H:%M")
    form["tables"] = "\n".join(event.tables)
    form["areas"] = list(event.areas)  # type: ignore[assignment]
    return form


def _flat(data: dict) -> dict[str, Any]:
    return {k: v if isinstance(v, str) else (v[-1] if v else "") for k, v in data.items()}


async def _lists(request: Request, *names: str) -> dict[str, list[str]]:
    items = list((await request.form()).multi_items())
    return {name: [v for k, v in items if k == name and v] for name in names}


class EventPages(Controller):
    include_in_schema = False

    @get("/events")
    async def list_page(
        self,
        request: Request,
        principal: CurrentPrincipal,
        events: Events,
        state_filter: Annotated[str, QueryParameter(name="state")] = "",
    ) -> Template:
        state = state_filter if state_filter in EventState.__members__ else ""
        items = await events.list_events(principal, state=state or None)
        return render(
            request,
            "events/list.html",
            principal,
            events=[await events.event_out(principal, e) for e in items],
            today=china_today(),
            state=state,
            states=list(EventState),
            state_labels=EVENT.state_labels,
            areas=area_names(await events.area_list()),
            may_create=may_organize(principal),
        )

    # ----- the organizer's form ------------------------------------------------------------------

    async def _form(
        self, request: Request, principal: Principal, events: EventService, form: dict, *, event: Event | None = None,
        errors: dict | None = None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        return render(
            request,
            "events/form.html",
            principal,
            status_code=status_code,
            form=form,
            errors=errors or {},
            event=event,
            slot_fields_locked=event is not None and event.state != EventState.draft,
            areas=await events.area_list(),
        )

    @get("/events/new")
    async def new_form(self, request: Request, principal: CurrentPrincipal, events: Events) -> Template:
        events.require_organizer_role(principal)
        defaults = {"day_starts_at": "09:00", "day_ends_at": "17:00", "slot_minutes": "30", "talk_minutes": "8",
                    "capacity": "100", "request_limit": "15", "tables": "10"}  # fmt: skip
        return await self._form(request, principal, events, defaults)

    @post("/events")
    async def create(self, request: Request, principal: CurrentPrincipal, events: Events, data: Form) -> Response:
        events.require_organizer_role(principal)
        data = _flat(data)
        lists = await _lists(request, "areas")
        form = {**data, **lists}
        converted, problems = forms.try_convert(_event_body(data, lists["areas"]), EventIn, strict=False)
        errors = forms.by_input(problems, {"table_count": "tables"})
        if converted is not None:
            event, refusal = await attempt(events.create_event(principal, converted, ip=client_ip(request)))
            if event is not None:
                flash(request, N_("The event is saved as a draft: open registration when it is ready."))
                return Redirect(f"/events/{event.id}")
            assert refusal is not None
            errors = refusal_errors(refusal, {"table_count": "tables"})
        return await self._form(request, principal, events, form, errors=errors, status_code=422)

    @get("/events/{event_id:uuid}/edit")
    async def edit_form(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID]
    ) -> Template:
        event = await events.organized_event(principal, event_id)
        return await self._form(request, principal, events, _event_form(event), event=event)

    @post("/events/{event_id:uuid}/edit")
    async def edit(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        event = await events.organized_event(principal, event_id)
        data = _flat(data)
        lists = await _lists(request, "areas")
        form = {**data, **lists}
        body = _event_body(data, lists["areas"])
        if event.state != EventState.draft:  # the locked fields are shown but not sent
            for name in ("starts_on", "ends_on", "day_starts_at", "day_ends_at", "slot_minutes"):
                body.pop(name, None)
        converted, problems = forms.try_convert(body, EventUpdate, strict=False)
        errors = forms.by_input(problems, {"table_count": "tables"})
        if converted is not None:
            changed, refusal = await attempt(events.update_event(principal, event_id, converted, ip=client_ip(request)))
            if changed is not None:
                flash(request, N_("The event is saved."))
                return Redirect(f"/events/{event_id}")
            assert refusal is not None
            errors = refusal_errors(refusal, {"table_count": "tables"})
        if event.state != EventState.draft:
            form = {
                **_event_form(event),
                **{
                    k: v
                    for k, v in form.items()
                    if k not in ("starts_on", "ends_on", "day_starts_at", "day_ends_at", "slot_minutes")
                },
            }
        return await self._form(request, principal, events, form, event=event, errors=errors, status_code=422)

    # ----- an event's page -----------------------------------------------------------------------

    async def _detail(
        self, request: Request, principal: Principal, events: EventService, event: Event, *,
        refusal: DomainError | None = None, errors: dict | None = None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        out = await events.event_out(principal, event)
        _, registrations = await events.list_registrations(principal, event.id)
        teams = await events.registrations_out(principal, event, registrations)
        own = next((t for t in teams if t.id == out.own_registration_id), None)
        return render(
            request,
            "events/detail.html",
            principal,
            status_code=refusal.status_code if refusal else status_code,
            problem=problem_of(refusal) if refusal else None,
            errors=errors or {},
            event=out,
            days=[(day, list(slots)) for day, slots in groupby(out.slots, key=lambda s: s.day)],
            roadshow=await events.roadshow_out(event),
            teams=teams,
            own=own,
            is_organizer=principal.is_authenticated and is_organizer(principal, event),
            may_register=own is None and events.may_register(principal, event),
            state_labels=EVENT.state_labels,
            action_labels=EVENT.action_labels,
            registration_labels=REGISTRATION.action_labels,
            areas=area_names(await events.area_list()),
        )

    @get("/events/{event_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID]
    ) -> Template:
        principal.require()
        return await self._detail(request, principal, events, await events.get_event(principal, event_id))

    @post("/events/{event_id:uuid}/transitions")
    async def transition(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        event = await events.get_event(principal, event_id)
        data = _flat(data)
        step, problems = forms.try_convert({"action": data.get("action", ""), "reason": data.get("reason", "")}, TransitionIn)
        if step is None:
            return await self._detail(request, principal, events, event, errors=forms.by_input(problems), status_code=422)
        moved, refusal = await attempt(
            events.transition_event(principal, event_id, step.action, step.reason, ip=client_ip(request))
        )
        if moved is None:
            assert refusal is not None
            return await self._detail(request, principal, events, event, refusal=refusal, errors=refusal_errors(refusal))
        flash(request, N_("The event's state is changed."))
        return Redirect(f"/events/{event_id}")

    # ----- registration ------------------------------------------------------------------------

    async def _registration_form(
        self, request: Request, principal: Principal, events: EventService, event: Event, form: dict, *,
        errors: dict | None = None, status_code: int = 200, editing: bool = False,
    ) -> Template:  # fmt: skip
        out = await events.event_out(principal, event)
        return render(
            request,
            "events/register.html",
            principal,
            status_code=status_code,
            event=out,
            days=[(day, list(slots)) for day, slots in groupby(out.slots, key=lambda s: s.day)],
            form=form,
            errors=errors or {},
            editing=editing,
            **await events.registration_choices(principal, event),
        )

    @get("/events/{event_id:uuid}/register")
    async def register_form(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID]
    ) -> Template:
        event, current = await events.registration_to_edit(principal, event_id)
        if current is not None:
            form = {
                "attendee_ids": [str(a.user_id) for a in current.attendees or []],
                "contact_user_id": str(current.contact_user_id or ""),
                "slots": [str(n) for n in current.available_slots or []],
                "note": current.note or "",
                "listing_ids": [str(p.listing_id) for p in current.presentations],
                **{f"minutes_{p.listing_id}": str(p.minutes) for p in current.presentations},
                "need_ids": [str(n.id) for n in current.needs],
            }
        else:
            form = {"attendee_ids": [str(principal.user_id)], "slots": [str(s.number) for s in events.slots(event)]}
        return await self._registration_form(request, principal, events, event, form, editing=current is not None)

    @post("/events/{event_id:uuid}/register")
    async def register(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        event, current = await events.registration_to_edit(principal, event_id)
        data = _flat(data)
        lists = await _lists(request, "attendee_ids", "slots", "listing_ids", "need_ids")
        form = {**data, **lists}
        body: dict = {
            "attendee_ids": lists["attendee_ids"],
            "slots": [n if (slot := forms.whole_number(n, 5)) is None else slot for n in lists["slots"]],
            "note": data.get("note", ""),
            "listings": [
                {
                    "listing_id": i,
                    **({"minutes": m} if (m := forms.whole_number(data.get(f"minutes_{i}", ""), 3)) is not None else {}),
                }
                for i in lists["listing_ids"]
            ],
            "need_ids": lists["need_ids"],
        }
        if data.get("contact_user_id", "").strip():
            body["contact_user_id"] = data["contact_user_id"].strip()
        step: Coroutine[Any, Any, Registration] | None = None
        if current is None:
            new, problems = forms.try_convert(body, RegistrationIn)
            if new is not None:
                step = events.register(principal, event_id, new, ip=client_ip(request))
        else:
            change, problems = forms.try_convert(body, RegistrationUpdate)
            if change is not None:
                step = events.update_registration(principal, event_id, current.id, change, ip=client_ip(request))
        errors = forms.by_input(problems)
        if step is not None:
            done, refusal = await attempt(step)
            if done is not None:
                flash(request, N_("Your registration is saved.") if current else N_("Your organization is registered."))
                return Redirect(f"/events/{event_id}")
            assert refusal is not None
            errors = refusal_errors(refusal)
        return await self._registration_form(
            request, principal, events, event, form, errors=errors, status_code=422, editing=current is not None
        )

    @post("/events/{event_id:uuid}/roadshow")
    async def move_talk(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        event = await events.get_event(principal, event_id)
        data = _flat(data)
        try:
            talk = uuid.UUID(str(data.get("presentation_id", "")))
        except ValueError:
            talk = uuid.UUID(int=0)  # no talk of any roadshow: the service names the field
        moved, refusal = await attempt(
            events.move_talk(principal, event_id, talk, str(data.get("direction", "")), ip=client_ip(request))
        )
        if moved is None:
            assert refusal is not None
            return await self._detail(request, principal, events, event, refusal=refusal, errors=refusal_errors(refusal))
        return Redirect(f"/events/{event_id}#roadshow")

    @post("/events/{event_id:uuid}/registrations/{registration_id:uuid}/cancel")
    async def cancel_registration(
        self, request: Request, principal: CurrentPrincipal, events: Events, event_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID], data: Form,
    ) -> Response:  # fmt: skip
        event = await events.get_event(principal, event_id)
        moved, refusal = await attempt(
            events.transition_registration(
                principal, event_id, registration_id, "cancel", _flat(data).get("reason", ""), ip=client_ip(request)
            )
        )
        if moved is None:
            assert refusal is not None
            return await self._detail(request, principal, events, event, refusal=refusal, errors=refusal_errors(refusal))
        flash(request, N_("The registration is cancelled."))
        return Redirect(f"/events/{event_id}")
