"""Issue 17, point 7: the matchmaking events' figures on the dashboards, on the fixed story of
tests/events/figure_factories.py (worked out by hand there): per period, per institution (a
TTO's own, whatever it asks for), per therapeutic area; through the API and on the page, with the
funnel chart's table in Chinese and English and its CSV export."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from marketplace.accounts.models import Role
from marketplace.analytics.filters import DashboardFilter, resolve
from marketplace.analytics.schemas import DashboardQuery, EventFigures
from marketplace.analytics.services import AnalyticsService
from tests.events.figure_factories import EventStory, build_events
from tests.support.web import login

TODAY = date(2026, 11, 30)
Q2 = DashboardQuery(year=2026, quarter=2)


@pytest.fixture
async def story(db, world) -> EventStory:
    return await build_events(db, world)


async def figures_of(db, query: DashboardQuery, **dimensions) -> EventFigures:
    where = resolve(query, TODAY)
    return await AnalyticsService(db).figures(DashboardFilter(**{**where.__dict__, **dimensions}), today=TODAY).events()


def funnel(figures: EventFigures) -> list[tuple[str, int, int | None]]:
    return [(s.step, s.count, s.conversion_bp) for s in figures.steps]


def participants(figures: EventFigures) -> dict[str, int]:
    return {k.key: k.count for k in figures.participants}


async def test_the_quarter_platform_wide(db, world, story: EventStory) -> None:
    figures = await figures_of(db, Q2)
    # E1 (closed) and E4 (open); the draft E3 and Q3's E2 are not counted.
    assert (figures.events, figures.events_held) == (2, 1)
    assert participants(figures) == {"institution": 2, "company": 3}
    assert funnel(figures) == [
        ("requested", 6, None),
        ("accepted", 4, 6666),
        ("scheduled", 4, 10000),  # the missed meeting had been scheduled
        ("held", 3, 7500),
        ("match_request", 2, 6666),
        ("agreement", 1, 5000),
    ]


async def test_the_period_decides_which_events_count(db, world, story: EventStory) -> None:
    q3 = await figures_of(db, DashboardQuery(year=2026, quarter=3))
    assert (q3.events, q3.events_held) == (1, 1)
    assert participants(q3) == {"institution": 1, "company": 1}
    assert [s.count for s in q3.steps] == [1, 1, 1, 1, 0, 0]
    year = await figures_of(db, DashboardQuery(year=2026))
    assert (year.events, [s.count for s in year.steps]) == (3, [7, 5, 5, 4, 2, 1])
    empty = await figures_of(db, DashboardQuery(year=2025))
    assert (empty.events, [s.count for s in empty.steps]) == (0, [0] * 6)
    assert [s.conversion_bp for s in empty.steps] == [None] * 6


async def test_an_institution_counts_only_its_own_part(db, world, story: EventStory) -> None:
    own = await figures_of(db, Q2, institution_id=world.orgs["institution/own"].id)
    # E1 where it registered and E4 that it organizes; its own registration and E4's.
    assert (own.events, own.events_held) == (2, 1)
    assert participants(own) == {"institution": 1, "company": 1}
    assert [s.count for s in own.steps] == [3, 2, 2, 2, 2, 1]
    other = await figures_of(db, Q2, institution_id=world.orgs["institution/other"].id)
    assert (other.events, participants(other)) == (1, {"institution": 1, "company": 0})
    assert [s.count for s in other.steps] == [3, 2, 2, 1, 0, 0]


async def test_the_area_filter_picks_the_events_themes(db, world, story: EventStory) -> None:
    oncology = await figures_of(db, Q2, area="oncology")
    assert (oncology.events, oncology.steps[0].count) == (1, 6)
    heart = await figures_of(db, Q2, area="cardiovascular")
    assert (heart.events, participants(heart), heart.steps[0].count) == (1, {"institution": 0, "company": 1}, 0)


async def test_the_api_gives_a_tto_its_own_institution_whatever_it_names(client, db, world, story: EventStory) -> None:
    other = world.orgs["institution/other"].id
    tto = await client.get(
        f"/api/v1/analytics/events?year=2026&quarter=2&institution={other}", headers=world.bearer(Role.tto_manager)
    )
    assert tto.status_code == 200, tto.text
    assert [s["count"] for s in tto.json()["steps"]] == [3, 2, 2, 2, 2, 1]
    admin = await client.get("/api/v1/analytics/events?year=2026&quarter=2", headers=world.bearer(Role.platform_admin))
    assert admin.json()["events"] == 2 and admin.json()["steps"][-1] == {"step": "agreement", "count": 1, "conversion_bp": 5000}
    company = await client.get("/api/v1/analytics/events", headers=world.bearer(Role.company_admin))
    assert company.status_code == 404
    bad = await client.get("/api/v1/analytics/events?year=2026&quarter=5", headers=world.bearer(Role.platform_admin))
    assert bad.status_code == 400 and "quarter" in bad.text


async def test_the_dashboard_shows_the_funnel_with_its_table_in_both_languages(client, db, world, story: EventStory) -> None:
    await login(client, world.emails[Role.platform_admin])
    page = await client.get("/analytics?year=2026&quarter=2")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-chart-for="table-event_funnel"' in html and 'id="table-event_funnel" data-chart="funnel"' in html
    assert "对接会：从洽谈申请到达成协议" in html and "转为对接申请" in html and "报名企业" in html
    english = await client.get("/analytics?year=2026&quarter=2", headers={"Accept-Language": "en"})
    assert "Matchmaking events: from a meeting request to an agreement" in english.text
    assert "Became agreements" in english.text
    csv = await client.get("/analytics/export/event_funnel.csv?year=2026&quarter=2")
    assert csv.status_code == 200
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[1:] == [
        '"洽谈申请","6",""',
        '"洽谈已接受","4","66.66"',
        '"洽谈已排期","4","100"',
        '"洽谈已举行","3","75"',
        '"转为对接申请","2","66.66"',
        '"达成协议","1","50"',
    ]
    xlsx = await client.get("/analytics/export/event_participants.xlsx?year=2026&quarter=2")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_the_annual_report_has_the_years_events(client, db, world, story: EventStory) -> None:
    await login(client, world.emails[Role.platform_admin])
    answer = await client.get("/analytics/annual/2026/report.pdf")
    assert answer.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    section = text[text.index("九、医企融合对接会") : text.index("十、年度主要协议")]
    # The year's three events, and the funnel's first and last steps (7 requests, 1 agreement).
    assert re.search(r"期内对接会\s*3\b", section), section
    assert re.search(r"洽谈申请\s*7\b", section) and re.search(r"达成协议\s*1\b", section), section
