"""Institution and company profiles: the administrator's form (description, contact, logo checked
by content), the logo as served, and the institution's response record from its real requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Organization, OrganizationLogo, Role
from marketplace.audit.models import AuditEvent
from marketplace.matching.requests.models import MatchRequest
from marketplace.matching.requests.response_record import working_days_between
from tests.catalog.factories import published
from tests.matching.requests.factories import create
from tests.support.files import PDF, PNG
from tests.support.web import error_of, login, post_form
from tests.support.world import World

PROFILE = {
    "description_zh": "浦江医学中心成果转化办公室负责专利许可与临床合作。",
    "description_en": "The transfer office handles licences and clinical partnerships.",
    "contact_name": "林晓雯",
    "contact_title": "转化办主任",
    "contact_email": "tto@pujiang.example",
    "contact_phone": "021-6514 8606",
}
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


async def test_the_tto_manager_writes_the_profile_that_everyone_reads_in_their_language(client, db, world: World) -> None:
    org = world.orgs["institution/own"]
    await login(client, world.emails[Role.tto_manager])
    form = await client.get(f"/organizations/{org.id}/profile")
    assert form.status_code == 200 and 'name="description_en"' in form.text
    saved = await post_form(client, f"/organizations/{org.id}/profile", PROFILE, files={"logo": ("logo.png", PNG, "image/png")})
    assert saved.status_code == 302 and saved.headers["location"] == f"/institutions/{org.id}"

    client.cookies.clear()
    page = (await client.get(f"/institutions/{org.id}")).text
    assert PROFILE["description_zh"] in page and PROFILE["description_en"] not in page
    assert "林晓雯" in page and "转化办主任" in page and 'href="mailto:tto@pujiang.example"' in page
    assert "转化办联系人" in page
    logo_src = re.search(r'src="(/organizations/[^"]+/logo\?v=[0-9a-f]+)"', page)
    assert logo_src, "the profile shows the logo"
    client.cookies["lang"] = "en"
    english = (await client.get(f"/institutions/{org.id}")).text
    assert PROFILE["description_en"] in english and PROFILE["description_zh"] not in english
    assert "Transfer office contact" in english

    logo = await client.get(logo_src.group(1))
    assert logo.status_code == 200 and logo.content == PNG
    assert logo.headers["content-type"] == "image/png"
    assert logo.headers["x-content-type-options"] == "nosniff"

    action = await db.scalar(select(AuditEvent).where(AuditEvent.action == "organization_profile_changed"))
    assert action is not None and "logo" in action.data["fields"] and "contact_name" in action.data["fields"]


async def test_a_file_that_is_not_an_image_is_refused_beside_the_logo_field_and_nothing_is_kept(client, db, world: World) -> None:
    org = world.orgs["company/own"]
    await login(client, world.emails[Role.company_admin])
    # A PDF named .png, and a bad e-mail address: both reported at once, what was typed kept.
    answer = await post_form(
        client,
        f"/organizations/{org.id}/profile",
        {**PROFILE, "contact_email": "not-an-address"},
        files={"logo": ("logo.png", PDF, "image/png")},
    )
    assert answer.status_code == 422
    assert error_of(answer.text, "logo") == "标志必须是 PNG、JPEG 或 WebP 图片。"
    assert error_of(answer.text, "contact_email") == "不是有效的电子邮箱地址。"
    assert PROFILE["description_zh"] in answer.text  # kept in the form
    assert await db.scalar(select(OrganizationLogo).where(OrganizationLogo.organization_id == org.id)) is None
    stored = await db.scalar(select(Organization.description_zh).where(Organization.id == org.id))
    assert stored == ""

    too_big = await post_form(
        client, f"/organizations/{org.id}/profile", PROFILE, files={"logo": ("big.png", PNG + b"\x00" * 600_000, "image/png")}
    )
    assert too_big.status_code == 422 and "512 KB" in error_of(too_big.text, "logo")

    webp = await post_form(client, f"/organizations/{org.id}/profile", PROFILE, files={"logo": ("logo.webp", WEBP, "image/webp")})
    assert webp.status_code == 302 and webp.headers["location"] == f"/companies/{org.id}"
    company_page = (await client.get(f"/companies/{org.id}")).text
    src = re.search(r'src="(/organizations/[^"]+/logo\?v=[0-9a-f]+)"', company_page)
    assert src and (await client.get(src.group(1))).headers["content-type"] == "image/webp"


async def test_only_the_administrator_may_open_the_profile_form(client, world: World) -> None:
    org = world.orgs["institution/own"]
    await login(client, world.emails[Role.tto_staff])
    assert (await client.get(f"/organizations/{org.id}/profile")).status_code == 403
    assert f'href="/organizations/{org.id}/profile"' not in (await client.get(f"/institutions/{org.id}")).text
    await login(client, world.emails[Role.tto_manager])
    assert f'href="/organizations/{org.id}/profile"' in (await client.get(f"/institutions/{org.id}")).text
    other = world.orgs["institution/other"]
    assert (await client.get(f"/organizations/{other.id}/profile")).status_code == 404


@pytest.mark.parametrize(
    ("submitted", "answered", "days"),
    [
        ("2026-11-02T10:00:00+08:00", "2026-11-02T16:00:00+08:00", 0),  # the same day
        ("2026-11-06T10:00:00+08:00", "2026-11-09T09:00:00+08:00", 1),  # Friday → Monday
        ("2026-09-30T10:00:00+08:00", "2026-10-08T09:00:00+08:00", 1),  # over the National Day holiday
    ],
)
def test_working_days_count_from_the_day_after_submission(submitted: str, answered: str, days: int) -> None:
    assert working_days_between(datetime.fromisoformat(submitted).date(), datetime.fromisoformat(answered).date()) == days


async def test_the_institution_page_says_how_fast_it_usually_answers_from_three_answered_requests(
    client, db, world: World
) -> None:
    org = world.orgs["institution/own"]
    submitted = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in China
    answers = [datetime(2026, 11, d, 3, 0, tzinfo=UTC) for d in (4, 5, 10)]  # 2, 3 and 6 working days
    ids = []
    for n in range(3):
        listing = await published(db, world, title_zh=f"测试成果{n}")
        ids.append((await create(db, world, listing)).id)

    async def answer(count: int) -> None:
        for request_id, answered in zip(ids[:count], answers[:count], strict=True):
            await db.execute(
                update(MatchRequest)
                .where(MatchRequest.id == request_id)
                .values(submitted_at=submitted, first_answered_at=answered)
            )
        await db.commit()

    await answer(2)
    page = (await client.get(f"/institutions/{org.id}")).text
    assert 'id="response-record"' not in page and "通常在" not in page  # two answers say nothing yet
    await answer(3)
    page = (await client.get(f"/institutions/{org.id}")).text
    assert "通常在 3 个工作日内答复" in page
    assert "按最近 3 个已答复的对接申请取中位数。" in page
    # Its listings by kind: the count links to the section.
    assert re.search(r'href="#section-result">3</a>', page)
    client.cookies["lang"] = "en"
    assert "Usually answers within 3 working days" in (await client.get(f"/institutions/{org.id}")).text


async def test_the_administrator_removes_the_logo(client, db, world: World) -> None:
    org = world.orgs["company/own"]
    await login(client, world.emails[Role.company_admin])
    await post_form(client, f"/organizations/{org.id}/profile", PROFILE, files={"logo": ("logo.png", PNG, "image/png")})
    assert (await client.get(f"/organizations/{org.id}/logo")).status_code == 200
    removed = await post_form(client, f"/organizations/{org.id}/profile", {**PROFILE, "remove_logo": "on"})
    assert removed.status_code == 302
    assert (await client.get(f"/organizations/{org.id}/logo")).status_code == 404
    assert "profile-logo-initial" in (await client.get(f"/companies/{org.id}")).text
