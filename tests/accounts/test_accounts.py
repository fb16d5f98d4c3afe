"""Accounts: sign-in, rate limiting, invitations by e-mail, API tokens, roles, switching."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from marketplace.accounts.models import ApiToken, Invitation, Membership, Organization, Role, User
from marketplace.accounts.organizations import is_valid_credit_code
from marketplace.accounts.services import AccountService
from marketplace.audit.models import AuditEvent
from tests.accounts.factories import seed_member
from tests.support.web import login, post_form
from tests.support.world import PASSWORD


async def audit_actions(db) -> list[str]:
    db.expire_all()
    return list((await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


# ----- sign-in --------------------------------------------------------------------------------


async def test_login_sets_a_session_and_is_audited(client, db, world) -> None:
    response = await login(client, world.emails[Role.tto_manager])
    assert response.status_code == 302 and response.headers["location"] == "/"
    me = await client.get("/")
    assert "本院" in me.text and "转化办负责人" in me.text
    assert "login" in await audit_actions(db)


async def test_wrong_password_is_refused_in_chinese_and_audited(client, db, world) -> None:
    response = await post_form(client, "/login", {"email": world.emails[Role.inventor], "password": "wrong-password"})
    assert response.status_code == 400
    assert "电子邮箱或密码错误" in response.text
    assert (await audit_actions(db))[-1] == "login_failed"
    assert "session" not in client.cookies or (await client.get("/profile", follow_redirects=False)).status_code == 302


async def test_logout_ends_the_session(client, world) -> None:
    await login(client, world.emails[Role.inventor])
    await post_form(client, "/logout")
    assert (await client.get("/profile", follow_redirects=False)).status_code == 302


# ----- invitations ----------------------------------------------------------------------------


async def invite(client, world, email: str, role: str = "tto_staff", as_role: Role = Role.tto_manager):
    org = world.orgs["institution/own"]
    return await client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={"email": email, "role": role, "name": "新同事"},
        headers=world.bearer(as_role),
    )


def link_in(message) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"http://testserver\.local(/invitations/\S+)", body)
    assert match, body
    return match.group(1)


async def test_invitation_email_link_sets_the_password_once(client, db, world, mailbox) -> None:
    response = await invite(client, world, "new.colleague@hospital.test")
    assert response.status_code == 201, response.text
    message = mailbox.only()
    assert message["To"] == "new.colleague@hospital.test"
    assert "本院" in message["Subject"]
    path = link_in(message)

    form = await client.get(path)
    assert form.status_code == 200 and "设置密码" in form.text
    mismatch = await post_form(client, path, {"password": "a-new-password", "password_confirm": "different"})
    assert mismatch.status_code == 400 and "两次输入的密码不一致" in mismatch.text
    short = await post_form(client, path, {"password": "eleven-char", "password_confirm": "eleven-char"})
    assert short.status_code == 400 and "至少 12 个字符" in short.text
    accepted = await post_form(client, path, {"password": "a-new-password", "password_confirm": "a-new-password"})
    assert accepted.status_code == 302

    membership = await db.scalar(select(Membership).join(User).where(User.email == "new.colleague@hospital.test"))
    assert membership.role == "tto_staff" and membership.organization_id == world.orgs["institution/own"].id
    stored = await db.scalar(select(User.password_hash).where(User.email == "new.colleague@hospital.test"))
    assert stored.startswith("$argon2id$") and "a-new-password" not in stored
    assert (await client.get(path)).status_code == 404  # used once
    client.cookies.clear()
    assert (await login(client, "new.colleague@hospital.test", "a-new-password")).status_code == 302
    assert {"invitation_sent", "invitation_accepted"} <= set(await audit_actions(db))


async def test_an_expired_invitation_link_answers_404(client, db, world, mailbox) -> None:
    await invite(client, world, "late@hospital.test")
    path = link_in(mailbox.only())
    await db.execute(update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    await db.commit()
    assert (await client.get(path)).status_code == 404
    assert (await post_form(client, path, {"password": "x" * 12, "password_confirm": "x" * 12})).status_code == 404


async def test_an_existing_user_accepts_without_a_new_password(client, db, world, mailbox) -> None:
    existing = world.emails[Role.company_member]
    assert (await invite(client, world, existing, role="inventor")).status_code == 201
    path = link_in(mailbox.only())
    page = await client.get(path)
    assert "您已有账号" in page.text
    assert (await post_form(client, path, {})).status_code == 302
    roles = (await db.scalars(select(Membership.role).join(User).where(User.email == existing))).all()
    assert sorted(roles) == ["company_member", "inventor"]


async def test_inviting_a_member_twice_is_a_field_error(client, db, world, mailbox) -> None:
    member = "target@institution.own.test"
    response = await invite(client, world, member.upper())
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "email", "message": "此人已是本机构成员。"}]
    assert mailbox.messages == []
    assert await db.scalar(select(func.count()).select_from(Invitation)) == 0


async def test_a_role_from_another_kind_of_organization_is_refused(client, db, world) -> None:
    response = await invite(client, world, "x@hospital.test", role="company_admin")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    assert await db.scalar(select(func.count()).select_from(User).where(User.email == "x@hospital.test")) == 0


# ----- roles ----------------------------------------------------------------------------------


async def test_role_change_is_audited_and_the_last_admin_stays(client, db, world) -> None:
    org = world.orgs["institution/own"]
    target = world.targets["institution/own"]
    headers = world.bearer(Role.tto_manager)
    changed = await client.patch(
        f"/api/v1/organizations/{org.id}/members/{target.id}", json={"role": "tto_staff"}, headers=headers
    )
    assert changed.status_code == 200 and changed.json()["role"] == "tto_staff"
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "role_changed"))
    assert event.data["before"] == "inventor" and event.data["after"] == "tto_staff"

    manager = await db.scalar(select(Membership).join(User).where(User.email == world.emails[Role.tto_manager]))
    refused = await client.patch(
        f"/api/v1/organizations/{org.id}/members/{manager.id}", json={"role": "inventor"}, headers=headers
    )
    assert refused.status_code == 409
    assert await db.scalar(select(Membership.role).where(Membership.id == manager.id)) == "tto_manager"


# ----- API tokens -----------------------------------------------------------------------------


async def test_token_is_shown_once_stored_hashed_and_revocable(client, db, world) -> None:
    created = await client.post("/api/v1/tokens", json={"name": "CRM 同步"}, headers=world.bearer(Role.company_admin))
    assert created.status_code == 201
    raw = created.json()["token"]
    row = await db.get(ApiToken, __import__("uuid").UUID(created.json()["id"]))
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    dump = (await db.execute(text("select row_to_json(t)::text from api_tokens t"))).scalars().all()
    assert not any(raw in line for line in dump)

    listed = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {raw}"})
    assert listed.status_code == 200 and all("token" not in t for t in listed.json())
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.json()["organization"]["role"] == "company_admin" and me.json()["via_token"] is True

    revoked = await client.delete(f"/api/v1/tokens/{row.id}", headers=world.bearer(Role.company_admin))
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})).status_code == 401
    assert {"token_created", "token_revoked"} <= set(await audit_actions(db))


async def test_a_token_acts_with_the_users_current_role(client, db, world) -> None:
    org = world.orgs["company/own"]
    member = await db.scalar(select(Membership).join(User).where(User.email == world.emails[Role.company_member]))
    headers = world.bearer(Role.company_member)
    assert (await client.get("/api/v1/me", headers=headers)).json()["organization"]["role"] == "company_member"
    await client.patch(
        f"/api/v1/organizations/{org.id}/members/{member.id}",
        json={"role": "company_admin"},
        headers=world.bearer(Role.company_admin),
    )
    assert (await client.get("/api/v1/me", headers=headers)).json()["organization"]["role"] == "company_admin"
    await client.delete(f"/api/v1/organizations/{org.id}/members/{member.id}", headers=world.bearer(Role.company_admin))
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_bad_bearer_tokens_get_401_with_a_challenge(client, world) -> None:
    for header in ("Bearer nope", "Basic abc", "Bearer "):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_the_api_ignores_the_session_cookie(client, world) -> None:
    """Cookies never authenticate the API, which is why it needs no CSRF token."""
    await login(client, world.emails[Role.platform_admin])
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_tokens_page_shows_a_new_token_once(client, world) -> None:
    await login(client, world.emails[Role.inventor])
    await post_form(client, "/tokens", {"name": "脚本"})
    first = await client.get("/tokens")
    token = re.search(r'id="new-token">(mkp_[^<]+)<', first.text)
    assert token
    second = await client.get("/tokens")
    assert token.group(1) not in second.text and "脚本" in second.text


async def test_pages_show_times_in_china_time(client, db, world) -> None:
    """A token made at 20:30 UTC was made at 04:30 the next day in China; the page says so."""
    await login(client, world.emails[Role.inventor])
    await post_form(client, "/tokens", {"name": "脚本"})
    await db.execute(update(ApiToken).values(created_at=datetime(2026, 11, 22, 20, 30, tzinfo=UTC)))
    await db.commit()
    page = await client.get("/tokens")
    assert "2026-11-23 04:30" in page.text and "2026-11-22 20:30" not in page.text


# ----- switching organization and language ----------------------------------------------------


async def test_switching_organization_changes_who_the_user_acts_for(client, db, world) -> None:
    other = world.orgs["company/other"]
    await seed_member(db, other, email=world.emails[Role.tto_staff], name="x", role="company_member", password=PASSWORD)
    await db.commit()
    await login(client, world.emails[Role.tto_staff])
    assert "本院" in (await client.get("/")).text
    await post_form(client, "/switch-org", {"organization_id": str(other.id)})
    home = await client.get("/")
    assert "他企业" in home.text and "企业成员" in home.text
    # An organization the user does not belong to is refused and changes nothing.
    await post_form(client, "/switch-org", {"organization_id": str(world.orgs["platform/own"].id)})
    home = await client.get("/")
    assert "他企业" in home.text and "不是该机构的成员" in home.text


async def test_language_follows_the_switch_then_the_browser(client, world) -> None:
    assert "登录" in (await client.get("/login")).text
    english = await client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in" in english.text and english.headers["content-language"] == "en"
    await post_form(client, "/lang", {"locale": "en", "next": "/login"})
    page = await client.get("/login")
    assert "Sign in" in page.text and '<html lang="en"' in page.text
    await post_form(client, "/lang", {"locale": "zh_CN", "next": "/login"})
    assert "登录" in (await client.get("/login")).text


# ----- organizations and the rules PostgreSQL keeps -------------------------------------------


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91350100M000100Y43", True),
        ("91350100M000100Y44", False),  # wrong check character
        ("91350100M000100I43", False),  # I is not in the alphabet
        ("91350100M000100Y4", False),  # 17 characters
    ],
)
def test_credit_code_check_character(code: str, valid: bool) -> None:
    assert is_valid_credit_code(code) is valid


async def test_platform_admin_creates_an_institution(client, db, world) -> None:
    body = {
        "kind": "institution",
        "name_zh": "新建医院",
        "name_en": "New Hospital",
        "city": "杭州",
        "grade": "3A",
        "approved_beds": 1500,
        "research_beds": 150,
        "gcp_certified": True,
        "pi_concurrent_trial_threshold": 3,
    }
    response = await client.post("/api/v1/organizations", json=body, headers=world.bearer(Role.platform_admin))
    assert response.status_code == 201, response.text
    assert response.json()["research_beds"] == 150
    assert "organization_created" in await audit_actions(db)


async def test_research_beds_above_ten_percent_are_refused(client, db, world) -> None:
    body = {
        "kind": "institution",
        "name_zh": "超额医院",
        "city": "杭州",
        "grade": "3A",
        "approved_beds": 1000,
        "research_beds": 101,
        "pi_concurrent_trial_threshold": 3,
    }
    response = await client.post("/api/v1/organizations", json=body, headers=world.bearer(Role.platform_admin))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "research_beds", "message": "研究型床位不得超过核定床位的 10%（100 张）。"}]
    assert await db.scalar(select(func.count()).where(Organization.name_zh == "超额医院")) == 0


async def test_postgresql_itself_keeps_the_account_rules(db, world) -> None:
    hospital = world.orgs["institution/own"].id
    company = world.orgs["company/other"].id
    user = (await AccountService(db).user_by_email(world.emails[Role.inventor])).id
    with pytest.raises(IntegrityError, match="research_beds_within_10_percent"):
        await db.execute(update(Organization).where(Organization.id == hospital).values(research_beds=101))
    await db.rollback()
    with pytest.raises(IntegrityError, match="role_fits_org_kind"):
        db.add(Membership(user_id=user, organization_id=company, org_kind="company", role="inventor"))
        await db.flush()
    await db.rollback()
    with pytest.raises(IntegrityError, match="fk_memberships_org_kind"):
        db.add(Membership(user_id=user, organization_id=company, org_kind="institution", role="inventor"))
        await db.flush()
    await db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        await db.execute(text("delete from audit_events"))
    await db.rollback()


# ----- health and the API document ------------------------------------------------------------


async def test_ready_reports_database_search_and_migrations(client) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "search": "ok", "migrations": "ok"}


async def test_openapi_document_lists_the_api(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/v1/me", "/api/v1/organizations", "/api/v1/organizations/{organization_id}/members", "/api/v1/tokens"):
        assert path in document["paths"], path
    assert "/login" not in document["paths"]


async def test_an_unknown_page_answers_404_in_the_visitors_language(client) -> None:
    chinese = await client.get("/no-such-page")
    assert chinese.status_code == 404 and "未找到" in chinese.text
    english = await client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "Not found" in english.text
    api = await client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert api.json() == {"status_code": 404, "detail": "Not found.", "errors": []}


async def test_bootstrap_makes_the_platform_and_its_admin_once(client, db) -> None:
    from marketplace.accounts.organizations import OrganizationInput
    from marketplace.errors import Conflict, InvalidInput

    accounts = AccountService(db)
    platform = OrganizationInput(kind="platform", name_zh="平台", city="上海")
    with pytest.raises(InvalidInput):
        await accounts.bootstrap_platform(platform, email="root@example.test", name="根", password="short")
    with pytest.raises(InvalidInput):
        hospital = OrganizationInput(kind="institution", name_zh="医院", city="上海", grade="3A", approved_beds=100)
        await accounts.bootstrap_platform(hospital, email="root@example.test", name="根", password=PASSWORD)
    membership = await accounts.bootstrap_platform(platform, email="Root@Example.test", name="根", password=PASSWORD)
    assert membership.role == Role.platform_admin
    assert (await accounts.authenticate("root@example.test", PASSWORD)).id == membership.user_id
    actions = (await db.scalars(select(AuditEvent.action).where(AuditEvent.organization_id == membership.organization_id))).all()
    assert {"organization_created", "member_added"} <= set(actions)
    with pytest.raises(Conflict):
        await accounts.bootstrap_platform(platform, email="other@example.test", name="又一个", password=PASSWORD)
