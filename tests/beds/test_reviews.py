"""The three review tracks side by side: steps, working days against targets, the critical path,
ethics by recognition of the lead site's approval, and one set of shared documents."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from marketplace.beds.engagement_schemas import ReviewTransitionIn
from marketplace.beds.engagements import EngagementTerms
from marketplace.beds.models import Project
from marketplace.beds.models import Review as ReviewRow
from marketplace.beds.reviews import track_views, working_days_between
from marketplace.beds.services import BedsService
from marketplace.errors import DomainError, Forbidden, InvalidInput, NotFound
from tests.beds.factories import company_of, engagement, review_step, tto_of


def row(track: str, state: str, submitted: date | None, approved: date | None = None, target: int = 14) -> ReviewRow:
    return ReviewRow(
        id=uuid.uuid4(),
        track=track,
        state=state,
        target_working_days=target,
        first_submitted_on=submitted,
        approved_on=approved,
    )


def test_days_so_far_count_chinas_working_days_and_skip_the_national_holiday() -> None:
    # 2026-09-30 (Wed) to 2026-10-09 (Fri): 1–7 October is the National Day holiday, the 10th a make-up day.
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0
    assert working_days_between(date(2026, 11, 2), date(2026, 11, 9)) == 5


def test_overrun_and_the_critical_path() -> None:
    today = date(2026, 11, 30)
    views = track_views(
        [
            row("approval", "in_review", date(2026, 11, 2), target=60),
            row("ethics", "in_review", date(2026, 11, 2), target=14),
            row("contract", "approved", date(2026, 11, 2), date(2026, 11, 9), target=30),
        ],
        today,
    )
    by_track = {view.review.track: view for view in views}
    assert by_track["ethics"].days_so_far == 20 and by_track["ethics"].overrun_days == 6
    assert by_track["approval"].overrun_days == 0
    assert by_track["contract"].days_so_far == 5
    # Approval and ethics are both open with 20 days: the longer target (approval) holds the start back.
    assert [view.review.track for view in views if view.critical] == ["approval"]
    done = track_views(
        [
            row("approval", "approved", date(2026, 11, 2), date(2026, 11, 20)),
            row("ethics", "approved", date(2026, 11, 2), date(2026, 11, 24)),
            row("contract", "approved", date(2026, 11, 2), date(2026, 11, 9)),
        ],
        today,
    )
    assert [view.review.track for view in done if view.critical] == ["ethics"]


async def test_a_track_runs_submit_review_return_resubmit_approve(db, world) -> None:
    opened = await engagement(db, world)
    beds = BedsService(db)
    company = await company_of(db, world)
    review = await beds.transition_review(company, opened.id, "ethics", ReviewTransitionIn(action="submit"))
    first = review.first_submitted_on
    assert first is not None
    with pytest.raises(Forbidden):  # only the institution reviews
        await beds.transition_review(company, opened.id, "ethics", ReviewTransitionIn(action="start_review"))
    await db.commit()
    await review_step(db, world, opened.id, "ethics", "start_review")
    with pytest.raises(InvalidInput):
        await review_step(db, world, opened.id, "ethics", "return")  # no reason
    await review_step(db, world, opened.id, "ethics", "return", reason="知情同意书需修改")
    review = await review_step(db, world, opened.id, "ethics", "submit")
    assert review.first_submitted_on == first
    await review_step(db, world, opened.id, "ethics", "start_review")
    with pytest.raises(InvalidInput) as refused:
        await review_step(db, world, opened.id, "ethics", "approve")
    assert refused.value.errors[0].field == "reference"
    review = await review_step(db, world, opened.id, "ethics", "approve", reference="伦审2026-118")
    assert review.state == "approved" and review.reference == "伦审2026-118" and review.approved_on
    with pytest.raises(NotFound):  # another institution's TTO
        await beds.transition_review(await tto_of(db, world, "other"), opened.id, "approval", ReviewTransitionIn(action="submit"))


async def test_ethics_by_recognising_the_lead_sites_approval(db, world) -> None:
    beds = BedsService(db)
    company_id = world.orgs["company/own"].id
    project = Project(id=uuid.uuid4(), company_id=company_id, title="多中心项目", phase="III", sponsor="本企业")
    db.add(project)
    await db.flush()
    terms = {"company_id": company_id, "title": "多中心Ⅲ期", "phase": "III", "sponsor": "本企业", "project_id": project.id}
    lead = await beds.open_engagement(
        None, EngagementTerms(institution_id=world.orgs["institution/other"].id, pi_name="王", centre_role="lead", **terms)
    )
    centre = await beds.open_engagement(
        None, EngagementTerms(institution_id=world.orgs["institution/own"].id, pi_name="赵", centre_role="participating", **terms)
    )
    await db.commit()
    recognise = {"recognised_engagement_id": lead.id}
    with pytest.raises(InvalidInput):  # the lead's ethics is not approved yet
        await review_step(db, world, centre.id, "ethics", "recognise", **recognise)
    with pytest.raises(InvalidInput):  # only ethics is recognised
        await review_step(db, world, centre.id, "contract", "recognise", **recognise)
    for action in ("submit", "start_review"):
        await review_step(db, world, lead.id, "ethics", action, "other")
    await review_step(db, world, lead.id, "ethics", "approve", "other", reference="组长伦审-07")
    review = await review_step(db, world, centre.id, "ethics", "recognise", **recognise)
    assert review.state == "approved" and review.reference == "组长伦审-07" and review.recognised_engagement_id == lead.id


async def test_the_last_approval_starts_the_clock(db, world) -> None:
    opened = await engagement(db, world)
    for track in ("approval", "ethics", "contract"):
        await review_step(db, world, opened.id, track, "submit")
        await review_step(db, world, opened.id, track, "start_review")
    await review_step(db, world, opened.id, "approval", "approve", reference="立项-1")
    await review_step(db, world, opened.id, "ethics", "approve", reference="伦审-1")
    found = await BedsService(db).engagement(await tto_of(db, world), opened.id)
    assert found.reviews_approved_on is None
    await review_step(db, world, opened.id, "contract", "approve", reference="合同-1")
    found = await BedsService(db).engagement(await tto_of(db, world), opened.id)
    assert found.reviews_approved_on is not None


async def test_one_set_of_documents_serves_every_track(db, world) -> None:
    opened = await engagement(db, world)
    beds = BedsService(db)
    company = await company_of(db, world)
    document = await beds.upload_document(company, opened.id, "../方案.txt", "临床试验方案摘要".encode())
    await db.commit()
    assert document.file_name == "方案.txt" and document.content_type.startswith("text/plain")
    listed = await beds.documents(await tto_of(db, world), opened.id)
    assert [found.id for found in listed] == [document.id]
    for name, content, status in (("x.exe", b"MZ", 415), ("假.pdf", "不是PDF".encode(), 415), ("空.txt", b"", 422)):
        with pytest.raises(DomainError) as refused:
            await beds.upload_document(company, opened.id, name, content)
        assert refused.value.status_code == status
    with pytest.raises(NotFound):
        await beds.document(await company_of(db, world, "other"), opened.id, document.id)
