"""Home pages as work queues: for each role, fixed data gives exact counts on `/`, each linking to the
filtered list that shows exactly those records; another organization's records never count."""

from __future__ import annotations

import re
from datetime import timedelta

from marketplace.accounts.models import Role
from marketplace.db import china_today, utcnow
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.services import ThreadService
from tests.analytics.factories import card_map, cards, listing, request_on
from tests.ledger.factories import income_body, ledger_with_two_inventors, ready_institutions, record, result_with_inventor
from tests.licensing.factories import licence_in_force
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, create, move
from tests.support.web import login

OTHER_TTO = "admin@institution.other.test"


def closing_link() -> str:
    today = china_today()
    return f"/needs?deadline_from={today.isoformat()}&deadline_to={(today + timedelta(days=14)).isoformat()}"


# ----- the institution's TTO -------------------------------------------------------------------


async def tto_world(db, world):
    overdue = await request_on(db, world, "逾期未答复成果", days_ago=40)
    await request_on(db, world, "新请求成果甲")
    await request_on(db, world, "新请求成果乙")
    await request_on(db, world, "他院逾期成果", days_ago=40, relation="other")
    await listing(db, world, "待审核成果", status="pending_review")
    await listing(db, world, "待确认成果", confirmed_at=utcnow() - timedelta(days=170))
    agreement = await licence_in_force(db, world, title="许可协议成果")
    return overdue, agreement


async def test_the_tto_home_page_is_its_work_queue(client, db, world) -> None:
    overdue, agreement = await tto_world(db, world)
    for role in (Role.tto_manager, Role.tto_staff):
        await login(client, world.emails[role])
        page = (await client.get("/")).text
        first = cards(page)[0]
        # The only overdue request: the card leads straight to it.
        assert (first.key, first.count, first.href, first.warn) == (
            "overdue-requests",
            "1",
            f"/match-requests/{overdue.id}",
            True,
        )
        assert card_map(page) == {
            "overdue-requests": ("1", f"/match-requests/{overdue.id}"),
            "requests-to-answer": ("3", "/match-requests?state=submitted"),
            "requests-unread": ("0", "/match-requests?unread=1"),
            "needs-closing": ("0", closing_link()),
            "listings-to-review": ("1", "/review#pending"),
            "listings-to-reconfirm": ("1", "/review#due"),
            "agreements-due": ("1", "/agreements?due=1"),
            "allocations-to-decide": ("0", "/bed-allocations?state=requested"),
            "reviews-late": ("0", "/trial-engagements?late=1"),
        }
        assert "已逾期的对接申请" in page and "待答复的对接申请" in page
        assert "发布第一项成果" not in page
    # The manager's recent activity names the agreement by its title and links to it.
    await login(client, world.emails[Role.tto_manager])
    page = (await client.get("/")).text
    assert re.search(rf'<a href="/agreements/{agreement.id}" class="event-subject">协议 许可协议成果</a>', page)


async def test_the_tto_links_lead_to_exactly_those_records(client, db, world) -> None:
    overdue, agreement = await tto_world(db, world)
    await login(client, world.emails[Role.tto_staff])
    late = (await client.get("/match-requests?overdue=1")).text
    assert f"/match-requests/{overdue.id}" in late and "逾期未答复成果" in late
    for absent in ("新请求成果甲", "新请求成果乙", "他院逾期成果"):
        assert absent not in late
    assert "仅显示已过答复期限的申请" in late
    waiting = (await client.get("/match-requests?state=submitted")).text
    assert all(title in waiting for title in ("逾期未答复成果", "新请求成果甲", "新请求成果乙"))
    assert "他院逾期成果" not in waiting
    due = (await client.get("/agreements?due=1")).text
    assert f"/agreements/{agreement.id}" in due and "仅显示有款项逾期或30天内到期的协议" in due
    review = (await client.get("/review")).text
    assert "待审核成果" in review and "待确认成果" in review


async def test_another_institutions_overdue_request_never_counts(client, db, world) -> None:
    theirs = await request_on(db, world, "他院逾期成果", days_ago=40, relation="other")
    await login(client, world.emails[Role.tto_manager])
    page = (await client.get("/")).text
    assert card_map(page)["overdue-requests"] == ("0", "/match-requests?overdue=1")
    assert not cards(page)[0].warn
    assert "他院逾期成果" not in (await client.get("/match-requests?overdue=1")).text
    # Their own TTO counts it, and reaches it.
    await request_on(db, world, "他院第二项逾期成果", days_ago=40, relation="other")
    await login(client, OTHER_TTO)
    page = (await client.get("/")).text
    assert card_map(page)["overdue-requests"] == ("2", "/match-requests?overdue=1")
    assert f"/match-requests/{theirs.id}" in (await client.get("/match-requests?overdue=1")).text


async def test_a_tto_without_listings_is_told_to_publish_its_first_result(client, world) -> None:
    await login(client, world.emails[Role.tto_manager])
    page = (await client.get("/")).text
    assert "发布第一项成果" in page and 'href="/listings/new?kind=result"' in page
    assert card_map(page)["overdue-requests"] == ("0", "/match-requests?overdue=1")


# ----- the inventor ----------------------------------------------------------------------------


async def test_the_inventor_sees_their_results_requests_and_balance(client, db, world) -> None:
    await ledger_with_two_inventors(db, world)  # a published result naming them; ¥5,300.00 owed
    named = world.scratch["result"]
    inventor = await world.principal(db, world.emails[Role.inventor])
    mine = [{"name": "发明人", "share_bp": 10000, "user_id": str(inventor.user_id)}]
    await listing(db, world, "发明人草稿", status="draft", inventors=mine)
    await request_on(db, world, "本院他人成果")  # neither theirs nor a request they see
    request = await create(db, world, named)
    await login(client, world.emails[Role.inventor])
    page = (await client.get("/")).text
    assert card_map(page) == {
        "results-draft": ("1", "/listings?show=own&status=draft"),
        "results-published": ("1", "/listings?show=own&status=published"),
        "requests-submitted": ("1", "/match-requests?state=submitted"),
        "balance": ("¥5,300.00", "/statements/me"),
    }
    published = (await client.get("/listings?show=own&status=published")).text
    assert "基于外泌体的早期肝癌检测方法" in published and "本院他人成果" not in published
    drafts = (await client.get("/listings?show=own&status=draft")).text
    assert "发明人草稿" in drafts
    requests = (await client.get("/match-requests?state=submitted")).text
    assert f"/match-requests/{request.id}" in requests and "本院他人成果" not in requests


# ----- the company -----------------------------------------------------------------------------


async def test_the_company_sees_what_waits_for_it(client, db, world, settings) -> None:
    asked = await request_on(db, world, "需补充信息成果")
    await move(db, world, asked.id, "request_info", Role.tto_staff, reason="请补充临床数据")
    tto = await world.principal(db, world.emails[Role.tto_staff])
    await ThreadService(db, settings).post(tto, SubjectKindName.match_request, asked.id, "请补充Ⅰ期临床数据。")
    await db.commit()
    await request_on(db, world, "已提交成果")
    await request_on(db, world, "他企业成果", relation="other")  # the other company's
    await licence_in_force(db, world)
    common = {
        "replies-waiting": ("1", "/match-requests?state=info_requested"),
        "requests-unread": ("1", "/match-requests?unread=1"),
        "responses-to-decide": ("0", "/needs/mine"),
        "new-finds": ("0", "/saved-searches"),
        "requests-submitted": ("1", "/match-requests?state=submitted"),
        "requests-info_requested": ("1", "/match-requests?state=info_requested"),
    }
    await login(client, world.emails[Role.company_member])
    page = (await client.get("/")).text
    assert card_map(page) == common
    assert cards(page)[0].key == "replies-waiting" and cards(page)[0].warn
    await login(client, world.emails[Role.company_admin])
    page = (await client.get("/")).text
    assert card_map(page) == {**common, "licences-due": ("1", "/agreements?due=1")}
    # Recent activity names the request by its listing and links to it.
    assert f'href="/match-requests/{asked.id}"' in page and "需补充信息成果" in page
    for url in ("/match-requests?state=info_requested", "/match-requests?unread=1"):
        waiting = (await client.get(url)).text
        assert "需补充信息成果" in waiting and "已提交成果" not in waiting and "他企业成果" not in waiting
    # Read, the message no longer waits.
    assert (await client.get(f"/match-requests/{asked.id}")).status_code == 200
    assert card_map((await client.get("/")).text)["requests-unread"] == ("0", "/match-requests?unread=1")


async def test_a_company_without_requests_is_sent_to_the_catalogue(client, db, world) -> None:
    await request_on(db, world, "本企业成果")  # the own company's, not theirs
    await login(client, OTHER_COMPANY_ADMIN)
    page = (await client.get("/")).text
    assert "搜索成果目录" in page and 'href="/search"' in page
    assert card_map(page)["replies-waiting"] == ("0", "/match-requests?state=info_requested")
    assert "requests-submitted" not in card_map(page)


# ----- the platform ----------------------------------------------------------------------------


async def test_the_platform_sees_the_pipeline_and_what_is_stuck(client, db, world) -> None:
    await request_on(db, world, "本院逾期成果", days_ago=40)
    await request_on(db, world, "他院逾期成果", days_ago=40, relation="other")
    await request_on(db, world, "新近成果")
    await listing(db, world, "平台待审核成果", status="pending_review")
    await ready_institutions(db, world)
    result = await result_with_inventor(db, world, "own")
    manager = await world.principal(db, world.emails[Role.tto_manager])
    await record(db, manager, income_body(result.id, 1_000_000, received_on=china_today().isoformat()))
    for role in (Role.platform_admin, Role.platform_analyst):
        await login(client, world.emails[role])
        page = (await client.get("/")).text
        assert card_map(page) == {
            "overdue-requests": ("2", "/match-requests?overdue=1"),
            "stalled-requests": ("2", "/match-requests?stalled=1"),
            "listings-awaiting-review": ("1", "/listings?status=pending_review"),
            "requests-submitted": ("3", "/match-requests?state=submitted"),
            "income-this-month": ("¥10,000.00", "/ledger/income"),
        }
        assert cards(page)[0].key == "overdue-requests" and cards(page)[0].warn
    stalled = (await client.get("/match-requests?stalled=1")).text
    assert "本院逾期成果" in stalled and "他院逾期成果" in stalled and "新近成果" not in stalled
    pending = (await client.get("/listings?status=pending_review")).text
    assert "平台待审核成果" in pending and "本院逾期成果" not in pending
