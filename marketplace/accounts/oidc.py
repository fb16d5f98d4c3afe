"""Single sign-on: an organization's own OpenID provider, configured by the platform admin.

What is configured (OidcProviderInput): the issuer and the client the platform is registered as, the
e-mail domains whose people the provider vouches for, and which value of which claim makes which
role. The client secret is encrypted at rest with a key derived from the app's secret key and never
returned: the views (OidcProviderView) say only whether one is set. The sign-in flow (authorization code
with PKCE, state and nonce kept in oidc_sign_in_states) reads it from here.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from litestar.di import NamedDependency
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import (
    ROLES_BY_KIND,
    OidcEmailDomain,
    OidcProvider,
    OidcSignInState,
    Organization,
    OrgKind,
    Role,
)
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import DbSession, rowcount, utcnow
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound
from marketplace.tenancy import Principal

MAX_DOMAINS = 50
MAX_ROLE_VALUES = 50
# A DNS name: labels of letters, digits and inner hyphens, at least one dot (RFC 1035, lower case).
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CLAIM_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
# No provider makes a platform administrator: that role is given by hand only.
NEVER_MAPPED = frozenset({Role.platform_admin})
# How long a started sign-in waits for its callback (the state row, and the browser's cookie).
STATE_LIFETIME = timedelta(minutes=10)


def _fernet(settings: Settings) -> Fernet:
    """A key for client secrets only, derived from the app's secret key (so a leak of one derived
    key reveals nothing else, and rotating the secret key means re-entering the client secrets)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"marketplace oidc client secret").derive(
        settings.resolved_secret_key().encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(settings: Settings, secret: str) -> bytes:
    return _fernet(settings).encrypt(secret.encode())


def decrypt_secret(settings: Settings, encrypted: bytes) -> str:
    try:
        return _fernet(settings).decrypt(encrypted).decode()
    except InvalidToken as exc:  # the secret key changed since the secret was entered
        raise RuntimeError("the OIDC client secret cannot be decrypted with this secret key") from exc


@dataclass
class OidcProviderInput:
    issuer: str
    client_id: str
    # None keeps the stored secret (a form never shows it, so an edit without one must not erase it).
    client_secret: str | None
    allowed_domains: list[str]
    role_claim: str
    role_mapping: dict[str, str]
    password_sign_in_disabled: bool = False
    end_provider_session: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class OidcProviderView:
    """What pages and the API may show of a configuration: everything but the secret."""

    organization_id: uuid.UUID
    issuer: str
    client_id: str
    client_secret_set: bool
    allowed_domains: list[str]
    role_claim: str
    role_mapping: dict[str, str] = field(default_factory=dict)
    password_sign_in_disabled: bool = False
    end_provider_session: bool = False
    enabled: bool = True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _multi_line(text: str) -> bool:
    return any(c in text for c in "\t\r\n")


def normalize_domain(domain: str) -> str:
    return domain.strip().lower().lstrip("@").rstrip(".")


def validate_provider(data: OidcProviderInput, kind: str, *, has_secret: bool) -> OidcProviderInput:
    """Field-level checks; returns the input with domains normalized and de-duplicated."""
    errors: list[FieldError] = []
    issuer = data.issuer.strip()
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:  # "https://[not-an-ip" and the like
        parts = urlsplit("")
    if _multi_line(issuer) or len(issuer) > 500:
        # urlsplit drops tabs and line breaks without a word: refuse them before it reads the URL.
        errors.append(FieldError("issuer", "The issuer must be a URL without query or fragment, at most 500 characters."))
    elif not parts.scheme or not parts.hostname:
        errors.append(FieldError("issuer", "Enter the provider's issuer URL."))
    elif parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        # OpenID Connect Discovery: the issuer is an https URL (plain http only on this machine, for tests).
        errors.append(FieldError("issuer", "The issuer must be an https URL."))
    elif parts.query or parts.fragment or len(issuer) > 500:
        errors.append(FieldError("issuer", "The issuer must be a URL without query or fragment, at most 500 characters."))
    client_id = data.client_id.strip()
    if not client_id or len(client_id) > 255 or _multi_line(client_id):
        errors.append(FieldError("client_id", "Between %(min)d and %(max)d characters.", {"min": 1, "max": 255}))
    secret = data.client_secret
    if secret is not None and (not secret.strip() or len(secret) > 500 or _multi_line(secret)):
        errors.append(FieldError("client_secret", "Between %(min)d and %(max)d characters.", {"min": 1, "max": 500}))
    elif secret is None and not has_secret:
        errors.append(FieldError("client_secret", "Required."))
    domains = list(dict.fromkeys(normalize_domain(d) for d in data.allowed_domains if d.strip()))
    if not domains:
        errors.append(FieldError("allowed_domains", "Give at least one e-mail domain."))
    elif len(domains) > MAX_DOMAINS:
        errors.append(FieldError("allowed_domains", "At most %(max)d domains.", {"max": MAX_DOMAINS}))
    else:
        bad = [d for d in domains if not DOMAIN.match(d)]
        if bad:
            errors.append(FieldError("allowed_domains", "Not an e-mail domain: %(domain)s", {"domain": bad[0]}))
    if not CLAIM_NAME.match(data.role_claim.strip()):
        errors.append(FieldError("role_claim", "Enter the name of the claim that carries the role."))
    allowed = {str(r) for r in ROLES_BY_KIND[OrgKind(kind)]} - NEVER_MAPPED
    if not data.role_mapping:
        errors.append(FieldError("role_mapping", "Map at least one claim value to a role."))
    elif len(data.role_mapping) > MAX_ROLE_VALUES:
        errors.append(FieldError("role_mapping", "At most %(max)d claim values.", {"max": MAX_ROLE_VALUES}))
    else:
        for value, role in data.role_mapping.items():
            if not value.strip() or len(value) > 200 or _multi_line(value):
                errors.append(FieldError("role_mapping", "A claim value must have 1 to 200 characters."))
                break
            if role not in allowed:
                errors.append(FieldError("role_mapping", "Not a role of this organization: %(role)s", {"role": role}))
                break
    if data.password_sign_in_disabled and not data.enabled:
        errors.append(
            FieldError("password_sign_in_disabled", "Password sign-in can be turned off only while single sign-on is on.")
        )
    if errors:
        raise InvalidInput(*errors)
    return OidcProviderInput(
        issuer=issuer.rstrip("/") if parts.path in ("", "/") else issuer,
        client_id=client_id,
        client_secret=secret,
        allowed_domains=domains,
        role_claim=data.role_claim.strip(),
        role_mapping={value.strip(): role for value, role in data.role_mapping.items()},
        password_sign_in_disabled=data.password_sign_in_disabled,
        end_provider_session=data.end_provider_session,
        enabled=data.enabled,
    )


class SingleSignOn:
    """The service over oidc_providers and oidc_email_domains."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def _domains(self, organization_id: uuid.UUID) -> list[str]:
        rows = await self.session.scalars(
            select(OidcEmailDomain.domain)
            .where(OidcEmailDomain.organization_id == organization_id)
            .order_by(OidcEmailDomain.domain)
        )
        return list(rows)

    async def _view(self, provider: OidcProvider) -> OidcProviderView:
        return OidcProviderView(
            organization_id=provider.organization_id,
            issuer=provider.issuer,
            client_id=provider.client_id,
            client_secret_set=bool(provider.client_secret_encrypted),
            allowed_domains=await self._domains(provider.organization_id),
            role_claim=provider.role_claim,
            role_mapping=dict(provider.role_mapping),
            password_sign_in_disabled=provider.password_sign_in_disabled,
            end_provider_session=provider.end_provider_session,
            enabled=provider.enabled,
        )

    async def get_provider(self, principal: Principal, organization_id: uuid.UUID) -> OidcProviderView | None:
        """The organization's configuration (platform admin only), None when it has none."""
        principal.require_platform_admin()
        if await self.session.get(Organization, organization_id) is None:
            raise NotFound()
        provider = await self.session.get(OidcProvider, organization_id)
        return await self._view(provider) if provider else None

    async def statuses(self, principal: Principal) -> dict[uuid.UUID, bool] | None:
        """Which organizations have a provider configured, and whether it is on (the organizations
        page); None for anyone but the platform admin, who alone sets single sign-on up."""
        if principal.role != Role.platform_admin:
            return None
        rows = await self.session.execute(select(OidcProvider.organization_id, OidcProvider.enabled))
        return {row.organization_id: row.enabled for row in rows}

    async def configure(
        self, principal: Principal, organization_id: uuid.UUID, data: OidcProviderInput, *, ip: str | None = None
    ) -> OidcProviderView:
        """Create or replace an organization's provider configuration; audited without the secret."""
        principal.require_platform_admin()
        org = await self.session.get(Organization, organization_id)
        if org is None:
            raise NotFound()
        provider = await self.session.get(OidcProvider, organization_id, with_for_update=True)
        clean = validate_provider(data, org.kind, has_secret=provider is not None)
        taken = (
            await self.session.scalars(
                select(OidcEmailDomain.domain).where(
                    OidcEmailDomain.domain.in_(clean.allowed_domains), OidcEmailDomain.organization_id != organization_id
                )
            )
        ).first()
        if taken:
            raise Conflict(
                "Already registered.",
                FieldError("allowed_domains", "Another organization signs in %(domain)s already.", {"domain": taken}),
            )
        created = provider is None
        if provider is None:
            provider = OidcProvider(organization_id=organization_id)
            self.session.add(provider)
        before = None if created else await self._view(provider)
        provider.issuer = clean.issuer
        provider.client_id = clean.client_id
        if clean.client_secret is not None:
            provider.client_secret_encrypted = encrypt_secret(self.settings, clean.client_secret)
        provider.role_claim = clean.role_claim
        provider.role_mapping = clean.role_mapping
        provider.password_sign_in_disabled = clean.password_sign_in_disabled
        provider.end_provider_session = clean.end_provider_session
        provider.enabled = clean.enabled
        await self.session.flush()
        await self.session.execute(delete(OidcEmailDomain).where(OidcEmailDomain.organization_id == organization_id))
        try:
            # Two organizations claiming one domain at once pass the check above; the primary key lets one through.
            async with self.session.begin_nested():
                self.session.add_all(OidcEmailDomain(domain=d, organization_id=organization_id) for d in clean.allowed_domains)
        except IntegrityError:
            raise Conflict(
                "Already registered.",
                FieldError("allowed_domains", "Another organization signs in one of these domains already."),
            ) from None
        view = await self._view(provider)
        await audit.record(
            self.session,
            "oidc_provider_configured",
            actor_user_id=principal.user_id,
            organization_id=organization_id,
            subject_type="oidc_providers",
            subject_id=organization_id,
            ip=ip,
            created=created,
            secret_changed=clean.client_secret is not None,
            before=_audited(before),
            after=_audited(view),
        )
        return view

    async def remove(self, principal: Principal, organization_id: uuid.UUID, *, ip: str | None = None) -> None:
        """Turn single sign-on off for good: the configuration, its domains and started sign-ins go."""
        principal.require_platform_admin()
        provider = await self.session.get(OidcProvider, organization_id)
        if provider is None:
            raise NotFound()
        await self.session.delete(provider)
        await audit.record(
            self.session,
            "oidc_provider_removed",
            actor_user_id=principal.user_id,
            organization_id=organization_id,
            subject_type="oidc_providers",
            subject_id=organization_id,
            ip=ip,
        )

    async def provider_for_email(self, email: str) -> OidcProvider | None:
        return await provider_for_email(self.session, email)

    async def password_sign_in_allowed(self, email: str) -> bool:
        return await password_sign_in_allowed(self.session, email)

    def client_secret(self, provider: OidcProvider) -> str:
        """The decrypted secret, for the token request only (never for a page or the API)."""
        return decrypt_secret(self.settings, provider.client_secret_encrypted)


async def provider_for_email(session: AsyncSession, email: str) -> OidcProvider | None:
    """The enabled provider that signs in this address's domain (the login page's lookup)."""
    domain = normalize_domain(email.rpartition("@")[2])
    stmt = (
        select(OidcProvider)
        .join(OidcEmailDomain, OidcEmailDomain.organization_id == OidcProvider.organization_id)
        .where(OidcEmailDomain.domain == domain, OidcProvider.enabled.is_(True))
    )
    return (await session.scalars(stmt)).first()


async def password_sign_in_allowed(session: AsyncSession, email: str) -> bool:
    """False when the address's organization has turned password sign-in off (its people use SSO)."""
    provider = await provider_for_email(session, email)
    return provider is None or not provider.password_sign_in_disabled


async def purge_sign_in_states(session: AsyncSession) -> int:
    """Delete started sign-ins whose callback never came (the worker's housekeeping): past their
    lifetime they are refused anyway, and each holds a nonce and a PKCE verifier."""
    stale = OidcSignInState.created_at < utcnow() - STATE_LIFETIME
    return rowcount(await session.execute(delete(OidcSignInState).where(stale)))


def _audited(view: OidcProviderView | None) -> dict | None:
    """A configuration as the audit log keeps it (no secret there either)."""
    if view is None:
        return None
    return {
        "issuer": view.issuer,
        "client_id": view.client_id,
        "allowed_domains": view.allowed_domains,
        "role_claim": view.role_claim,
        "role_mapping": view.role_mapping,
        "password_sign_in_disabled": view.password_sign_in_disabled,
        "end_provider_session": view.end_provider_session,
        "enabled": view.enabled,
    }


SsoConfig = NamedDependency[SingleSignOn]


async def provide_single_sign_on(db_session: DbSession, settings: NamedDependency[Settings]) -> SingleSignOn:
    return SingleSignOn(db_session, settings)
