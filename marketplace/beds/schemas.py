"""Request and response shapes of wards, bed allocations and the ward calendar. Fees are integer
fen; dates are ISO days."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, get_args

from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.matching.requests.schemas import MAX_FEN

Line = Annotated[str, Meta(min_length=1, max_length=100)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Beds = Annotated[int, Meta(ge=1, le=2000)]
Reason = Annotated[str, Meta(max_length=2000)]
# The trial phases of a bed request, an engagement and a project (IIT: investigator-initiated).
Phase = Literal["I", "II", "III", "IV", "BE", "IIT"]
PHASES: tuple[str, ...] = get_args(Phase)  # the forms' choices


# A body field may not be named `beds`: that is the service's dependency key, and Litestar answers a
# validation error on a key named like a dependency with a 500 instead of a 400.


class WardIn(Input):
    listing_id: uuid.UUID
    name: Line
    specialty: Line
    research_beds: Beds
    opens_on: date
    closes_on: date | None = None


class WardUpdate(Input):
    name: Line
    specialty: Line
    research_beds: Beds
    opens_on: date
    closes_on: date | None = None


class WardOut(Struct):
    id: uuid.UUID
    listing_id: uuid.UUID
    institution_id: uuid.UUID
    name: str
    specialty: str
    research_beds: int
    opens_on: date
    closes_on: date | None


class CapacityOut(Struct):
    """The institution's research beds (its wards' beds) against 10% of its approved beds."""

    institution_id: uuid.UUID
    research_beds: int
    approved_beds: int
    limit: int
    over: bool
    acknowledged: bool
    reason: str


class AcknowledgeIn(Input):
    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


class AllocationIn(Input):
    """Beds on a ward for the days starts_on..ends_on (both included); or, with match_request_id,
    for an accepted clinical-trial match request of the caller's company on the ward's listing."""

    ward_id: uuid.UUID
    bed_count: Beds
    starts_on: date
    ends_on: date
    trial_title: Title
    phase: Phase
    sponsor: Title
    pi_name: Line
    protocol_summary: Annotated[str, Meta(max_length=4000)] = ""
    fee_fen: Annotated[int, Meta(ge=0, le=MAX_FEN)] | None = None
    match_request_id: uuid.UUID | None = None


class AllocationOut(Struct):
    id: uuid.UUID
    ward_id: uuid.UUID
    institution_id: uuid.UUID
    company_id: uuid.UUID
    match_request_id: uuid.UUID | None
    state: str
    bed_count: int
    starts_on: date
    ends_on: date
    trial_title: str
    phase: str
    sponsor: str
    pi_name: str
    protocol_summary: str
    fee_fen: int
    state_reason: str
    state_changed_at: datetime
    actions: list[str]


class AllocationPage(Struct):
    items: list[AllocationOut]
    total: int
    page: int
    page_size: int


class TransitionIn(Input):
    action: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason = ""


class CalendarDay(Struct):
    day: date
    capacity: int  # 0 on a day the ward is closed
    held: int  # approved and in-use beds
    requested: int  # beds asked for by requests not yet answered (requested or waitlisted)
    free: int


class CalendarOut(Struct):
    ward: WardOut
    days: list[CalendarDay]
