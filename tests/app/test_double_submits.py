"""A page form sent twice (a double click, two tabs) answers with the record the first one made,
never a 500 nor a page rendered on a broken database session: the need response and the match
request, one after the other and at once. The API answers 409 (tests/matching)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.access_requests import Application
from marketplace.accounts.models import AccessRequest, Invitation, Role, User
from marketplace.accounts.services import AccountService
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import make_sessionmaker
from marketplace.errors import Conflict, Duplicate, InvalidInput
from marketplace.matching.needs.models import NeedResponse
from marketplace.matching.needs.schemas import NeedCreate, ResponseCreate
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.models import MatchRequest
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from marketplace.search.models import SavedSearch
from marketplace.search.saved_searches import SavedSearchService
from tests.catalog.factories import result_body, seed_listing
from tests.matching.needs.factories import need_body, response_body
from tests.matching.requests.factories import match_body, match_form
from tests.support.web import csrf_token, login, post_form
from tests.support.world import company


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


# ----- the race itself, made certain: the first insert waits uncommitted while the second runs into it


async def race(engine, step: Callable[[AsyncSession], Awaitable[object]]) -> tuple[object, object]:
    """`step` in one transaction, flushed but not committed; the same `step` in a second one, which
    runs into the unique index (or the first's lock) and waits; then the first commits. Returns the
    first's result and the second's result or refusal; the second's session must still work."""
    sessions = make_sessionmaker(engine)
    async with sessions() as first, sessions() as second:
        made = await step(first)

        async def again() -> object:
            try:
                return await step(second)
            except (Conflict, InvalidInput) as refusal:
                return refusal

        waiting = asyncio.create_task(again())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second insert should wait for the first"
        await first.commit()
        answer = await waiting
        assert await second.scalar(text("select 1")) == 1  # not a session broken by the failed insert
        await second.commit()
        return made, answer


async def test_a_match_request_raced_names_the_first(db, world, engine) -> None:
    listing = await published_listing(db, world)
    company_member = await world.principal(db, world.emails[Role.company_member])
    body = msgspec.convert(match_body(listing.id), MatchRequestCreate)
    made, answer = await race(engine, lambda s: MatchingService(s).create(company_member, body))
    assert isinstance(answer, Duplicate) and answer.existing == made.id
    assert await count(db, MatchRequest) == 1


async def test_a_need_response_raced_names_the_first(db, world, engine) -> None:
    listing = await published_listing(db, world)
    need = await open_need(db, world)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    body = msgspec.convert(response_body(listing.id), ResponseCreate)
    made, answer = await race(engine, lambda s: NeedService(s).respond(tto, need.id, body))
    assert isinstance(answer, Duplicate) and answer.existing == made.id
    assert await count(db, NeedResponse) == 1


async def test_a_saved_search_raced_is_a_field_error(db, world, engine) -> None:
    member = await world.principal(db, world.emails[Role.company_member])
    _, answer = await race(engine, lambda s: SavedSearchService(s).create(member, "肝癌", "q=肝癌"))
    assert isinstance(answer, InvalidInput) and [e.field for e in answer.errors] == ["name"]
    assert await count(db, SavedSearch) == 1


async def test_an_organization_raced_is_a_conflict_on_its_credit_code(db, world, engine) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    _, answer = await race(engine, lambda s: AccountService(s).create_organization(admin, company("竞速企业", 977)))
    assert isinstance(answer, Conflict) and [e.field for e in answer.errors] == ["credit_code"]


async def test_an_invitation_raced_invites_the_one_account(db, world, engine) -> None:
    email = "new.person@own.test"
    admin = await world.principal(db, world.emails[Role.company_admin])
    org = admin.organization_id

    async def invite(s: AsyncSession):
        return await AccountService(s).invite(admin, org, email=email, name="", role="company_member", ttl=timedelta(days=7))

    (_, first_user, _), (_, second_user, _) = await race(engine, invite)
    assert first_user.id == second_user.id
    assert await db.scalar(select(func.count()).select_from(User).where(User.email == email)) == 1
    assert await count(db, Invitation) >= 2


async def test_an_application_for_access_raced_is_a_field_error(db, engine) -> None:
    application = Application(
        kind="institution", name_zh="竞速医院", city="上海", contact_name="张", email="race@hospital.test", phone="021-1234567"
    )
    _, answer = await race(engine, lambda s: AccountService(s).apply_for_access(application))
    assert isinstance(answer, Conflict) and [e.field for e in answer.errors] == ["email"]
    assert await count(db, AccessRequest) == 1
