"""The test OpenID provider (tests/support/oidc_provider.mjs, npm oidc-provider) as a Python handle.

Started once per test session (per xdist worker) on a free loopback port; its admin endpoints let a
test choose the user who signs in, tamper with the next ID tokens or rotate the signing key.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from marketplace.accounts.models import Role, User
from marketplace.accounts.oidc import OidcProviderInput, SingleSignOn
from marketplace.accounts.oidc_flow import CALLBACK_PATH, SignOnFlow

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "marketplace-test"
CLIENT_SECRET = "marketplace-test-secret"

# Users the provider knows: a verified hospital doctor with a role claim, one unverified, one
# outside any allowed domain and one whose role maps to nothing.
USERS: dict[str, dict[str, Any]] = {
    "doctor": {"email": "doctor@hospital.example", "email_verified": True, "roles": ["researcher"]},
    "unverified": {"email": "unverified@hospital.example", "email_verified": False, "roles": ["researcher"]},
    "outsider": {"email": "someone@elsewhere.example", "email_verified": True, "roles": ["researcher"]},
    "nobody": {"email": "nobody@hospital.example", "email_verified": True, "roles": ["visitor"]},
}


@dataclass
class OidcProvider:
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(USERS))
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    issuer: str = ""
    _process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        node = shutil.which("node") or "/usr/bin/node"
        config = {
            "port": 0,
            "users": self.users,
            "clients": [
                {
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": self.redirect_uris,
                    "post_logout_redirect_uris": self.post_logout_redirect_uris,
                }
            ],
        }
        self._process = subprocess.Popen(
            [node, str(SCRIPT), json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=SCRIPT.parent,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # the script's first line once it listens
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the test OpenID provider did not start: {line!r}")
        self.issuer = line.split()[1]

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def admin(self, action: str, body: dict[str, Any] | None = None) -> None:
        httpx.post(f"{self.issuer}/_admin/{action}", json=body or {}, timeout=5).raise_for_status()

    def reset(self) -> None:
        self.admin("reset")

    def tamper(self, **changes: Any) -> None:
        """Change the next ID tokens: aud, nonce, exp_offset (seconds from now), sign_with="next"."""
        self.admin("tamper", changes)

    def rotate(self) -> None:
        self.admin("rotate")

    def next_user(self, user: str) -> None:
        self.admin("next-user", {"user": user})


def continue_url(page: str) -> str:
    """Where the app's step page (sso_redirect.html) sends the browser on: the provider's address."""
    match = re.search(r'id="sso-continue" href="([^"]+)"', page)
    assert match, "not the step to the identity provider"
    return html.unescape(match.group(1))


async def configure(db, world, settings, provider: OidcProvider, *, issuer: str | None = None, **changes: Any) -> uuid.UUID:
    """The own institution signs in through `provider` (its domain hospital.example, researcher → inventor)."""
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


async def sign_in(db, settings, org: uuid.UUID, user: str = "doctor") -> tuple[User, uuid.UUID]:
    """The whole flow through the service (no pages): start, the provider, finish in the same browser."""
    flow = SignOnFlow(db, settings)
    url, browser_key = await flow.start(org, login_hint=user)
    await db.commit()
    query = callback_query(url)
    result = await flow.finish(query["state"], code=query.get("code"), error=query.get("error"), browser_key=browser_key)
    await db.commit()
    return result.user, result.organization_id
