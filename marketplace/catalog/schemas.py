"""Request and response shapes of the catalogue, and the per-type fields of clinical resources."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.catalog.models import (
    Availability,
    EngagementMode,
    IpKind,
    IpStatus,
    Jurisdiction,
    LicenceOption,
    ListingKind,
    OwnershipModel,
    PricingModel,
    ResourceType,
    ResultType,
    Stage,
    Status,
)

Text200 = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=20_000)]
Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Keyword = Annotated[str, Meta(min_length=1, max_length=60)]
SmallList = Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=30)]


# ----- per-type fields of clinical resources (validated against their own schema) --------------


class ResearchWard(Input):
    beds: Annotated[int, Meta(ge=1, le=2000)]
    specialties: SmallList


class TrialSite(Input):
    phases: Annotated[list[Literal["I", "II", "III", "IV", "BE"]], Meta(min_length=1)]
    gcp_specialties: SmallList
    active_trials: Count


class PiTeam(Input):
    pi_name: Annotated[str, Meta(min_length=1, max_length=100)]
    specialty: Annotated[str, Meta(min_length=1, max_length=100)]
    concurrent_trials: Count
    completed_trials: Count


class Biobank(Input):
    sample_types: Annotated[SmallList, Meta(min_length=1)]
    sample_count: Count
    consent_scope: Literal["specific", "broad", "tiered"]


class Cohort(Input):
    disease: Annotated[str, Meta(min_length=1, max_length=100)]
    size: Annotated[int, Meta(ge=1, le=10_000_000)]
    follow_up_years: Annotated[float, Meta(ge=0, le=100)]
    data_types: Annotated[SmallList, Meta(min_length=1)]


class Equipment(Input):
    model: Annotated[str, Meta(min_length=1, max_length=100)]
    maker: Annotated[str, Meta(min_length=1, max_length=100)]
    booking_terms: Annotated[str, Meta(min_length=1, max_length=2000)]


class EthicsService(Input):
    committee: Annotated[str, Meta(min_length=1, max_length=200)]
    mutual_recognition: bool
    turnaround_days: Annotated[int, Meta(ge=1, le=365)]


class DataService(Input):
    data_types: Annotated[SmallList, Meta(min_length=1)]
    governance: Annotated[str, Meta(min_length=1, max_length=2000)]


RESOURCE_DETAILS: dict[str, type[Input]] = {
    ResourceType.research_ward: ResearchWard,
    ResourceType.trial_site: TrialSite,
    ResourceType.pi_team: PiTeam,
    ResourceType.biobank: Biobank,
    ResourceType.disease_cohort: Cohort,
    ResourceType.trial_ready_cohort: Cohort,
    ResourceType.equipment: Equipment,
    ResourceType.ethics_service: EthicsService,
    ResourceType.data_service: DataService,
}


# ----- results --------------------------------------------------------------------------------


class IpAssetIn(Input):
    number: Annotated[str, Meta(min_length=3, max_length=40)]
    kind: IpKind
    jurisdiction: Jurisdiction
    status: IpStatus
    filing_date: date | None = None
    expiry_date: date | None = None


class InventorIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    share_bp: Annotated[int, Meta(ge=1, le=10_000)]
    user_id: uuid.UUID | None = None


class LicenceOffer(Input):
    option: LicenceOption
    terms: Annotated[str, Meta(max_length=1000)] = ""


class ListingFields(Input):
    """Every field a listing's owner may set; create needs kind, type and the Chinese texts."""

    title_zh: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    title_en: Annotated[str, Meta(max_length=300)] | None = None
    summary_zh: Annotated[str, Meta(min_length=1, max_length=5000)] | None = None
    summary_en: Annotated[str, Meta(max_length=5000)] | None = None
    confidential_details: LongText | None = None
    therapeutic_areas: Annotated[list[str], Meta(max_length=10)] | None = None
    keywords: Annotated[list[Keyword], Meta(max_length=20)] | None = None
    contact_name: Annotated[str, Meta(max_length=100)] | None = None
    contact_email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    contact_phone: Annotated[str, Meta(max_length=40)] | None = None
    # results
    stage: Stage | None = None
    trl: Annotated[int, Meta(ge=1, le=9)] | None = None
    advantages: Annotated[str, Meta(max_length=5000)] | None = None
    ownership_model: OwnershipModel | None = None
    licence_options: Annotated[list[LicenceOffer], Meta(max_length=6)] | None = None
    ip_assets: Annotated[list[IpAssetIn], Meta(max_length=50)] | None = None
    inventors: Annotated[list[InventorIn], Meta(max_length=30)] | None = None
    # resources
    details: dict | None = None
    engagement_modes: Annotated[list[EngagementMode], Meta(max_length=7)] | None = None
    pricing_model: PricingModel | None = None
    availability: Availability | None = None


class ListingCreate(ListingFields, kw_only=True):
    kind: Literal["result", "resource"]
    type: str


class ListingUpdate(ListingFields):
    """PATCH: only the fields present change; null clears an optional field."""


class Transition(Input):
    action: Literal["submit", "return", "publish", "withdraw", "republish", "archive", "restore", "confirm"]
    reason: Annotated[str, Meta(max_length=1000)] = ""


if TYPE_CHECKING:
    ListingTypeName = str
else:  # every listing type, results' and resources', as one Literal: msgspec takes no union of two string enums
    ListingTypeName = Literal[tuple(str(t) for t in (*ResultType, *ResourceType))]


class AreaOut(Struct):
    code: str
    name_zh: str
    name_en: str


class InstitutionRef(Struct):
    id: uuid.UUID
    name_zh: str
    name_en: str | None
    city: str


class ListingOut(Struct, omit_defaults=True):
    id: uuid.UUID
    kind: ListingKind
    type: ListingTypeName
    status: Status
    institution: InstitutionRef
    title_zh: str
    title_en: str | None
    summary_zh: str
    summary_en: str | None
    therapeutic_areas: list[AreaOut]
    keywords: list[str]
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    published_at: datetime | None
    confirmed_at: datetime | None
    is_stale: bool
    updated_at: datetime
    stage: Stage | None = None
    trl: int | None = None
    advantages: str | None = None
    ownership_model: OwnershipModel | None = None
    licence_options: list[dict] = msgspec.field(default_factory=list)
    ip_assets: list[dict] = msgspec.field(default_factory=list)
    inventors: list[dict] = msgspec.field(default_factory=list)
    details: dict = msgspec.field(default_factory=dict)
    engagement_modes: list[EngagementMode] = msgspec.field(default_factory=list)
    pricing_model: PricingModel | None = None
    availability: Availability | None = None
    # Present only for readers entitled to see it.
    confidential_details: str | None = None


class ListingPage(Struct):
    items: list[ListingOut]
    total: int
    page: int
    page_size: int


class ImportProblem(Struct):
    row: int
    column: str  # the column's header, in the reader's language
    message: str
    field: str = ""  # the field's path in the listing's shape: "inventors[1].share_bp", "details.beds"


class ImportReport(Struct):
    dry_run: bool
    rows: int
    created: int
    errors: list[ImportProblem]


SpreadsheetFormat = Literal["xlsx", "csv"]


class NdaOut(Struct):
    version: int
    text_zh: str
    text_en: str
    published_at: datetime


class NdaCreate(Input):
    text_zh: Annotated[str, Meta(min_length=1, max_length=20_000)]
    text_en: Annotated[str, Meta(min_length=1, max_length=20_000)]


RESULT_TYPES = tuple(ResultType)
RESOURCE_TYPES = tuple(ResourceType)
