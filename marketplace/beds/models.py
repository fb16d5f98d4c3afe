"""Tables of 以床引企 and HI-CLIP's multi-centre projects: research wards and their beds, bed
allocations with the per-day capacity PostgreSQL keeps, trial engagements (one per centre of a
project, or alone) with their three review tracks, shared documents and the start-up clock, and
multi-centre projects.

Capacity: `ward_day_usage` holds, per ward and day, the beds held by approved and active
allocations and the ward's beds that day; a CHECK keeps the first within the second. Its rows are
written only by the trigger on `bed_allocations` (migration 0015), so no code path, and no race
between two approvals, can take a ward past its beds on any day: the loser's UPDATE fails the CHECK.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values

RESEARCH_BED_SHARE_BP = 1_000  # research beds may be at most 10% of approved beds (Shanghai 2024)
STARTUP_FLAG_DAYS = 84  # 12 weeks from the last approval to the first consent (Shanghai)
# Review targets in working days (Beijing's model wards: ethics within 14; project approval 60).
DEFAULT_TARGETS = {"ethics": 14, "approval": 60, "contract": 30}


class Ward(UUIDPrimaryKey, Timestamps, Base):
    """A research ward of a research-ward resource listing: its research beds, specialty and the
    dates it takes patients."""

    __tablename__ = "wards"
    __table_args__ = (
        CheckConstraint("beds BETWEEN 1 AND 2000", name="beds_range"),
        CheckConstraint("closes_on IS NULL OR opens_on <= closes_on", name="dates_order"),
        CheckConstraint("length(btrim(name)) > 0", name="name_given"),
        UniqueConstraint("listing_id", "name", name="uq_wards_listing_name"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    specialty: Mapped[str] = mapped_column(String(100))
    beds: Mapped[int] = mapped_column(Integer)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)


class CapacityAcknowledgement(UUIDPrimaryKey, Base):
    """The TTO manager's acknowledgement, with a reason, that the institution's research beds
    exceed 10% of its approved beds (shown on the dashboards)."""

    __tablename__ = "research_bed_acknowledgements"
    __table_args__ = (CheckConstraint("length(btrim(reason)) > 0", name="reason_given"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    research_beds: Mapped[int] = mapped_column(Integer)
    approved_beds: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    acknowledged_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AllocationState(enum.StrEnum):
    requested = "requested"
    approved = "approved"
    declined = "declined"
    waitlisted = "waitlisted"
    active = "active"  # patients in the beds
    completed = "completed"
    cancelled = "cancelled"


# The states whose beds count against the ward's capacity.
HOLDING_STATES = frozenset({AllocationState.approved, AllocationState.active})


class BedAllocation(UUIDPrimaryKey, Timestamps, Base):
    """Beds of a ward for a company's trial, for the days starts_on..ends_on (both included)."""

    __tablename__ = "bed_allocations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "company_kind"], ["organizations.id", "organizations.kind"], name="fk_bed_allocations_company"
        ),
        CheckConstraint("company_kind = 'company'", name="company_kind"),
        CheckConstraint(in_values("state", AllocationState), name="state"),
        CheckConstraint("beds BETWEEN 1 AND 2000", name="beds_range"),
        CheckConstraint("starts_on <= ends_on AND ends_on - starts_on < 731", name="dates_order"),
        CheckConstraint("fee_fen >= 0", name="fee_not_negative"),
        CheckConstraint("phase IN ('I', 'II', 'III', 'IV', 'BE', 'IIT')", name="phase"),
        Index("ix_bed_allocations_ward_dates", "ward_id", "starts_on", "ends_on"),
    )

    ward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wards.id", ondelete="RESTRICT"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(index=True)
    company_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    match_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_requests.id", ondelete="RESTRICT"))
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trial_engagements.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=AllocationState.requested, server_default="requested")
    beds: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    trial_title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(4))
    sponsor: Mapped[str] = mapped_column(String(200))
    pi_name: Mapped[str] = mapped_column(String(100))
    protocol_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WardDayUsage(Base):
    """Beds held on a ward on a day, kept by the allocations' trigger only (never by the code)."""

    __tablename__ = "ward_day_usage"
    __table_args__ = (CheckConstraint("held >= 0 AND held <= capacity", name="held_within_capacity"),)

    ward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)


class ProjectState(enum.StrEnum):
    forming = "forming"  # centres being chosen
    running = "running"
    completed = "completed"
    cancelled = "cancelled"


class Project(UUIDPrimaryKey, Timestamps, Base):
    """A company's multi-centre clinical project (HI-CLIP's unit): one lead site, participating
    sites, each centre a trial engagement."""

    __tablename__ = "trial_projects"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "company_kind"], ["organizations.id", "organizations.kind"], name="fk_trial_projects_company"
        ),
        CheckConstraint("company_kind = 'company'", name="company_kind"),
        CheckConstraint(in_values("state", ProjectState), name="state"),
        CheckConstraint("phase IN ('I', 'II', 'III', 'IV', 'BE', 'IIT')", name="phase"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(index=True)
    company_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    need_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("needs.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(4))
    sponsor: Mapped[str] = mapped_column(String(200))
    protocol_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[str] = mapped_column(String(20), default=ProjectState.forming, server_default="forming")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CentreRole(enum.StrEnum):
    lead = "lead"  # 组长单位: its ethics approval the participating centres recognise
    participating = "participating"


class EngagementState(enum.StrEnum):
    starting = "starting"  # the three reviews run
    active = "active"  # the first consent was recorded: the start-up clock stopped
    completed = "completed"
    cancelled = "cancelled"


class TrialEngagement(UUIDPrimaryKey, Timestamps, Base):
    """A company's trial at one institution (a centre of a project, or alone): its PI, fees, the
    three review tracks and the start-up clock (last approval → first consent)."""

    __tablename__ = "trial_engagements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "company_kind"], ["organizations.id", "organizations.kind"], name="fk_trial_engagements_company"
        ),
        CheckConstraint("company_kind = 'company'", name="company_kind"),
        CheckConstraint(in_values("state", EngagementState), name="state"),
        CheckConstraint("(project_id IS NULL) = (centre_role IS NULL)", name="centre_of_project"),
        CheckConstraint("centre_role IS NULL OR centre_role IN ('lead', 'participating')", name="centre_role"),
        CheckConstraint("fee_fen >= 0", name="fee_not_negative"),
        CheckConstraint("phase IN ('I', 'II', 'III', 'IV', 'BE', 'IIT')", name="phase"),
        CheckConstraint("state <> 'active' OR first_consent_on IS NOT NULL", name="active_after_consent"),
        Index(
            "uq_trial_engagements_one_lead",
            "project_id",
            unique=True,
            postgresql_where=text("centre_role = 'lead' AND state <> 'cancelled'"),
        ),
        UniqueConstraint("project_id", "institution_id", name="uq_trial_engagements_project_institution"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(index=True)
    company_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trial_projects.id", ondelete="RESTRICT"), index=True)
    centre_role: Mapped[str | None] = mapped_column(String(20))
    match_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_requests.id", ondelete="RESTRICT"))
    listing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"))  # the trial site
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(4))
    sponsor: Mapped[str] = mapped_column(String(200))
    pi_name: Mapped[str] = mapped_column(String(100), index=True)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    state: Mapped[str] = mapped_column(String(20), default=EngagementState.starting, server_default="starting")
    # The PI workload warning, acknowledged (with who and when in the audit trail).
    pi_warning_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviews_approved_on: Mapped[date | None] = mapped_column(Date)  # the last of the three approvals
    first_consent_on: Mapped[date | None] = mapped_column(Date)
    # When the TTO was told the engagement passed 12 weeks without a first consent (told once).
    startup_flag_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Track(enum.StrEnum):
    approval = "approval"  # 立项
    ethics = "ethics"  # 伦理
    contract = "contract"  # 合同


class ReviewState(enum.StrEnum):
    not_started = "not_started"
    submitted = "submitted"
    in_review = "in_review"
    approved = "approved"
    returned = "returned"


class Review(UUIDPrimaryKey, Timestamps, Base):
    """One of an engagement's three tracks, run side by side."""

    __tablename__ = "trial_reviews"
    __table_args__ = (
        UniqueConstraint("engagement_id", "track", name="uq_trial_reviews_track"),
        CheckConstraint(in_values("track", Track), name="track"),
        CheckConstraint(in_values("state", ReviewState), name="state"),
        CheckConstraint("target_working_days BETWEEN 1 AND 365", name="target_range"),
        CheckConstraint("(recognised_engagement_id IS NOT NULL) <= (track = 'ethics')", name="recognition_is_ethics"),
        CheckConstraint("state <> 'approved' OR approved_on IS NOT NULL", name="approved_has_day"),
    )

    engagement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trial_engagements.id", ondelete="CASCADE"), index=True)
    track: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=ReviewState.not_started, server_default="not_started")
    target_working_days: Mapped[int] = mapped_column(Integer)
    first_submitted_on: Mapped[date | None] = mapped_column(Date)  # the track's clock starts here
    approved_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), default="", server_default="")  # approval number
    # 伦理互认: the lead site's engagement whose ethics approval this one recognises.
    recognised_engagement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trial_engagements.id"))
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EngagementDocument(UUIDPrimaryKey, Base):
    """One set of materials, one submission: a document uploaded once serves all three tracks."""

    __tablename__ = "trial_documents"
    __table_args__ = (CheckConstraint("size BETWEEN 1 AND 20971520", name="size_range"),)

    engagement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trial_engagements.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
