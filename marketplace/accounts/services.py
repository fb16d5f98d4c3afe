"""Accounts: organizations, users, memberships, sign-in, API tokens and invitations.

The accounts services are the only code that writes these tables. Every rule is also a constraint
in PostgreSQL where one can express it (role per kind of organization, 10% research beds,
credit-code format). AccountService is put together from one mixin per concept — organizations
(organizations.py), members and invitations (members.py), API tokens (tokens.py); password hashing
is in passwords.py — and holds here what is left: sign-in and the principal a user or token acts
as, the own profile, and the bootstrap of an empty database.
"""

from __future__ import annotations

import uuid

from limits import parse as parse_limit
from limits.aio.strategies import RateLimiter
from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.accounts.members import Members, normalize_email
from marketplace.accounts.models import ApiToken, Membership, Organization, OrgKind, Role, User
from marketplace.accounts.organizations import OrganizationInput, organization_count, validate_organization
from marketplace.accounts.passwords import check_password, digest, hash_password, needs_rehash, verify_password
from marketplace.accounts.tokens import ApiTokens
from marketplace.audit import services as audit
from marketplace.db import DbSession, utcnow
from marketplace.errors import Conflict, DomainError, invalid
from marketplace.i18n import N_
from marketplace.tenancy import OrgChoice, Principal


class AccountService(Members, ApiTokens):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----- sign-in and principals -------------------------------------------------------------

    async def authenticate(self, email: str, password: str, *, ip: str | None = None) -> User:
        user = await self.user_by_email(email)
        if user is None or not user.is_active or user.password_hash is None or not verify_password(user.password_hash, password):
            await audit.record(
                self.session, "login_failed", actor_user_id=user.id if user else None, ip=ip, email=normalize_email(email)
            )
            raise DomainError("Wrong e-mail address or password.", status_code=400)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        await audit.record(self.session, "login", actor_user_id=user.id, subject=user, ip=ip)
        return user

    async def sign_in(
        self, email: str, password: str, *, ip: str | None, limiter: RateLimiter, per_ip: str, per_account: str
    ) -> tuple[User, Principal]:
        """Throttle by address and by account, then authenticate; the user and the principal they
        act as. A refusal keeps its audit line: it is committed here, as the refused request's
        own transaction is rolled back."""
        peer = ip or "unknown"
        allowed = await limiter.hit(parse_limit(per_ip), "login-ip", peer)
        allowed = await limiter.hit(parse_limit(per_account), "login", peer, normalize_email(email)) and allowed
        if not allowed:
            await audit.record(self.session, "login_rate_limited", ip=ip, email=normalize_email(email))
            await self.session.commit()
            raise DomainError(N_("Too many attempts. Please wait and try again."), status_code=429)
        try:
            user = await self.authenticate(email, password, ip=ip)
        except DomainError:
            await self.session.commit()
            raise
        principal = await self.principal_for_user(user.id)
        if principal is None:
            raise DomainError(N_("Your account has no organization yet."), status_code=400)
        return user, principal

    async def sign_out(self, principal: Principal, *, ip: str | None) -> None:
        if principal.is_authenticated:
            await audit.record(self.session, "logout", actor_user_id=principal.user_id, ip=ip)

    async def recent_events(self, principal: Principal, limit: int = 8) -> list:
        """The dashboard's latest audit lines: everything for the platform, the own organization
        for its admins, nothing for anyone else."""
        if principal.is_platform:
            return await audit.events(self.session, limit=limit)
        if principal.is_org_admin:
            return await audit.events(self.session, organization_id=principal.organization_id, limit=limit)
        return []

    async def principal_for_user(
        self, user_id: uuid.UUID, organization_id: uuid.UUID | None = None, *, via_token: bool = False
    ) -> Principal | None:
        """The principal acting for `organization_id`, or for the user's first organization."""
        user = await self.session.scalar(
            select(User)
            .where(User.id == user_id, User.is_active)
            .options(selectinload(User.memberships).selectinload(Membership.organization))
        )
        if user is None or not user.memberships:
            return None
        memberships = sorted(user.memberships, key=lambda m: (m.created_at, str(m.id)))
        active = next((m for m in memberships if m.organization_id == organization_id), None)
        if active is None:
            if via_token:
                return None  # the token's organization membership is gone
            active = memberships[0]
        choices = tuple(
            OrgChoice(m.organization_id, m.organization.name_zh, m.organization.name_en, m.org_kind, m.role) for m in memberships
        )
        return Principal(
            user_id=user.id,
            email=user.email,
            name=user.name,
            organization_id=active.organization_id,
            org_kind=active.org_kind,
            role=Role(active.role),
            memberships=choices,
            via_token=via_token,
        )

    async def principal_for_token(self, raw_token: str) -> Principal | None:
        token = await self.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == digest(raw_token), ApiToken.revoked_at.is_(None))
        )
        if token is None:
            return None
        token.last_used_at = utcnow()
        return await self.principal_for_user(token.user_id, token.organization_id, via_token=True)

    # ----- profile ----------------------------------------------------------------------------

    async def get_user(self, principal: Principal) -> User:
        principal.require()
        return await self.session.get_one(User, principal.signed_in_user_id)

    async def update_profile(self, principal: Principal, *, name: str | None = None, locale: str | None = None) -> User:
        user = await self.get_user(principal)
        if name is not None:
            if not name.strip():
                raise invalid("name", "Required.")
            user.name = name.strip()
        if locale is not None:
            user.locale = locale
        return user

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        user = await self.get_user(principal)
        if not verify_password(user.password_hash, current):
            raise invalid("current_password", "The current password is wrong.")
        check_password(new, "new_password")
        user.password_hash = hash_password(new)
        await audit.record(self.session, "password_changed", actor_user_id=user.id, subject=user)

    async def bootstrap_platform(self, data: OrganizationInput, *, email: str, name: str, password: str) -> Membership:
        """Create the platform organization and its first administrator on an empty database, where
        nobody exists yet to act (the CLI's bootstrap-admin, the demo data). Refused once any
        organization exists, so it can never add a second way in; no request reaches it."""
        if data.kind != OrgKind.platform:
            raise invalid("kind", "The first organization is the platform.")
        if await organization_count(self.session):
            raise Conflict("The database already has organizations.")
        validate_organization(data)
        check_password(password)
        org = Organization(**vars(data))
        user = User(email=normalize_email(email), name=name.strip(), password_hash=hash_password(password))
        self.session.add_all([org, user])
        await self.session.flush()
        membership = Membership(user_id=user.id, organization_id=org.id, org_kind=org.kind, role=Role.platform_admin)
        self.session.add(membership)
        await self.session.flush()
        await audit.record(self.session, "organization_created", organization_id=org.id, subject=org, source="bootstrap")
        await audit.record(
            self.session,
            "member_added",
            organization_id=org.id,
            subject=membership,
            role=Role.platform_admin,
            source="bootstrap",
        )
        return membership


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Accounts = NamedDependency[AccountService]


async def provide_accounts(db_session: DbSession) -> AccountService:
    return AccountService(db_session)
