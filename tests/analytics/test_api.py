"""The JSON API of the dashboards' figures: each answer is the service's figure for the same
filter, a TTO only ever sees its own institution, and a bad filter is a field error."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.analytics.schemas import DashboardQuery
from tests.analytics.report_world import FIGURES, OTHER_INCOME_FEN, OWN_INCOME_FEN, service_figure, this_year


@pytest.mark.parametrize("role", [Role.platform_admin, Role.platform_analyst, Role.tto_manager, Role.tto_staff])
async def test_every_figure_is_the_services(client, db, world, role: Role) -> None:
    history = await this_year(db, world)
    for name in FIGURES:
        answer = await client.get(f"/api/v1/analytics/{name}", params={"year": history.year}, headers=world.bearer(role))
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json() == await service_figure(db, world, role, name, DashboardQuery(year=history.year)), name


async def test_figures_have_the_history(client, db, world) -> None:
    history = await this_year(db, world)
    summary = (
        await client.get("/api/v1/analytics/summary", params={"year": history.year}, headers=world.bearer(Role.platform_admin))
    ).json()
    assert summary["income_fen"] == OWN_INCOME_FEN + OTHER_INCOME_FEN
    assert summary["agreements_signed"] == 2
    assert summary["projects"] == 1
    income = (
        await client.get("/api/v1/analytics/income", params={"year": history.year}, headers=world.bearer(Role.platform_admin))
    ).json()
    assert {i["name"]: i["amount_fen"] for i in income["by_institution"]} == {"本院": OWN_INCOME_FEN, "他院": OTHER_INCOME_FEN}


async def test_a_tto_sees_only_its_own_institution_whatever_it_asks(client, db, world) -> None:
    history = await this_year(db, world)
    other = world.orgs["institution/other"].id
    params = {"year": history.year, "institution": str(other)}
    income = (await client.get("/api/v1/analytics/income", params=params, headers=world.bearer(Role.tto_manager))).json()
    assert [i["name"] for i in income["by_institution"]] == ["本院"]
    assert income["total_fen"] == OWN_INCOME_FEN
    deals = (await client.get("/api/v1/analytics/deals", params=params, headers=world.bearer(Role.tto_staff))).json()
    assert {d["institution"] for d in deals["rows"]} == {"本院"}
    summary = (await client.get("/api/v1/analytics/summary", params=params, headers=world.bearer(Role.tto_manager))).json()
    assert summary["income_fen"] == OWN_INCOME_FEN and summary["agreements_signed"] == 1
    # The platform asking for the other institution gets exactly that one.
    platform = (await client.get("/api/v1/analytics/income", params=params, headers=world.bearer(Role.platform_analyst))).json()
    assert [i["name"] for i in platform["by_institution"]] == ["他院"]


@pytest.mark.parametrize("role", [Role.company_admin, Role.company_member, Role.inventor])
async def test_others_have_no_dashboard(client, db, world, role: Role) -> None:
    for name in FIGURES:
        assert (await client.get(f"/api/v1/analytics/{name}", headers=world.bearer(role))).status_code == 404
    assert (await client.get("/api/v1/reports/annual/2026", headers=world.bearer(role))).status_code == 404


async def test_no_token_is_401(client) -> None:
    assert (await client.get("/api/v1/analytics/summary")).status_code == 401
    assert (await client.get("/api/v1/reports/annual/2026")).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "abc"}, "year"),
        ({"year": "1999"}, "year"),
        ({"quarter": "5", "year": "2026"}, "quarter"),
        ({"start": "2026-02-30"}, "start"),
        ({"kind": "patent"}, "kind"),
        ({"area": "Not An Area"}, "area"),
        ({"institution": "not-a-uuid"}, "institution"),
        ({"city": "x" * 41}, "city"),
    ],
)
async def test_a_bad_filter_is_a_400_naming_the_field(client, world, params: dict, field: str) -> None:
    answer = await client.get("/api/v1/analytics/funnel", params=params, headers=world.bearer(Role.platform_admin))
    assert answer.status_code == 400, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"quarter": "2"}, "quarter"),
        ({"year": "2026", "start": "2026-01-01"}, "year"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "end"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "start"),
    ],
)
async def test_filters_that_break_a_rule_name_the_field(client, world, params: dict, field: str) -> None:
    answer = await client.get("/api/v1/analytics/times", params=params, headers=world.bearer(Role.tto_manager))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_bad_deals_sort_and_page(client, world) -> None:
    for params, field, status in (
        ({"sort": "nope"}, "sort", 422),
        ({"per_page": "0"}, "per_page", 400),
        ({"page": "0"}, "page", 400),
    ):
        answer = await client.get("/api/v1/analytics/deals", params=params, headers=world.bearer(Role.platform_admin))
        assert answer.status_code == status, answer.text
        assert field in [e["field"] for e in answer.json()["errors"]]
