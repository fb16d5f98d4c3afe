"""A multi-centre need (a clinical-trial need for several centres) lets the company select several
responses — each opens its match request and stays selected — and the company forms a project from
the selected institutions; every other need keeps the single-selection rule, in PostgreSQL too."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role
from marketplace.matching.needs.models import NeedResponse
from tests.accounts.factories import bearer_for
from tests.beds.factories import ward_listing
from tests.matching.needs.factories import OTHER_TTO, move, open_need, respond

TRIAL_NEED = {"wanted": ["trial_site", "research_ward"], "multi_centre": True}


async def test_several_responses_are_selected_and_form_a_project(client, db, world) -> None:
    need = await open_need(client, world, **TRIAL_NEED)
    assert need["multi_centre"] is True
    own, other = await ward_listing(db, world), await ward_listing(db, world, "other")
    mine = (await respond(client, world, need["id"], own.id)).json()
    theirs = (await respond(client, world, need["id"], other.id, headers=await bearer_for(db, OTHER_TTO))).json()
    poster = world.bearer(Role.company_member)

    first = await move(client, poster, need["id"], mine["id"], "select", nda_version=1)
    assert first.status_code == 200, first.text
    # The other response stays live: the need is awarded but still takes further centres.
    assert (await db.get(NeedResponse, uuid.UUID(theirs["id"]), populate_existing=True)).state == "submitted"
    second = await move(client, poster, need["id"], theirs["id"], "select", nda_version=1)
    assert second.status_code == 200, second.text
    assert second.json()["match_request_id"] and second.json()["match_request_id"] != first.json()["match_request_id"]
    assert (await client.get(f"/api/v1/needs/{need['id']}", headers=poster)).json()["state"] == "awarded"

    body = {
        "title": "抗PD-1单抗联合化疗Ⅲ期多中心研究",
        "phase": "III",
        "sponsor": "本企业",
        "need_id": need["id"],
        "lead_institution_id": str(world.orgs["institution/other"].id),
    }
    created = await client.post("/api/v1/projects", json=body, headers=poster)
    assert created.status_code == 201, created.text
    centres = {c["institution_id"]: c for c in created.json()["centres"]}
    assert centres[str(world.orgs["institution/other"].id)]["centre_role"] == "lead"
    assert centres[str(world.orgs["institution/own"].id)]["centre_role"] == "participating"
    assert all(len(c["tracks"]) == 3 for c in centres.values())


async def test_a_project_needs_a_multi_centre_need_of_the_company_with_selections(client, db, world) -> None:
    poster = world.bearer(Role.company_member)
    base = {"title": "多中心研究", "phase": "II", "sponsor": "本企业"}
    single = await open_need(client, world)
    refused = await client.post("/api/v1/projects", json={**base, "need_id": single["id"]}, headers=poster)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "need_id"
    multi = await open_need(client, world, **TRIAL_NEED)
    empty = await client.post("/api/v1/projects", json={**base, "need_id": multi["id"]}, headers=poster)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "need_id"
    other_company = await bearer_for(db, "admin@company.other.test")
    theirs = await client.post("/api/v1/projects", json={**base, "need_id": multi["id"]}, headers=other_company)
    assert theirs.status_code == 422


async def test_only_a_clinical_trial_need_is_multi_centre(client, world) -> None:
    from tests.matching.needs.factories import need_body

    refused = await client.post("/api/v1/needs", json=need_body(multi_centre=True), headers=world.bearer(Role.company_member))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "multi_centre"


async def test_other_needs_keep_one_selection_in_postgresql(client, db, world) -> None:
    """The single-selection rule stays: selecting one declines the others, and PostgreSQL refuses
    a second selected response of a need that is not multi-centre."""
    need = await open_need(client, world)
    own, other = await ward_listing(db, world), await ward_listing(db, world, "other")
    mine = (await respond(client, world, need["id"], own.id)).json()
    theirs = (await respond(client, world, need["id"], other.id, headers=await bearer_for(db, OTHER_TTO))).json()
    poster = world.bearer(Role.company_member)
    assert (await move(client, poster, need["id"], mine["id"], "select", nda_version=1)).status_code == 200
    assert (await db.get(NeedResponse, uuid.UUID(theirs["id"]), populate_existing=True)).state == "not_selected"
    await db.execute(text("SET session_replication_role = replica"))  # past the state guard, to the index
    with pytest.raises(IntegrityError, match="uq_need_responses_selected"):
        await db.execute(update(NeedResponse).where(NeedResponse.id == uuid.UUID(theirs["id"])).values(state="selected"))
    await db.rollback()
