"""The one mechanism that scopes every query to the caller's organization and role.

Organization-owned records are filtered through `scoped()` and single organizations checked with
`require_org_in_scope()`: platform roles see the whole platform; everyone else sees only records of
the organization they are acting for, and anything else answers 404. Records that are public once
published (listings) add their public condition in their own service (CatalogService.visible).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from litestar.di import NamedDependency
from sqlalchemy import Select

from marketplace.accounts.models import ADMIN_ROLES, PLATFORM_ROLES, Role
from marketplace.errors import Forbidden, MissingScope, NotAuthenticated, NotFound


@dataclass(frozen=True)
class OrgChoice:
    organization_id: uuid.UUID
    name_zh: str
    name_en: str | None
    kind: str
    role: str


@dataclass(frozen=True)
class Principal:
    """Who is asking, for which organization, in which role. Anonymous when user_id is None."""

    user_id: uuid.UUID | None = None
    email: str = ""
    name: str = ""
    organization_id: uuid.UUID | None = None
    org_kind: str | None = None
    role: Role | None = None
    memberships: tuple[OrgChoice, ...] = field(default_factory=tuple)
    via_token: bool = False
    # The page session the request came with (accounts.sessions), None for tokens and the anonymous.
    session_id: uuid.UUID | None = None
    # An integration client's token (accounts.integrations): the scopes it was granted, which limit
    # the API operations it may call (require_scope). None for a person, whom no scope limits.
    scopes: frozenset[str] | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_platform(self) -> bool:
        return self.role in PLATFORM_ROLES

    @property
    def is_org_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def organization(self) -> OrgChoice | None:
        return next((m for m in self.memberships if m.organization_id == self.organization_id), None)

    # Typed accessors for code past require(): a signed-in principal always has a user and acts for
    # one organization (AccountService.principal_for_user), so None here means "not signed in".
    @property
    def signed_in_user_id(self) -> uuid.UUID:
        if self.user_id is None:
            raise NotAuthenticated()
        return self.user_id

    @property
    def acting_organization_id(self) -> uuid.UUID:
        if self.organization_id is None:
            raise NotAuthenticated()
        return self.organization_id

    @property
    def acting_org_kind(self) -> str:
        if self.org_kind is None:
            raise NotAuthenticated()
        return self.org_kind

    def require(self, *roles: Role) -> Principal:
        """401 for the anonymous, 403 for a role not in `roles` (no role list: any signed-in user)."""
        if not self.is_authenticated or self.role is None:
            raise NotAuthenticated()
        if roles and self.role not in roles:
            raise Forbidden()
        return self

    def require_scope(self, scope: str | None) -> None:
        """For an integration's token: 403 naming the scope an operation needs (`scope`, from its
        handler's opt) unless the token holds it; an operation that names none is for people only."""
        if self.scopes is not None and (scope is None or scope not in self.scopes):
            raise MissingScope(scope)

    def require_platform_admin(self) -> Principal:
        """401/403 unless the platform admin: for the domains that know no roles (notifications)."""
        return self.require(Role.platform_admin)

    def sees_organization(self, organization_id: uuid.UUID) -> bool:
        return self.is_platform or organization_id == self.organization_id


ANONYMOUS = Principal()
# Handlers ask for the caller by this name and type (provided by accounts.api.provide_principal).
CurrentPrincipal = NamedDependency[Principal]


def scoped(stmt: Select, org_column, principal: Principal) -> Select:
    """Limit a query to the caller's organization unless the caller has a platform role."""
    principal.require()
    if principal.is_platform:
        return stmt
    return stmt.where(org_column == principal.organization_id)


def require_org_in_scope(principal: Principal, organization_id: uuid.UUID) -> None:
    principal.require()
    if not principal.sees_organization(organization_id):
        raise NotFound()
