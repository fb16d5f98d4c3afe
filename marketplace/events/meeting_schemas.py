"""Request and response shapes of meeting requests and of the schedule (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input

Message = Annotated[str, Meta(max_length=2000)]
Reason = Annotated[str, Meta(max_length=2000)]


class MeetingRequestCreate(Input, kw_only=True):
    """Ask a registered team of the other kind for a meeting: a company an institution (about a
    listing it presents, or in general), an institution a company (about a need it brings, or in
    general). `requested_by_user_id`: who of the asking team comes (default the caller if they
    attend, else the team's contact). `from_registration_id`: only the organizer, for a walk-in
    while the event runs (the request is accepted at once)."""

    to_registration_id: uuid.UUID
    listing_id: uuid.UUID | None = None
    need_id: uuid.UUID | None = None
    message: Message = ""
    requested_by_user_id: uuid.UUID | None = None
    from_registration_id: uuid.UUID | None = None


class MeetingRequestTransitionIn(Input, kw_only=True):
    action: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason = ""
    host_user_id: uuid.UUID | None = None  # accept: who of the asked team hosts (default its contact)


class MeetingOut(Struct, kw_only=True):
    id: uuid.UUID
    state: str
    slot: int | None
    table_no: int | None
    table: str | None
    starts_at: datetime | None
    ends_at: datetime | None


class MeetingRequestOut(Struct, kw_only=True):
    id: uuid.UUID
    event_id: uuid.UUID
    from_registration_id: uuid.UUID
    to_registration_id: uuid.UUID
    institution_id: uuid.UUID
    company_id: uuid.UUID
    asked_by: str
    listing_id: uuid.UUID | None
    need_id: uuid.UUID | None
    message: str
    requested_by_user_id: uuid.UUID | None
    host_user_id: uuid.UUID | None
    state: str
    state_reason: str
    created_at: datetime
    meeting: MeetingOut | None
    actions: list[str]


class ScheduleRunIn(Input, kw_only=True):
    move_confirmed: bool = False


class UnplacedOut(Struct, kw_only=True):
    meeting_id: uuid.UUID
    why: str  # no_common_slot | no_room


class ScheduleSummaryOut(Struct, kw_only=True):
    placed: int
    unplaced: list[UnplacedOut]
    upper_bound: int
    moved: int
    seconds: float


class ScheduledMeetingOut(Struct, kw_only=True):
    meeting_id: uuid.UUID
    meeting_request_id: uuid.UUID
    institution_id: uuid.UUID
    company_id: uuid.UUID
    institution_name: str
    company_name: str
    state: str
    slot: int | None
    table_no: int | None
    table: str | None
    starts_at: datetime | None
    ends_at: datetime | None


class SlotOut(Struct, kw_only=True):
    number: int
    starts_at: datetime
    ends_at: datetime


class ScheduleOut(Struct, kw_only=True):
    event_id: uuid.UUID
    event_state: str
    tables: list[str]
    slots: list[SlotOut]
    meetings: list[ScheduledMeetingOut]
