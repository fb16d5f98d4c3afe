"""Events run by an organizer: a platform admin (the platform organizes) or an institution's TTO
(its own open day). Creating and editing with every field checked, the event's steps, and who sees
which events. The registrations are registrations.py; `EventService` joins the two for the
controllers and the jobs."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar.di import NamedDependency
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms, states
from marketplace.accounts.models import TTO_ROLES, Organization, Role
from marketplace.audit import services as audit
from marketplace.catalog.models import TherapeuticArea
from marketplace.db import CHINA_TIME, DbSession, china_today, utcnow
from marketplace.errors import FieldError, Forbidden, InvalidInput, NotFound
from marketplace.events import scoping
from marketplace.events.consequences import after_event_step
from marketplace.events.lifecycle import EVENT, is_organizer
from marketplace.events.models import MAX_EVENT_DAYS, Event, EventState
from marketplace.events.registrations import Registrations
from marketplace.events.schemas import EventIn, EventOut, EventUpdate, SlotOut
from marketplace.events.slots import per_day, slots_of
from marketplace.i18n import N_
from marketplace.tenancy import Principal

log = logging.getLogger(__name__)

EDITABLE_STATES = frozenset({EventState.draft, EventState.registration_open})
# Registrations store slot numbers: what numbers the slots may change only before anyone registers.
SLOT_FIELDS = ("starts_on", "ends_on", "day_starts_at", "day_ends_at", "slot_minutes")
TEXT_FIELDS = ("title", "title_en", "description", "venue", "online_url")
LIST_LIMIT = 200
OPENING = frozenset({"open_registration", "reopen_registration"})


def may_organize(principal: Principal) -> bool:
    return principal.role == Role.platform_admin or principal.role in TTO_ROLES


def first_start(event: Any) -> datetime:
    return datetime.combine(event.starts_on, event.day_starts_at, tzinfo=CHINA_TIME)


def _url_ok(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def _table_names(values: dict) -> tuple[list[str] | None, list[FieldError]]:
    """The tables by name, or numbered from a count; names unique and not blank."""
    tables, count = values.pop("tables", None), values.pop("table_count", None)
    if tables is None and count is None:
        return None, [FieldError("tables", N_("Name the meeting tables, or give how many there are."))]
    if tables is None:
        return [str(n) for n in range(1, count + 1)], []
    names = [name.strip() for name in tables]
    if any(not name for name in names):
        return None, [FieldError("tables", N_("A table needs a name."))]
    if len(set(names)) != len(names):
        return None, [FieldError("tables", N_("Two tables have the same name."))]
    return names, []


class EventAdmin:
    """Mixed into EventService."""

    session: AsyncSession

    async def area_codes(self) -> dict[str, TherapeuticArea]:
        rows = await self.session.scalars(select(TherapeuticArea).order_by(TherapeuticArea.position))
        return {area.code: area for area in rows}

    async def area_list(self) -> list[TherapeuticArea]:
        return list((await self.area_codes()).values())

    @staticmethod
    def require_organizer_role(principal: Principal) -> None:
        """The roles that may organize an event (403 for the others)."""
        principal.require()
        if not may_organize(principal):
            raise Forbidden()

    async def _check(self, values: dict, event: Event | None, now: datetime) -> list[FieldError]:
        """Every rule of the fields together (msgspec already checked each one's type and size)."""
        errors = forms.control_character_errors({k: values[k] for k in TEXT_FIELDS if k in values})
        errors += forms.control_character_errors({"areas": values.get("areas", []), "tables": values.get("tables", [])})
        if not values["title"].strip():
            errors.append(FieldError("title", forms.REQUIRED))
        starts_on, ends_on = values["starts_on"], values["ends_on"]
        if ends_on < starts_on:
            errors.append(FieldError("ends_on", N_("Must not be before the first day.")))
        elif (ends_on - starts_on).days >= MAX_EVENT_DAYS:
            errors.append(FieldError("ends_on", N_("An event lasts at most %(days)s days."), {"days": MAX_EVENT_DAYS}))
        if values["day_ends_at"] <= values["day_starts_at"]:
            errors.append(FieldError("day_ends_at", N_("Must be after the start of the meeting hours.")))
        elif per_day(values["day_starts_at"], values["day_ends_at"], values["slot_minutes"]) < 1:
            errors.append(FieldError("slot_minutes", N_("Not one slot fits into the meeting hours.")))
        deadline = values["registration_deadline"]
        if deadline >= datetime.combine(starts_on, values["day_starts_at"], tzinfo=CHINA_TIME):
            errors.append(FieldError("registration_deadline", N_("Must be before the event starts.")))
        elif (event is None or deadline != event.registration_deadline) and deadline <= now:
            errors.append(FieldError("registration_deadline", N_("Must be in the future.")))
        if event is None and starts_on > now.date() + timedelta(days=3 * 365):
            errors.append(FieldError("starts_on", N_("Must be within three years.")))
        venue, url = values["venue"].strip(), values["online_url"].strip()
        if not venue and not url:
            errors.append(FieldError("venue", N_("Give a venue, an online link, or both.")))
        if url and not _url_ok(url):
            errors.append(FieldError("online_url", N_("Must be a web address starting with http:// or https://.")))
        known = await self.area_codes()
        for index, code in enumerate(values["areas"]):
            if code not in known:
                errors.append(FieldError(f"areas[{index}]", N_("Not a therapeutic area of the catalogue.")))
        if event is not None and values["capacity"] < event.registered:
            errors.append(FieldError("capacity", N_("%(count)s teams are registered already."), {"count": event.registered}))
        return errors

    async def _organizer_org(self, principal: Principal) -> uuid.UUID:
        if not may_organize(principal) or principal.organization_id is None:
            raise Forbidden()
        return principal.organization_id

    async def create_event(self, principal: Principal, data: EventIn, *, ip: str | None = None) -> Event:
        """A draft event; the platform admin's is the platform's, a TTO's is its institution's open day."""
        principal.require()
        organizer_id = await self._organizer_org(principal)
        values = msgspec.structs.asdict(data)
        tables, errors = _table_names(values)
        errors = await self._check(values, None, utcnow()) + errors
        if errors:
            raise InvalidInput(*errors)
        assert tables is not None
        event = Event(
            id=uuid.uuid4(),
            organizer_id=organizer_id,
            tables=tables,
            created_by_user_id=principal.user_id,
            **{k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()},
        )
        self.session.add(event)
        await self.session.flush()
        await audit.record(
            self.session, "event_created", actor_user_id=principal.user_id, organization_id=organizer_id, subject=event, ip=ip
        )
        return event

    async def organized_event(self, principal: Principal, event_id: uuid.UUID, *, for_update: bool = False) -> Event:
        """The event, for its organizer only (404 beyond sight, 403 for one who only reads it)."""
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id, for_update=for_update)
        if not principal.is_authenticated or not is_organizer(principal, event):
            raise Forbidden()
        return event

    async def update_event(self, principal: Principal, event_id: uuid.UUID, data: EventUpdate, *, ip: str | None = None) -> Event:
        principal.require()
        event = await self.organized_event(principal, event_id, for_update=True)
        if event.state not in EDITABLE_STATES:
            raise InvalidInput(FieldError("state", N_("An event can be edited only as a draft or while registration is open.")))
        given = {f: v for f in EventUpdate.__struct_fields__ if (v := getattr(data, f)) is not msgspec.UNSET}
        errors: list[FieldError] = []
        if event.state != EventState.draft:
            errors += [
                FieldError(f, N_("Days, hours and slot length change only while the event is a draft."))
                for f in SLOT_FIELDS
                if f in given and given[f] != getattr(event, f)
            ]
        current = {f: getattr(event, f) for f in EventIn.__struct_fields__ if f not in ("tables", "table_count")}
        values = {**current, **given}
        tables = event.tables
        if "tables" in given or "table_count" in given:
            named, table_errors = _table_names(values)
            errors += table_errors
            tables = named or tables
        values.pop("tables", None), values.pop("table_count", None)
        errors = await self._check(values, event, utcnow()) + errors
        if errors:
            raise InvalidInput(*errors)
        before = {f: str(getattr(event, f)) for f in given if f != "table_count"}
        for field, value in values.items():
            setattr(event, field, value.strip() if isinstance(value, str) else value)
        event.tables = tables
        await self.session.flush()
        await audit.record(
            self.session,
            "event_updated",
            actor_user_id=principal.user_id,
            organization_id=event.organizer_id,
            subject=event,
            ip=ip,
            before=before,
        )
        return event

    async def transition_event(
        self, principal: Principal, event_id: uuid.UUID, action: str, reason: str = "", *, ip: str | None = None
    ) -> Event:
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id, for_update=True)
        if action not in EVENT.actions or EVENT.actions[action].by_system:
            raise InvalidInput(FieldError("action", N_("Unknown step.")))
        if errors := forms.control_character_errors({"reason": reason}):
            raise InvalidInput(*errors)
        now = utcnow()
        # Opening past the deadline would only be closed again by the job: move the deadline first.
        if action in OPENING and event.registration_deadline <= now and EVENT.may(principal, event, EVENT.actions[action]):
            raise InvalidInput(FieldError("registration_deadline", N_("The registration deadline has passed: move it first.")))
        await states.apply(self.session, EVENT, principal, event, action, reason, now=now, ip=ip)
        await after_event_step(self.session, event, action, principal, now)
        return event

    async def get_event(self, principal: Principal, event_id: uuid.UUID) -> Event:
        return await scoping.event_for(self.session, principal, event_id)

    async def list_events(self, principal: Principal, *, when: str | None = None, state: str | None = None) -> list[Event]:
        """Upcoming (soonest first) then past (latest first) events the caller sees; the organizer's
        drafts among them."""
        principal.require()
        seen: ColumnElement[bool]
        if principal.role == Role.platform_admin:
            seen = true()
        elif principal.role in TTO_ROLES:
            seen = or_(Event.state != EventState.draft, Event.organizer_id == principal.organization_id)
        else:
            seen = Event.state != EventState.draft
        query = select(Event).where(seen)
        if state:
            query = query.where(Event.state == state)
        today = china_today()
        upcoming = list(
            await self.session.scalars(query.where(Event.ends_on >= today).order_by(Event.starts_on, Event.id).limit(LIST_LIMIT))
        )
        past = list(
            await self.session.scalars(
                query.where(Event.ends_on < today).order_by(Event.starts_on.desc(), Event.id).limit(LIST_LIMIT)
            )
        )
        if when == "upcoming":
            return upcoming
        if when == "past":
            return past
        return upcoming + past

    async def event_out(self, principal: Principal, event: Event) -> EventOut:
        organizer = await self.session.get(Organization, event.organizer_id)
        own = await scoping.own_registration(self.session, principal, event) if principal.is_authenticated else None
        return EventOut(
            id=event.id,
            organizer_id=event.organizer_id,
            organizer_name=organizer.name_zh if organizer else "",
            title=event.title,
            title_en=event.title_en,
            description=event.description,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            day_starts_at=event.day_starts_at,
            day_ends_at=event.day_ends_at,
            slot_minutes=event.slot_minutes,
            talk_minutes=event.talk_minutes,
            venue=event.venue,
            online_url=event.online_url,
            areas=list(event.areas),
            tables=list(event.tables),
            registration_deadline=event.registration_deadline,
            capacity=event.capacity,
            registered=event.registered,
            request_limit=event.request_limit,
            state=event.state,
            state_reason=event.state_reason,
            slots=[SlotOut(s.number, s.day, s.starts_at, s.ends_at) for s in slots_of(event)],
            actions=states.actions(EVENT, principal, event) if principal.is_authenticated else [],
            own_registration_id=own.id if own else None,
        )


async def close_registrations(sessionmaker, now: datetime | None = None) -> int:
    """Events whose registration deadline passed move to scheduling (the system's `deadline_passed`),
    one transaction each: one that fails is logged and retried next run, the others go on."""
    now = now or utcnow()
    async with sessionmaker() as session:
        due = list(
            await session.scalars(
                select(Event.id)
                .where(Event.state == EventState.registration_open, Event.registration_deadline <= now)
                .order_by(Event.registration_deadline, Event.id)
            )
        )
    closed = 0
    for event_id in due:
        try:
            async with sessionmaker() as session, session.begin():
                event = await session.scalar(
                    select(Event)
                    .where(Event.id == event_id, Event.state == EventState.registration_open, Event.registration_deadline <= now)
                    .with_for_update(skip_locked=True)
                )
                if event is None:
                    continue
                await states.apply(session, EVENT, None, event, "deadline_passed", now=now, as_system=True)
                await after_event_step(session, event, "deadline_passed", None, now)
            closed += 1
        except Exception:  # the next run retries it
            log.exception("events: closing the registration of event %s failed", event_id)
    return closed


async def close_registrations_job(settings, sessionmaker) -> None:
    """The worker's job (marketplace/worker.py)."""
    closed = await close_registrations(sessionmaker)
    if closed:
        log.info("closed the registration of %d event(s) past their deadline", closed)


class EventService(EventAdmin, Registrations):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


Events = NamedDependency[EventService]


async def provide_events(db_session: DbSession) -> EventService:
    return EventService(db_session)


__all__ = ["EventService", "Events", "NotFound", "close_registrations", "provide_events"]
