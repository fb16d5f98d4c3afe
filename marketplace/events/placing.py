"""Placing the accepted meetings of an event into slots and tables (the service `placing`).

The organizer runs the scheduling while the event is `scheduling` (a draft: meetings are placed
and may move) or `running` (late changes: a walk-in, a call-off). Each live meeting becomes a
`Wanted` for the solver (scheduling.py): its holders (the two people who come and the institution's
team, which meets as one), the slots both teams are free, a weight (a meeting about a presented
listing or a brought need counts double) and, for a confirmed or held meeting, its pinned cell —
confirmed ones move only when the organizer says so. The solver runs off the event loop; the result
is written in one savepoint: meetings that move are unplaced first (their seats deleted), then
placed at their new cells with one seat per holder. The seats' primary key and the table index are
the last line of defence: a violation rolls the whole write back and answers 409.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import partial

import anyio
from litestar.di import NamedDependency
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import Organization
from marketplace.audit import services as audit
from marketplace.db import DbSession
from marketplace.errors import Conflict, Forbidden
from marketplace.events.lifecycle import EVENT, MEETING, is_organizer, party_side
from marketplace.events.models import (
    Event,
    EventState,
    Meeting,
    MeetingRequest,
    MeetingState,
    Registration,
    Seat,
)
from marketplace.events.scheduling import Wanted, schedule
from marketplace.events.scoping import event_for
from marketplace.events.slots import Slot, slot_count, slots_of
from marketplace.i18n import N_
from marketplace.tenancy import Principal

M = MeetingState
LIVE_MEETINGS = (M.unplaced, M.placed, M.confirmed, M.held)
SCHEDULING_STATES = frozenset({EventState.scheduling, EventState.running})
TIME_LIMIT = 20.0  # seconds the solver may take (the goal: under 30 s for 2,000 meetings)
NO_COMMON_SLOT, NO_ROOM = "no_common_slot", "no_room"


@dataclass
class Summary:
    placed: int = 0
    unplaced: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (meeting, why)
    upper_bound: int = 0
    moved: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Row:
    meeting: Meeting
    request: MeetingRequest


def holders_of(request: MeetingRequest) -> frozenset:
    """The people who come and the institution's team (its registration), who meet as one."""
    institution_registration = request.from_registration_id if request.asked_by == "institution" else request.to_registration_id
    people = {request.requested_by_user_id, request.host_user_id} - {None}
    return frozenset({*people, institution_registration})


async def live_rows(session: AsyncSession, event: Event) -> list[Row]:
    result = await session.execute(
        select(Meeting, MeetingRequest)
        .join(MeetingRequest, MeetingRequest.id == Meeting.meeting_request_id)
        .where(Meeting.event_id == event.id, Meeting.state.in_(LIVE_MEETINGS))
        .order_by(Meeting.created_at, Meeting.id)
        .with_for_update(of=Meeting)
        .execution_options(populate_existing=True)
    )
    return [Row(meeting, request) for meeting, request in result.all()]


async def free_slots(session: AsyncSession, event: Event) -> dict[uuid.UUID, set[int]]:
    rows = await session.execute(select(Registration.id, Registration.available_slots).where(Registration.event_id == event.id))
    count = slot_count(event)
    return {rid: {s for s in (slots or []) if 0 <= s < count} for rid, slots in rows.all()}


def wanted_of(row: Row, free: dict[uuid.UUID, set[int]], pinned: bool) -> Wanted:
    request, meeting = row.request, row.meeting
    common = free.get(request.from_registration_id, set()) & free.get(request.to_registration_id, set())
    return Wanted(
        key=meeting.id,
        holders=holders_of(request),
        slots=frozenset(common),
        weight=2 if request.listing_id or request.need_id else 1,
        pinned=_cell(meeting) if pinned else None,
    )


async def _seat(session: AsyncSession, event: Event, meeting: Meeting, request: MeetingRequest) -> None:
    assert meeting.slot is not None
    session.add_all(
        Seat(event_id=event.id, slot=meeting.slot, holder_id=holder, meeting_id=meeting.id) for holder in holders_of(request)
    )


async def _unseat(session: AsyncSession, meeting: Meeting) -> None:
    await session.execute(delete(Seat).where(Seat.meeting_id == meeting.id))


async def system_step(session, principal, event, meeting, action: str, reason: str = "", ip=None) -> None:
    """A system step of the meeting; leaving the seated states frees its seats and, but for a
    missed meeting (which keeps when and where it was to be), its cell."""
    target = MEETING.actions[action].target
    if target not in (M.placed, M.confirmed, M.held) and meeting.state in MEETING.actions[action].sources:
        await _unseat(session, meeting)
        if target != M.missed:
            meeting.slot = meeting.table_no = None
    await states.apply(session, MEETING, principal, meeting, action, reason, context=event, ip=ip, as_system=True)


async def drop_meeting(
    session: AsyncSession, principal: Principal | None, event: Event, meeting: Meeting, reason: str, *, ip=None
) -> None:
    """A called-off request's (or a cancelled event's) meeting: cancelled, its seats freed."""
    await system_step(session, principal, event, meeting, "cancel", reason, ip)


async def _write(session, principal, event: Event, rows: list[Row], placed: dict, ip) -> int:
    """Move the meetings to the solver's cells; a confirmed meeting that moves is released first;
    in a running event what is placed is confirmed at once. Returns how many changed cell."""
    running = event.state == EventState.running
    changed = [row for row in rows if row.meeting.state != M.held and _cell(row.meeting) != _target(placed, row.meeting)]
    for row in changed:
        if row.meeting.state == M.confirmed:
            await system_step(session, principal, event, row.meeting, "release", ip=ip)
        if row.meeting.state == M.placed:
            await system_step(session, principal, event, row.meeting, "unplace", ip=ip)
    await session.flush()
    for row in changed:
        cell = _target(placed, row.meeting)
        if cell is None:
            continue
        row.meeting.slot, row.meeting.table_no = cell
        await states.apply(session, MEETING, principal, row.meeting, "place", context=event, ip=ip, as_system=True)
        await _seat(session, event, row.meeting, row.request)
    if running:
        for row in rows:
            if row.meeting.state == M.placed:
                await states.apply(session, MEETING, principal, row.meeting, "confirm", context=event, ip=ip, as_system=True)
    await session.flush()
    return sum(1 for row in changed if _target(placed, row.meeting) is not None)


def _cell(meeting: Meeting) -> tuple[int, int] | None:
    return (meeting.slot, meeting.table_no) if meeting.slot is not None and meeting.table_no is not None else None


def _target(placed: dict, meeting: Meeting) -> tuple[int, int] | None:
    found = placed.get(meeting.id)
    return (found.slot, found.table) if found is not None else None


def double_booked() -> Conflict:
    return Conflict(N_("The schedule changed while it was being written; nothing was saved. Run the scheduling again."))


async def _solve_and_write(session, principal, event, rows, wanted, ip):
    solve = partial(schedule, wanted, slots=slot_count(event), tables=len(event.tables), time_limit=TIME_LIMIT)
    result = await anyio.to_thread.run_sync(solve)
    try:
        async with session.begin_nested():
            moved = await _write(session, principal, event, rows, result.placed, ip)
    except IntegrityError as error:
        raise double_booked() from error
    return result, moved


async def place_at_once(session: AsyncSession, principal: Principal | None, event: Event, meeting: Meeting, *, ip=None) -> bool:
    """A meeting accepted while the event runs: into a free cell now, everything else pinned (or
    left unplaced for the organizer's next run)."""
    rows = await live_rows(session, event)
    free = await free_slots(session, event)
    wanted = [wanted_of(row, free, pinned=True) for row in rows if row.meeting.id == meeting.id or _cell(row.meeting)]
    mine = [row for row in rows if row.meeting.id == meeting.id]
    try:
        _, moved = await _solve_and_write(session, principal, event, mine, wanted, ip)
    except Conflict:
        return False  # the savepoint is rolled back: the acceptance stands, the organizer's next run places it
    return moved > 0


class PlacingService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def run(
        self, principal: Principal, event_id: uuid.UUID, *, move_confirmed: bool = False, ip: str | None = None
    ) -> Summary:
        principal.require()
        event = await event_for(self.session, principal, event_id, for_update=True)  # one run at a time
        if not is_organizer(principal, event):
            raise Forbidden()
        if event.state not in SCHEDULING_STATES:
            raise Conflict(
                N_("The event is “%(state)s”: its meetings are placed while it is scheduling or under way."),
                state=EVENT.state_label(event.state),
            )
        rows = await live_rows(self.session, event)
        free = await free_slots(self.session, event)
        wanted = [
            wanted_of(row, free, pinned=row.meeting.state == M.held or (row.meeting.state == M.confirmed and not move_confirmed))
            for row in rows
        ]
        result, moved = await _solve_and_write(self.session, principal, event, rows, wanted, ip)
        by_key = {item.key: item for item in wanted}
        summary = Summary(
            placed=len(result.placed),
            unplaced=[(key, NO_ROOM if by_key[key].slots else NO_COMMON_SLOT) for key in result.unplaced],
            upper_bound=result.upper_bound,
            moved=moved,
            seconds=round(result.seconds, 3),
        )
        await audit.record(
            self.session,
            "event_schedule_run",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=event,
            ip=ip,
            placed=summary.placed,
            unplaced=len(summary.unplaced),
            upper_bound=summary.upper_bound,
            moved=summary.moved,
            seconds=summary.seconds,
            move_confirmed=move_confirmed,
        )
        return summary

    async def grid(self, principal: Principal, event_id: uuid.UUID) -> tuple[Event, list[Slot], list[Row], dict]:
        """The event's slots and the meetings the caller sees (the organizer and the platform's
        people all, a team its own), with the organizations' names."""
        principal.require()
        event = await event_for(self.session, principal, event_id)
        query = (
            select(Meeting, MeetingRequest)
            .join(MeetingRequest, MeetingRequest.id == Meeting.meeting_request_id)
            .where(Meeting.event_id == event.id, Meeting.state != M.cancelled)
            .order_by(Meeting.slot.nulls_last(), Meeting.table_no, Meeting.created_at)
        )
        rows = [Row(meeting, request) for meeting, request in (await self.session.execute(query)).all()]
        if not self.sees_whole_grid(principal, event):
            rows = [row for row in rows if party_side(principal, row.meeting) is not None]
        ids = {row.meeting.institution_id for row in rows} | {row.meeting.company_id for row in rows}
        orgs = {org.id: org for org in await self.session.scalars(select(Organization).where(Organization.id.in_(ids)))}
        return event, slots_of(event), rows, orgs

    @staticmethod
    def sees_whole_grid(principal: Principal, event: Event) -> bool:
        """The organizer and the platform's people see every meeting; a team only its own."""
        return principal.is_platform or is_organizer(principal, event)

    async def may_run(self, principal: Principal, event: Event) -> bool:
        return principal.is_authenticated and is_organizer(principal, event) and event.state in SCHEDULING_STATES


Placing = NamedDependency[PlacingService]


async def provide_placing(db_session: DbSession) -> PlacingService:
    return PlacingService(db_session)
