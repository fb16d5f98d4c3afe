"""Single sign-on, hardened: a sign-in is bound to the browser that started it (login CSRF), old
started sign-ins are purged, starts and callbacks are throttled per address, the provider's keys are
not refetched on every unknown key id, and no password link goes to an organization that signs in
only through its provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from marketplace.accounts.models import OidcSignInState, PasswordReset, Role, User
from marketplace.accounts.oidc_flow import BROWSER_COOKIE, SignOnFlow, SsoError
from marketplace.accounts.sessions import purge_job
from marketplace.app import create_app
from marketplace.audit.models import AuditEvent
from marketplace.db import make_sessionmaker, utcnow
from marketplace.notifications.models import OutgoingEmail
from tests.support.oidc import callback_query, configure, continue_url, sign_in
from tests.support.web import login, post_form


async def audited(db, action: str) -> list[dict]:
    db.expire_all()
    return [e.data for e in (await db.scalars(select(AuditEvent).where(AuditEvent.action == action))).all()]


async def start(client, org) -> tuple[dict[str, str], str]:
    """/login/sso as a browser: the provider's answer for our callback, and the cookie it set."""
    response = await client.get("/login/sso", params={"org": str(org)}, follow_redirects=False)
    assert response.status_code == 200, response.text[-800:]
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(f"{BROWSER_COOKIE}="))
    return callback_query(continue_url(response.text) + "&login_hint=doctor"), cookie


async def test_the_start_sets_a_short_lived_httponly_lax_cookie(client, db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    _query, cookie = await start(client, org)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=600" in cookie and "Path=/login/sso" in cookie
    assert "Secure" not in cookie  # plain http here; see below for https


async def test_the_cookie_is_secure_when_served_over_https(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    app = create_app(settings.model_copy(update={"base_url": "https://marketplace.example"}))
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await client.get("/login/sso", params={"org": str(org)}, follow_redirects=False)
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(f"{BROWSER_COOKIE}="))
    assert "Secure" in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize("planted", [None, "A" * 43])
async def test_a_callback_in_another_browser_is_refused(client, db, world, settings, oidc_provider, planted) -> None:
    """An attacker starts a sign-in, stops at the callback and sends the link to a victim: the
    victim's browser has no cookie of that sign-in (or another one), so nobody is signed in."""
    org = await configure(db, world, settings, oidc_provider)
    query, _cookie = await start(client, org)
    client.cookies.clear()
    if planted:
        client.cookies.set(BROWSER_COOKIE, planted, path="/login/sso")
    refused = await client.get("/login/sso/callback", params=query, follow_redirects=False)
    assert refused.status_code == 400
    assert "此次登录是在另一个浏览器中发起的" in refused.text
    assert await db.scalar(select(func.count()).select_from(User).where(User.email == "doctor@hospital.example")) == 0
    assert (await audited(db, "sso_login_failed"))[-1]["reason"] == "state_other_browser"
    assert "session" not in client.cookies


async def test_two_tabs_of_one_browser_both_sign_in(client, db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    first, _ = await start(client, org)
    second, _ = await start(client, org)  # the browser's key is kept, so the first tab still works
    assert (await client.get("/login/sso/callback", params=first, follow_redirects=False)).headers["location"] == "/"
    client.cookies.delete("session")
    assert (await client.get("/login/sso/callback", params=second, follow_redirects=False)).headers["location"] == "/"


async def test_the_housekeeping_purges_sign_ins_never_finished(db, engine, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    flow = SignOnFlow(db, settings)
    await flow.start(org)
    await flow.start(org)
    await db.commit()
    await db.execute(
        update(OidcSignInState)
        .where(OidcSignInState.state_hash == (await db.scalars(select(OidcSignInState.state_hash))).first())
        .values(created_at=utcnow() - timedelta(minutes=11))
    )
    await db.commit()
    await purge_job(settings, make_sessionmaker(engine))
    db.expire_all()
    assert await db.scalar(select(func.count()).select_from(OidcSignInState)) == 1


async def test_starts_and_callbacks_are_throttled_per_address(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    tight = settings.model_copy(update={"sso_free_requests_per_address": 2, "sso_requests_per_address_per_hour": 3})
    async with AsyncTestClient(app=create_app(tight), base_url="http://testserver.local") as client:
        for _ in range(2):
            assert (await client.get("/login/sso", params={"org": str(org)}, follow_redirects=False)).status_code == 200
        held = await client.get("/login/sso", params={"org": str(org)}, follow_redirects=False)
        assert held.status_code == 429 and held.headers["retry-after"] == "1"
        assert "尝试次数过多" in held.text
        callback = await client.get("/login/sso/callback", params={"state": "x", "code": "y"}, follow_redirects=False)
        assert callback.status_code == 429
        # Kept apart from password sign-ins: the address's own sign-in is not held back.
        assert (await login(client, world.emails[Role.tto_staff])).status_code == 302
    assert len(await audited(db, "sso_rate_limited")) == 2


async def test_an_unknown_key_id_refetches_the_keys_at_most_once_a_while(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    oidc_provider.tamper(sign_with="next")  # signed by a key the provider does not publish
    with pytest.raises(SsoError) as first:
        await sign_in(db, settings, org)
    assert first.value.reason == "id_token_invalid_key_id"  # the keys were fetched again, in vain
    with pytest.raises(SsoError) as second:
        await sign_in(db, settings, org)
    assert second.value.reason == "id_token_unknown_key_refetch_limited"  # not fetched again so soon


async def test_no_password_link_for_an_organization_that_signs_in_only_through_its_provider(
    client, db, world, settings, oidc_provider
) -> None:
    await configure(db, world, settings, oidc_provider, allowed_domains=["own.test"], password_sign_in_disabled=True)
    member = world.emails[Role.tto_staff]  # tto_staff@own.test
    known = await post_form(client, "/forgot-password", {"email": member})
    unknown = await post_form(client, "/forgot-password", {"email": "nobody-here@own.test"})
    assert known.status_code == unknown.status_code == 200
    assert 'id="reset-sso"' in known.text and "own.test 的邮箱通过所在机构的统一身份认证登录" in known.text
    # The same answer for a member and a stranger of that domain: it tells nobody who has an account.
    assert _answer(known.text) == _answer(unknown.text)
    assert await db.scalar(select(func.count()).select_from(PasswordReset)) == 0
    assert await db.scalar(select(func.count()).select_from(OutgoingEmail)) == 0
    assert len(await audited(db, "password_reset_refused_sso")) == 2
    # Another domain still gets its link.
    other = await post_form(client, "/forgot-password", {"email": "admin@company.other.test"})
    assert 'id="reset-sent"' in other.text
    assert await db.scalar(select(func.count()).select_from(PasswordReset)) == 1


def _answer(html: str) -> str:
    start = html.index('id="reset-sso"')
    return html[start : html.index("</div>", start)]
