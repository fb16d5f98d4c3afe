"""The state machines of matchmaking events (declared for marketplace/states.py): an event's, a
registration's, a meeting request's and a meeting's. The services hold the hooks that need the
database (capacity, limits, placing); the declarations say who may take each step.

Sides: `organizer` — a platform admin, or the TTO of the institution that runs the event (the
event is the record, or the context of the others); `institution` and `company` — the two
organizations of a request or meeting (or the registered organization); `requester` and `host` —
of a meeting request, the side that asked and the side asked.
"""

from __future__ import annotations

from typing import Any

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Role
from marketplace.events.models import EventState, MeetingRequestState, MeetingState, RegistrationState
from marketplace.i18n import N_
from marketplace.tenancy import Principal

ORGANIZER_ROLES = frozenset({Role.platform_admin, *TTO_ROLES})
PARTICIPANT_ROLES = TTO_ROLES | COMPANY_ROLES


def is_organizer(principal: Principal, event: Any) -> bool:
    """A platform admin runs every event; an institution's TTO runs its own open days."""
    if principal.role == Role.platform_admin:
        return True
    return principal.role in TTO_ROLES and event is not None and event.organizer_id == principal.organization_id


def party_side(principal: Principal, record: Any) -> str | None:
    """`institution` or `company` for a record with institution_id and company_id, or for a
    registration (its organization_id and organization_kind)."""
    if hasattr(record, "organization_kind"):
        if record.organization_id != principal.organization_id:
            return None
        roles = TTO_ROLES if record.organization_kind == "institution" else COMPANY_ROLES
        return record.organization_kind if principal.role in roles else None
    if principal.role in TTO_ROLES and record.institution_id == principal.organization_id:
        return "institution"
    if principal.role in COMPANY_ROLES and record.company_id == principal.organization_id:
        return "company"
    return None


def _sides(principal: Principal, record: Any, context: Any):
    """The record's own sides, `requester`/`host` for a meeting request, and `organizer` of the
    event (the record, or the context)."""
    event = record if context is None and hasattr(record, "organizer_id") else context
    if event is not None and is_organizer(principal, event):
        yield "organizer"
    if hasattr(record, "organizer_id"):
        return
    side = party_side(principal, record)
    if side is None:
        return
    yield side
    if hasattr(record, "asked_by"):
        yield "requester" if side == record.asked_by else "host"


def _machine(name: str, table: str, state, initial: str, actions: list, **texts: Any) -> states.Machine:
    return states.Machine(
        name=name,
        table=table,
        column="state",
        states=tuple(state),
        initial=frozenset({initial}),
        actions=dict(actions),
        sides=_sides,
        enter=states.enter_stamped,
        **texts,
    )


ORGANIZER = (states.Party("organizer", ORGANIZER_ROLES),)
INSTITUTION = (states.Party("institution", TTO_ROLES),)
COMPANY = (states.Party("company", COMPANY_ROLES),)
EITHER = INSTITUTION + COMPANY
REQUESTER = (states.Party("requester", PARTICIPANT_ROLES),)
HOST = (states.Party("host", PARTICIPANT_ROLES),)

E = EventState
# The organizer drafts the event, opens registration, closes it to schedule the accepted meetings
# (the system closes it at the deadline), publishes the schedule by starting the event, and closes
# it afterwards; it may cancel it until it runs.
EVENT = _machine(
    "event",
    "events",
    E,
    E.draft,
    [
        states.action("open_registration", {E.draft}, E.registration_open, ORGANIZER),
        states.action("close_registration", {E.registration_open}, E.scheduling, ORGANIZER),
        states.action("deadline_passed", {E.registration_open}, E.scheduling, ()),
        states.action("reopen_registration", {E.scheduling}, E.registration_open, ORGANIZER),
        states.action("start", {E.scheduling}, E.running, ORGANIZER),
        states.action("close", {E.running}, E.closed, ORGANIZER),
        states.action("cancel", {E.draft, E.registration_open, E.scheduling}, E.cancelled, ORGANIZER, reason_required=True),
    ],
    refusal=N_("An event that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the event's current state."),
    state_labels={
        E.draft: N_("Draft"),
        E.registration_open: N_("Registration open"),
        E.scheduling: N_("Scheduling"),
        E.running: N_("Under way"),
        E.closed: N_("Closed"),
        E.cancelled: N_("Cancelled"),
    },
    action_labels={
        "open_registration": N_("Open registration"),
        "close_registration": N_("Close registration"),
        "reopen_registration": N_("Reopen registration"),
        "start": N_("Publish the schedule and start"),
        "close": N_("Close the event"),
        "cancel": N_("Cancel the event"),
    },
)

G = RegistrationState
# A team registers (the service checks the state of the event and its capacity) and may cancel
# until the event runs (the service checks the event); the organizer may cancel a registration too.
REGISTRATION = _machine(
    "event_registration",
    "event_registrations",
    G,
    G.registered,
    [
        states.action("cancel", {G.registered}, G.cancelled, EITHER + ORGANIZER, reason_required=True),
    ],
    refusal=N_("A registration that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the registration's current state."),
    state_labels={G.registered: N_("Registered"), G.cancelled: N_("Cancelled")},
    action_labels={"cancel": N_("Cancel the registration")},
)

Q = MeetingRequestState
# One side asks; the other accepts or declines with a reason; the asker may withdraw before an
# answer; an accepted meeting may be called off by either side (its meeting is cancelled with it).
MEETING_REQUEST = _machine(
    "meeting_request",
    "event_meeting_requests",
    Q,
    Q.requested,
    [
        states.action("accept", {Q.requested}, Q.accepted, HOST),
        states.action("decline", {Q.requested}, Q.declined, HOST, reason_required=True),
        states.action("withdraw", {Q.requested}, Q.withdrawn, REQUESTER),
        states.action("cancel", {Q.accepted}, Q.cancelled, REQUESTER + HOST + ORGANIZER, reason_required=True),
    ],
    refusal=N_("A meeting request that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the meeting request's current state."),
    state_labels={
        Q.requested: N_("Awaiting an answer"),
        Q.accepted: N_("Accepted"),
        Q.declined: N_("Declined"),
        Q.withdrawn: N_("Withdrawn"),
        Q.cancelled: N_("Called off"),
    },
    action_labels={
        "accept": N_("Accept the meeting"),
        "decline": N_("Decline the meeting"),
        "withdraw": N_("Withdraw the request"),
        "cancel": N_("Call the meeting off"),
    },
)

M = MeetingState
# The scheduling places, moves and unplaces meetings (the system's steps); starting the event
# confirms the placed ones; a check-in at the table by either side or the organizer marks it held;
# closing the event marks the rest missed; a called-off request cancels its meeting.
MEETING = _machine(
    "meeting",
    "event_meetings",
    M,
    M.unplaced,
    [
        states.action("place", {M.unplaced}, M.placed, ()),
        states.action("unplace", {M.placed, M.confirmed}, M.unplaced, ()),
        states.action("confirm", {M.placed}, M.confirmed, ()),
        states.action("release", {M.confirmed}, M.placed, ()),
        states.action("check_in", {M.confirmed}, M.held, EITHER + ORGANIZER),
        states.action("miss", {M.confirmed}, M.missed, ()),
        states.action("cancel", {M.unplaced, M.placed, M.confirmed}, M.cancelled, ()),
    ],
    refusal=N_("A meeting that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the meeting's current state."),
    state_labels={
        M.unplaced: N_("Not yet scheduled"),
        M.placed: N_("Scheduled (draft)"),
        M.confirmed: N_("Confirmed for its slot"),
        M.held: N_("Held"),
        M.missed: N_("Missed"),
        M.cancelled: N_("Cancelled"),
    },
    action_labels={"check_in": N_("Check in")},
)

MACHINES = (EVENT, REGISTRATION, MEETING_REQUEST, MEETING)
