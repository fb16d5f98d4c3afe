"""A listing's page knows its viewer (issue 16): a company sees its own request on the listing
instead of a new "request a match"; confidential details once granted, and "not filled in" only when
the owner left them empty; a personal shortlist with notes; a one-page PDF of the public information;
the owning TTO sees who has asked and how often the listing was viewed."""

from __future__ import annotations

import io
import re

import msgspec
from pypdf import PdfReader
from sqlalchemy import func, select, update

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing, ShortlistEntry
from marketplace.catalog.schemas import ListingCreate
from tests.catalog.factories import published, result_body, seed_listing
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, create, move
from tests.support.page_cache import views_written
from tests.support.web import login, post_form

SECRET = "MKT-SECRET-7731"
CTA = "申请对接"  # the "request a match" button


def side_column(html: str) -> str:
    return html.split('<aside class="listing-side">', 1)[1]


async def test_a_company_sees_its_own_request_on_the_listing_instead_of_a_new_call_to_action(client, db, world) -> None:
    listing_id = await published(db, world)
    await login(client, world.emails[Role.company_member])
    before = side_column((await client.get(f"/listings/{listing_id}")).text)
    assert CTA in before and "贵公司的对接申请" not in before

    request = await create(db, world, listing_id)
    html = (await client.get(f"/listings/{listing_id}")).text
    side = side_column(html)
    assert "贵公司的对接申请" in side and "待答复" in side
    assert re.search(r"机构技术转移办公室将在 \d{4}-\d\d-\d\d 前答复", side)
    assert f'href="/match-requests/{request.id}"' in side
    assert f'href="/listings/{listing_id}/match-request"' not in side  # no new call to action
    # Not granted yet: the page says how the details come, never "not filled in".
    assert SECRET not in html and "未填写" not in html and "尚未填写" not in html
    assert "机构接受贵公司的申请后，保密信息将显示在这里。" in html
    # The request form's address leads to the request, and says so.
    again = await client.get(f"/listings/{listing_id}/match-request", follow_redirects=True)
    assert str(again.url).endswith(f"/match-requests/{request.id}")
    assert "贵公司已就此条目提交过对接申请，以下是该申请。" in again.text

    # Another company's member sees nothing of it.
    await login(client, OTHER_COMPANY_ADMIN)
    other = side_column((await client.get(f"/listings/{listing_id}")).text)
    assert "贵公司的对接申请" not in other and CTA in other

    # Declined: the old request is shown with the way to a new one.
    await move(db, world, request.id, "decline", Role.tto_manager, "暂不考虑")
    await login(client, world.emails[Role.company_member])
    side = side_column((await client.get(f"/listings/{listing_id}")).text)
    assert "已拒绝" in side and "重新提交申请" in side and f'href="/listings/{listing_id}/match-request"' in side


async def test_granted_details_show_and_not_filled_in_means_empty(client, db, world) -> None:
    listing_id = await published(db, world)
    empty_id = await published(db, world, confidential_details=None)
    for target in (listing_id, empty_id):
        request = await create(db, world, target)
        await move(db, world, request.id, "accept", Role.tto_manager)
    await login(client, world.emails[Role.company_member])
    html = (await client.get(f"/listings/{listing_id}")).text
    assert SECRET in html and "已接受" in side_column(html)
    assert "下一步请在申请页面开始洽谈" in html
    empty = (await client.get(f"/listings/{empty_id}")).text
    assert "机构未填写此条目的保密信息。" in empty


async def test_the_shortlist_adds_once_keeps_a_note_and_is_personal(client, db, world) -> None:
    listing_id = await published(db, world)
    withdrawn_later = await published(db, world, relation="other", title_zh="稍后撤回的条目")
    await login(client, world.emails[Role.company_member])
    for _ in range(2):  # a double submit adds nothing
        response = await post_form(client, f"/listings/{listing_id}/shortlist", {"note": "问许可费"})
        assert response.status_code == 302
    await post_form(client, f"/listings/{withdrawn_later}/shortlist", {"note": ""})
    rows = await db.scalar(select(func.count()).select_from(ShortlistEntry))
    assert rows == 2
    entry = await db.scalar(select(ShortlistEntry).where(ShortlistEntry.listing_id == listing_id))
    assert entry.note == "问许可费"
    page = (await client.get(f"/listings/{listing_id}")).text
    assert "已在收藏清单" in page and "问许可费" in page

    assert (await post_form(client, f"/shortlist/{entry.id}/note", {"note": "已约周三电话"})).status_code == 302
    too_long = await post_form(client, f"/shortlist/{entry.id}/note", {"note": "长" * 1001})
    assert too_long.status_code == 422 and "长" * 1001 in too_long.text  # kept, to shorten
    listing = (await client.get("/shortlist")).text
    assert "已约周三电话" in listing and "基于外泌体的早期肝癌检测方法" in listing and "稍后撤回的条目" in listing

    # Only published listings show: one withdrawn by its institution leaves the list.
    await db.execute(update(Listing).where(Listing.id == withdrawn_later).values(status="withdrawn"))
    await db.commit()
    assert "稍后撤回的条目" not in (await client.get("/shortlist")).text

    # Another person's entry answers 404, to read or change; a TTO keeps no shortlist.
    await login(client, world.emails[Role.company_admin])
    assert "已约周三电话" not in (await client.get("/shortlist")).text
    assert (await post_form(client, f"/shortlist/{entry.id}/note", {"note": "改"})).status_code == 404
    assert (await post_form(client, f"/shortlist/{entry.id}/delete")).status_code == 404
    await login(client, world.emails[Role.tto_staff])
    assert (await post_form(client, f"/listings/{listing_id}/shortlist")).status_code == 403

    await login(client, world.emails[Role.company_member])
    assert (await post_form(client, f"/shortlist/{entry.id}/delete")).status_code == 302
    assert await db.scalar(select(func.count()).select_from(ShortlistEntry).where(ShortlistEntry.listing_id == listing_id)) == 0


async def test_a_one_page_pdf_of_the_public_information(client, db, world) -> None:
    listing_id = await published(db, world)
    response = await client.get(f"/listings/{listing_id}/summary.pdf")  # anyone who may see it
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Exosome" in text or "外泌体" in text
    assert f"/listings/{listing_id}" in text
    assert SECRET not in text and "6000" not in text
    draft = (await seed_listing(db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate))).id
    await db.commit()
    assert (await client.get(f"/listings/{draft}/summary.pdf")).status_code == 404
    page = (await client.get(f"/listings/{listing_id}")).text
    assert f'href="/listings/{listing_id}/summary.pdf"' in page


async def test_the_owner_sees_who_has_asked_and_how_often_it_was_viewed(client, db, world) -> None:
    listing_id = await published(db, world, body=result_body())
    await login(client, world.emails[Role.tto_staff])
    html = (await client.get(f"/listings/{listing_id}")).text
    assert "尚无企业申请对接此条目。" in html and "本机构以外的访客浏览 0 次" in html

    request = await create(db, world, listing_id)
    await login(client, world.emails[Role.company_member])
    member_view = (await client.get(f"/listings/{listing_id}")).text
    assert "访客浏览" not in member_view and "已申请对接的企业" not in member_view
    await client.get(f"/listings/{listing_id}")  # from the page kept for this session, counted soon after
    assert await views_written(db, listing_id, 2) == 2
    await login(client, world.emails[Role.tto_staff])
    html = (await client.get(f"/listings/{listing_id}")).text  # the owner's own view is not counted
    assert "本机构以外的访客浏览 2 次" in html
    asked = html.split("已申请对接的企业", 1)[1]
    assert f'href="/match-requests/{request.id}"' in asked and world.orgs["company/own"].name_zh in asked
    assert "待答复" in asked
