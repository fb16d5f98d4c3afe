"""Demo match requests: one or more in every state, between the demo companies and institutions
that have logins, made through the service with a clock in the past so that deadlines, the
history and confidential access are what they would be. Deterministic for the same catalogue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.catalog.models import ListingKind, Status
from marketplace.catalog.services import CatalogService
from marketplace.matching.models import EngagementType, State
from marketplace.matching.schemas import MatchRequestCreate
from marketplace.matching.services import CHINA_TIME, MatchingService, add_working_days, china_date

XINGHE, XINGHE_ADMIN = "bd@xinghe.example", "bd.admin@xinghe.example"
RUIJIAN = "admin@ruijian.example"
TTO = {0: "tto.staff@pujiang.example", 1: "tto.manager@jinghua.example", 2: "tto.manager@qiantang.example"}
PUJIANG_MANAGER = "tto.manager@pujiang.example"


@dataclass(frozen=True)
class DemoRequest:
    company: str  # the requesting person's e-mail
    institution: int  # index among the three foundation institutions
    kind: str
    engagement: str
    days_ago: float  # when it was sent
    # (days ago, action, acting e-mail, reason) after the request was sent
    steps: tuple[tuple[float, str, str, str], ...] = ()
    purpose: str = "评估该成果用于我司管线的可行性，拟开展许可谈判。"
    timeline: str = "三个月内完成评估，半年内签约"
    budget_wan: tuple[int | None, int | None] = (None, None)
    names_inventor: bool = False  # a Pujiang result naming the demo inventor
    due_soon: bool = False  # sent so that the answer is due within the reminder window


REQUESTS = [
    # Waiting for Pujiang's answer: one overdue, one due within two working days, one new.
    DemoRequest(XINGHE, 0, ListingKind.result, EngagementType.licence, 40, budget_wan=(80, 150),
                purpose="拟将该检测方法开发为体外诊断试剂盒并申报三类医疗器械注册。"),
    DemoRequest(RUIJIAN, 0, ListingKind.result, EngagementType.co_development, 0, due_soon=True, budget_wan=(50, 100),
                purpose="希望与发明团队合作开发配套检测仪器与算法。", timeline="本季度启动，一年内完成注册检验"),
    DemoRequest(XINGHE, 0, ListingKind.resource, EngagementType.resource_use, 0.2, budget_wan=(None, 60),
                purpose="拟在研究型病房开展1期临床试验，约需24张床位、为期6个月。", timeline="明年二季度首例入组"),
    DemoRequest(RUIJIAN, 0, ListingKind.result, EngagementType.licence, 6,
                steps=((4, "review", TTO[0], "已转交发明团队评估。"),)),
    DemoRequest(XINGHE, 1, ListingKind.result, EngagementType.licence, 9, budget_wan=(30, 60),
                steps=((7, "review", TTO[1], ""), (6, "request_info", TTO[1], "请说明拟开发产品的适应证与目标市场，以及是否需要独占许可。"))),
    DemoRequest(RUIJIAN, 0, ListingKind.result, EngagementType.clinical_trial, 20, names_inventor=True,
                purpose="拟开展多中心注册临床试验，邀请发明团队担任主要研究者。",
                steps=((18, "review", TTO[0], ""), (15, "accept", PUJIANG_MANAGER, "方向契合，同意进入保密沟通。"))),
    DemoRequest(XINGHE, 0, ListingKind.result, EngagementType.licence, 45, names_inventor=True, budget_wan=(200, 500),
                steps=((42, "accept", PUJIANG_MANAGER, ""), (38, "start_negotiation", XINGHE_ADMIN, ""),
                       (5, "agree", XINGHE_ADMIN, "同意“入门费+销售提成”方案，待医院确认。"))),
    DemoRequest(XINGHE, 2, ListingKind.result, EngagementType.licence, 95, budget_wan=(100, 300),
                steps=((90, "review", TTO[2], ""), (84, "accept", TTO[2], ""), (80, "start_negotiation", TTO[2], ""),
                       (35, "agree", TTO[2], "院长办公会已审议通过。"), (33, "agree", XINGHE_ADMIN, "签约。"))),
    DemoRequest(RUIJIAN, 1, ListingKind.result, EngagementType.licence, 30,
                steps=((26, "decline", TTO[1], "该成果已与其他企业签订独占许可意向，暂不接受新的许可申请。"),)),
    DemoRequest(RUIJIAN, 2, ListingKind.resource, EngagementType.service, 15, budget_wan=(10, 20),
                steps=((12, "review", TTO[2], ""), (10, "withdraw", RUIJIAN, "公司研发计划调整，暂缓该项目。"))),
    DemoRequest(XINGHE, 0, ListingKind.result, EngagementType.co_development, 120, budget_wan=(300, 800),
                steps=((115, "accept", PUJIANG_MANAGER, ""), (110, "start_negotiation", XINGHE_ADMIN, ""),
                       (60, "close_no_deal", PUJIANG_MANAGER, "双方对权益分配比例未能达成一致。"))),
]


def demo_states() -> dict[str, int]:
    """How many demo requests end in each state (every state has at least one)."""
    ends: dict[str, int] = {}
    for item in REQUESTS:
        state = State.submitted
        consents = 0
        for _, action, _, _ in item.steps:
            if action == "agree":
                consents += 1
                state = State.agreed if consents == 2 else state
            else:
                state = {
                    "review": State.under_review, "request_info": State.info_requested, "accept": State.accepted,
                    "decline": State.declined, "start_negotiation": State.negotiating,
                    "close_no_deal": State.closed_no_deal, "withdraw": State.withdrawn,
                }[action]
        ends[state] = ends.get(state, 0) + 1
    return ends


async def load_demo_requests(session: AsyncSession, institution_ids: list[uuid.UUID], now: datetime) -> int:
    """Make REQUESTS; `institution_ids` are the three foundation institutions' ids."""
    accounts = AccountService(session)
    service = MatchingService(session)
    principals: dict[tuple[str, uuid.UUID | None], object] = {}

    async def principal(email: str, organization_id: uuid.UUID | None = None):
        key = (email, organization_id)
        if key not in principals:
            user = await accounts.user_by_email(email)
            principals[key] = await accounts.principal_for_user(user.id, organization_id)
        return principals[key]

    inventor = await accounts.user_by_email("inventor@pujiang.example")
    used: set[uuid.UUID] = set()
    today = china_date(now)
    for item in REQUESTS:
        viewer = await principal(item.company)
        listing = await _pick_listing(service.catalog, viewer, institution_ids[item.institution], item, inventor.id, used)
        used.add(listing)
        sent = now - timedelta(days=item.days_ago)
        if item.due_soon:
            # Sent nine working days ago at 10:00: with ten to answer, the answer is due next.
            sent = datetime.combine(add_working_days(today, -9), time(10), CHINA_TIME)
        low, high = item.budget_wan
        data = MatchRequestCreate(
            listing_id=listing, engagement_type=item.engagement, purpose=item.purpose, timeline=item.timeline,
            budget_min_fen=None if low is None else low * 1_000_000,
            budget_max_fen=None if high is None else high * 1_000_000,
            message="", nda_version=1, accept_nda=True,
        )
        request = await service.create(viewer, data, now=sent)
        for days_ago, action, email, reason in item.steps:
            await service.transition(await principal(email), request.id, action, reason, now=now - timedelta(days=days_ago))
    await session.flush()
    return len(REQUESTS)


async def _pick_listing(
    catalog: CatalogService, viewer, institution_id: uuid.UUID, item: DemoRequest, inventor_id: uuid.UUID,
    used: set[uuid.UUID],
) -> uuid.UUID:
    """The first published listing of the kind (by title) not yet used, naming the inventor if asked."""
    found, _total = await catalog.search(
        viewer, kind=item.kind, institution_id=institution_id, status=Status.published, page_size=1000
    )
    for listing in sorted(found, key=lambda x: x.title_zh):
        if listing.id in used:
            continue
        if item.names_inventor and not any(person.user_id == inventor_id for person in listing.inventors):
            continue
        return listing.id
    raise LookupError(f"no demo listing for {item}")
