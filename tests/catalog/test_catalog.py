"""The catalogue: fields, validation, the lifecycle, who sees what, freshness."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.catalog.lifecycle import mark_stale
from marketplace.catalog.models import Listing, TherapeuticArea
from marketplace.catalog.services import CatalogService
from marketplace.catalog.validation import valid_ip_number
from marketplace.db import make_engine, make_sessionmaker
from tests.catalog.factories import resource_body, result_body
from tests.support.database import TEMPLATE_DB, recreate_database


async def create(client, world, body, role=Role.tto_staff):
    response = await client.post("/api/v1/listings", json=body, headers=world.bearer(role))
    assert response.status_code == 201, response.text
    return response.json()


async def act(client, world, listing_id, action, role=Role.tto_staff, **extra):
    return await client.post(
        f"/api/v1/listings/{listing_id}/transitions", json={"action": action, **extra}, headers=world.bearer(role)
    )


async def test_a_tto_creates_and_publishes_a_complete_result(client, db, world) -> None:
    listing = await create(client, world, result_body())
    assert listing["status"] == "draft" and listing["confidential_details"].startswith("未公开数据")
    assert [a["code"] for a in listing["therapeutic_areas"]] == ["digestive", "oncology"]
    assert listing["licence_options"][1] == {"option": "pay_later", "terms": "前两年免许可费，之后按销售额3%提成"}
    published = await act(client, world, listing["id"], "publish")
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "published" and body["published_at"] and body["confirmed_at"]
    actions = (await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == listing["id"]))).all()
    assert actions == ["listing_created", "listing_publish"]


async def test_publishing_an_incomplete_listing_says_what_is_missing(client, world) -> None:
    listing = await create(client, world, result_body(advantages=None, licence_options=None, inventors=None))
    response = await act(client, world, listing["id"], "publish")
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"advantages", "licence_options", "inventors"}
    assert all(e["message"] == "发布前必填。" for e in response.json()["errors"])


@pytest.mark.parametrize(
    ("action", "start", "status"),
    [("withdraw", "draft", 409), ("republish", "draft", 409), ("confirm", "draft", 409), ("restore", "draft", 409)],
)
async def test_illegal_transitions_are_refused_and_change_nothing(client, db, world, action, start, status) -> None:
    listing = await create(client, world, result_body())
    response = await act(client, world, listing["id"], action)
    assert response.status_code == status
    assert response.json()["errors"] == [{"field": "action", "message": "当前状态下不允许此操作。"}]
    assert await db.scalar(select(Listing.status).where(Listing.id == uuid.UUID(listing["id"]))) == start


async def test_the_whole_lifecycle(client, world) -> None:
    listing = await create(client, world, resource_body())
    for action, status in [
        ("submit", "pending_review"),
        ("return", "draft"),
        ("publish", "published"),
        ("withdraw", "withdrawn"),
        ("republish", "published"),
        ("confirm", "published"),
        ("archive", "archived"),
        ("restore", "draft"),
    ]:
        response = await act(client, world, listing["id"], action, reason="测试")
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == status


async def test_an_inventor_drafts_and_submits_but_cannot_publish(client, world) -> None:
    listing = await create(client, world, result_body(), role=Role.inventor)
    assert (await act(client, world, listing["id"], "publish", role=Role.inventor)).status_code == 403
    assert (await act(client, world, listing["id"], "submit", role=Role.inventor)).json()["status"] == "pending_review"
    # Once submitted, it is the TTO's to change.
    edit = await client.patch(f"/api/v1/listings/{listing['id']}", json={"title_zh": "改"}, headers=world.bearer(Role.inventor))
    assert edit.status_code == 403
    assert (await act(client, world, listing["id"], "publish", role=Role.tto_manager)).status_code == 200
    resource = await client.post("/api/v1/listings", json=resource_body(), headers=world.bearer(Role.inventor))
    assert resource.status_code == 403


async def test_drafts_are_private_and_confidential_details_stay_with_the_institution(client, world) -> None:
    listing = await create(client, world, result_body())
    company = world.bearer(Role.company_member)
    assert (await client.get(f"/api/v1/listings/{listing['id']}", headers=company)).status_code == 404
    assert (await client.get(f"/api/v1/listings/{listing['id']}")).status_code == 404
    await act(client, world, listing["id"], "publish")
    for headers in (company, {}):
        seen = await client.get(f"/api/v1/listings/{listing['id']}", headers=headers)
        assert seen.status_code == 200
        assert "confidential_details" not in seen.json() and "MKT-SECRET" not in seen.text
    own = await client.get(f"/api/v1/listings/{listing['id']}", headers=world.bearer(Role.tto_manager))
    assert "MKT-SECRET" in own.json()["confidential_details"]
    # Issue 10: an inventor of the institution who neither wrote nor is named on the result no
    # longer reads its secrets (this asserted they did); see test_catalog_pages for the full rule.
    colleague = await client.get(f"/api/v1/listings/{listing['id']}", headers=world.bearer(Role.inventor))
    assert colleague.status_code == 200 and colleague.json().get("confidential_details") is None
    listed = await client.get("/api/v1/listings", params={"kind": "result"})
    assert listed.json()["total"] == 1 and "MKT-SECRET" not in listed.text


async def test_another_institution_cannot_touch_a_listing(client, world) -> None:
    listing = await create(client, world, result_body())
    other_tto = await client.post(
        "/api/v1/listings", json=result_body(title_zh="他院成果"), headers=world.bearer(Role.tto_manager)
    )
    assert other_tto.status_code == 201  # own institution: fine
    await act(client, world, listing["id"], "publish")
    # A company sees the published listing but may not change it.
    assert (await act(client, world, listing["id"], "withdraw", role=Role.company_admin)).status_code == 403
    patch = await client.patch(
        f"/api/v1/listings/{listing['id']}", json={"title_zh": "x"}, headers=world.bearer(Role.company_admin)
    )
    assert patch.status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "error_field", "message"),
    [
        (
            "inventors",
            [{"name": "甲", "share_bp": 6000}, {"name": "乙", "share_bp": 3000}],
            "inventors",
            "发明人份额合计必须为 10,000 个基点（当前为 9000）。",
        ),
        (
            "ip_assets",
            [{"number": "CN12345", "kind": "invention_patent", "jurisdiction": "CN", "status": "filed"}],
            "ip_assets[0].number",
            "不是有效的 CN 号码。",
        ),
        (
            "ip_assets",
            [{"number": "EP 3912345 B1", "kind": "invention_patent", "jurisdiction": "US", "status": "granted"}],
            "ip_assets[0].number",
            "不是有效的 US 号码。",
        ),
        ("therapeutic_areas", ["oncology", "astrology"], "therapeutic_areas[1]", "未知的治疗领域。"),
        ("details", {"beds": 3}, "details", "不用于科技成果。"),
    ],
)
async def test_bad_listing_fields_are_refused_by_field(client, db, world, field, value, error_field, message) -> None:
    before = await db.scalar(select(func.count()).select_from(Listing))
    response = await client.post("/api/v1/listings", json=result_body(**{field: value}), headers=world.bearer(Role.tto_staff))
    assert response.status_code == 422, response.text
    assert {"field": error_field, "message": message} in response.json()["errors"]
    assert await db.scalar(select(func.count()).select_from(Listing)) == before


async def test_resource_details_follow_their_types_schema(client, world) -> None:
    response = await client.post(
        "/api/v1/listings",
        json=resource_body(type="biobank", details={"sample_types": ["血浆"], "sample_count": "many", "consent_scope": "broad"}),
        headers=world.bearer(Role.tto_staff),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "details.sample_count"
    wrong_enum = await client.post("/api/v1/listings", json=result_body(stage="phase_9"), headers=world.bearer(Role.tto_staff))
    assert wrong_enum.status_code == 400 and wrong_enum.json()["errors"][0]["field"] == "stage"
    unknown = await client.post("/api/v1/listings", json=result_body(colour="red"), headers=world.bearer(Role.tto_staff))
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "colour"


@pytest.mark.parametrize(
    ("number", "kind", "jurisdiction", "valid"),
    [
        ("ZL202110234567.8", "invention_patent", "CN", True),
        ("202110234567.X", "invention_patent", "CN", True),
        ("CN114567890A", "invention_patent", "CN", True),
        ("CN1145", "invention_patent", "CN", False),
        ("PCT/CN2022/123456", "pct_application", "PCT", True),
        ("PCT/CN22/123456", "pct_application", "PCT", False),
        ("US 11,234,567 B2", "invention_patent", "US", True),
        ("US 2021/0123456 A1", "invention_patent", "US", True),
        ("US 123", "invention_patent", "US", False),
        ("EP 3912345 B1", "invention_patent", "EP", True),
        ("EP19123456.7", "invention_patent", "EP", True),
        ("EP 39 B1", "invention_patent", "EP", False),
        ("2021SR0123456", "software_copyright", "CN", True),
        ("ZL202110234567.8", "software_copyright", "CN", False),
    ],
)
def test_ip_number_formats(number, kind, jurisdiction, valid) -> None:
    assert valid_ip_number(number, kind, jurisdiction) is valid


async def test_postgresql_keeps_inventor_shares_whole(client, db, world) -> None:
    await create(client, world, result_body())
    with pytest.raises(DBAPIError, match="sum to 6000"):
        await db.execute(text("delete from listing_inventors where share_bp = 4000"))
        await db.commit()
    await db.rollback()


async def test_unconfirmed_listings_turn_stale_and_confirming_refreshes_them(client, db, world) -> None:
    listing = await create(client, world, result_body())
    await act(client, world, listing["id"], "publish")
    listing_id = uuid.UUID(listing["id"])
    old = datetime.now(UTC) - timedelta(days=181)
    await db.execute(update(Listing).where(Listing.id == listing_id).values(confirmed_at=old))
    assert await mark_stale(db) == 1
    await db.commit()
    assert (await client.get(f"/api/v1/listings/{listing_id}")).json()["is_stale"] is True
    due = await client.get("/api/v1/listings", params={"stale": "true"}, headers=world.bearer(Role.tto_staff))
    assert [item["id"] for item in due.json()["items"]] == [listing["id"]]
    confirmed = await act(client, world, listing["id"], "confirm")
    assert confirmed.json()["is_stale"] is False
    assert datetime.fromisoformat(confirmed.json()["confirmed_at"]) > old + timedelta(days=180)


async def test_inventors_shares_are_shown_only_inside(client, db, world) -> None:
    """Names are public; the shares only for the owning TTO, the named inventors and the platform admin."""
    inventor = await world.principal(db, world.emails[Role.inventor])
    body = result_body(
        inventors=[{"name": "张晓华", "share_bp": 9000, "user_id": str(inventor.user_id)}, {"name": "李明", "share_bp": 1000}]
    )
    listing = await create(client, world, body)
    assert (await act(client, world, listing["id"], "publish")).status_code == 200
    url = f"/api/v1/listings/{listing['id']}"

    async def inventors_seen_by(role):
        response = await client.get(url, headers=world.bearer(role) if role else {})
        assert response.status_code == 200, response.text
        return response.json()["inventors"]

    for outsider in (None, Role.company_member, Role.company_admin, Role.platform_analyst):
        assert await inventors_seen_by(outsider) == [{"name": "张晓华"}, {"name": "李明"}], outsider
    for insider in (Role.tto_staff, Role.tto_manager, Role.inventor, Role.platform_admin):
        assert [i["share_bp"] for i in await inventors_seen_by(insider)] == [9000, 1000], insider
    page = await client.get(f"/listings/{listing['id']}")
    assert page.status_code == 200 and "张晓华" in page.text and "90%" not in page.text and "share-bar" not in page.text


async def test_each_database_keeps_its_own_therapeutic_areas(db, worker_id: str) -> None:
    """The areas are read once per process, but a process may serve several databases (as here)."""
    server_url = os.environ["MARKETPLACE_TEST_SERVER_URL"]
    name = f"marketplace_test_{worker_id}_areas"
    engine = make_engine(await recreate_database(server_url, name, template=TEMPLATE_DB))
    try:
        async with make_sessionmaker(engine)() as other:
            await other.execute(update(TherapeuticArea).values(name_en=TherapeuticArea.name_en + " (other)"))
            await other.commit()
            ours = [area.name_en for area in await CatalogService(db).areas()]
            theirs = [area.name_en for area in await CatalogService(other).areas()]
    finally:
        await engine.dispose()
        await recreate_database(server_url, name)
    assert theirs == [f"{area} (other)" for area in ours]
