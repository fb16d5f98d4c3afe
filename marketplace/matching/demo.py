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
from marketplace.matching.requests.models import EngagementType, State
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.db import CHINA_TIME, china_day
from marketplace.matching.requests.services import MatchingService
from marketplace.working_days import add_working_days

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
    today = china_day(now)
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


# ===== demo needs and challenges ==================================================================

ADMIN = "admin@demo.example"


@dataclass(frozen=True)
class DemoResponse:
    institution: int  # index among the three foundation institutions
    listing: str | None  # the proposed listing's title; None: the institution's first published listing
    then: str | None = None  # shortlist | select | decline | withdraw


@dataclass(frozen=True)
class DemoNeed:
    poster: str  # e-mail of the posting person (the platform admin posts challenges)
    title: str
    problem: str
    areas: tuple[str, ...]
    wanted: tuple[str, ...]
    days_left: int
    budget_wan: tuple[int | None, int | None] = (None, None)
    publish: bool = True
    behalf: str | None = None  # a challenge for this company (an e-mail of one of its people)
    invited: tuple[int, ...] = ()  # invited-only, for these institutions
    responses: tuple[DemoResponse, ...] = ()
    close: str | None = None  # the poster closes it early, with this reason
    expect: str | None = None  # the listing recommendations should rank in its top 5 (tests)


NEEDS = [
    DemoNeed(XINGHE, "寻求可视喉镜技术许可", "我司为麻醉与急救器械企业，拟引进可视喉镜相关专利或成熟产品技术，用于困难气道管理产品线，要求具备样机与临床使用数据。",
             ("anesthesia",), ("device", "patent"), 30, (100, 300),
             responses=(DemoResponse(0, "双镜头可视喉镜"),), expect="双镜头可视喉镜"),
    DemoNeed(RUIJIAN, "征集阿尔茨海默病血液早期筛查检测试剂", "面向社区筛查场景，寻求基于血浆标志物（如p-tau217）的阿尔茨海默病早期筛查检测试剂盒技术，需有回顾性队列验证数据，可许可或联合开发。",
             ("neurology",), ("ivd_reagent", "patent"), 45, (200, 500),
             responses=(DemoResponse(1, None, "shortlist"), DemoResponse(2, None, "withdraw")),
             expect="基于血浆p-tau217的阿尔茨海默病早期筛查检测试剂盒（化学发光法）"),
    DemoNeed(XINGHE, "系统性红斑狼疮CAR-T细胞治疗合作开发", "我司细胞治疗管线拟拓展自身免疫病适应证，寻求针对系统性红斑狼疮的CAR-T细胞治疗候选药物及研究者发起的临床研究合作。",
             ("immunology",), ("drug_candidate",), 60, (500, 2000),
             responses=(DemoResponse(2, "用于系统性红斑狼疮的CD19/BCMA双靶点CAR-T细胞"),),
             expect="用于系统性红斑狼疮的CD19/BCMA双靶点CAR-T细胞"),
    DemoNeed(RUIJIAN, "脓毒症预后分层检测试剂", "寻求可用于急诊与重症场景的脓毒症预后分层快速检测试剂（POCT优先），需有多中心临床数据支持注册申报。",
             ("critical_care", "infectious"), ("ivd_reagent",), 20, (80, 200),
             expect="基于高敏心肌损伤标志物的脓毒症预后分层检测试剂盒（微流控芯片法）"),
    DemoNeed(ADMIN, "揭榜挂帅：膝骨关节炎个性化3D打印关节假体", "平台受企业委托发布揭榜任务：面向膝骨关节炎患者，征集个性化3D打印人工膝关节假体技术，揭榜团队需具备设计、制造与临床验证能力。",
             ("orthopedics",), ("device",), 90, (1000, 3000), behalf=XINGHE,
             responses=(DemoResponse(2, "用于膝骨关节炎的个性化3D打印人工膝关节假体", "shortlist"),),
             expect="用于膝骨关节炎的个性化3D打印人工膝关节假体"),
    DemoNeed(XINGHE, "肿瘤早期临床研究型病房（1期临床试验）", "我司创新药即将进入首次人体试验，寻求具备肿瘤早期临床经验的研究型病房与1期临床试验机构，约需24张床位、为期6个月。",
             ("oncology",), ("research_ward", "trial_site"), 25, (300, 600),
             expect="钱塘大学附属第一医院研究型病房（肿瘤早期临床）"),
    DemoNeed(RUIJIAN, "儿童哮喘专病队列数据合作（定向邀请）", "拟开展儿童哮喘伴随诊断产品研发，定向邀请具备儿童哮喘专病队列与样本库的医院开展数据与样本合作。",
             ("pediatrics", "respiratory"), ("disease_cohort", "clinical_data"), 40, invited=(0, 2)),
    DemoNeed(XINGHE, "肝癌早期诊断试剂合作（草稿）", "拟开发基于血液外泌体的肝癌早期筛查试剂盒，寻求医院团队合作。", ("oncology", "digestive"),
             ("ivd_reagent",), 50, publish=False),
    DemoNeed(RUIJIAN, "眼底照相青光眼AI筛查软件", "寻求可用于体检中心的眼底照相青光眼人工智能筛查软件，需具备二类或三类医疗器械注册路径规划。",
             ("ophthalmology",), ("software",), 30, responses=(DemoResponse(1, None, "decline"),),
             close="已与其他合作方达成意向，提前结束征集。"),
    DemoNeed(XINGHE, "炎症性肠病真实世界研究数据合作", "为支持新适应证申报，寻求炎症性肠病多中心真实世界研究数据集或专病队列合作，需符合数据合规要求。",
             ("digestive",), ("clinical_data", "disease_cohort"), 35, (100, 200),
             responses=(DemoResponse(0, "炎症性肠病多中心真实世界研究数据集", "select"), DemoResponse(1, None))),
]


def demo_need_states() -> tuple[dict[str, int], dict[str, int]]:
    """How many demo needs end in each state, and responses in each state."""
    needs: dict[str, int] = {}
    responses: dict[str, int] = {}
    for item in NEEDS:
        selected = any(r.then == "select" for r in item.responses)
        state = "awarded" if selected else "closed" if item.close else "open" if item.publish else "draft"
        needs[state] = needs.get(state, 0) + 1
        for r in item.responses:
            end = {"shortlist": "shortlisted", "select": "selected", "decline": "not_selected", "withdraw": "withdrawn"}.get(
                r.then or "", "not_selected" if selected else "submitted"
            )
            responses[end] = responses.get(end, 0) + 1
    return needs, responses


async def load_demo_needs(session: AsyncSession, institution_ids: list[uuid.UUID], now: datetime) -> int:
    """Make NEEDS through the service, with their responses and decisions."""
    from marketplace.matching.needs.services import NeedService
    from marketplace.matching.needs.schemas import NeedCreate, ResponseCreate

    accounts = AccountService(session)
    service = NeedService(session)

    async def principal(email: str):
        return await accounts.principal_for_user((await accounts.user_by_email(email)).id)

    today = china_day(now)
    nda = await service.catalog.current_nda_version()
    for item in NEEDS:
        poster = await principal(item.poster)
        low, high = item.budget_wan
        behalf = (await principal(item.behalf)).organization_id if item.behalf else None
        data = NeedCreate(
            title=item.title, problem=item.problem, therapeutic_areas=list(item.areas), wanted=list(item.wanted),
            budget_min_fen=None if low is None else low * 1_000_000,
            budget_max_fen=None if high is None else high * 1_000_000,
            deadline=today + timedelta(days=item.days_left), visibility="invited" if item.invited else "public",
            invited_institution_ids=[institution_ids[i] for i in item.invited], on_behalf_of_id=behalf,
        )
        need = await service.create(poster, data, now=now)
        if not item.publish:
            continue
        await service.transition(poster, need.id, "publish", now=now)
        made = []
        for answer in item.responses:  # every response first, then the decisions
            tto = await principal(TTO[answer.institution])
            listing = await _listing_for(service.catalog, tto, institution_ids[answer.institution], answer.listing)
            response = await service.respond(tto, need.id, ResponseCreate(
                proposal="本院团队在该方向有成熟成果与临床数据，可提供技术许可并联合开展后续开发与验证。",
                listing_ids=[listing], timeline="三个月内完成技术对接",
            ), now=now)
            made.append((answer, tto, response))
        for answer, tto, response in made:
            if answer.then:
                actor = tto if answer.then == "withdraw" else poster
                await service.move_response(
                    actor, need.id, response.id, answer.then, nda_version=nda if answer.then == "select" else None, now=now
                )
        if item.close:
            await service.transition(poster, need.id, "close", item.close, now=now)
    service.outgoing = []  # demo data sends no e-mail
    await session.flush()
    return len(NEEDS)


async def _listing_for(catalog: CatalogService, viewer, institution_id: uuid.UUID, title: str | None) -> uuid.UUID:
    found, _total = await catalog.search(viewer, institution_id=institution_id, status=Status.published, page_size=1000)
    for listing in sorted(found, key=lambda x: x.title_zh):
        if title is None or listing.title_zh == title:
            return listing.id
    raise LookupError(f"no demo listing {title!r}")
