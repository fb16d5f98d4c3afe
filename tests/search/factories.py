"""Search test data: a small catalogue indexed through the relay, for the search API, page and
browser tests (the `indexed` fixture)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import update

from marketplace.accounts.models import Organization
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import make_sessionmaker
from marketplace.search.embedding_job import embed_pending
from marketplace.search.embeddings import Embedder
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from tests.catalog.factories import resource_body, result_body, seed_listing

NOW = datetime.now(UTC)


async def index_samples(settings, engine, db, world) -> AsyncIterator[dict[str, str]]:
    """Four published listings and a draft, sent to the app's listings index through the relay;
    yields the listings' ids by name (liver, device, ward, bank), then empties the index."""
    search = SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix)
    await search.ensure_index()
    await search.wait(await search.client.index(search.listings_index).delete_all_documents())
    own, other = world.orgs["institution/own"], world.orgs["institution/other"]
    await db.execute(
        update(Organization).where(Organization.id == own.id).values(gcp_certified=True, ethics_alliance_member=True)
    )
    specs = {
        "liver": (own, result_body(), 10, 10),
        "device": (
            other,
            result_body(
                type="device",
                title_zh="智能输液泵",
                title_en="Smart infusion pump",
                summary_zh="用于病房的智能输液泵。",
                keywords=["输液"],
                therapeutic_areas=["cardiovascular"],
                stage="registered",
                trl=8,
                licence_options=[{"option": "exclusive", "terms": "面议"}],
            ),
            5,
            3,
        ),
        "ward": (own, resource_body(), 20, 1),
        "bank": (
            other,
            resource_body(
                type="biobank",
                title_zh="肝癌生物样本库",
                summary_zh="五千例肝癌组织与血液样本。",
                availability="limited",
                details={"sample_types": ["tissue", "blood"], "sample_count": 5000, "consent_scope": "broad"},
                engagement_modes=["sample_access"],
                pricing_model="per_sample",
            ),
            1,
            30,
        ),
    }
    ids = {}
    for name, (org, body, published_days, confirmed_days) in specs.items():
        listing = await seed_listing(
            db,
            org.id,
            msgspec.convert(body, ListingCreate),
            status="published",
            published_at=NOW - timedelta(days=published_days),
            confirmed_at=NOW - timedelta(days=confirmed_days),
        )
        ids[name] = str(listing.id)
    await seed_listing(db, own.id, msgspec.convert(result_body(title_zh="草稿肝癌"), ListingCreate))
    await db.commit()
    done = await OutboxRelay(make_sessionmaker(engine), search).drain()
    assert done.upserted == 4 and not done.failed, done
    yield ids
    await search.wait(await search.client.index(search.listings_index).delete_all_documents())
    await search.aclose()


async def index_named(settings, engine, db, world, bodies: dict[str, dict]) -> AsyncIterator[dict[str, str]]:
    """Published listings of the own institution, one per name (`result_body` with these fields),
    sent to an emptied listings index (its settings applied again) through the relay; yields their
    ids by name, then empties the index."""
    search = SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix)
    await search.apply_settings()  # the index may predate the settings in a reused test engine
    await search.wait(await search.client.index(search.listings_index).delete_all_documents())
    ids = {}
    for name, fields in bodies.items():
        body = msgspec.convert(result_body(**fields), ListingCreate)
        ids[name] = str((await seed_listing(db, world.orgs["institution/own"].id, body, status="published")).id)
    await db.commit()
    done = await OutboxRelay(make_sessionmaker(engine), search).drain()
    assert done.upserted == len(bodies) and not done.failed, done
    yield ids
    await search.wait(await search.client.index(search.listings_index).delete_all_documents())
    await search.aclose()


# Chinese-only listings (no English text at all), as hospitals often write them.
HEPATITIS_KIT = result_body(
    type="ivd_reagent",
    title_zh="乙型肝炎病毒核酸定量检测试剂盒",
    title_en=None,
    summary_zh="用于慢性乙型肝炎患者血清中病毒载量的定量检测，指导抗病毒治疗。",
    keywords=["乙型肝炎", "病毒载量"],
    therapeutic_areas=["infectious"],
)
HEPATITIS_KIT_2 = result_body(
    type="ivd_reagent",
    title_zh="乙型肝炎表面抗原快速检测卡",
    title_en=None,
    summary_zh="十五分钟内检出血液中的乙型肝炎表面抗原，适用于基层筛查。",
    keywords=["乙型肝炎", "快速检测"],
    therapeutic_areas=["infectious"],
)
KNEE_IMPLANT = result_body(
    type="device",
    title_zh="个性化3D打印人工膝关节假体",
    title_en=None,
    summary_zh="按患者影像数据设计的膝关节置换假体，用于重度膝骨关节炎。",
    keywords=["膝关节", "假体"],
    therapeutic_areas=["orthopedics"],
)


async def publish(db, world, *bodies) -> list[uuid.UUID]:
    own = world.orgs["institution/own"]
    ids = []
    for body in bodies:
        listing = await seed_listing(db, own.id, msgspec.convert(body, ListingCreate), status="published")
        ids.append(listing.id)
    await db.commit()
    return ids


async def index_with_vectors(engine, search: SearchEngine, embedder: Embedder | None = None) -> int:
    """As the worker does it: send, embed what is pending, send again with the vectors."""
    sessionmaker = make_sessionmaker(engine)
    relay = OutboxRelay(sessionmaker, search)
    await relay.drain()
    embedded = 0
    while stored := await embed_pending(sessionmaker, embedder or search.embedder):
        embedded += stored
    round_ = await relay.drain()
    assert not round_.failed, round_
    return embedded
