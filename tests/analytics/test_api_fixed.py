"""The API on the fixed small world (fixed_data.py): for the second quarter of 2026, platform-wide,
in one city and for a TTO, every figure the API answers is the service's, and a few known values
come through exactly."""

from __future__ import annotations

import msgspec
import pytest

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.analytics.schemas import DashboardQuery
from tests.analytics.fixed_data import build
from tests.analytics.report_world import FIGURES, service_figure

MILLION = 1_000_000


@pytest.mark.parametrize(
    ("role", "params"),
    [
        (Role.platform_analyst, {"year": "2026", "quarter": "2"}),
        (Role.platform_admin, {"year": "2026", "quarter": "2", "city": "北京"}),
        (Role.platform_admin, {"start": "2026-04-01", "end": "2026-06-30", "kind": "result", "area": "oncology"}),
        (Role.tto_manager, {"year": "2026", "quarter": "2"}),
    ],
)
async def test_every_figure_on_the_fixed_world(client, db, world, role: Role, params: dict) -> None:
    await build(db, world)
    query = msgspec.convert(params, DashboardQuery, strict=False)
    for name in FIGURES:
        answer = await client.get(f"/api/v1/analytics/{name}", params=params, headers=world.bearer(role))
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json() == await service_figure(db, world, role, name, query), name


async def test_known_values_through_the_api(client, db, world) -> None:
    await build(db, world)
    q2 = {"year": "2026", "quarter": "2"}
    summary = (await client.get("/api/v1/analytics/summary", params=q2, headers=world.bearer(Role.platform_admin))).json()
    assert (summary["companies"], summary["projects"], summary["hospitals"], summary["project_centres"]) == (2, 4, 2, 1)
    assert summary["income_fen"] == 60 * MILLION
    funnel = (await client.get("/api/v1/analytics/funnel", params=q2, headers=world.bearer(Role.platform_admin))).json()
    assert [s["count"] for s in funnel["steps"]] == [3, 4, 2, 1, 1, 1]
    # The other institution's TTO sees only its 10 million of the quarter's income.
    other = await client.get(
        "/api/v1/analytics/income", params=q2, headers={"Authorization": f"Bearer {await other_tto_token(db)}"}
    )
    assert other.json()["total_fen"] == 10 * MILLION


async def other_tto_token(db) -> str:
    accounts = AccountService(db)
    user = await accounts.user_by_email("admin@institution.other.test")
    _token, raw = await accounts.create_token(await accounts.principal_for_user(user.id), "fixed")
    await db.commit()
    return raw
