"""The OAuth 2 token endpoint's decisions, by Authlib's authorization server (client credentials,
RFC 6749 §4.4), adapted to this app: Authlib has no Litestar integration, and its hooks
(query_client, save_token) are synchronous while the database is not. So the caller
(integrations.IntegrationService.token_endpoint) loads the presented client first and hands it in,
Authlib authenticates it (HTTP Basic or client_secret_post), checks the grant and the scope and
makes the token, and the caller stores the token afterwards.
"""

from __future__ import annotations

import hmac
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from marketplace.accounts.integration_models import IntegrationClient
from marketplace.accounts.passwords import digest
from marketplace.accounts.scopes import Scope

ACCESS_TOKEN_PREFIX = "mka_"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class TokenRequest(OAuth2Request):
    """A token request from its method, headers and urlencoded form. Authlib's https check is left
    to the deployment (HTTPS and HSTS in front of every route, settings.https), as for the pages."""

    def __init__(self, method: str, uri: str, headers: dict[str, str], form: dict[str, str]) -> None:
        self.method = method
        self.uri = uri
        self.headers = headers
        self._form = form
        self._body = None
        self.payload = BasicOAuth2Payload(form)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form

    def presented_client_id(self) -> str | None:
        """The client id of HTTP Basic, else of the form: the client to load before Authlib runs."""
        basic_id, _secret = extract_basic_authorization(self.headers)
        return basic_id or self._form.get("client_id") or None


class ClientCredentials(ClientMixin):
    """Authlib's view of a stored client: confidential, client credentials only, no redirects."""

    def __init__(self, row: IntegrationClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """No scope asked: all the client's; a narrower one: just those; any scope the client was not
        given: None, which Authlib answers with invalid_scope."""
        if not scope:
            return " ".join(self.row.scopes)
        asked = list(dict.fromkeys(scope.split()))
        if any(s not in self.row.scopes for s in asked):
            return None
        return " ".join(asked)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.row.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == ClientCredentialsGrant.GRANT_TYPE


class _ClientCredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class _Server(AuthorizationServer):
    """One request's server: query_client answers the client loaded beforehand, save_token keeps
    the issued token for the caller to store."""

    def __init__(self, client: ClientCredentials | None, expires_in: int) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self._client = client
        self.issued: dict[str, Any] | None = None
        self.register_grant(_ClientCredentialsGrant)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(lambda **_: ACCESS_TOKEN_PREFIX + generate_token(48), expires_generator=expires_in),
        )

    def query_client(self, client_id: str) -> ClientCredentials | None:
        if self._client is not None and hmac.compare_digest(client_id, self._client.get_client_id()):
            return self._client
        return None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.issued = dict(token)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: TokenRequest) -> TokenRequest:
        return request

    def handle_response(self, status: int, body: dict, headers: list) -> tuple[int, dict, list[tuple[str, str]]]:
        return status, body, [(str(k), str(v)) for k, v in headers]


def run_token_endpoint(
    request: TokenRequest, client: ClientCredentials | None, expires_in: int
) -> tuple[int, dict, list[tuple[str, str]], dict[str, Any] | None]:
    """Authlib's answer (status, JSON body, headers) and the token it issued, if any."""
    server = _Server(client, expires_in)
    status, body, headers = server.create_token_response(request)
    return status, body, headers, server.issued if status == 200 else None
