"""Integration clients: an organization's own systems (research management, CRM) calling /api/v1
with OAuth 2 client credentials.

An institution's TTO manager or a company's administrator registers a client with scopes from the
fixed list (scopes.py); its secret is shown once and only its SHA-256 kept; rotating shows a new
one and the old stops working; revoking stops the client and its live tokens at once. The platform
admin sees every client and may revoke any, but never holds a secret: clients act for institutions
and companies only. Each client acts through a service user of its own (no password, no
membership) under the administrator role of its organization's kind, so every service, tenancy
rule and audit line works unchanged and names the integration; its token adds the granted scopes
to the principal, which the API checks per operation (tenancy.Principal.require_scope).

Tokens are issued by Authlib's authorization server (oauth_server.py); this module loads the
client before and stores the token after, as Authlib's hooks are synchronous.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from authlib.common.security import generate_token
from litestar.di import NamedDependency
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.accounts import throttle
from marketplace.accounts.integration_models import IntegrationClient, IntegrationToken
from marketplace.accounts.models import Organization, OrgKind, Role, User
from marketplace.accounts.oauth_server import ClientCredentials, TokenRequest, run_token_endpoint
from marketplace.accounts.passwords import digest
from marketplace.accounts.scopes import Scope
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import DbSession, add_unless_taken, rowcount, utcnow
from marketplace.errors import Duplicate, FieldError, Forbidden, InvalidInput, NotFound, Throttled, invalid
from marketplace.i18n import N_
from marketplace.tenancy import OrgChoice, Principal

CLIENT_ID_PREFIX = "mkc_"
SECRET_PREFIX = "mks_"
NAME_MAX = 80
# The role a client acts in: its organization's administrator role (never a platform role).
CLIENT_ROLE = {OrgKind.institution: Role.tto_manager, OrgKind.company: Role.company_admin}
MANAGERS = tuple(CLIENT_ROLE.values())
# Its service user's address: `.invalid` is reserved (RFC 2606), so no mail and no provider's domain.
SERVICE_EMAIL_DOMAIN = "integrations.invalid"
ACTIVE_NAME_INDEX = "uq_integration_clients_active_name"


@dataclass(frozen=True)
class IssuedSecret:
    client: IntegrationClient
    secret: str  # shown once


def _secret() -> str:
    return SECRET_PREFIX + generate_token(48)


def check_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise invalid("name", "Required.")
    if len(cleaned) > NAME_MAX:
        raise invalid("name", N_("At most %(max)d characters."), max=NAME_MAX)
    return cleaned


def check_scopes(scopes: list[str]) -> list[str]:
    """The chosen scopes in the list's order; unknown ones are named in the error."""
    known = {s.value for s in Scope}
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise InvalidInput(
            *[FieldError("scopes", N_("Unknown scope: %(scope)s."), {"scope": s[:40]}) for s in dict.fromkeys(unknown)]
        )
    chosen: list[str] = [s.value for s in Scope if s.value in scopes]
    if not chosen:
        raise invalid("scopes", N_("Choose at least one scope."))
    return chosen


def may_register(principal: Principal) -> bool:
    """Institutions' TTO managers and companies' administrators register clients; nobody else."""
    return principal.role in MANAGERS


class IntegrationService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    # ----- the clients, for the organization's administrator ------------------------------------

    async def list_clients(self, principal: Principal) -> list[IntegrationClient]:
        """The acting organization's clients; every organization's for the platform admin."""
        principal.require(*MANAGERS, Role.platform_admin)
        stmt = (
            select(IntegrationClient)
            .options(selectinload(IntegrationClient.organization))
            .order_by(IntegrationClient.revoked_at.is_not(None), IntegrationClient.created_at.desc())
        )
        if not principal.is_platform:
            stmt = stmt.where(IntegrationClient.organization_id == principal.organization_id)
        return list((await self.session.scalars(stmt)).all())

    async def register(self, principal: Principal, name: str, scopes: list[str], *, ip: str | None = None) -> IssuedSecret:
        if not may_register(principal.require()):
            raise Forbidden()
        # Every field's error at once.
        errors: list[FieldError] = []
        try:
            name = check_name(name)
        except InvalidInput as error:
            errors += error.errors
        try:
            chosen = check_scopes(scopes)
        except InvalidInput as error:
            errors += error.errors
        if errors:
            raise InvalidInput(*errors)
        client_id = CLIENT_ID_PREFIX + generate_token(24)
        user = User(email=f"{client_id.lower()}@{SERVICE_EMAIL_DOMAIN}", name=name, password_hash=None)
        self.session.add(user)
        await self.session.flush()
        secret = _secret()
        client = IntegrationClient(
            organization_id=principal.acting_organization_id,
            user_id=user.id,
            name=name,
            client_id=client_id,
            secret_hash=digest(secret),
            scopes=chosen,
            created_by_user_id=principal.user_id,
        )
        # A form sent twice makes one client: the second finds the active name taken.
        if not await add_unless_taken(self.session, client, ACTIVE_NAME_INDEX):
            await self.session.delete(user)
            existing = await self.session.scalar(
                select(IntegrationClient.id).where(
                    IntegrationClient.organization_id == principal.organization_id,
                    IntegrationClient.name == name,
                    IntegrationClient.revoked_at.is_(None),
                )
            )
            raise Duplicate(
                N_("An active integration already has this name."),
                FieldError("name", N_("An active integration already has this name.")),
                existing=existing,
            )
        await audit.record(
            self.session,
            "integration_registered",
            actor_user_id=principal.user_id,
            organization_id=client.organization_id,
            subject=client,
            ip=ip,
            name=name,
            client_id=client_id,
            scopes=chosen,
        )
        return IssuedSecret(client, secret)

    async def _managed(self, principal: Principal, client_pk: uuid.UUID) -> IntegrationClient:
        principal.require(*MANAGERS, Role.platform_admin)
        client = await self.session.get(IntegrationClient, client_pk, options=[selectinload(IntegrationClient.organization)])
        if client is None or not principal.sees_organization(client.organization_id):
            raise NotFound()
        return client

    async def rotate_secret(self, principal: Principal, client_pk: uuid.UUID, *, ip: str | None = None) -> IssuedSecret:
        """A new secret, shown once; the old one stops working. Tokens already issued run out."""
        client = await self._managed(principal, client_pk)
        if principal.is_platform:
            raise Forbidden()  # the platform never holds an organization's secret
        if client.revoked_at is not None:
            raise invalid("client", N_("This integration has been revoked."))
        secret = _secret()
        client.secret_hash = digest(secret)
        client.secret_rotated_at = utcnow()
        await audit.record(
            self.session,
            "integration_secret_rotated",
            actor_user_id=principal.user_id,
            organization_id=client.organization_id,
            subject=client,
            ip=ip,
            name=client.name,
        )
        return IssuedSecret(client, secret)

    async def revoke(self, principal: Principal, client_pk: uuid.UUID, *, ip: str | None = None) -> IntegrationClient:
        """The client stops, and so do its live tokens (deleted here, refused by revoked_at too)."""
        client = await self._managed(principal, client_pk)
        if client.revoked_at is None:
            client.revoked_at = utcnow()
            await self.session.execute(delete(IntegrationToken).where(IntegrationToken.client_id == client.id))
            await self.session.execute(update(User).where(User.id == client.user_id).values(is_active=False))
            await audit.record(
                self.session,
                "integration_revoked",
                actor_user_id=principal.user_id,
                organization_id=client.organization_id,
                subject=client,
                ip=ip,
                name=client.name,
            )
        return client

    # ----- the token endpoint --------------------------------------------------------------------

    async def token_endpoint(self, request: TokenRequest, *, ip: str | None) -> tuple[int, dict, list[tuple[str, str]]]:
        """POST /oauth/token: throttle by client and address, load the client, let Authlib decide,
        then store the token it issued. Refusals are audited and committed here (the answer's own
        transaction rolls back)."""
        presented = request.presented_client_id()
        key = f"oauth-client:{(presented or '-')[:200]}"
        wait = await throttle.admit(self.session, key, ip, ThrottlePolicy.of(self.settings))
        if wait:
            await audit.record(self.session, "integration_token_rate_limited", ip=ip, client_id=(presented or "")[:80])
            await self.session.commit()
            raise Throttled(wait)
        await self.session.commit()
        row = None
        if presented:
            row = await self.session.scalar(
                select(IntegrationClient).where(IntegrationClient.client_id == presented, IntegrationClient.revoked_at.is_(None))
            )
        lifetime = self.settings.integration_token_minutes * 60
        status, body, headers, issued = run_token_endpoint(request, ClientCredentials(row) if row else None, lifetime)
        if issued is None or row is None:
            await audit.record(
                self.session,
                "integration_token_refused",
                organization_id=row.organization_id if row else None,
                subject=row,
                ip=ip,
                client_id=(presented or "")[:80],
                error=str(body.get("error", "")),
            )
            await self.session.commit()
            return status, body, headers
        now = utcnow()
        token = IntegrationToken(
            client_id=row.id,
            organization_id=row.organization_id,
            token_hash=digest(issued["access_token"]),
            scopes=issued["scope"].split(),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        self.session.add(token)
        await throttle.forget_failures(self.session, key)
        await self.session.flush()
        await audit.record(
            self.session,
            "integration_token_issued",
            actor_user_id=row.user_id,
            organization_id=row.organization_id,
            subject=row,
            ip=ip,
            name=row.name,
            scopes=token.scopes,
            expires_at=token.expires_at.isoformat(),
        )
        return status, body, headers


async def principal_for_access_token(session: AsyncSession, raw: str) -> Principal | None:
    """The client's principal with the token's scopes, or None when unknown, expired or revoked."""
    found = (
        await session.execute(
            select(IntegrationToken, IntegrationClient, Organization)
            .join(IntegrationClient, IntegrationClient.id == IntegrationToken.client_id)
            .join(Organization, Organization.id == IntegrationClient.organization_id)
            .where(
                IntegrationToken.token_hash == digest(raw),
                IntegrationToken.expires_at > utcnow(),
                IntegrationClient.revoked_at.is_(None),
            )
        )
    ).first()
    if found is None:
        return None
    token, client, org = found
    role = CLIENT_ROLE.get(OrgKind(org.kind))
    if role is None:
        return None
    client.last_used_at = utcnow()
    choice = OrgChoice(org.id, org.name_zh, org.name_en, org.kind, role)
    return Principal(
        user_id=client.user_id,
        email=f"{client.client_id.lower()}@{SERVICE_EMAIL_DOMAIN}",
        name=client.name,
        organization_id=org.id,
        org_kind=org.kind,
        role=role,
        memberships=(choice,),
        via_token=True,
        scopes=frozenset(token.scopes),
    )


async def purge_expired_tokens(db: AsyncSession) -> int:
    """Tokens that have run out are of no use to anyone (each issue stays in the audit trail)."""
    return rowcount(await db.execute(delete(IntegrationToken).where(IntegrationToken.expires_at <= utcnow())))


async def purge_job(settings: Settings, sessionmaker) -> None:
    async with sessionmaker() as db, db.begin():
        await purge_expired_tokens(db)


# Controllers ask for the service by this name.
Integrations = NamedDependency[IntegrationService]


async def provide_integrations(db_session: DbSession, settings: NamedDependency[Settings]) -> IntegrationService:
    return IntegrationService(db_session, settings)
