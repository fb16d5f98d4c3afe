"""An institution's health-technician count (卫生技术人员), which the dashboards divide transfer income
by: set at creation by the platform admin, changed by its TTO manager, audited, checked."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent


async def test_the_tto_manager_sets_it_and_the_change_is_audited(client, db, world) -> None:
    org_id = world.orgs["institution/own"].id
    path = f"/api/v1/organizations/{org_id}"
    manager = world.bearer(Role.tto_manager)
    assert (await client.patch(path, json={"health_technicians": 1800}, headers=world.bearer(Role.tto_staff))).status_code == 403
    for value in (-1, 1_000_001, "many"):
        bad = await client.patch(path, json={"health_technicians": value}, headers=manager)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "health_technicians"
    empty = await client.patch(path, json={}, headers=manager)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "response_working_days"
    saved = await client.patch(path, json={"health_technicians": 1800}, headers=manager)
    assert saved.status_code == 200 and saved.json()["health_technicians"] == 1800
    assert saved.json()["response_working_days"] == world.orgs["institution/own"].response_working_days
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "health_technicians_changed"))
    assert event is not None and (event.data["before"], event.data["after"]) == (None, 1800)
    company = await client.patch(
        f"/api/v1/organizations/{world.orgs['company/own'].id}",
        json={"health_technicians": 5},
        headers=world.bearer(Role.platform_admin),
    )
    assert company.status_code == 422 and company.json()["errors"][0]["field"] == "health_technicians"


async def test_the_platform_admin_gives_it_when_creating_an_institution(client, world) -> None:
    from tests.support.web import login

    await login(client, world.emails[Role.platform_admin])
    form = {
        "kind": "institution", "name_zh": "新医院", "city": "杭州", "grade": "3A", "approved_beds": "800",
        "research_beds": "40", "pi_concurrent_trial_threshold": "5", "health_technicians": "-3",
    }  # fmt: skip
    page = await client.post("/organizations", data=form, headers={"x-csrftoken": client.cookies.get("csrftoken", "")})
    assert page.status_code == 422 and "health_technicians-error" in page.text
