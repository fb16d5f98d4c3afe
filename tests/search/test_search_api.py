"""Search API and page: GET /api/v1/search and GET /search over listings the relay indexed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
import pytest

from marketplace.catalog.schemas import ListingCreate
from marketplace.db import make_sessionmaker
from marketplace.embedded.postgres import free_port
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from marketplace.search.query import filter_expression, parse_search, quote
from tests.catalog.factories import result_body, seed_listing


async def api(client, **params):
    pairs = [(k, v) for k, values in params.items() for v in (values if isinstance(values, list) else [values])]
    return await client.get("/api/v1/search?" + urlencode(pairs))


async def found(client, **params) -> set[str]:
    response = await api(client, **params)
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["hits"]}


async def test_a_query_matches_with_highlighted_snippets(client, indexed) -> None:
    response = await api(client, q="肝癌")
    body = response.json()
    assert {h["id"] for h in body["hits"]} == {indexed["liver"], indexed["bank"]}  # never the draft
    assert body["total"] == 2 and body["pages"] == 1
    liver = next(h for h in body["hits"] if h["id"] == indexed["liver"])
    assert "<mark>" in liver["highlights"]["title_zh"] and "title_zh" in liver["matched"]
    assert liver["url"] == f"/listings/{indexed['liver']}"
    assert "MKT-SECRET" not in response.text and "share_bp" not in response.text
    assert body["timing"]["engine_ms"] >= 0 and body["timing"]["total_ms"] > 0
    english = (await api(client, q="infusion")).json()
    assert [h["id"] for h in english["hits"]] == [indexed["device"]]
    assert "<mark>" in english["hits"][0]["highlights"]["title_en"]


async def test_snippets_escape_everything_but_the_marks(client, db, world, indexed, settings, engine) -> None:
    listing = await seed_listing(
        db,
        world.orgs["institution/own"].id,
        msgspec.convert(result_body(title_zh="<script>alert(1)</script>肿瘤疫苗"), ListingCreate),
        status="published",
    )
    await db.commit()
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        await OutboxRelay(make_sessionmaker(engine), search).drain()
    hit = next(h for h in (await api(client, q="疫苗")).json()["hits"] if h["id"] == str(listing.id))
    assert "<script>" not in hit["highlights"]["title_zh"]
    assert "&lt;script&gt;" in hit["highlights"]["title_zh"] and "<mark>" in hit["highlights"]["title_zh"]
    page = await client.get("/search?q=疫苗")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_each_filter_narrows_the_results(client, indexed) -> None:
    everything = set(indexed.values())
    assert await found(client) == everything
    assert await found(client, kind="result") == {indexed["liver"], indexed["device"]}
    assert await found(client, kind="resource") == {indexed["ward"], indexed["bank"]}
    assert await found(client, type=["device", "biobank"]) == {indexed["device"], indexed["bank"]}
    assert await found(client, area="cardiovascular") == {indexed["device"]}
    assert await found(client, stage="registered") == {indexed["device"]}
    assert await found(client, trl_min="5") == {indexed["device"]}
    assert await found(client, trl_max="5") == {indexed["liver"]}
    assert await found(client, trl_min="4", trl_max="4") == {indexed["liver"]}
    assert await found(client, licence="pay_later") == {indexed["liver"]}
    assert await found(client, licence="exclusive") == {indexed["liver"], indexed["device"]}
    assert await found(client, city="北京") == {indexed["device"], indexed["bank"]}
    assert await found(client, city='北京" OR kind = "result') == set()  # quoted, never syntax
    own = await found(client, institution=str((await api(client, q="病房")).json()["hits"][0]["institution"]["id"]))
    assert own == {indexed["liver"], indexed["ward"]}
    assert await found(client, gcp="true") == {indexed["liver"], indexed["ward"]}
    assert await found(client, gcp="false") == {indexed["device"], indexed["bank"]}
    assert await found(client, ethics="true") == {indexed["liver"], indexed["ward"]}
    assert await found(client, availability="limited") == {indexed["bank"]}
    assert await found(client, kind="resource", city="北京") == {indexed["bank"]}


async def test_facet_counts(client, indexed) -> None:
    facets = (await api(client)).json()["facets"]
    assert facets["kind"] == {"result": 2, "resource": 2}
    assert facets["city"] == {"上海": 2, "北京": 2}
    assert facets["licence"] == {"exclusive": 2, "pay_later": 1}
    assert facets["gcp"] == {"true": 2, "false": 2}
    assert facets["area"]["oncology"] == 3
    # A ticked facet still counts its other values (they would widen the search); others narrow.
    ticked = (await api(client, kind="result")).json()["facets"]
    assert ticked["kind"] == {"result": 2, "resource": 2}
    assert ticked["city"] == {"上海": 1, "北京": 1}
    assert ticked["type"] == {"patent": 1, "device": 1}


async def test_sort_orders(client, indexed) -> None:
    newest = [h["id"] for h in (await api(client, sort="newest")).json()["hits"]]
    assert newest == [indexed["bank"], indexed["device"], indexed["liver"], indexed["ward"]]
    confirmed = [h["id"] for h in (await api(client, sort="confirmed")).json()["hits"]]
    assert confirmed == [indexed["ward"], indexed["device"], indexed["liver"], indexed["bank"]]
    relevance = [h["id"] for h in (await api(client, q="智能输液泵")).json()["hits"]]
    assert relevance[0] == indexed["device"]


async def test_pagination_totals(client, indexed) -> None:
    seen = []
    for page in (1, 2, 3):
        body = (await api(client, sort="newest", page_size="3", page=str(page))).json()
        assert body["total"] == 4 and body["pages"] == 2 and body["page"] == page and body["page_size"] == 3
        seen += [h["id"] for h in body["hits"]]
    assert len(seen) == 4 and set(seen) == set(indexed.values())


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"kind": "nonsense"}, {"kind"}),
        ({"type": 'patent" OR 1'}, {"type"}),
        ({"area": "not-an-area"}, {"area"}),
        ({"stage": "x"}, {"stage"}),
        ({"licence": "free"}, {"licence"}),
        ({"trl_min": "0"}, {"trl_min"}),
        ({"trl_max": "ten"}, {"trl_max"}),
        ({"trl_min": "7", "trl_max": "3"}, {"trl_max"}),
        ({"sort": "price"}, {"sort"}),
        ({"page": "0", "page_size": "1000"}, {"page", "page_size"}),
        ({"institution": "abc"}, {"institution"}),
        ({"gcp": "maybe"}, {"gcp"}),
        ({"colour": "red"}, {"colour"}),
        ({"q": "x" * 201}, {"q"}),
    ],
)
async def test_bad_parameters_answer_400_with_field_errors(client, params, fields) -> None:
    response = await api(client, **params)
    assert response.status_code == 400, response.text
    assert {e["field"] for e in response.json()["errors"]} == fields


def test_filters_are_built_from_validated_values_only() -> None:
    query, problems = parse_search([("city", 'a"b\\'), ("type", "patent"), ("gcp", "on")], [])
    assert not problems
    assert filter_expression(query) == [['type = "patent"'], ['institution_city = "a\\"b\\\\"'], "gcp_certified = true"]
    assert quote('x"y') == '"x\\"y"'


async def test_the_page_and_its_fragment_render(client, indexed) -> None:
    page = await client.get("/search", params={"q": "肝癌", "kind": "resource"})
    assert page.status_code == 200
    html = page.text
    assert 'id="search-results"' in html and "/assets/htmx/htmx.min.js" in html and 'hx-push-url="true"' in html
    assert f"/listings/{indexed['bank']}" in html and f"/listings/{indexed['liver']}" not in html
    assert "<mark>" in html and 'name="kind" value="resource" checked' in html
    assert 'class="facet-count">1<' in html  # the result kind's count, should it be ticked too
    assert 'href="/search"' in html  # the nav item, for everyone
    # htmx reads the first htmx-config meta only: the page's 503 handling must be in that one.
    configs = re.findall(r'<meta name="htmx-config" content=\'([^\']*)\'>', html)
    assert len(configs) == 1
    config = json.loads(configs[0])
    assert config["allowEval"] is False and {"code": "503", "swap": True} in config["responseHandling"]
    fragment = await client.get("/search", params={"q": "肝癌"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("{#") is False and "<html" not in fragment.text
    assert 'id="search-results"' in fragment.text and f"/listings/{indexed['liver']}" in fragment.text
    assert "HX-Request" in fragment.headers.get("vary", "")
    # A history restore asks for the whole page.
    restore = await client.get("/search", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    assert (await client.get("/assets/htmx/htmx.min.js")).status_code == 200


async def test_the_url_round_trips(client, indexed) -> None:
    query = [("q", "肝癌"), ("kind", "resource"), ("city", "北京"), ("sort", "newest"), ("page_size", "1")]
    page = await client.get("/search?" + urlencode(query))
    assert f"/listings/{indexed['bank']}" in page.text
    # The pager's link keeps every part of the query and changes only the page.
    assert page.text.count('rel="next"') == 0  # one hit: one page
    wide = await client.get("/search?" + urlencode([("sort", "newest"), ("page_size", "1")]))
    import re

    link = re.search(r'href="(/search\?[^"]*)" rel="next"', wide.text).group(1).replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(link).query)) == {"sort": "newest", "page_size": "1", "page": "2"}
    second = await client.get(link)
    assert f"/listings/{indexed['device']}" in second.text and f"/listings/{indexed['bank']}" not in second.text
    # The form shows the query it came from, so a reloaded URL is the same search.
    assert 'value="newest" selected' in second.text and 'name="page_size" value="1"' in second.text


async def test_a_bad_value_in_a_page_url_is_dropped_not_refused(client, indexed) -> None:
    page = await client.get("/search?kind=nonsense&trl_min=abc")
    assert page.status_code == 200 and f"/listings/{indexed['ward']}" in page.text


async def test_when_search_is_down(client, app) -> None:
    real = app.state.search
    app.state.search = SearchEngine(f"http://127.0.0.1:{free_port()}", "key")
    try:
        response = await client.get("/api/v1/search?q=肝癌")
        page = await client.get("/search?q=肝癌")
        fragment = await client.get("/search?q=肝癌", headers={"HX-Request": "true"})
        english = await client.get("/search?q=liver", headers={"Accept-Language": "en"})
        catalogue = await client.get("/listings")
        listing_api = await client.get("/api/v1/listings")
    finally:
        app.state.search = real
    assert response.status_code == 503 and response.headers["retry-after"].isdigit()
    assert response.json()["detail"] == "检索服务暂时不可用，请稍后再试。"  # Chinese by default
    assert page.status_code == 503 and page.headers["retry-after"]
    assert "检索服务暂时不可用" in page.text and "<html" in page.text and 'name="q"' in page.text
    assert "检索服务暂时不可用" in fragment.text and "<html" not in fragment.text
    assert "Search is unavailable at the moment. Please try again shortly." in english.text
    assert catalogue.status_code == 200 and listing_api.status_code == 200  # nothing else breaks


async def test_result_cards_show_the_confirmation_day_in_china_time(client, db, world, settings, engine) -> None:
    """Confirmed at 20:00 UTC on 1 March is 04:00 on 2 March in China: the card says 2 March."""
    search = SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix)
    await search.ensure_index()
    listing = await seed_listing(
        db,
        world.orgs["institution/own"].id,
        msgspec.convert(result_body(title_zh="时区测试试剂盒"), ListingCreate),
        status="published",
        published_at=datetime(2026, 3, 1, 19, tzinfo=UTC),
        confirmed_at=datetime(2026, 3, 1, 20, tzinfo=UTC),
    )
    await db.commit()
    assert (await OutboxRelay(make_sessionmaker(engine), search).drain()).upserted == 1
    try:
        page = await client.get("/search", params={"q": "时区测试试剂盒"})
        assert f"/listings/{listing.id}" in page.text
        assert "2026-03-02" in page.text and "2026-03-01" not in page.text
    finally:
        await search.wait(await search.client.index(search.listings_index).delete_all_documents())
        await search.aclose()
