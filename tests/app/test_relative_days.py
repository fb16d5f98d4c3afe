"""Relative days as people say them: "today" and "yesterday" by China's calendar days (not 24-hour
spans), on the listing page, the review list and the notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from marketplace import i18n
from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing
from marketplace.db import CHINA_TIME, china_today, utcnow
from marketplace.notifications.services import NotificationService
from tests.catalog.factories import published
from tests.support.web import login

# Midnight in China is 16:00 UTC.
BEFORE_MIDNIGHT = datetime(2026, 11, 29, 15, 50, tzinfo=UTC)  # 23:50 on the 29th in China
AFTER_MIDNIGHT = datetime(2026, 11, 29, 16, 10, tzinfo=UTC)  # 00:10 on the 30th in China


@pytest.mark.parametrize(
    ("moment", "now", "zh", "en"),
    [
        (BEFORE_MIDNIGHT, BEFORE_MIDNIGHT, "今天", "today"),
        (BEFORE_MIDNIGHT, AFTER_MIDNIGHT, "昨天", "yesterday"),  # twenty minutes, but another day
        (AFTER_MIDNIGHT, AFTER_MIDNIGHT + timedelta(hours=23, minutes=40), "今天", "today"),  # 23:50 the same day
        (BEFORE_MIDNIGHT - timedelta(days=1), AFTER_MIDNIGHT, "2 天前", "2 days ago"),
        (BEFORE_MIDNIGHT, AFTER_MIDNIGHT + timedelta(days=6), "7 天前", "7 days ago"),
    ],
)
def test_days_ago_count_china_calendar_days(moment: datetime, now: datetime, zh: str, en: str) -> None:
    for locale, expected in (("zh_CN", zh), ("en", en)):
        token = i18n.current_locale.set(locale)
        try:
            assert i18n.format_days_ago(moment, now) == expected
        finally:
            i18n.current_locale.reset(token)


def test_a_moment_says_today_or_yesterday_with_its_china_time() -> None:
    assert i18n.format_china_moment(BEFORE_MIDNIGHT, BEFORE_MIDNIGHT + timedelta(minutes=5)) == "今天 23:50"
    assert i18n.format_china_moment(BEFORE_MIDNIGHT, AFTER_MIDNIGHT) == "昨天 23:50"
    assert i18n.format_china_moment(BEFORE_MIDNIGHT, AFTER_MIDNIGHT + timedelta(days=3)) == "2026-11-29 23:50"


def china_midnight_today() -> datetime:
    return datetime.combine(china_today(), datetime.min.time(), tzinfo=CHINA_TIME)


async def test_the_listing_page_says_today_or_yesterday_not_0_days_ago(client, db, world) -> None:
    listing_id = await published(db, world)
    await login(client, world.emails[Role.tto_staff])
    page = (await client.get(f"/listings/{listing_id}")).text
    assert "今天确认过信息有效。" in page and "0 天前" not in page

    # A minute before midnight in China: yesterday, however few hours ago that was.
    await db.execute(
        update(Listing).where(Listing.id == listing_id).values(confirmed_at=china_midnight_today() - timedelta(minutes=1))
    )
    await db.commit()
    page = (await client.get(f"/listings/{listing_id}")).text
    assert "昨天确认过信息有效。" in page

    client.cookies.set("lang", "en")
    page = (await client.get(f"/listings/{listing_id}")).text
    assert "Confirmed as current yesterday." in page


async def test_notifications_show_each_ones_own_time(client, db, world) -> None:
    user = (await world.principal(db, world.emails[Role.company_member])).user_id
    service = NotificationService(db)
    midnight = china_midnight_today()
    for message, at in (("First", midnight - timedelta(hours=3)), ("Second", utcnow())):
        await service.notify([user], "test", message, at=at)
    # Two notices written in one transaction still get their own moments.
    await service.notify([user], "test", "Third")
    await service.notify([user], "test", "Fourth")
    await db.commit()
    [fourth, third, *_] = await service.recent(user)
    assert fourth.created_at > third.created_at

    await login(client, world.emails[Role.company_member])
    page = (await client.get("/notifications")).text
    assert "昨天 21:00" in page
    assert page.count("今天 ") == 3
