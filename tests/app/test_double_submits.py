"""A page form sent twice (a double click, two tabs) answers with the record the first one made,
never a 500 nor a page rendered on a broken database session: the need response and the match
request, one after the other and at once. The API answers 409 (tests/matching)."""

from __future__ import annotations

import asyncio

import msgspec
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from marketplace.matching.needs.models import NeedResponse
from marketplace.matching.needs.schemas import NeedCreate
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.models import MatchRequest
from marketplace.search.models import SavedSearch
from tests.catalog.factories import result_body, seed_listing
from tests.matching.needs.factories import need_body
from tests.matching.requests.factories import match_form
from tests.support.web import csrf_token, login, post_form


async def published_listing(db, world):
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    await db.commit()
    return listing


async def open_need(db, world):
    principal = await world.principal(db, world.emails[Role.company_member])
    service = NeedService(db)
    need = await service.create(principal, msgspec.convert(need_body(), NeedCreate))
    await service.transition(principal, need.id, "publish")
    await db.commit()
    return need


async def count(db, model) -> int:
    return await db.scalar(select(func.count()).select_from(model))


async def both_at_once(client, path: str, form: dict):
    headers = {"x-csrftoken": await csrf_token(client)}
    return await asyncio.gather(*(client.post(path, data=form, headers=headers, follow_redirects=False) for _ in range(2)))


async def test_a_match_request_sent_twice_shows_the_first(client, db, world) -> None:
    listing = await published_listing(db, world)
    await login(client, world.emails[Role.company_member])
    path = f"/listings/{listing.id}/match-request"
    first = await post_form(client, path, match_form())
    assert first.status_code == 302
    again = await post_form(client, path, match_form())
    assert again.status_code == 302 and again.headers["location"] == first.headers["location"]
    shown = await client.get(again.headers["location"])
    assert shown.status_code == 200 and "贵企业已就该条目提交了一份进行中的对接申请。" in shown.text, shown.text[:500]
    assert await count(db, MatchRequest) == 1


async def test_a_match_request_sent_twice_at_once_makes_one(client, db, world) -> None:
    listing = await published_listing(db, world)
    await login(client, world.emails[Role.company_member])
    answers = await both_at_once(client, f"/listings/{listing.id}/match-request", match_form())
    assert [a.status_code for a in answers] == [302, 302], [a.text[:300] for a in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert await count(db, MatchRequest) == 1


async def test_a_need_response_sent_twice_shows_the_first(client, db, world) -> None:
    listing = await published_listing(db, world)
    need = await open_need(db, world)
    await login(client, world.emails[Role.tto_staff])
    path = f"/needs/{need.id}/responses"
    form = {"proposal": "本院可授权。", "listing_ids": str(listing.id)}
    assert (await post_form(client, path, form)).status_code == 302
    response_id = await db.scalar(select(NeedResponse.id))
    again = await post_form(client, path, form)
    assert again.status_code == 302 and again.headers["location"] == f"/needs/{need.id}/responses/{response_id}"
    shown = await client.get(again.headers["location"])
    assert shown.status_code == 200 and "本院已响应该需求。" in shown.text, shown.text[:500]
    assert await count(db, NeedResponse) == 1


async def test_a_need_response_sent_twice_at_once_makes_one(client, db, world) -> None:
    listing = await published_listing(db, world)
    need = await open_need(db, world)
    await login(client, world.emails[Role.tto_staff])
    form = {"proposal": "本院可授权。", "listing_ids": str(listing.id)}
    answers = await both_at_once(client, f"/needs/{need.id}/responses", form)
    assert sorted(a.status_code for a in answers) == [302, 302], [a.text[:300] for a in answers]
    assert await count(db, NeedResponse) == 1


async def test_a_saved_search_sent_twice_at_once_makes_one(client, db, world) -> None:
    await login(client, world.emails[Role.company_member])
    answers = await both_at_once(client, "/saved-searches", {"name": "肝癌", "query": "q=肝癌"})
    assert sorted(a.status_code for a in answers) == [302, 422], [a.text[:300] for a in answers]
    refused = next(a for a in answers if a.status_code == 422)
    assert "您已有同名的保存的搜索。" in refused.text, refused.text[:500]
    assert await count(db, SavedSearch) == 1
