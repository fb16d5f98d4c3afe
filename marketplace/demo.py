"""Fictional demo organizations and users (no real hospital or company), loaded on first start.

Every demo user's password is DEMO_PASSWORD; README.md lists the logins.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import (
    OrganizationInput,
    credit_code_check_character,
    organization_count,
    seed_member,
    seed_organization,
)

DEMO_PASSWORD = "demo-pass-2026"


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


PLATFORM = OrganizationInput(
    kind="platform", name_zh="申城医企协同创新平台（演示）", name_en="Shencheng Hospital–Industry Platform (demo)", city="上海"
)

INSTITUTIONS = [
    OrganizationInput(
        kind="institution", name_zh="浦江医学中心", name_en="Pujiang Medical Center", city="上海", district="徐汇区",
        grade="3A", approved_beds=2400, research_beds=200, gcp_certified=True, ethics_alliance_member=True,
        pi_concurrent_trial_threshold=5,
    ),
    OrganizationInput(
        kind="institution", name_zh="京华临床研究医院", name_en="Jinghua Clinical Research Hospital", city="北京",
        district="海淀区", grade="3A", approved_beds=1800, research_beds=150, gcp_certified=True,
        ethics_alliance_member=False, pi_concurrent_trial_threshold=4,
    ),
    OrganizationInput(
        kind="institution", name_zh="钱塘大学附属第一医院", name_en="First Affiliated Hospital of Qiantang University",
        city="杭州", district="上城区", grade="3A", approved_beds=3200, research_beds=120, gcp_certified=True,
        ethics_alliance_member=True, pi_concurrent_trial_threshold=6,
    ),
]

COMPANIES = [
    OrganizationInput(
        kind="company", name_zh="星禾生物医药有限公司", name_en="Xinghe Biopharma Co., Ltd.", city="上海",
        district="浦东新区", credit_code=credit_code("91310115MA1K3XH2Q"), segment="pharma",
    ),
    OrganizationInput(
        kind="company", name_zh="睿检诊断科技有限公司", name_en="Ruijian Diagnostics Co., Ltd.", city="杭州",
        district="滨江区", credit_code=credit_code("91330108MA2GRJ7L0"), segment="ivd",
    ),
]

# (organization index in ORGS, e-mail, name, role)
USERS = [
    (0, "admin@demo.example", "平台管理员 王敏", "platform_admin"),
    (0, "analyst@demo.example", "平台分析师 李静", "platform_analyst"),
    (1, "tto.manager@pujiang.example", "转化办主任 陈立", "tto_manager"),
    (1, "tto.staff@pujiang.example", "转化专员 周颖", "tto_staff"),
    (1, "inventor@pujiang.example", "张晓华 主任医师", "inventor"),
    (2, "tto.manager@jinghua.example", "转化办主任 刘洋", "tto_manager"),
    (3, "tto.manager@qiantang.example", "转化办主任 沈舟", "tto_manager"),
    (4, "bd.admin@xinghe.example", "商务总监 赵琳", "company_admin"),
    (4, "bd@xinghe.example", "商务经理 孙浩", "company_member"),
    (5, "admin@ruijian.example", "总经理 吴越", "company_admin"),
    # One person in two organizations, to show the organization switcher.
    (2, "consultant@demo.example", "顾问 许诺", "tto_staff"),
    (5, "consultant@demo.example", "顾问 许诺", "company_member"),
]


async def load_demo_data(session: AsyncSession) -> bool:
    """Load once: returns False and changes nothing when any organization exists."""
    from marketplace.catalog import demo as catalog_demo
    from marketplace.catalog.services import CatalogService, seed_listing

    if await organization_count(session):
        return False
    institutions = [*INSTITUTIONS, *catalog_demo.MORE_INSTITUTIONS]
    companies = [*COMPANIES, *catalog_demo.MORE_COMPANIES]
    orgs = [await seed_organization(session, data) for data in [PLATFORM, *institutions, *companies]]
    # USERS index the foundation's order: platform, its three institutions, its two companies.
    foundation = [orgs[0], *orgs[1:4], *orgs[1 + len(institutions) : 3 + len(institutions)]]
    members = {}
    for index, email, name, role in USERS:
        membership = await seed_member(session, foundation[index], email=email, name=name, role=role, password=DEMO_PASSWORD)
        members[email] = membership.user_id
    # The demo inventor is 张晓华, named on Pujiang's results, and wrote its results still in draft.
    inventor = members["inventor@pujiang.example"]
    now = datetime.now(timezone.utc)
    catalog = CatalogService(session)
    for item in catalog_demo.demo_listings():
        author = None
        if item.institution_index == 0 and item.data.kind == "result":
            for person in item.data.inventors or []:
                if person.name == catalog_demo.FOUNDATION_INVENTOR_NAME:
                    person.user_id = inventor
            author = inventor if item.status in ("draft", "pending_review") else None
        await seed_listing(
            session, orgs[1 + item.institution_index].id, item.data, status=item.status,
            published_at=item.published_at(now), confirmed_at=item.confirmed_at(now), service=catalog, flush=False,
            created_by_user_id=author,
        )
    await session.flush()
    from marketplace.matching.demo import load_demo_needs, load_demo_requests

    await load_demo_requests(session, [org.id for org in orgs[1:4]], now)
    await load_demo_needs(session, [org.id for org in orgs[1:4]], now)
    await _saved_searches(session, members["bd@xinghe.example"])
    return True


async def _saved_searches(session: AsyncSession, user_id) -> None:
    """The demo company member watches two searches, so alerts and the digest have work to show."""
    from marketplace.accounts.services import AccountService
    from marketplace.search.saved_searches import SavedSearchService

    member = await AccountService(session).principal_for_user(user_id)
    saved = SavedSearchService(session)
    await saved.create(member, "肿瘤细胞治疗成果", "q=细胞治疗&kind=result&area=oncology")
    await saved.create(member, "上海研究型病房", "q=研究型病房&kind=resource&city=上海", email_enabled=False)
