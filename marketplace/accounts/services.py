"""Accounts: organizations, users, memberships, sign-in, API tokens and invitations.

The only code that writes these tables. Every rule here is also a constraint in PostgreSQL where
one can express it (role per kind of organization, 10% research beds, credit-code format).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from authlib.common.security import generate_token
from limits import parse as parse_limit
from limits.aio.strategies import RateLimiter
from litestar.di import NamedDependency
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import (
    ADMIN_ROLES,
    MAX_RESPONSE_WORKING_DAYS,
    ROLES_BY_KIND,
    ApiToken,
    Invitation,
    Membership,
    Organization,
    OrgKind,
    Role,
    User,
)
from marketplace.accounts.schemas import EMAIL_PATTERN
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import DbSession
from marketplace.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound, invalid
from marketplace.i18n import N_, gettext
from marketplace.notifications.services import send_email
from marketplace.tenancy import OrgChoice, Principal, require_org_in_scope, scoped

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
TOKEN_PREFIX = "mkp_"
MIN_PASSWORD_LENGTH = 10

# GB 32100-2015: the unified social credit code's alphabet (no I, O, S, V, Z) and check weights.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in code):
        return False
    return credit_code_check_character(code[:17]) == code[17]


def use_password_profile(name: str) -> None:
    """Pick argon2's cost profile (PASSWORD_HASH_PROFILE). Hashes made with a cheaper profile are
    upgraded on the next sign-in, because check_needs_rehash compares against the current one."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(getattr(profiles, name))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_password(password: str, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(field_name, "Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass
class OrganizationInput:
    kind: str
    name_zh: str
    city: str
    name_en: str | None = None
    district: str | None = None
    grade: str | None = None
    approved_beds: int | None = None
    research_beds: int | None = None
    gcp_certified: bool = False
    ethics_alliance_member: bool = False
    pi_concurrent_trial_threshold: int | None = None
    credit_code: str | None = None
    segment: str | None = None


def validate_organization(data: OrganizationInput) -> None:
    """Field-level checks that mirror the table's CHECK constraints, so errors name the field."""
    errors: list[FieldError] = []
    required = {
        OrgKind.institution: ("grade", "approved_beds", "research_beds", "pi_concurrent_trial_threshold"),
        OrgKind.company: ("credit_code", "segment"),
        OrgKind.platform: (),
    }[OrgKind(data.kind)]
    for name in required:
        if getattr(data, name) in (None, ""):
            errors.append(FieldError(name, "Required for this kind of organization."))
    if not data.name_zh.strip():
        errors.append(FieldError("name_zh", "Required."))
    if data.kind == OrgKind.institution and data.approved_beds is not None and data.research_beds is not None:
        if data.approved_beds < 0:
            errors.append(FieldError("approved_beds", "Must not be negative."))
        if data.research_beds < 0:
            errors.append(FieldError("research_beds", "Must not be negative."))
        elif data.research_beds * 10 > data.approved_beds:
            errors.append(
                FieldError(
                    "research_beds",
                    "Research beds may be at most 10%% of approved beds (%(limit)d).",
                    {"limit": data.approved_beds // 10},
                )
            )
    if data.pi_concurrent_trial_threshold is not None and data.pi_concurrent_trial_threshold <= 0:
        errors.append(FieldError("pi_concurrent_trial_threshold", "Must be at least 1."))
    if data.credit_code and not is_valid_credit_code(data.credit_code):
        errors.append(FieldError("credit_code", "Not a valid unified social credit code (GB 32100-2015 check character)."))
    if errors:
        raise InvalidInput(*errors)


class AccountService:
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
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = datetime.now(UTC)
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

    async def user_by_email(self, email: str) -> User | None:
        stmt = select(User).where(func.lower(User.email) == normalize_email(email))
        return (await self.session.scalars(stmt)).first()

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
            select(ApiToken).where(ApiToken.token_hash == _digest(raw_token), ApiToken.revoked_at.is_(None))
        )
        if token is None:
            return None
        token.last_used_at = datetime.now(UTC)
        return await self.principal_for_user(token.user_id, token.organization_id, via_token=True)

    # ----- organizations ----------------------------------------------------------------------

    async def create_organization(self, principal: Principal, data: OrganizationInput) -> Organization:
        principal.require(Role.platform_admin)
        validate_organization(data)
        if data.credit_code and await self.session.scalar(
            select(Organization.id).where(Organization.credit_code == data.credit_code)
        ):
            raise Conflict("Already registered.", FieldError("credit_code", "This credit code is already registered."))
        org = Organization(**dict(vars(data).items()))
        self.session.add(org)
        await self.session.flush()
        await audit.record(
            self.session, "organization_created", actor_user_id=principal.user_id, organization_id=org.id, subject=org
        )
        return org

    async def list_organizations(self, principal: Principal, *, kind: str | None = None) -> list[Organization]:
        stmt = scoped(select(Organization), Organization.id, principal).order_by(Organization.kind, Organization.name_zh)
        if kind:
            stmt = stmt.where(Organization.kind == kind)
        return list((await self.session.scalars(stmt)).all())

    async def get_organization(self, principal: Principal, organization_id: uuid.UUID) -> Organization:
        require_org_in_scope(principal, organization_id)
        org = await self.session.get(Organization, organization_id)
        if org is None:
            raise NotFound()
        return org

    async def public_organizations(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organization]:
        """Names, city and kind of organizations are public (profile pages, listing owners)."""
        if not ids:
            return {}
        rows = await self.session.scalars(select(Organization).where(Organization.id.in_(ids)))
        return {org.id: org for org in rows}

    async def directory(self, kind: str) -> list[Organization]:
        """Every organization of a kind, by name (names are public): to choose one in a form."""
        stmt = select(Organization).where(Organization.kind == kind).order_by(Organization.name_zh)
        return list((await self.session.scalars(stmt)).all())

    async def public_organization(self, organization_id: uuid.UUID, kind: str | None = None) -> Organization:
        org = (await self.public_organizations({organization_id})).get(organization_id)
        if org is None or (kind and org.kind != kind):
            raise NotFound()
        return org

    @staticmethod
    def may_set_response_working_days(principal: Principal, organization_id: uuid.UUID) -> bool:
        """The institution's TTO manager, or the platform admin."""
        return principal.role == Role.platform_admin or (
            principal.role == Role.tto_manager and organization_id == principal.organization_id
        )

    async def set_response_working_days(
        self, principal: Principal, organization_id: uuid.UUID, days: int, *, ip: str | None = None
    ) -> Organization:
        """How many working days the institution gives itself to answer a match request: its TTO
        manager's (or the platform admin's) call. Applies to requests submitted from now on."""
        org = await self.get_organization(principal, organization_id)
        if not self.may_set_response_working_days(principal, org.id):
            raise Forbidden()
        if org.kind != OrgKind.institution:
            raise invalid("response_working_days", "Only institutions answer match requests.")
        if not 1 <= days <= MAX_RESPONSE_WORKING_DAYS:
            raise invalid(
                "response_working_days", "Between %(min)d and %(max)d working days.", min=1, max=MAX_RESPONSE_WORKING_DAYS
            )
        before = org.response_working_days
        if days != before:
            org.response_working_days = days
            await audit.record(
                self.session,
                "response_days_changed",
                actor_user_id=principal.user_id,
                organization_id=org.id,
                subject=org,
                ip=ip,
                before=before,
                after=days,
            )
        return org

    # ----- members ----------------------------------------------------------------------------

    async def list_members(self, principal: Principal, organization_id: uuid.UUID) -> list[Membership]:
        await self.get_organization(principal, organization_id)
        stmt = (
            select(Membership)
            .where(Membership.organization_id == organization_id)
            .options(selectinload(Membership.user))
            .join(User)
            .order_by(User.name)
        )
        return list((await self.session.scalars(stmt)).all())

    async def user_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Display names for the activity list (only ids the caller was already allowed to see)."""
        if not ids:
            return {}
        rows = await self.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        return dict(rows.all())  # not dict(rows): a Result has keys(), so dict() would treat it as a mapping

    async def active_users(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, User]:
        """Active users by id, for other domains that write to them (e-mail address, language)."""
        if not ids:
            return {}
        rows = await self.session.scalars(select(User).where(User.id.in_(ids), User.is_active))
        return {user.id: user for user in rows}

    async def member_contacts(self, organization_id: uuid.UUID, roles: frozenset[Role]) -> list[User]:
        """Active members of an organization in `roles`, for e-mails another domain sends them."""
        stmt = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id, Membership.role.in_(list(roles)), User.is_active)
            .order_by(User.email)
        )
        return list((await self.session.scalars(stmt)).all())

    async def member_ids(self, organization_id: uuid.UUID, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `user_ids` belong to the organization (for other domains naming people)."""
        stmt = select(Membership.user_id).where(Membership.organization_id == organization_id, Membership.user_id.in_(user_ids))
        return set((await self.session.scalars(stmt)).all())

    async def pending_invitations(self, principal: Principal, organization_id: uuid.UUID) -> list[tuple[Invitation, User]]:
        await self.get_organization(principal, organization_id)
        stmt = (
            select(Invitation, User)
            .join(User, User.id == Invitation.user_id)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > func.now(),
            )
            .order_by(Invitation.created_at.desc())
        )
        return [(inv, user) for inv, user in (await self.session.execute(stmt)).all()]

    async def _managed_organization(self, principal: Principal, organization_id: uuid.UUID) -> Organization:
        org = await self.get_organization(principal, organization_id)
        if not (principal.role == Role.platform_admin or (principal.is_org_admin and org.id == principal.organization_id)):
            raise Forbidden()
        return org

    async def invite(
        self,
        principal: Principal,
        organization_id: uuid.UUID,
        *,
        email: str,
        name: str,
        role: str,
        ttl: timedelta,
        ip: str | None = None,
    ) -> tuple[Invitation, User, str]:
        """Invite someone by e-mail. Returns the raw one-time token, to be sent and never stored."""
        org = await self._managed_organization(principal, organization_id)
        email = normalize_email(email)
        if not re.fullmatch(EMAIL_PATTERN, email):
            raise invalid("email", "Enter a valid e-mail address.")
        if role not in ROLES_BY_KIND[OrgKind(org.kind)]:
            raise invalid("role", "This role does not exist in this kind of organization.")
        user = await self.user_by_email(email)
        if user is not None:
            already = await self.session.scalar(
                select(Membership.id).where(Membership.user_id == user.id, Membership.organization_id == org.id)
            )
            if already:
                raise Conflict("Already a member.", FieldError("email", "This person is already a member."))
        else:
            user = User(email=email, name=name.strip() or email.split("@")[0])
            self.session.add(user)
            await self.session.flush()
        raw = generate_token(40)
        invitation = Invitation(
            organization_id=org.id,
            user_id=user.id,
            role=role,
            token_hash=_digest(raw),
            invited_by_user_id=principal.user_id,
            expires_at=datetime.now(UTC) + ttl,
        )
        self.session.add(invitation)
        await self.session.flush()
        await audit.record(
            self.session,
            "invitation_sent",
            actor_user_id=principal.user_id,
            organization_id=org.id,
            subject=invitation,
            ip=ip,
            email=email,
            role=role,
        )
        return invitation, user, raw

    async def invite_and_send(
        self,
        principal: Principal,
        organization_id: uuid.UUID,
        settings: Settings,
        *,
        email: str,
        name: str,
        role: str,
        ip: str | None = None,
    ) -> tuple[Invitation, User, Organization]:
        """Invite and e-mail the link. Committed first: the invitation exists before its e-mail leaves."""
        invitation, user, raw = await self.invite(
            principal,
            organization_id,
            email=email,
            name=name,
            role=role,
            ttl=timedelta(hours=settings.invitation_ttl_hours),
            ip=ip,
        )
        org = await self.get_organization(principal, organization_id)
        await self.session.commit()
        await send_invitation(settings, user.email, org.name_zh, raw)
        return invitation, user, org

    async def open_invitation(self, raw_token: str) -> tuple[Invitation, User, Organization]:
        """The invitation a link points to, if it is unused and unexpired; otherwise 404."""
        row = (
            await self.session.execute(
                select(Invitation, User, Organization)
                .join(User, User.id == Invitation.user_id)
                .join(Organization, Organization.id == Invitation.organization_id)
                .where(
                    Invitation.token_hash == _digest(raw_token),
                    Invitation.accepted_at.is_(None),
                    Invitation.expires_at > func.now(),
                )
                .with_for_update(of=Invitation)
            )
        ).first()
        if row is None:
            raise NotFound()
        return row[0], row[1], row[2]

    async def accept_invitation(self, raw_token: str, *, password: str | None, name: str | None = None) -> User:
        invitation, user, org = await self.open_invitation(raw_token)
        if user.password_hash is None:
            if password is None:
                raise invalid("password", "Required.")
            _check_password(password)
            user.password_hash = hash_password(password)
        if name and name.strip():
            user.name = name.strip()
        invitation.accepted_at = datetime.now(UTC)
        self.session.add(Membership(user_id=user.id, organization_id=org.id, org_kind=org.kind, role=invitation.role))
        await self.session.flush()
        await audit.record(self.session, "invitation_accepted", actor_user_id=user.id, organization_id=org.id, subject=invitation)
        return user

    async def _membership_in(self, principal: Principal, organization_id: uuid.UUID, membership_id: uuid.UUID) -> Membership:
        await self._managed_organization(principal, organization_id)
        membership = await self.session.scalar(
            select(Membership).where(Membership.id == membership_id, Membership.organization_id == organization_id)
        )
        if membership is None:
            raise NotFound()
        return membership

    async def _keep_one_admin(self, membership: Membership) -> None:
        if membership.role not in ADMIN_ROLES:
            return
        admins = (
            await self.session.execute(
                select(func.count())
                .select_from(Membership)
                .where(Membership.organization_id == membership.organization_id, Membership.role.in_(list(ADMIN_ROLES)))
            )
        ).scalar_one()
        if admins <= 1:
            raise Conflict(
                "An organization keeps at least one administrator.", FieldError("role", "This is the last administrator.")
            )

    async def change_role(
        self, principal: Principal, organization_id: uuid.UUID, membership_id: uuid.UUID, role: str
    ) -> Membership:
        membership = await self._membership_in(principal, organization_id, membership_id)
        if role not in ROLES_BY_KIND[OrgKind(membership.org_kind)]:
            raise invalid("role", "This role does not exist in this kind of organization.")
        if role == membership.role:
            return membership
        if role not in ADMIN_ROLES:
            await self._keep_one_admin(membership)
        before = membership.role
        membership.role = role
        await audit.record(
            self.session,
            "role_changed",
            actor_user_id=principal.user_id,
            organization_id=organization_id,
            subject=membership,
            user_id=membership.user_id,
            before=before,
            after=role,
        )
        return membership

    async def remove_member(self, principal: Principal, organization_id: uuid.UUID, membership_id: uuid.UUID) -> None:
        membership = await self._membership_in(principal, organization_id, membership_id)
        await self._keep_one_admin(membership)
        await audit.record(
            self.session,
            "member_removed",
            actor_user_id=principal.user_id,
            organization_id=organization_id,
            subject=membership,
            user_id=membership.user_id,
            role=membership.role,
        )
        await self.session.delete(membership)

    # ----- profile ----------------------------------------------------------------------------

    async def get_user(self, principal: Principal) -> User:
        principal.require()
        return await self.session.get_one(User, principal.user_id)

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
        _check_password(new, "new_password")
        user.password_hash = hash_password(new)
        await audit.record(self.session, "password_changed", actor_user_id=user.id, subject=user)

    # ----- API tokens -------------------------------------------------------------------------

    async def create_token(self, principal: Principal, name: str, *, ip: str | None = None) -> tuple[ApiToken, str]:
        principal.require()
        if not name.strip():
            raise invalid("name", "Required.")
        raw = TOKEN_PREFIX + generate_token(40)
        token = ApiToken(
            user_id=principal.user_id,
            organization_id=principal.organization_id,
            name=name.strip(),
            prefix=raw[:12],
            token_hash=_digest(raw),
        )
        self.session.add(token)
        await self.session.flush()
        await audit.record(
            self.session,
            "token_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=token,
            ip=ip,
            name=token.name,
        )
        return token, raw

    async def list_tokens(self, principal: Principal) -> list[ApiToken]:
        principal.require()
        stmt = select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.created_at.desc())
        return list((await self.session.scalars(stmt)).all())

    async def revoke_token(self, principal: Principal, token_id: uuid.UUID) -> ApiToken:
        principal.require()
        token = await self.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == principal.user_id))
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
            await audit.record(self.session, "token_revoked", actor_user_id=principal.user_id, subject=token, name=token.name)
        return token

    async def bootstrap_platform(self, data: OrganizationInput, *, email: str, name: str, password: str) -> Membership:
        """Create the platform organization and its first administrator on an empty database, where
        nobody exists yet to act (the CLI's bootstrap-admin, the demo data). Refused once any
        organization exists, so it can never add a second way in; no request reaches it."""
        if data.kind != OrgKind.platform:
            raise invalid("kind", "The first organization is the platform.")
        if await organization_count(self.session):
            raise Conflict("The database already has organizations.")
        validate_organization(data)
        _check_password(password)
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


async def organization_count(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Organization))).scalar_one()


async def send_invitation(settings: Settings, email: str, org_name: str, raw_token: str) -> None:
    link = f"{settings.base_url.rstrip('/')}/invitations/{raw_token}"
    subject = gettext("You are invited to %(org)s on the medical tech-transfer marketplace", org=org_name)
    body = gettext(
        "You have been invited to join %(org)s.\n\nSet your password and sign in here (the link works once and "
        "expires in %(hours)d hours):\n%(link)s\n",
        org=org_name,
        hours=settings.invitation_ttl_hours,
        link=link,
    )
    await send_email(settings, email, subject, body)


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Accounts = NamedDependency[AccountService]


async def provide_accounts(db_session: DbSession) -> AccountService:
    return AccountService(db_session)
