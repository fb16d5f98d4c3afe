"""Listings: an institution's results (科技成果) and clinical resources (临床资源)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
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
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values


class ListingKind(enum.StrEnum):
    result = "result"
    resource = "resource"


class ResultType(enum.StrEnum):
    patent = "patent"
    software = "software"
    ivd_reagent = "ivd_reagent"
    device = "device"
    drug_candidate = "drug_candidate"
    biomaterial = "biomaterial"
    know_how = "know_how"
    clinical_data = "clinical_data"


class ResourceType(enum.StrEnum):
    research_ward = "research_ward"
    trial_site = "trial_site"
    pi_team = "pi_team"
    biobank = "biobank"
    disease_cohort = "disease_cohort"
    trial_ready_cohort = "trial_ready_cohort"
    equipment = "equipment"
    ethics_service = "ethics_service"
    data_service = "data_service"


class Status(enum.StrEnum):
    draft = "draft"
    pending_review = "pending_review"
    published = "published"
    withdrawn = "withdrawn"
    archived = "archived"


class Stage(enum.StrEnum):
    discovery = "discovery"
    preclinical = "preclinical"
    clinical_1 = "clinical_1"
    clinical_2 = "clinical_2"
    clinical_3 = "clinical_3"
    registered = "registered"
    marketed = "marketed"


class OwnershipModel(enum.StrEnum):
    institution = "institution"
    researchers_ownership = "researchers_ownership"  # 赋权: ownership granted to researchers
    researchers_use_right = "researchers_use_right"  # 赋权: long-term use right
    joint = "joint"


class LicenceOption(enum.StrEnum):
    assignment = "assignment"
    exclusive = "exclusive"
    non_exclusive = "non_exclusive"
    pay_later = "pay_later"  # 先使用后付费
    equity = "equity"  # 作价投资
    co_development = "co_development"


class EngagementMode(enum.StrEnum):
    clinical_trial = "clinical_trial"
    investigator_initiated = "investigator_initiated"
    co_development = "co_development"
    sample_access = "sample_access"
    data_access = "data_access"
    equipment_booking = "equipment_booking"
    consulting = "consulting"


class PricingModel(enum.StrEnum):
    per_project = "per_project"
    per_patient = "per_patient"
    per_sample = "per_sample"
    per_hour = "per_hour"
    annual_fee = "annual_fee"
    negotiable = "negotiable"


class Availability(enum.StrEnum):
    available = "available"
    limited = "limited"
    unavailable = "unavailable"


class IpKind(enum.StrEnum):
    invention_patent = "invention_patent"
    utility_model = "utility_model"
    design_patent = "design_patent"
    pct_application = "pct_application"
    software_copyright = "software_copyright"
    other = "other"


class Jurisdiction(enum.StrEnum):
    CN = "CN"
    PCT = "PCT"
    US = "US"
    EP = "EP"
    other = "other"


class IpStatus(enum.StrEnum):
    filed = "filed"
    published = "published"
    granted = "granted"
    lapsed = "lapsed"


class TherapeuticArea(Base):
    """Controlled vocabulary, seeded by migration, in both languages."""

    __tablename__ = "therapeutic_areas"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(SmallInteger)


class Listing(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "listings"
    __table_args__ = (
        # Only an institution owns listings; PostgreSQL checks the owner's kind.
        ForeignKeyConstraint(
            ["institution_id", "owner_kind"], ["organizations.id", "organizations.kind"], name="fk_listings_institution"
        ),
        CheckConstraint("owner_kind = 'institution'", name="owned_by_institution"),
        CheckConstraint(in_values("kind", ListingKind), name="kind"),
        CheckConstraint(in_values("status", Status), name="status"),
        CheckConstraint(
            f"(kind = 'result' AND {in_values('type', ResultType)}) OR (kind = 'resource' AND {in_values('type', ResourceType)})",
            name="type_fits_kind",
        ),
        CheckConstraint("trl BETWEEN 1 AND 9", name="trl_range"),
        CheckConstraint(in_values("stage", Stage), name="stage"),
        CheckConstraint(in_values("ownership_model", OwnershipModel), name="ownership_model"),
        CheckConstraint(in_values("pricing_model", PricingModel), name="pricing_model"),
        CheckConstraint(in_values("availability", Availability), name="availability"),
        CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_has_date"),
        Index("ix_listings_institution_status", "institution_id", "status"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column()
    owner_kind: Mapped[str] = mapped_column(String(16), default="institution", server_default="institution")
    kind: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default=Status.draft, server_default="draft")
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    summary_zh: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    # Shown only to the owning institution and, later, to companies under an accepted NDA.
    confidential_details: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default="{}")
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # results
    stage: Mapped[str | None] = mapped_column(String(20))
    trl: Mapped[int | None] = mapped_column(SmallInteger)
    advantages: Mapped[str | None] = mapped_column(Text)
    ownership_model: Mapped[str | None] = mapped_column(String(30))
    licence_options: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list, server_default="{}")
    licence_terms: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    # The active open licence (开放许可) declared on the result, as licensing summarises it (its id
    # and terms), or None. Set only through CatalogService.set_open_licence: the catalogue shows it
    # and search filters by it without importing licensing.
    open_licence: Mapped[dict | None] = mapped_column(JSONB)
    # A research ward's free beds in the next 90 days, as beds computes them: {"free_bed_days_90": n,
    # "runs": {"1": days, "2": …, "16": …}} (for k beds, the longest run of days with k free), or None.
    # Set only through CatalogService.set_bed_availability, so search filters by it without beds.
    bed_availability: Mapped[dict | None] = mapped_column(JSONB)
    # resources: fields of the type, validated by the type's own schema (catalog.schemas)
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    engagement_modes: Mapped[list[str]] = mapped_column(ARRAY(String(30)), default=list, server_default="{}")
    pricing_model: Mapped[str | None] = mapped_column(String(20))
    availability: Mapped[str | None] = mapped_column(String(20))
    # lifecycle and freshness
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_stale: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # When what search shows of it last changed (created, published, edited, confirmed, areas; not
    # turning stale). Kept by PostgreSQL triggers (migration 0004); saved-search alerts follow it.
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

    areas: Mapped[list[ListingArea]] = relationship(lazy="raise", cascade="all, delete-orphan", order_by="ListingArea.area_code")
    inventors: Mapped[list[Inventor]] = relationship(lazy="raise", cascade="all, delete-orphan", order_by="Inventor.position")
    ip_assets: Mapped[list[IpAsset]] = relationship(lazy="raise", cascade="all, delete-orphan", order_by="IpAsset.position")


class ListingArea(Base):
    __tablename__ = "listing_areas"

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("therapeutic_areas.code"), primary_key=True, index=True)


class Inventor(UUIDPrimaryKey, Base):
    """A named inventor of a result, with their share in basis points (all shares sum to 10,000)."""

    __tablename__ = "listing_inventors"
    __table_args__ = (
        CheckConstraint("share_bp BETWEEN 1 AND 10000", name="share_range"),
        UniqueConstraint("listing_id", "position", name="uq_listing_inventors_position"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    share_bp: Mapped[int] = mapped_column(Integer)


class IpAsset(UUIDPrimaryKey, Base):
    __tablename__ = "ip_assets"
    __table_args__ = (
        CheckConstraint(in_values("kind", IpKind), name="kind"),
        CheckConstraint(in_values("jurisdiction", Jurisdiction), name="jurisdiction"),
        CheckConstraint(in_values("status", IpStatus), name="status"),
        CheckConstraint("expiry_date IS NULL OR filing_date IS NULL OR expiry_date > filing_date", name="dates_in_order"),
        UniqueConstraint("listing_id", "position", name="uq_ip_assets_position"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))
    jurisdiction: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    filing_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)


class NdaVersion(Base):
    """The platform's confidentiality agreement, versioned (seeded with version 1 by migration).
    The current text is the latest version; access granted under an older one no longer counts."""

    __tablename__ = "nda_versions"
    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    # Who published it is in the audit trail (nda_published); no foreign key to users, so the
    # agreement's text never goes with an account.
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class ConfidentialGrant(Base):
    """A company may read a listing's confidential details under one NDA version. The catalogue
    keeps the grants; the matching domain asks for them (accepted requests) and takes them back."""

    __tablename__ = "confidential_grants"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "company_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_confidential_grants_company",
            ondelete="CASCADE",
        ),
        CheckConstraint("company_kind = 'company'", name="granted_to_company"),
        Index("ix_confidential_grants_company", "company_id"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    nda_version: Mapped[int] = mapped_column(ForeignKey("nda_versions.version"))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class ListingViewDay(Base):
    """How often a listing's page was opened on a China day by people outside its institution: the
    first step of the deal funnel. One row per listing and day, so counting is an upsert."""

    __tablename__ = "listing_view_days"
    __table_args__ = (CheckConstraint("views > 0", name="views_positive"),)

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    views: Mapped[int] = mapped_column(Integer)


class ShortlistEntry(UUIDPrimaryKey, Base):
    """A listing on one person's shortlist with their note (a company member's private list): once
    per person and listing, so a second submit adds nothing."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (UniqueConstraint("user_id", "listing_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
