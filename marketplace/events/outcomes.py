"""What came of a meeting, recorded by each side once, in one step, after the meeting: no further
interest, follow up, or — for the company — open a match request. That request is created by the
matching domain's own service (the same checks and NDA acceptance as a listing's request form),
about the meeting's listing or, for a general meeting, one the institution presents at the event,
and linked back to the meeting. Institutions answer needs, not listings: they record no interest
or a follow-up.

"After the meeting": a meeting held, or a confirmed one whose slot has begun, or one missed (the
event closed without a check-in; both sides may still say what they want next).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing
from marketplace.config import Settings
from marketplace.db import CHINA_TIME, utcnow
from marketplace.errors import Conflict, FieldError, Forbidden, InvalidInput, invalid
from marketplace.events.agenda_schemas import OutcomeIn
from marketplace.events.agendas import meeting_for, table_name
from marketplace.events.calendar_file import event_title, one_line
from marketplace.events.lifecycle import party_side
from marketplace.events.models import (
    Event,
    Meeting,
    MeetingRequest,
    MeetingState,
    Outcome,
    Presentation,
    Registration,
    RegistrationState,
)
from marketplace.events.scoping import event_for
from marketplace.events.slots import slots_of
from marketplace.i18n import N_
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from marketplace.tenancy import Principal

AFTER_STATES = frozenset({MeetingState.held, MeetingState.confirmed, MeetingState.missed})
TOO_EARLY = N_("An outcome is recorded after the meeting: its slot has not begun yet.")
TWICE = N_("Your side has already recorded the outcome of this meeting.")
NOT_HELD = N_("This meeting did not take place: there is no outcome to record.")
INSTITUTION_NO_REQUEST = N_("Institutions record no further interest or a follow-up; companies open match requests.")


def meeting_started(event: Event, meeting: Meeting, now: datetime) -> bool:
    if meeting.slot is None:
        return meeting.state == MeetingState.missed
    slots = slots_of(event)
    return meeting.slot < len(slots) and slots[meeting.slot].starts_at <= now


def may_record(principal: Principal, event: Event, meeting: Meeting, now: datetime) -> bool:
    """Whether the page offers the caller the outcome form."""
    side = party_side(principal, meeting)
    return (
        side is not None
        and getattr(meeting, f"{side}_outcome") is None
        and meeting.state in AFTER_STATES
        and meeting_started(event, meeting, now)
    )


async def presented_listings(session: AsyncSession, event: Event, institution_id: uuid.UUID) -> list[Listing]:
    """The listings the institution presents at the event: what a general meeting's request may be about."""
    rows = await session.scalars(
        select(Listing)
        .join(Presentation, Presentation.listing_id == Listing.id)
        .join(Registration, Registration.id == Presentation.registration_id)
        .where(
            Presentation.event_id == event.id,
            Registration.organization_id == institution_id,
            Registration.state == RegistrationState.registered,
        )
        .order_by(Presentation.position)
    )
    return list(rows)


async def record_outcome(
    session: AsyncSession,
    settings: Settings | None,
    principal: Principal,
    event_id: uuid.UUID,
    meeting_id: uuid.UUID,
    data: OutcomeIn,
    *,
    now: datetime | None = None,
    ip: str | None = None,
) -> Meeting:
    principal.require()
    now = now or utcnow()
    event = await event_for(session, principal, event_id)
    meeting = await meeting_for(session, principal, event, meeting_id, for_update=True)
    side = party_side(principal, meeting)
    if side is None:
        raise Forbidden()
    if getattr(meeting, f"{side}_outcome") is not None:
        raise Conflict(TWICE)
    if meeting.state not in AFTER_STATES:
        raise Conflict(NOT_HELD)
    if not meeting_started(event, meeting, now):
        raise Conflict(TOO_EARLY)
    note = data.note.strip()
    if data.outcome == Outcome.match_request:
        if side != "company":
            raise invalid("outcome", INSTITUTION_NO_REQUEST)
        meeting.match_request_id = await _open_match_request(session, settings, principal, event, meeting, data, note, now, ip)
    setattr(meeting, f"{side}_outcome", data.outcome)
    setattr(meeting, f"{side}_note", note)
    await session.flush()
    row = await audit.record(
        session,
        "meeting_outcome_recorded",
        actor_user_id=principal.user_id,
        organization_id=principal.organization_id,
        subject=meeting,
        ip=ip,
        side=side,
        outcome=str(data.outcome),
        match_request_id=meeting.match_request_id,
    )
    row.occurred_at = now
    return meeting


async def _open_match_request(
    session: AsyncSession,
    settings: Settings | None,
    principal: Principal,
    event: Event,
    meeting: Meeting,
    data: OutcomeIn,
    note: str,
    now: datetime,
    ip: str | None,
) -> uuid.UUID:
    request = await session.get_one(MeetingRequest, meeting.meeting_request_id)
    listing_id = request.listing_id
    errors: list[FieldError] = []
    if listing_id is None:
        offered = {listing.id for listing in await presented_listings(session, event, meeting.institution_id)}
        if data.listing_id is None:
            errors.append(FieldError("listing_id", N_("Choose the listing the request is about.")))
        elif data.listing_id not in offered:
            errors.append(FieldError("listing_id", N_("Choose one of the listings the institution presents at the event.")))
        listing_id = data.listing_id
    elif data.listing_id is not None and data.listing_id != listing_id:
        errors.append(FieldError("listing_id", N_("The meeting was about another listing.")))
    if data.engagement_type is None:
        errors.append(FieldError("engagement_type", N_("Required.")))
    if data.nda_version is None:
        errors.append(FieldError("nda_version", N_("Required.")))
    if errors:
        raise InvalidInput(*errors)
    assert listing_id is not None and data.engagement_type is not None and data.nda_version is not None
    message = "\n\n".join(part for part in (_meeting_line(event, meeting), data.message.strip()) if part)
    created = await MatchingService(session, settings).create(
        principal,
        MatchRequestCreate(
            listing_id=listing_id,
            engagement_type=data.engagement_type,
            purpose=data.purpose,
            timeline=data.timeline,
            budget_min_fen=data.budget_min_fen,
            budget_max_fen=data.budget_max_fen,
            message=message[:5000],
            nda_version=data.nda_version,
            accept_nda=data.accept_nda,
        ),
        now=now,
        ip=ip,
    )
    return created.id


def _meeting_line(event: Event, meeting: Meeting) -> str:
    """The sentence the request's message opens with, in the company's language at the time."""
    locale = i18n.current_locale.get()
    title = one_line(event_title(event, locale))
    slots = slots_of(event)
    if meeting.slot is not None and meeting.slot < len(slots):
        when = slots[meeting.slot].starts_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
        return i18n.gettext(
            "Following our meeting at “%(event)s” on %(when)s (table %(table)s).",
            event=title,
            when=when,
            table=table_name(event, meeting.table_no) or "",
        )
    return i18n.gettext("Following our meeting at “%(event)s”.", event=title)
