"""Two years of listing-page visits for the demo's funnel. Past visits cannot be made through the
pages, so one statement writes them: each published listing is opened on about one day in eight
after its publication, a few times, more often when companies asked about it (views that turned
into requests) — deterministic, from a hash of the listing and the day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import rowcount
from marketplace.demo.tables import table

_DATA = table("history")["views"]

VIEWS = text(
    """
    INSERT INTO listing_view_days (listing_id, day, views)
    SELECT l.id, d.day, 1 + abs(hashtext(l.id::text || d.day::text)) % :spread + least(r.requests, :cap)
    FROM listings l
    CROSS JOIN LATERAL (SELECT count(*) AS requests FROM match_requests m WHERE m.listing_id = l.id) r
    CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d(day)
    WHERE l.status = 'published' AND d.day >= (l.published_at AT TIME ZONE 'Asia/Shanghai')::date
      AND abs(hashtext(d.day::text || l.id::text)) % :one_day_in = 0
    ON CONFLICT DO NOTHING
    """
)


async def load_demo_views(session: AsyncSession, today: date) -> int:
    result = await session.execute(
        VIEWS,
        {
            "first": today - timedelta(days=_DATA["days"]),
            "last": today - timedelta(days=1),
            "spread": _DATA["spread"],
            "cap": _DATA["request_boost_cap"],
            "one_day_in": _DATA["one_day_in"],
        },
    )
    return rowcount(result)
