"""JSON API of accounts: /api/v1/me, organizations, members and personal API tokens."""

from __future__ import annotations

import dataclasses
import uuid

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from marketplace import page_cache
from marketplace.accounts import schemas
from marketplace.accounts.models import ApiToken, Membership, Organization, OrgKind
from marketplace.accounts.oidc import OidcProviderInput, OidcProviderView, SsoConfig
from marketplace.accounts.oidc_flow import CALLBACK_PATH
from marketplace.accounts.organizations import OrganizationInput
from marketplace.accounts.scopes import SCOPE_OPT
from marketplace.accounts.services import Accounts
from marketplace.accounts.sessions import current_session_id
from marketplace.errors import NotAuthenticated, NotFound
from marketplace.notifications.services import NotificationService
from marketplace.tenancy import ANONYMOUS, CurrentPrincipal, Principal
from marketplace.web import AppSettings, client_ip, is_api


def organization_out(org: Organization) -> schemas.OrganizationOut:
    fields = {f: getattr(org, f) for f in schemas.OrganizationOut.__struct_fields__}
    if org.kind != OrgKind.institution:
        fields["response_working_days"] = None
    return schemas.OrganizationOut(**fields)


def token_out(token: ApiToken) -> schemas.TokenOut:
    return schemas.TokenOut(**{f: getattr(token, f) for f in schemas.TokenOut.__struct_fields__})


def member_out(m: Membership) -> schemas.MemberOut:
    return schemas.MemberOut(
        id=m.id, user_id=m.user_id, email=m.user.email, name=m.user.name, role=m.role, joined_at=m.created_at
    )


def requires_bearer(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Refuse an unauthenticated call before its body is read, so it gets 401 rather than 400."""
    if "authorization" not in connection.headers:
        raise NotAuthenticated()


def sso_out(view: OidcProviderView, settings: AppSettings) -> schemas.SsoConfigOut:
    fields = {f: getattr(view, f) for f in schemas.SsoConfigOut.__struct_fields__ if f != "redirect_uri"}
    return schemas.SsoConfigOut(**fields, redirect_uri=settings.base_url.rstrip("/") + CALLBACK_PATH)


class AccountsApi(Controller):
    path = "/api/v1"
    tags = ["accounts"]
    guards = [requires_bearer]

    @get("/me")
    async def me(self, principal: CurrentPrincipal, accounts: Accounts) -> schemas.MeOut:
        user = await accounts.get_user(principal)
        refs = [
            schemas.OrganizationRef(id=m.organization_id, kind=m.kind, name_zh=m.name_zh, name_en=m.name_en, role=m.role)
            for m in principal.memberships
        ]
        active = next(r for r in refs if r.id == principal.organization_id)
        return schemas.MeOut(
            id=user.id,
            email=user.email,
            name=user.name,
            locale=user.locale,
            organization=active,
            memberships=refs,
            via_token=principal.via_token,
        )

    @get("/organizations")
    async def list_organizations(
        self, principal: CurrentPrincipal, accounts: Accounts, kind: FromQuery[OrgKind | None] = None
    ) -> list[schemas.OrganizationOut]:
        return [organization_out(o) for o in await accounts.list_organizations(principal, kind=kind)]

    @post("/organizations", status_code=HTTP_201_CREATED)
    async def create_organization(
        self, principal: CurrentPrincipal, accounts: Accounts, data: JSONBody[schemas.OrganizationCreate]
    ) -> schemas.OrganizationOut:
        fields = {f: getattr(data, f) for f in data.__struct_fields__}
        org = await accounts.create_organization(principal, OrganizationInput(**fields))
        await accounts.session.refresh(org)
        return organization_out(org)

    @get("/organizations/{organization_id:uuid}")
    async def get_organization(
        self, principal: CurrentPrincipal, accounts: Accounts, organization_id: FromPath[uuid.UUID]
    ) -> schemas.OrganizationOut:
        return organization_out(await accounts.get_organization(principal, organization_id))

    @patch("/organizations/{organization_id:uuid}")
    async def update_organization(
        self,
        request: Request,
        principal: CurrentPrincipal,
        accounts: Accounts,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.OrganizationUpdate],
    ) -> schemas.OrganizationOut:
        """An institution's response time for match requests and its health-technician count (its
        TTO manager or the platform admin)."""
        org = await accounts.update_institution(
            principal,
            organization_id,
            response_working_days=data.response_working_days,
            health_technicians=data.health_technicians,
            ip=client_ip(request),
        )
        return organization_out(org)

    @get("/organizations/{organization_id:uuid}/members")
    async def list_members(
        self, principal: CurrentPrincipal, accounts: Accounts, organization_id: FromPath[uuid.UUID]
    ) -> list[schemas.MemberOut]:
        return [member_out(m) for m in await accounts.list_members(principal, organization_id)]

    @post("/organizations/{organization_id:uuid}/members", status_code=HTTP_201_CREATED)
    async def invite_member(
        self,
        request: Request,
        principal: CurrentPrincipal,
        accounts: Accounts,
        settings: AppSettings,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.InvitationCreate],
    ) -> schemas.InvitationOut:
        invitation, user, org = await accounts.invite_and_send(
            principal, organization_id, settings, email=data.email, name=data.name, role=data.role, ip=client_ip(request)
        )
        return schemas.InvitationOut(
            id=invitation.id, organization_id=org.id, email=user.email, role=invitation.role, expires_at=invitation.expires_at
        )

    @patch("/organizations/{organization_id:uuid}/members/{membership_id:uuid}")
    async def change_role(
        self,
        principal: CurrentPrincipal,
        accounts: Accounts,
        organization_id: FromPath[uuid.UUID],
        membership_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.RoleChange],
    ) -> schemas.MemberOut:
        await accounts.change_role(principal, organization_id, membership_id, data.role)
        members = await accounts.list_members(principal, organization_id)
        return member_out(next(m for m in members if m.id == membership_id))

    @delete("/organizations/{organization_id:uuid}/members/{membership_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def remove_member(
        self,
        principal: CurrentPrincipal,
        accounts: Accounts,
        organization_id: FromPath[uuid.UUID],
        membership_id: FromPath[uuid.UUID],
    ) -> None:
        await accounts.remove_member(principal, organization_id, membership_id)

    @get("/organizations/{organization_id:uuid}/sso")
    async def get_sso(
        self, principal: CurrentPrincipal, sso: SsoConfig, settings: AppSettings, organization_id: FromPath[uuid.UUID]
    ) -> schemas.SsoConfigOut:
        """The organization's single sign-on (platform admin); 404 when it has none. The client
        secret is never returned: `client_secret_set` says whether one is stored."""
        view = await sso.get_provider(principal, organization_id)
        if view is None:
            raise NotFound()
        return sso_out(view, settings)

    @put("/organizations/{organization_id:uuid}/sso")
    async def put_sso(
        self,
        request: Request,
        principal: CurrentPrincipal,
        sso: SsoConfig,
        settings: AppSettings,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.SsoConfigIn],
    ) -> schemas.SsoConfigOut:
        """Set up or replace the organization's OpenID provider (platform admin). Register
        `redirect_uri` at the provider."""
        fields = {f: getattr(data, f) for f in data.__struct_fields__}
        view = await sso.configure(principal, organization_id, OidcProviderInput(**fields), ip=client_ip(request))
        return sso_out(view, settings)

    @delete("/organizations/{organization_id:uuid}/sso", status_code=HTTP_204_NO_CONTENT)
    async def delete_sso(
        self, request: Request, principal: CurrentPrincipal, sso: SsoConfig, organization_id: FromPath[uuid.UUID]
    ) -> None:
        """Remove the organization's single sign-on (platform admin)."""
        await sso.remove(principal, organization_id, ip=client_ip(request))

    @get("/tokens")
    async def list_tokens(self, principal: CurrentPrincipal, accounts: Accounts) -> list[schemas.TokenOut]:
        return [token_out(t) for t in await accounts.list_tokens(principal)]

    @post("/tokens", status_code=HTTP_201_CREATED)
    async def create_token(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, data: JSONBody[schemas.TokenCreate]
    ) -> schemas.TokenCreated:
        token, raw = await accounts.create_token(principal, data.name, ip=client_ip(request))
        await accounts.session.refresh(token)
        return schemas.TokenCreated(**{f: getattr(token, f) for f in schemas.TokenOut.__struct_fields__}, token=raw)

    @delete("/tokens/{token_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_token(self, principal: CurrentPrincipal, accounts: Accounts, token_id: FromPath[uuid.UUID]) -> None:
        await accounts.revoke_token(principal, token_id)


async def provide_principal(request: Request, accounts: Accounts) -> Principal:
    """Who is asking. The API trusts only bearer tokens, the pages only the session cookie, so the
    API needs no CSRF token and a stolen token cannot drive the pages."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _sep, raw = authorization.partition(" ")
        principal = None
        if scheme.lower() == "bearer" and raw.strip():
            principal = await accounts.principal_for_token(raw.strip())
        if principal is None:
            raise NotAuthenticated()
        # An integration's token calls only the operations its scopes cover (accounts/scopes.py).
        principal.require_scope(request.route_handler.opt.get(SCOPE_OPT))
    elif is_api(request):
        principal = ANONYMOUS
    else:
        principal = ANONYMOUS
        user_id = request.session.get("user_id")
        if user_id:
            org_id = request.session.get("org_id")
            found = await _signed_in(accounts, uuid.UUID(user_id), uuid.UUID(org_id) if org_id else None)
            if found is None:
                request.clear_session()
            else:
                principal = dataclasses.replace(found[0], session_id=current_session_id(request.scope))
                request.state.unread_notifications = found[1]
    request.state.principal = principal
    return principal


async def _signed_in(accounts: Accounts, user_id: uuid.UUID, org_id: uuid.UUID | None) -> tuple[Principal, int] | None:
    """A signed-in user's principal and their unread notices (the badge in every page's header),
    kept in the process's page store until anything a member might see is written."""
    key = (user_id, org_id)
    kept = page_cache.STORE.principal(key)
    if kept is not None:
        return kept
    generation = page_cache.STORE.member_generation
    found = await accounts.principal_for_user(user_id, org_id)
    if found is None:
        return None
    signed_in = found, await NotificationService(accounts.session).unread_count(found.signed_in_user_id)
    page_cache.STORE.keep_principal(key, signed_in, generation)
    return signed_in
