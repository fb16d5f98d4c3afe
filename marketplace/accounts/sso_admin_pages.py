"""The platform admin's page of an organization's single sign-on: its provider, the client the
platform is registered as there, the e-mail domains and the role mapping. Controllers only: every
rule is in oidc.py (SingleSignOn); the client secret is never shown, only whether one is set."""

from __future__ import annotations

import re
import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace.accounts.models import ROLES_BY_KIND, OrgKind
from marketplace.accounts.oidc import MAX_ROLE_VALUES, NEVER_MAPPED, OidcProviderInput, OidcProviderView, SsoConfig
from marketplace.accounts.oidc_flow import CALLBACK_PATH
from marketplace.accounts.services import Accounts
from marketplace.errors import DomainError, FieldError, InvalidInput
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import AppSettings, client_ip, field_errors, flash, render

Form = URLEncodedBody[dict[str, str]]
MAPPING_ROW = re.compile(r"^map_value_(\d{1,3})$")
BLANK_ROWS = 3
# Domains are typed one a line, or separated by commas or spaces.
DOMAIN_SEPARATORS = re.compile(r"[\s,;，；]+")


def provider_input(form: dict[str, str]) -> OidcProviderInput:
    """The form as the service's input: a blank secret keeps the stored one; a mapping row is a
    claim value and the role it gives (rows left blank are ignored)."""
    mapping: dict[str, str] = {}
    rows = sorted(int(m.group(1)) for key in form if (m := MAPPING_ROW.match(key)))
    for index in rows[: MAX_ROLE_VALUES + BLANK_ROWS]:
        value, role = form.get(f"map_value_{index}", "").strip(), form.get(f"map_role_{index}", "")
        if value and not role:
            raise InvalidInput(FieldError("role_mapping", "Choose a role for each claim value."))
        if value:
            mapping[value] = role
    return OidcProviderInput(
        issuer=form.get("issuer", ""),
        client_id=form.get("client_id", ""),
        client_secret=form.get("client_secret") or None,
        allowed_domains=[d for d in DOMAIN_SEPARATORS.split(form.get("allowed_domains", "")) if d],
        role_claim=form.get("role_claim", ""),
        role_mapping=mapping,
        password_sign_in_disabled=form.get("password_sign_in_disabled") == "on",
        end_provider_session=form.get("end_provider_session") == "on",
        enabled=form.get("enabled") == "on",
    )


def _form_of(view: OidcProviderView | None) -> dict[str, str]:
    if view is None:
        return {"role_claim": "roles", "enabled": "on"}
    form = {
        "issuer": view.issuer,
        "client_id": view.client_id,
        "allowed_domains": "\n".join(view.allowed_domains),
        "role_claim": view.role_claim,
    }
    for name in ("password_sign_in_disabled", "end_provider_session", "enabled"):
        if getattr(view, name):
            form[name] = "on"
    for index, (value, role) in enumerate(view.role_mapping.items()):
        form[f"map_value_{index}"], form[f"map_role_{index}"] = value, role
    return form


def _mapping_rows(form: dict[str, str]) -> list[tuple[str, str]]:
    """The mapping rows to draw: the ones filled in, then a few blank ones."""
    indexes = sorted(int(m.group(1)) for key in form if (m := MAPPING_ROW.match(key)))
    rows = [(form.get(f"map_value_{i}", ""), form.get(f"map_role_{i}", "")) for i in indexes[:MAX_ROLE_VALUES]]
    rows = [row for row in rows if row[0].strip() or row[1]]
    return rows + [("", "")] * BLANK_ROWS


class SsoAdminPages(Controller):
    include_in_schema = False

    async def _page(
        self,
        request: Request,
        principal: CurrentPrincipal,
        accounts: Accounts,
        sso: SsoConfig,
        settings: AppSettings,
        org_id: uuid.UUID,
        status: int = 200,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        view = await sso.get_provider(principal, org_id)  # platform admin only; 404 for no organization
        org = await accounts.get_organization(principal, org_id)
        form = _form_of(view) if form is None else form
        return render(
            request,
            "sso_admin.html",
            principal,
            status_code=status,
            org=org,
            provider=view,
            form=form,
            rows=_mapping_rows(form),
            roles=[r for r in ROLES_BY_KIND[OrgKind(org.kind)] if r not in NEVER_MAPPED],
            redirect_uri=settings.base_url.rstrip("/") + CALLBACK_PATH,
            logout_uri=settings.base_url.rstrip("/") + "/",
            errors=errors or {},
        )

    @get("/organizations/{org_id:uuid}/sso")
    async def show(
        self,
        request: Request,
        principal: CurrentPrincipal,
        accounts: Accounts,
        sso: SsoConfig,
        settings: AppSettings,
        org_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._page(request, principal, accounts, sso, settings, org_id)

    @post("/organizations/{org_id:uuid}/sso")
    async def save(
        self,
        request: Request,
        principal: CurrentPrincipal,
        accounts: Accounts,
        sso: SsoConfig,
        settings: AppSettings,
        org_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        try:
            await sso.configure(principal, org_id, provider_input(data), ip=client_ip(request))
        except DomainError as error:
            if error.status_code in (401, 403, 404):
                raise
            form = {k: v for k, v in data.items() if k != "client_secret"}  # never drawn back into the page
            return await self._page(
                request, principal, accounts, sso, settings, org_id, error.status_code, form=form, errors=field_errors(error)
            )
        flash(request, "Single sign-on has been saved.")
        return Redirect(f"/organizations/{org_id}/sso")

    @post("/organizations/{org_id:uuid}/sso/remove")
    async def remove(
        self, request: Request, principal: CurrentPrincipal, sso: SsoConfig, org_id: FromPath[uuid.UUID]
    ) -> Redirect:
        await sso.remove(principal, org_id, ip=client_ip(request))
        flash(request, "Single sign-on has been removed.")
        return Redirect(f"/organizations/{org_id}/sso")
