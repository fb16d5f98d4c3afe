"""Request and response shapes of the accounts API. Unknown fields are refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from marketplace.accounts.models import MAX_RESPONSE_WORKING_DAYS, CompanySegment, HospitalGrade, Role
from marketplace.accounts.scopes import Scope

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=254)]
ShortText = Annotated[str, Meta(min_length=1, max_length=200)]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: a field the API does not know is an error, not ignored."""


class OrganizationCreate(Input):
    kind: Literal["institution", "company", "platform"]
    name_zh: ShortText
    city: Annotated[str, Meta(min_length=1, max_length=40)]
    name_en: Annotated[str, Meta(max_length=200)] | None = None
    district: Annotated[str, Meta(max_length=40)] | None = None
    grade: HospitalGrade | None = None
    approved_beds: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    research_beds: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    health_technicians: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    gcp_certified: bool = False
    ethics_alliance_member: bool = False
    pi_concurrent_trial_threshold: Annotated[int, Meta(ge=1, le=100)] | None = None
    credit_code: Annotated[str, Meta(min_length=18, max_length=18)] | None = None
    segment: CompanySegment | None = None


class OrganizationOut(Struct):
    id: uuid.UUID
    kind: str
    name_zh: str
    name_en: str | None
    city: str
    district: str | None
    grade: str | None
    approved_beds: int | None
    research_beds: int | None
    health_technicians: int | None
    gcp_certified: bool
    ethics_alliance_member: bool
    pi_concurrent_trial_threshold: int | None
    credit_code: str | None
    segment: str | None
    created_at: datetime
    # Institutions: working days to answer a match request.
    response_working_days: int | None = None


class OrganizationUpdate(Input):
    """What an institution's TTO manager changes about it through the API (either or both)."""

    response_working_days: Annotated[int, Meta(ge=1, le=MAX_RESPONSE_WORKING_DAYS)] | None = None
    health_technicians: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None


class OrganizationRef(Struct):
    id: uuid.UUID
    kind: str
    name_zh: str
    name_en: str | None
    role: str


class MeOut(Struct):
    id: uuid.UUID
    email: str
    name: str
    locale: str | None
    organization: OrganizationRef
    memberships: list[OrganizationRef]
    via_token: bool


class MemberOut(Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    joined_at: datetime


class InvitationCreate(Input):
    email: Email
    role: Role
    name: Annotated[str, Meta(max_length=100)] = ""


class InvitationOut(Struct):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: str
    expires_at: datetime


class RoleChange(Input):
    role: Role


class TokenCreate(Input):
    name: Annotated[str, Meta(min_length=1, max_length=80)]


class TokenOut(Struct):
    id: uuid.UUID
    name: str
    prefix: str
    organization_id: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str
    """Shown once: only its hash is stored."""


class IntegrationCreate(Input):
    name: Annotated[str, Meta(min_length=1, max_length=80)]
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=10)]


class IntegrationOut(Struct):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    client_id: str
    scopes: list[str]
    created_at: datetime
    secret_rotated_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IntegrationSecret(IntegrationOut):
    client_secret: str
    """Shown once: only its hash is stored. Take tokens with it at POST /oauth/token."""


class SsoConfigIn(Input):
    """An organization's OpenID provider (platform admin). Without `client_secret` the stored one is kept."""

    issuer: Annotated[str, Meta(min_length=1, max_length=500)]
    client_id: Annotated[str, Meta(min_length=1, max_length=255)]
    allowed_domains: Annotated[list[Annotated[str, Meta(min_length=1, max_length=253)]], Meta(min_length=1, max_length=50)]
    role_claim: Annotated[str, Meta(min_length=1, max_length=100)]
    # A claim value (1 to 200 characters) → a role of the organization's kind.
    role_mapping: Annotated[dict[str, Role], Meta(min_length=1, max_length=50)]
    client_secret: Annotated[str, Meta(min_length=1, max_length=500)] | None = None
    password_sign_in_disabled: bool = False
    end_provider_session: bool = False
    enabled: bool = True


class SsoConfigOut(Struct):
    """The configuration as the API shows it: never the secret, only whether one is set."""

    organization_id: uuid.UUID
    issuer: str
    client_id: str
    client_secret_set: bool
    allowed_domains: list[str]
    role_claim: str
    role_mapping: dict[str, str]
    password_sign_in_disabled: bool
    end_provider_session: bool
    enabled: bool
    redirect_uri: str
