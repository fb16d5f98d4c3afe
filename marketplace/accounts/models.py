from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values


class OrgKind(enum.StrEnum):
    institution = "institution"
    company = "company"
    platform = "platform"


class Role(enum.StrEnum):
    platform_admin = "platform_admin"
    platform_analyst = "platform_analyst"
    tto_manager = "tto_manager"
    tto_staff = "tto_staff"
    inventor = "inventor"
    company_admin = "company_admin"
    company_member = "company_member"


# Which roles a membership may carry in each kind of organization (also a CHECK in PostgreSQL).
ROLES_BY_KIND: dict[OrgKind, tuple[Role, ...]] = {
    OrgKind.platform: (Role.platform_admin, Role.platform_analyst),
    OrgKind.institution: (Role.tto_manager, Role.tto_staff, Role.inventor),
    OrgKind.company: (Role.company_admin, Role.company_member),
}
# The role that manages an organization's members.
ADMIN_ROLES = frozenset({Role.platform_admin, Role.tto_manager, Role.company_admin})
PLATFORM_ROLES = frozenset({Role.platform_admin, Role.platform_analyst})
COMPANY_ROLES = frozenset({Role.company_admin, Role.company_member})
TTO_ROLES = frozenset({Role.tto_manager, Role.tto_staff})
INSTITUTION_ROLES = TTO_ROLES | {Role.inventor}
DEFAULT_RESPONSE_WORKING_DAYS = 10
MAX_RESPONSE_WORKING_DAYS = 60


class HospitalGrade(enum.StrEnum):
    grade_3a = "3A"
    grade_3b = "3B"
    grade_3c = "3C"
    grade_2a = "2A"
    grade_2b = "2B"
    grade_2c = "2C"
    grade_1 = "1"
    ungraded = "ungraded"


class CompanySegment(enum.StrEnum):
    pharma = "pharma"
    device = "device"
    ivd = "ivd"
    cro_cdmo = "cro_cdmo"
    digital_health = "digital_health"
    other = "other"


class Organization(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("id", "kind", name="uq_organizations_id_kind"),
        CheckConstraint(in_values("kind", OrgKind), name="kind"),
        CheckConstraint(in_values("grade", HospitalGrade), name="grade"),
        CheckConstraint(in_values("segment", CompanySegment), name="segment"),
        CheckConstraint(
            "kind <> 'institution' OR (grade IS NOT NULL AND approved_beds IS NOT NULL "
            "AND research_beds IS NOT NULL AND pi_concurrent_trial_threshold IS NOT NULL)",
            name="institution_fields",
        ),
        CheckConstraint("kind <> 'company' OR (credit_code IS NOT NULL AND segment IS NOT NULL)", name="company_fields"),
        CheckConstraint("approved_beds >= 0 AND research_beds >= 0", name="beds_not_negative"),
        # Research beds are capped at 10% of approved beds (沪府办规〔2024〕12号).
        CheckConstraint("research_beds * 10 <= approved_beds", name="research_beds_within_10_percent"),
        CheckConstraint("pi_concurrent_trial_threshold > 0", name="pi_threshold_positive"),
        CheckConstraint("health_technicians >= 0", name="health_technicians_not_negative"),
        CheckConstraint("credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name="credit_code_format"),
        CheckConstraint(f"response_working_days BETWEEN 1 AND {MAX_RESPONSE_WORKING_DAYS}", name="response_days_range"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    # institution
    grade: Mapped[str | None] = mapped_column(String(10))
    approved_beds: Mapped[int | None] = mapped_column(Integer)
    research_beds: Mapped[int | None] = mapped_column(Integer)
    # 卫生技术人员: hospital assessment divides transfer income by it (per 100, 国办发〔2019〕4号).
    health_technicians: Mapped[int | None] = mapped_column(Integer)
    gcp_certified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    ethics_alliance_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    pi_concurrent_trial_threshold: Mapped[int | None] = mapped_column(Integer)
    # Working days an institution gives itself to answer a match request (its TTO manager sets it).
    response_working_days: Mapped[int] = mapped_column(
        SmallInteger, default=DEFAULT_RESPONSE_WORKING_DAYS, server_default=str(DEFAULT_RESPONSE_WORKING_DAYS)
    )
    # company
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    segment: Mapped[str | None] = mapped_column(String(20))
    # The public profile, written by the organization's administrator: who it is, in both languages,
    # and whom to write to (the transfer office's named contact for an institution).
    description_zh: Mapped[str] = mapped_column(Text, default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact_title: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The logo's SHA-256 (its bytes are in organization_logos), so pages link /logo?v=… without reading it.
    logo_sha256: Mapped[str | None] = mapped_column(String(64))

    def display_name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh

    def description(self, locale: str) -> str:
        return self.description_en if locale.startswith("en") and self.description_en else self.description_zh


class OrganizationLogo(Base):
    """An organization's logo, checked by content on upload (PNG, JPEG or WebP) and small: kept in
    the database with the profile it belongs to, so a backup holds both."""

    __tablename__ = "organization_logos"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        CheckConstraint("position('@' in email) > 1", name="email_has_at"),
    )

    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(100))
    # Empty until the invited person sets a password through their link.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class Membership(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id", name="uq_memberships_user_org"),
        # The organization's kind is repeated here so PostgreSQL itself refuses a role that does
        # not belong to that kind of organization.
        ForeignKeyConstraint(
            ["organization_id", "org_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_memberships_org_kind",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        CheckConstraint(
            " OR ".join(f"(org_kind = '{kind}' AND {in_values('role', roles)})" for kind, roles in ROLES_BY_KIND.items()),
            name="role_fits_org_kind",
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(index=True)
    org_kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    organization: Mapped[Organization] = relationship(
        lazy="raise", foreign_keys=[organization_id], primaryjoin="Membership.organization_id == Organization.id"
    )


class ApiToken(UUIDPrimaryKey, Base):
    """A personal API token. Only its SHA-256 is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The organization the token acts for, with the user's current role there.
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Invitation(UUIDPrimaryKey, Base):
    """A one-time, expiring link that lets an invited person set their password."""

    __tablename__ = "invitations"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(UUIDPrimaryKey, Base):
    """A signed-in browser (or an anonymous one holding a flash message). The cookie carries a random
    token; only its SHA-256 is kept, so a copy of the table opens no session. A session ends at
    sign-out, "sign out everywhere", a password change, a removal from the organization it acts for,
    or when it has been idle or alive too long (settings)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_open", "user_id", postgresql_where=text("ended_at IS NULL")),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The organization the session acts for (a copy of data["org_id"], so a removal can end it).
    organization_id: Mapped[uuid.UUID | None] = mapped_column()
    data: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    # The CSRF token of this session: pages' forms must carry it, so a token is good for one session only.
    csrf_token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class SignInAttempt(Base):
    """A password sign-in attempt, written before the password is checked and deleted when it
    succeeds: what is left are failures, counted per account and per address by every app process."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email", "email", "attempted_at"),
        Index("ix_sign_in_attempts_address", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(INET)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class PasswordReset(UUIDPrimaryKey, Base):
    """A "forgot password" link: one-time and expiring; only its SHA-256 is kept."""

    __tablename__ = "password_resets"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


# The kinds of organization that may apply (the platform is made once, by the CLI).
APPLYING_KINDS = (OrgKind.institution, OrgKind.company)


class AccessRequest(UUIDPrimaryKey, Timestamps, Base):
    """An organization's application for an account, decided by the platform admin
    (accounts/access_requests.py holds its state machine)."""

    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(in_values("kind", APPLYING_KINDS), name="kind"),
        CheckConstraint(in_values("status", AccessStatus), name="status"),
        CheckConstraint("kind <> 'company' OR credit_code IS NOT NULL", name="company_credit_code"),
        CheckConstraint("credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name="credit_code_format"),
        CheckConstraint("status <> 'declined' OR length(decline_reason) > 0", name="declined_with_reason"),
        # One pending application per contact address and per credit code: a double submit is refused.
        Index(
            "uq_access_requests_pending_email",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("uq_access_requests_pending_credit_code", "credit_code", unique=True, postgresql_where=text("status = 'pending'")),
    )

    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    city: Mapped[str] = mapped_column(String(40))
    contact_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    # The language the applicant wrote in: the decision's e-mail is in it.
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN", server_default="zh_CN")
    status: Mapped[str] = mapped_column(String(16), default=AccessStatus.pending, server_default=AccessStatus.pending)
    decided_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(String(1000))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))


class OidcProvider(Timestamps, Base):
    """An organization's own OpenID provider (single sign-on), configured by the platform admin.
    The client secret is kept encrypted with a key derived from the app's secret key (oidc.py) and
    never leaves the service; role_mapping maps a value of the role claim to a role of the
    organization's kind (the service checks that it fits)."""

    __tablename__ = "oidc_providers"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    role_claim: Mapped[str] = mapped_column(String(100))
    role_mapping: Mapped[dict] = mapped_column(JSONB, default=dict)
    password_sign_in_disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Sign-out also ends the provider's session (RP-initiated logout), when its discovery names an end_session_endpoint.
    end_provider_session: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class OidcEmailDomain(Base):
    """An e-mail domain whose people sign in through an organization's provider: the login page
    finds the provider by the address's domain, so a domain belongs to one organization only."""

    __tablename__ = "oidc_email_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oidc_providers.organization_id", ondelete="CASCADE"), index=True
    )


class OidcSignInState(Base):
    """A started single sign-on, kept server-side until its callback: the state (only its SHA-256),
    the nonce and the PKCE verifier. The callback deletes the row it uses, so a state works once."""

    __tablename__ = "oidc_sign_in_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oidc_providers.organization_id", ondelete="CASCADE"), index=True
    )
    # The browser session that started it, if signed in: a callback in another session is refused.
    web_session_id: Mapped[uuid.UUID | None] = mapped_column()
    # SHA-256 of the random value in the starting browser's short-lived cookie: a callback without
    # that cookie (another browser, led there by an attacker's link: login CSRF) is refused.
    browser_key_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
