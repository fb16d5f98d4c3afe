"""The dashboards' query and the shapes of their figures (the pages, the JSON API, the exports and
the annual report all read these). Money is integer fen (CNY); rates are basis points, None where
the denominator is zero; durations are days, one decimal."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from msgspec import Meta, Struct

from marketplace.catalog.models import ListingKind

AreaCode = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]


class DashboardQuery(Struct, kw_only=True, forbid_unknown_fields=True):
    """A dashboard's filters as asked for: a period (`year` with an optional `quarter`, or `start`
    and `end`, inclusive China days; by default the last twelve months), and the dimensions."""

    year: Annotated[int, Meta(ge=2000, le=2100)] | None = None
    quarter: Annotated[int, Meta(ge=1, le=4)] | None = None
    start: date | None = None
    end: date | None = None
    city: Annotated[str, Meta(min_length=1, max_length=40)] | None = None
    institution: uuid.UUID | None = None
    area: AreaCode | None = None
    kind: ListingKind | None = None


class Period(Struct, frozen=True):
    start: date
    end: date


class Step(Struct):
    step: str  # viewed | requested | accepted | negotiating | agreement | first_payment
    count: int
    conversion_bp: int | None  # of the step before; for `requested`, the viewed listings that got a request


class Stall(Struct):
    stage: str  # the furthest stage a request of the period reached
    open: int  # still open there
    lost: int  # declined, withdrawn or closed without a deal after reaching it


class StuckState(Struct):
    state: str
    count: int  # open requests in this state without a move for STUCK_DAYS or more


class Funnel(Struct):
    period: Period
    listing_views: int
    steps: list[Step]
    stalls: list[Stall]
    stuck: list[StuckState]
    stuck_days: int


class Summary(Struct):
    """HI-CLIP's headline figures for the period, and the platform's own."""

    period: Period
    companies: int
    projects: int
    hospitals: int
    project_centres: int
    listings_published: int
    agreements_signed: int
    income_fen: int
    refreshed_at: datetime | None


class Rate(Struct):
    numerator: int
    denominator: int
    rate_bp: int | None


class MatchRates(Struct):
    period: Period
    institutions: Rate  # 对接率: institutions with a published listing that had a request accepted
    needs: Rate  # needs opened in the period with a selected response
    answered_in_time: Rate  # requests due in the period answered by their due day


class Duration(Struct):
    count: int
    median_days: float | None
    p90_days: float | None


class Times(Struct):
    period: Period
    first_response: Duration
    acceptance: Duration
    agreement: Duration
    trial_startup: Duration
    overdue_now: int


class PayLater(Struct):
    period: Period
    signed: int
    in_use: int
    converted: int
    exited: int
    terminated: int
    defaulted: int
    conversion_bp: int | None  # converted of (converted + exited)


class MonthAmount(Struct):
    month: str  # YYYY-MM
    amount_fen: int


class InstitutionIncome(Struct):
    institution_id: uuid.UUID
    name: str
    amount_fen: int
    health_technicians: int | None
    per_100_technicians_fen: int | None


class KeyAmount(Struct):
    key: str
    amount_fen: int


class KeyCount(Struct):
    key: str
    count: int


class Band(Struct):
    band: str
    count: int
    value_fen: int


class Income(Struct):
    period: Period
    total_fen: int
    by_month: list[MonthAmount]
    by_institution: list[InstitutionIncome]
    by_deal_kind: list[KeyAmount]
    by_category: list[KeyAmount]
    value_bands: list[Band]


class WardUse(Struct):
    ward_id: uuid.UUID
    institution_id: uuid.UUID
    name: str
    beds: int
    capacity_bed_days: int
    held_bed_days: int
    utilisation_bp: int | None


class InstitutionBeds(Struct):
    institution_id: uuid.UUID
    name: str
    approved_beds: int | None
    ward_beds: int  # research beds in wards open on the period's last day
    capacity_bed_days: int
    held_bed_days: int
    utilisation_bp: int | None
    over_line: bool  # ward beds above 10% of approved beds


class Beds(Struct):
    period: Period
    institutions: list[InstitutionBeds]
    wards: list[WardUse]


class Deal(Struct):
    agreement_id: uuid.UUID
    title: str
    institution_id: uuid.UUID
    institution: str
    company_id: uuid.UUID
    company: str
    kind: str
    state: str
    signed_at: datetime | None
    value_fen: int
    paid_fen: int
    match_request_id: uuid.UUID | None


class Deals(Struct):
    period: Period
    total: int
    rows: list[Deal]


class EventFigures(Struct):
    """Matchmaking events starting in the period (analytics/events_figures.py's definitions)."""

    period: Period
    events: int  # registration open, scheduling, under way or closed
    events_held: int  # under way or closed
    participants: list[KeyCount]  # registrations by kind: institution, company
    steps: list[Step]  # requested → accepted → scheduled → held → match_request → agreement


class Freshness(Struct):
    """An institution's listings now: by status, and how many are stale."""

    by_status: list[KeyCount]
    stale: int


class Inbox(Struct):
    open: int
    overdue: int
    first_response: Duration
    answered_in_time: Rate
