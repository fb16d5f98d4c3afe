"""Accounts: organizations, users, memberships, sign-in, API tokens and invitations.

The accounts services are the only code that writes these tables. Every rule is also a constraint
in PostgreSQL where one can express it (role per kind of organization, 10% research beds,
credit-code format). AccountService is put together from one mixin per concept — organizations
(organizations.py), members and invitations (members.py), API tokens (tokens.py), forgotten
passwords (recovery.py), requests for access (access_requests.py); password hashing
is in passwords.py — and holds here what is left: sign-in and the principal a user or token acts
as, the own profile, and the bootstrap of an empty database.
"""

from __future__ import annotations

import uuid

from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.accounts import integrations, oidc, sessions, throttle
from marketplace.accounts.access_requests import AccessRequests
from marketplace.accounts.members import normalize_email
from marketplace.accounts.models import ApiToken, Membership, Organization, OrgKind, Role, User, WebSession
from marketplace.accounts.oauth_server import ACCESS_TOKEN_PREFIX
from marketplace.accounts.organizations import OrganizationInput, organization_count, validate_organization
from marketplace.accounts.passwords import check_password, digest, hash_password, needs_rehash, password_matches
from marketplace.accounts.profiles import Profiles
from marketplace.accounts.recovery import PasswordResets
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.accounts.tokens import ApiTokens
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import DbSession, utcnow
from marketplace.errors import Conflict, DomainError, Throttled, invalid
from marketplace.i18n import N_
from marketplace.tenancy import OrgChoice, Principal


class AccountService(AccessRequests, PasswordResets, Profiles, ApiTokens):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----- sign-in and principals -------------------------------------------------------------

    async def authenticate(self, email: str, password: str, *, ip: str | None = None) -> User:
        user = await self.user_by_email(email)
        known = user if user is not None and user.is_active else None
        # An unknown account's answer checks a dummy hash, so it takes as long as a known one's.
        if not await password_matches(known.password_hash if known else None, password) or known is None:
            await audit.record(
                self.session, "login_failed", actor_user_id=user.id if user else None, ip=ip, email=normalize_email(email)
            )
            raise DomainError("Wrong e-mail address or password.", status_code=400)
        if known.password_hash and needs_rehash(known.password_hash):
            known.password_hash = hash_password(password)
        known.last_login_at = utcnow()
        await audit.record(self.session, "login", actor_user_id=known.id, subject=known, ip=ip)
        return known

    async def sign_in(self, email: str, password: str, *, ip: str | None, policy: ThrottlePolicy) -> tuple[User, Principal]:
        """Throttle by account and address (throttle.py), then authenticate; the user and the
        principal they act as. The attempt and a refusal's audit line are committed here, as the
        refused request's own transaction is rolled back."""
        address = normalize_email(email)
        wait = await throttle.admit(self.session, address, ip, policy)
        if wait:
            await audit.record(self.session, "login_rate_limited", ip=ip, email=address)
            await self.session.commit()
            raise Throttled(wait)
        await self.session.commit()
        if not await oidc.password_sign_in_allowed(self.session, address):
            await audit.record(self.session, "login_password_disabled", ip=ip, email=address)
            await self.session.commit()
            raise DomainError(N_("Your organization signs you in through its own identity provider."), status_code=400)
        try:
            user = await self.authenticate(email, password, ip=ip)
        except DomainError:
            await self.session.commit()
            raise
        await throttle.forget_failures(self.session, address)
        principal = await self.principal_for_user(user.id)
        if principal is None:
            raise DomainError(N_("Your account has no organization yet."), status_code=400)
        return user, principal

    async def sign_out(self, principal: Principal, *, ip: str | None) -> None:
        """Audited here; the session itself ends when the page empties it (sessions.py)."""
        if principal.is_authenticated:
            await audit.record(self.session, "logout", actor_user_id=principal.user_id, ip=ip)

    async def my_sessions(self, principal: Principal, settings: Settings) -> list[WebSession]:
        return await sessions.open_sessions_of(self.session, principal.require().signed_in_user_id, settings)

    async def sign_out_everywhere(self, principal: Principal, *, ip: str | None) -> int:
        """End every session of the signed-in user, this one included; how many ended."""
        user_id = principal.require().signed_in_user_id
        ended = await sessions.end_sessions(self.session, user_id=user_id)
        await audit.record(
            self.session, "sessions_ended", actor_user_id=user_id, ip=ip, count=ended, reason="sign_out_everywhere"
        )
        return ended

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
        """A person's API token, or an integration client's access token (accounts/integrations.py)."""
        if raw_token.startswith(ACCESS_TOKEN_PREFIX):
            return await integrations.principal_for_access_token(self.session, raw_token)
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
        if not await password_matches(user.password_hash, current):
            raise invalid("current_password", "The current password is wrong.")
        check_password(new, "new_password")
        user.password_hash = hash_password(new)
        await audit.record(self.session, "password_changed", actor_user_id=user.id, subject=user)
        # A session opened elsewhere before the change (a copied cookie, another device) ends.
        ended = await sessions.end_sessions(self.session, user_id=user.id, keep=principal.session_id)
        await audit.record(self.session, "sessions_ended", actor_user_id=user.id, count=ended, reason="password_changed")

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
