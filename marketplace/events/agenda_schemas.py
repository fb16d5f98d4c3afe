"""Request and response shapes of agendas, check-ins and meeting outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.events.agendas import Agenda, AgendaMeeting
from marketplace.events.models import Outcome
from marketplace.matching.requests.models import EngagementType
from marketplace.matching.requests.schemas import Fen


class OutcomeIn(Input, kw_only=True):
    outcome: Outcome
    note: Annotated[str, Meta(max_length=2000)] = ""
    # match_request only (the company): the request's fields, as on a listing's request form.
    listing_id: uuid.UUID | None = None  # a general meeting: one of the listings the institution presents
    engagement_type: EngagementType | None = None
    purpose: Annotated[str, Meta(max_length=2000)] = ""
    timeline: Annotated[str, Meta(max_length=500)] = ""
    budget_min_fen: Fen | None = None
    budget_max_fen: Fen | None = None
    message: Annotated[str, Meta(max_length=5000)] = ""
    # The NDA version the company read and accepts (GET /api/v1/nda-versions/current).
    nda_version: Annotated[int, Meta(ge=1)] | None = None
    accept_nda: bool = False


class MeetingOut(Struct, kw_only=True):
    id: uuid.UUID
    event_id: uuid.UUID
    state: str
    side: str  # the caller's side (the organizer sees the company's)
    other_organization_id: uuid.UUID
    other_organization: str
    listing_id: uuid.UUID | None
    need_id: uuid.UUID | None
    slot: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    table: str | None
    institution_checked_in_at: datetime | None
    company_checked_in_at: datetime | None
    institution_outcome: str | None
    company_outcome: str | None
    match_request_id: uuid.UUID | None


class TalkOut(Struct, kw_only=True):
    listing_id: uuid.UUID
    title: str
    institution: str
    starts_at: datetime
    ends_at: datetime


class AgendaOut(Struct, kw_only=True):
    event_id: uuid.UUID
    registration_id: uuid.UUID | None
    roadshow: list[TalkOut]
    meetings: list[MeetingOut]


def meeting_out(item: AgendaMeeting, locale: str = "zh_CN") -> MeetingOut:
    meeting = item.meeting
    return MeetingOut(
        id=meeting.id,
        event_id=meeting.event_id,
        state=meeting.state,
        side=item.side,
        other_organization_id=item.other.id,
        other_organization=item.other.display_name(locale),
        listing_id=item.request.listing_id,
        need_id=item.request.need_id,
        slot=meeting.slot,
        starts_at=item.slot.starts_at if item.slot else None,
        ends_at=item.slot.ends_at if item.slot else None,
        table=item.table,
        institution_checked_in_at=meeting.institution_checked_in_at,
        company_checked_in_at=meeting.company_checked_in_at,
        institution_outcome=meeting.institution_outcome,
        company_outcome=meeting.company_outcome,
        match_request_id=meeting.match_request_id,
    )


def agenda_out(agenda: Agenda, locale: str = "zh_CN") -> AgendaOut:
    return AgendaOut(
        event_id=agenda.event.id,
        registration_id=agenda.registration.id if agenda.registration else None,
        roadshow=[
            TalkOut(
                listing_id=talk.listing.id,
                title=talk.listing.title_en if locale.startswith("en") and talk.listing.title_en else talk.listing.title_zh,
                institution=talk.institution.display_name(locale),
                starts_at=talk.starts_at,
                ends_at=talk.ends_at,
            )
            for talk in agenda.roadshow
        ],
        meetings=[meeting_out(item, locale) for item in agenda.meetings],
    )
