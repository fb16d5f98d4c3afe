"""Server-side sessions: what ends a session (sign-out, sign out everywhere, a password change, a
removal, idle and absolute timeouts), new ids at sign-in and organization switch, cookie flags, and
CSRF tokens bound to the session."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from marketplace.accounts.models import Role, User, WebSession
from marketplace.accounts.sessions import SEEN_RESOLUTION, open_session, purge_sessions
from marketplace.app import create_app
from marketplace.db import utcnow
from tests.accounts.factories import seed_member
from tests.support.web import login, post_form
from tests.support.world import PASSWORD


async def signed_in(client: AsyncTestClient) -> bool:
    response = await client.get("/profile", follow_redirects=False)
    return response.status_code == 200


async def device(client: AsyncTestClient, email: str) -> dict[str, str]:
    """Sign in afresh and keep the browser's cookies, as a second device would hold them."""
    await login(client, email)
    return dict(client.cookies)


def use(client: AsyncTestClient, cookies: dict[str, str]) -> None:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value, domain="testserver.local")


async def test_sign_out_ends_the_session_for_a_copied_cookie_too(client, world) -> None:
    copied = await device(client, world.emails[Role.inventor])
    assert await signed_in(client)
    await post_form(client, "/logout")
    use(client, copied)
    assert not await signed_in(client)


async def test_a_new_session_id_at_sign_in_and_the_old_one_is_worthless(client, world) -> None:
    before = await device(client, world.emails[Role.inventor])
    # Signing in again from the same browser (another user here) gives another id and CSRF token.
    response = await post_form(client, "/login", {"email": world.emails[Role.tto_staff], "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["session"] != before["session"] and client.cookies["csrftoken"] != before["csrftoken"]
    assert await signed_in(client)
    use(client, before)
    assert not await signed_in(client)


async def test_a_session_id_chosen_by_someone_else_is_never_opened(client, world) -> None:
    use(client, {"session": "chosen-by-the-attacker"})
    await login_keeping_cookies(client, world.emails[Role.inventor])
    assert client.cookies["session"] != "chosen-by-the-attacker"
    use(client, {"session": "chosen-by-the-attacker"})
    assert not await signed_in(client)


async def login_keeping_cookies(client: AsyncTestClient, email: str) -> None:
    response = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302


async def test_switching_organization_gives_a_new_session_id(client, db, world) -> None:
    email = world.emails[Role.tto_staff]
    await seed_member(db, world.orgs["company/other"], email=email, name="x", role="company_member", password=PASSWORD)
    await db.commit()
    before = await device(client, email)
    await post_form(client, "/switch-org", {"organization_id": str(world.orgs["company/other"].id)})
    assert client.cookies["session"] != before["session"]
    assert "他企业" in (await client.get("/")).text
    use(client, before)
    assert not await signed_in(client)


async def test_a_password_change_ends_the_other_sessions_but_not_this_one(client, db, world) -> None:
    email = world.emails[Role.company_member]
    other_device = await device(client, email)
    await device(client, email)
    response = await post_form(client, "/profile/password", {"current_password": PASSWORD, "new_password": "a-new-password-1"})
    assert response.status_code == 302
    assert await signed_in(client)
    use(client, other_device)
    assert not await signed_in(client)
    actions = (await db.scalars(select(WebSession.ended_at).where(WebSession.ended_at.is_not(None)))).all()
    assert len(actions) == 1


async def test_sign_out_everywhere_ends_every_session_of_the_user(client, world) -> None:
    email = world.emails[Role.company_member]
    first = await device(client, email)
    await device(client, email)
    profile = await client.get("/profile")
    assert profile.text.count("当前浏览器") == 1 and "退出所有设备" in profile.text
    assert (await post_form(client, "/sign-out-everywhere")).headers["location"] == "/login"
    assert not await signed_in(client)
    use(client, first)
    assert not await signed_in(client)


async def test_removing_a_member_ends_their_sessions_for_that_organization(client, db, world) -> None:
    user = await db.get(User, world.targets["institution/own"].user_id)
    removed = await device(client, user.email)
    membership = world.targets["institution/own"]
    await login(client, world.emails[Role.tto_manager])
    response = await post_form(client, f"/members/{membership.id}/remove")
    assert response.status_code == 302
    use(client, removed)
    assert not await signed_in(client)


async def test_an_idle_session_ends(client, db, world) -> None:
    await login(client, world.emails[Role.inventor])
    await db.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=121)))
    await db.commit()
    assert not await signed_in(client)


async def test_a_used_session_ends_after_its_absolute_lifetime(client, db, world) -> None:
    await login(client, world.emails[Role.inventor])
    await db.execute(update(WebSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1), last_seen_at=utcnow()))
    await db.commit()
    assert not await signed_in(client)


async def test_an_active_session_is_kept_alive(client, db, world) -> None:
    await login(client, world.emails[Role.inventor])
    await db.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=119)))
    await db.commit()
    assert await signed_in(client)
    seen = await db.scalar(select(WebSession.last_seen_at).where(WebSession.ended_at.is_(None)))
    assert seen is not None and seen > utcnow() - timedelta(minutes=1)


async def test_a_session_is_used_from_memory_no_longer_than_a_minute_nor_past_its_limits(
    client, db, settings, engine, world
) -> None:
    await login(client, world.emails[Role.inventor])
    token = client.cookies["session"]
    async with engine.begin() as connection:
        opened = await open_session(connection, token, settings)
    assert opened is not None and opened.kept_until <= utcnow() + SEEN_RESOLUTION
    # Twenty seconds before its absolute lifetime ends, it is kept until then, not a minute.
    created = utcnow() - timedelta(hours=settings.session_absolute_hours) + timedelta(seconds=20)
    await db.execute(update(WebSession).values(created_at=created, last_seen_at=utcnow()))
    await db.commit()
    async with engine.begin() as connection:
        opened = await open_session(connection, token, settings)
    assert opened is not None and opened.kept_until == created + timedelta(hours=settings.session_absolute_hours)


async def test_the_session_cookie_is_httponly_and_lax_and_not_readable_by_the_page(client, world) -> None:
    response = await login(client, world.emails[Role.inventor])
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


async def test_cookies_are_secure_when_served_over_https(settings, world) -> None:
    app = create_app(settings.model_copy(update={"base_url": "https://marketplace.example"}))
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await login(client, world.emails[Role.inventor])
    cookies = [v for v in response.headers.get_list("set-cookie") if v.startswith(("session=", "csrftoken="))]
    assert len(cookies) == 2 and all("Secure" in c and "HttpOnly" in c for c in cookies)


async def test_a_form_token_of_another_session_is_refused(client, world) -> None:
    other = await device(client, world.emails[Role.company_member])
    await login(client, world.emails[Role.company_admin])
    assert client.cookies["csrftoken"] != other["csrftoken"]
    # The other session's token, in the header and planted as the cookie: the session's own token counts.
    use(client, {**dict(client.cookies), "csrftoken": other["csrftoken"]})
    refused = await client.post("/profile", data={"name": "Mallory"}, headers={"x-csrftoken": other["csrftoken"]})
    assert refused.status_code == 403


async def test_the_csrf_token_changes_at_sign_in(client, world) -> None:
    await client.get("/login")
    anonymous = client.cookies["csrftoken"]
    await login_keeping_cookies(client, world.emails[Role.inventor])
    assert client.cookies["csrftoken"] != anonymous
    refused = await client.post("/profile", data={"name": "x"}, headers={"x-csrftoken": anonymous})
    assert refused.status_code == 403
    accepted = await post_form(client, "/profile", {"name": "Inventor"})
    assert accepted.status_code == 302


async def test_the_purge_job_deletes_only_sessions_long_over(client, db, settings, world) -> None:
    await device(client, world.emails[Role.inventor])
    await device(client, world.emails[Role.tto_staff])
    await post_form(client, "/logout")
    await db.execute(update(WebSession).where(WebSession.ended_at.is_not(None)).values(ended_at=utcnow() - timedelta(days=2)))
    await db.commit()
    assert await purge_sessions(db, settings) == 1
    await db.commit()
    left = (await db.scalars(select(WebSession))).all()
    assert len(left) == 1 and left[0].ended_at is None
