"""The events routes of the role × organization matrix (tests/app/test_tenancy.py reads these
lists): each feature of events adds its API and page routes here, with the data they need."""

from __future__ import annotations

from marketplace.accounts.models import COMPANY_ROLES, PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.events.models import EventState, MeetingRequestState
from tests.app.matrix import Route
from tests.events.factories import seed_event, seed_meeting_request, seed_registration

API_ROUTES: list[Route] = []

PAGE_ROUTES: list[Route] = []


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
