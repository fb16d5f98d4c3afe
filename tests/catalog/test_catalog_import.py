"""Spreadsheet import and export: dry run by row and column, all rows or none, round trip."""

from __future__ import annotations

import csv
import io

import msgspec
from openpyxl import load_workbook
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing
from marketplace.catalog.schemas import ListingCreate
from marketplace.catalog.spreadsheets import KEYS, headers, parse
from marketplace.spreadsheet_safety import neutralise, unneutralise
from tests.catalog.factories import good_rows, result_body, seed_listing, sheet, upload

H = headers()  # in Chinese, the language of a request without a preference


async def count(db) -> int:
    return await db.scalar(select(func.count()).select_from(Listing))


async def test_the_template_downloads_with_every_column(client) -> None:
    response = await client.get("/api/v1/listings/template", params={"format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    assert header == [H[key] for key in KEYS]
    csv_template = await client.get("/api/v1/listings/template", params={"format": "csv"})
    assert csv_template.content.startswith("\ufeff".encode()) and "标题（中文）" in csv_template.text


async def test_a_dry_run_reports_problems_by_row_and_column_and_writes_nothing(client, db, world) -> None:
    rows = good_rows(4)
    rows[0]["inventors"] = "张三: 50; 李四: 40"  # sheet row 2 (the header is row 1)
    rows[1]["details.beds"] = "forty"  # row 3
    rows[2]["ip_assets"] = "CN123 | invention_patent | CN | filed"  # row 4
    response = await upload(client, world, sheet(rows))
    assert response.status_code == 200
    report = response.json()
    assert report["rows"] == 4 and report["created"] == 0 and report["dry_run"] is True
    problems = {(e["row"], e["column"]) for e in report["errors"]}
    assert problems == {(2, H["inventors"]), (3, H["details.beds"]), (4, H["ip_assets"])}
    assert await count(db) == 0


async def test_one_bad_row_means_no_row_is_written(client, db, world) -> None:
    rows = good_rows(5)
    rows[4]["therapeutic_areas"] = "oncology; astrology"
    response = await upload(client, world, sheet(rows, "csv"), name="listings.csv", dry_run=False)
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["row"] == 6 and problem["column"] == "治疗领域" and problem["field"] == "therapeutic_areas[1]"
    assert problem["message"].startswith("“astrology”不是允许的值。允许的值：肿瘤、")
    assert await count(db) == 0


async def test_a_clean_import_creates_every_row_and_exports_the_same(client, db, world) -> None:
    rows = good_rows(30)
    rows[0]["publish"] = "是"
    response = await upload(client, world, sheet(rows), dry_run=False)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 30
    assert await count(db) == 30
    assert await db.scalar(select(func.count()).where(Listing.status == "published")) == 1
    exported = await client.get("/api/v1/listings/export", params={"format": "csv"}, headers=world.bearer(Role.tto_manager))
    assert exported.status_code == 200
    back = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(back) == 30
    assert {r["标题（中文）"] for r in back} == {r["title_zh"] for r in rows}
    first = next(r for r in back if r["标题（中文）"] == rows[0]["title_zh"])
    assert first["发明人及份额（%）"] == "张晓华: 60; 李明: 40" and first["立即发布"] == "是"
    # The export re-imports cleanly: the format is its own template.
    again = await upload(client, world, exported.content, name="again.csv", dry_run=True)
    assert again.json()["errors"] == []


async def test_bad_files_are_refused_clearly(client, db, world) -> None:
    wrong_type = await upload(client, world, b"hello", name="listings.txt")
    assert wrong_type.status_code == 415
    broken = await upload(client, world, b"not a zip", name="listings.xlsx")
    assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "file"
    columns = await upload(client, world, b"kind,colour\nresult,red\n", name="x.csv")
    assert columns.status_code == 422 and "colour" in columns.json()["detail"]
    too_many = await upload(client, world, sheet(good_rows(2001), "csv"), name="big.csv")
    assert too_many.status_code == 422 and "2000" in too_many.json()["detail"]
    huge = await upload(client, world, b"kind\n" + b"x" * (9 * 1024 * 1024), name="huge.csv")
    assert huge.status_code == 413
    assert await count(db) == 0


async def test_only_the_tto_imports_and_exports(client, world) -> None:
    for role in (Role.inventor, Role.company_admin, Role.platform_analyst):
        assert (await upload(client, world, sheet(good_rows(1)), role=role)).status_code == 403
        assert (await client.get("/api/v1/listings/export", headers=world.bearer(role))).status_code == 403
    assert (await client.get("/api/v1/listings/export")).status_code == 401


FORMULA_TITLES = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "'=already quoted"]


async def test_an_export_runs_no_formula_and_re_imports_the_same_titles(client, db, world) -> None:
    for title in FORMULA_TITLES:
        await seed_listing(db, world.orgs["institution/own"].id, msgspec.convert(result_body(title_zh=title), ListingCreate))
    await db.commit()
    headers = world.bearer(Role.tto_manager)
    as_csv = (await client.get("/api/v1/listings/export", params={"format": "csv"}, headers=headers)).content
    as_xlsx = (await client.get("/api/v1/listings/export", params={"format": "xlsx"}, headers=headers)).content

    csv_titles = [r["标题（中文）"] for r in csv.DictReader(io.StringIO(as_csv.decode("utf-8-sig")))]
    assert all(t.startswith("'") for t in csv_titles) and len(csv_titles) == len(FORMULA_TITLES)
    assert as_csv.decode("utf-8-sig").splitlines()[1].startswith('"科技成果","专利","\'=HYPERLINK(""http://x"",""y"")"')
    cells = list(load_workbook(io.BytesIO(as_xlsx)).worksheets[0].iter_rows(min_row=2))
    title_column = KEYS.index("title_zh")
    assert all(c.data_type != "f" for row in cells for c in row)
    assert [row[title_column].value for row in cells] == csv_titles

    for name, content in (("back.csv", as_csv), ("back.xlsx", as_xlsx)):
        assert [r.data.title_zh for r in parse(name, content) if r.data] == FORMULA_TITLES
        assert (await upload(client, world, content, name=name)).json()["errors"] == []


def test_only_text_is_neutralised_and_the_prefix_is_undone_once() -> None:
    assert neutralise(-5) == -5 and neutralise("a-b") == "a-b" and neutralise("'plain") == "'plain"
    for text in ("=1", "-1", "\r", "''@x"):
        assert unneutralise(str(neutralise(text))) == text
