"""The search page for visitors not signed in is kept (marketplace/page_cache.py): the same query
again is answered without Meilisearch or the database, its htmx fragment is kept apart from the
whole page, and a listing reaching the index (the relay marking its outbox row) drops what was kept.
Meilisearch's answers are kept per process too: asked once however many want one at the same time,
and, where SEARCH_STALE_SECONDS allows, given out of date while they are asked again."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from marketplace import page_cache
from marketplace.catalog.models import Listing
from marketplace.db import make_sessionmaker
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from marketplace.search.query import SearchQuery, search_requests
from tests.support.page_cache import listening, notified, statements, visit


async def test_a_repeated_search_is_served_from_the_kept_page_until_the_index_changes(
    client, db, world, app, engine, settings, indexed
) -> None:
    await listening(engine)
    first = await visit(client, "/search?q=肝癌")
    assert first.status_code == 200 and indexed["liver"] in first.text
    with statements(app) as seen:
        again = await visit(client, "/search?q=肝癌")
    assert again.status_code == 200 and seen == []
    assert again.headers["vary"] == "HX-Request" and again.headers["etag"].startswith('W/"')
    # The htmx fragment is another page of its own.
    fragment = await visit(client, "/search?q=肝癌", **{"hx-request": "true"})
    assert "<html" not in fragment.text and indexed["liver"] in fragment.text
    assert "<html" in (await visit(client, "/search?q=肝癌")).text

    # The listing is withdrawn; once the relay has taken it out of the index, the page drops it.
    await db.execute(update(Listing).where(Listing.id == indexed["liver"]).values(status="withdrawn"))
    await db.commit()
    # Until the relay runs, the index (and so the page, kept again) still has it.
    assert indexed["liver"] in (await visit(client, "/search?q=肝癌")).text
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        await OutboxRelay(make_sessionmaker(engine), search).drain()
    await notified(engine)  # whatever the relay's commit said has been heard
    assert indexed["liver"] not in (await visit(client, "/search?q=肝癌")).text


async def test_a_signed_in_search_is_kept_for_its_session_not_with_the_visitors_pages(
    client, db, world, app, engine, indexed
) -> None:
    from marketplace.accounts.models import Role
    from tests.support.web import login

    await listening(engine)
    await visit(client, "/search?q=肝癌")
    visitors = page_cache.STORE.count(members=False)
    await login(client, world.emails[Role.company_member])
    await notified(engine, members_only=True)  # the sign-in's own writes, heard before anything is kept
    page = await client.get("/search?q=肝癌")
    assert page.status_code == 200 and "/logout" in page.text
    assert page.headers["cache-control"] == "no-store" and "etag" not in page.headers
    assert page_cache.STORE.count(members=False) == visitors
    with statements(app) as seen:
        again = await client.get("/search?q=肝癌")
    assert again.text == page.text and again.headers["cache-control"] == "no-store"
    assert seen == [], seen  # the live session and its page are both kept: nothing is read


async def test_the_search_page_reads_little_from_the_database(client, db, world, app, indexed) -> None:
    page_cache.invalidate()
    client.cookies.clear()
    with statements(app) as seen:
        assert (await client.get("/search?q=肝癌")).status_code == 200
    assert len(seen) <= 3, seen


async def found(client) -> list[str]:
    """The ids the search API finds for 肝癌 (not a kept page: its answer alone may be kept)."""
    answer = await client.get("/api/v1/search", params={"q": "肝癌"})
    assert answer.status_code == 200
    return [hit["id"] for hit in answer.json()["hits"]]


async def test_meilisearchs_answer_is_kept_until_an_index_is_written(client, world, engine, settings, indexed) -> None:
    await listening(engine)
    liver = indexed["liver"]
    assert liver in await found(client)
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        document = next(iter([doc async for doc in search.documents() if doc["id"] == liver]))
        # Taken out of the index behind this process's back (the SDK's own calls, not the engine's
        # wait), as another process's relay would.
        task = await search.client.index(search.listings_index).delete_document(liver)
        assert (await search.client.wait_for_task(task.task_uid)).status == "succeeded"
        assert liver in await found(client)  # the answer kept: Meilisearch was not asked again
        await notified(engine)  # that process's commit of its outbox row, heard here
        assert liver not in await found(client)
        # This process's own write through the engine: forgotten at once, without a notification.
        await search.upsert([document])
        assert liver in await found(client)


async def test_an_out_of_date_answer_is_given_while_meilisearch_is_asked_again(client, app, engine, settings, indexed) -> None:
    """With SEARCH_STALE_SECONDS, the first search after the index changed gets the answer kept from
    before at once, and Meilisearch is asked again behind it; a page made from it is not kept."""
    await listening(engine)
    liver = indexed["liver"]
    assert liver in await found(client) and liver in (await visit(client, "/search?q=肝癌")).text
    app.state.search.stale_seconds = 60
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        document = next(iter([doc async for doc in search.documents() if doc["id"] == liver]))
        try:
            await search.delete([liver])  # as the relay would
            drops = REGISTRY.get_sample_value("marketplace_page_cache_drops_total", {"reach": "all"}) or 0.0
            await notified(engine)
            assert REGISTRY.get_sample_value("marketplace_page_cache_drops_total", {"reach": "all"}) > drops
            assert page_cache.STORE.count(members=False) == 0
            assert liver in (await visit(client, "/search?q=肝癌")).text  # given the answer from before…
            assert page_cache.STORE.count(members=False) == 0  # …which no kept page shows
            for _ in range(100):  # …while Meilisearch is asked again
                if liver not in await found(client):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the out-of-date answer was never asked again")
            for _ in range(100):
                if liver not in (await visit(client, "/search?q=肝癌")).text:
                    break
                await asyncio.sleep(0.05)
            assert page_cache.STORE.count(members=False) == 1  # a current answer's page is kept again

            # Out of date for longer than allowed: asked at once.
            app.state.search.stale_seconds = 0
            await search.upsert([document])
            await notified(engine)
            assert liver in await found(client)
        finally:
            app.state.search.stale_seconds = 0
            await search.upsert([document])


async def test_the_same_search_asked_at_once_is_one_round_trip(settings, engine) -> None:
    await listening(engine)
    sent = []

    async def count(request) -> None:
        sent.append(request.url.path)

    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        search.client.http_client.event_hooks["request"].append(count)
        query = search_requests(search.listings_index, SearchQuery(q=f"肝癌 {uuid.uuid4().hex[:6]}"), facets=False)
        before = {source: answered(source) for source in ("meilisearch", "kept")}
        answers = await asyncio.gather(*(search.multi_search(query) for _ in range(5)))
        assert sent == ["/multi-search"]
        assert all(current for _results, current in answers) and len({id(results) for results, _ in answers}) == 1
        await search.multi_search(query)
        assert sent == ["/multi-search"]  # kept since
        # /metrics: five waited for Meilisearch's answer, the sixth was given the kept one.
        assert answered("meilisearch") == before["meilisearch"] + 5 and answered("kept") == before["kept"] + 1


def answered(source: str) -> float:
    return REGISTRY.get_sample_value("marketplace_search_answers_total", {"source": source}) or 0.0
