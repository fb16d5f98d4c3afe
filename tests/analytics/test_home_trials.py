"""The TTO's home page on beds and trials: bed requests to decide, and trials whose review track
runs past its target in China's working days (as the engagement page counts them)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from marketplace.accounts.models import Role
from marketplace.beds.engagements import late_if_submitted_by
from marketplace.beds.models import Review
from marketplace.beds.reviews import working_days_between
from marketplace.db import china_today
from tests.analytics.factories import card_map
from tests.beds.factories import engagement, future, request_beds, review_step, seed_ward
from tests.support.web import login


def test_the_late_cutoff_agrees_with_the_tracks_working_days() -> None:
    for today in (date(2026, 10, 9), date(2026, 11, 30), date(2026, 2, 25), date(2026, 10, 11)):
        for target in (1, 5, 14, 30):
            cutoff = late_if_submitted_by(target, today)
            for back in range(80):
                submitted = today - timedelta(days=back)
                assert (submitted <= cutoff) == (working_days_between(submitted, today) > target), (today, target, submitted)


async def submitted_days_ago(db, world, days: int, relation: str = "own", title: str = "一项Ⅱ期肿瘤临床试验"):
    found = await engagement(db, world, relation, title=title)
    await review_step(db, world, found.id, "ethics", "submit", relation)
    await db.execute(
        update(Review)
        .where(Review.engagement_id == found.id, Review.track == "ethics")
        .values(first_submitted_on=china_today() - timedelta(days=days))
    )
    await db.commit()
    return found


async def test_bed_requests_and_late_reviews_on_the_tto_home_page(client, db, world) -> None:
    ward = await seed_ward(db, world)
    await request_beds(db, world, ward, future(10), future(20))
    late = await submitted_days_ago(db, world, 90, title="伦理审查超期的试验")
    await submitted_days_ago(db, world, 0, title="刚提交伦理审查的试验")
    await submitted_days_ago(db, world, 90, relation="other", title="他院超期试验")
    await login(client, world.emails[Role.tto_manager])
    found = card_map((await client.get("/")).text)
    assert found["allocations-to-decide"] == ("1", "/bed-allocations?state=requested")
    assert found["reviews-late"] == ("1", "/trial-engagements?late=1")
    listed = (await client.get("/trial-engagements?late=1")).text
    assert f"/trial-engagements/{late.id}" in listed and "伦理审查超期的试验" in listed
    assert "刚提交伦理审查的试验" not in listed and "他院超期试验" not in listed
    assert "刚提交伦理审查的试验" in (await client.get("/trial-engagements")).text
    requested = (await client.get("/bed-allocations?state=requested")).text
    assert "/bed-allocations/" in requested
