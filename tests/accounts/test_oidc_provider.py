"""The test OpenID provider itself: it answers discovery and JWKS, signs users in, rotates keys."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.oidc import OidcProvider

REDIRECT = "http://testserver.local/login/sso/callback"


def test_discovery_document_and_keys(oidc_provider: OidcProvider) -> None:
    discovery = httpx.get(f"{oidc_provider.issuer}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == oidc_provider.issuer
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["end_session_endpoint"].startswith(oidc_provider.issuer)
    keys = httpx.get(discovery["jwks_uri"]).json()["keys"]
    assert [key["kid"] for key in keys] == ["key-1"]
    assert not any("d" in key for key in keys)  # public parts only

    oidc_provider.rotate()
    assert [key["kid"] for key in httpx.get(discovery["jwks_uri"]).json()["keys"]] == ["key-1", "key-2"]


def _authorize(provider: OidcProvider, **params: str) -> httpx.Response:
    """Follow the provider's redirects (its interaction signs in without a form) up to our callback."""
    with httpx.Client() as browser:
        response = browser.get(f"{provider.issuer}/auth", params=params)
        while response.is_redirect and not response.headers["location"].startswith(REDIRECT):
            response = browser.get(httpx.URL(str(response.url)).join(response.headers["location"]))
        return response


@pytest.mark.parametrize("with_pkce", [True, False])
def test_authorization_code_requires_pkce(oidc_provider: OidcProvider, with_pkce: bool) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": oidc_provider.client_id,
        "response_type": "code",
        "scope": "openid email roles",
        "redirect_uri": REDIRECT,
        "state": "s1",
        "nonce": "n1",
        "login_hint": "doctor",
    }
    if with_pkce:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    location = _authorize(oidc_provider, **params).headers["location"]
    query = parse_qs(urlsplit(location).query)
    if not with_pkce:
        assert query["error"] == ["invalid_request"]
        return
    assert query["state"] == ["s1"]
    tokens = httpx.post(
        f"{oidc_provider.issuer}/token",
        data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT, "code_verifier": verifier},
        auth=(oidc_provider.client_id, oidc_provider.client_secret),
    ).json()
    payload = tokens["id_token"].split(".")[1]
    claims = httpx.Response(200, content=base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).json()
    assert claims["email"] == "doctor@hospital.example"
    assert claims["roles"] == ["researcher"]
    assert claims["nonce"] == "n1" and claims["aud"] == oidc_provider.client_id
