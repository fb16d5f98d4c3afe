"""Hybrid search (issue 15, point 3): vectors computed by the worker from public text, stored with
the hash of that text, reused, sent through the outbox; queries ranked by words and meaning; similar
listings; keyword search when the model is missing. Real PostgreSQL, Meilisearch and model."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing
from marketplace.db import make_sessionmaker
from marketplace.search.embedding_job import embed_pending
from marketplace.search.embeddings import MODEL, Embedder, VectorCache
from marketplace.search.engine import SearchEngine
from marketplace.search.models import StoredEmbedding
from marketplace.search.outbox import OutboxRelay
from marketplace.search.query import SearchQuery, query_vector, run_search
from marketplace.search.reindex import check, reindex
from marketplace.search.saved_search_alerts import run_alerts
from tests.matching.needs.factories import open_need
from tests.search.factories import HEPATITIS_KIT, HEPATITIS_KIT_2, KNEE_IMPLANT, index_with_vectors, publish


async def stored(db, listing_id: uuid.UUID) -> StoredEmbedding:
    db.expire_all()
    row = await db.scalar(select(StoredEmbedding).where(StoredEmbedding.entity_id == listing_id))
    assert row is not None
    return row


async def test_a_vector_is_computed_once_per_text_and_reaches_meilisearch(hybrid, engine, db, world, tmp_path):
    counting = Embedder(VectorCache(tmp_path / "vectors.sqlite3"))
    kit, _knee = await publish(db, world, HEPATITIS_KIT, KNEE_IMPLANT)
    sessionmaker = make_sessionmaker(engine)
    await OutboxRelay(sessionmaker, hybrid).drain()
    # Sent without a vector first; the passage is waiting for the worker.
    row = await stored(db, kit)
    assert row.vector is None and row.vector_hash is None and row.model == MODEL
    assert "乙型肝炎病毒核酸定量检测试剂盒" in row.passage and "病毒载量" in row.passage
    assert "hepatitis B; detection kit" in row.passage.splitlines()[-1]  # the vocabulary's gloss

    assert await index_with_vectors(engine, hybrid, counting) == 2
    assert counting.computed == 2
    row = await stored(db, kit)
    assert row.vector is not None and len(row.vector) == 384 and row.vector_hash == row.text_hash
    document = await hybrid.client.index(hybrid.listings_index).get_document(str(kit), retrieve_vectors=True)
    sent = document["_vectors"]["e5"]["embeddings"][0]
    assert sent == pytest.approx(row.vector, abs=1e-5)

    # A change outside the passage (TRL) leaves the vector alone; a new title makes a new one.
    first_vector = row.vector
    await db.execute(update(Listing).where(Listing.id == kit).values(trl=6))
    await db.commit()
    assert await index_with_vectors(engine, hybrid, counting) == 0
    await db.execute(update(Listing).where(Listing.id == kit).values(title_zh="乙型肝炎病毒DNA定量检测试剂盒（PCR荧光法）"))
    await db.commit()
    assert await index_with_vectors(engine, hybrid, counting) == 1
    assert counting.computed == 3
    row = await stored(db, kit)
    assert row.vector != first_vector and row.vector_hash == row.text_hash


async def test_a_reindex_sends_the_stored_vectors_and_embeds_nothing(hybrid, engine, db, world, tmp_path):
    counting = Embedder(VectorCache(tmp_path / "vectors.sqlite3"))
    kit, knee = await publish(db, world, HEPATITIS_KIT, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid, counting)
    assert hybrid.embedder is not None
    computed = counting.computed, hybrid.embedder.computed

    report = await reindex(make_sessionmaker(engine), hybrid, page_size=1)
    assert report.documents == 2 and (counting.computed, hybrid.embedder.computed) == computed
    for listing_id in (kit, knee):  # as PostgreSQL rendered them: the same floats
        document = await hybrid.client.index(hybrid.listings_index).get_document(str(listing_id), retrieve_vectors=True)
        assert document["_vectors"]["e5"]["embeddings"][0] == (await stored(db, listing_id)).vector
        assert document["title_zh"] in (HEPATITIS_KIT["title_zh"], KNEE_IMPLANT["title_zh"])
    assert not (await check(make_sessionmaker(engine), hybrid)).drift


async def test_the_same_text_is_embedded_once_and_the_cache_serves_it_again(hybrid, engine, db, world, tmp_path):
    cache = VectorCache(tmp_path / "vectors.sqlite3")
    first = Embedder(cache)
    await publish(db, world, KNEE_IMPLANT, KNEE_IMPLANT)  # two listings, one text
    assert await index_with_vectors(engine, hybrid, first) == 2
    assert first.computed == 1
    # A new process (or database) with the same per-user cache computes nothing.
    again = Embedder(cache)
    assert again.passages(["passage never seen"]) and again.computed == 1
    assert again.passages(["passage never seen"]) and again.computed == 1


async def test_an_english_query_finds_chinese_only_listings_by_meaning(hybrid, engine, db, world):
    kit, kit_2, knee = await publish(db, world, HEPATITIS_KIT, HEPATITIS_KIT_2, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)

    words_only = await run_search(hybrid, SearchQuery(q="hepatitis virus assay"), hybrid=False)
    assert words_only.total == 0
    outcome = await run_search(hybrid, SearchQuery(q="hepatitis virus assay"))
    found = [hit.document["id"] for hit in outcome.hits]
    assert set(found[:2]) == {str(kit), str(kit_2)}
    assert str(knee) not in found
    assert all(hit.by_meaning for hit in outcome.hits)

    # Facet counts count the same hits, a ticked facet's too (each counted by words and meaning).
    assert outcome.facets["type"] == {"ivd_reagent": 2}
    ticked = await run_search(hybrid, SearchQuery(q="hepatitis virus assay", filters={"type": ["ivd_reagent"]}))
    assert ticked.total == 2 and ticked.facets["type"] == {"ivd_reagent": 2}

    outcome = await run_search(hybrid, SearchQuery(q="knee replacement implant"))
    assert [hit.document["id"] for hit in outcome.hits] == [str(knee)]
    # Nothing is near a query about something else: no hit rather than the whole index.
    assert (await run_search(hybrid, SearchQuery(q="football match tickets"))).total == 0


async def test_a_word_match_is_not_marked_as_found_by_meaning(hybrid, engine, db, world):
    kit, _kit_2, _knee = await publish(db, world, HEPATITIS_KIT, HEPATITIS_KIT_2, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    outcome = await run_search(hybrid, SearchQuery(q="病毒载量"))
    assert outcome.hits[0].document["id"] == str(kit) and not outcome.hits[0].by_meaning


async def test_the_search_page_and_api_say_what_was_found_by_meaning(client, hybrid, engine, db, world):
    _kit, kit_2, _knee = await publish(db, world, HEPATITIS_KIT, HEPATITIS_KIT_2, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    page = await client.get("/search", params={"q": "hepatitis virus screening"})
    assert page.status_code == 200
    assert "乙型肝炎表面抗原快速检测卡" in page.text and "按语义找到" in page.text
    answer = (await client.get("/api/v1/search", params={"q": "hepatitis virus screening"})).json()
    assert {hit["id"] for hit in answer["hits"]} >= {str(kit_2)}
    assert all(hit["by_meaning"] for hit in answer["hits"])


async def test_a_listing_page_shows_its_similar_listings(client, hybrid, engine, db, world):
    kit, _kit_2, _knee = await publish(db, world, HEPATITIS_KIT, HEPATITIS_KIT_2, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    page = await client.get(f"/listings/{kit}")
    assert f'hx-get="/listings/{kit}/similar"' in page.text
    fragment = await client.get(f"/listings/{kit}/similar", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    # The nearest first; never the listing itself.
    assert fragment.text.index("乙型肝炎表面抗原快速检测卡") < fragment.text.index("膝关节")
    assert "乙型肝炎病毒核酸定量检测试剂盒" not in fragment.text
    # Not a listing the viewer may see: 404, as every out-of-scope record.
    assert (await client.get(f"/listings/{uuid.uuid4()}/similar")).status_code == 404


async def test_without_the_model_search_is_keyword_search_with_a_log_line(hybrid, engine, db, world, caplog, tmp_path):
    kit, _kit_2, _knee = await publish(db, world, HEPATITIS_KIT, HEPATITIS_KIT_2, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    broken = Embedder(VectorCache(tmp_path / "vectors.sqlite3"), model_path=Path(tmp_path / "no-such-model.bin"))
    search = SearchEngine(hybrid.client.http_client.base_url.__str__(), "", hybrid.index_prefix, embedder=broken)
    search.client = hybrid.client  # the same Meilisearch connection and key
    with caplog.at_level(logging.WARNING):
        outcome = await run_search(search, SearchQuery(q="病毒载量"))
        assert [hit.document["id"] for hit in outcome.hits] == [str(kit)]
        assert (await run_search(search, SearchQuery(q="hepatitis virus assay"))).total == 0
    assert "embedding model unavailable, search is keyword-only" in caplog.text
    # The worker skips embedding instead of failing.
    assert await embed_pending(make_sessionmaker(engine), broken) == 0


async def test_the_needs_search_is_hybrid_too(client, hybrid, engine, world):
    wanted = await open_need(
        client, world, title="寻求乙型肝炎病毒快速检测试剂合作", problem="基层医院需要十五分钟出结果的乙肝筛查方案。"
    )
    await open_need(client, world, title="寻求膝关节置换机器人合作", problem="骨科手术机器人的临床验证。", wanted=["device"])
    await index_with_vectors(engine, hybrid)
    answer = await client.get("/api/v1/needs", params={"q": "hepatitis B rapid test"}, headers=world.bearer(Role.tto_staff))
    assert answer.status_code == 200, answer.text
    assert [item["id"] for item in answer.json()["items"]] == [wanted["id"]]


async def test_saved_search_alerts_find_by_meaning(client, hybrid, engine, db, world):
    saved = await client.post(
        "/api/v1/saved-searches",
        json={"name": "HBV", "query": "q=hepatitis+virus+assay"},
        headers=world.bearer(Role.company_member),
    )
    assert saved.status_code == 201, saved.text
    kit, _knee = await publish(db, world, HEPATITIS_KIT, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    found = await run_alerts(make_sessionmaker(engine), hybrid)
    assert found.notified == 1, found
    [note] = (await client.get("/api/v1/notifications", headers=world.bearer(Role.company_member))).json()["notifications"]
    assert [item["link"] for item in note["items"]] == [f"/listings/{kit}"]


async def test_recommendations_for_a_need_find_by_meaning(client, hybrid, engine, db, world):
    need = await open_need(
        client,
        world,
        title="Seeking a hepatitis B viral load assay",
        problem="We distribute diagnostics in Southeast Asia and want a licensed HBV DNA quantification kit.",
        therapeutic_areas=["infectious"],
        wanted=["ivd_reagent"],
    )
    kit, _kit_2 = await publish(db, world, HEPATITIS_KIT, HEPATITIS_KIT_2)
    await index_with_vectors(engine, hybrid)
    answer = await client.get("/api/v1/recommendations", params={"need": need["id"]}, headers=world.bearer(Role.company_member))
    assert answer.status_code == 200, answer.text
    assert [item["id"] for item in answer.json()["listings"]][:1] == [str(kit)]


async def test_a_query_is_embedded_once(hybrid):
    embedder = hybrid.embedder
    first = await embedder.query("hepatitis virus assay")
    assert first is not None and len(first) == 384
    assert await embedder.query("  hepatitis virus assay ") is first  # from the cache, not the model


async def test_a_query_is_embedded_with_its_gloss_as_passages_are(hybrid):
    glossed = await query_vector(hybrid, "liver cancer screening")
    assert glossed == await hybrid.embedder.query("liver cancer screening 肝癌")
    assert glossed != await hybrid.embedder.query("liver cancer screening")


def test_the_model_computes_on_one_core(tmp_path: Path) -> None:
    """A passage's embedding leaves the other cores to the requests: the model starts no OpenMP
    worker threads, which it does when left to take every core."""
    script = (
        "import os, sys; from pathlib import Path\n"
        "from marketplace.search import embeddings\n"
        "if sys.argv[2] == 'every core': embeddings.MODEL_THREADS = 0\n"
        "threads = lambda: len(os.listdir('/proc/self/task'))\n"
        "embedder = embeddings.Embedder(embeddings.VectorCache(Path(sys.argv[1])))\n"
        "before = threads()\n"
        "embedder.passages(['一种用于肝癌早期筛查的体外诊断试剂盒' * 8, '膝关节置换假体'])\n"  # loads and runs it
        "print(threads() - before)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}

    def started(cores: str) -> int:
        run = [sys.executable, "-c", script, str(tmp_path / f"{cores}.sqlite3"), cores]
        done = subprocess.run(run, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    assert (os.cpu_count() or 1) > 1  # else the two would start as many
    assert started("one core") < started("every core")
