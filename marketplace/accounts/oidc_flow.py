"""Single sign-on, the flow: authorization code with PKCE (S256) against an organization's provider.

start() keeps state (its SHA-256), nonce and code verifier in oidc_sign_in_states and returns the
provider's authorization URL; finish() deletes that row (so a state works once, and is committed
before anything else can fail), exchanges the code with Authlib's httpx client, verifies the ID
token against the provider's published keys with joserfc (signature, iss, aud, exp, nonce; an unknown
key id fetches the keys again once, for a rotation), then links the account with that verified e-mail
address or provisions one under the role the claim maps to. Nothing is written but the consumed
state and the audit line until every check has passed.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet
from litestar.di import NamedDependency
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts import throttle
from marketplace.accounts.members import normalize_email
from marketplace.accounts.models import Membership, OidcProvider, OidcSignInState, Organization, User
from marketplace.accounts.oidc import STATE_LIFETIME, SingleSignOn, normalize_domain
from marketplace.accounts.passwords import digest
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import DbSession, utcnow
from marketplace.errors import DomainError, Throttled
from marketplace.i18n import N_

HTTP_TIMEOUT = 10.0
DISCOVERY_TTL = 3600.0
# An ID token signed with a key id we do not have fetches the provider's keys again (a rotation), but
# at most once in this many seconds per provider, so a run of such tokens cannot hammer its JWKS.
JWKS_REFETCH_INTERVAL = 60.0
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "PS256"]
CALLBACK_PATH = "/login/sso/callback"
# The browser's cookie while a sign-in is under way (see Started): what secrets.token_urlsafe(32) makes.
BROWSER_COOKIE = "sso_browser"
BROWSER_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")


class SsoError(DomainError):
    """A sign-in through the provider that did not work; `reason` goes to the audit log."""

    status_code = 400

    def __init__(self, message: str, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.reason = reason


NOT_CONFIGURED = N_("Single sign-on is not set up for this organization.")
STATE_GONE = N_("This sign-in link has expired or was already used. Please start again.")
PROVIDER_DOWN = N_("The identity provider cannot be reached. Please try again later.")
UNVERIFIED = N_("The identity provider's answer could not be verified.")
REFUSED = N_("The identity provider refused the sign-in.")
EMAIL_UNVERIFIED = N_("Your identity provider has not confirmed your e-mail address.")
OUTSIDE_DOMAINS = N_("Your e-mail address is not one this organization signs in through its provider.")
NO_ROLE = N_("Your identity provider gives you no role on this platform.")
OTHER_BROWSER = N_(
    "This sign-in was started in another browser, or its cookie has expired. Please start again from the sign-in page."
)


@dataclass
class _Cached:
    value: dict
    fetched: float


# Per process: discovery documents and key sets by issuer (a rotation refetches the keys).
_discovery: dict[str, _Cached] = {}
_keys: dict[str, KeySet] = {}
_refetched_at: dict[str, float] = {}


def forget_provider_caches() -> None:
    """Drop what this process remembers of providers (discovery, keys, refetch times): a test's
    provider starts afresh."""
    _discovery.clear()
    _keys.clear()
    _refetched_at.clear()


async def _get_json(url: str) -> dict:
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            response = await http.get(url)
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoError(PROVIDER_DOWN, f"provider_unreachable: {type(exc).__name__}", status_code=502) from exc


async def discovery(issuer: str) -> dict:
    cached = _discovery.get(issuer)
    if cached is None or time.monotonic() - cached.fetched > DISCOVERY_TTL:
        document = await _get_json(f"{issuer}/.well-known/openid-configuration")
        if document.get("issuer") != issuer:  # OpenID Connect Discovery 1.0, section 4.3
            raise SsoError(UNVERIFIED, "discovery_issuer_mismatch")
        cached = _discovery[issuer] = _Cached(document, time.monotonic())
    return cached.value


async def _key_set(issuer: str, jwks_uri: str, *, refresh: bool = False) -> KeySet:
    if refresh or issuer not in _keys:
        _keys[issuer] = KeySet.import_key_set(await _get_json(jwks_uri))  # type: ignore[arg-type]
    return _keys[issuer]


async def verify_id_token(id_token: str, *, issuer: str, client_id: str, nonce: str) -> dict:
    """The ID token's claims once signature, issuer, audience, expiry and nonce are right."""
    document = await discovery(issuer)
    keys = await _key_set(issuer, document["jwks_uri"])
    try:
        try:
            token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        except jose_errors.InvalidKeyIdError:
            last = _refetched_at.get(issuer)
            if last is not None and time.monotonic() - last < JWKS_REFETCH_INTERVAL:
                raise SsoError(UNVERIFIED, "id_token_unknown_key_refetch_limited") from None
            _refetched_at[issuer] = time.monotonic()
            token = jwt.decode(
                id_token, await _key_set(issuer, document["jwks_uri"], refresh=True), algorithms=ID_TOKEN_ALGORITHMS
            )
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except jose_errors.JoseError as exc:
        raise SsoError(UNVERIFIED, f"id_token_{exc.error}") from exc
    claims = token.claims
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:  # OIDC Core 3.1.3.7, points 4 and 5
        raise SsoError(UNVERIFIED, "id_token_azp")
    return claims


class Started(NamedTuple):
    """Where to send the browser, and the random value its short-lived cookie must carry back."""

    url: str
    browser_key: str


class SignedOn(NamedTuple):
    user: User
    organization_id: uuid.UUID
    # Kept in the session for the provider's sign-out (its id_token_hint).
    id_token: str


class SignOnFlow:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.config = SingleSignOn(session, settings)

    def _client(self, provider: OidcProvider, **kwargs) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=provider.client_id,
            client_secret=self.config.client_secret(provider),
            scope="openid email " + provider.role_claim,
            redirect_uri=self.settings.base_url.rstrip("/") + CALLBACK_PATH,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
            **kwargs,
        )

    async def _admit(self, ip: str | None, policy: ThrottlePolicy | None) -> None:
        """Count a request from this address (committed at once, which releases the bucket's lock)."""
        if policy is None:
            return
        wait = await throttle.admit(self.session, throttle.sso_bucket(ip), None, policy)
        if wait:
            await audit.record(self.session, "sso_rate_limited", ip=ip)
        await self.session.commit()
        if wait:
            raise Throttled(wait)

    async def begin(
        self,
        *,
        organization: str | None,
        email: str | None,
        web_session_id: uuid.UUID | None = None,
        browser_key: str | None = None,
        ip: str | None = None,
        policy: ThrottlePolicy | None = None,
    ) -> Started:
        """/login/sso: the organization named by its id, or found by the e-mail address's domain."""
        await self._admit(ip, policy)
        organization_id: uuid.UUID | None = None
        if email:
            provider = await self.config.provider_for_email(email)
            organization_id = provider.organization_id if provider else None
        elif organization:
            try:
                organization_id = uuid.UUID(organization)
            except ValueError:
                organization_id = None
        if organization_id is None:
            raise SsoError(NOT_CONFIGURED, "not_configured", status_code=404)
        return await self.start(organization_id, web_session_id=web_session_id, login_hint=email or None, browser_key=browser_key)

    async def start(
        self,
        organization_id: uuid.UUID,
        *,
        web_session_id: uuid.UUID | None = None,
        login_hint: str | None = None,
        browser_key: str | None = None,
    ) -> Started:
        """The provider's authorization URL for a new sign-in (state, nonce and verifier kept here),
        and the browser's key: the browser's own when it has started another sign-in (several tabs),
        else a new one."""
        provider = await self.session.get(OidcProvider, organization_id)
        if provider is None or not provider.enabled:
            raise SsoError(NOT_CONFIGURED, "not_configured", status_code=404)
        endpoint = (await discovery(provider.issuer))["authorization_endpoint"]
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        if not browser_key or not BROWSER_KEY.match(browser_key):
            browser_key = secrets.token_urlsafe(32)
        self.session.add(
            OidcSignInState(
                state_hash=digest(state),
                organization_id=organization_id,
                web_session_id=web_session_id,
                browser_key_hash=digest(browser_key),
                nonce=nonce,
                code_verifier=verifier,
            )
        )
        extra = {"login_hint": login_hint} if login_hint else {}
        async with self._client(provider) as client:
            url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=verifier, nonce=nonce, **extra)
        return Started(url, browser_key)

    async def finish(
        self,
        state: str,
        *,
        code: str | None,
        error: str | None = None,
        browser_key: str | None,
        web_session_id: uuid.UUID | None = None,
        ip: str | None = None,
        policy: ThrottlePolicy | None = None,
    ) -> SignedOn:
        """The callback: the signed-in user, the organization they act for and the ID token. A failure is audited
        (committed, as the request's own transaction is rolled back) and raised as SsoError."""
        await self._admit(ip, policy)
        row = await self.session.scalar(
            delete(OidcSignInState).where(OidcSignInState.state_hash == digest(state)).returning(OidcSignInState)
        )
        await self.session.commit()  # the state is spent whatever happens next
        organization_id = row.organization_id if row else None
        try:
            if row is None or row.created_at < utcnow() - STATE_LIFETIME:
                raise SsoError(STATE_GONE, "state_unknown_or_used")
            if not hmac.compare_digest(row.browser_key_hash, digest(browser_key or "")):
                raise SsoError(OTHER_BROWSER, "state_other_browser")
            if row.web_session_id is not None and row.web_session_id != web_session_id:
                raise SsoError(OTHER_BROWSER, "state_other_session")
            if error or not code:
                raise SsoError(REFUSED, f"provider_error: {error or 'no code'}")
            return await self._sign_in(row, code, ip=ip)
        except SsoError as failure:
            await self.session.rollback()
            await audit.record(self.session, "sso_login_failed", organization_id=organization_id, ip=ip, reason=failure.reason)
            await self.session.commit()
            raise

    async def _sign_in(self, row: OidcSignInState, code: str, *, ip: str | None) -> SignedOn:
        provider = await self.session.get(OidcProvider, row.organization_id)
        if provider is None or not provider.enabled:
            raise SsoError(NOT_CONFIGURED, "not_configured", status_code=404)
        endpoint = (await discovery(provider.issuer))["token_endpoint"]
        try:
            async with self._client(provider) as client:
                token = await client.fetch_token(endpoint, code=code, code_verifier=row.code_verifier)
        except httpx.HTTPError as exc:
            raise SsoError(PROVIDER_DOWN, f"provider_unreachable: {type(exc).__name__}", status_code=502) from exc
        except Exception as exc:  # Authlib's OAuthError and friends: the provider said no
            raise SsoError(REFUSED, f"token_error: {type(exc).__name__}") from exc
        if "id_token" not in token:
            raise SsoError(UNVERIFIED, "no_id_token")
        claims = await verify_id_token(token["id_token"], issuer=provider.issuer, client_id=provider.client_id, nonce=row.nonce)
        user, organization_id = await self._link_or_provision(provider, claims, ip=ip)
        return SignedOn(user, organization_id, token["id_token"])

    async def end_session_url(self, organization_id: str | None, id_token: str | None) -> str | None:
        """Where to send the browser at sign-out so the provider's session ends too (RP-initiated
        logout), when the organization asks for it and the provider publishes an end_session_endpoint;
        None signs out here only (also when the provider cannot be reached: leaving must not fail)."""
        try:
            provider = await self.session.get(OidcProvider, uuid.UUID(str(organization_id))) if id_token else None
        except ValueError:
            return None
        if provider is None or not provider.enabled or not provider.end_provider_session:
            return None
        try:
            endpoint = (await discovery(provider.issuer)).get("end_session_endpoint")
        except SsoError:
            return None
        if not endpoint:
            return None
        query = {
            "id_token_hint": id_token,
            "client_id": provider.client_id,
            "post_logout_redirect_uri": self.settings.base_url.rstrip("/") + "/",
        }
        return f"{endpoint}?{urlencode(query)}"

    async def _link_or_provision(self, provider: OidcProvider, claims: dict, *, ip: str | None) -> tuple[User, uuid.UUID]:
        email = normalize_email(str(claims.get("email") or ""))
        if not email or claims.get("email_verified") is not True:
            raise SsoError(EMAIL_UNVERIFIED, "email_unverified")
        allowed = await self.config._domains(provider.organization_id)
        if normalize_domain(email.rpartition("@")[2]) not in allowed:
            raise SsoError(OUTSIDE_DOMAINS, "email_outside_domains")
        values = claims.get(provider.role_claim)
        values = values if isinstance(values, list) else [values]
        roles = [provider.role_mapping[v] for v in values if isinstance(v, str) and v in provider.role_mapping]
        if not roles:
            raise SsoError(NO_ROLE, "role_unmapped")
        org = await self.session.get(Organization, provider.organization_id)
        assert org is not None  # the provider row goes with its organization
        user = await self.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and not user.is_active:
            raise SsoError(REFUSED, "user_inactive")
        if user is None:
            user = User(email=email, name=str(claims.get("name") or email.partition("@")[0])[:100])
            self.session.add(user)
            await self.session.flush()
            await audit.record(self.session, "sso_user_provisioned", organization_id=org.id, subject=user, ip=ip)
        membership = await self.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.organization_id == org.id)
        )
        if membership is None:
            # The first mapped value decides; an existing membership keeps the role its admins gave.
            membership = Membership(user_id=user.id, organization_id=org.id, org_kind=org.kind, role=roles[0])
            self.session.add(membership)
            await self.session.flush()
            await audit.record(
                self.session, "sso_member_linked", organization_id=org.id, subject=membership, ip=ip, role=roles[0]
            )
        user.last_login_at = utcnow()
        await audit.record(self.session, "login", actor_user_id=user.id, organization_id=org.id, subject=user, ip=ip, via="sso")
        return user, org.id


SignOn = NamedDependency[SignOnFlow]


async def provide_sign_on(db_session: DbSession, settings: NamedDependency[Settings]) -> SignOnFlow:
    return SignOnFlow(db_session, settings)
