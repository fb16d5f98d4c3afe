"""Shared by the single sign-on tests: configuring the institution's provider and following the
real test provider back to our callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from marketplace.accounts.models import Role
from marketplace.accounts.oidc import OidcProviderInput, SingleSignOn
from marketplace.accounts.oidc_flow import CALLBACK_PATH
from tests.support.oidc import OidcProvider


async def configure(db, world, settings, provider: OidcProvider, *, issuer: str | None = None, **changes):
    admin = await world.principal(db, world.emails[Role.platform_admin])
    data = OidcProviderInput(
        issuer=issuer or provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        allowed_domains=["hospital.example"],
        role_claim="roles",
        role_mapping={"researcher": "inventor"},
    )
    for name, value in changes.items():
        setattr(data, name, value)
    org_id = world.orgs["institution/own"].id
    await SingleSignOn(db, settings).configure(admin, org_id, data)
    await db.commit()
    return org_id


def callback_query(url: str) -> dict[str, str]:
    """Follow the provider (its interaction signs the hinted user in) until it sends the browser back to us."""
    with httpx.Client() as browser:
        response = browser.get(url)
        while response.is_redirect and CALLBACK_PATH not in response.headers["location"]:
            response = browser.get(response.url.join(response.headers["location"]))
        assert response.is_redirect, response.text
        return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
