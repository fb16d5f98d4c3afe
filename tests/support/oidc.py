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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

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
