"""Who opens a trial engagement, the PI workload warning and the first consent."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization, Role
from marketplace.audit.models import AuditEvent
from marketplace.beds.engagement_schemas import EngagementCreate, EngagementTransitionIn
from marketplace.beds.services import BedsService
from marketplace.db import china_today
from marketplace.errors import Conflict, Forbidden, InvalidInput
from tests.beds.factories import all_approved, company_of, engagement, engagement_body, tto_of, ward_listing
from tests.matching.requests.factories import create, move


async def test_the_tto_opens_one_directly_with_three_tracks_not_started(db, world) -> None:
    opened = await engagement(db, world)
    reviews = await BedsService(db).reviews_of(opened.id)
    assert {(review.track, review.state) for review in reviews} == {
        ("approval", "not_started"),
        ("ethics", "not_started"),
        ("contract", "not_started"),
    }
    assert opened.institution_id == world.orgs["institution/own"].id


async def test_a_company_opens_one_only_from_a_taken_up_clinical_trial_request(db, world) -> None:
    beds = BedsService(db)
    company = await company_of(db, world)
    with pytest.raises(InvalidInput) as refused:
        await beds.create_engagement(company, msgspec.convert(engagement_body(world), EngagementCreate))
    assert refused.value.errors[0].field == "match_request_id"
    listing = await ward_listing(db, world)
    request = await create(db, world, listing.id, engagement_type="clinical_trial")
    body = msgspec.convert(engagement_body(world, company_id=None, match_request_id=str(request.id)), EngagementCreate)
    with pytest.raises(InvalidInput):  # submitted, not taken up yet
        await beds.create_engagement(company, body)
    await move(db, world, request.id, "accept", Role.tto_manager)
    opened = await beds.create_engagement(await company_of(db, world), body)
    assert opened.match_request_id == request.id and opened.listing_id == listing.id
    assert opened.institution_id == world.orgs["institution/own"].id
    other = await company_of(db, world, "other")
    with pytest.raises(InvalidInput):
        await beds.create_engagement(other, body)


async def test_a_pi_over_the_threshold_needs_an_acknowledged_reason(db, world) -> None:
    institution = await db.get(Organization, world.orgs["institution/own"].id)
    institution.pi_concurrent_trial_threshold = 2
    await db.commit()
    for _ in range(2):
        await engagement(db, world, pi_name="李明")
    beds = BedsService(db)
    tto = await tto_of(db, world)
    with pytest.raises(InvalidInput) as refused:
        await beds.create_engagement(tto, msgspec.convert(engagement_body(world, pi_name="李明"), EngagementCreate))
    assert refused.value.errors[0].field == "pi_acknowledged_reason"
    third = await engagement(db, world, pi_name="李明", pi_acknowledged_reason="另两项即将结束入组")
    assert third.pi_warning_reason == "另两项即将结束入组"
    events = await db.scalars(select(AuditEvent).where(AuditEvent.action == "trial_engagement_pi_acknowledged"))
    assert [event.data["reason"] for event in events] == ["另两项即将结束入组"]
    trials = await beds.pi_trials(tto, institution.id, "李明")
    assert len(trials) == 3
    # Another institution's TTO sees none of them.
    assert await beds.pi_trials(await tto_of(db, world, "other"), institution.id, "李明") == []


async def test_the_first_consent_waits_for_all_three_approvals(db, world) -> None:
    beds = BedsService(db)
    opened = await engagement(db, world)
    tto = await tto_of(db, world)
    with pytest.raises(Conflict):
        await beds.transition_engagement(tto, opened.id, EngagementTransitionIn(action="record_first_consent"))
    ready = await all_approved(db, world)
    company = await company_of(db, world)
    with pytest.raises(Forbidden):
        await beds.transition_engagement(company, ready.id, EngagementTransitionIn(action="record_first_consent"))
    moved = await beds.transition_engagement(tto, ready.id, EngagementTransitionIn(action="record_first_consent"))
    await db.commit()
    assert moved.state == "active" and moved.first_consent_on == china_today()
    assert moved.reviews_approved_on == china_today()
