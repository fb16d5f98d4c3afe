"""The events routes of the role × organization matrix (tests/app/test_tenancy.py reads these
lists): each feature of events adds its API and page routes here, with the data they need."""

from __future__ import annotations

from tests.app.matrix import Route

API_ROUTES: list[Route] = []

PAGE_ROUTES: list[Route] = []


# ----- agendas, check-in and outcomes (marketplace/events/agenda_api.py, agenda_pages.py) -----------

from datetime import date, timedelta  # noqa: E402

from marketplace.accounts.models import Role  # noqa: E402
from marketplace.events.models import EventState, MeetingRequestState, MeetingState  # noqa: E402
from tests.app.matrix import any_role  # noqa: E402
from tests.events.agenda_factories import place  # noqa: E402
from tests.events.factories import seed_event, seed_meeting_request, seed_registration  # noqa: E402

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
