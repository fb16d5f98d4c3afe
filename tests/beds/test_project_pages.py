"""The project pages: the company creates a project through the form (a problem shown on the form
with its 4xx), adds the lead site and a participating centre, sees them side by side with the
centre holding the project back, and starts it; a centre's TTO reads the page without the forms;
a multi-centre need's poster is offered to form the project from it."""

from __future__ import annotations

import re

from marketplace.accounts.models import Role
from tests.accounts.factories import bearer_for
from tests.beds.factories import project_body, ward_listing
from tests.matching.needs.factories import OTHER_TTO, move, need_form, open_need, respond
from tests.support.web import error_of, login, post_form


async def test_a_company_runs_its_project_through_the_pages(client, db, world) -> None:
    await login(client, world.emails[Role.company_admin])
    assert "/projects/new" in (await client.get("/projects")).text
    empty = await post_form(client, "/projects", {**project_body(), "title": ""})
    assert empty.status_code == 422 and error_of(empty.text, "title")
    created = await post_form(client, "/projects", project_body())
    assert created.status_code == 302, created.text
    path = created.headers["location"]
    own, other = world.orgs["institution/own"], world.orgs["institution/other"]
    lead = await post_form(
        client, f"{path}/centres", {"institution_id": str(own.id), "centre_role": "lead", "pi_name": "张晓华", "fee": "50"}
    )
    assert lead.status_code == 302, lead.text
    bad_fee = await post_form(
        client, f"{path}/centres", {"institution_id": str(other.id), "centre_role": "participating", "fee": "五十"}
    )
    assert bad_fee.status_code == 422 and error_of(bad_fee.text, "fee")
    second_lead = await post_form(client, f"{path}/centres", {"institution_id": str(other.id), "centre_role": "lead"})
    assert second_lead.status_code == 422 and error_of(second_lead.text, "centre_role")
    participating = await post_form(client, f"{path}/centres", {"institution_id": str(other.id), "centre_role": "participating"})
    assert participating.status_code == 302

    page = (await client.get(path)).text
    assert own.name_zh in page and other.name_zh in page and "holding-back" in page
    assert page.count('class="holding-back"') == 1 and 'action="' + path + '/centres"' in page
    no_reason = await post_form(client, f"{path}/transitions", {"action": "cancel"})
    assert no_reason.status_code == 422 and 'class="problem-list"' in no_reason.text  # the reason named above the page
    started = await post_form(client, f"{path}/transitions", {"action": "start"})
    assert started.status_code == 302
    assert 'name="action" value="start"' not in (await client.get(path)).text  # running now

    # The lead site's TTO reads the page, without the company's forms.
    await login(client, world.emails[Role.tto_staff])
    seen = await client.get(path)
    assert seen.status_code == 200 and other.name_zh in seen.text and "/centres" not in seen.text
    assert path in (await client.get("/projects")).text
    await login(client, world.emails[Role.inventor])
    assert (await client.get(path)).status_code == 404


async def test_a_multi_centre_need_offers_the_project_form(client, db, world) -> None:
    await login(client, world.emails[Role.company_member])
    draft = await post_form(client, "/needs", need_form(wanted=["trial_site"], multi_centre="on"))
    assert draft.status_code == 302, draft.text
    refused = await post_form(client, "/needs", need_form(multi_centre="on"))
    assert refused.status_code == 422 and error_of(refused.text, "multi_centre")

    need = await open_need(client, world, wanted=["trial_site"], multi_centre=True)
    ward = await ward_listing(db, world, "other")
    response = (await respond(client, world, need["id"], ward.id, headers=await bearer_for(db, OTHER_TTO))).json()
    await move(client, world.bearer(Role.company_member), need["id"], response["id"], "select", nda_version=1)
    detail = (await client.get(f"/needs/{need['id']}")).text
    assert f"/projects/new?need={need['id']}" in detail
    form = (await client.get(f"/projects/new?need={need['id']}")).text
    assert re.search(rf'name="need_id" value="{need["id"]}"', form)
    created = await post_form(client, "/projects", {**project_body(), "need_id": need["id"]})
    assert created.status_code == 302, created.text
    assert world.orgs["institution/other"].name_zh in (await client.get(created.headers["location"])).text
