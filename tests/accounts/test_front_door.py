"""The front door's accounts side: forgot password (one-time, expiring, hashed link; the same answer
for every address; throttled; ends every session) and requests for access (a public form with field
errors; the platform admin approves — organization and invitation — or declines with a reason)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from marketplace.accounts.models import AccessRequest, Invitation, Membership, Organization, PasswordReset, User, WebSession
from marketplace.accounts.passwords import digest
from marketplace.audit.models import AuditEvent
from marketplace.db import make_sessionmaker
from marketplace.notifications.models import OutgoingEmail
from marketplace.notifications.services import send_queued_emails
from tests.accounts.factories import credit_code, seed_application
from tests.support.web import error_of, login, post_form
from tests.support.world import PASSWORD

NEW_PASSWORD = "a-brand-new-password"


async def _reset_link(engine, settings, mailbox) -> str:
    """Send the queued e-mail and read the link off it."""
    mailbox.messages.clear()
    assert await send_queued_emails(settings, make_sessionmaker(engine)) == 1
    body = mailbox.only().get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/reset-password/\S+", body).group(0)


async def test_forgot_password_mails_a_one_time_link_that_ends_every_session(client, db, engine, world, settings, mailbox):
    email = world.emails["tto_manager"]
    await login(client, email)  # a session elsewhere, to be ended
    assert await db.scalar(select(func.count()).select_from(WebSession).where(WebSession.ended_at.is_(None))) == 1
    client.cookies.clear()

    page = await client.get("/login")
    assert 'href="/forgot-password"' in page.text and 'href="/request-access"' in page.text
    answer = await post_form(client, "/forgot-password", {"email": email.upper()})
    assert answer.status_code == 200 and 'id="reset-sent"' in answer.text
    link = await _reset_link(engine, settings, mailbox)
    token = link.rsplit("/", 1)[1]
    stored = (await db.scalars(select(PasswordReset))).one()
    assert stored.token_hash == digest(token) and token not in stored.token_hash  # only the hash is kept
    assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(hours=1, seconds=5)

    path = "/reset-password/" + token
    assert (await client.get(path)).status_code == 200
    short = await post_form(client, path, {"password": "short", "password_confirm": "short"})
    assert short.status_code == 422 and error_of(short.text, "password")
    differ = await post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and error_of(differ.text, "password_confirm")
    done = await post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["location"] == "/login"

    db.expire_all()
    assert (
        await db.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.ended_at.is_(None), WebSession.user_id.is_not(None))
        )
        == 0
    )
    assert (await client.get(path)).status_code == 404  # used up
    again = await post_form(client, path, {"password": "another-password-9", "password_confirm": "another-password-9"})
    assert again.status_code == 404
    await login(client, email, NEW_PASSWORD)
    bad = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert bad.status_code == 400
    actions = set(await db.scalars(select(AuditEvent.action)))
    assert {"password_reset_requested", "password_reset", "sessions_ended"} <= actions


async def test_forgot_password_says_the_same_for_an_unknown_address(client, db, engine, world, settings, mailbox):
    known = await post_form(client, "/forgot-password", {"email": world.emails["company_admin"]})
    unknown = await post_form(client, "/forgot-password", {"email": "nobody@nowhere.test"})
    strip = lambda html, email: re.sub(r'name="csrf[^>]*>|value="[^"]*"', "", html).replace(email, "EMAIL")  # noqa: E731
    assert known.status_code == unknown.status_code == 200
    assert strip(known.text, world.emails["company_admin"]) == strip(unknown.text, "nobody@nowhere.test")
    assert await db.scalar(select(func.count()).select_from(OutgoingEmail)) == 1  # only the real account's
    assert await db.scalar(select(func.count()).select_from(PasswordReset)) == 1


async def test_an_expired_or_replaced_link_is_refused(client, db, engine, world, settings, mailbox):
    email = world.emails["inventor"]
    await post_form(client, "/forgot-password", {"email": email})
    first = await _reset_link(engine, settings, mailbox)
    await post_form(client, "/forgot-password", {"email": email})
    second = await _reset_link(engine, settings, mailbox)
    assert (await client.get("/reset-password/" + first.rsplit("/", 1)[1])).status_code == 404  # replaced
    path = "/reset-password/" + second.rsplit("/", 1)[1]
    assert (await client.get(path)).status_code == 200
    await db.execute(update(PasswordReset).values(expires_at=func.now() - timedelta(seconds=1)))
    await db.commit()
    assert (await client.get(path)).status_code == 404


async def test_forgot_password_is_throttled_like_sign_in(client, db, world, settings):
    email = world.emails["company_member"]
    statuses = [
        (await post_form(client, "/forgot-password", {"email": email})).status_code
        for _ in range(settings.login_free_failures + 2)
    ]
    assert statuses[0] == 200 and statuses[-1] == 429
    # Its own bucket: the account's sign-in is not slowed by reset requests.
    assert (await post_form(client, "/login", {"email": email, "password": PASSWORD})).status_code == 302


# ----- requests for access ----------------------------------------------------------------------------

APPLICATION = {
    "kind": "company",
    "name_zh": "上海新药科技有限公司",
    "name_en": "Shanghai New Drug Tech",
    "city": "上海",
    "contact_name": "李经理",
    "email": "li@newdrug.test",
    "phone": "+86 21 5555 1234",
    "message": "希望寻找肝癌诊断试剂。",
}


async def test_request_access_checks_every_field_and_refuses_a_double_submit(client, db):
    page = await client.get("/request-access")
    assert page.status_code == 200 and 'name="credit_code"' in page.text
    hostile = await post_form(
        client,
        "/request-access",
        {
            "kind": "platform",
            "name_zh": "x" * 5000,
            "email": "not-an-address",
            "phone": "<script>",
            "credit_code": "91310000MA1FL0000X",
        },
    )
    assert hostile.status_code == 422
    for name in ("kind", "name_zh", "city", "contact_name", "email", "phone", "credit_code"):
        assert error_of(hostile.text, name), name
    no_code = await post_form(client, "/request-access", APPLICATION)
    assert no_code.status_code == 422 and error_of(no_code.text, "credit_code")
    assert 'value="上海新药科技有限公司"' in no_code.text  # what was typed stays
    code = credit_code()
    wrong_check = code[:17] + ("0" if code[17] != "0" else "1")
    assert (await post_form(client, "/request-access", {**APPLICATION, "credit_code": wrong_check})).status_code == 422
    sent = await post_form(client, "/request-access", {**APPLICATION, "credit_code": code.lower()})
    assert sent.status_code == 200 and 'id="access-sent"' in sent.text
    twice = await post_form(client, "/request-access", {**APPLICATION, "credit_code": code})
    assert twice.status_code == 409 and error_of(twice.text, "email")
    other_address = await post_form(client, "/request-access", {**APPLICATION, "email": "wang@newdrug.test", "credit_code": code})
    assert other_address.status_code == 409 and error_of(other_address.text, "credit_code")
    row = (await db.scalars(select(AccessRequest))).one()
    assert (row.status, row.credit_code, row.kind) == ("pending", code, "company")
    assert "access_request_submitted" in set(await db.scalars(select(AuditEvent.action)))


async def test_the_platform_admin_approves_and_the_contact_is_invited(client, db, world, mailbox):
    application = await seed_application(db, kind="company")
    await login(client, world.emails["company_admin"])
    assert (await client.get("/access-requests")).status_code == 403
    await login(client, world.emails["platform_admin"])
    page = await client.get("/access-requests")
    assert application.name_zh in page.text
    path = f"/access-requests/{application.id}/approve"
    missing = await post_form(client, path, {"kind": "company", "city": "上海", "segment": "nonsense"})
    assert missing.status_code == 422 and error_of(missing.text, "segment")
    mailbox.messages.clear()
    approved = await post_form(client, path, {"kind": "company", "city": "上海", "segment": "pharma", "credit_code": "X"})
    assert approved.status_code == 302, approved.text
    row = await db.get(AccessRequest, application.id, populate_existing=True)
    org = await db.get(Organization, row.organization_id)
    assert (row.status, org.kind, org.credit_code, org.name_zh) == (
        "approved",
        "company",
        application.credit_code,
        application.name_zh,
    )
    invitation = (await db.scalars(select(Invitation).where(Invitation.organization_id == org.id))).one()
    assert invitation.role == "company_admin"
    assert mailbox.only()["To"] == application.email
    link = re.search(r"/invitations/\S+", mailbox.only().get_body(("plain",)).get_content()).group(0)
    client.cookies.clear()
    accepted = await post_form(client, link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert accepted.status_code == 302
    user = await db.scalar(select(User).where(User.email == application.email))
    assert await db.scalar(select(Membership.role).where(Membership.user_id == user.id)) == "company_admin"
    await login(client, world.emails["platform_admin"])
    twice = await post_form(client, path, {"kind": "company", "city": "上海", "segment": "pharma"})
    assert twice.status_code == 409 and error_of(twice.text, "action")
    assert "access_request_approve" in set(await db.scalars(select(AuditEvent.action)))


async def test_the_platform_admin_declines_with_a_reason_and_the_applicant_is_told(client, db, engine, world, settings, mailbox):
    application = await seed_application(db)
    await login(client, world.emails["platform_admin"])
    path = f"/access-requests/{application.id}/decline"
    empty = await post_form(client, path, {"reason": "  "})
    assert empty.status_code == 422 and error_of(empty.text, "reason")
    assert (await post_form(client, path, {"reason": "无法核实该机构的执业许可。"})).status_code == 302
    row = await db.get(AccessRequest, application.id, populate_existing=True)
    assert (row.status, row.decline_reason, row.organization_id) == ("declined", "无法核实该机构的执业许可。", None)
    mailbox.messages.clear()
    await send_queued_emails(settings, make_sessionmaker(engine))
    assert "无法核实该机构的执业许可。" in mailbox.only().get_body(("plain",)).get_content()
    assert (
        await post_form(client, f"/access-requests/{application.id}/approve", {"kind": "institution", "city": "上海"})
    ).status_code == 409
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "access_request_decline"))
    assert event.data["before"] == "pending" and event.data["after"] == "declined"
    # Declined: the same address may apply again.
    assert (await seed_application(db, email=application.email)).status == "pending"
