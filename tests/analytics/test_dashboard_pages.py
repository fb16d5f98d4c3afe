"""Issue 14, points 2 and 3, through the page: /analytics for the platform's people and a TTO, 404
for everyone else; a TTO's dashboard never counts another institution; the filters change the
figures; a bad filter is a field error on the form (400), never a 500."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Role
from tests.analytics.dashboard_factories import two_institutions
from tests.analytics.fixed_data import build
from tests.support.web import error_of, login

ALLOWED = (Role.platform_admin, Role.platform_analyst, Role.tto_manager, Role.tto_staff)
OWN_MONEY = "1,234,567.00"
OTHER_MONEY = "9,876,543.00"
BOTH_MONEY = "11,111,110.00"


def income_total(html: str) -> str:
    match = re.search(r'<h2 id="income">[^<]*<small class="muted">¥([^<]*)</small>', html)
    assert match, "no income total"
    return match.group(1)


@pytest.mark.parametrize("role", list(Role))
async def test_the_dashboard_is_for_the_platform_and_the_tto(client, world, role: Role) -> None:
    await login(client, world.emails[role])
    page = await client.get("/analytics")
    assert page.status_code == (200 if role in ALLOWED else 404)
    home = await client.get("/")
    assert ('href="/analytics"' in home.text) == (role in ALLOWED)


async def test_the_platform_sees_every_institution(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.platform_admin])
    page = await client.get("/analytics?year=2026")
    assert page.status_code == 200, page.text
    html = page.text
    assert income_total(html) == BOTH_MONEY
    assert OWN_MONEY in html and OTHER_MONEY in html
    assert "本院" in html and "他院" in html
    assert "对接率" in html and "Figures as of" not in html and "数据截至" in html
    # Every chart has its table, and the deals link to their agreements.
    charts = re.findall(r'data-chart-for="(table-[a-z_]+)"', html)
    assert charts and all(f'id="{table}"' in html for table in charts)
    assert html.count('href="/agreements/') >= 2


async def test_a_tto_never_sees_another_institutions_data(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.tto_staff])
    # Naming the other institution in the query changes nothing: the service forces its own.
    other = world.orgs["institution/other"].id
    for url in ("/analytics?year=2026", f"/analytics?year=2026&institution={other}"):
        page = await client.get(url)
        assert page.status_code == 200, page.text
        html = page.text
        assert income_total(html) == OWN_MONEY
        assert OTHER_MONEY not in html and "他院" not in html
        assert 'id="card-freshness"' in html and 'id="card-inbox"' in html
        assert 'name="institution"' not in html  # no institution to choose
        # One signed agreement is its own; the other institution's is not counted.
        assert re.search(r'<span class="stat-value">1</span><span class="stat-label">已签协议', html), html
    # The platform's dashboard has no institution-only blocks.
    await login(client, world.emails[Role.platform_analyst])
    assert 'id="card-freshness"' not in (await client.get("/analytics?year=2026")).text


async def test_the_filters_change_the_figures(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.platform_admin])
    beijing = await client.get("/analytics?year=2026&city=北京")
    assert income_total(beijing.text) == OTHER_MONEY
    first_quarter = await client.get("/analytics?year=2026&quarter=1")
    assert income_total(first_quarter.text) == OWN_MONEY
    assert OTHER_MONEY not in first_quarter.text
    dates = await client.get("/analytics?start=2026-07-01&end=2026-09-30")
    assert income_total(dates.text) == OTHER_MONEY
    own = world.orgs["institution/own"].id
    chosen = await client.get(f"/analytics?year=2026&institution={own}")
    assert income_total(chosen.text) == OWN_MONEY
    empty = await client.get("/analytics?year=2020")
    assert income_total(empty.text) == "0.00"
    assert "本期没有" in empty.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("year=abc", "year"),
        ("year=1999", "year"),
        ("quarter=5&year=2026", "quarter"),
        ("quarter=2", "quarter"),
        ("start=2026-13-01", "start"),
        ("start=2026-05-01&end=2026-04-01", "end"),
        ("year=2026&start=2026-01-01", "year"),
        ("institution=not-a-uuid", "institution"),
        ("kind=spaceship", "kind"),
        ("area=Bad Area", "area"),
    ],
)
async def test_a_bad_filter_is_a_field_error(client, world, query: str, field: str) -> None:
    await login(client, world.emails[Role.platform_admin])
    page = await client.get(f"/analytics?{query}")
    assert page.status_code == 400, page.text
    assert error_of(page.text, field)
    assert 'id="dashboard-filters"' in page.text


async def test_the_deals_sort_and_page(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.platform_admin])
    for sort in ("signed", "value", "paid", "state", "kind", "created", "nonsense"):
        page = await client.get(f"/analytics?year=2026&sort={sort}")
        assert page.status_code == 200
    assert (await client.get("/analytics?page=0")).status_code == 200
    assert (await client.get("/analytics?page=abc")).status_code == 400


async def test_the_page_says_where_deals_stall(client, db, world) -> None:
    """The fixed history's second quarter: R2 declined and R4 unanswered stop at the request, R3 at
    its acceptance; R1 went on to an agreement."""
    await build(db, world)
    await db.commit()
    await login(client, world.emails[Role.platform_analyst])
    html = (await client.get("/analytics?year=2026&quarter=2")).text
    assert "本期对接申请最多停在“对接申请”：1 件仍在此阶段，1 件在此流失。" in html
    assert 'class="print-only"' in html  # the headline figures as a table, for print
