"""The demo's research beds and trials (marketplace/demo/data/beds.yaml): wards on each institution
with logins, allocations in every state with one ward nearly full, 星禾's multi-centre project and
engagements in each review situation, and a PI over 京华's threshold."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.beds.models import (
    STARTUP_FLAG_DAYS,
    AllocationState,
    BedAllocation,
    CentreRole,
    Project,
    Review,
    ReviewState,
    TrialEngagement,
    Ward,
)
from marketplace.beds.services import BedsService
from marketplace.beds.startup import flagged
from marketplace.db import china_today
from marketplace.demo import load_demo_data

WITH_LOGINS = ("浦江医学中心", "京华临床研究医院", "钱塘大学附属第一医院")


async def test_the_demo_beds_cover_wards_allocations_projects_and_review_situations(client, db) -> None:
    assert await load_demo_data(db) is True
    await db.commit()
    today = china_today()
    names = {o.id: o.name_zh for o in await db.scalars(select(Organization))}

    wards = list(await db.scalars(select(Ward)))
    assert {names[w.institution_id] for w in wards} == set(WITH_LOGINS)

    allocations = list(await db.scalars(select(BedAllocation)))
    assert {a.state for a in allocations} == set(AllocationState)
    held = (AllocationState.approved, AllocationState.active)

    def free(ward: Ward, day) -> int:
        return ward.beds - sum(
            a.beds for a in allocations if a.ward_id == ward.id and a.state in held and a.starts_on <= day <= a.ends_on
        )

    nearly_full = [w for w in wards if sum(free(w, today + timedelta(days=d)) <= 2 for d in range(90)) > 45]
    assert nearly_full

    [project] = list(await db.scalars(select(Project)))
    assert names[project.company_id] == "星禾生物医药有限公司"
    centres = list(await db.scalars(select(TrialEngagement).where(TrialEngagement.project_id == project.id)))
    by_name = {names[c.institution_id]: c for c in centres}
    assert len(centres) == 4 and by_name["浦江医学中心"].centre_role == CentreRole.lead
    assert {c.centre_role for n, c in by_name.items() if n != "浦江医学中心"} == {CentreRole.participating}

    engagements = list(await db.scalars(select(TrialEngagement)))
    reviews = list(await db.scalars(select(Review)))
    states = {e.id: {r.track: r for r in reviews if r.engagement_id == e.id} for e in engagements}
    stages = {n: {r.state for r in states[c.id].values()} for n, c in by_name.items()}
    assert stages["申江肿瘤医院"] == {ReviewState.not_started}
    assert len({frozenset(s) for s in stages.values()}) == 4  # each centre at its own stage

    assert any({r.state for r in states[e.id].values()} == {ReviewState.in_review} for e in engagements)
    assert states[by_name["京华临床研究医院"].id]["ethics"].recognised_engagement_id == by_name["浦江医学中心"].id
    assert any(r.state == ReviewState.returned for r in reviews)
    late = [e for e in engagements if flagged(e, today)]
    assert late and all((today - e.reviews_approved_on).days > STARTUP_FLAG_DAYS for e in late)
    assert any(e.first_consent_on is not None for e in engagements)

    jinghua = next(i for i, n in names.items() if n == "京华临床研究医院")
    running, threshold = await BedsService(db).pi_over_threshold(jinghua, "陈立华")
    assert threshold == 4 and running == 5
    acknowledged = [e for e in engagements if e.pi_warning_reason]
    assert [e.pi_name for e in acknowledged] == ["陈立华"]
