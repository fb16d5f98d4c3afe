"""A company's performance record: per agreement, items paid on time, paid late, late now and in
default; its administrator, every institution's TTO and the platform see it (titles only where
they see the agreement). The institution's agreements in default."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.errors import Forbidden, NotFound
from marketplace.licensing.services import LicensingService
from tests.licensing.factories import licence_in_force, obligations, settle
from tests.support.web import login


async def record_for(db, world, role: Role, company_id, today):
    principal = await world.principal(db, world.emails[role])
    return await LicensingService(db).performance_record(principal, company_id, today)


async def test_items_count_as_paid_on_time_paid_late_late_and_in_default(client, db, world) -> None:
    agreement = await licence_in_force(db, world)
    upfront, first, second, milestone = await obligations(db, agreement.id)
    assert milestone.state == "pending"  # not due yet: not counted
    assert upfront.due_on and first.due_on and second.due_on
    await settle(db, upfront, upfront.due_on)
    await settle(db, first, first.due_on + timedelta(days=3))
    company_id = world.orgs["company/own"].id

    late = await record_for(db, world, Role.company_admin, company_id, second.due_on + timedelta(days=5))
    counts = late.agreements[0].counts
    assert (counts.paid_on_time, counts.paid_late, counts.late, counts.in_default) == (1, 1, 1, 0)
    assert counts.overdue_fen == second.amount_fen and late.totals == counts

    defaulted = await record_for(db, world, Role.company_admin, company_id, second.due_on + timedelta(days=31))
    counts = defaulted.agreements[0].counts
    assert (counts.late, counts.in_default) == (0, 1)
    assert defaulted.agreements[0].title == agreement.title


async def test_every_institution_sees_a_company_record_but_only_its_own_titles(client, db, world) -> None:
    agreement = await licence_in_force(db, world)
    company_id = world.orgs["company/own"].id
    today = agreement.starts_on
    own = await record_for(db, world, Role.tto_staff, company_id, today)
    assert own.agreements[0].title == agreement.title

    other_tto = await LicensingService(db).performance_record(
        await world.principal(db, "admin@institution.other.test"), company_id, today
    )
    assert [a.agreement_id for a in other_tto.agreements] == [agreement.id]
    assert other_tto.agreements[0].title is None  # the deal itself is not theirs to read
    assert (await record_for(db, world, Role.platform_analyst, company_id, today)).agreements[0].title == agreement.title


async def test_who_may_not_read_a_record(client, db, world) -> None:
    company_id = world.orgs["company/own"].id
    today = (await licence_in_force(db, world)).starts_on
    with pytest.raises(Forbidden):
        await record_for(db, world, Role.company_member, company_id, today)
    with pytest.raises(Forbidden):
        await record_for(db, world, Role.inventor, company_id, today)
    with pytest.raises(NotFound):
        await record_for(db, world, Role.company_admin, world.orgs["company/other"].id, today)
    with pytest.raises(NotFound):  # not a company
        await record_for(db, world, Role.tto_staff, world.orgs["institution/own"].id, today)


async def test_the_institution_sees_its_agreements_in_default(client, db, world) -> None:
    agreement = await licence_in_force(db, world, grace_days=10)
    upfront = (await obligations(db, agreement.id))[0]
    assert upfront.due_on is not None
    service = LicensingService(db)
    tto = await world.principal(db, world.emails[Role.tto_manager])
    assert await service.agreements_in_default(tto, upfront.due_on + timedelta(days=10)) == []
    found = await service.agreements_in_default(tto, upfront.due_on + timedelta(days=11))
    assert [a.agreement_id for a in found] == [agreement.id]
    assert [item.obligation_id for item in found[0].items] == [upfront.id] and not found[0].items[0].marked
    other = await world.principal(db, "admin@institution.other.test")
    assert await service.agreements_in_default(other, upfront.due_on + timedelta(days=11)) == []
    with pytest.raises(Forbidden):
        await service.agreements_in_default(await world.principal(db, world.emails[Role.company_admin]))


async def test_the_record_in_the_api_and_the_pages(client, db, world) -> None:
    agreement = await licence_in_force(db, world)
    company_id = world.orgs["company/own"].id
    answer = await client.get(f"/api/v1/companies/{company_id}/performance", headers=world.bearer(Role.tto_staff))
    assert answer.status_code == 200
    body = answer.json()
    assert body["company_id"] == str(company_id) and body["agreements"][0]["agreement_id"] == str(agreement.id)
    assert set(body["totals"]) == {"paid_on_time", "paid_late", "late", "in_default", "overdue_fen"}
    member = await client.get(f"/api/v1/companies/{company_id}/performance", headers=world.bearer(Role.company_member))
    assert member.status_code == 403


async def test_the_pages_show_defaults_to_the_tto_and_the_record_to_another_institution(client, db, world) -> None:
    start = china_today() - timedelta(days=60)  # the upfront fee, due that day, is past the 30 days of grace
    agreement = await licence_in_force(db, world, title="默认演示成果", starts_on=start.isoformat())
    company_id = world.orgs["company/own"].id

    await login(client, world.emails[Role.tto_manager])
    page = await client.get("/agreements/defaults")
    assert page.status_code == 200
    assert f"/agreements/{agreement.id}" in page.text and "入门费" in page.text and "500,000.00" in page.text
    assert f"/companies/{company_id}/performance" in page.text

    await login(client, "admin@institution.other.test")
    assert "没有违约的协议" in (await client.get("/agreements/defaults")).text
    record = await client.get(f"/companies/{company_id}/performance")
    assert record.status_code == 200
    assert "与其他机构的协议" in record.text and agreement.title not in record.text
