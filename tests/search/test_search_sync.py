"""Search follows PostgreSQL: the outbox, the relay, reindex and check, index settings.

Each test writes to its own indexes (a fresh prefix) on the session's Meilisearch and drives the
relay itself; the one that stops Meilisearch starts a private one, since other workers share the
session's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select, update

from marketplace.accounts.models import Organization, Role
from marketplace.catalog.lifecycle import mark_stale
from marketplace.catalog.models import Listing
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import make_sessionmaker
from marketplace.embedded import EmbeddedMeilisearch
from marketplace.search.documents import DOCUMENT_FIELDS, LISTINGS_INDEX
from marketplace.search.engine import SearchEngine, SearchTaskFailed
from marketplace.search.index_settings import INDEX_SETTINGS
from marketplace.search.models import OutboxEntry
from marketplace.search.outbox import OutboxRelay
from marketplace.search.reindex import check, reindex
from marketplace.worker import JOBS, run_worker
from tests.catalog.factories import resource_body, result_body, seed_listing

MARKETPLACE = Path(sys.executable).parent / "marketplace"
LATER = timedelta(hours=1)  # past any back-off the tests cause


# ----- helpers -----------------------------------------------------------------------------------


async def publish(client, world, body: dict, role: Role = Role.tto_staff) -> str:
    created = await client.post("/api/v1/listings", json=body, headers=world.bearer(role))
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    published = await act(client, world, listing_id, "publish", role)
    assert published.status_code == 200, published.text
    return listing_id


async def act(client, world, listing_id: str, action: str, role: Role = Role.tto_staff):
    return await client.post(f"/api/v1/listings/{listing_id}/transitions", json={"action": action}, headers=world.bearer(role))


async def edit(client, world, listing_id: str, **fields) -> None:
    response = await client.patch(f"/api/v1/listings/{listing_id}", json=fields, headers=world.bearer(Role.tto_staff))
    assert response.status_code == 200, response.text


async def outbox(db) -> list[OutboxEntry]:
    stmt = select(OutboxEntry).order_by(OutboxEntry.id).execution_options(populate_existing=True)
    return list((await db.scalars(stmt)).all())


async def pending_ids(db) -> list[str]:
    return [str(row.entity_id) for row in await outbox(db) if row.processed_at is None]


async def indexed(search: SearchEngine) -> dict[str, dict]:
    return {doc["id"]: doc async for doc in search.documents()}


async def hits(search: SearchEngine, query: str, **params) -> list[str]:
    result = await search.client.index(search.listings_index).search(query, **params)
    return [hit["id"] for hit in result.hits]


async def published_ids(db) -> set[str]:
    return {str(i) for i in (await db.scalars(select(Listing.id).where(Listing.status == "published"))).all()}


@pytest.fixture
async def search(settings):
    """The session's Meilisearch under a prefix of this test's own, with the listings index set up."""
    engine = SearchEngine(settings.meili_url, settings.meili_master_key, f"{settings.meili_index_prefix}{uuid.uuid4().hex[:8]}_")
    await engine.apply_settings()
    yield engine
    for name in await engine.index_names():
        if name.startswith(engine.index_prefix):
            await engine.delete_index(name)
    await engine.aclose()


# ----- the outbox ---------------------------------------------------------------------------------


async def test_changes_that_affect_search_write_outbox_rows_in_their_transaction(client, db, world) -> None:
    draft = await client.post("/api/v1/listings", json=result_body(), headers=world.bearer(Role.tto_staff))
    listing_id = draft.json()["id"]
    assert await outbox(db) == []  # a draft is nobody's search result

    refused = await client.post("/api/v1/listings", json=result_body(advantages=None), headers=world.bearer(Role.tto_staff))
    incomplete = refused.json()["id"]
    assert (await act(client, world, incomplete, "publish")).status_code == 422
    assert await outbox(db) == []  # the refused request rolled back, outbox row and all

    steps = [
        ("publish", lambda: act(client, world, listing_id, "publish")),
        ("edit", lambda: edit(client, world, listing_id, title_zh="改过的标题")),
        ("edit areas", lambda: edit(client, world, listing_id, therapeutic_areas=["oncology"])),
        ("confirm", lambda: act(client, world, listing_id, "confirm")),
        ("withdraw", lambda: act(client, world, listing_id, "withdraw")),
        ("republish", lambda: act(client, world, listing_id, "republish")),
        ("archive", lambda: act(client, world, listing_id, "archive")),
    ]
    for name, step in steps:
        before = len(await outbox(db))
        await step()
        rows = (await outbox(db))[before:]
        assert [str(r.entity_id) for r in rows] == [listing_id], name
        assert rows[0].op == "upsert" and rows[0].processed_at is None and rows[0].attempts == 0

    # Changes to a listing that search does not show, before and after, write nothing.
    before = len(await outbox(db))
    await act(client, world, listing_id, "restore")  # archived → draft
    await edit(client, world, listing_id, title_zh="草稿里改")
    assert len(await outbox(db)) == before


async def test_stale_marking_and_organization_renames_queue_the_listings_they_change(client, db, world) -> None:
    own = [await publish(client, world, result_body()), await publish(client, world, resource_body())]
    theirs = await seed_listing(
        db, world.orgs["institution/other"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    await db.execute(update(OutboxEntry).values(processed_at=func.now()))
    await db.commit()
    assert await pending_ids(db) == []

    # mark_stale is a bulk UPDATE: no flush, yet its listings are queued.
    old = datetime.now(UTC) - timedelta(days=181)
    await db.execute(update(Listing).where(Listing.id == uuid.UUID(own[0])).values(confirmed_at=old))
    await db.commit()
    await db.execute(update(OutboxEntry).values(processed_at=func.now()))
    await db.commit()
    assert await mark_stale(db) == 1
    await db.commit()
    assert await pending_ids(db) == [own[0]]

    # Renaming the institution queues each of its published listings.
    await db.execute(update(OutboxEntry).values(processed_at=func.now()))
    await db.commit()
    institution = await db.get(Organization, world.orgs["institution/own"].id)
    institution.name_zh = "本院（新名）"
    await db.commit()
    assert sorted(await pending_ids(db)) == sorted(own)  # not the other institution's
    assert str(theirs.id) not in await pending_ids(db)

    # A company's or an unrelated field's change does not.
    await db.execute(update(OutboxEntry).values(processed_at=func.now()))
    await db.commit()
    company = await db.get(Organization, world.orgs["company/own"].id)
    company.name_zh = "本企业（新名）"
    institution.approved_beds = 1200
    await db.commit()
    assert await pending_ids(db) == []


# ----- the relay ----------------------------------------------------------------------------------


async def test_the_relay_makes_the_index_match_postgresql(client, db, world, sessionmaker, search) -> None:
    first = await publish(client, world, result_body())
    second = await publish(client, world, resource_body())
    done = await OutboxRelay(sessionmaker, search).drain()
    assert (done.rows, done.upserted, done.failed) == (2, 2, 0)
    docs = await indexed(search)
    assert set(docs) == {first, second}
    assert docs[first]["title_zh"] == "基于外泌体的早期肝癌检测方法"
    assert docs[first]["area_names_en"] == ["Gastroenterology & hepatology", "Oncology"]
    assert docs[first]["institution_name_zh"] == "本院" and docs[first]["is_stale"] == 0
    assert docs[second]["type_zh"] == "研究型病房"
    assert all(row.processed_at and row.sent_task_uid is not None for row in await outbox(db))

    await edit(client, world, first, title_zh="外泌体肝癌早筛试剂盒")
    await act(client, world, second, "withdraw")
    done = await OutboxRelay(sessionmaker, search).drain()
    assert (done.upserted, done.deleted) == (1, 1)  # no longer published: a delete
    docs = await indexed(search)
    assert list(docs) == [first] and docs[first]["title_zh"] == "外泌体肝癌早筛试剂盒"

    institution = await db.get(Organization, world.orgs["institution/own"].id)
    institution.name_zh = "本院（新名）"
    await db.commit()
    await OutboxRelay(sessionmaker, search).drain()
    assert (await indexed(search))[first]["institution_name_zh"] == "本院（新名）"
    report = await check(sessionmaker, search)
    assert not report.drift and (report.listings, report.documents, report.pending) == (1, 1, 0)


async def test_only_published_listings_and_public_fields_reach_the_index(client, db, world, sessionmaker, search) -> None:
    listing_id = await publish(client, world, result_body())
    await client.post(
        "/api/v1/listings", json=result_body(title_zh="未发布的草稿成果独角兽"), headers=world.bearer(Role.tto_staff)
    )
    await OutboxRelay(sessionmaker, search).drain()

    # The word is only in the confidential details: nothing finds it.
    assert await hits(search, "MKT-SECRET-7731") == []
    assert await hits(search, "关键引物序列") == []
    assert await hits(search, "独角兽") == []  # the draft's title
    assert await hits(search, "外泌体") == [listing_id]

    doc = (await indexed(search))[listing_id]
    assert set(doc) <= DOCUMENT_FIELDS
    text = json.dumps(doc, ensure_ascii=False)
    for secret in ("MKT-SECRET", "周颖", "tto@hospital.test", "张晓华", "ZL202110234567.8", "入门费"):
        assert secret not in text, secret
    # The inventors' shares (6000 bp) are in no field; timestamps may hold the digits "6000".
    assert 6000 not in doc.values() and not any("share" in key for key in doc)


async def test_while_meilisearch_is_down_writes_succeed_and_nothing_is_lost(
    client, db, world, sessionmaker, settings, tmp_path
) -> None:
    meili = EmbeddedMeilisearch(tmp_path / "meili")
    url, key = meili.start()
    search = SearchEngine(url, key, settings.meili_index_prefix)
    try:
        await search.apply_settings()
        published = await publish(client, world, result_body())
        await OutboxRelay(sessionmaker, search).drain()
        meili.stop()

        # Publishing, editing and withdrawing all succeed with search down.
        fresh = [await publish(client, world, result_body(title_zh=f"停机期间发布的成果{i}")) for i in range(3)]
        await edit(client, world, fresh[0], title_zh="停机期间又改的标题")
        assert (await act(client, world, published, "withdraw")).status_code == 200

        relay = OutboxRelay(sessionmaker, search)
        done = await relay.run_once()
        assert done.failed == 5 and done.upserted == 0 and "MeilisearchCommunicationError" in done.errors[0]
        rows = [row for row in await outbox(db) if row.processed_at is None]
        assert len(rows) == 5 and all(row.attempts == 1 and row.last_error for row in rows)
        first_retry = min(row.next_attempt_at for row in rows)
        assert first_retry - rows[0].created_at >= timedelta(seconds=1)  # backing off
        assert (await relay.run_once(now=first_retry - timedelta(milliseconds=1))).rows == 0  # not due yet

        done = await relay.run_once(now=first_retry)  # still down: the wait doubles
        assert done.failed == 5
        rows = [row for row in await outbox(db) if row.processed_at is None]
        assert all(row.attempts == 2 for row in rows)
        assert all(row.next_attempt_at - first_retry == timedelta(seconds=2) for row in rows)

        meili.start()  # same data folder and port
        await search.wait_healthy()
        done = await relay.drain(now=datetime.now(UTC) + LATER)
        assert done.failed == 0 and (done.upserted, done.deleted) == (3, 1)
        assert set(await indexed(search)) == set(fresh) == await published_ids(db)
        assert (await indexed(search))[fresh[0]]["title_zh"] == "停机期间又改的标题"
        report = await check(sessionmaker, search)
        assert not report.drift and report.pending == 0
        assert all(row.last_error is None and row.processed_at for row in await outbox(db))
    finally:
        await search.aclose()
        meili.stop()


class Killed(Exception):
    pass


class KilledBeforeMark(OutboxRelay):
    """A relay that dies after Meilisearch has the documents but before the outbox says so."""

    async def mark(self, *args, **kwargs):
        raise Killed("between send and mark")


async def test_a_relay_killed_between_send_and_mark_applies_the_update_once(client, db, world, sessionmaker, search) -> None:
    listing_id = await publish(client, world, result_body())
    with pytest.raises(Killed):
        await KilledBeforeMark(sessionmaker, search).run_once()
    assert list(await indexed(search)) == [listing_id]  # it was sent …
    rows = await outbox(db)
    assert len(rows) == 1 and rows[0].processed_at is None and rows[0].attempts == 0  # … and not marked

    await edit(client, world, listing_id, title_zh="重发时的当前标题")
    done = await OutboxRelay(sessionmaker, search).drain()
    assert (done.rows, done.upserted) == (2, 1)  # both rows, one document
    docs = await indexed(search)
    assert list(docs) == [listing_id] and docs[listing_id]["title_zh"] == "重发时的当前标题"
    assert not (await check(sessionmaker, search)).drift


async def test_a_failed_task_is_retried_with_back_off_and_recorded(client, db, world, sessionmaker, search) -> None:
    # An index whose primary key is another field refuses our documents: the task fails.
    await search.delete_index(search.listings_index)
    await search.client.create_index(search.listings_index, primary_key="listing_key")
    first = await publish(client, world, result_body())
    second = await publish(client, world, resource_body())
    relay = OutboxRelay(sessionmaker, search)
    done = await relay.run_once()
    assert done.failed == 2 and done.errors[0].startswith("SearchTaskFailed: task")
    rows = await outbox(db)
    assert all(r.attempts == 1 and r.sent_task_uid is not None and "failed" in r.last_error for r in rows)
    assert await indexed(search) == {}

    await search.delete_index(search.listings_index)
    await search.ensure_index()
    done = await relay.drain(now=datetime.now(UTC) + LATER)
    assert done.upserted == 2 and set(await indexed(search)) == {first, second}
    assert all(r.processed_at and r.last_error is None and r.attempts == 2 for r in await outbox(db))


async def test_competing_relays_never_send_one_listing_out_of_order(client, db, world, sessionmaker, search) -> None:
    held = await publish(client, world, result_body(title_zh="第一版"))
    other = await publish(client, world, resource_body())
    claimed, release = asyncio.Event(), asyncio.Event()

    class Slow(OutboxRelay):
        async def send(self, session, batch, index=None):
            claimed.set()
            await release.wait()
            return await super().send(session, batch, index)

    slow = asyncio.create_task(Slow(sessionmaker, search, batch_size=1).run_once())
    await asyncio.wait_for(claimed.wait(), 10)
    await edit(client, world, held, title_zh="第二版")
    done = await OutboxRelay(sessionmaker, search).run_once()
    # The other relay takes the other listing and leaves the held one (both of its rows) alone.
    assert (done.rows, done.upserted, done.deferred) == (1, 1, 1)
    release.set()
    assert (await slow).rows == 1
    await OutboxRelay(sessionmaker, search).drain()
    docs = await indexed(search)
    assert set(docs) == {held, other} and docs[held]["title_zh"] == "第二版"


async def test_the_worker_sends_a_committed_change(client, db, world, settings) -> None:
    mine = settings.model_copy(update={"meili_index_prefix": f"{settings.meili_index_prefix}{uuid.uuid4().hex[:8]}_"})
    listing_id = await publish(client, world, result_body())
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(mine, stop))
    search = SearchEngine(mine.meili_url, mine.meili_master_key, mine.meili_index_prefix)
    try:
        for _ in range(200):  # sent, and marked so (the mark commits after the send)
            if not await pending_ids(db):
                break
            await asyncio.sleep(0.05)
        assert await pending_ids(db) == []
        assert list(await indexed(search)) == [listing_id]
        # The worker created the index with the settings in code.
        applied = await search.client.index(search.listings_index).get_settings()
        assert applied.searchable_attributes == INDEX_SETTINGS["searchableAttributes"]
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await search.delete_index(search.listings_index)
        await search.aclose()


async def test_a_committed_change_defers_the_relay_in_its_transaction(client, db, world, settings, monkeypatch) -> None:
    """The outbox's trigger defers a relay run with the rows (migration 0026): with the relay's
    period stretched to a day, a change committed while the worker runs is still sent at once."""
    relay = next(job for job in JOBS if job.name == "relay_search_outbox")
    monkeypatch.setattr("marketplace.worker.JOBS", [dataclasses.replace(relay, every_seconds=86400)])
    mine = settings.model_copy(update={"meili_index_prefix": f"{settings.meili_index_prefix}{uuid.uuid4().hex[:8]}_"})
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(mine, stop))
    search = SearchEngine(mine.meili_url, mine.meili_master_key, mine.meili_index_prefix)
    try:
        listing_id = await publish(client, world, result_body())
        for _ in range(400):
            if not await pending_ids(db):
                break
            await asyncio.sleep(0.05)
        assert await pending_ids(db) == []
        assert list(await indexed(search)) == [listing_id]
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await search.delete_index(search.listings_index)
        await search.aclose()


# ----- reindex and check --------------------------------------------------------------------------


async def test_reindex_swaps_in_a_rebuilt_index_while_search_keeps_answering(client, db, world, sessionmaker, search) -> None:
    listings = [await publish(client, world, result_body(title_zh=f"外泌体检测方法第{i}号")) for i in range(3)]
    await OutboxRelay(sessionmaker, search).drain()
    # Drift: a document lost and a stray one added behind the relay's back.
    await search.delete([listings[0]])
    await search.upsert([{"id": str(uuid.uuid4()), "title_zh": "不该在这里"}])
    report = await check(sessionmaker, search)
    assert report.drift and (len(report.missing), len(report.extra), len(report.outdated)) == (1, 1, 0)
    # A change whose outbox row never got sent (as if written by plain SQL).
    await db.execute(update(Listing).where(Listing.id == uuid.UUID(listings[1])).values(title_en="Changed quietly"))
    await db.commit()
    await db.execute(update(OutboxEntry).values(processed_at=func.now()))
    await db.commit()
    assert len((await check(sessionmaker, search)).outdated) == 1

    answers: list[int] = []
    searching = True

    async def keep_searching() -> None:
        while searching:
            answers.append(len(await hits(search, "外泌体")))
            await asyncio.sleep(0)

    async def before_swap(fresh: str) -> None:
        assert len(await hits(search, "外泌体")) == 2  # the live index, drift and all, still answers
        assert (await search.client.index(fresh).get_stats()).number_of_documents == 3

    poller = asyncio.create_task(keep_searching())
    try:
        result = await reindex(sessionmaker, search, before_swap=before_swap)
    finally:
        searching = False
        await poller
    assert result.documents == 3 and result.requeued == 3
    assert answers and all(n >= 2 for n in answers)  # every search during the rebuild answered
    assert not (await check(sessionmaker, search)).drift
    assert [name for name in await search.index_names() if name.startswith(search.index_prefix)] == [search.listings_index]
    applied = await search.client.index(search.listings_index).get_settings()
    assert applied.ranking_rules == INDEX_SETTINGS["rankingRules"]
    done = await OutboxRelay(sessionmaker, search).drain()  # the re-queued changes: harmless re-sends
    assert done.upserted == 3 and not (await check(sessionmaker, search)).drift


async def test_reindex_enqueues_every_page_and_a_failed_one_leaves_the_live_index_untouched(
    client, db, world, sessionmaker, search
) -> None:
    listings = {await publish(client, world, result_body(title_zh=f"外泌体检测方法第{i}号")) for i in range(4)}
    await OutboxRelay(sessionmaker, search).drain()
    live_before = await indexed(search)

    async def a_bad_second_page(session, page_size):
        number = 0
        async for page in LISTINGS_INDEX.all_documents(session, page_size):
            number += 1
            yield [{**doc, "id": "not a valid id!"} for doc in page] if number == 2 else page

    # (No stored vectors to look up for ids that are not ids.)
    broken = dataclasses.replace(LISTINGS_INDEX, all_documents=a_bad_second_page, passage_fields=())
    with pytest.raises(SearchTaskFailed, match="invalid_document_id"):
        await reindex(sessionmaker, search, page_size=1, index=broken)

    assert await indexed(search) == live_before and set(live_before) == listings  # the live index, as it was
    assert [name for name in await search.index_names() if name.startswith(search.index_prefix)] == [search.listings_index]
    # Every page went to Meilisearch before any was waited for (pages sent one by one, each
    # waited for, would have stopped at the second).
    created = await search.client.get_tasks(types="indexCreation", limit=1000)
    fresh = [t.index_uid for t in created.results if (t.index_uid or "").startswith(f"{search.listings_index}_")]
    additions = await search.client.get_tasks(index_ids=fresh, types="documentAdditionOrUpdate")
    assert len(fresh) == 1 and len(additions.results) == 4
    assert "failed" in {task.status for task in additions.results}

    assert (await reindex(sessionmaker, search)).documents == 4  # the next one runs and succeeds
    assert not (await check(sessionmaker, search)).drift


async def run_cli(settings, prefix: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": settings.meili_url,
        "MEILI_MASTER_KEY": settings.meili_master_key,
        "MEILI_INDEX_PREFIX": prefix,
        "DATA_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        str(MARKETPLACE), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, output.decode()


async def test_the_search_commands_check_and_reindex(client, db, world, settings, engine, search, tmp_path) -> None:
    listing_id = await publish(client, world, result_body())
    code, output = await run_cli(settings, search.index_prefix, tmp_path, "search", "check")
    assert code == 1, output
    assert "missing: 1  extra: 0  outdated: 0" in output and listing_id in output and "1 pending" in output

    code, output = await run_cli(settings, search.index_prefix, tmp_path, "search", "reindex")
    assert code == 0, output
    assert "with 1 published listing(s)" in output
    assert list(await indexed(search)) == [listing_id]
    assert not (await check(make_sessionmaker(engine), search)).drift  # what `search check` reports (exit 0)


# ----- index settings -----------------------------------------------------------------------------


async def test_the_app_applies_the_index_settings_at_start_up(client, settings) -> None:
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as live:
        applied = await live.client.index(live.listings_index).get_settings()
    assert applied.searchable_attributes == INDEX_SETTINGS["searchableAttributes"]
    assert set(applied.filterable_attributes) == set(INDEX_SETTINGS["filterableAttributes"])
    assert set(applied.sortable_attributes) == set(INDEX_SETTINGS["sortableAttributes"])
    assert applied.ranking_rules == INDEX_SETTINGS["rankingRules"]
    assert {tuple(rule.locales) for rule in applied.localized_attributes} == {("cmn",), ("eng",)}
    assert set(applied.typo_tolerance.disable_on_attributes) >= {"title_zh", "summary_zh"}
    assert applied.typo_tolerance.enabled
    assert applied.pagination.max_total_hits > 1000
    assert set(applied.synonyms["细胞治疗"]) >= {"cell therapy", "CAR-T"}
    assert "体外诊断" in applied.synonyms["IVD"]


def doc(title_zh: str, title_en: str = "", **extra) -> dict:
    return {"id": str(uuid.uuid4()), "title_zh": title_zh, "title_en": title_en, "is_stale": 0, **extra}


async def test_synonyms_stale_ranking_and_typos_behave_as_intended(search) -> None:
    cell = doc("CAR-T细胞治疗平台")
    ivd = doc("肝癌早筛体外诊断试剂盒")
    ward = doc("肿瘤早期研究型病房")
    bank = doc("消化道肿瘤生物样本库")
    exosome = doc("外泌体分离技术", "Exosome isolation technology")
    fresh = doc("眼科手术机器人", published_at=1)
    stale = doc("眼科手术机器人", published_at=2, is_stale=1)
    await search.upsert([cell, ivd, ward, bank, exosome, stale, fresh])

    assert await hits(search, "cell therapy") == [cell["id"]]
    assert await hits(search, "细胞治疗") == [cell["id"]]
    assert await hits(search, "IVD") == [ivd["id"]]
    assert await hits(search, "research ward") == [ward["id"]]
    assert await hits(search, "biobank") == [bank["id"]]
    assert await hits(search, "exosme isolation") == [exosome["id"]]  # a typo in English still finds it
    # Same words, same text: the stale one ranks lower.
    assert await hits(search, "眼科手术机器人") == [fresh["id"], stale["id"]]


async def test_pages_and_totals_stay_right_past_a_thousand_hits(search) -> None:
    await search.upsert([doc(f"成果{i}", kind="result", trl=i % 9 + 1) for i in range(1050)])
    index = search.client.index(search.listings_index)
    last = await index.search("", hits_per_page=20, page=53, facets=["trl"])
    assert last.total_hits == 1050 and last.total_pages == 53 and len(last.hits) == 10
    assert sum(last.facet_distribution["trl"].values()) == 1050
