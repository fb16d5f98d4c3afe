"""The demo's research beds and trials (data/beds.yaml), made through the beds service by the people
of each side: wards on the published research-ward listings, bed allocations in every state (one
ward nearly full), 星禾's multi-centre project and engagements in each review situation. Loaded
after licensing; beds is imported inside the functions, as licensing is."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.demo.licensing import DemoDays
from marketplace.demo.tables import table
from marketplace.tenancy import Principal

if TYPE_CHECKING:
    from marketplace.beds.models import TrialEngagement
    from marketplace.beds.services import BedsService

_DATA = table("beds")
WARDS: list[dict] = _DATA["wards"]
ALLOCATIONS: list[dict] = _DATA["allocations"]
PROJECT: dict = _DATA["project"]
ENGAGEMENTS: list[dict] = _DATA["engagements"]
TRACKS = ("approval", "ethics", "contract")
# The sponsor named on a company's requests and engagements, by its people's e-mail domain.
SPONSORS = {"xinghe.example": "星禾生物医药有限公司", "ruijian.example": "睿检诊断科技有限公司"}


def _sponsor(email: str) -> str:
    return SPONSORS[email.split("@")[1]]


async def load_demo_beds(session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime) -> int:
    """Make WARDS, ALLOCATIONS, PROJECT and ENGAGEMENTS; `institutions` maps Chinese names to ids
    (every institution: a project's centre may have no logins). Returns the engagements opened."""
    from marketplace.beds.services import BedsService

    service = BedsService(session)
    demo = DemoDays(session, institutions, now)
    wards = {item["key"]: await _ward(service, demo, item) for item in WARDS}
    for item in ALLOCATIONS:
        await _allocation(service, demo, wards[item["ward"]], item)
    opened = await _project(service, demo)
    for item in ENGAGEMENTS:
        await _engagement(service, demo, item)
        opened += 1
    await session.flush()
    return opened


async def _ward(service: BedsService, demo: DemoDays, item: dict) -> uuid.UUID:
    from marketplace.beds.schemas import WardIn

    institution_id = demo.institutions[item["institution"]]
    tto = await demo.person(item["tto"], institution_id)
    listings, _total = await service.catalog.search(
        tto, kind="resource", type="research_ward", institution_id=institution_id, status="published"
    )
    data = WardIn(
        listing_id=listings[item["listing"]].id,
        name=item["name"],
        specialty=item["specialty"],
        research_beds=item["research_beds"],
        opens_on=demo.day(365),
    )
    return (await service.create_ward(tto, data)).id


async def _allocation(service: BedsService, demo: DemoDays, ward_id: uuid.UUID, item: dict) -> None:
    from marketplace.beds.schemas import AllocationIn, TransitionIn

    company = await demo.person(item["company"])
    starts_on = demo.day(-item["from_day"])
    data = AllocationIn(
        ward_id=ward_id,
        bed_count=item["beds"],
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=item["days"] - 1),
        trial_title=item["title"],
        phase=item["phase"],
        sponsor=_sponsor(item["company"]),
        pi_name=item["pi"],
    )
    allocation = await service.request_allocation(company, data, today=demo.today)
    ward = await service.get_ward(company, ward_id)
    tto = await demo.person(_tto_of(ward.institution_id, demo), ward.institution_id)
    for action in item["steps"]:
        actor = company if action == "cancel" else tto
        reason = item.get("reason", "") if action in ("decline", "cancel") else ""
        await service.transition_allocation(actor, allocation.id, TransitionIn(action=action, reason=reason), now=demo.now)


def _tto_of(institution_id: uuid.UUID, demo: DemoDays) -> str:
    """The TTO manager of a ward's institution, from WARDS."""
    return next(w["tto"] for w in WARDS if demo.institutions[w["institution"]] == institution_id)


async def _project(service: BedsService, demo: DemoDays) -> int:
    from marketplace.beds.project_schemas import CentreIn, ProjectIn

    company = await demo.person(PROJECT["company"])
    created = PROJECT["created_days_ago"]
    project = await service.create_project(
        company,
        ProjectIn(title=PROJECT["title"], phase=PROJECT["phase"], sponsor=PROJECT["sponsor"]),
        now=demo.at(created),
    )
    lead: TrialEngagement | None = None
    for item in PROJECT["centres"]:
        centre = CentreIn(
            institution_id=demo.institutions[item["institution"]],
            centre_role=item["role"],
            pi_name=item["pi"],
            fee_fen=item["fee_fen"],
        )
        engagement = await service.add_centre(company, project.id, centre, now=demo.at(created))
        if item["role"] == "lead":
            lead = engagement
            await service.transition_project(company, project.id, "start", now=demo.at(created))
        if item["steps"]:
            tto = await demo.person(item["tto"], centre.institution_id)
            await _steps(service, demo, engagement, item["steps"], tto=tto, company=company, lead=lead)
    return len(PROJECT["centres"])


async def _engagement(service: BedsService, demo: DemoDays, item: dict) -> None:
    from marketplace.beds.engagement_schemas import EngagementCreate

    institution_id = demo.institutions[item["institution"]]
    tto = await demo.person(item["tto"], institution_id)
    company = await demo.person(item["company"])
    data = EngagementCreate(
        company_id=company.organization_id,
        title=item["title"],
        phase=item["phase"],
        sponsor=_sponsor(item["company"]),
        pi_name=item["pi"],
        pi_acknowledged_reason=item.get("pi_acknowledged_reason", ""),
    )
    engagement = await service.create_engagement(tto, data, now=demo.at(item["created_days_ago"]))
    await _steps(service, demo, engagement, item["steps"], tto=tto, company=company, lead=None)


async def _steps(
    service: BedsService,
    demo: DemoDays,
    engagement: TrialEngagement,
    steps: list[dict],
    *,
    tto: Principal,
    company: Principal,
    lead: TrialEngagement | None,
) -> None:
    """Review steps (the company submits, the TTO answers) and the first consent."""
    from marketplace.beds.engagement_schemas import EngagementTransitionIn, ReviewTransitionIn

    for step in steps:
        when = demo.at(step["days_ago"])
        action = step["action"]
        if action == "consent":
            data = EngagementTransitionIn(action="record_first_consent", first_consent_on=demo.day(step["days_ago"]))
            await service.transition_engagement(tto, engagement.id, data, now=when)
            continue
        actor = company if action == "submit" else tto
        for track in TRACKS if step["track"] == "all" else (step["track"],):
            review = ReviewTransitionIn(
                action=action,
                reason=step.get("reason", ""),
                reference=f"{track.upper()}-{engagement.id.hex[:8]}" if action == "approve" else "",
                recognised_engagement_id=lead.id if action == "recognise" and lead else None,
            )
            await service.transition_review(actor, engagement.id, track, review, now=when)
