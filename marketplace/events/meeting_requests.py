"""Meeting requests between registered teams of an event (the service `meeting_requests`): a
company asks an institution (about a listing the institution presents, or in general), an
institution asks a company (about a need the company brings, or in general); the asked team
accepts (naming who hosts) or declines with a reason, the asker withdraws, either team or the
organizer calls an accepted meeting off. Accepting creates the meeting; calling off cancels it and
frees its seats. While the event runs the organizer may also book a walk-in between two registered
teams (accepted at once) and an accepted meeting is placed in a free cell at once if one is left.

Limits: a team has at most `event.request_limit` live requests sent, counted with its
registration locked, so two submissions at once cannot both pass; the database's unique index on
the live pair turns a duplicate into a 409, whichever side asked first.
"""

from __future__ import annotations

import builtins
import uuid

from litestar.di import NamedDependency
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import DbSession, add_unless_taken
from marketplace.errors import Conflict, Duplicate, FieldError, Forbidden, NotFound, invalid
from marketplace.events.lifecycle import EVENT, MEETING_REQUEST, is_organizer, party_side
from marketplace.events.meeting_notices import MeetingNotices
from marketplace.events.meeting_schemas import MeetingRequestCreate, MeetingRequestTransitionIn
from marketplace.events.models import (
    LIVE_REQUEST_STATES,
    Attendee,
    BroughtNeed,
    Event,
    EventState,
    Meeting,
    MeetingRequest,
    Presentation,
    Registration,
    RegistrationState,
)
from marketplace.events.placing import drop_meeting, place_at_once
from marketplace.events.scoping import event_for, own_registration, sees_party_record
from marketplace.i18n import N_
from marketplace.tenancy import Principal
from marketplace.web import AppSettings

# While these last, teams may ask, answer and call off (walk-ins while the event runs).
OPEN_STATES = frozenset({EventState.registration_open, EventState.scheduling, EventState.running})
LIVE_PAIR = "uq_event_meeting_requests_live_pair"


def event_closed(event: Event) -> Conflict:
    return Conflict(
        N_("The event is “%(state)s”: its meeting requests can no longer change."), state=EVENT.state_label(event.state)
    )


class MeetingRequestsService:
    def __init__(self, session: AsyncSession, settings: Settings | None = None) -> None:
        self.session = session
        self.notices = MeetingNotices(session, settings)

    # ----- reading ------------------------------------------------------------------------------

    async def registrations(self, event: Event) -> dict[uuid.UUID, Registration]:
        rows = await self.session.scalars(select(Registration).where(Registration.event_id == event.id))
        return {row.id: row for row in rows}

    async def attendee_ids(self, registration_id: uuid.UUID) -> builtins.list[uuid.UUID]:
        rows = await self.session.scalars(select(Attendee.user_id).where(Attendee.registration_id == registration_id))
        return list(rows)

    async def list(self, principal: Principal, event_id: uuid.UUID) -> tuple[Event, builtins.list[MeetingRequest]]:
        """The organizer (and the platform's people) see every request of the event; a team sees
        those it sent and received; anyone else none."""
        principal.require()
        event = await event_for(self.session, principal, event_id)
        query = select(MeetingRequest).where(MeetingRequest.event_id == event.id)
        if not (principal.is_platform or is_organizer(principal, event)):
            own = await own_registration(self.session, principal, event)
            if own is None or party_side(principal, own) is None:
                return event, []
            query = query.where(or_(MeetingRequest.from_registration_id == own.id, MeetingRequest.to_registration_id == own.id))
        rows = await self.session.scalars(query.order_by(MeetingRequest.created_at.desc(), MeetingRequest.id))
        return event, list(rows)

    async def get(
        self, principal: Principal, event_id: uuid.UUID, request_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[Event, MeetingRequest]:
        principal.require()
        event = await event_for(self.session, principal, event_id)
        query = select(MeetingRequest).where(MeetingRequest.id == request_id, MeetingRequest.event_id == event.id)
        if for_update:
            query = query.with_for_update()
        request = await self.session.scalar(query.execution_options(populate_existing=True))
        if request is None or not sees_party_record(principal, event, request):
            raise NotFound()
        return event, request

    async def meetings_of(self, requests: builtins.list[MeetingRequest]) -> dict[uuid.UUID, Meeting]:
        if not requests:
            return {}
        rows = await self.session.scalars(select(Meeting).where(Meeting.meeting_request_id.in_([r.id for r in requests])))
        return {row.meeting_request_id: row for row in rows}

    # ----- asking -------------------------------------------------------------------------------

    async def _asking_registration(self, principal: Principal, event: Event, data: MeetingRequestCreate) -> Registration:
        """The caller's own registration (locked), or, for the organizer's walk-in, the one named."""
        if data.from_registration_id is not None:
            if not is_organizer(principal, event):
                raise Forbidden()
            if event.state != EventState.running:
                raise invalid("from_registration_id", N_("Only while the event is under way can the organizer book a walk-in."))
            found = await self.session.scalar(
                select(Registration).where(Registration.id == data.from_registration_id).with_for_update()
            )
            if found is None or found.event_id != event.id or found.state != RegistrationState.registered:
                raise invalid("from_registration_id", N_("Not a team registered for this event."))
            return found
        own = await own_registration(self.session, principal, event, for_update=True)
        if own is None:
            if principal.is_platform or party_side_kind(principal) is None:
                raise Forbidden()
            raise Conflict(N_("Your organization is not registered for this event."))
        if party_side(principal, own) is None:
            raise Forbidden()
        return own

    async def create(
        self, principal: Principal, event_id: uuid.UUID, data: MeetingRequestCreate, *, ip: str | None = None
    ) -> MeetingRequest:
        principal.require()
        event = await event_for(self.session, principal, event_id)
        asking = await self._asking_registration(principal, event, data)
        if event.state not in OPEN_STATES:
            raise event_closed(event)
        asked = await self.session.get(Registration, data.to_registration_id)
        if asked is None or asked.event_id != event.id or asked.state != RegistrationState.registered:
            raise invalid("to_registration_id", N_("Not a team registered for this event."))
        if asked.id == asking.id:
            raise invalid("to_registration_id", N_("A team does not ask itself for a meeting."))
        if asked.organization_kind == asking.organization_kind:
            raise invalid("to_registration_id", N_("A company meets an institution, and an institution a company."))
        await self._check_subject(asking, asked, data)
        requested_by = await self._asker_person(principal, asking, data.requested_by_user_id)
        sent = await self.session.scalar(
            select(func.count())
            .select_from(MeetingRequest)
            .where(MeetingRequest.from_registration_id == asking.id, MeetingRequest.state.in_(sorted(LIVE_REQUEST_STATES)))
        )
        if (sent or 0) >= event.request_limit:
            raise Conflict(
                N_("Your team has sent %(limit)s meeting requests that are still live: the event's limit."),
                FieldError("to_registration_id", N_("The limit of live requests is reached.")),
                limit=event.request_limit,
            )
        institution, company = (asking, asked) if asking.organization_kind == "institution" else (asked, asking)
        request = MeetingRequest(
            id=uuid.uuid4(),
            event_id=event.id,
            from_registration_id=asking.id,
            to_registration_id=asked.id,
            institution_id=institution.organization_id,
            company_id=company.organization_id,
            asked_by=asking.organization_kind,
            listing_id=data.listing_id,
            need_id=data.need_id,
            message=data.message.strip(),
            requested_by_user_id=requested_by,
        )
        if not await add_unless_taken(self.session, request, LIVE_PAIR):
            existing = await self.session.scalar(
                select(MeetingRequest.id).where(
                    MeetingRequest.event_id == event.id,
                    MeetingRequest.state.in_(sorted(LIVE_REQUEST_STATES)),
                    or_(
                        (MeetingRequest.from_registration_id == asking.id) & (MeetingRequest.to_registration_id == asked.id),
                        (MeetingRequest.from_registration_id == asked.id) & (MeetingRequest.to_registration_id == asking.id),
                    ),
                )
            )
            raise Duplicate(
                N_("These two teams already have a live meeting request."),
                FieldError("to_registration_id", N_("A request between these two teams is already live.")),
                existing=existing,
            )
        await audit.record(
            self.session,
            "meeting_request_create",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=request,
            ip=ip,
            event_id=str(event.id),
            to_registration_id=str(asked.id),
            walk_in=data.from_registration_id is not None,
        )
        if data.from_registration_id is not None:
            # A walk-in booked at the desk: both teams are there, so it is accepted at once.
            request.host_user_id = asked.contact_user_id or next(iter(await self.attendee_ids(asked.id)), None)
            await states.apply(self.session, MEETING_REQUEST, principal, request, "accept", context=event, ip=ip, as_system=True)
            await self._accepted(principal, event, request, ip)
            await self.notices.tell(event, request, "accept", asking, asked)
            await self.notices.tell(event, request, "created", asked, asking, request.message)
        else:
            await self.notices.tell(event, request, "created", asked, asking, request.message)
        return request

    async def _check_subject(self, asking: Registration, asked: Registration, data: MeetingRequestCreate) -> None:
        """A listing only from a company, one the institution presents here; a need only from an
        institution, one the company brings here."""
        if data.listing_id is not None and data.need_id is not None:
            raise invalid("need_id", N_("Ask about a listing or a need, not both."))
        if data.listing_id is not None:
            presented = await self.session.scalar(
                select(Presentation.id).where(
                    Presentation.registration_id == asked.id, Presentation.listing_id == data.listing_id
                )
            )
            if asking.organization_kind != "company" or presented is None:
                raise invalid("listing_id", N_("Not a listing this institution presents at the event."))
        if data.need_id is not None:
            brought = await self.session.scalar(
                select(BroughtNeed.need_id).where(BroughtNeed.registration_id == asked.id, BroughtNeed.need_id == data.need_id)
            )
            if asking.organization_kind != "institution" or brought is None:
                raise invalid("need_id", N_("Not a need this company brings to the event."))

    async def _asker_person(self, principal: Principal, asking: Registration, named: uuid.UUID | None) -> uuid.UUID:
        attending = await self.attendee_ids(asking.id)
        if named is not None:
            if named not in attending:
                raise invalid("requested_by_user_id", N_("Not one of the people your team brings to the event."))
            return named
        if principal.user_id in attending:
            return principal.signed_in_user_id
        if asking.contact_user_id in attending:
            return asking.contact_user_id
        if attending:
            return attending[0]
        raise invalid("requested_by_user_id", N_("Your team names nobody who comes to the event."))

    # ----- answering ----------------------------------------------------------------------------

    async def transition(
        self,
        principal: Principal,
        event_id: uuid.UUID,
        request_id: uuid.UUID,
        data: MeetingRequestTransitionIn,
        *,
        ip: str | None = None,
    ) -> MeetingRequest:
        """accept (naming the host; creates the meeting), decline (reason), withdraw, cancel (reason:
        its meeting is cancelled and its seats freed)."""
        event, request = await self.get(principal, event_id, request_id, for_update=True)
        declared = MEETING_REQUEST.action(data.action)
        if not MEETING_REQUEST.may(principal, request, declared, event):
            raise Forbidden()
        if event.state not in OPEN_STATES:
            raise event_closed(event)
        registrations = await self.registrations(event)
        asking, asked = registrations[request.from_registration_id], registrations[request.to_registration_id]
        if declared.name == "accept" and request.state in declared.sources:
            attending = await self.attendee_ids(asked.id)
            host = data.host_user_id or (asked.contact_user_id if asked.contact_user_id in attending else None)
            host = host or next(iter(attending), None)
            if host is None or host not in attending:
                raise invalid("host_user_id", N_("Not one of the people your team brings to the event."))
            request.host_user_id = host
        step = await states.apply(self.session, MEETING_REQUEST, principal, request, declared, data.reason, context=event, ip=ip)
        if declared.name == "accept":
            await self._accepted(principal, event, request, ip)
        if declared.name == "cancel":
            meeting = await self.session.scalar(select(Meeting).where(Meeting.meeting_request_id == request.id).with_for_update())
            if meeting is not None:
                await drop_meeting(self.session, principal, event, meeting, step.reason, ip=ip)
        # Tell the other team (the organizer's call-off: both teams).
        if "organizer" in step.sides and not ({"requester", "host"} & step.sides):
            told = [(asking, asked), (asked, asking)]
        elif "requester" in step.sides:
            told = [(asked, asking)]
        else:
            told = [(asking, asked)]
        for team, other in told:
            await self.notices.tell(event, request, declared.name, team, other, step.reason)
        return request

    async def _accepted(self, principal: Principal, event: Event, request: MeetingRequest, ip: str | None) -> None:
        meeting = Meeting(
            id=uuid.uuid4(),
            event_id=event.id,
            meeting_request_id=request.id,
            institution_id=request.institution_id,
            company_id=request.company_id,
        )
        self.session.add(meeting)
        await self.session.flush()
        await audit.record(
            self.session,
            "meeting_create",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=meeting,
            ip=ip,
            meeting_request_id=str(request.id),
        )
        if event.state == EventState.running:
            await place_at_once(self.session, principal, event, meeting, ip=ip)


def party_side_kind(principal: Principal) -> str | None:
    """The kind of team the caller's role may act for at an event (a TTO an institution's, a
    company's people a company's); inventors and platform roles none."""
    if principal.role in TTO_ROLES:
        return "institution"
    if principal.role in COMPANY_ROLES:
        return "company"
    return None


MeetingRequests = NamedDependency[MeetingRequestsService]


async def provide_meeting_requests(db_session: DbSession, settings: AppSettings) -> MeetingRequestsService:
    return MeetingRequestsService(db_session, settings)
