"""Match requests through the API and the services: the state machine and who may move it, the
audit trail, one open request per company and listing, scoping, bad input, and the database's
own guard on state changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.catalog.schemas import ListingCreate
from marketplace.matching.requests.models import MatchRequest
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from tests.accounts.factories import bearer_for
from tests.catalog.factories import published, resource_body, result_body, seed_listing
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, create, match_body, move, state_of
from tests.support.world import World


async def step(client, world: World, request_id, action: str, role: Role, **body):
    return await client.post(
        f"/api/v1/match-requests/{request_id}/transitions", json={"action": action, **body}, headers=world.bearer(role)
    )


async def events_of(db, request_id) -> int:
    return await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.subject_id == str(request_id)))


# ----- the whole path through the API ----------------------------------------------------------


async def test_a_request_goes_from_submitted_to_agreed_with_every_step_audited(client, db, world) -> None:
    listing_id = await published(db, world)
    created = await client.post("/api/v1/match-requests", json=match_body(listing_id), headers=world.bearer(Role.company_member))
    assert created.status_code == 201, created.text
    request = created.json()
    rid = request["id"]
    assert request["state"] == "submitted" and request["nda_version"] == 1 and request["nda_current"] is True
    assert request["response_due_on"] and request["overdue"] is False
    assert request["budget_min_fen"] == 50_000_000 and request["budget_currency"] == "CNY"
    assert request["actions"] == ["withdraw"]
    assert request["company"]["id"] == str(world.orgs["company/own"].id)
    assert request["institution"]["id"] == str(world.orgs["institution/own"].id)

    seen = (await client.get(f"/api/v1/match-requests/{rid}", headers=world.bearer(Role.tto_staff))).json()
    assert seen["actions"] == ["review", "request_info", "accept", "decline"]

    assert (await step(client, world, rid, "review", Role.tto_staff)).json()["state"] == "under_review"
    asked = await step(client, world, rid, "request_info", Role.tto_manager, reason="请提供拟注册的产品类别与目标市场。")
    assert asked.json()["state"] == "info_requested" and asked.json()["response_due_on"] is None
    answered = await step(client, world, rid, "provide_info", Role.company_member, reason="三类器械，国内市场优先。")
    assert answered.json()["state"] == "submitted" and answered.json()["response_due_on"]
    assert (await step(client, world, rid, "accept", Role.tto_manager)).json()["state"] == "accepted"
    negotiating = await step(client, world, rid, "start_negotiation", Role.company_member)
    assert negotiating.json()["state"] == "negotiating"
    assert "agree" not in negotiating.json()["actions"]  # a member cannot bind the company

    # A deal needs both sides: the company administrator's confirmation alone keeps it negotiating.
    assert (await step(client, world, rid, "agree", Role.company_member)).status_code == 403
    first = await step(client, world, rid, "agree", Role.company_admin)
    assert first.json()["state"] == "negotiating" and first.json()["company_agreed_at"]
    assert "agree" not in first.json()["actions"]
    assert (await step(client, world, rid, "agree", Role.company_admin)).status_code == 409
    agreed = await step(client, world, rid, "agree", Role.tto_staff)
    assert agreed.status_code == 200 and agreed.json()["state"] == "agreed"
    assert agreed.json()["actions"] == []

    history = agreed.json()["history"]
    assert [h["action"] for h in history] == [
        "match_request_created",
        "match_request_review",
        "match_request_request_info",
        "match_request_provide_info",
        "match_request_accept",
        "match_request_start_negotiation",
        "match_request_agree",
        "match_request_agree",
    ]
    assert history[2]["reason"] == "请提供拟注册的产品类别与目标市场。" and history[2]["actor"] == "tto_manager"
    assert (history[1]["before"], history[1]["after"]) == ("submitted", "under_review")
    assert history[-1]["after"] == "agreed" and history[-2]["after"] == "negotiating"
    stored = await db.scalar(select(MatchRequest).where(MatchRequest.id == uuid.UUID(rid)))
    assert stored.first_answered_at is not None and stored.institution_agreed_at is not None


@pytest.mark.parametrize(
    ("path", "action", "role"),
    [
        ((), "agree", Role.tto_manager),  # submitted: not negotiating yet
        ((), "provide_info", Role.company_member),  # nothing was asked
        (("decline",), "accept", Role.tto_manager),  # declined is final
        (("decline",), "withdraw", Role.company_member),
        (("accept", "start_negotiation"), "accept", Role.tto_manager),
        (("accept", "start_negotiation", "close_no_deal"), "start_negotiation", Role.company_member),
        (("withdraw",), "withdraw", Role.company_member),
    ],
)
async def test_illegal_transitions_answer_409_and_change_nothing(client, db, world, path, action, role) -> None:
    request = await create(db, world, await published(db, world))
    actors = {"withdraw": Role.company_member, "start_negotiation": Role.company_member}
    for done in path:
        await move(db, world, request.id, done, actors.get(done, Role.tto_manager), reason="理由")
    before, events = await state_of(db, request.id), await events_of(db, request.id)
    response = await step(client, world, request.id, action, role, reason="理由")
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["field"] == "action"
    assert "不能" in response.json()["detail"]
    assert await state_of(db, request.id) == before and await events_of(db, request.id) == events


@pytest.mark.parametrize(
    ("path", "action", "role"),
    [
        ((), "request_info", Role.tto_manager),
        ((), "decline", Role.tto_staff),
        (("request_info",), "provide_info", Role.company_member),
        (("accept", "start_negotiation"), "close_no_deal", Role.company_member),
    ],
)
async def test_steps_that_need_a_text_refuse_an_empty_one(client, db, world, path, action, role) -> None:
    request = await create(db, world, await published(db, world))
    for done in path:
        await move(db, world, request.id, done, Role.company_member if done == "start_negotiation" else Role.tto_manager, "理由")
    before, events = await state_of(db, request.id), await events_of(db, request.id)
    response = await step(client, world, request.id, action, role, reason="   ")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reason"
    assert await state_of(db, request.id) == before and await events_of(db, request.id) == events


async def test_each_side_moves_only_its_own_steps(client, db, world) -> None:
    request = await create(
        db,
        world,
        await published(
            db,
            world,
            body=result_body(
                inventors=[
                    {
                        "name": "本院发明人",
                        "share_bp": 10000,
                        "user_id": str((await world.principal(db, world.emails[Role.inventor])).user_id),
                    }
                ],
            ),
        ),
    )
    # Seeing is not acting: the named inventor, the requesting company and the platform read it.
    for role, action in [
        (Role.inventor, "accept"),
        (Role.company_member, "accept"),
        (Role.company_admin, "review"),
        (Role.tto_manager, "withdraw"),
        (Role.platform_admin, "accept"),
        (Role.platform_analyst, "withdraw"),
    ]:
        response = await step(client, world, request.id, action, role)
        assert response.status_code == 403, (role, action, response.text)
    # Another institution's TTO and another company do not even see it.
    for email, action in [("admin@institution.other.test", "accept"), (OTHER_COMPANY_ADMIN, "withdraw")]:
        response = await client.post(
            f"/api/v1/match-requests/{request.id}/transitions", json={"action": action}, headers=await bearer_for(db, email)
        )
        assert response.status_code == 404
    assert await state_of(db, request.id) == "submitted"
    unknown = await step(client, world, request.id, "approve", Role.tto_manager)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "action"


# ----- creating ---------------------------------------------------------------------------------


async def test_one_open_request_per_company_and_listing(client, db, world) -> None:
    listing_id = await published(db, world)
    first = await client.post("/api/v1/match-requests", json=match_body(listing_id), headers=world.bearer(Role.company_member))
    again = await client.post("/api/v1/match-requests", json=match_body(listing_id), headers=world.bearer(Role.company_admin))
    assert first.status_code == 201 and again.status_code == 409
    assert again.json()["errors"] == [{"field": "listing_id", "message": "贵企业已就该条目提交了一份进行中的对接申请。"}]
    other = await client.post(
        "/api/v1/match-requests", json=match_body(listing_id), headers=await bearer_for(db, OTHER_COMPANY_ADMIN)
    )
    assert other.status_code == 201
    await move(db, world, uuid.UUID(first.json()["id"]), "withdraw", Role.company_member)
    anew = await client.post("/api/v1/match-requests", json=match_body(listing_id), headers=world.bearer(Role.company_admin))
    assert anew.status_code == 201
    # The database keeps the rule too, should two requests race past the service's check.
    db.add(
        MatchRequest(
            **{
                c: getattr(await db.get(MatchRequest, uuid.UUID(anew.json()["id"])), c)
                for c in (
                    "listing_id",
                    "institution_id",
                    "company_id",
                    "engagement_type",
                    "purpose",
                    "timeline",
                    "nda_version",
                    "nda_accepted_at",
                    "submitted_at",
                    "state_changed_at",
                    "response_due_on",
                    "remind_on",
                )
            }
        )
    )
    with pytest.raises(DBAPIError, match="uq_match_requests_open"):
        await db.flush()
    await db.rollback()


BAD_BODIES = [
    ({"budget_min_fen": 80_000_000, "budget_max_fen": 50_000_000}, "budget_max_fen", 422),
    ({"accept_nda": False}, "accept_nda", 422),
    ({"nda_version": 2}, "nda_version", 422),
    ({"engagement_type": "resource_use"}, "engagement_type", 422),
    ({"purpose": "   "}, "purpose", 422),
    ({"purpose": ""}, "purpose", 400),
    ({"budget_min_fen": -1}, "budget_min_fen", 400),
    ({"engagement_type": "merger"}, "engagement_type", 400),
    ({"price": 5}, "price", 400),
    ({"listing_id": str(uuid.uuid4())}, "listing_id", 422),
]


@pytest.mark.parametrize(("change", "field", "status"), BAD_BODIES, ids=[b[1] + str(b[2]) for b in BAD_BODIES])
async def test_bad_requests_name_the_field_and_write_nothing(client, db, world, change, field, status) -> None:
    listing_id = await published(db, world)
    response = await client.post(
        "/api/v1/match-requests", json={**match_body(listing_id), **change}, headers=world.bearer(Role.company_member)
    )
    assert response.status_code == status, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await db.scalar(select(func.count()).select_from(MatchRequest)) == 0


async def test_only_published_listings_and_only_companies(client, db, world) -> None:
    org = world.orgs["institution/own"]
    draft = await seed_listing(db, org.id, msgspec.convert(result_body(), ListingCreate))
    await db.commit()
    refused = await client.post("/api/v1/match-requests", json=match_body(draft.id), headers=world.bearer(Role.company_member))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "listing_id"
    listing_id = await published(db, world)
    tto = await client.post("/api/v1/match-requests", json=match_body(listing_id), headers=world.bearer(Role.tto_manager))
    assert tto.status_code == 403
    resource_id = await published(db, world, body=resource_body())
    on_resource = await client.post(
        "/api/v1/match-requests",
        json=match_body(resource_id, engagement_type="resource_use", budget_min_fen=None),
        headers=world.bearer(Role.company_member),
    )
    assert on_resource.status_code == 201 and on_resource.json()["budget_min_fen"] is None


# ----- who sees which requests ------------------------------------------------------------------


async def test_lists_are_scoped_to_the_caller(client, db, world) -> None:
    inventor = (await world.principal(db, world.emails[Role.inventor])).user_id
    named = await published(
        db, world, body=result_body(inventors=[{"name": "本院发明人", "share_bp": 10000, "user_id": str(inventor)}])
    )
    unnamed = await published(db, world)
    elsewhere = await published(db, world, relation="other")
    mine = [await create(db, world, named), await create(db, world, unnamed)]
    theirs = [await create(db, world, named, OTHER_COMPANY_ADMIN), await create(db, world, elsewhere, OTHER_COMPANY_ADMIN)]

    async def ids(headers, **params) -> set[str]:
        response = await client.get("/api/v1/match-requests", params=params, headers=headers)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["items"]}

    as_ids = lambda requests: {str(r.id) for r in requests}  # noqa: E731
    assert await ids(world.bearer(Role.company_member)) == as_ids(mine)
    assert await ids(await bearer_for(db, OTHER_COMPANY_ADMIN)) == as_ids(theirs)
    assert await ids(world.bearer(Role.tto_staff)) == as_ids([*mine, theirs[0]])
    assert await ids(world.bearer(Role.inventor)) == {str(mine[0].id), str(theirs[0].id)}
    assert await ids(world.bearer(Role.platform_analyst)) == as_ids([*mine, *theirs])
    assert await ids(world.bearer(Role.platform_analyst), listing_id=str(named)) == {str(mine[0].id), str(theirs[0].id)}
    await move(db, world, mine[1].id, "accept", Role.tto_manager)
    assert await ids(world.bearer(Role.company_member), state="accepted") == {str(mine[1].id)}
    bad = await client.get("/api/v1/match-requests", params={"state": "lost"}, headers=world.bearer(Role.tto_staff))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "state"
    # Another company's request is not there at all.
    assert (
        await client.get(f"/api/v1/match-requests/{theirs[0].id}", headers=world.bearer(Role.company_admin))
    ).status_code == 404
    assert (await client.get(f"/api/v1/match-requests/{theirs[1].id}", headers=world.bearer(Role.tto_manager))).status_code == 404
    assert (await client.get(f"/api/v1/match-requests/{mine[1].id}", headers=world.bearer(Role.inventor))).status_code == 404


# ----- the database's own guard -----------------------------------------------------------------


async def test_the_database_refuses_an_illegal_state_change_and_a_bad_budget(client, db, world) -> None:
    rid = (await create(db, world, await published(db, world))).id
    await move(db, world, rid, "decline", Role.tto_manager, "不符合方向")
    for values, message in [
        ({"state": "accepted"}, "cannot move from declined to accepted"),
        ({"budget_min_fen": 90_000_000}, "ck_match_requests_budget_min_le_max"),
    ]:
        with pytest.raises(DBAPIError, match=message):
            await db.execute(update(MatchRequest).where(MatchRequest.id == rid).values(**values))
        await db.rollback()
    with pytest.raises(DBAPIError, match="starts as submitted"):
        await db.execute(
            text(
                "insert into match_requests (id, listing_id, institution_id, company_id, state, engagement_type, purpose,"
                " timeline, nda_version, nda_accepted_at, submitted_at, state_changed_at)"
                " select gen_random_uuid(), listing_id, institution_id, company_id, 'accepted', engagement_type, purpose,"
                " timeline, nda_version, now(), now(), now() from match_requests limit 1"
            )
        )
    await db.rollback()
    assert await state_of(db, rid) == "declined"


async def test_the_service_takes_its_clock_for_the_demo_and_tests(client, db, world) -> None:
    """`now` dates the request and its history (the demo data's requests have a past)."""
    when = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    principal = await world.principal(db, world.emails[Role.company_member])
    service = MatchingService(db)
    body = msgspec.convert(match_body(await published(db, world)), MatchRequestCreate)
    request = await service.create(principal, body, now=when)
    await db.commit()
    assert request.submitted_at == when and request.response_due_on.isoformat() == "2026-10-20"
    history = await service.history(request)
    assert [e.occurred_at for e in history] == [when]
