"""Issue 16, point 5: the spreadsheet as TTO staff write it — headers in Chinese or English (the old
internal names still read), labels instead of codes, a column per resource-detail field, inventor
shares in percent, every problem of a row at once naming the allowed values, a template with
drop-downs and a sheet of allowed values, and an export that re-imports to the same listings."""

from __future__ import annotations

import csv
import io

import msgspec
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing, TherapeuticArea
from marketplace.catalog.sheet_columns import COLUMNS
from marketplace.catalog.spreadsheets import KEYS, listing_to_values, parse, vocabulary, write

ZH = {c.key: c.header for c in COLUMNS}
RESULT = {
    "kind": "科技成果",
    "type": "专利",
    "title_zh": "外泌体肝癌检测",
    "summary_zh": "血液外泌体检测早期肝癌。",
    "therapeutic_areas": "肿瘤; 消化",
    "contact_email": "tto@hospital.example",
    "stage": "临床前",
    "trl": "4",
    "ownership_model": "医疗机构",
    "licence_options": "独占许可: 入门费50万元; 先使用后付费",
    "inventors": "张晓华: 33.33; 李明: 33.33%; 王芳: 33.34％",
    "ip_assets": "ZL202110234567.8 | 发明专利 | CN | 已授权 | 2021-03-01 | 2041-03-01",
    "publish": "否",
}
WARD = {
    "type": "研究型病房",  # the kind follows from the type
    "title_zh": "肿瘤研究型病房",
    "summary_zh": "40张研究型床位。",
    "therapeutic_areas": "肿瘤",
    "contact_email": "ward@hospital.example",
    "details.beds": "40",
    "details.specialties": "肿瘤; 血液",
    "engagement_modes": "临床试验; 研究者发起研究",
    "pricing_model": "按例数",
    "availability": "可承接",
}
BIOBANK = {
    "kind": "临床资源",
    "type": "生物样本库",
    "title_zh": "肝病样本库",
    "summary_zh": "十万份肝病样本。",
    "details.sample_types": "血清; 组织",
    "details.sample_count": "100000",
    "details.consent_scope": "泛知情同意",
}
ETHICS = {
    "kind": "临床资源",
    "type": "伦理审查服务",
    "title_zh": "伦理审查",
    "summary_zh": "伦理互认。",
    "details.committee": "医学伦理委员会",
    "details.mutual_recognition": "是",
    "details.turnaround_days": "14",
}


def csv_of(rows: list[dict[str, str]]) -> bytes:
    """A CSV with the rows' own headers (as a person would type them), in the order first seen."""
    header = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def vocab_of(db):
    return vocabulary((await db.scalars(select(TherapeuticArea).order_by(TherapeuticArea.position))).all())


def data_of(rows, sort_areas: bool = False) -> list[dict]:
    assert all(not r.errors for r in rows), [r.errors for r in rows]
    found = [msgspec.to_builtins(r.data) for r in rows]
    for item in found if sort_areas else ():  # a listing keeps its areas in the order of their codes
        item["therapeutic_areas"] = sorted(item.get("therapeutic_areas") or [])
    return found


async def post(client, world, content: bytes, name: str = "l.csv", lang: str = "zh-CN", dry_run: bool = True):
    return await client.post(
        "/api/v1/listings/import",
        params={"dry_run": str(dry_run).lower()},
        files={"data": (name, content)},
        headers={**world.bearer(Role.tto_staff), "Accept-Language": lang},
    )


async def test_chinese_and_english_headers_and_labels_and_the_old_codes_read_the_same(client, db, world) -> None:
    vocab = await vocab_of(db)
    chinese = write([RESULT, WARD], "csv")
    assert chinese.decode("utf-8-sig").startswith('"类型","类别","标题（中文）"')
    english = csv_of(
        [
            {
                "Kind": "Result",
                "Type": "Patent",
                "Title (Chinese)": "外泌体肝癌检测",
                "Summary (Chinese)": "血液外泌体检测早期肝癌。",
                "Therapeutic areas": "Oncology; Gastroenterology & hepatology",
                "Contact e-mail": "tto@hospital.example",
                "Development stage": "Preclinical",
                "Technology readiness level (TRL)": "TRL 4",
                "Ownership model": "Institution",
                "Licence options and terms": "Exclusive licence: 入门费50万元; Use first, pay later",
                "Inventors and shares (%)": "张晓华: 33.33; 李明: 33.33%; 王芳: 33.34",
                "IP assets": "ZL202110234567.8 | Invention patent | CN | Granted | 2021-03-01 | 2041-03-01",
            },
            {
                "Kind": "Clinical resource",
                "Type": "Research ward",
                "Title (Chinese)": "肿瘤研究型病房",
                "Summary (Chinese)": "40张研究型床位。",
                "Therapeutic areas": "oncology",
                "Contact e-mail": "ward@hospital.example",
                "Research beds": "40",
                "Specialties": "肿瘤; 血液",
                "Engagement modes": "Clinical trial; Investigator-initiated trial",
                "Pricing model": "Per patient",
                "Availability": "Available",
            },
        ]
    )
    # A file of the old format: internal names as headers, codes, basis points, details as JSON.
    old = csv_of(
        [
            {
                "kind": "result",
                "type": "patent",
                "title_zh": "外泌体肝癌检测",
                "summary_zh": "血液外泌体检测早期肝癌。",
                "therapeutic_areas": "oncology; digestive",
                "contact_email": "tto@hospital.example",
                "stage": "preclinical",
                "trl": "4",
                "ownership_model": "institution",
                "licence_options": "exclusive: 入门费50万元; pay_later",
                "inventors": "张晓华: 3333; 李明: 3333; 王芳: 3334",
                "ip_assets": "ZL202110234567.8 | invention_patent | CN | granted | 2021-03-01 | 2041-03-01",
            },
            {
                "kind": "resource",
                "type": "research_ward",
                "title_zh": "肿瘤研究型病房",
                "summary_zh": "40张研究型床位。",
                "therapeutic_areas": "oncology",
                "contact_email": "ward@hospital.example",
                "details": '{"beds": 40, "specialties": ["肿瘤", "血液"]}',
                "engagement_modes": "clinical_trial; investigator_initiated",
                "pricing_model": "per_patient",
                "availability": "available",
            },
        ]
    )
    expected = data_of(parse("zh.csv", chinese, vocab))
    assert expected[0]["inventors"] == [
        {"name": "张晓华", "share_bp": 3333, "user_id": None},
        {"name": "李明", "share_bp": 3333, "user_id": None},
        {"name": "王芳", "share_bp": 3334, "user_id": None},
    ]
    assert expected[0]["therapeutic_areas"] == ["oncology", "digestive"] and expected[0]["stage"] == "preclinical"
    assert expected[1]["kind"] == "resource" and expected[1]["details"] == {"beds": 40, "specialties": ["肿瘤", "血液"]}
    assert data_of(parse("en.csv", english, vocab)) == expected
    assert data_of(parse("old.csv", old, vocab)) == expected
    for name, content in (("zh.csv", chinese), ("en.csv", english), ("old.csv", old), ("zh.xlsx", write([RESULT, WARD], "xlsx"))):
        report = (await post(client, world, content, name)).json()
        assert report["rows"] == 2 and report["errors"] == [], (name, report)


async def test_each_resource_type_has_its_own_columns_and_others_must_stay_empty(client, db, world) -> None:
    vocab = await vocab_of(db)
    biobank, ethics = data_of(parse("ok.csv", write([BIOBANK, ETHICS], "csv"), vocab))
    assert biobank["details"] == {"sample_types": ["血清", "组织"], "sample_count": 100000, "consent_scope": "broad"}
    assert ethics["details"] == {"committee": "医学伦理委员会", "mutual_recognition": True, "turnaround_days": 14}

    wrong = [
        dict(WARD, **{"details.sample_count": "500"}),  # a biobank's column on a ward
        dict(RESULT, **{"details.beds": "10"}),  # a ward's column on a result
        dict(WARD, **{"details.beds": "四十", "stage": "临床前"}),  # not a number; a result's column
    ]
    report = (await post(client, world, write(wrong, "csv"))).json()
    found = {(e["row"], e["column"]): e["message"] for e in report["errors"]}
    assert found == {
        (2, ZH["details.sample_count"]): "研究型病房不使用此列，请留空。",
        (3, ZH["details.beds"]): "科技成果不使用此列，请留空。",
        (4, ZH["details.beds"]): "“四十”不是整数。",
        (4, ZH["stage"]): "临床资源不使用此列，请留空。",
    }


async def test_inventor_shares_are_percent_stored_as_exact_basis_points(client, db, world) -> None:
    response = await post(client, world, write([RESULT], "xlsx"), "l.xlsx", dry_run=False)
    assert response.status_code == 200, response.text
    listing = await db.scalar(select(Listing).options(selectinload(Listing.inventors)))
    assert [(i.name, i.share_bp) for i in listing.inventors] == [("张晓华", 3333), ("李明", 3333), ("王芳", 3334)]

    rows = [
        dict(RESULT, inventors="张晓华: 60; 李明: 30"),
        dict(RESULT, inventors="张晓华: 40.555; 李明: 60"),
        dict(RESULT, inventors="张晓华 60"),
    ]
    report = (await post(client, world, write(rows, "csv"))).json()
    assert [(e["row"], e["column"], e["message"]) for e in report["errors"]] == [
        (2, "发明人及份额（%）", "发明人份额合计须为 100%（目前为 90%）。"),
        (3, "发明人及份额（%）", "第 1 项 份额：“40.555”不是百分比份额（例如 40 或 40%，最多两位小数）。"),
        (4, "发明人及份额（%）", "每位发明人请写成“姓名: 份额”，例如 张晓华: 60。"),
    ]


async def test_every_problem_of_a_row_is_reported_at_once_naming_the_allowed_values(client, world) -> None:
    row = dict(
        RESULT,
        type="研究型病房",  # a resource type on a result
        stage="二期",
        trl="10",
        therapeutic_areas="肿瘤; 占星",
        licence_options="转让; 租赁: 每年",
        ip_assets="ZL202110234567.8 | 专利权 | CN | 有效",
        inventors="张晓华: 50; 李明: 40",
        publish="也许",
    )
    row["details.beds"] = "10"
    report = (await post(client, world, write([row], "csv"))).json()
    problems = {e["field"]: (e["column"], e["message"]) for e in report["errors"]}
    assert set(problems) == {
        "type",
        "therapeutic_areas[1]",
        "stage",
        "trl",
        "licence_options[1].option",
        "inventors",
        "ip_assets[0].kind",
        "ip_assets[0].status",
        "details.beds",
        "publish",
    }, problems
    assert all(e["row"] == 2 for e in report["errors"])
    assert problems["type"] == (
        "类别",
        "“研究型病房”不是允许的值。允许的值：专利、软件、体外诊断试剂、医疗器械、候选药物、生物材料、技术秘密、临床数据/方案。",
    )
    assert problems["stage"][1].startswith("“二期”不是允许的值。允许的值：发现阶段、临床前、临床I期")
    assert problems["trl"] == ("技术成熟度（TRL）", "“10”不是允许的值。允许的值：1、2、3、4、5、6、7、8、9。")
    assert "“占星”不是允许的值。允许的值：肿瘤、" in problems["therapeutic_areas[1]"][1]
    assert "“租赁”不是允许的值。允许的值：转让、独占许可、普通许可" in problems["licence_options[1].option"][1]
    assert problems["ip_assets[0].kind"][1].startswith("第 1 项 类型：“专利权”不是允许的值。允许的值：发明专利、")
    assert problems["publish"] == ("立即发布", "“也许”不是允许的值。允许的值：是、否。")

    english = (await post(client, world, write([row], "csv"), lang="en")).json()["errors"]
    assert len(english) == len(report["errors"])
    by_field = {e["field"]: e for e in english}
    assert by_field["stage"]["column"] == "Development stage"
    assert by_field["stage"]["message"].startswith('"二期" is not one of the allowed values: Discovery, Preclinical')


async def test_the_template_has_drop_downs_and_a_sheet_of_allowed_values(client) -> None:
    response = await client.get("/api/v1/listings/template", params={"format": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    sheet, allowed = book.worksheets
    assert (sheet.title, allowed.title) == ("成果与资源", "允许值")
    header = next(sheet.iter_rows(max_row=1))
    assert [c.value for c in header] == [ZH[key] for key in KEYS]
    assert all(c.comment is not None for c in header if c.value in (ZH["type"], ZH["inventors"], ZH["details.beds"]))
    assert "研究型病房" in header[KEYS.index("details.beds")].comment.text  # which types the column is for

    lists = {column[0].value: [c.value for c in column[1:] if c.value] for column in allowed.iter_cols()}
    assert lists["类别"][:2] == ["专利", "软件"] and "研究型病房" in lists["类别"]
    assert "肿瘤" in lists["治疗领域"] and lists["技术成熟度（TRL）"] == [str(n) for n in range(1, 10)]
    assert "发明专利" in lists["知识产权: 类型"]

    def listed(formula: str) -> list[str]:
        cells = allowed[formula.split("!", 1)[1].replace("$", "")]
        return [c[0].value for c in cells]

    coded = {
        "kind", "type", "therapeutic_areas", "stage", "trl", "ownership_model", "licence_options", "engagement_modes",
        "pricing_model", "availability", "details.phases", "details.consent_scope", "details.mutual_recognition", "publish",
    }  # fmt: skip
    validations = {}
    for validation in sheet.data_validations.dataValidation:
        (cells,) = validation.sqref.ranges
        validations[KEYS[cells.min_col - 1]] = validation
        assert validation.type == "list" and cells.min_row == 2 and cells.max_row >= 2001
    assert set(validations) == coded
    assert listed(validations["type"].formula1) == lists["类别"]
    assert listed(validations["details.consent_scope"].formula1) == ["特定知情同意", "泛知情同意", "分层知情同意"]
    assert validations["stage"].showErrorMessage and not validations["therapeutic_areas"].showErrorMessage

    english = await client.get("/api/v1/listings/template", headers={"Accept-Language": "en"})
    book = load_workbook(io.BytesIO(english.content))
    assert [ws.title for ws in book.worksheets] == ["Listings", "Allowed values"]
    assert next(book.worksheets[0].iter_rows(max_row=1, max_col=2, values_only=True)) == ("Kind", "Type")
    assert (
        book.worksheets[0]["B2"].value == "Patent" and book.worksheets[0]["H2"].value == "Oncology; Gastroenterology & hepatology"
    )


async def test_an_export_re_imports_to_the_same_listings(client, db, world) -> None:
    rows = [
        RESULT,
        WARD,
        BIOBANK,
        ETHICS,
        dict(RESULT, title_zh="=SUM(A1)", keywords="外泌体; 肝癌", advantages="灵敏度高", publish="是"),
    ]
    rows[-1]["title_en"], rows[-1]["summary_en"] = "Exosome test", "Liver cancer"
    response = await post(client, world, write(rows, "xlsx"), "l.xlsx", dry_run=False)
    assert response.status_code == 200 and response.json()["created"] == 5, response.text

    async def snapshot() -> list[dict]:
        stmt = select(Listing).options(
            selectinload(Listing.areas), selectinload(Listing.inventors), selectinload(Listing.ip_assets)
        )
        listings = (await db.scalars(stmt.execution_options(populate_existing=True))).all()
        return sorted((msgspec.to_builtins(listing_to_values(item)) for item in listings), key=str)

    before = await snapshot()
    headers = world.bearer(Role.tto_manager)
    vocab = await vocab_of(db)
    for fmt in ("xlsx", "csv"):
        exported = (await client.get("/api/v1/listings/export", params={"format": fmt}, headers=headers)).content
        # Parsed back, the export is the data that was imported, field for field.
        again = data_of(parse(f"back.{fmt}", exported, vocab), sort_areas=True)
        first = data_of(parse("first.xlsx", write(rows, "xlsx"), vocab), sort_areas=True)
        assert sorted(again, key=str) == sorted(first, key=str)
    # In English the export writes English headers and labels, and they import the same.
    exported = (
        await client.get("/api/v1/listings/export", params={"format": "xlsx"}, headers={**headers, "Accept-Language": "en"})
    ).content
    assert load_workbook(io.BytesIO(exported)).worksheets[0]["A1"].value == "Kind"
    response = await post(client, world, exported, "back.xlsx", dry_run=False)
    assert response.status_code == 200 and response.json()["created"] == 5, response.text
    after = await snapshot()
    assert after == sorted(before + before, key=str)  # the same five again, nothing changed or lost
