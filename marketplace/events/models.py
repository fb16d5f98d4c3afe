"""Tables of matchmaking events (医企融合对接会): the event, its registrations (an institution's or a
company's team, its people, the listings it presents and the needs it brings), one-to-one meeting
requests between registrations, and the meetings the accepted ones become.

The rules PostgreSQL keeps as well as the code:
- capacity: `events.registered` counts the live registrations (kept by the trigger on
  `event_registrations`, migration 0022) and a CHECK keeps it within `capacity`, so two teams
  registering at once cannot pass it;
- no table is double-booked: one live meeting per (event, slot, table);
- no person and no institution team is double-booked: a placed meeting holds a seat per holder and
  slot in `event_meeting_seats`, whose primary key is (event, slot, holder);
- one live meeting request per pair of registrations.

Slots are numbered from 0 across the event's days (slots.py turns a number into a time), so a
placement is two small integers and the solver needs no calendar.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values

MAX_EVENT_DAYS = 7
MAX_TABLES = 200
MAX_CAPACITY = 5_000


class EventState(enum.StrEnum):
    draft = "draft"
    registration_open = "registration_open"
    scheduling = "scheduling"  # registration closed; the organizer places the meetings
    running = "running"  # the schedule is published; meetings are held and checked in
    closed = "closed"  # outcomes may still be recorded
    cancelled = "cancelled"


class Event(UUIDPrimaryKey, Timestamps, Base):
    """A matchmaking event run by the platform or by an institution (its own open day)."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(in_values("state", EventState), name="state"),
        CheckConstraint("length(btrim(title)) > 0", name="title_given"),
        CheckConstraint(f"ends_on >= starts_on AND ends_on - starts_on < {MAX_EVENT_DAYS}", name="dates_order"),
        CheckConstraint("day_ends_at > day_starts_at", name="hours_order"),
        CheckConstraint("slot_minutes BETWEEN 10 AND 120", name="slot_minutes_range"),
        CheckConstraint("talk_minutes BETWEEN 3 AND 60", name="talk_minutes_range"),
        CheckConstraint(f"cardinality(tables) BETWEEN 1 AND {MAX_TABLES}", name="tables_given"),
        CheckConstraint(f"capacity BETWEEN 2 AND {MAX_CAPACITY}", name="capacity_range"),
        CheckConstraint("registered >= 0 AND registered <= capacity", name="registered_within_capacity"),
        CheckConstraint("request_limit BETWEEN 1 AND 100", name="request_limit_range"),
        CheckConstraint("venue <> '' OR online_url <> ''", name="venue_or_link"),
        Index("ix_events_state_starts", "state", "starts_on"),
    )

    # The platform (or the institution that runs its own open day).
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The hours of one-to-one meetings each day (China time); the roadshow comes before them.
    day_starts_at: Mapped[time] = mapped_column(Time)
    day_ends_at: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(SmallInteger)
    talk_minutes: Mapped[int] = mapped_column(SmallInteger, default=8, server_default="8")
    venue: Mapped[str] = mapped_column(String(200), default="", server_default="")
    online_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Therapeutic-area codes (catalog's vocabulary).
    areas: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    # The meeting tables or rooms, by name; a placement names one by its position here.
    tables: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    registration_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    registered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Meeting requests a registration may have sent and not withdrawn.
    request_limit: Mapped[int] = mapped_column(SmallInteger, default=15, server_default="15")
    state: Mapped[str] = mapped_column(String(20), default=EventState.draft, server_default="draft")
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RegistrationState(enum.StrEnum):
    registered = "registered"
    cancelled = "cancelled"


class Registration(UUIDPrimaryKey, Timestamps, Base):
    """An organization's team at an event: who comes, when they are free to meet, what they bring."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organization_id", "organization_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_event_registrations_org",
        ),
        CheckConstraint("organization_kind IN ('institution', 'company')", name="organization_kind"),
        CheckConstraint(in_values("state", RegistrationState), name="state"),
        UniqueConstraint("event_id", "organization_id", name="uq_event_registrations_event_org"),
        # The meetings' foreign keys name (registration, event) so a meeting cannot join two events.
        UniqueConstraint("id", "event_id", name="uq_event_registrations_id_event"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(index=True)
    organization_kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20), default=RegistrationState.registered, server_default="registered")
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The person the other side hears from; one of the attendees.
    contact_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The slot numbers (slots.py) in which the team is free to meet.
    available_slots: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list, server_default="{}")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    registered_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Attendee(Base):
    """A person of the registered organization who comes to the event."""

    __tablename__ = "event_attendees"

    registration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class Presentation(UUIDPrimaryKey, Base):
    """A listing an institution presents in the roadshow, in the event's order."""

    __tablename__ = "event_presentations"
    __table_args__ = (
        UniqueConstraint("registration_id", "listing_id", name="uq_event_presentations_listing"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("minutes BETWEEN 3 AND 60", name="minutes_range"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(SmallInteger)


class BroughtNeed(Base):
    """A need a company brings to the event for institutions to ask about."""

    __tablename__ = "event_registration_needs"

    registration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"), primary_key=True)
    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("needs.id", ondelete="RESTRICT"), primary_key=True, index=True)


class MeetingRequestState(enum.StrEnum):
    requested = "requested"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"
    cancelled = "cancelled"  # accepted, then called off by either side


LIVE_REQUEST_STATES = frozenset({MeetingRequestState.requested, MeetingRequestState.accepted})


class MeetingRequest(UUIDPrimaryKey, Timestamps, Base):
    """One registration asks another for a one-to-one meeting: a company an institution (about a
    listing it presents, or in general), or an institution a company (about a need it brings)."""

    __tablename__ = "event_meeting_requests"
    __table_args__ = (
        ForeignKeyConstraint(
            ["from_registration_id", "event_id"],
            ["event_registrations.id", "event_registrations.event_id"],
            name="fk_event_meeting_requests_from",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["to_registration_id", "event_id"],
            ["event_registrations.id", "event_registrations.event_id"],
            name="fk_event_meeting_requests_to",
            ondelete="CASCADE",
        ),
        CheckConstraint(in_values("state", MeetingRequestState), name="state"),
        CheckConstraint("from_registration_id <> to_registration_id", name="not_to_itself"),
        CheckConstraint("asked_by IN ('institution', 'company')", name="asked_by"),
        CheckConstraint("listing_id IS NULL OR need_id IS NULL", name="one_subject"),
        # One live request per pair, whichever side asked.
        Index(
            "uq_event_meeting_requests_live_pair",
            "event_id",
            text("least(from_registration_id, to_registration_id)"),
            text("greatest(from_registration_id, to_registration_id)"),
            unique=True,
            postgresql_where=text(in_values("state", sorted(LIVE_REQUEST_STATES))),
        ),
        Index("ix_event_meeting_requests_to", "to_registration_id", "state"),
        Index("ix_event_meeting_requests_from", "from_registration_id", "state"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    from_registration_id: Mapped[uuid.UUID] = mapped_column()
    to_registration_id: Mapped[uuid.UUID] = mapped_column()
    # The two organizations, kept on the request so scoping needs no join.
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    asked_by: Mapped[str] = mapped_column(String(16))  # which of the two sides asked
    listing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"))
    need_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("needs.id", ondelete="RESTRICT"))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The person who asked and comes, and the other side's person (the contact unless the acceptor names another).
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    host_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(20), default=MeetingRequestState.requested, server_default="requested")
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MeetingState(enum.StrEnum):
    unplaced = "unplaced"  # accepted, waiting for the scheduling (or no slot was found)
    placed = "placed"  # in the draft schedule; may still move
    confirmed = "confirmed"  # in the published schedule: stays unless the organizer asks
    held = "held"  # checked in at the table
    missed = "missed"  # the event closed without a check-in
    cancelled = "cancelled"


# The states that hold a slot and a table.
SEATED_STATES = frozenset({MeetingState.placed, MeetingState.confirmed, MeetingState.held})


class Outcome(enum.StrEnum):
    no_interest = "no_interest"
    follow_up = "follow_up"
    match_request = "match_request"


class Meeting(UUIDPrimaryKey, Timestamps, Base):
    """An accepted meeting request: where and when it happens, who checked in, what came of it."""

    __tablename__ = "event_meetings"
    __table_args__ = (
        CheckConstraint(in_values("state", MeetingState), name="state"),
        CheckConstraint("(slot IS NULL) = (table_no IS NULL)", name="slot_with_table"),
        # A seated meeting has its cell, an unplaced or cancelled one none; a missed one keeps
        # when and where it was to be (its seats are freed, and the table index skips it).
        CheckConstraint(
            f"({in_values('state', sorted(SEATED_STATES))} AND slot IS NOT NULL)"
            " OR (state IN ('unplaced', 'cancelled') AND slot IS NULL) OR state = 'missed'",
            name="seated_has_slot",
        ),
        CheckConstraint("slot >= 0 AND table_no >= 0", name="placement_not_negative"),
        CheckConstraint(f"company_outcome IS NULL OR {in_values('company_outcome', Outcome)}", name="company_outcome"),
        CheckConstraint(
            f"institution_outcome IS NULL OR {in_values('institution_outcome', Outcome)}", name="institution_outcome"
        ),
        # No table is double-booked.
        Index(
            "uq_event_meetings_table",
            "event_id",
            "slot",
            "table_no",
            unique=True,
            postgresql_where=text(in_values("state", sorted(SEATED_STATES))),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    meeting_request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_meeting_requests.id", ondelete="CASCADE"), unique=True
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=MeetingState.unplaced, server_default="unplaced")
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    slot: Mapped[int | None] = mapped_column(SmallInteger)
    table_no: Mapped[int | None] = mapped_column(SmallInteger)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    institution_checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    institution_outcome: Mapped[str | None] = mapped_column(String(20))
    company_outcome: Mapped[str | None] = mapped_column(String(20))
    institution_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    company_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The match request opened from the meeting, and when an unanswered follow-up was reminded.
    match_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_requests.id", ondelete="SET NULL"))
    follow_up_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Seat(Base):
    """A holder (a person attending, or an institution's team) taken by a placed meeting in a slot:
    the primary key is what keeps anyone from being in two meetings at once."""

    __tablename__ = "event_meeting_seats"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_meetings.id", ondelete="CASCADE"), index=True)
