"""A small history of this year for the API and report tests, made through the domains' services:
the own institution (本院) with a request accepted, an exclusive licence signed from it and income
received; the other institution (他院) with a pay-later licence and income; a ward of 本院."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.analytics.schemas import DashboardQuery
from marketplace.analytics.services import AnalyticsService
from marketplace.db import china_today
from tests.ledger.factories import MANAGER_OTHER, income_body, record, result_with_inventor
from tests.licensing.factories import agreed_match, draft, in_force, licence_body, pay_later_body, published_result, signed
from tests.support.world import World

OWN_INCOME_FEN = 12_345_600
OTHER_INCOME_FEN = 7_000_000


@dataclass(frozen=True)
class History:
    year: int
    own_licence_title: str


async def this_year(db: AsyncSession, world: World) -> History:
    today = china_today()
    listing = await published_result(db, world, title_zh="肝癌早筛试剂盒")
    match = await agreed_match(db, world, listing.id)
    body = licence_body(match_request_id=str(match.id))
    await signed(db, world, (await draft(db, world, body)).id)
    other = await published_result(db, world, "other", title_zh="心衰远程监测算法")
    await in_force(db, world, pay_later_body(result_ids=[str(other.id)]), relation="other")
    own_result = await result_with_inventor(db, world, "own")
    manager = await world.principal(db, world.emails[Role.tto_manager])
    await record(db, manager, income_body(own_result.id, amount=OWN_INCOME_FEN, received_on=today.isoformat()))
    other_result = await result_with_inventor(db, world, "other")
    other_manager = await world.principal(db, MANAGER_OTHER)
    await record(db, other_manager, income_body(other_result.id, amount=OTHER_INCOME_FEN, received_on=today.isoformat()))
    await AnalyticsService(db).refresh()
    await db.commit()
    return History(year=today.year, own_licence_title="肝癌早筛试剂盒")


FIGURES = ("summary", "funnel", "match-rates", "times", "pay-later", "income", "beds", "deals")


async def service_figure(db, world, role: Role, name: str, query: DashboardQuery) -> dict:
    """The same figure straight from the service, for whom the token belongs to."""
    analytics = AnalyticsService(db)
    figures = analytics.figures(analytics.scope(await world.principal(db, world.emails[role]), query))
    found = {
        "summary": lambda: analytics.summary(figures),
        "funnel": figures.funnel,
        "match-rates": figures.match_rates,
        "times": figures.times,
        "pay-later": figures.pay_later,
        "income": lambda: analytics.income(figures),
        "beds": lambda: analytics.beds(figures),
        "deals": lambda: analytics.deals(figures),
    }[name]
    return msgspec.to_builtins(await found())
