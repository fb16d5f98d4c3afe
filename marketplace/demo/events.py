"""The demo's matchmaking events (data/events.yaml): a past event with its roadshow, meetings placed
in slots and tables, check-ins, outcomes, the match requests the meetings opened (one taken to an
agreement and its licence), and an upcoming event open for registration.

Rows are inserted in their machines' initial states and moved by marketplace.states.apply on the
day the file gives, so the database's state triggers see only declared moves and the audit trail
holds every step (the events' services are not the demo's to wait for; these are their tables).
Match requests and the licence go through the matching and licensing services, as the demo's others
do. Seats are written for every holder of a placed meeting: the primary key refuses a double booking."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.audit import services as audit
from marketplace.db import CHINA_TIME
from marketplace.demo.licensing import HistoryDays, load_agreement
from marketplace.demo.tables import table
from marketplace.events.lifecycle import EVENT, MEETING, MEETING_REQUEST
from marketplace.events.models import (
    Attendee,
    BroughtNeed,
    Event,
    EventState,
    Meeting,
    MeetingRequest,
    Presentation,
    Registration,
    Seat,
)
from marketplace.events.slots import slot_count, slots_of
from marketplace.tenancy import Principal

DATA = table("events")
ADMIN = "admin@demo.example"
OPEN_MATCH_STATES = ("submitted", "under_review", "info_requested", "accepted", "negotiating")
_STEP_ENDS = {"review": "under_review", "accept": "accepted", "start_negotiation": "negotiating"}


def event_match_states() -> dict[str, int]:
    """How many match requests the demo's meetings open, by the state they end in."""
    ends: dict[str, int] = {}
    for item in DATA["past"]["requests"]:
        if "match" not in item:
            continue
        state, agreed = "submitted", 0
        for step in item["match"].get("steps", ()):
            agreed += step["action"] == "agree"
            state = "agreed" if agreed == 2 else _STEP_ENDS.get(step["action"], state)
        ends[state] = ends.get(state, 0) + 1
    return ends


async def load_demo_events(session: AsyncSession, organizations: dict[str, uuid.UUID], now: datetime) -> int:
    """Both events; `organizations` maps every organization's Chinese name to its id. Returns the
    meetings made."""
    demo = HistoryDays(session, organizations, now)
    admin = await demo.person(ADMIN)
    made = await _Loader(demo, admin, DATA["past"]).run(EventState.closed)
    made += await _Loader(demo, admin, DATA["upcoming"]).run(EventState.registration_open)
    await session.flush()
    return made


class _Loader:
    def __init__(self, demo: HistoryDays, admin: Principal, data: dict[str, Any]) -> None:
        self.demo, self.admin, self.data = demo, admin, data
        self.session = demo.session
        self.starts_on = demo.day(data["starts_days_ago"])
        self.registrations: dict[str, Registration] = {}
        self.people: dict[str, list[Principal]] = {}
        self.presented: dict[str, list[uuid.UUID]] = {}
        self.needs: dict[str, list[uuid.UUID]] = {}
        self.meetings: list[tuple[dict[str, Any], MeetingRequest, Meeting]] = []

    def days_before(self, days: float, hour: int = 10) -> datetime:
        """A moment `days` before the event's first day (China time), never after the load."""
        return self.demo.on(self.starts_on - timedelta(days=days), hour)

    async def run(self, final: EventState) -> int:
        event = await self._event()
        for index, (key, row) in enumerate(self.data["participants"].items()):
            await self._register(
                event, key, row, self.days_before(self.data["opened_days_before"] - 1 - index // 3, 9 + index % 3)
            )
        for item in self.data["requests"]:
            await self._request(event, item)
        if final == EventState.closed:
            await self._hold(event)
        return len(self.meetings)

    # ----- the event and who registered ------------------------------------------------------------

    async def _event(self) -> Event:
        data = self.data
        first, last = (time.fromisoformat(h) for h in data["hours"])
        created = self.days_before(data["opened_days_before"] + 2)
        event = Event(
            id=uuid.uuid4(),
            organizer_id=self.admin.organization_id,
            created_by_user_id=self.admin.user_id,
            state_changed_at=created,
            starts_on=self.starts_on,
            ends_on=self.starts_on + timedelta(days=data["days"] - 1),
            day_starts_at=first,
            day_ends_at=last,
            registration_deadline=datetime.combine(
                self.starts_on - timedelta(days=data["deadline_days_before"]), time(18), CHINA_TIME
            ),
            **{k: data[k] for k in ("title", "title_en", "description", "venue", "areas", "tables", "capacity")},
            slot_minutes=data["slot_minutes"],
            talk_minutes=data["talk_minutes"],
            request_limit=data["request_limit"],
        )
        self.session.add(event)
        await self.session.flush()
        await self._audit("event_created", self.admin, event, created, after=event.state)
        opened = self.days_before(data["opened_days_before"])
        await states.apply(self.session, EVENT, self.admin, event, "open_registration", now=opened)
        return event

    async def _register(self, event: Event, key: str, row: dict[str, Any], when: datetime) -> None:
        organization_id = self.demo.institutions[row["name"]]
        people = [await self.demo.person(email, organization_id) for email in row["people"]]
        contact = people[0]
        registration = Registration(
            id=uuid.uuid4(),
            event_id=event.id,
            organization_id=organization_id,
            organization_kind=contact.org_kind,
            contact_user_id=contact.user_id,
            registered_by_user_id=contact.user_id,
            available_slots=[s for s in range(slot_count(event)) if s not in row.get("busy", ())],
            state_changed_at=when,
        )
        self.session.add(registration)
        await self.session.flush()
        self.session.add_all(Attendee(registration_id=registration.id, user_id=p.user_id) for p in people)
        await self._audit("event_registered", contact, registration, when, after=registration.state)
        self.registrations[key], self.people[key] = registration, people
        if contact.org_kind == "institution":
            self.presented[key] = await self._present(event, registration, row.get("presents", 0))
        else:
            self.needs[key] = list(await self.session.scalars(_brought_needs(organization_id)))
            self.session.add_all(BroughtNeed(registration_id=registration.id, need_id=n) for n in self.needs[key])

    async def _present(self, event: Event, registration: Registration, count: int) -> list[uuid.UUID]:
        """The institution's first `count` published results (by title, the event's themes first)
        that no open match request or licence holds, in the roadshow after those already in it."""
        from marketplace.catalog.models import Listing, ListingArea
        from marketplace.licensing.models import AgreementResult
        from marketplace.matching.requests.models import MatchRequest

        # Not under licence, and no open request on it (the meetings' requests will be the open ones).
        # (NOT IN a list holding a NULL is never true: requests without a listing are left out.)
        open_requests = select(MatchRequest.listing_id).where(
            MatchRequest.listing_id.is_not(None), MatchRequest.state.in_(OPEN_MATCH_STATES)
        )
        taken = select(Presentation.listing_id).union(open_requests, select(AgreementResult.listing_id))
        themed = Listing.id.in_(select(ListingArea.listing_id).where(ListingArea.area_code.in_(event.areas)))
        found = list(
            await self.session.scalars(
                select(Listing.id)
                .where(
                    Listing.institution_id == registration.organization_id,
                    Listing.status == "published",
                    Listing.kind == "result",
                    Listing.id.not_in(taken),
                )
                # The event's themes first; an institution with too few presents its other results.
                .order_by(themed.desc(), Listing.title_zh)
                .limit(count)
            )
        )
        assert len(found) == count, f"demo events: {registration.organization_id} has {len(found)} results to present"
        position = sum(len(v) for v in self.presented.values())
        self.session.add_all(
            Presentation(
                event_id=event.id,
                registration_id=registration.id,
                listing_id=listing,
                position=position + i,
                minutes=event.talk_minutes,
            )
            for i, listing in enumerate(found)
        )
        await self.session.flush()
        return found

    # ----- meeting requests ------------------------------------------------------------------------

    async def _request(self, event: Event, item: dict[str, Any]) -> None:
        asking, asked = self.registrations[item["from"]], self.registrations[item["to"]]
        asker = (
            next(p for p in self.people[item["from"]] if p.email == item["by"]) if "by" in item else self.people[item["from"]][0]
        )
        host = self.people[item["to"]][0]
        institution, company = (asking, asked) if asking.organization_kind == "institution" else (asked, asking)
        sent = self.demo.at(item["days_ago"])
        request = MeetingRequest(
            id=uuid.uuid4(),
            event_id=event.id,
            from_registration_id=asking.id,
            to_registration_id=asked.id,
            institution_id=institution.organization_id,
            company_id=company.organization_id,
            asked_by=asking.organization_kind,
            listing_id=self.presented[item["to"]][item["listing"]] if "listing" in item else None,
            need_id=_nth(self.needs.get(item["to"], []), item.get("need")),
            message=item.get("message", "希望在对接会上面谈合作方式。"),
            requested_by_user_id=asker.user_id,
            state_changed_at=sent,
        )
        self.session.add(request)
        await self.session.flush()
        await self._audit("meeting_request_create", asker, request, sent, context_id=event.id, after=request.state)
        answered = self.demo.at(item["days_ago"] - 0.5)
        state = item["state"]
        if state == "withdrawn":
            await states.apply(self.session, MEETING_REQUEST, asker, request, "withdraw", context=event, now=answered)
        elif state == "declined":
            await states.apply(
                self.session, MEETING_REQUEST, host, request, "decline", item["reason"], context=event, now=answered
            )
        elif state == "accepted":
            request.host_user_id = host.user_id
            await states.apply(self.session, MEETING_REQUEST, host, request, "accept", context=event, now=answered)
            meeting = Meeting(
                id=uuid.uuid4(),
                event_id=event.id,
                meeting_request_id=request.id,
                institution_id=request.institution_id,
                company_id=request.company_id,
                state_changed_at=answered,
            )
            self.session.add(meeting)
            await self.session.flush()
            self.meetings.append((item, request, meeting))

    # ----- the past event: scheduled, held, closed, followed up ---------------------------------------

    async def _hold(self, event: Event) -> None:
        session, demo = self.session, self.demo
        deadline = event.registration_deadline
        await states.apply(session, EVENT, None, event, "deadline_passed", now=deadline, as_system=True)
        slots = slots_of(event)
        tables: dict[int, int] = {}
        placed_at = deadline + timedelta(days=1)
        for item, request, meeting in self.meetings:
            slot = item["slot"]
            for registration in (self.registrations[item["from"]], self.registrations[item["to"]]):
                assert slot in registration.available_slots, f"demo events: {item} is outside a side's free slots"
            meeting.slot, meeting.table_no = slot, tables.get(slot, 0)
            tables[slot] = meeting.table_no + 1
            institution_team = request.from_registration_id if request.asked_by == "institution" else request.to_registration_id
            for holder in (request.requested_by_user_id, request.host_user_id, institution_team):
                session.add(Seat(event_id=event.id, slot=slot, holder_id=holder, meeting_id=meeting.id))
            await states.apply(session, MEETING, None, meeting, "place", context=event, now=placed_at, as_system=True)
        started = self.days_before(1)
        await states.apply(session, EVENT, self.admin, event, "start", now=started)
        for _item, _request, meeting in self.meetings:
            await states.apply(session, MEETING, None, meeting, "confirm", context=event, now=started, as_system=True)
        for item, request, meeting in self.meetings:
            if "checked_in" not in item:
                continue
            at = slots[item["slot"]].starts_at + timedelta(minutes=2)
            side = item["checked_in"]
            setattr(meeting, f"{side}_checked_in_at", at)
            await states.apply(session, MEETING, self._side(item, request, side), meeting, "check_in", context=event, now=at)
        closed = demo.on(event.ends_on + timedelta(days=1))
        await states.apply(session, EVENT, self.admin, event, "close", now=closed)
        for item, _request, meeting in self.meetings:
            if "checked_in" not in item:  # a missed meeting keeps its cell but frees its seats
                await session.execute(delete(Seat).where(Seat.meeting_id == meeting.id))
                await states.apply(session, MEETING, None, meeting, "miss", context=event, now=closed, as_system=True)
        for item, request, meeting in self.meetings:
            if "outcome" in item:
                await self._outcome(event, item, request, meeting, closed + timedelta(days=1))

    def _side(self, item: dict[str, Any], request: MeetingRequest, side: str) -> Principal:
        """The person attending for `side` (institution | company) of the meeting."""
        asking_side = request.asked_by
        key = item["from"] if side == asking_side else item["to"]
        wanted = request.requested_by_user_id if side == asking_side else request.host_user_id
        return next(p for p in self.people[key] if p.user_id == wanted)

    async def _outcome(
        self, event: Event, item: dict[str, Any], request: MeetingRequest, meeting: Meeting, when: datetime
    ) -> None:
        outcome = item["outcome"]
        if "match" in item:
            meeting.match_request_id = await self._match(item, request, self._side(item, request, "company"), when)
        for side in ("institution", "company"):
            setattr(meeting, f"{side}_outcome", outcome[side])
            setattr(meeting, f"{side}_note", outcome.get("note", "") if side == "company" else "")
            person = self._side(item, request, side)
            # As outcomes.py records it: the side, its outcome and the match request it opened.
            await self._audit(
                "meeting_outcome_recorded",
                person,
                meeting,
                when,
                context_id=event.id,
                side=side,
                outcome=outcome[side],
                match_request_id=meeting.match_request_id if side == "company" else None,
            )

    async def _match(self, item: dict[str, Any], request: MeetingRequest, company: Principal, when: datetime) -> uuid.UUID:
        """The match request the company opens from the meeting (its NDA accepted), its steps, and
        the licence drafted from it once agreed."""
        from marketplace.matching.requests.models import EngagementType
        from marketplace.matching.requests.schemas import MatchRequestCreate
        from marketplace.matching.requests.services import MatchingService

        match = item["match"]
        assert request.listing_id is not None, "demo events: a match request is about the listing the meeting was asked about"
        service = MatchingService(self.session)
        low, high = match.get("budget_wan", (None, None))
        data = MatchRequestCreate(
            listing_id=request.listing_id,
            engagement_type=EngagementType(match["engagement"]),
            purpose=match["purpose"],
            timeline=match.get("timeline", "三个月内完成评估"),
            budget_min_fen=None if low is None else low * 1_000_000,
            budget_max_fen=None if high is None else high * 1_000_000,
            message="来自对接会洽谈：" + self.data["title"],
            nda_version=await service.catalog.current_nda_version(),
            accept_nda=True,
        )
        created = await service.create(company, data, now=when)
        for step in match.get("steps", ()):
            actor = await self.demo.person(step["by"], None)
            await service.transition(
                actor, created.id, step["action"], step.get("reason", ""), now=self.demo.at(step["days_ago"])
            )
        if "agreement" in item:
            institution = next(name for name, i in self.demo.institutions.items() if i == request.institution_id)
            terms = {**item["agreement"], "institution": institution, "company": company.email}
            await load_agreement(self.session, self.demo.institutions, self.demo.now, terms, created.id)
        return created.id

    async def _audit(self, action: str, person: Principal, subject: Any, when: datetime, **data: Any) -> None:
        event = await audit.record(
            self.session, action, actor_user_id=person.user_id, organization_id=person.organization_id, subject=subject, **data
        )
        event.occurred_at = when


def _nth(rows: list[uuid.UUID], index: int | None) -> uuid.UUID | None:
    return rows[index] if index is not None and index < len(rows) else None


def _brought_needs(organization_id: uuid.UUID) -> Any:
    """The company's published needs (open, awarded or closed), oldest first, that it brings."""
    from marketplace.matching.needs.models import Need

    return (
        select(Need.id)
        .where(Need.organization_id == organization_id, Need.state.in_(("open", "awarded", "closed")))
        .order_by(Need.opened_at, Need.id)
        .limit(2)
    )
