"""Small data for the dashboard's pages: income at both institutions of the test world (the own
one in 上海, the other in 北京), a licence in force at each, and the reporting views refreshed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.analytics.services import AnalyticsService
from tests.ledger.factories import MANAGER_OTHER, income_body, record, result_with_inventor
from tests.licensing.factories import matrix_agreement
from tests.support.world import World

OWN_INCOME = 1_234_567_00  # ¥1,234,567.00, received in Q1 2026
OTHER_INCOME = 9_876_543_00  # ¥9,876,543.00, received in Q3 2026
OWN_NAME = "本院"


async def income_at(db: AsyncSession, world: World, relation: str, amount: int, received_on: str, ref: str) -> None:
    result = await result_with_inventor(db, world, relation)
    manager = world.emails[Role.tto_manager] if relation == "own" else MANAGER_OTHER
    await record(db, await world.principal(db, manager), income_body(result.id, amount, received_on=received_on, source_ref=ref))


async def refresh(db: AsyncSession) -> None:
    await AnalyticsService(db).refresh()
    await db.commit()


async def two_institutions(db: AsyncSession, world: World) -> None:
    """Income at both institutions in different quarters of 2026, a licence at each, refreshed."""
    await income_at(db, world, "own", OWN_INCOME, "2026-02-10", "HT-OWN-1")
    await income_at(db, world, "other", OTHER_INCOME, "2026-08-20", "HT-OTHER-1")
    await matrix_agreement(db, world, Role.tto_manager, "own")
    await matrix_agreement(db, world, Role.tto_manager, "other")
    await refresh(db)


async def matrix_dashboard(db: AsyncSession, world: World, role, relation: str) -> dict:
    """The tenancy matrix's data: one income at each institution, refreshed (once per test)."""
    if "dashboard" not in world.scratch:
        await income_at(db, world, "own", OWN_INCOME, "2026-02-10", "HT-MATRIX-OWN")
        await income_at(db, world, "other", OTHER_INCOME, "2026-08-20", "HT-MATRIX-OTHER")
        await refresh(db)
        world.scratch["dashboard"] = True
    return {}
