"""Needs test data: need and response bodies (JSON and form), and needs opened, responded to and
moved through the API."""

from __future__ import annotations

from marketplace.accounts.models import Role
from tests.support.world import World


def need_body(**overrides) -> dict:
    """A company's need, as the API takes it (deadline a month ahead)."""
    from datetime import date, timedelta

    body = {
        "title": "寻求肝癌早期诊断试剂合作",
        "problem": "我司计划开发基于血液的肝癌早期筛查试剂盒，寻求具备外泌体或液体活检技术的医院团队合作，需有临床样本验证数据。",
        "therapeutic_areas": ["oncology"],
        "wanted": ["patent", "ivd_reagent"],
        "budget_min_fen": 100_000_000,
        "budget_max_fen": 300_000_000,
        "deadline": (date.today() + timedelta(days=30)).isoformat(),  # far enough for any time zone
        "visibility": "public",
    }
    body.update(overrides)
    return body


def need_form(**overrides) -> dict:
    """The same need as the need form sends it (budget in 万元; list fields as lists)."""
    from datetime import date, timedelta

    form = {
        "title": "寻求肝癌早期诊断试剂合作",
        "problem": "我司计划开发基于血液的肝癌早期筛查试剂盒，寻求医院团队合作。",
        "areas": ["oncology"],
        "wanted": ["patent"],
        "budget_min": "100",
        "budget_max": "300",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),  # far enough for any time zone
        "visibility": "public",
    }
    form.update(overrides)
    return form


def response_body(listing_id, **overrides) -> dict:
    body = {
        "proposal": "本院外泌体miRNA检测方法已完成300例临床样本验证，可授权并联合开发。",
        "listing_ids": [str(listing_id)],
        "budget_min_fen": 150_000_000,
        "budget_max_fen": 250_000_000,
        "timeline": "三个月内完成技术转移",
    }
    body.update(overrides)
    return body


OTHER_TTO = "admin@institution.other.test"
OTHER_COMPANY = "admin@company.other.test"


async def open_need(client, world: World, role: Role = Role.company_member, **overrides) -> dict:
    created = await client.post("/api/v1/needs", json=need_body(**overrides), headers=world.bearer(role))
    assert created.status_code == 201, created.text
    need = created.json()
    opened = await client.post(f"/api/v1/needs/{need['id']}/transitions", json={"action": "publish"}, headers=world.bearer(role))
    assert opened.status_code == 200, opened.text
    return opened.json()


async def respond(client, world: World, need_id: str, listing_id, role: Role = Role.tto_staff, headers=None, **overrides):
    return await client.post(
        f"/api/v1/needs/{need_id}/responses",
        json=response_body(listing_id, **overrides),
        headers=headers or world.bearer(role),
    )


async def move(client, headers, need_id: str, response_id: str, action: str, **extra):
    return await client.post(
        f"/api/v1/needs/{need_id}/responses/{response_id}/transitions", json={"action": action, **extra}, headers=headers
    )
