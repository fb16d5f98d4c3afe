"""HTTP of integration clients: the OAuth 2 token endpoint and the JSON API that registers,
lists, rotates and revokes clients (accounts/integrations.py holds the rules).

The token endpoint is POST /oauth/token, outside /api/v1: it is RFC 6749's endpoint, not a
resource of the API — it takes an urlencoded form and HTTP Basic client authentication rather than
a bearer token, and answers in OAuth's own error format (`{"error": "invalid_client"}`), which
OAuth client libraries expect; the versioned API keeps one way in (bearer tokens) and one error
format.
"""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from marketplace.accounts import schemas
from marketplace.accounts.api import requires_bearer
from marketplace.accounts.integration_models import IntegrationClient
from marketplace.accounts.integrations import Integrations
from marketplace.accounts.oauth_server import TokenRequest
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import client_ip

TOKEN_PATH = "/oauth/token"


def integration_out(client: IntegrationClient) -> schemas.IntegrationOut:
    return schemas.IntegrationOut(**{f: getattr(client, f) for f in schemas.IntegrationOut.__struct_fields__})


def integration_secret(client: IntegrationClient, secret: str) -> schemas.IntegrationSecret:
    fields = {f: getattr(client, f) for f in schemas.IntegrationOut.__struct_fields__}
    return schemas.IntegrationSecret(**fields, client_secret=secret)


@post(TOKEN_PATH, include_in_schema=False, status_code=200)
async def token_endpoint(request: Request, integrations: Integrations) -> Response:
    """Client credentials grant: HTTP Basic (or client_id and client_secret in the form), grant_type
    and an optional scope in an urlencoded form; a bearer token of settings.integration_token_minutes."""
    form = await request.form()
    headers = {"Authorization": request.headers.get("authorization", "")} if "authorization" in request.headers else {}
    token_request = TokenRequest(
        request.method,
        str(request.url),
        headers,
        {k: v for k, v in form.items() if isinstance(v, str)},
    )
    status, body, response_headers = await integrations.token_endpoint(token_request, ip=client_ip(request))
    return Response(body, status_code=status, headers=dict(response_headers), media_type="application/json")


class IntegrationsApi(Controller):
    path = "/api/v1/integrations"
    tags = ["integrations"]
    guards = [requires_bearer]

    @get()
    async def list_integrations(self, principal: CurrentPrincipal, integrations: Integrations) -> list[schemas.IntegrationOut]:
        """The organization's integration clients (its administrator); every one for the platform admin.
        Never the secret."""
        return [integration_out(c) for c in await integrations.list_clients(principal)]

    @post(status_code=HTTP_201_CREATED)
    async def register_integration(
        self,
        request: Request,
        principal: CurrentPrincipal,
        integrations: Integrations,
        data: JSONBody[schemas.IntegrationCreate],
    ) -> schemas.IntegrationSecret:
        """Register a client for the acting institution or company; `client_secret` is shown only here."""
        issued = await integrations.register(principal, data.name, [s.value for s in data.scopes], ip=client_ip(request))
        await integrations.session.refresh(issued.client)
        return integration_secret(issued.client, issued.secret)

    @post("/{client_id:uuid}/secret", status_code=200)
    async def rotate_integration_secret(
        self, request: Request, principal: CurrentPrincipal, integrations: Integrations, client_id: FromPath[uuid.UUID]
    ) -> schemas.IntegrationSecret:
        """A new secret, shown only here; the old one stops working at once."""
        issued = await integrations.rotate_secret(principal, client_id, ip=client_ip(request))
        return integration_secret(issued.client, issued.secret)

    @delete("/{client_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_integration(
        self, request: Request, principal: CurrentPrincipal, integrations: Integrations, client_id: FromPath[uuid.UUID]
    ) -> None:
        """The client and its live tokens stop working at once."""
        await integrations.revoke(principal, client_id, ip=client_ip(request))
