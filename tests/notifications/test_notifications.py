"""In-app notifications (list, unread badge, mark read) and e-mail preferences (settings page,
one-click unsubscribe)."""

from __future__ import annotations

import re
import uuid

import msgspec
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import make_sessionmaker
from marketplace.notifications.models import EmailPreference, Notification
from marketplace.notifications.services import NotificationService
from marketplace.search.models import SavedSearchMatch
from marketplace.search.saved_search_alerts import DIGEST_EMAIL, send_digests
from tests.catalog.factories import result_body, seed_listing
from tests.support.web import login, post_form

MEMBER = Role.company_member
SAVED_MATCHES = "New matches for your saved search “%(name)s”: %(count)s"


async def user_id(db, world, role: Role = MEMBER) -> uuid.UUID:
    return (await AccountService(db).user_by_email(world.emails[role])).id


async def notify(db, world, name: str, role: Role = MEMBER) -> Notification:
    [note] = await NotificationService(db).notify(
        [await user_id(db, world, role)],
        "saved_search_matches",
        SAVED_MATCHES,
        params={"name": name, "count": 2},
        items=[{"label": "外泌体检测", "label_en": "Exosome test", "link": "/listings/x", "tag": "New"}],
        link="/search?q=exosome",
    )
    await db.commit()
    return note


def badge(html: str) -> str | None:
    found = re.search(r'<span class="bell-count"[^>]*>(\d+)</span>', html)
    return found.group(1) if found else None


async def test_the_list_marks_read_one_by_one_or_all_and_the_header_counts_unread(client, db, world) -> None:
    first = await notify(db, world, "肝癌")
    second = await notify(db, world, "外泌体")
    await notify(db, world, "别人的", role=Role.company_admin)

    await login(client, world.emails[MEMBER])
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "保存的搜索“肝癌”有新的匹配：2 条" in page.text and "保存的搜索“外泌体”有新的匹配：2 条" in page.text
    assert "别人的" not in page.text
    assert 'href="/listings/x"' in page.text and "外泌体检测" in page.text
    assert badge(page.text) == "2"
    assert badge((await client.get("/profile")).text) == "2"  # on every page

    read = await post_form(client, f"/notifications/{first.id}/read")
    assert read.status_code == 302 and read.headers["location"] == "/notifications"
    opened = await post_form(client, f"/notifications/{second.id}/read", {"open": "1"})
    assert opened.headers["location"] == "/search?q=exosome"
    page = await client.get("/notifications?unread=true")
    assert badge(page.text) is None and "没有未读通知。" in page.text

    third = await notify(db, world, "第三个")
    assert badge((await client.get("/notifications")).text) == "1"
    assert (await post_form(client, "/notifications/read-all")).status_code == 302
    assert badge((await client.get("/notifications")).text) is None
    stored = await db.scalar(select(Notification).where(Notification.id == third.id).execution_options(populate_existing=True))
    assert stored.read_at is not None
    # Another user's notification is not found.
    theirs = await db.scalar(select(Notification.id).where(Notification.params["name"].astext == "别人的"))
    assert (await post_form(client, f"/notifications/{theirs}/read")).status_code == 404


async def test_the_api_lists_the_callers_notifications_in_their_language(client, db, world) -> None:
    note = await notify(db, world, "肝癌")
    headers = world.bearer(MEMBER) | {"Accept-Language": "en"}
    listed = (await client.get("/api/v1/notifications", headers=headers)).json()
    assert listed["unread"] == 1
    [item] = listed["notifications"]
    assert item["text"] == "New matches for your saved search “肝癌”: 2"
    assert item["items"] == [{"label": "外泌体检测", "link": "/listings/x", "label_en": "Exosome test", "tag": "New"}]
    marked = await client.post(f"/api/v1/notifications/{note.id}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["read_at"]
    assert (await client.get("/api/v1/notifications?unread=true", headers=headers)).json() == {"unread": 0, "notifications": []}
    assert (await client.get("/api/v1/notifications", headers=world.bearer(Role.company_admin))).json()["notifications"] == []


async def test_users_choose_their_emails_and_a_reenabled_digest_skips_the_backlog(
    client, db, world, engine, settings, mailbox
) -> None:
    saved = await client.post(
        "/api/v1/saved-searches", json={"name": "全部成果", "query": "kind=result"}, headers=world.bearer(MEMBER)
    )
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    db.add(
        SavedSearchMatch(
            saved_search_id=uuid.UUID(saved.json()["id"]),
            listing_id=listing.id,
            changed_at_ms=1,
            is_new=True,
            title_zh=listing.title_zh,
        )
    )
    await db.commit()

    await login(client, world.emails[MEMBER])
    page = await client.get("/settings/notifications")
    assert "保存搜索的每日摘要" in page.text and 'value="saved_search_digest" checked' in page.text
    off = await post_form(client, "/settings/notifications", {"kind": DIGEST_EMAIL.key})
    assert off.status_code == 302
    assert 'value="saved_search_digest" checked' not in (await client.get("/settings/notifications")).text
    assert await send_digests(make_sessionmaker(engine), settings) == 0
    # Back on: only what is found from now on is e-mailed, not what was found while it was off.
    await post_form(client, "/settings/notifications", {"kind": DIGEST_EMAIL.key, "on": DIGEST_EMAIL.key})
    assert await NotificationService(db).wants_email(await user_id(db, world), DIGEST_EMAIL.key)
    assert await send_digests(make_sessionmaker(engine), settings) == 0
    assert mailbox.messages == []


async def test_one_click_unsubscribe_needs_no_sign_in_and_no_csrf_token(client, db, world) -> None:
    member = await user_id(db, world)
    token = await NotificationService(db).unsubscribe_token(member, DIGEST_EMAIL.key)
    await db.commit()
    client.cookies.clear()

    assert (await client.get(f"/unsubscribe/{token}x")).status_code == 404
    assert (await client.post(f"/unsubscribe/{token}x", data={"List-Unsubscribe": "One-Click"})).status_code == 404
    confirm = await client.get(f"/unsubscribe/{token}")
    assert confirm.status_code == 200 and "保存搜索的每日摘要" in confirm.text and "不再接收这些邮件？" in confirm.text
    # What a mail program sends (RFC 8058): a plain POST, no cookie, no CSRF token.
    client.cookies.clear()
    done = await client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "已退订" in done.text
    preference = await db.scalar(
        select(EmailPreference).where(EmailPreference.user_id == member).execution_options(populate_existing=True)
    )
    assert preference.enabled is False
    assert not await NotificationService(db).wants_email(member, DIGEST_EMAIL.key)
    # Other e-mail kinds and other users are untouched.
    assert await NotificationService(db).wants_email(await user_id(db, world, Role.company_admin), DIGEST_EMAIL.key)


async def test_the_email_settings_offer_and_accept_only_the_kinds_that_reach_the_role(client, db, world) -> None:
    await login(client, world.emails[MEMBER])
    page = (await client.get("/settings/notifications")).text
    for key in ("match_request_activity", "match_thread_messages", "saved_search_digest", "need_responses"):
        assert f'value="{key}"' in page, key
    for key in ("match_request_reminders", "need_response_decisions"):  # a TTO's deadlines and answers
        assert f'value="{key}"' not in page, key
    refused = await post_form(client, "/settings/notifications", {"kind": "match_request_reminders"})
    assert refused.status_code == 422  # refused like an unknown kind
    member = await user_id(db, world)
    assert await db.scalar(select(EmailPreference).where(EmailPreference.user_id == member)) is None

    await login(client, world.emails[Role.tto_staff])
    page = (await client.get("/settings/notifications")).text
    for key in ("match_request_reminders", "need_response_decisions", "match_request_activity", "licensing_reminders"):
        assert f'value="{key}"' in page, key
    assert 'value="saved_search_digest"' not in page
    saved = await post_form(client, "/settings/notifications", {"kind": "match_request_reminders"})
    assert saved.status_code == 302
    staff = await user_id(db, world, Role.tto_staff)
    assert not await NotificationService(db).wants_email(staff, "match_request_reminders")
