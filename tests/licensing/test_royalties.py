"""Royalty reports and milestones through the service: the royalty is the rate's floor in fen and
falls due after the reporting days; periods never overlap; a completed contract year below the
annual minimum owes the difference; a pay-later licence's first revenue (or its milestone)
converts it; a milestone of the schedule falls due when reached."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from dateutil.relativedelta import relativedelta

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.licensing.royalties import royalty_of
from marketplace.licensing.schemas import MilestoneReachedIn
from marketplace.licensing.services import LicensingService
from tests.licensing.factories import in_force, licence_body, money_result, move, obligations, party, pay_later_body, report


def period(start, first: int, last: int, net_sales: int) -> dict:
    return {
        "period_start": (start + timedelta(days=first)).isoformat(),
        "period_end": (start + timedelta(days=last)).isoformat(),
        "net_sales_fen": net_sales,
    }


async def licence_since(db, world, days: int, **terms):
    result = await money_result(db, world)
    start = china_today() - timedelta(days=days)
    body = licence_body("non_exclusive", result_ids=[str(result.id)], starts_on=start.isoformat(), instalments=[], **terms)
    return await in_force(db, world, body), start


def test_the_royalty_is_rounded_down_to_the_fen() -> None:
    assert royalty_of(1_234_567, 300) == 37_037  # 37,037.01 fen
    assert royalty_of(33, 300) == 0 and royalty_of(34, 300) == 1


async def test_a_report_makes_its_royalty_due_and_periods_never_overlap(db, world) -> None:
    agreement, start = await licence_since(db, world, 100, milestones=[], annual_minimum_fen=None)
    agreement_id = agreement.id
    found = await report(db, world, agreement_id, period(start, 0, 29, 1_234_567))
    assert found.royalty_fen == 37_037 and not found.first_revenue
    royalty = next(item for item in await obligations(db, agreement_id) if item.kind == "royalty")
    assert royalty.amount_fen == 37_037 and royalty.state == "due" and royalty.royalty_report_id == found.id
    assert royalty.due_on == start + timedelta(days=29 + agreement.report_due_days)

    with pytest.raises(InvalidInput) as overlapping:
        await report(db, world, agreement_id, period(start, 20, 40, 1))
    assert {error.field for error in overlapping.value.errors} == {"period_start", "period_end"}
    await db.rollback()
    with pytest.raises(InvalidInput) as future:
        await report(db, world, agreement_id, period(start, 30, 200, 1))
    assert [error.field for error in future.value.errors] == ["period_end"]
    await db.rollback()
    nothing = await report(db, world, agreement_id, period(start, 30, 59, 0))  # no sales: nothing due
    assert nothing.royalty_fen == 0
    assert [item.kind for item in await obligations(db, agreement_id)].count("royalty") == 1
    tto = await party(db, world, "institution")
    reports = await LicensingService(db).royalty_reports(tto, agreement_id)
    assert [item.net_sales_fen for item in reports] == [1_234_567, 0]


async def test_a_completed_year_below_the_annual_minimum_owes_the_difference(db, world) -> None:
    agreement, start = await licence_since(db, world, 800, milestones=[], annual_minimum_fen=10_000_000)
    agreement_id = agreement.id
    year_end = start + relativedelta(years=1) - timedelta(days=1)
    await report(db, world, agreement_id, period(start, 0, 89, 1_000_000))
    assert not [item for item in await obligations(db, agreement_id) if item.kind == "annual_minimum"]
    await report(db, world, agreement_id, period(start, 90, (year_end - start).days, 2_000_000))  # completes the year
    (minimum,) = [item for item in await obligations(db, agreement_id) if item.kind == "annual_minimum"]
    assert minimum.amount_fen == 10_000_000 - 30_000 - 60_000 and minimum.due_on == year_end + timedelta(days=30)
    await report(db, world, agreement_id, period(start, (year_end - start).days + 1, 400, 1))
    assert [item.kind for item in await obligations(db, agreement_id)].count("annual_minimum") == 1  # once a year


async def test_the_first_revenue_converts_a_pay_later_licence_and_royalties_follow_the_revenue_share(db, world) -> None:
    result = await money_result(db, world)
    start = china_today() - timedelta(days=100)
    agreement = await in_force(db, world, pay_later_body(result_ids=[str(result.id)], starts_on=start.isoformat()))
    agreement_id = agreement.id
    quiet = await report(db, world, agreement_id, period(start, 0, 9, 0))
    assert not quiet.first_revenue and agreement.state == "in_use"

    first = await report(db, world, agreement_id, period(start, 10, 19, 5_000_000))
    agreement = await LicensingService(db).get(await party(db, world, "company"), agreement_id)
    assert first.first_revenue and first.royalty_fen == 0  # the use period is free
    assert agreement.state == "converted" and agreement.conversion_trigger == "first_revenue"
    assert await obligations(db, agreement_id) == []
    with pytest.raises(Conflict):  # the payment mode comes first
        await report(db, world, agreement_id, period(start, 20, 29, 1_000_000))
    await db.rollback()

    await move(db, world, agreement_id, "choose_payment_mode", Role.company_admin, payment_mode="revenue_share")
    with pytest.raises(InvalidInput):  # before the conversion: the free use period
        await report(db, world, agreement_id, period(start, 20, 29, 1_000_000))
    await db.rollback()
    shared = await report(db, world, agreement_id, period(start, 100, 100, 1_000_000))
    assert shared.royalty_fen == 30_000
    assert [(item.kind, item.amount_fen) for item in await obligations(db, agreement_id)] == [("royalty", 30_000)]


async def test_a_milestone_reached_falls_due_or_converts_a_pay_later_licence(db, world) -> None:
    agreement, _start = await licence_since(db, world, 10)
    agreement_id = agreement.id
    result = await money_result(db, world)
    licence_id = (await in_force(db, world, pay_later_body(result_ids=[str(result.id)]))).id
    (milestone,) = [item for item in await obligations(db, agreement_id) if item.kind == "milestone"]
    milestone_id = milestone.id
    service = LicensingService(db)
    today = china_today()
    reached = msgspec.convert({"obligation_id": str(milestone_id), "reached_on": today.isoformat()}, MilestoneReachedIn)
    with pytest.raises(Forbidden):
        await service.reach_milestone(await world.principal(db, world.emails[Role.company_member]), agreement_id, reached)
    with pytest.raises(NotFound):
        await service.reach_milestone(await party(db, world, "company", "other"), agreement_id, reached)
    await service.reach_milestone(await party(db, world, "company"), agreement_id, reached)
    await db.commit()
    (milestone,) = [item for item in await obligations(db, agreement_id) if item.kind == "milestone"]
    assert milestone.state == "due" and milestone.reached_on == today and milestone.due_on == today + timedelta(days=30)
    with pytest.raises(Conflict):
        await service.reach_milestone(await party(db, world, "institution"), agreement_id, reached)
    await db.rollback()
    with pytest.raises(Conflict):  # no item named: only a pay-later licence converts
        await service.reach_milestone(await party(db, world, "institution"), agreement_id, MilestoneReachedIn(reached_on=today))
    await db.rollback()

    await service.reach_milestone(await party(db, world, "company"), licence_id, MilestoneReachedIn(reached_on=today))
    await db.commit()
    licence = await service.get(await party(db, world, "company"), licence_id)
    assert licence.state == "converted" and licence.conversion_trigger == "milestone"
