"""The check-in at the table: either side's person (or the organizer, who stands at the table and
checks both sides in) marks a confirmed meeting held, while the event is running. The first
check-in moves the meeting (states.apply, audited); the other side's later check-in only records
its own time (audited too)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.audit import services as audit
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden
from marketplace.events.agendas import meeting_for
from marketplace.events.lifecycle import MEETING, is_organizer, party_side
from marketplace.events.models import EventState, Meeting, MeetingState
from marketplace.events.scoping import event_for
from marketplace.i18n import N_
from marketplace.tenancy import Principal

NOT_RUNNING = N_("Meetings are checked in only while the event is under way.")
ALREADY = N_("This side of the meeting is already checked in.")


def checkin_sides(principal: Principal, event, meeting: Meeting) -> tuple[str, ...]:
    """The sides the caller checks in: the organizer both, a party its own; none for others."""
    if is_organizer(principal, event):
        return ("institution", "company")
    side = party_side(principal, meeting)
    return (side,) if side else ()


def may_check_in(principal: Principal, event, meeting: Meeting) -> bool:
    if event.state != EventState.running or meeting.state not in (MeetingState.confirmed, MeetingState.held):
        return False
    return any(getattr(meeting, f"{side}_checked_in_at") is None for side in checkin_sides(principal, event, meeting))


async def check_in(
    session: AsyncSession,
    principal: Principal,
    event_id: uuid.UUID,
    meeting_id: uuid.UUID,
    *,
    now: datetime | None = None,
    ip: str | None = None,
) -> Meeting:
    principal.require()
    now = now or utcnow()
    event = await event_for(session, principal, event_id)
    meeting = await meeting_for(session, principal, event, meeting_id, for_update=True)
    sides = checkin_sides(principal, event, meeting)
    if not sides:
        raise Forbidden()
    if event.state != EventState.running:
        raise Conflict(NOT_RUNNING)
    pending = [side for side in sides if getattr(meeting, f"{side}_checked_in_at") is None]
    if meeting.state == MeetingState.held and not pending:
        raise Conflict(ALREADY)
    if meeting.state == MeetingState.held:
        for side in pending:
            setattr(meeting, f"{side}_checked_in_at", now)
        event_row = await audit.record(
            session,
            "meeting_side_checked_in",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=meeting,
            ip=ip,
            sides=pending,
        )
        event_row.occurred_at = now
        await session.flush()
    else:
        # Refuses (409) every state but confirmed: a draft placement, a cancelled or missed meeting.
        await states.apply(
            session, MEETING, principal, meeting, "check_in", context=event, now=now, ip=ip, details={"sides": pending}
        )
        for side in pending:
            setattr(meeting, f"{side}_checked_in_at", now)
        await session.flush()
    return meeting
