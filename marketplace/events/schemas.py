"""Request and response shapes of events and registrations (JSON API and pages). Times of day are
`HH:MM:SS` China time; the registration deadline is an ISO date-time with its offset."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.events.models import MAX_CAPACITY, MAX_TABLES

Title = Annotated[str, Meta(min_length=1, max_length=200)]
OptionalTitle = Annotated[str, Meta(max_length=200)]
Description = Annotated[str, Meta(max_length=10_000)]
Venue = Annotated[str, Meta(max_length=200)]
Url = Annotated[str, Meta(max_length=500)]
AreaCode = Annotated[str, Meta(min_length=1, max_length=40)]
Areas = Annotated[list[AreaCode], Meta(max_length=30)]
TableName = Annotated[str, Meta(min_length=1, max_length=40)]
Tables = Annotated[list[TableName], Meta(min_length=1, max_length=MAX_TABLES)]
TableCount = Annotated[int, Meta(ge=1, le=MAX_TABLES)]
SlotMinutes = Annotated[int, Meta(ge=10, le=120)]
TalkMinutes = Annotated[int, Meta(ge=3, le=60)]
Capacity = Annotated[int, Meta(ge=2, le=MAX_CAPACITY)]
RequestLimit = Annotated[int, Meta(ge=1, le=100)]
Deadline = Annotated[datetime, Meta(tz=True)]
Note = Annotated[str, Meta(max_length=2000)]
Reason = Annotated[str, Meta(max_length=2000)]
SlotNumber = Annotated[int, Meta(ge=0, le=10_000)]
SlotNumbers = Annotated[list[SlotNumber], Meta(min_length=1, max_length=2000)]
People = Annotated[list[uuid.UUID], Meta(max_length=50)]
Needs = Annotated[list[uuid.UUID], Meta(max_length=30)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class EventIn(Input):
    """A new event. `tables` names the meeting tables or rooms; or `table_count` numbers them 1..n."""

    title: Title
    starts_on: date
    ends_on: date
    day_starts_at: time
    day_ends_at: time
    slot_minutes: SlotMinutes
    registration_deadline: Deadline
    capacity: Capacity
    title_en: OptionalTitle = ""
    description: Description = ""
    talk_minutes: TalkMinutes = 8
    venue: Venue = ""
    online_url: Url = ""
    areas: Areas = []
    tables: Tables | None = None
    table_count: TableCount | None = None
    request_limit: RequestLimit = 15


class EventUpdate(Input):
    """The fields to change; days, hours and slot length only while the event is a draft."""

    title: Title | Unset = UNSET
    starts_on: date | Unset = UNSET
    ends_on: date | Unset = UNSET
    day_starts_at: time | Unset = UNSET
    day_ends_at: time | Unset = UNSET
    slot_minutes: SlotMinutes | Unset = UNSET
    registration_deadline: Deadline | Unset = UNSET
    capacity: Capacity | Unset = UNSET
    title_en: OptionalTitle | Unset = UNSET
    description: Description | Unset = UNSET
    talk_minutes: TalkMinutes | Unset = UNSET
    venue: Venue | Unset = UNSET
    online_url: Url | Unset = UNSET
    areas: Areas | Unset = UNSET
    tables: Tables | Unset = UNSET
    table_count: TableCount | Unset = UNSET
    request_limit: RequestLimit | Unset = UNSET


class TransitionIn(Input):
    action: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason = ""


class SlotOut(Struct):
    number: int
    day: date
    starts_at: datetime
    ends_at: datetime


class EventOut(Struct):
    id: uuid.UUID
    organizer_id: uuid.UUID
    organizer_name: str
    title: str
    title_en: str
    description: str
    starts_on: date
    ends_on: date
    day_starts_at: time
    day_ends_at: time
    slot_minutes: int
    talk_minutes: int
    venue: str
    online_url: str
    areas: list[str]
    tables: list[str]
    registration_deadline: datetime
    capacity: int
    registered: int
    request_limit: int
    state: str
    state_reason: str
    slots: list[SlotOut]
    actions: list[str]
    # The caller's organization's live registration, if any.
    own_registration_id: uuid.UUID | None


class PresentationIn(Input):
    listing_id: uuid.UUID
    minutes: TalkMinutes | None = None  # default: the event's talk_minutes


Presentations = Annotated[list[PresentationIn], Meta(max_length=20)]


class RegistrationIn(Input):
    """The caller's organization registers: its people who come (default: the caller), the contact
    (one of them; default the first), the slots they are free, and what it presents or brings."""

    slots: SlotNumbers
    attendee_ids: People = []
    contact_user_id: uuid.UUID | None = None
    note: Note = ""
    listings: Presentations = []
    need_ids: Needs = []


class RegistrationUpdate(Input):
    slots: SlotNumbers | Unset = UNSET
    attendee_ids: People | Unset = UNSET
    contact_user_id: uuid.UUID | Unset = UNSET
    note: Note | Unset = UNSET
    listings: Presentations | Unset = UNSET
    need_ids: Needs | Unset = UNSET


class RoadshowIn(Input):
    """Every presentation id of the event, in the new order."""

    order: Annotated[list[uuid.UUID], Meta(min_length=1, max_length=1000)]


class PresentationOut(Struct):
    id: uuid.UUID
    registration_id: uuid.UUID
    listing_id: uuid.UUID
    listing_title: str
    organization_name: str
    position: int
    minutes: int
    starts_at: datetime
    ends_at: datetime


class BroughtNeedOut(Struct):
    id: uuid.UUID
    title: str


class AttendeeOut(Struct):
    user_id: uuid.UUID
    name: str
    email: str


class RegistrationOut(Struct):
    """A team; `attendees`, `contact_user_id`, `available_slots` and `note` only for its own
    organization and the organizer (null for everyone else)."""

    id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID
    organization_kind: str
    organization_name: str
    city: str
    profile_url: str
    state: str
    state_reason: str
    presentations: list[PresentationOut]
    needs: list[BroughtNeedOut]
    actions: list[str]
    attendees: list[AttendeeOut] | None = None
    contact_user_id: uuid.UUID | None = None
    available_slots: list[int] | None = None
    note: str | None = None
