"""Catalogue test data: listing bodies (JSON and form) of each kind, listings made directly in a
given status without an acting user, and spreadsheets to import."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.catalog.services import CatalogService
from marketplace.catalog.spreadsheets import EXAMPLES, write
from tests.support.world import World


def result_body(**overrides) -> dict:
    body = {
        "kind": "result",
        "type": "patent",
        "title_zh": "基于外泌体的早期肝癌检测方法",
        "title_en": "Exosome-based early liver cancer detection",
        "summary_zh": "一种利用血液外泌体miRNA组合检测早期肝癌的方法，灵敏度高。",
        "confidential_details": "未公开数据：关键引物序列 MKT-SECRET-7731",
        "therapeutic_areas": ["oncology", "digestive"],
        "keywords": ["外泌体", "肝癌", "早筛"],
        "contact_name": "周颖",
        "contact_email": "tto@hospital.test",
        "stage": "preclinical",
        "trl": 4,
        "advantages": "较现有AFP检测灵敏度提高30%，仅需常规采血。",
        "ownership_model": "researchers_ownership",
        "licence_options": [
            {"option": "exclusive", "terms": "入门费50万元，销售提成3%"},
            {"option": "pay_later", "terms": "前两年免许可费，之后按销售额3%提成"},
        ],
        "ip_assets": [
            {
                "number": "ZL202110234567.8",
                "kind": "invention_patent",
                "jurisdiction": "CN",
                "status": "granted",
                "filing_date": "2021-03-01",
                "expiry_date": "2041-03-01",
            },
            {"number": "PCT/CN2022/123456", "kind": "pct_application", "jurisdiction": "PCT", "status": "filed"},
        ],
        "inventors": [{"name": "张晓华", "share_bp": 6000}, {"name": "李明", "share_bp": 4000}],
    }
    body.update(overrides)
    return body


def resource_body(**overrides) -> dict:
    body = {
        "kind": "resource",
        "type": "research_ward",
        "title_zh": "肿瘤早期临床研究型病房",
        "summary_zh": "40张研究型床位，承接I期及生物等效性试验。",
        "therapeutic_areas": ["oncology"],
        "contact_email": "ward@hospital.test",
        "details": {"beds": 40, "specialties": ["肿瘤", "血液"]},
        "engagement_modes": ["clinical_trial"],
        "pricing_model": "per_patient",
        "availability": "available",
    }
    body.update(overrides)
    return body


def result_form(**overrides) -> dict:
    """The listing page's form for the result of result_body(), as a browser submits it: checkbox
    groups with their blank hidden input, blank rows included."""
    form = {
        "kind": "result",
        "type": "patent",
        "title_zh": "基于外泌体的早期肝癌检测方法",
        "title_en": "Exosome-based early liver cancer detection",
        "summary_zh": "一种利用血液外泌体miRNA组合检测早期肝癌的方法，灵敏度高。",
        "summary_en": "",
        "confidential_details": "未公开数据：关键引物序列 MKT-SECRET-7731",
        "keywords": "外泌体；肝癌, 早筛",
        "therapeutic_areas": ["", "oncology", "digestive"],
        "contact_name": "周颖",
        "contact_email": "tto@hospital.test",
        "contact_phone": "",
        "stage": "preclinical",
        "trl": "4",
        "advantages": "较现有AFP检测灵敏度提高30%，仅需常规采血。",
        "ownership_model": "researchers_ownership",
        "licence_options": ["", "exclusive", "pay_later"],
        "licence_terms.exclusive": "入门费50万元，销售提成3%",
        "licence_terms.pay_later": "前两年免许可费，之后按销售额3%提成",
        "licence_terms.equity": "",
        "inventors[0].name": "张晓华",
        "inventors[0].share": "60",
        "inventors[0].user_id": "",
        "inventors[1].name": "李明",
        "inventors[1].share": "40",
        "inventors[1].user_id": "",
        "inventors[2].name": "",
        "inventors[2].share": "",
        "inventors[2].user_id": "",
    }
    rows = [
        ("ZL202110234567.8", "invention_patent", "CN", "granted", "2021-03-01", "2041-03-01"),
        ("PCT/CN2022/123456", "pct_application", "PCT", "filed", "", ""),
        ("", "invention_patent", "CN", "filed", "", ""),
    ]
    for i, row in enumerate(rows):
        for part, value in zip(("number", "kind", "jurisdiction", "status", "filing_date", "expiry_date"), row, strict=True):
            form[f"ip_assets[{i}].{part}"] = value
    form.update(overrides)
    return form


async def seed_listing(
    session: AsyncSession,
    institution_id: uuid.UUID,
    data: ListingCreate,
    *,
    status: str = Status.draft,
    published_at: datetime | None = None,
    confirmed_at: datetime | None = None,
    created_by_user_id: uuid.UUID | None = None,
) -> Listing:
    """A listing in a given status, through the catalogue's add_existing (same validation)."""
    return await CatalogService(session).add_existing(
        institution_id,
        data,
        status=status,
        published_at=published_at,
        confirmed_at=confirmed_at,
        created_by_user_id=created_by_user_id,
    )


async def published(db: AsyncSession, world: World, relation: str = "own", body: dict | None = None, **overrides) -> uuid.UUID:
    """A published result of the own (or other) institution: `body`, else the sample result with `overrides`."""
    org = world.orgs[f"institution/{relation}"]
    listing = await seed_listing(db, org.id, msgspec.convert(body or result_body(**overrides), ListingCreate), status="published")
    await db.commit()
    return listing.id


def sheet(rows: list[dict], fmt: str = "xlsx") -> bytes:
    return write(rows, fmt)


async def upload(client, world, content: bytes, name: str = "listings.xlsx", dry_run: bool = True, role=Role.tto_staff):
    return await client.post(
        "/api/v1/listings/import",
        params={"dry_run": str(dry_run).lower()},
        files={"data": (name, content)},
        headers=world.bearer(role),
    )


def good_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        row = dict(EXAMPLES[i % 2])
        row["title_zh"] = f"{row['title_zh']} {i}"
        rows.append(row)
    return rows
