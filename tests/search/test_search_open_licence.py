"""The open-licence facet (开放许可): a declaration reaches Meilisearch through the outbox as a
change of the listing, the search API and page filter and count by it, and a withdrawal takes it
out again."""

from __future__ import annotations

import uuid

import msgspec

from marketplace.accounts.models import Role
from marketplace.db import make_sessionmaker
from marketplace.licensing.open_licence_schemas import OpenLicenceIn
from marketplace.licensing.services import LicensingService
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from tests.licensing.factories import open_licence_body


async def relay(settings, engine) -> None:
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        done = await OutboxRelay(make_sessionmaker(engine), search).drain()
    assert not done.failed, done


async def test_the_open_licence_facet_filters_and_counts(client, db, world, indexed, settings, engine) -> None:
    tto = await world.principal(db, world.emails[Role.tto_manager])
    service = LicensingService(db)
    body = open_licence_body(uuid.UUID(indexed["liver"]))
    declaration_id = (await service.declare(tto, msgspec.convert(body, OpenLicenceIn))).id
    await db.commit()
    await relay(settings, engine)

    response = await client.get("/api/v1/search?open_licence=true")
    assert response.status_code == 200, response.text
    page = response.json()
    assert [hit["id"] for hit in page["hits"]] == [indexed["liver"]] and page["hits"][0]["open_licence"] is True
    assert page["facets"]["open_licence"] == {"true": 1, "false": 3}  # counted without its own filter
    others = (await client.get("/api/v1/search?open_licence=false")).json()
    assert {hit["id"] for hit in others["hits"]} == {indexed["device"], indexed["ward"], indexed["bank"]}
    html = (await client.get("/search?open_licence=true")).text
    assert 'name="open_licence" value="true" checked' in html and f"/listings/{indexed['liver']}" in html
    assert f"/listings/{indexed['device']}" not in html

    await service.withdraw_open_licence(tto, declaration_id)
    await db.commit()
    await relay(settings, engine)
    assert (await client.get("/api/v1/search?open_licence=true")).json()["total"] == 0
    bad = await client.get("/api/v1/search?open_licence=perhaps")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "open_licence"
