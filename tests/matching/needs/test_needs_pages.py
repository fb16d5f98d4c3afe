"""Needs pages: the form with field-level errors, posting and publishing, the respond form on the
need page, the poster selecting through the page (with the NDA box), and the listing page's
fragment of needs for its TTO."""

from __future__ import annotations

import re

import msgspec
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from marketplace.matching.needs.models import Need, NeedResponse
from marketplace.matching.requests.models import MatchRequest
from tests.catalog.factories import result_body, seed_listing
from tests.matching.needs.factories import need_form
from tests.support.web import login, post_form


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<small class="field-error" id="([\w_]+)-error">([^<]*)</small>', html))


async def test_the_form_shows_every_problem_at_once_and_writes_nothing(client, db, world) -> None:
    await login(client, world.emails[Role.company_member])
    page = await client.get("/needs/new")
    assert page.status_code == 200 and "发布需求" in page.text
    bad = await post_form(
        client, "/needs", need_form(title="", areas=[], wanted=[], budget_min="abc", deadline="明天", visibility="invited")
    )
    assert bad.status_code == 422
    assert set(field_errors(bad.text)) == {"title", "areas", "wanted", "budget_min", "deadline", "invited"}
    assert "请修改标出的字段" in bad.text
    past = await post_form(client, "/needs", need_form(deadline="2020-01-01", budget_min="300", budget_max="100"))
    assert past.status_code == 422 and set(field_errors(past.text)) == {"deadline", "budget_max"}
    assert (await db.scalars(select(Need))).all() == []


async def test_post_publish_respond_and_select_through_the_pages(client, db, world, mailbox) -> None:
    await login(client, world.emails[Role.company_admin])
    created = await post_form(client, "/needs", need_form())
    assert created.status_code == 302
    need_url = created.headers["location"]
    draft = await client.get(need_url)
    assert "草稿仅本单位可见" in draft.text
    assert (await post_form(client, f"{need_url}/transitions", {"action": "publish"})).status_code == 302
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    await db.commit()

    await login(client, world.emails[Role.tto_staff])
    open_page = await client.get("/needs")
    assert "寻求肝癌早期诊断试剂合作" in open_page.text
    detail = await client.get(need_url)
    assert "提交响应方案" in detail.text and listing.title_zh in detail.text
    missing = await post_form(client, f"{need_url}/responses", {"proposal": ""})
    assert missing.status_code == 422 and set(field_errors(missing.text)) >= {"proposal", "listing_ids"}
    sent = await post_form(client, f"{need_url}/responses", {"proposal": "本院可授权。", "listing_ids": str(listing.id)})
    assert sent.status_code == 302
    assert "提交响应方案" not in (await client.get(need_url)).text  # one response per institution

    await login(client, world.emails[Role.company_admin])
    mine = await client.get("/needs/mine")
    assert "寻求肝癌早期诊断试剂合作" in mine.text and "本院" in mine.text
    response = await db.scalar(select(NeedResponse))
    url = f"{need_url}/responses/{response.id}/transitions"
    unticked = await post_form(client, url, {"action": "select", "nda_version": "1"})
    assert unticked.status_code == 422 and "勾选" in unticked.text
    assert (await post_form(client, url, {"action": "select", "nda_version": "1", "accept_nda": "on"})).status_code == 302
    match = await db.scalar(select(MatchRequest))
    assert match.state == "negotiating"
    done = await client.get(need_url)
    assert "已揭榜" in done.text and f"/match-requests/{match.id}" in done.text


async def test_the_listing_page_loads_the_needs_it_may_answer_for_its_tto(client, db, world) -> None:
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    await db.commit()
    await login(client, world.emails[Role.tto_manager])
    page = await client.get(f"/listings/{listing.id}")
    assert f'hx-get="/listings/{listing.id}/needs"' in page.text
    fragment = await client.get(f"/listings/{listing.id}/needs", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "可响应的需求" in fragment.text and "<html" not in fragment.text
    await login(client, world.emails[Role.company_member])
    assert f'hx-get="/listings/{listing.id}/needs"' not in (await client.get(f"/listings/{listing.id}")).text
