"""An institution's staff sign in through its own identity provider, in headless Chromium: the
platform admin sets the provider up on the organization's page, a doctor types their address in the
login page's single sign-on form, passes through the real provider (npm oidc-provider) and lands
signed in as the institution's member; signing out ends the provider's session too.

The app builds its redirect URI from settings.base_url, and the provider accepts only the redirect
URIs its client was registered with. So this module serves the app on a port chosen first, with
base_url naming that port, and starts a provider of its own registered with those addresses (the
session's provider knows only http://testserver.local, the in-process client's address)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import NamedTuple

import pytest
from playwright.async_api import Browser, Page, expect

from marketplace.accounts.models import Role
from marketplace.accounts.oidc_flow import forget_provider_caches
from marketplace.config import Settings
from marketplace.embedded.postgres import free_port
from tests.support.browser import screenshot, sign_in
from tests.support.live_server import LiveServer, serve
from tests.support.oidc import OidcProvider
from tests.support.world import World

pytestmark = pytest.mark.browser


class SsoSite(NamedTuple):
    app: LiveServer
    provider: OidcProvider


@pytest.fixture(scope="module")
def sso_site(settings: Settings) -> Iterator[SsoSite]:
    port = free_port()
    with serve(settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"}), port) as app:
        provider = OidcProvider(redirect_uris=[f"{app}/login/sso/callback"], post_logout_redirect_uris=[f"{app}/"])
        provider.start()
        try:
            yield SsoSite(app, provider)
        finally:
            provider.stop()
            forget_provider_caches()


@pytest.fixture
async def site_page(browser: Browser, sso_site: SsoSite) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=sso_site.app, locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_staff_sign_in_through_their_institutions_provider(
    site_page: Page, browser: Browser, sso_site: SsoSite, world: World
) -> None:
    page, provider = site_page, sso_site.provider
    org = world.orgs["institution/own"]

    # The platform admin sets the provider up from the organizations page.
    await sign_in(page, world.emails[Role.platform_admin], "/organizations")
    await page.locator(f'a[href="/organizations/{org.id}/sso"]').click()
    await expect(page.locator("h1")).to_have_text("统一身份认证")
    await expect(page.locator("main")).to_contain_text(f"{sso_site.app}/login/sso/callback")
    await page.get_by_label("签发者（Issuer）").fill(provider.issuer)
    await page.get_by_label("客户端 ID").fill(provider.client_id)
    await page.get_by_label("客户端密钥").fill(provider.client_secret)
    await page.get_by_label("允许的邮箱域名").fill("hospital.example")
    await page.get_by_label("角色声明").fill("roles")
    await page.locator('input[name="map_value_0"]').fill("researcher")
    await page.locator('select[name="map_role_0"]').select_option("inventor")
    await page.get_by_label("退出时同时结束身份提供方的会话").check()
    await page.get_by_role("button", name="保存", exact=True).click()
    await expect(page.locator("main .notice[role=status]")).to_have_text("统一身份认证配置已保存。")
    await expect(page.locator("main")).to_contain_text("已设置")
    await expect(page.locator("main")).not_to_contain_text(provider.client_secret)
    await screenshot(page, "sso-admin-config")

    # A doctor of the institution, in a browser of their own.
    context = await browser.new_context(base_url=sso_site.app, locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    doctor = await context.new_page()
    try:
        await doctor.goto("/login")
        await screenshot(doctor, "sso-login-page")
        sso_form = doctor.locator("form.sso-form")
        await sso_form.get_by_label("或通过所在机构的统一身份认证登录").fill("doctor@hospital.example")
        await sso_form.get_by_role("button", name="统一身份认证").click()
        # Through the provider (its interaction signs the hinted user in) and back, signed in.
        await expect(doctor).to_have_url(re.compile(re.escape(sso_site.app) + "/$"))
        await doctor.wait_for_load_state("load")
        head = doctor.locator(".page-head")
        await expect(head).to_contain_text("发明人")
        await expect(head).to_contain_text("医疗机构")
        await screenshot(doctor, "sso-signed-in")
        assert any(c["name"].startswith("_session") for c in await context.cookies(provider.issuer))

        # Signing out ends the provider's session too: its confirmation, then back to the app.
        await doctor.locator("header details.user-menu summary").click()
        await doctor.locator("header").get_by_role("button", name="退出", exact=True).click()
        await expect(doctor).to_have_url(re.compile("^" + re.escape(provider.issuer) + "/session/end"))
        await doctor.get_by_role("button", name="Yes, sign me out").click()
        await expect(doctor).to_have_url(re.compile(re.escape(sso_site.app) + "/$"))
        assert not [c for c in await context.cookies(provider.issuer) if c["name"] == "_session"]
        await doctor.goto("/profile")
        await expect(doctor).to_have_url(re.compile("/login"))
    finally:
        await context.close()
