"""The JSON API of meeting requests and the schedule over HTTP: a duplicate pair is a 409 (not a
500), answers carry the caller's actions, the schedule shows times and tables, the run its summary."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.events.models import EventState
from tests.events.meeting_factories import present, teams


async def test_ask_answer_and_schedule_over_the_api(client, db, world) -> None:
    t = await teams(db, world)
    listing_id = await present(db, world, t.event, t.institution)
    base = f"/api/v1/events/{t.event.id}"
    company, tto, admin = world.bearer(Role.company_admin), world.bearer(Role.tto_manager), world.bearer(Role.platform_admin)
    body = {"to_registration_id": str(t.institution.id), "listing_id": str(listing_id), "message": "想了解"}
    created = await client.post(f"{base}/meeting-requests", json=body, headers=company)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["actions"] == ["withdraw"] and request["meeting"] is None
    again = await client.post(f"{base}/meeting-requests", json={"to_registration_id": str(t.company.id)}, headers=tto)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "to_registration_id"
    received = await client.get(f"{base}/meeting-requests", headers=tto)
    assert [r["id"] for r in received.json()] == [request["id"]]
    assert received.json()[0]["actions"] == ["accept", "decline"]
    accepted = await client.post(f"{base}/meeting-requests/{request['id']}/transitions", json={"action": "accept"}, headers=tto)
    assert accepted.status_code == 200 and accepted.json()["meeting"]["state"] == "unplaced"

    t.event.state = EventState.scheduling
    await db.commit()
    ran = await client.post(f"{base}/schedule", json={"move_confirmed": False}, headers=admin)
    assert ran.status_code == 200 and ran.json()["placed"] == 1 and ran.json()["unplaced"] == []
    own = (await client.get(f"{base}/schedule", headers=company)).json()
    (meeting,) = own["meetings"]
    assert meeting["table"] == "A1" and meeting["starts_at"].endswith("+08:00") and meeting["company_name"] == "本企业"
    # The institution's inventor sees the event but no meeting of its own.
    assert (await client.get(f"{base}/schedule", headers=world.bearer(Role.inventor))).json()["meetings"] == []
    refused = await client.post(f"{base}/schedule", json={}, headers=company)
    assert refused.status_code == 403
    missing = await client.get(f"{base}/meeting-requests/{t.institution.id}", headers=company)
    assert missing.status_code == 404
