"""The landing page for visitors: headline figures from the domains, new and most-requested listings,
a path for each kind of visitor, and title suggestions from Meilisearch as one types. Signed-in
people keep their home."""

from __future__ import annotations

import re

import pytest

from tests.analytics.front_door_factories import landing_samples
from tests.support.web import login


@pytest.fixture
async def landing(settings, engine, db, world):
    async for ids in landing_samples(settings, engine, db, world):
        yield ids


def figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', html).group(1)


async def test_visitors_see_figures_listings_and_a_path_each(client, landing) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    html = page.text
    # Two institutions in the world; two published results and two resources (the draft is not counted);
    # one request accepted.
    assert [figure(html, n) for n in ("institutions", "listings", "resources", "matches")] == ["2", "2", "2", "1"]
    featured = html.split('id="featured-head"')[1].split('id="new-head"')[0]
    links = re.findall(r'href="/listings/([0-9a-f-]+)"', featured)
    assert links[:2] == [landing["liver"], landing["bank"]]  # three requests, then one
    new = html.split('id="new-head"')[1].split('id="paths-head"')[0]
    assert set(re.findall(r'href="/listings/([0-9a-f-]+)"', new)) == {landing["device"], landing["ward"]}
    assert "草稿肝癌" not in html
    for href in ("/request-access", "/search", "/login?next=/analytics", "/forgot-password"):
        assert f'href="{href}"' in html
    assert 'hx-get="/search/suggest"' in html and "<script>" not in html  # no inline script (CSP)


async def test_suggestions_are_titles_linking_to_listings(client, landing) -> None:
    found = await client.get("/search/suggest", params={"q": "肝癌"})
    assert found.status_code == 200
    assert set(re.findall(r'href="/listings/([0-9a-f-]+)"', found.text)) == {landing["liver"], landing["bank"]}
    assert "<mark>" in found.text and "/search?q=%E8%82%9D%E7%99%8C" in found.text
    assert (await client.get("/search/suggest", params={"q": "   "})).text.strip() == ""
    hostile = await client.get("/search/suggest", params={"q": '<img src=x onerror=alert(1)>"' * 40})
    assert hostile.status_code == 200 and "<img" not in hostile.text


async def test_signed_in_people_keep_their_home(client, world, landing) -> None:
    await login(client, world.emails["tto_manager"])
    page = await client.get("/")
    assert page.status_code == 200 and 'data-figure="institutions"' not in page.text and "queue" in page.text
