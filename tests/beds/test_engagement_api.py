"""/api/v1/trial-engagements: opening one, its three tracks in parallel to the first consent, the
shared documents, and the refusals (404 outside scope, field errors, 409 out of turn)."""

from __future__ import annotations

from marketplace.accounts.models import Role
from tests.beds.factories import engagement, engagement_body


async def test_an_engagement_in_json_from_opening_to_the_first_consent(client, db, world) -> None:
    tto, company = world.bearer(Role.tto_manager), world.bearer(Role.company_admin)
    created = await client.post("/api/v1/trial-engagements", json=engagement_body(world), headers=tto)
    assert created.status_code == 201, created.text
    body = created.json()
    base = f"/api/v1/trial-engagements/{body['id']}"
    assert body["state"] == "starting" and body["startup"] == {"days": None, "flagged": False}
    assert body["actions"] == ["cancel"]

    consent = await client.post(f"{base}/transitions", json={"action": "record_first_consent"}, headers=tto)
    assert consent.status_code == 409, consent.text

    uploaded = await client.post(
        f"{base}/documents", files={"file": ("方案.txt", "方案摘要".encode(), "text/plain")}, headers=company
    )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    listed = await client.get(f"{base}/documents", headers=tto)
    assert [found["id"] for found in listed.json()] == [document["id"]]
    download = await client.get(f"{base}/documents/{document['id']}", headers=tto)
    assert download.status_code == 200 and download.content == "方案摘要".encode()
    assert download.headers["content-disposition"].startswith("attachment")

    for track in ("approval", "ethics", "contract"):
        submitted = await client.post(f"{base}/reviews/{track}/transitions", json={"action": "submit"}, headers=company)
        assert submitted.status_code == 200, submitted.text
    reviews = (await client.get(f"{base}/reviews", headers=tto)).json()
    assert [review["track"] for review in reviews] == ["approval", "ethics", "contract"]
    assert all(review["state"] == "submitted" for review in reviews)
    assert sum(review["critical"] for review in reviews) == 1
    assert reviews[0]["actions"] == ["start_review", "return"]
    for track in ("approval", "ethics", "contract"):
        step = f"{base}/reviews/{track}/transitions"
        assert (await client.post(step, json={"action": "start_review"}, headers=tto)).status_code == 200
        missing = await client.post(step, json={"action": "approve"}, headers=tto)
        assert missing.status_code == 422 and "reference" in missing.text
        assert (await client.post(step, json={"action": "approve", "reference": f"{track}-1"}, headers=tto)).status_code == 200

    shown = (await client.get(base, headers=company)).json()
    assert shown["reviews_approved_on"] is not None and shown["startup"]["days"] == 0
    consent = await client.post(f"{base}/transitions", json={"action": "record_first_consent"}, headers=tto)
    assert consent.status_code == 200, consent.text
    assert consent.json()["state"] == "active" and consent.json()["first_consent_on"] == shown["reviews_approved_on"]


async def test_refusals(client, db, world) -> None:
    tto = world.bearer(Role.tto_manager)
    other = await engagement(db, world, "other")
    assert (await client.get(f"/api/v1/trial-engagements/{other.id}", headers=tto)).status_code == 404
    base = f"/api/v1/trial-engagements/{other.id}"
    assert (await client.post(f"{base}/reviews/ethics/transitions", json={"action": "submit"}, headers=tto)).status_code == 404
    mine = await engagement(db, world)
    unknown_track = await client.post(
        f"/api/v1/trial-engagements/{mine.id}/reviews/budget/transitions", json={"action": "submit"}, headers=tto
    )
    assert unknown_track.status_code == 422
    bad = await client.post("/api/v1/trial-engagements", json=engagement_body(world, phase="V"), headers=tto)
    assert bad.status_code == 400
    not_a_company = await client.post(
        "/api/v1/trial-engagements", json=engagement_body(world, company_id=str(world.orgs["institution/own"].id)), headers=tto
    )
    assert not_a_company.status_code == 422 and "company_id" in not_a_company.text
    wrong_type = await client.post(
        f"/api/v1/trial-engagements/{mine.id}/documents", files={"file": ("x.pdf", b"not a pdf", "application/pdf")}, headers=tto
    )
    assert wrong_type.status_code == 415
    listed = await client.get("/api/v1/trial-engagements", headers=tto)
    assert [found["id"] for found in listed.json()] == [str(mine.id)]
