"""Security headers (issue 10, point 6): a strict CSP with no framing, nosniff and a same-origin
referrer on every answer — pages, API, static files, the router's own 404 — `no-store` on everything
but static files, and HSTS only when BASE_URL is https. The browser side (no CSP violation on any
role's pages) is tests/app/test_csp_browser.py."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from marketplace.accounts.models import Role
from marketplace.app import create_app
from marketplace.config import PROJECT_ROOT, Settings
from marketplace.security_headers import HSTS
from tests.support.web import login
from tests.support.world import World

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))


def assert_hardened(response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert policy(response)["frame-ancestors"] == "'none'"


async def test_a_signed_in_page_has_the_strict_policy_and_is_not_stored(client: AsyncTestClient, world: World) -> None:
    await login(client, world.emails[Role.tto_manager])
    for url in ("/", "/tokens", "/members"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert_hardened(response)
        assert policy(response) == STRICT
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers  # BASE_URL is http here


async def test_an_api_answer_and_an_error_are_hardened_and_not_stored(client: AsyncTestClient, world: World) -> None:
    response = await client.get("/api/v1/listings", headers=world.bearer(Role.company_member))
    assert response.status_code == 200
    assert_hardened(response)
    assert response.headers["cache-control"] == "no-store"

    # Answers that never reach a route (the router's own 404 and 405) get them too.
    for response in (await client.get("/no-such-page"), await client.delete("/health")):
        assert response.status_code in (404, 405)
        assert_hardened(response)
        assert response.headers["cache-control"] == "no-store"


async def test_static_files_are_hardened_but_cacheable(client: AsyncTestClient) -> None:
    for url, kind in (
        ("/static/app.css", "text/css"),
        ("/static/app.js", "javascript"),
        ("/assets/htmx/htmx.min.js", "javascript"),
    ):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert kind in response.headers["content-type"]
        assert_hardened(response)
        assert "no-store" not in response.headers.get("cache-control", "")


async def test_the_api_description_is_served_and_its_viewer_pages_may_load_their_cdn_code(client: AsyncTestClient) -> None:
    document = await client.get("/schema/openapi.json")
    assert document.status_code == 200 and document.json()["openapi"]
    assert policy(document) == STRICT

    viewer = await client.get("/schema/swagger")
    assert viewer.status_code == 200 and "text/html" in viewer.headers["content-type"]
    assert_hardened(viewer)
    assert "https://cdn.jsdelivr.net" in policy(viewer)["script-src"]


async def test_hsts_only_when_the_app_is_served_over_https(settings: Settings, client: AsyncTestClient) -> None:
    assert "strict-transport-security" not in (await client.get("/health")).headers

    production = settings.model_copy(update={"base_url": "https://market.example.cn"})
    assert production.https and not settings.https
    async with AsyncTestClient(app=create_app(production), base_url="https://market.example.cn") as secure:
        for url in ("/health", "/login", "/static/app.css"):
            assert (await secure.get(url)).headers["strict-transport-security"] == HSTS


def test_templates_carry_no_inline_script_style_or_handler() -> None:
    """The CSP refuses them; the browser test sees only the pages it opens, this sees every template."""
    inline = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=|javascript:|hx-on""", re.IGNORECASE)
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert not found, found
