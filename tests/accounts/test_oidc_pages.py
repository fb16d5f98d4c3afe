"""Single sign-on through the pages: /login/sso to the provider and back to the callback."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from marketplace.accounts.models import Role
from tests.support.oidc import callback_query, configure, continue_url
from tests.support.web import login, post_form


async def test_sign_in_through_the_provider_then_a_replay_is_refused_in_chinese(
    client, db, world, settings, oidc_provider
) -> None:
    org = await configure(db, world, settings, oidc_provider)
    start = await client.get("/login/sso", params={"org": str(org)}, follow_redirects=False)
    assert start.status_code == 200, start.text[-1500:]
    assert continue_url(start.text).startswith(oidc_provider.issuer)
    assert f'http-equiv="refresh" content="0;url={oidc_provider.issuer}' in start.text
    query = callback_query(continue_url(start.text) + "&login_hint=doctor")

    back = await client.get("/login/sso/callback", params=query, follow_redirects=False)
    assert back.status_code in (302, 303) and back.headers["location"] == "/"
    home = await client.get("/")
    assert "本院" in home.text

    client.cookies.clear()
    replay = await client.get("/login/sso/callback", params=query, follow_redirects=False)
    assert replay.status_code == 400
    assert "此登录链接已过期或已使用" in replay.text


async def test_the_login_page_finds_the_provider_by_email_domain(client, db, world, settings, oidc_provider) -> None:
    await configure(db, world, settings, oidc_provider)
    start = await client.get("/login/sso", params={"email": "doctor@hospital.example"}, follow_redirects=False)
    assert urlsplit(continue_url(start.text)).netloc == urlsplit(oidc_provider.issuer).netloc
    unknown = await client.get("/login/sso", params={"email": "x@nowhere.example"})
    assert unknown.status_code == 404 and "尚未配置统一身份认证" in unknown.text
    assert (await client.get("/login/sso", params={"org": "not-an-id"})).status_code == 404
    assert world.emails[Role.platform_admin]  # the world is built (its organizations exist)


async def test_password_sign_in_can_be_turned_off(client, db, world, settings, oidc_provider) -> None:
    member = world.emails[Role.tto_staff]  # tto_staff@own.test
    await configure(db, world, settings, oidc_provider, allowed_domains=["own.test"], password_sign_in_disabled=True)
    refused = await post_form(client, "/login", {"email": member, "password": "whatever-it-is"})
    assert refused.status_code == 400 and "统一身份认证登录" in refused.text
    await configure(db, world, settings, oidc_provider, allowed_domains=["own.test"], password_sign_in_disabled=False)
    assert (await login(client, member)).status_code == 302


async def test_the_login_page_offers_single_sign_on_by_email(client) -> None:
    page = await client.get("/login")
    assert 'action="/login/sso"' in page.text and "统一身份认证登录" in page.text


async def test_signing_out_ends_the_provider_session_when_asked(client, db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider, end_provider_session=True)
    start = await client.get("/login/sso", params={"org": str(org)}, follow_redirects=False)
    query = callback_query(continue_url(start.text) + "&login_hint=doctor")
    await client.get("/login/sso/callback", params=query, follow_redirects=False)
    out = await post_form(client, "/logout", {})
    assert out.status_code == 200
    assert continue_url(out.text).startswith(f"{oidc_provider.issuer}/session/end?id_token_hint=")
    # The provider accepts it (its own sign-out confirmation page, not an error).
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(continue_url(out.text))).status_code == 200
    assert (await client.get("/profile", follow_redirects=False)).status_code in (302, 303, 401)
