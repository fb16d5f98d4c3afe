"""The events routes of the role × organization matrix (tests/app/test_tenancy.py reads these
lists): each feature of events adds its API and page routes here, with the data they need."""

from __future__ import annotations

from datetime import date, timedelta

from marketplace.accounts.models import COMPANY_ROLES, PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.events.models import EventState, MeetingRequestState, MeetingState
from tests.app.matrix import Route, any_role, only
from tests.events.agenda_factories import place
from tests.events.factories import seed_event, seed_meeting_request, seed_registration
from tests.events.registration_factories import (
    event_body,
    matrix_event_form,
    matrix_open_event,
    matrix_organized_event,
    matrix_registration,
    matrix_registration_body,
    matrix_roadshow,
)
from tests.support.world import World

TTO = (Role.tto_manager, Role.tto_staff)
COMPANY = (Role.company_admin, Role.company_member)

# ----- events and registrations (points 1–2) -------------------------------------------------------
# Every signed-in caller reads the events past their draft and the teams registered (the API takes a
# token, the pages a sign-in: visitors get 401 / the login page). A platform admin organizes any
# event, an institution's TTO its own open days; institutions' TTOs and companies' people register.


def organizes(ok: int):
    """The organizer: the platform admin, or the TTO of the organizing institution (the own one);
    everyone else reads the event but may not act: 403."""
    return lambda role, relation: ok if role == Role.platform_admin or (role in TTO and relation == "own") else 403


def registration_party(ok: int, *, organizer_too: bool = False):
    """The registered organization's TTO or people on their own registration; the organizer (the
    platform admin, for the platform's event) too when `organizer_too`; else 403."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin and organizer_too:
            return ok
        return ok if role in (*TTO, *COMPANY) and relation == "own" else 403

    return expect


def _patch_event(world: World, role: Role, relation: str) -> dict:
    return {"capacity": 45, "title": "医企融合对接会（更新）"}


def _close_registration(world: World, role: Role, relation: str) -> dict:
    return {"action": "close_registration"}


def _cancel(world: World, role: Role, relation: str) -> dict:
    return {"action": "cancel", "reason": "日程冲突"}


def _roadshow_order(world: World, role: Role, relation: str) -> dict:
    return {"order": [str(i) for i in world.scratch["roadshow"]]}


def _registration_form(world: World, role: Role, relation: str) -> dict:
    form: dict = {"slots": ["0", "1"], "note": "两位参会"}
    if role in TTO:
        form["listing_ids"] = [str(world.scratch["listing"])]
    return form


API_ROUTES: list[Route] = [
    Route("GET", "/api/v1/events", any_role(200)),
    Route("POST", "/api/v1/events", only(201, Role.platform_admin, *TTO), body=lambda w, r, rel: event_body()),
    Route("GET", "/api/v1/events/{event}", any_role(200), prepare=matrix_open_event),
    Route("PATCH", "/api/v1/events/{event}", organizes(200), prepare=matrix_organized_event, body=_patch_event),
    Route("POST", "/api/v1/events/{event}/transitions", organizes(200), prepare=matrix_organized_event, body=_close_registration),
    Route("GET", "/api/v1/events/{event}/registrations", any_role(200), prepare=matrix_open_event),
    Route(
        "POST",
        "/api/v1/events/{event}/registrations",
        only(201, *TTO, *COMPANY),
        prepare=matrix_open_event,
        body=matrix_registration_body,
    ),
    Route("GET", "/api/v1/events/{event}/registrations/{registration}", any_role(200), prepare=matrix_registration),
    Route(
        "PATCH",
        "/api/v1/events/{event}/registrations/{registration}",
        registration_party(200),
        prepare=matrix_registration,
        body=lambda w, r, rel: {"note": "改为三人参会"},
    ),
    Route(
        "POST",
        "/api/v1/events/{event}/registrations/{registration}/transitions",
        registration_party(200, organizer_too=True),
        prepare=matrix_registration,
        body=_cancel,
    ),
    Route("PUT", "/api/v1/events/{event}/roadshow", organizes(200), prepare=matrix_roadshow, body=_roadshow_order),
]

PAGE_ROUTES: list[Route] = [
    Route("GET", "/events", any_role(200), anonymous=302),
    Route("GET", "/events/new", only(200, Role.platform_admin, *TTO), anonymous=302),
    Route("POST", "/events", only(302, Role.platform_admin, *TTO), anonymous=302, body=matrix_event_form),
    Route("GET", "/events/{event}", any_role(200), anonymous=302, prepare=matrix_open_event),
    Route("GET", "/events/{event}/edit", organizes(200), anonymous=302, prepare=matrix_organized_event),
    Route("POST", "/events/{event}/edit", organizes(302), anonymous=302, prepare=matrix_organized_event, body=matrix_event_form),
    Route(
        "POST",
        "/events/{event}/transitions",
        organizes(302),
        anonymous=302,
        prepare=matrix_organized_event,
        body=_close_registration,
    ),
    Route("GET", "/events/{event}/register", only(200, *TTO, *COMPANY), anonymous=302, prepare=matrix_open_event),
    Route(
        "POST",
        "/events/{event}/register",
        only(302, *TTO, *COMPANY),
        anonymous=302,
        prepare=matrix_open_event,
        body=_registration_form,
    ),
    Route(
        "POST",
        "/events/{event}/roadshow",
        organizes(302),
        anonymous=302,
        prepare=matrix_roadshow,
        body=lambda w, r, rel: {"presentation_id": str(w.scratch["roadshow"][-1]), "direction": "up"},
    ),
    Route(
        "POST",
        "/events/{event}/registrations/{registration}/cancel",
        registration_party(302, organizer_too=True),
        anonymous=302,
        prepare=matrix_registration,
        body=lambda w, r, rel: {"reason": "日程冲突"},
    ),
]


# ----- agendas, check-in and outcomes (marketplace/events/agenda_api.py, agenda_pages.py) -----------

PLATFORM = (Role.platform_admin, Role.platform_analyst)
# The people of a meeting's two organizations who act for them (inventors do not).
PARTIES = (Role.tto_manager, Role.tto_staff, Role.company_admin, Role.company_member)


async def meeting_at(db, world, role, relation, *, past: bool = False) -> dict:
    """A fresh running event (or a closed past one) with a confirmed (held) meeting between the
    own institution and company ("own"), or between the other two ("other")."""
    state = EventState.closed if past else EventState.running
    starts_on = date.today() - timedelta(days=3) if past else date.today() + timedelta(days=30)
    event = await seed_event(db, world, state, starts_on=starts_on)
    institution = await seed_registration(db, event, world.orgs[f"institution/{relation}"])
    company = await seed_registration(db, event, world.orgs[f"company/{relation}"])
    request = await seed_meeting_request(db, event, company, institution, MeetingRequestState.accepted)
    meeting = await place(db, event, request, 1, 0, MeetingState.held if past else MeetingState.confirmed)
    return {"event": event.id, "meeting": meeting.id}


async def running_event(db, world, role, relation) -> dict:
    return {"event": (await seed_event(db, world, EventState.running)).id}


async def past_meeting(db, world, role, relation) -> dict:
    return await meeting_at(db, world, role, relation, past=True)


def reads_meeting(ok: int):
    return lambda role, relation: ok if role in PLATFORM or (relation == "own" and role in PARTIES) else 404


def checks_in(ok: int):
    """The parties check their side in, the organizer (the platform admin) both; the analyst may not."""

    def expect(role, relation):
        if role == Role.platform_admin:
            return ok
        if role == Role.platform_analyst:
            return 403
        return ok if relation == "own" and role in PARTIES else 404

    return expect


def records_outcome(ok: int):
    """Only the two sides record outcomes; the platform sees the meeting but has none to record."""
    return lambda role, relation: 403 if role in PLATFORM else (ok if relation == "own" and role in PARTIES else 404)


API_ROUTES += [
    Route("GET", "/api/v1/events/{event}/agenda", any_role(200), prepare=running_event),
    Route("GET", "/api/v1/events/{event}/meetings/{meeting}", reads_meeting(200), prepare=meeting_at),
    Route("POST", "/api/v1/events/{event}/meetings/{meeting}/check-in", checks_in(200), prepare=meeting_at),
    Route(
        "POST",
        "/api/v1/events/{event}/meetings/{meeting}/outcome",
        records_outcome(200),
        body=lambda w, r, rel: {"outcome": "follow_up", "note": "再联系"},
        prepare=past_meeting,
    ),
]

PAGE_ROUTES += [
    Route("GET", "/events/{event}/agenda", any_role(200), anonymous=302, prepare=running_event),
    Route("GET", "/events/{event}/agenda.ics", any_role(200), anonymous=302, prepare=running_event),
    Route("POST", "/events/{event}/meetings/{meeting}/check-in", checks_in(302), anonymous=302, prepare=meeting_at),
    Route(
        "POST",
        "/events/{event}/meetings/{meeting}/outcome",
        records_outcome(302),
        anonymous=302,
        body=lambda w, r, rel: {"outcome": "follow_up", "note": "再联系"},
        prepare=past_meeting,
    ),
]


# ----- meeting requests and the schedule (issue 17, points 3–4) ------------------------------------
# "own": the caller's organization is one of the two teams (company/own asked institution/own), or,
# for the schedule's run, the organizer (an open day of institution/own); "other": the other
# organizations' (institution/other organizes, company/other and institution/other meet).


async def meeting_request(db, world, role, relation) -> dict:
    event = await seed_event(db, world, EventState.registration_open)
    institution = await seed_registration(db, event, world.orgs[f"institution/{relation}"])
    company = await seed_registration(db, event, world.orgs[f"company/{relation}"])
    request = await seed_meeting_request(db, event, company, institution)
    return {"event": event.id, "request": request.id}


async def teams_to_ask(db, world, role, relation) -> dict:
    """An open event where the relation's institution and company are registered (so the own
    organizations are registered for "own", and not for "other")."""
    event = await seed_event(db, world, EventState.registration_open)
    institution = await seed_registration(db, event, world.orgs[f"institution/{relation}"])
    company = await seed_registration(db, event, world.orgs[f"company/{relation}"])
    world.scratch["ask"] = {"institution": str(institution.id), "company": str(company.id)}
    return {"event": event.id}


async def open_day_to_schedule(db, world, role, relation) -> dict:
    event = await seed_event(db, world, EventState.scheduling, organizer=f"institution/{relation}")
    institution = await seed_registration(db, event, world.orgs[f"institution/{relation}"])
    company = await seed_registration(db, event, world.orgs[f"company/{relation}"])
    await seed_meeting_request(db, event, company, institution, MeetingRequestState.accepted)
    return {"event": event.id}


def ask_body(world, role, relation) -> dict:
    """A company asks the institution, an institution the company; anyone else names a team."""
    target = "company" if role in TTO_ROLES else "institution"
    return {"to_registration_id": world.scratch["ask"][target], "message": "想了解合作"}


def answer_body(world, role, relation) -> dict:
    """The asked institution accepts; the asking company withdraws; anyone else tries to withdraw."""
    return {"action": "accept"} if role in TTO_ROLES else {"action": "withdraw"}


def reads_request(ok: int):
    """A request is its two teams' (the TTO's and the company's people) and the platform roles'."""
    return lambda role, relation: (
        ok if role in PLATFORM_ROLES or (relation == "own" and role in TTO_ROLES | COMPANY_ROLES) else 404
    )


def asks(ok: int):
    """A registered team's TTO or company people ask; unregistered ones are told so (409); inventors
    and platform roles do not ask (403)."""
    return lambda role, relation: (ok if relation == "own" else 409) if role in TTO_ROLES | COMPANY_ROLES else 403


def answers(ok: int):
    """The teams answer their own; the platform roles see it but are no party (403)."""
    return lambda role, relation: 403 if role in PLATFORM_ROLES else reads_request(ok)(role, relation)


def runs_schedule(ok: int):
    """The organizer: the platform admin, or the TTO of the institution whose open day it is."""
    return lambda role, relation: ok if role == Role.platform_admin or (relation == "own" and role in TTO_ROLES) else 403


def run_body(world, role, relation) -> dict:
    return {"move_confirmed": False}


API_ROUTES += [
    Route("GET", "/api/v1/events/{event}/meeting-requests", lambda r, rel: 200, prepare=meeting_request),
    Route("POST", "/api/v1/events/{event}/meeting-requests", asks(201), prepare=teams_to_ask, body=ask_body),
    Route("GET", "/api/v1/events/{event}/meeting-requests/{request}", reads_request(200), prepare=meeting_request),
    Route(
        "POST",
        "/api/v1/events/{event}/meeting-requests/{request}/transitions",
        answers(200),
        prepare=meeting_request,
        body=answer_body,
    ),
    Route("GET", "/api/v1/events/{event}/schedule", lambda r, rel: 200, prepare=open_day_to_schedule),
    Route("POST", "/api/v1/events/{event}/schedule", runs_schedule(200), prepare=open_day_to_schedule, body=run_body),
]


def ask_form(world, role, relation) -> dict:
    return ask_body(world, role, relation)


PAGE_ROUTES += [
    Route("GET", "/events/{event}/meetings", lambda r, rel: 200, anonymous=302, prepare=meeting_request),
    # Without ?to= it lists the teams to ask (tests/events/test_meeting_pages.py opens the form itself).
    Route("GET", "/events/{event}/meeting-requests/new", lambda r, rel: 200, anonymous=302, prepare=teams_to_ask),
    Route("POST", "/events/{event}/meeting-requests", asks(302), anonymous=302, prepare=teams_to_ask, body=ask_form),
    Route(
        "POST",
        "/events/{event}/meeting-requests/{request}/transitions",
        answers(302),
        anonymous=302,
        prepare=meeting_request,
        body=answer_body,
    ),
    Route("GET", "/events/{event}/schedule", lambda r, rel: 200, anonymous=302, prepare=open_day_to_schedule),
    Route("POST", "/events/{event}/schedule", runs_schedule(200), anonymous=302, prepare=open_day_to_schedule, body=run_body),
]
