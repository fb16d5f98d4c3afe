"""Matching through the pages, and the line around confidential details: hidden from a company
until its request is accepted under the current NDA, through the listing page and the API alike."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import ConfidentialGrant
from marketplace.catalog.services import CatalogService
from marketplace.matching.requests.models import MatchRequest
from tests.accounts.factories import bearer_for
from tests.catalog.factories import published
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, create, match_form, move, state_of
from tests.support.web import login, post_form

SECRET = "MKT-SECRET-7731"


async def count(db) -> int:
    return await db.scalar(select(func.count()).select_from(MatchRequest))


def error_of(html: str, name: str) -> str:
    match = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', html)
    assert match, f"no error shown for {name}"
    return match.group(1)


# ----- confidential details: each side of the line ---------------------------------------------


async def test_confidential_details_follow_the_request_and_the_current_nda(client, db, world) -> None:
    listing_id = await published(db, world)
    request = await create(db, world, listing_id)
    other_company = await bearer_for(db, OTHER_COMPANY_ADMIN)

    async def api_sees(headers) -> bool:
        body = (await client.get(f"/api/v1/listings/{listing_id}", headers=headers)).json()
        return body.get("confidential_details") == "未公开数据：关键引物序列 MKT-SECRET-7731"

    signed_in = {"as": None}

    async def sign_in(email) -> None:
        if signed_in["as"] != email:  # sign-ins are rate-limited per address
            await login(client, email)
            signed_in["as"] = email

    async def page_sees(email) -> bool:
        await sign_in(email)
        html = (await client.get(f"/listings/{listing_id}")).text
        return SECRET in html

    own = world.emails[Role.company_member]
    # Before the institution accepts: hidden from the requesting company, as from everyone else.
    assert not await api_sees(world.bearer(Role.company_member)) and not await page_sees(own)
    await move(db, world, request.id, "review", Role.tto_staff)
    assert not await api_sees(world.bearer(Role.company_admin))

    # Accepted: shown to the requesting company (both of its roles), not to another company.
    await move(db, world, request.id, "accept", Role.tto_manager)
    assert await api_sees(world.bearer(Role.company_member)) and await api_sees(world.bearer(Role.company_admin))
    assert await page_sees(own) and await page_sees(world.emails[Role.company_admin])
    assert not await api_sees(other_company) and not await page_sees(OTHER_COMPANY_ADMIN)
    await move(db, world, request.id, "start_negotiation", Role.company_member)
    assert await api_sees(world.bearer(Role.company_member))
    # The listing's own history stays with the institution.
    await sign_in(own)
    assert "listing_created" not in (await client.get(f"/listings/{listing_id}")).text

    # A new NDA version: hidden again until the company accepts it.
    published_nda = await client.post(
        "/api/v1/nda-versions",
        json={"text_zh": "保密协议（第2版）", "text_en": "Confidentiality agreement (version 2)"},
        headers=world.bearer(Role.platform_admin),
    )
    assert published_nda.status_code == 201 and published_nda.json()["version"] == 2
    assert not await api_sees(world.bearer(Role.company_member)) and not await page_sees(own)
    html = (await client.get(f"/listings/{listing_id}")).text
    assert "新版保密协议" in html
    detail = (await client.get(f"/match-requests/{request.id}")).text
    assert "保密协议（第2版）" in detail and 'value="accept_nda"' in detail
    # Accepting needs the tick and the version shown.
    unticked = await post_form(client, f"/match-requests/{request.id}/transitions", {"action": "accept_nda", "nda_version": "2"})
    assert unticked.status_code == 422 and not await api_sees(world.bearer(Role.company_member))
    stale = await client.post(
        f"/api/v1/match-requests/{request.id}/transitions",
        json={"action": "accept_nda", "nda_version": 1},
        headers=world.bearer(Role.company_member),
    )
    assert stale.status_code == 422 and stale.json()["errors"][0]["field"] == "nda_version"
    accepted = await post_form(
        client, f"/match-requests/{request.id}/transitions", {"action": "accept_nda", "nda_version": "2", "accept_nda": "on"}
    )
    assert accepted.status_code == 302
    assert await api_sees(world.bearer(Role.company_member)) and await page_sees(own)
    assert await state_of(db, request.id) == "negotiating"
    again = await client.post(
        f"/api/v1/match-requests/{request.id}/transitions",
        json={"action": "accept_nda", "nda_version": 2},
        headers=world.bearer(Role.company_member),
    )
    assert again.status_code == 409

    # Withdrawn: the access goes with it.
    await move(db, world, request.id, "withdraw", Role.company_member)
    assert not await api_sees(world.bearer(Role.company_member)) and not await page_sees(own)
    assert await db.scalar(select(func.count()).select_from(ConfidentialGrant)) == 0


async def test_closing_without_a_deal_takes_access_back_but_an_agreement_keeps_it(client, db, world) -> None:
    closed, agreed = await published(db, world), await published(db, world)
    for listing_id, ending in ((closed, "close_no_deal"), (agreed, "agree")):
        request = await create(db, world, listing_id)
        await move(db, world, request.id, "accept", Role.tto_manager)
        await move(db, world, request.id, "start_negotiation", Role.tto_staff)
        if ending == "agree":
            await move(db, world, request.id, "agree", Role.company_admin)
            await move(db, world, request.id, "agree", Role.tto_manager)
        else:
            await move(db, world, request.id, "close_no_deal", Role.tto_manager, "价格未谈拢")
    company = await world.principal(db, world.emails[Role.company_member])
    catalog = CatalogService(db)
    listings = await catalog.listing_refs({closed, agreed})
    assert await catalog.confidential_listing_ids(company, list(listings.values())) == {agreed}


# ----- the company's side -----------------------------------------------------------------------


async def test_a_company_requests_a_match_from_the_listing_page(client, db, world) -> None:
    listing_id = await published(db, world)
    await login(client, world.emails[Role.company_member])
    detail = (await client.get(f"/listings/{listing_id}")).text
    assert f'href="/listings/{listing_id}/match-request"' in detail and "申请对接" in detail
    form = (await client.get(f"/listings/{listing_id}/match-request")).text
    assert "保密协议（第1版）" in form and 'name="accept_nda"' in form and "10 个工作日" in form
    path = f"/listings/{listing_id}/match-request"

    unticked = await post_form(client, path, match_form(accept_nda=""))
    assert unticked.status_code == 422 and error_of(unticked.text, "accept_nda")
    reversed_budget = await post_form(client, path, match_form(budget_min="80", budget_max="50"))
    assert reversed_budget.status_code == 422 and error_of(reversed_budget.text, "budget_max")
    not_money = await post_form(client, path, match_form(budget_min="五十", purpose=""))
    assert not_money.status_code == 422 and error_of(not_money.text, "budget_min")
    assert "五十" in not_money.text  # what was typed is shown again
    empty = await post_form(client, path, match_form(purpose="  ", engagement_type="resource_use"))
    assert empty.status_code == 422 and error_of(empty.text, "purpose") and error_of(empty.text, "engagement_type")
    assert await count(db) == 0

    sent = await post_form(client, path, match_form(budget_min="12.5"))
    assert sent.status_code == 302
    request_id = uuid.UUID(sent.headers["location"].rsplit("/", 1)[1])
    stored = await db.get(MatchRequest, request_id)
    assert (stored.budget_min_fen, stored.budget_max_fen) == (12_500_000, 80_000_000) and stored.nda_version == 1
    page = (await client.get(f"/match-requests/{request_id}", follow_redirects=True)).text
    assert "待答复" in page and "12.5–80 万元" in page and "撤回申请" in page and "开始审核" not in page
    assert 'id="thread"' in page
    # Asking again leads to the request already open.
    again = await client.get(path, follow_redirects=False)
    assert again.status_code == 302 and again.headers["location"] == f"/match-requests/{request_id}"
    mine = (await client.get("/match-requests")).text
    assert f"/match-requests/{request_id}" in mine and "对接申请" in mine
    await login(client, OTHER_COMPANY_ADMIN)
    assert f"/match-requests/{request_id}" not in (await client.get("/match-requests")).text
    assert (await client.get(f"/match-requests/{request_id}")).status_code == 404


async def test_who_is_offered_the_request_button(client, db, world) -> None:
    listing_id = await published(db, world)
    anonymous = (await client.get(f"/listings/{listing_id}")).text
    assert f"/login?next=/listings/{listing_id}" in anonymous and f"/listings/{listing_id}/match-request" not in anonymous
    for role in (Role.tto_manager, Role.inventor, Role.platform_admin):
        await login(client, world.emails[role])
        assert f"/listings/{listing_id}/match-request" not in (await client.get(f"/listings/{listing_id}")).text
    await login(client, world.emails[Role.company_admin])
    assert 'href="/match-requests"' in (await client.get("/")).text


# ----- the institution's side -------------------------------------------------------------------


async def test_the_tto_answers_on_the_request_page(client, db, world) -> None:
    request = await create(db, world, await published(db, world))
    await login(client, world.emails[Role.tto_staff])
    assert 'href="/match-requests/inbox"' in (await client.get("/")).text
    page = (await client.get(f"/match-requests/{request.id}")).text
    for label in ("开始审核", "要求补充信息", "接受申请", "婉拒申请"):
        assert label in page
    assert "撤回申请" not in page and "应于" in page

    path = f"/match-requests/{request.id}/transitions"
    refused = await post_form(client, path, {"action": "decline", "reason": ""})
    assert refused.status_code == 422 and "请填写" in refused.text
    assert await state_of(db, request.id) == "submitted"
    wrong = await post_form(client, path, {"action": "start_negotiation"})
    assert wrong.status_code == 409 and "不能" in wrong.text
    asked = await post_form(client, path, {"action": "request_info", "reason": "请说明拟申报的注册类别。"})
    assert asked.status_code == 302
    page = (await client.get(f"/match-requests/{request.id}")).text
    assert "待补充信息" in page and "请说明拟申报的注册类别。" in page and "要求补充信息" in page

    await login(client, world.emails[Role.company_member])
    answered = await post_form(client, path, {"action": "provide_info", "reason": "三类医疗器械。"})
    assert answered.status_code == 302
    await login(client, world.emails[Role.tto_manager])
    assert (await post_form(client, path, {"action": "accept"})).status_code == 302
    assert await state_of(db, request.id) == "accepted"
    # Someone who only follows the request sees no steps.
    await login(client, world.emails[Role.platform_analyst])
    followed = (await client.get(f"/match-requests/{request.id}")).text
    assert "已接受" in followed and 'name="action"' not in followed
