"""Issue 14, point 5 (the tables): every table of the dashboard as CSV (UTF-8 with a BOM) and XLSX,
with the filters applied, equal to the figures; text that a spreadsheet would run is neutralised."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from marketplace.accounts.models import Role
from marketplace.analytics.filters import DashboardFilter
from marketplace.analytics.page_tables import INSTITUTION_TABLES, PLATFORM_TABLES
from marketplace.analytics.services import AnalyticsService
from tests.analytics.dashboard_factories import OTHER_INCOME, OWN_INCOME, refresh, two_institutions
from tests.support.web import login

YEAR = DashboardFilter(start=date(2026, 1, 1), end=date(2026, 12, 31))


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would misread the Chinese"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]


async def test_every_table_downloads_in_both_formats(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.tto_manager])
    for key in (*PLATFORM_TABLES, *INSTITUTION_TABLES):
        for fmt in ("csv", "xlsx"):
            response = await client.get(f"/analytics/export/{key}.{fmt}?year=2026")
            assert response.status_code == 200, (key, fmt, response.text)
            assert f'filename="{key}-2026-01-01-2026-12-31.{fmt}"' in response.headers["content-disposition"]
            rows = read_csv(response.content) if fmt == "csv" else read_xlsx(response.content)
            assert rows and all(rows[0]), (key, rows)
    for missing in ("nothing.csv", "deals.pdf", "deals", "income_by_month.xls"):
        assert (await client.get(f"/analytics/export/{missing}")).status_code == 404
    # The platform's dashboard has no institution-only tables.
    await login(client, world.emails[Role.platform_admin])
    assert (await client.get("/analytics/export/inbox.csv")).status_code == 404


async def test_the_income_by_institution_equals_the_figures_with_the_filters(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.platform_admin])
    beijing = read_csv((await client.get("/analytics/export/income_by_institution.csv?year=2026&city=北京")).content)
    assert beijing == [
        ["医疗机构", "收入（元）", "卫生技术人员数", "每百名卫生技术人员转化收入（元）"],
        ["他院", "9876543.00", *beijing[1][2:]],
    ]
    both = read_csv((await client.get("/analytics/export/income_by_institution.csv?year=2026")).content)
    assert [row[:2] for row in both[1:]] == [["他院", "9876543.00"], ["本院", "1234567.00"]]

    workbook = read_xlsx((await client.get("/analytics/export/income_by_month.xlsx?year=2026&quarter=1")).content)
    assert workbook[0] == ["月份", "收入（元）"]
    assert [(month, int(amount * 100)) for month, amount in workbook[1:]] == [("2026-02", OWN_INCOME)]

    # The same numbers the service computes for that filter.
    analytics = AnalyticsService(db)
    income = await analytics.income(analytics.figures(YEAR))
    everything = read_xlsx((await client.get("/analytics/export/income_by_month.xlsx?year=2026")).content)
    assert [(m, int(a * 100)) for m, a in everything[1:]] == [(m.month, m.amount_fen) for m in income.by_month]
    assert sum(m.amount_fen for m in income.by_month) == OWN_INCOME + OTHER_INCOME


async def test_a_tto_exports_its_own_institution_only(client, db, world) -> None:
    await two_institutions(db, world)
    await login(client, world.emails[Role.tto_staff])
    other = world.orgs["institution/other"].id
    rows = read_csv((await client.get(f"/analytics/export/income_by_institution.csv?year=2026&institution={other}")).content)
    assert [row[:2] for row in rows[1:]] == [["本院", "1234567.00"]]
    deals = read_csv((await client.get("/analytics/export/deals.csv?year=2026")).content)
    assert deals[1:] and all(row[1] == "本院" for row in deals[1:])


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x.test","点我")', "+1+2", "-3", "@SUM(A1)"])
async def test_formulas_are_neutralised(client, db, world, name: str) -> None:
    await two_institutions(db, world)
    await db.execute(
        text("UPDATE organizations SET name_zh = :name WHERE id = :id"), {"name": name, "id": world.orgs["institution/other"].id}
    )
    await db.commit()
    await refresh(db)
    await login(client, world.emails[Role.platform_admin])
    rows = read_csv((await client.get("/analytics/export/income_by_institution.csv?year=2026&city=北京")).content)
    assert rows[1][0] == "'" + name
    sheet = read_xlsx((await client.get("/analytics/export/deals.xlsx?year=2026&city=北京")).content)
    assert sheet[1][1] == "'" + name
    cells = load_workbook(
        io.BytesIO((await client.get("/analytics/export/income_by_institution.xlsx?year=2026&city=北京")).content)
    ).active
    assert cells.cell(row=5, column=1).data_type == "s"


async def test_a_bad_filter_or_role_gets_no_file(client, world) -> None:
    await login(client, world.emails[Role.platform_admin])
    assert (
        await client.get("/analytics/export/deals.csv?year=abc")
    ).status_code == 422  # a field error (InvalidInput), not a file
    await login(client, world.emails[Role.company_admin])
    assert (await client.get("/analytics/export/deals.csv")).status_code == 404
