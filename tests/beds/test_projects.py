"""Multi-centre projects: a company forms one (directly or from accepted clinical-trial match
requests) with one lead site and participating sites, each centre a trial engagement with its
three tracks; it starts only with a lead; cancelling cancels the open centres; the project shows
the centres side by side and the one holding it back; who sees it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select, text

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.beds.models import Review, TrialEngagement
from marketplace.beds.project_schemas import CentreIn
from marketplace.beds.projects import holding_back
from marketplace.beds.services import BedsService
from marketplace.db import china_day, utcnow
from marketplace.matching.requests.services import MatchingService
from tests.accounts.factories import bearer_for, seed_organization
from tests.beds.factories import project_body, seed_project, ward_listing
from tests.catalog.factories import published
from tests.matching.requests.factories import create as create_match
from tests.matching.requests.factories import move as move_match
from tests.support.world import institution

OTHER_TTO = "admin@institution.other.test"


async def new_project(client, world, **overrides) -> dict:
    created = await client.post("/api/v1/projects", json=project_body(**overrides), headers=world.bearer(Role.company_member))
    assert created.status_code == 201, created.text
    return created.json()


async def add(client, world, project_id: str, institution_id, role: str = "participating", **extra):
    body = {"institution_id": str(institution_id), "centre_role": role, "pi_name": "王磊", **extra}
    return await client.post(f"/api/v1/projects/{project_id}/centres", json=body, headers=world.bearer(Role.company_member))


async def step(client, world, project_id: str, action: str, role: Role = Role.company_admin, **extra):
    return await client.post(
        f"/api/v1/projects/{project_id}/transitions", json={"action": action, **extra}, headers=world.bearer(role)
    )


async def test_a_company_forms_a_project_with_one_lead_and_starts_it(client, db, world) -> None:
    project = await new_project(client, world)
    assert project["state"] == "forming" and project["centres"] == [] and project["holding_back"] is None
    pid = project["id"]
    # No lead yet: the project does not start.
    no_lead = await step(client, world, pid, "start")
    assert no_lead.status_code == 409 and no_lead.json()["errors"][0]["field"] == "action"
    participating = await add(client, world, pid, world.orgs["institution/other"].id)
    assert participating.status_code == 201, participating.text
    assert participating.json()["centre_role"] == "participating"
    assert [t["track"] for t in participating.json()["tracks"]] == ["approval", "ethics", "contract"]
    lead = await add(client, world, pid, world.orgs["institution/own"].id, "lead", fee_fen=5_000_000)
    assert lead.status_code == 201, lead.text
    # Exactly one lead; one centre per institution; only institutions.
    third = await seed_organization(db, institution("第三医院", city="广州"))
    await db.commit()
    second_lead = await add(client, world, pid, third.id, "lead")
    assert second_lead.status_code == 422 and second_lead.json()["errors"][0]["field"] == "centre_role"
    assert (await add(client, world, pid, world.orgs["institution/own"].id)).status_code == 409
    not_institution = await add(client, world, pid, world.orgs["company/other"].id)
    assert not_institution.status_code == 422 and not_institution.json()["errors"][0]["field"] == "institution_id"
    assert (await add(client, world, pid, third.id)).status_code == 201

    # The engagements carry the project's terms and their role.
    engagements = (await db.scalars(select(TrialEngagement).where(TrialEngagement.project_id == uuid.UUID(pid)))).all()
    assert sorted(e.centre_role for e in engagements) == ["lead", "participating", "participating"]
    assert {e.title for e in engagements} == {project_body()["title"]}

    # Only the company's people steer it; a centre's TTO reads it.
    assert (await step(client, world, pid, "start", Role.tto_manager)).status_code == 403
    started = await step(client, world, pid, "start")
    assert started.status_code == 200 and started.json()["state"] == "running"
    assert started.json()["centres"][0]["centre_role"] == "lead"  # the lead site first
    assert (await step(client, world, pid, "complete")).json()["state"] == "completed"
    assert (await add(client, world, pid, (await seed_organization(db, institution("第四医院"))).id)).status_code == 409
    actions = {e.action for e in await db.scalars(select(AuditEvent).where(AuditEvent.subject_id == pid))}
    assert {"trial_project_created", "trial_project_start", "trial_project_complete"} <= actions


async def test_cancelling_the_project_cancels_its_open_centres(client, db, world) -> None:
    project = await new_project(client, world)
    await add(client, world, project["id"], world.orgs["institution/own"].id, "lead")
    await add(client, world, project["id"], world.orgs["institution/other"].id)
    no_reason = await step(client, world, project["id"], "cancel")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason", no_reason.text
    cancelled = await step(client, world, project["id"], "cancel", reason="申办方调整研发策略")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert {c["state"] for c in cancelled.json()["centres"]} == {"cancelled"}


async def test_who_sees_a_project(client, db, world) -> None:
    """The company; each centre's institution TTO (the whole project, no fees); the platform."""
    project = await new_project(client, world)
    path = f"/api/v1/projects/{project['id']}"
    await add(client, world, project["id"], world.orgs["institution/own"].id, "lead")
    other_tto = await bearer_for(db, OTHER_TTO)
    assert (await client.get(path, headers=other_tto)).status_code == 404
    assert (await client.get("/api/v1/projects", headers=other_tto)).json()["total"] == 0
    await add(client, world, project["id"], world.orgs["institution/other"].id)
    seen = await client.get(path, headers=other_tto)
    assert seen.status_code == 200 and len(seen.json()["centres"]) == 2
    assert "fee_fen" not in seen.json()["centres"][0]
    assert (await client.get(path, headers=world.bearer(Role.inventor))).status_code == 404
    assert (await client.get(path, headers=await bearer_for(db, "admin@company.other.test"))).status_code == 404
    assert (await client.get(path, headers=world.bearer(Role.platform_analyst))).status_code == 200
    listed = await client.get("/api/v1/projects?state=forming", headers=world.bearer(Role.tto_staff))
    assert [p["id"] for p in listed.json()["items"]] == [project["id"]]
    assert (await client.get("/api/v1/projects?state=running", headers=world.bearer(Role.tto_staff))).json()["total"] == 0


async def test_a_project_from_accepted_trial_match_requests(client, db, world) -> None:
    own_ward, other_ward = await ward_listing(db, world), await ward_listing(db, world, "other")
    own = await create_match(db, world, own_ward.id, engagement_type="clinical_trial")
    other = await create_match(db, world, other_ward.id, engagement_type="clinical_trial")
    await move_match(db, world, own.id, "accept", Role.tto_manager)
    body = project_body(match_request_ids=[str(own.id), str(other.id)])
    not_accepted = await client.post("/api/v1/projects", json=body, headers=world.bearer(Role.company_member))
    assert not_accepted.status_code == 422 and not_accepted.json()["errors"][0]["field"] == "match_request_ids"
    principal = await world.principal(db, OTHER_TTO)
    await MatchingService(db).transition(principal, other.id, "accept")
    await db.commit()
    result = await create_match(db, world, await published(db, world), engagement_type="licence")
    await move_match(db, world, result.id, "accept", Role.tto_manager)
    not_trial = project_body(match_request_ids=[str(own.id), str(result.id)])
    refused = await client.post("/api/v1/projects", json=not_trial, headers=world.bearer(Role.company_member))
    assert refused.status_code == 422
    formed = await client.post(
        "/api/v1/projects",
        json=project_body(match_request_ids=[str(own.id), str(other.id)]),
        headers=world.bearer(Role.company_member),
    )
    assert formed.status_code == 201, formed.text
    centres = formed.json()["centres"]
    assert [c["institution_id"] for c in centres] == [
        str(world.orgs["institution/own"].id),
        str(world.orgs["institution/other"].id),
    ]
    assert centres[0]["centre_role"] == "lead"
    engagement = await db.get(TrialEngagement, uuid.UUID(centres[1]["engagement_id"]))
    assert engagement is not None and engagement.match_request_id == other.id and engagement.listing_id == other_ward.id
    # Another company cannot use them.
    theirs = await client.post("/api/v1/projects", json=body, headers=await bearer_for(db, "admin@company.other.test"))
    assert theirs.status_code == 422


async def test_the_project_page_shows_centres_side_by_side_and_who_holds_it_back(client, db, world) -> None:
    """Days so far count working days from the first submission; the centre with the most open
    tracks, then the longest-running open track, holds the project back."""
    project = await seed_project(db, world)
    third = await seed_organization(db, institution("第三医院", city="广州"))
    await db.commit()
    principal = await world.principal(db, world.emails[Role.company_admin])
    beds = BedsService(db)
    other = await beds.add_centre(principal, project.id, CentreIn(institution_id=world.orgs["institution/other"].id))
    slow = await beds.add_centre(principal, project.id, CentreIn(institution_id=third.id))
    await db.commit()
    today = china_day(utcnow())
    lead = await db.scalar(
        select(TrialEngagement).where(TrialEngagement.project_id == project.id, TrialEngagement.centre_role == "lead")
    )
    assert lead is not None

    async def set_tracks(engagement_id, states: dict[str, tuple[str, date | None, date | None]]) -> None:
        # Straight to each situation, past the state guard (the review steps are another module's).
        await db.execute(text("SET LOCAL session_replication_role = replica"))
        for review in await db.scalars(select(Review).where(Review.engagement_id == engagement_id)):
            state, submitted, approved = states.get(review.track, ("not_started", None, None))
            review.state, review.first_submitted_on, review.approved_on = state, submitted, approved
        await db.commit()

    # The lead: all three approved; the other: ethics open for 40 days; the third: ethics open 10 days, contract not started.
    long_ago = today - timedelta(days=60)
    done = ("approved", long_ago, long_ago + timedelta(days=14))
    await set_tracks(lead.id, {"approval": done, "ethics": done, "contract": done})
    await set_tracks(other.id, {"approval": done, "ethics": ("in_review", today - timedelta(days=40), None), "contract": done})
    await set_tracks(slow.id, {"approval": done, "ethics": ("submitted", today - timedelta(days=10), None)})

    seen = (await client.get(f"/api/v1/projects/{project.id}", headers=world.bearer(Role.company_member))).json()
    centres = {c["engagement_id"]: c for c in seen["centres"]}
    assert seen["centres"][0]["centre_role"] == "lead"
    assert centres[str(lead.id)]["open_tracks"] == 0
    ethics = next(t for t in centres[str(other.id)]["tracks"] if t["track"] == "ethics")
    assert 20 <= ethics["days_so_far"] <= 30 and ethics["overrun"] is True and ethics["approved_on"] is None
    assert seen["holding_back"] == str(slow.id)  # two tracks open beat one long one
    # With the third's contract approved too, the longest-running open track decides.
    await set_tracks(slow.id, {"approval": done, "ethics": ("submitted", today - timedelta(days=10), None), "contract": done})
    seen = (await client.get(f"/api/v1/projects/{project.id}", headers=world.bearer(Role.tto_manager))).json()
    assert seen["holding_back"] == str(other.id)
    assert holding_back(()) is None
