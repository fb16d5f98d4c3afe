"""Search test data: a small catalogue indexed through the relay, for the search API, page and
browser tests (the `indexed` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import update

from marketplace.accounts.models import Organization
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import make_sessionmaker
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
