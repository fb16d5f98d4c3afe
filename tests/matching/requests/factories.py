"""Match request test data: request bodies (JSON and form), and requests made and moved through
the service as a given member."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.matching.requests.models import MatchRequest
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from tests.support.world import World


def match_body(listing_id, **overrides) -> dict:
    """A company's match request on a result, as the API takes it."""
    body = {
        "listing_id": str(listing_id),
        "engagement_type": "licence",
        "purpose": "拟开发早期肝癌血液检测试剂盒，申报三类医疗器械注册。",
        "timeline": "2027年一季度完成评估，二季度签约",
        "budget_min_fen": 50_000_000,
        "budget_max_fen": 80_000_000,
        "message": "希望了解引物序列与验证数据。",
        "nda_version": 1,
        "accept_nda": True,
    }
    body.update(overrides)
    return body


def match_form(**overrides) -> dict:
    """The same request as the listing's request form sends it (budget in 万元)."""
    form = {
        "engagement_type": "licence",
        "purpose": "拟开发早期肝癌血液检测试剂盒，申报三类医疗器械注册。",
        "timeline": "2027年一季度完成评估，二季度签约",
        "budget_min": "50",
        "budget_max": "80",
        "message": "希望了解引物序列与验证数据。",
        "nda_version": "1",
        "accept_nda": "on",
    }
    form.update(overrides)
    return form


OTHER_COMPANY_ADMIN = "admin@company.other.test"


async def create(db, world: World, listing_id: uuid.UUID, email: str | None = None, **overrides) -> MatchRequest:
    """A request made through the service, as the own company's member unless told otherwise."""
    principal = await world.principal(db, email or world.emails[Role.company_member])
    request = await MatchingService(db).create(
        principal, msgspec.convert(match_body(listing_id, **overrides), MatchRequestCreate)
    )
    await db.commit()
    return request


async def move(db, world: World, request_id: uuid.UUID, action: str, role: Role, reason: str = "") -> MatchRequest:
    principal = await world.principal(db, world.emails[role])
    moved = await MatchingService(db).transition(principal, request_id, action, reason)
    await db.commit()
    return moved


async def state_of(db, request_id) -> str:
    return await db.scalar(select(MatchRequest.state).where(MatchRequest.id == request_id))
