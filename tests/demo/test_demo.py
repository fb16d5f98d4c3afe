"""The demo data: 30 institutions in three cities, 600 results and 250 resources, users for every
role, loaded once."""

from __future__ import annotations

from urllib.parse import parse_qsl

from sqlalchemy import func, select

from marketplace.accounts.models import Membership, Organization, Role
from marketplace.catalog.models import Listing
from marketplace.catalog.services import CatalogService
from marketplace.demo import load_demo_data
from marketplace.demo.events import event_match_states
from marketplace.demo.history import history_need_states, history_states
from marketplace.demo.matching import demo_need_states, demo_states
from marketplace.matching.requests.models import MatchRequest, State
from marketplace.search.models import SavedSearch
from marketplace.search.query import parse_search


async def test_demo_data_loads_once_and_covers_the_catalogue(client, db) -> None:
    assert await load_demo_data(db) is True
    await db.commit()
    cities = dict(
        (
            await db.execute(
                select(Organization.city, func.count()).where(Organization.kind == "institution").group_by(Organization.city)
            )
        ).all()
    )
    assert sum(cities.values()) == 30 and set(cities) == {"上海", "北京", "杭州"}
    kinds = dict((await db.execute(select(Listing.kind, func.count()).group_by(Listing.kind))).all())
    assert kinds == {"result": 600, "resource": 250}
    roles = set((await db.scalars(select(Membership.role))).all())
    assert roles == {r.value for r in Role}
    published = await db.scalar(select(func.count()).where(Listing.status == "published"))
    assert published > 700
    states = dict((await db.execute(select(MatchRequest.state, func.count()).group_by(MatchRequest.state))).all())
    expected = demo_states()
    # Each selected demo need response opened one more, negotiating (marketplace/demo/data/matching.yaml
    # needs and history.yaml's); the two years of history add their own (marketplace/demo/history.py).
    expected[State.negotiating] += demo_need_states()[1].get("selected", 0) + history_need_states()[1].get("selected", 0)
    for state, count in history_states().items():
        expected[State(state)] = expected.get(State(state), 0) + count
    # The demo's past matchmaking event opened some from its meetings (marketplace/demo/data/events.yaml).
    for state, count in event_match_states().items():
        expected[State(state)] = expected.get(State(state), 0) + count
    assert states == expected and set(states) == {s.value for s in State}
    # The demo company member watches saved searches whose queries the search page accepts.
    saved = (await db.scalars(select(SavedSearch).order_by(SavedSearch.name))).all()
    assert len(saved) == 2
    areas = [area.code for area in await CatalogService(db).areas()]
    for item in saved:
        query, problems = parse_search(parse_qsl(item.query), areas)
        assert not problems and query.q and query.filters
    assert await load_demo_data(db) is False


async def test_the_demo_inventor_sees_the_drafts_they_are_named_on(client, db) -> None:
    from marketplace.accounts.services import AccountService
    from marketplace.catalog.services import CatalogService

    await load_demo_data(db)
    await db.commit()
    accounts = AccountService(db)
    inventor = await accounts.principal_for_user((await accounts.user_by_email("inventor@pujiang.example")).id)
    company = await accounts.principal_for_user((await accounts.user_by_email("bd@xinghe.example")).id)
    catalog = CatalogService(db)
    mine, _ = await catalog.search(inventor, status="draft", page_size=100)
    theirs, _ = await catalog.search(company, status="draft", page_size=100)
    assert mine and all(item.created_by_user_id == inventor.user_id for item in mine)
    assert theirs == []
    named, _ = await catalog.search(inventor, status="published", institution_id=inventor.organization_id, page_size=100)
    assert any(any(i.user_id == inventor.user_id for i in item.inventors) for item in named)


async def test_the_demo_requests_show_the_deadlines_and_the_nda_line(client, db) -> None:
    """Pujiang's inbox has an overdue request and one due soon; the company whose request was
    accepted reads that listing's confidential details; the inventor follows the requests on their results."""
    from marketplace.accounts.services import AccountService
    from marketplace.catalog.services import CatalogService
    from marketplace.matching.requests.services import MatchingService

    await load_demo_data(db)
    await db.commit()
    accounts = AccountService(db)

    async def as_user(email: str):
        return await accounts.principal_for_user((await accounts.user_by_email(email)).id)

    matching = MatchingService(db)
    counts = await matching.deadline_counts(await as_user("tto.manager@pujiang.example"))
    assert counts.overdue >= 1 and counts.due_soon >= 1
    ruijian = await as_user("admin@ruijian.example")
    accepted, _ = await matching.list(ruijian, state="accepted")
    listing = await CatalogService(db).get(ruijian, accepted[0].listing_id)
    assert await CatalogService(db).sees_confidential(ruijian, listing)
    followed, total = await matching.list(await as_user("inventor@pujiang.example"))
    assert 2 <= total < 11 and {"accepted", "negotiating"} <= {r.state for r in followed}
