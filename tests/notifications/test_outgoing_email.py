"""The outgoing e-mail queue cannot be poisoned: header values are cleaned where messages are
built, and a message that cannot be built, is refused for good or keeps failing is moved aside
(failed, with why, listed for the platform admin) without holding back the ones behind it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import make_sessionmaker, utcnow
from marketplace.embedded.postgres import free_port
from marketplace.notifications.models import OutgoingEmail
from marketplace.notifications.services import (
    EMAIL_MAX_ATTEMPTS,
    SUBJECT_MAX,
    NotificationService,
    clean_header,
    send_queued_emails,
)
from tests.support.mailbox import REFUSED_DOMAIN


def raw_row(to: str, subject: str, *, minutes_ago: int, headers: dict | None = None) -> OutgoingEmail:
    """A row as it may sit in the queue (written before cleaning, or by hand): not cleaned."""
    return OutgoingEmail(
        to_address=to,
        kind="test",
        subject=subject,
        body="正文\n",
        headers=headers or {},
        next_attempt_at=utcnow() - timedelta(minutes=minutes_ago),
    )


async def stored(db, row_id) -> OutgoingEmail:
    return await db.scalar(select(OutgoingEmail).where(OutgoingEmail.id == row_id).execution_options(populate_existing=True))


async def test_a_poisoned_message_between_two_good_ones_holds_neither_back(client, db, settings, engine, mailbox) -> None:
    # In queue order: good, poisoned (cannot be built: a second Subject header), good.
    first = raw_row("first@example.test", "第一封", minutes_ago=3)
    poisoned = raw_row("bad@example.test", "标题\n换行", minutes_ago=2, headers={"Subject": "再来一个主题"})
    last = raw_row("last@example.test", "第二封", minutes_ago=1)
    db.add_all([first, poisoned, last])
    await db.commit()
    sessionmaker = make_sessionmaker(engine)

    assert await send_queued_emails(settings, sessionmaker) == 2
    assert sorted(m["To"] for m in mailbox.messages) == ["first@example.test", "last@example.test"]
    assert {m["Subject"] for m in mailbox.messages} == {"第一封", "第二封"}
    moved = await stored(db, poisoned.id)
    assert moved.failed_at is not None and moved.sent_at is None and moved.attempts == 1
    assert "ValueError" in moved.last_error and "Subject" in moved.last_error
    # Moved aside: the next round neither tries it again nor sends anything twice.
    assert await send_queued_emails(settings, sessionmaker) == 0
    assert len(mailbox.messages) == 2
    assert (await stored(db, poisoned.id)).attempts == 1


async def test_a_permanent_refusal_is_moved_aside_and_listed_for_the_platform_admin(
    client, db, world, settings, engine, mailbox
) -> None:
    notifications = NotificationService(db)
    refused = await notifications.queue_email(f"nobody@{REFUSED_DOMAIN}", "test", "拒收", "正文\n")
    good = await notifications.queue_email("somebody@example.test", "test", "送达", "正文\n")
    await db.commit()

    assert await send_queued_emails(settings, make_sessionmaker(engine)) == 1
    assert [m["To"] for m in mailbox.messages] == ["somebody@example.test"]
    assert (await stored(db, good.id)).sent_at is not None
    moved = await stored(db, refused.id)
    assert moved.failed_at is not None and moved.attempts == 1 and "550" in moved.last_error

    listed = await client.get("/api/v1/notifications/failed-emails", headers=world.bearer(Role.platform_admin))
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["id"] == str(refused.id) and item["to_address"] == f"nobody@{REFUSED_DOMAIN}"
    assert item["subject"] == "拒收" and "550" in item["last_error"] and item["failed_at"]
    assert "body" not in item  # it carries the recipient's unsubscribe link
    for role in (Role.platform_analyst, Role.tto_manager, Role.company_admin):
        assert (await client.get("/api/v1/notifications/failed-emails", headers=world.bearer(role))).status_code == 403


async def test_transient_failures_back_off_and_are_moved_aside_after_the_last_attempt(client, db, settings, engine) -> None:
    fresh = raw_row("fresh@example.test", "稍后重试", minutes_ago=2)
    worn = raw_row("worn@example.test", "最后一次", minutes_ago=1)
    worn.attempts = EMAIL_MAX_ATTEMPTS - 1
    db.add_all([fresh, worn])
    await db.commit()
    nobody_listens = settings.model_copy(update={"smtp_port": free_port()})

    assert await send_queued_emails(nobody_listens, make_sessionmaker(engine)) == 0
    retried = await stored(db, fresh.id)
    assert retried.failed_at is None and retried.attempts == 1 and retried.last_error
    assert retried.next_attempt_at > utcnow()
    given_up = await stored(db, worn.id)
    assert given_up.failed_at is not None and given_up.attempts == EMAIL_MAX_ATTEMPTS and given_up.last_error


async def test_line_breaks_and_control_characters_in_headers_are_folded_to_spaces(client, db, settings, engine, mailbox) -> None:
    title = "外泌体\u2028肝癌\r\n检测\u2029方法\x00\x0b\x85  第二行\t"
    assert clean_header(title) == "外泌体 肝癌 检测 方法 第二行"
    long = clean_header("长" * 1000, SUBJECT_MAX)
    assert len(long) == SUBJECT_MAX and long.endswith("…")

    # Cleaned when queued …
    queued = await NotificationService(db).queue_email("a@example.test", "test", title, "正文\n", headers={"X-Note": "a\nb"})
    # … and when built, for a row that reached the queue uncleaned.
    raw = raw_row("b@example.test", "旧\u2028标题", minutes_ago=5)
    db.add(raw)
    await db.commit()
    assert queued.subject == "外泌体 肝癌 检测 方法 第二行" and queued.headers == {"X-Note": "a b"}

    assert await send_queued_emails(settings, make_sessionmaker(engine)) == 2
    subjects = {m["To"]: m["Subject"] for m in mailbox.messages}
    assert subjects == {"a@example.test": "外泌体 肝癌 检测 方法 第二行", "b@example.test": "旧 标题"}
    assert (await stored(db, raw.id)).failed_at is None
