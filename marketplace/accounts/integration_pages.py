"""Pages of integration clients: an organization's administrator registers its systems, sees the
new secret once, rotates and revokes them; the platform admin sees every client and may revoke any
(accounts/integrations.py holds the rules)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace.accounts.integrations import Integrations, IssuedSecret, may_register
from marketplace.accounts.scopes import SCOPE_DESCRIPTIONS, Scope
from marketplace.errors import DomainError
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import client_ip, field_errors, flash, render

# The one-time secret travels to the next page in the (server-side) session and is dropped there.
NEW_SECRET = "new_integration_secret"


class IntegrationPages(Controller):
    path = "/integrations"
    include_in_schema = False

    async def _page(
        self, request: Request, principal: Principal, integrations: Integrations, status: int = 200, **ctx
    ) -> Template:
        clients = await integrations.list_clients(principal)
        ctx.setdefault("errors", {})
        ctx.setdefault("form", {"name": "", "scopes": []})
        return render(
            request,
            "integrations.html",
            principal,
            status_code=status,
            clients=clients,
            may_register=may_register(principal),
            scopes=[(s.value, SCOPE_DESCRIPTIONS[s]) for s in Scope],
            created=request.session.pop(NEW_SECRET, None) if status == 200 else None,
            token_minutes=integrations.settings.integration_token_minutes,
            request_base=str(request.base_url).rstrip("/"),
            **ctx,
        )

    @get()
    async def integrations_page(self, request: Request, principal: CurrentPrincipal, integrations: Integrations) -> Template:
        principal.require()
        return await self._page(request, principal, integrations)

    @post()
    async def register(self, request: Request, principal: CurrentPrincipal, integrations: Integrations) -> Response:
        principal.require()
        form = await request.form()
        name, scopes = str(form.get("name") or ""), [str(s) for s in form.getall("scopes", [])]
        try:
            issued = await integrations.register(principal, name, scopes, ip=client_ip(request))
        except DomainError as error:
            if error.status_code == 403:
                raise
            return await self._page(
                request, principal, integrations, 400, errors=field_errors(error), form={"name": name[:200], "scopes": scopes}
            )
        _keep_secret(request, issued)
        return Redirect("/integrations")

    @post("/{client_id:uuid}/secret")
    async def rotate(
        self, request: Request, principal: CurrentPrincipal, integrations: Integrations, client_id: FromPath[uuid.UUID]
    ) -> Redirect:
        principal.require()
        _keep_secret(request, await integrations.rotate_secret(principal, client_id, ip=client_ip(request)))
        return Redirect("/integrations")

    @post("/{client_id:uuid}/revoke")
    async def revoke(
        self, request: Request, principal: CurrentPrincipal, integrations: Integrations, client_id: FromPath[uuid.UUID]
    ) -> Redirect:
        principal.require()
        await integrations.revoke(principal, client_id, ip=client_ip(request))
        flash(request, "The integration has been revoked; its tokens no longer work.")
        return Redirect("/integrations")


def _keep_secret(request: Request, issued: IssuedSecret) -> None:
    request.session[NEW_SECRET] = {
        "name": issued.client.name,
        "client_id": issued.client.client_id,
        "secret": issued.secret,
    }
