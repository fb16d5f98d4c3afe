"""The engagement pages: the three tracks side by side with their days and the critical path, a
step from the page, documents, the first consent stopping the clock, the TTO's list with the
12-week flag, and the PI page."""

from __future__ import annotations

from datetime import timedelta

from marketplace.accounts.models import Organization, Role
from marketplace.db import china_today
from tests.beds.factories import all_approved, engagement
from tests.support.web import csrf_token, login, post_form


async def test_the_engagement_page_runs_the_tracks_and_stops_the_clock(client, db, world) -> None:
    opened = await engagement(db, world)
    await login(client, world.emails[Role.tto_manager])
    page = await client.get(f"/trial-engagements/{opened.id}")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="review-track') == 3 and "critical-path" in html
    assert "立项" in html and "伦理" in html and "合同" in html

    submitted = await post_form(client, f"/trial-engagements/{opened.id}/reviews/ethics/transitions", {"action": "submit"})
    assert submitted.status_code == 302
    await post_form(client, f"/trial-engagements/{opened.id}/reviews/ethics/transitions", {"action": "start_review"})
    refused = await post_form(client, f"/trial-engagements/{opened.id}/reviews/ethics/transitions", {"action": "approve"})
    assert refused.status_code == 422 and "review-track" in refused.text

    uploaded = await client.post(
        f"/trial-engagements/{opened.id}/documents",
        files={"file": ("方案.txt", "方案".encode(), "text/plain")},
        headers={"x-csrftoken": await csrf_token(client)},
        follow_redirects=False,
    )
    assert uploaded.status_code == 302, uploaded.text
    assert "方案.txt" in (await client.get(f"/trial-engagements/{opened.id}")).text

    ready = await all_approved(db, world)
    html = (await client.get(f"/trial-engagements/{ready.id}")).text
    assert 'name="first_consent_on"' in html
    consent = await post_form(
        client,
        f"/trial-engagements/{ready.id}/transitions",
        {"action": "record_first_consent", "first_consent_on": (china_today() + timedelta(days=3)).isoformat()},
    )
    assert consent.status_code == 422  # not a day in the future
    consent = await post_form(client, f"/trial-engagements/{ready.id}/transitions", {"action": "record_first_consent"})
    assert consent.status_code == 302
    html = (await client.get(f"/trial-engagements/{ready.id}")).text
    assert 'name="first_consent_on"' not in html and china_today().isoformat() in html


async def test_the_list_flags_past_12_weeks_and_the_pi_page_lists_running_trials(client, db, world) -> None:
    late = await all_approved(db, world, pi_name="陈静")
    late.reviews_approved_on = china_today() - timedelta(days=90)
    await db.commit()
    institution = await db.get(Organization, world.orgs["institution/own"].id)
    institution.pi_concurrent_trial_threshold = 1
    await db.commit()
    await engagement(db, world, pi_name="陈静", pi_acknowledged_reason="短期重叠")
    await login(client, world.emails[Role.tto_staff])
    listed = await client.get("/trial-engagements")
    assert listed.status_code == 200 and listed.text.count("startup-flagged") == 1
    pi = await client.get(f"/institutions/{institution.id}/pis", params={"name": "陈静"})
    assert pi.status_code == 200 and pi.text.count("/trial-engagements/") == 2 and "短期重叠" in pi.text
    await login(client, world.emails[Role.company_admin])
    assert (await client.get(f"/trial-engagements/{late.id}")).status_code == 200
    await login(client, "admin@company.other.test")
    assert (await client.get(f"/trial-engagements/{late.id}")).status_code == 404
