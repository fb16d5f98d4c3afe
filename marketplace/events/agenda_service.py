"""The agendas' service for the controllers: a participant's agenda and its file, the check-in and
the outcome, on the request's session (the rules live in agendas.py, checkin.py, outcomes.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.config import Settings
from marketplace.db import DbSession, utcnow
from marketplace.events import agendas, calendar_file, checkin, outcomes
from marketplace.events.agenda_schemas import OutcomeIn
from marketplace.events.models import Meeting
from marketplace.tenancy import Principal
from marketplace.web import AppSettings


class AgendaService:
    def __init__(self, session: AsyncSession, settings: Settings | None = None) -> None:
        self.session = session
        self.settings = settings

    async def agenda(self, principal: Principal, event_id: uuid.UUID, registration_id: uuid.UUID | None = None) -> agendas.Agenda:
        return await agendas.agenda(self.session, principal, event_id, registration_id)

    async def meeting(self, principal: Principal, event_id: uuid.UUID, meeting_id: uuid.UUID) -> agendas.AgendaMeeting:
        return await agendas.one_meeting(self.session, principal, event_id, meeting_id)

    async def calendar(self, principal: Principal, event_id: uuid.UUID, host: str, locale: str) -> tuple[bytes, str]:
        """The caller's agenda as an iCalendar file, and its file name."""
        found = await self.agenda(principal, event_id)
        counts = await calendar_file.sequences(self.session, [item.meeting.id for item in found.meetings])
        return calendar_file.build(found, host, locale, counts, utcnow()), calendar_file.filename(found.event)

    async def check_in(
        self, principal: Principal, event_id: uuid.UUID, meeting_id: uuid.UUID, *, ip: str | None = None
    ) -> Meeting:
        return await checkin.check_in(self.session, principal, event_id, meeting_id, ip=ip)

    async def record_outcome(
        self,
        principal: Principal,
        event_id: uuid.UUID,
        meeting_id: uuid.UUID,
        data: OutcomeIn,
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> Meeting:
        return await outcomes.record_outcome(self.session, self.settings, principal, event_id, meeting_id, data, now=now, ip=ip)


Agendas = NamedDependency[AgendaService]


async def provide_agendas(db_session: DbSession, settings: AppSettings) -> AgendaService:
    return AgendaService(db_session, settings)
