"""Wards and bed allocations through the pages: the TTO adds a ward, the calendar's heat map
(months × days, classes and a legend, no inline style), a company picks a free day and sends the
prefilled request, the TTO answers it from the ward's page, and a refusal over capacity names
the day."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.beds.models import BedAllocation, Ward
from tests.beds.factories import future, move_allocation, request_beds, seed_ward
from tests.support.web import error_of, login, post_form


def request_form(**changes) -> dict:
    form = {
        "starts_on": future(10).isoformat(),
        "ends_on": future(20).isoformat(),
        "bed_count": "3",
        "trial_title": "一项抗肿瘤新药Ⅰ期临床试验",
        "phase": "I",
        "sponsor": "本企业",
        "pi_name": "张晓华",
        "protocol_summary": "剂量递增。",
        "fee": "12,000.50",
    }
    form.update(changes)
    return form


async def test_the_calendar_is_a_heat_map_a_company_books_from(client, db, world) -> None:
    ward = await seed_ward(db, world, beds=4)
    held = await request_beds(db, world, ward, future(3), future(4), beds=4)
    await move_allocation(db, world, held.id, "approve")
    await login(client, world.emails[Role.company_member])
    page = await client.get(f"/wards/{ward.id}")
    assert page.status_code == 200
    html = page.text
    assert 'style="' not in html and "bed-legend" in html
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">", html)) in (12, 13)  # months, not 365 rows
    assert f'data-day="{future(3).isoformat()}" data-free="0"' in html and "bed-full" in html
    pick = f"/wards/{ward.id}/request?starts_on={future(10).isoformat()}"
    assert pick in html  # a free day links to the request form

    form_page = await client.get(pick)
    assert form_page.status_code == 200 and f'value="{future(10).isoformat()}"' in form_page.text
    sent = await post_form(client, f"/wards/{ward.id}/request", request_form())
    assert sent.status_code == 302
    allocation = await db.scalar(select(BedAllocation).where(BedAllocation.state == "requested"))
    assert allocation is not None and allocation.fee_fen == 1_200_050 and allocation.beds == 3

    bad = await post_form(client, f"/wards/{ward.id}/request", request_form(fee="abc"))
    assert bad.status_code == 422 and error_of(bad.text, "fee")
    bad = await post_form(client, f"/wards/{ward.id}/request", request_form(bed_count="9"))
    assert bad.status_code == 422 and error_of(bad.text, "bed_count")


async def test_the_tto_answers_from_the_wards_page_and_an_overfull_day_is_named(client, db, world) -> None:
    ward = await seed_ward(db, world, beds=4)
    first = await request_beds(db, world, ward, future(3), future(6), beds=3)
    second = await request_beds(db, world, ward, future(5), future(8), beds=2)
    await move_allocation(db, world, first.id, "approve")
    await login(client, world.emails[Role.tto_staff])
    page = (await client.get(f"/wards/{ward.id}")).text
    assert f'action="/bed-allocations/{second.id}/transitions"' in page and 'value="approve"' in page
    refused = await post_form(client, f"/bed-allocations/{second.id}/transitions", {"action": "approve"})
    assert refused.status_code == 409 and future(5).isoformat() in refused.text
    waitlisted = await post_form(client, f"/bed-allocations/{second.id}/transitions", {"action": "waitlist"})
    assert waitlisted.status_code == 302
    assert (await db.get(BedAllocation, second.id, populate_existing=True)).state == "waitlisted"
    listing = (await client.get("/bed-allocations?state=waitlisted")).text
    assert str(second.id) in listing and str(first.id) not in listing


async def test_the_tto_adds_a_ward_and_sees_the_10_percent_rule(client, db, world) -> None:
    ward = await seed_ward(db, world, beds=4)
    await login(client, world.emails[Role.tto_manager])
    page = (await client.get("/wards")).text
    assert 'action="/wards"' in page and "research-beds" in page
    form = {
        "listing_id": str(ward.listing_id),
        "name": "二病区",
        "specialty": "血液",
        "research_beds": "6",
        "opens_on": "2026-01-01",
    }
    added = await post_form(client, "/wards", form)
    assert added.status_code == 302
    assert await db.scalar(select(Ward.beds).where(Ward.name == "二病区")) == 6
    again = await post_form(client, "/wards", form | {"research_beds": "x"})
    assert again.status_code == 422 and error_of(again.text, "research_beds")


async def test_the_navigation_names_the_research_wards(client, db, world) -> None:
    await login(client, world.emails[Role.company_admin])
    assert 'href="/wards"' in (await client.get("/wards")).text
    await login(client, world.emails[Role.inventor])
    assert 'href="/wards"' not in (await client.get("/")).text
