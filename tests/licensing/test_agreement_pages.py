"""Agreements through the pages: the TTO's list by next due day and the company's licences, the
draft form (from an agreed match or a deal made elsewhere) with its errors beside the fields, an
agreement's terms, schedule, document and steps for each side."""

from __future__ import annotations

from marketplace.accounts.models import Role
from tests.licensing.factories import agreed_match, draft, pay_later_body, published_result, signed
from tests.support.web import login


async def test_smoke(client, db, world) -> None:
    result = await published_result(db, world)
    match = await agreed_match(db, world, result.id)
    agreement = await draft(db, world, pay_later_body(match_request_id=str(match.id)))
    await login(client, world.emails[Role.tto_manager])
    for path in (
        "/agreements",
        f"/agreements/{agreement.id}",
        "/agreements/new",
        f"/agreements/new?match_request_id={match.id}",
        f"/agreements/{agreement.id}/edit",
    ):
        page = await client.get(path)
        assert page.status_code == 200, (path, page.text[-3000:])
    await signed(db, world, agreement.id)
    page = await client.get(f"/agreements/{agreement.id}")
    assert page.status_code == 200, page.text[-3000:]
    print(page.text)
