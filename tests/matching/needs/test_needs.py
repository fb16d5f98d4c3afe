"""Needs and challenges through the API and the services: who posts what, the state machines and
who may move them, visibility (drafts, invited-only), responses and selection opening a match
request, notifications, the deadline job, bad input, and the database's own guards."""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.catalog.schemas import ListingCreate
from marketplace.config import PROJECT_ROOT
from marketplace.db import china_day, make_sessionmaker, utcnow
from marketplace.matching.needs.deadlines import close_expired_needs
from marketplace.matching.needs.models import Need, NeedResponse
from marketplace.matching.requests.models import MatchRequest
from marketplace.notifications.models import Notification
from marketplace.notifications.services import send_queued_emails
from marketplace.search.models import OutboxEntry
from tests.accounts.factories import bearer_for
from tests.catalog.factories import published, result_body, seed_listing
from tests.matching.needs.factories import OTHER_COMPANY, OTHER_TTO, move, need_body, open_need, respond

# ----- posting -----------------------------------------------------------------------------------


async def test_a_company_posts_a_draft_visible_only_to_itself_then_publishes_it(client, db, world) -> None:
    created = await client.post("/api/v1/needs", json=need_body(), headers=world.bearer(Role.company_member))
    assert created.status_code == 201, created.text
    need = created.json()
    assert need["state"] == "draft" and need["kind"] == "need" and need["actions"] == ["publish"]
    assert need["poster"]["id"] == str(world.orgs["company/own"].id)
    other_company = await bearer_for(db, OTHER_COMPANY)
    for headers in (other_company, world.bearer(Role.tto_manager)):
        assert (await client.get(f"/api/v1/needs/{need['id']}", headers=headers)).status_code == 404
        listed = (await client.get("/api/v1/needs", headers=headers)).json()
        assert need["id"] not in [n["id"] for n in listed["items"]]
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=world.bearer(Role.platform_analyst))).status_code == 200
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=world.bearer(Role.company_admin))).status_code == 200

    patched = await client.patch(
        f"/api/v1/needs/{need['id']}", json={"title": "改过的标题"}, headers=world.bearer(Role.company_admin)
    )
    assert patched.status_code == 200 and patched.json()["title"] == "改过的标题"
    opened = await client.post(
        f"/api/v1/needs/{need['id']}/transitions", json={"action": "publish"}, headers=world.bearer(Role.company_member)
    )
    assert opened.status_code == 200 and opened.json()["state"] == "open"
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=other_company)).status_code == 200
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=world.bearer(Role.tto_staff))).json().get(
        "response_count"
    ) is None
    # No longer a draft: editing is refused and changes nothing.
    refused = await client.patch(f"/api/v1/needs/{need['id']}", json={"title": "再改"}, headers=world.bearer(Role.company_admin))
    assert refused.status_code == 409
    assert (await db.get(Need, uuid.UUID(need["id"]), populate_existing=True)).title == "改过的标题"
    actions = [
        e.action for e in await db.scalars(select(AuditEvent).where(AuditEvent.subject_id == need["id"]).order_by(AuditEvent.id))
    ]
    assert actions == ["need_created", "need_updated", "need_publish"]


async def test_illegal_need_transitions_answer_409_and_change_nothing(client, db, world) -> None:
    need = await open_need(client, world)
    again = await client.post(
        f"/api/v1/needs/{need['id']}/transitions", json={"action": "publish"}, headers=world.bearer(Role.company_member)
    )
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "action"
    closed = await client.post(
        f"/api/v1/needs/{need['id']}/transitions",
        json={"action": "close", "reason": "已找到方案"},
        headers=world.bearer(Role.company_admin),
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    count = await db.scalar(select(func.count()).select_from(AuditEvent))
    for action in ("publish", "close"):
        refused = await client.post(
            f"/api/v1/needs/{need['id']}/transitions", json={"action": action}, headers=world.bearer(Role.company_admin)
        )
        assert refused.status_code == 409
    assert await db.scalar(select(func.count()).select_from(AuditEvent)) == count
    # Only the poster acts: an institution that sees it gets 403, another company 403 too.
    need2 = await open_need(client, world)
    assert (
        await client.post(
            f"/api/v1/needs/{need2['id']}/transitions", json={"action": "close"}, headers=world.bearer(Role.tto_manager)
        )
    ).status_code == 403
    assert (
        await client.post(
            f"/api/v1/needs/{need2['id']}/transitions", json={"action": "close"}, headers=world.bearer(Role.platform_admin)
        )
    ).status_code == 403


async def test_the_platform_posts_a_challenge_on_behalf_of_a_company(client, db, world) -> None:
    company = world.orgs["company/own"]
    refused = await client.post("/api/v1/needs", json=need_body(kind="challenge"), headers=world.bearer(Role.company_admin))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "kind"
    challenge = await open_need(client, world, Role.platform_admin, on_behalf_of_id=str(company.id))
    assert challenge["kind"] == "challenge" and challenge["on_behalf_of"]["id"] == str(company.id)
    # The company it is for reads it and its responses; it does not act for the platform.
    assert (await client.get(f"/api/v1/needs/{challenge['id']}", headers=world.bearer(Role.company_member))).json()[
        "response_count"
    ] == 0
    assert (await client.get("/api/v1/needs", headers=world.bearer(Role.platform_analyst))).json()["total"] == 1


async def test_bad_input_is_refused_with_field_errors(client, db, world) -> None:
    institution = world.orgs["institution/own"]
    cases = [
        (need_body(title=""), "title"),
        (need_body(therapeutic_areas=["astrology"]), "therapeutic_areas"),
        (need_body(wanted=["spaceship"]), "wanted"),
        (need_body(budget_min_fen=300, budget_max_fen=100), "budget_max_fen"),
        (need_body(budget_min_fen=-1), "budget_min_fen"),
        (need_body(deadline=(china_day(utcnow()) - timedelta(days=1)).isoformat()), "deadline"),
        (need_body(deadline="not a date"), "deadline"),
        (need_body(visibility="invited"), "invited_institution_ids"),
        (
            need_body(visibility="invited", invited_institution_ids=[str(world.orgs["company/other"].id)]),
            "invited_institution_ids",
        ),
        (need_body(on_behalf_of_id=str(world.orgs["company/other"].id)), "on_behalf_of_id"),
        (need_body(colour="blue"), "colour"),
    ]
    for body, field in cases:
        answer = await client.post("/api/v1/needs", json=body, headers=world.bearer(Role.company_member))
        assert answer.status_code in (400, 422), (field, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (field, answer.json())
    assert await db.scalar(select(func.count()).select_from(Need)) == 0
    ok = await client.post(
        "/api/v1/needs",
        json=need_body(visibility="invited", invited_institution_ids=[str(institution.id)]),
        headers=world.bearer(Role.company_member),
    )
    assert ok.status_code == 201 and ok.json()["invited_institution_ids"] == [str(institution.id)]
    bad_query = await client.get("/api/v1/needs?area=astrology&deadline_from=soon&colour=1", headers=world.bearer(Role.tto_staff))
    assert bad_query.status_code == 400
    assert {e["field"] for e in bad_query.json()["errors"]} == {"area", "deadline_from", "colour"}


async def test_an_invited_need_is_seen_only_by_the_invited_institutions(client, db, world) -> None:
    invited = world.orgs["institution/own"]
    need = await open_need(client, world, visibility="invited", invited_institution_ids=[str(invited.id)])
    other_tto, other_company = await bearer_for(db, OTHER_TTO), await bearer_for(db, OTHER_COMPANY)
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=world.bearer(Role.tto_staff))).status_code == 200
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=world.bearer(Role.tto_staff))).json().get(
        "invited_institution_ids"
    ) is None
    for headers in (other_tto, other_company):
        assert (await client.get(f"/api/v1/needs/{need['id']}", headers=headers)).status_code == 404
    assert (await respond(client, world, need["id"], uuid.uuid4(), headers=other_tto)).status_code == 404


# ----- responses and selection -----------------------------------------------------------------


async def test_responses_selection_opens_a_negotiating_match_and_awards_the_need(
    client, db, world, settings, engine, mailbox
) -> None:
    need = await open_need(client, world)
    own_listing, second = await published(db, world), await published(db, world, title_zh="第二个关联成果")
    other_listing = await published(db, world, "other")
    other_tto = await bearer_for(db, OTHER_TTO)

    mine = await respond(client, world, need["id"], own_listing, listing_ids=[str(own_listing), str(second)])
    assert mine.status_code == 201, mine.text
    theirs = await respond(client, world, need["id"], other_listing, headers=other_tto)
    assert theirs.status_code == 201
    # One live response per institution.
    assert (await respond(client, world, need["id"], own_listing, Role.tto_manager)).status_code == 409
    # The poster was told in-app and by e-mail (company member and admin).
    # Each of the company's three people is told of each of the two responses.
    notes = (await db.scalars(select(Notification).where(Notification.kind == "need_response"))).all()
    assert len(notes) == 6 and all(n.link == f"/needs/{need['id']}#responses" for n in notes)
    # E-mails are queued with the step and leave once it has committed.
    assert not mailbox.messages
    await send_queued_emails(settings, make_sessionmaker(engine))
    assert f"http://testserver.local/needs/{need['id']}#responses" in mailbox.messages[0].get_content()
    assert {m["To"] for m in mailbox.messages} >= {world.emails[Role.company_member], world.emails[Role.company_admin]}

    # Scoped: the poster sees both, each institution only its own, another company none.
    poster = world.bearer(Role.company_member)
    assert len((await client.get(f"/api/v1/needs/{need['id']}/responses", headers=poster)).json()) == 2
    own_view = (await client.get(f"/api/v1/needs/{need['id']}/responses", headers=world.bearer(Role.tto_staff))).json()
    assert [r["id"] for r in own_view] == [mine.json()["id"]] and own_view[0]["actions"] == ["withdraw"]
    assert (await client.get(f"/api/v1/needs/{need['id']}/responses", headers=await bearer_for(db, OTHER_COMPANY))).json() == []

    mine_id, theirs_id = mine.json()["id"], theirs.json()["id"]
    assert (await move(client, world.bearer(Role.tto_staff), need["id"], mine_id, "shortlist")).status_code == 403
    shortlisted = await move(client, poster, need["id"], mine_id, "shortlist")
    assert shortlisted.status_code == 200 and shortlisted.json()["state"] == "shortlisted"
    # Selecting needs the NDA the company accepts.
    no_nda = await move(client, poster, need["id"], mine_id, "select")
    assert no_nda.status_code == 422 and no_nda.json()["errors"][0]["field"] == "nda_version"
    selected = await move(client, poster, need["id"], mine_id, "select", nda_version=1)
    assert selected.status_code == 200, selected.text
    match_id = selected.json()["match_request_id"]
    match = await db.get(MatchRequest, uuid.UUID(match_id), populate_existing=True)
    assert match.state == "negotiating" and match.listing_id == own_listing
    assert match.company_id == world.orgs["company/own"].id and match.institution_id == world.orgs["institution/own"].id
    assert "第二个关联成果" in match.message  # the other linked listing is named on the request
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=poster)).json()["state"] == "awarded"
    theirs_now = await db.get(NeedResponse, uuid.UUID(theirs_id), populate_existing=True)
    assert theirs_now.state == "not_selected"
    # The company now reads the listing's confidential details.
    detail = (await client.get(f"/api/v1/listings/{own_listing}", headers=poster)).json()
    assert detail.get("confidential_details") == result_body()["confidential_details"]
    # Institutions were told: shortlisted and selected (own), not selected (other).
    kinds = (
        await db.execute(
            select(Notification.message, func.count())
            .where(Notification.kind == "need_response_decision")
            .group_by(Notification.message)
        )
    ).all()
    assert len(kinds) == 3
    # Nothing more moves: selecting again, withdrawing a selected response.
    assert (await move(client, poster, need["id"], theirs_id, "select", nda_version=1)).status_code == 409
    assert (await move(client, world.bearer(Role.tto_staff), need["id"], mine_id, "withdraw")).status_code == 409
    actions = {e.action for e in await db.scalars(select(AuditEvent))}
    assert {
        "need_response_created",
        "need_response_shortlist",
        "need_response_select",
        "need_response_decline",
        "need_award",
        "match_request_created",
        "match_request_opened_from_need",
    } <= actions


async def test_responses_are_refused_when_they_do_not_fit(client, db, world) -> None:
    need = await open_need(client, world)
    draft = await seed_listing(db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate))
    await db.commit()
    other_listing = await published(db, world, "other")
    own = await published(db, world)
    assert (await respond(client, world, need["id"], own, Role.company_member)).status_code == 403
    assert (await respond(client, world, need["id"], own, Role.inventor)).status_code == 403
    for listing_id in (draft.id, other_listing):
        answer = await respond(client, world, need["id"], listing_id)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "listing_ids"
    answer = await respond(client, world, need["id"], own, proposal="", budget_min_fen=9, budget_max_fen=1)
    assert answer.status_code in (400, 422)
    await client.post(
        f"/api/v1/needs/{need['id']}/transitions", json={"action": "close"}, headers=world.bearer(Role.company_member)
    )
    assert (await respond(client, world, need["id"], own)).status_code == 409
    assert await db.scalar(select(func.count()).select_from(NeedResponse)) == 0


async def test_withdrawing_and_responding_again(client, db, world) -> None:
    need = await open_need(client, world)
    own = await published(db, world)
    first = (await respond(client, world, need["id"], own)).json()
    withdrawn = await move(client, world.bearer(Role.tto_manager), need["id"], first["id"], "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert (await respond(client, world, need["id"], own)).status_code == 201


async def test_a_challenge_for_no_company_is_awarded_without_a_match(client, db, world) -> None:
    challenge = await open_need(client, world, Role.platform_admin)
    own = await published(db, world)
    response = (await respond(client, world, challenge["id"], own)).json()
    assert (await move(client, world.bearer(Role.company_admin), challenge["id"], response["id"], "select")).status_code == 404
    selected = await move(client, world.bearer(Role.platform_admin), challenge["id"], response["id"], "select")
    assert selected.status_code == 200 and selected.json()["match_request_id"] is None
    assert await db.scalar(select(func.count()).select_from(MatchRequest)) == 0


# ----- the deadline, the outbox and the database's guards ----------------------------------------


async def test_the_deadline_passing_closes_an_open_need(client, db, world, engine) -> None:
    today = china_day(utcnow())
    need = await open_need(client, world, deadline=today.isoformat())
    later = await open_need(client, world, deadline=(today + timedelta(days=9)).isoformat())
    assert await close_expired_needs(make_sessionmaker(engine), today=today) == 0  # the deadline day still counts
    closed = await close_expired_needs(make_sessionmaker(engine), today=today + timedelta(days=1))
    assert closed == 1
    assert (await db.get(Need, uuid.UUID(need["id"]), populate_existing=True)).state == "closed"
    assert (await db.get(Need, uuid.UUID(later["id"]), populate_existing=True)).state == "open"
    assert await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "need_expire")) == 1
    rows = (await db.scalars(select(OutboxEntry.entity_id).where(OutboxEntry.entity_type == "need"))).all()
    assert uuid.UUID(need["id"]) in rows


def test_the_migration_knows_the_wanted_values() -> None:
    import importlib.util

    path = PROJECT_ROOT / "migrations" / "versions" / "20261122_0008_needs.py"
    spec = importlib.util.spec_from_file_location("m0008", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    from marketplace.matching.needs.models import WANTED_VALUES

    assert set(migration.WANTED) == {str(v) for v in WANTED_VALUES}


async def test_the_database_refuses_an_illegal_state_change(client, db, world) -> None:
    need = await open_need(client, world)
    await db.rollback()
    with pytest.raises(DBAPIError):
        await db.execute(update(Need).where(Need.id == uuid.UUID(need["id"])).values(state="draft"))
    await db.rollback()
    with pytest.raises(DBAPIError):
        await db.execute(text("update needs set budget_min_fen = 9, budget_max_fen = 1"))
    await db.rollback()
