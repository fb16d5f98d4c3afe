"""Saved searches: saving with field errors, personal scope, alerts for new and changed listings
(through the relay and the index, notified once), the daily digest through a real SMTP server, and
unsubscribing from it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import msgspec
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import Listing
from marketplace.catalog.schemas import ListingCreate
from marketplace.search.engine import SearchEngine
from marketplace.search.models import OutboxEntry, SavedSearch, SavedSearchDigest, SavedSearchMatch
from marketplace.search.outbox import OutboxRelay
from marketplace.search.saved_search_alerts import run_alerts, send_digests
from tests.catalog.factories import result_body, seed_listing
from tests.support.web import login, post_form

MEMBER = Role.company_member
EXOSOME = "q=exosome&kind=result"  # matches result_body(), whose English title names exosomes
PUMP = {
    "type": "device",
    "title_zh": "智能输液泵",
    "title_en": "Smart infusion pump",
    "summary_zh": "用于病房的智能输液泵。",
    "keywords": ["输液"],
    "therapeutic_areas": ["cardiovascular"],
    "stage": "registered",
    "trl": 8,
    "advantages": "误差小于2%。",
}


@pytest.fixture
async def search(settings):
    """The app's own listings index, emptied before and after the test."""
    engine = SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix)
    await engine.ensure_index()
    await engine.wait(await engine.client.index(engine.listings_index).delete_all_documents())
    yield engine
    await engine.wait(await engine.client.index(engine.listings_index).delete_all_documents())
    await engine.aclose()


async def save(client, world, name: str = "外泌体成果", query: str = EXOSOME, role: Role = MEMBER, **fields):
    return await client.post("/api/v1/saved-searches", json={"name": name, "query": query, **fields}, headers=world.bearer(role))


async def publish(client, world, **overrides) -> str:
    created = await client.post("/api/v1/listings", json=result_body(**overrides), headers=world.bearer(Role.tto_staff))
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    published = await client.post(
        f"/api/v1/listings/{listing_id}/transitions", json={"action": "publish"}, headers=world.bearer(Role.tto_staff)
    )
    assert published.status_code == 200, published.text
    return listing_id


async def alert_round(sessionmaker, search):
    """What the worker does: the relay carries changes to the index, then the alert job runs."""
    relayed = await OutboxRelay(sessionmaker, search).drain()
    assert not relayed.failed, relayed
    return await run_alerts(sessionmaker, search)


async def notifications(client, world, role: Role = MEMBER) -> list[dict]:
    response = await client.get("/api/v1/notifications", headers=world.bearer(role))
    assert response.status_code == 200, response.text
    return response.json()["notifications"]


def errors_of(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# ----- saving and managing -------------------------------------------------------------------------


async def test_saving_refuses_a_bad_name_or_query_field_by_field_and_saves_nothing(client, db, world) -> None:
    first = await save(client, world, name="肝癌 检测")
    assert first.status_code == 201, first.text

    cases = {
        "": {"name": "必填。"},
        "x" * 81: {"name": "最多 80 个字符。"},
        " 肝癌  检测 ": {"name": "您已有同名的保存的搜索。"},  # spaces are tidied before comparing
    }
    for name, expected in cases.items():
        refused = await save(client, world, name=name)
        assert refused.status_code == 422 and errors_of(refused) == expected, (name, refused.text)
    refused = await save(client, world, name="新名字", query="q=肝癌&kind=bogus&colour=red")
    assert refused.status_code == 422
    assert set(errors_of(refused)) == {"query.kind", "query.colour"}
    unknown = await client.post("/api/v1/saved-searches", json={"name": "新", "owner": "x"}, headers=world.bearer(MEMBER))
    assert unknown.status_code == 400 and "owner" in unknown.text

    assert await db.scalar(select(func.count()).select_from(SavedSearch)) == 1

    # The page says the same next to the field, keeps the search to save, and saves nothing.
    await login(client, world.emails[MEMBER])
    page = await post_form(client, "/saved-searches", {"name": "", "query": "q=肝癌&stage=preclinical"})
    assert page.status_code == 422
    assert 'id="name-error"' in page.text and "必填。" in page.text
    assert 'value="q=肝癌&amp;stage=preclinical"' in page.text and "临床前" in page.text
    assert await db.scalar(select(func.count()).select_from(SavedSearch)) == 1


async def test_the_saved_query_is_the_whole_search_in_canonical_form(client, world) -> None:
    saved = await save(client, world, query="/search?sort=newest&kind=result&q=肝癌&page=3&page_size=50&trl_min=3")
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert body["query"] == "q=%E8%82%9D%E7%99%8C&kind=result&trl_min=3&sort=newest"
    assert body["search_url"] == "/search?" + body["query"]
    assert body["api_url"] == "/api/v1/search?" + body["query"]
    assert body["email_enabled"] is True

    ran = await client.get(body["api_url"])
    assert ran.status_code == 200 and ran.json()["query"]["q"] == "肝癌"


async def test_saved_searches_are_personal(client, db, world) -> None:
    mine = (await save(client, world)).json()
    colleague = "target@company.own.test"  # a company member of the same company
    await login(client, colleague)
    listed = await client.get("/saved-searches")
    assert listed.status_code == 200 and "外泌体成果" not in listed.text
    assert (await post_form(client, f"/saved-searches/{mine['id']}", {"name": "偷看"})).status_code == 404
    assert (await post_form(client, f"/saved-searches/{mine['id']}/delete")).status_code == 404
    # Company admins do not see their members' searches either.
    admin = world.bearer(Role.company_admin)
    assert (await client.get(f"/api/v1/saved-searches/{mine['id']}", headers=admin)).status_code == 404
    assert (await client.delete(f"/api/v1/saved-searches/{mine['id']}", headers=admin)).status_code == 404
    assert (await client.get("/api/v1/saved-searches", headers=admin)).json() == []
    # Saved searches are for companies.
    assert (await save(client, world, role=Role.tto_staff)).status_code == 403
    assert await db.scalar(select(SavedSearch.name).where(SavedSearch.id == uuid.UUID(mine["id"]))) == "外泌体成果"


async def test_the_owner_renames_turns_email_off_and_deletes(client, db, world) -> None:
    saved = (await save(client, world)).json()
    await save(client, world, name="另一个")
    url = f"/api/v1/saved-searches/{saved['id']}"
    clash = await client.patch(url, json={"name": "另一个"}, headers=world.bearer(MEMBER))
    assert clash.status_code == 422 and errors_of(clash) == {"name": "您已有同名的保存的搜索。"}

    changed = await client.patch(url, json={"name": "外泌体 · 肝癌", "email_enabled": False}, headers=world.bearer(MEMBER))
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "外泌体 · 肝癌" and changed.json()["email_enabled"] is False

    await login(client, world.emails[MEMBER])
    page = await client.get("/saved-searches")
    assert "外泌体 · 肝癌" in page.text and "邮件提醒已关闭" in page.text and "关键词</span> exosome" in page.text
    toggled = await post_form(client, f"/saved-searches/{saved['id']}", {"email_enabled": "true"})
    assert toggled.status_code == 302
    assert (await client.get(url, headers=world.bearer(MEMBER))).json()["email_enabled"] is True
    refused = await post_form(client, f"/saved-searches/{saved['id']}", {"name": ""})
    assert refused.status_code == 422 and "必填。" in refused.text

    assert (await client.delete(url, headers=world.bearer(MEMBER))).status_code == 204
    assert (await client.get(url, headers=world.bearer(MEMBER))).status_code == 404
    actions = (await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == saved["id"]))).all()
    assert sorted(actions) == ["saved_search_created", "saved_search_deleted", "saved_search_updated", "saved_search_updated"]


# ----- alerts --------------------------------------------------------------------------------------


async def test_a_listing_published_after_saving_is_notified_once(client, db, world, search, sessionmaker) -> None:
    before = await publish(client, world)  # matches, but was there before the search was saved
    await alert_round(sessionmaker, search)
    saved = (await save(client, world)).json()
    matching = await publish(client, world, title_zh="外泌体检测试剂盒")
    await publish(client, world, **PUMP)  # does not match

    done = await alert_round(sessionmaker, search)
    assert (done.matches, done.notified) == (1, 1)
    [note] = await notifications(client, world)
    assert note["text"] == "保存的搜索“外泌体成果”有新的匹配：1 条"
    assert [(i["label"], i["link"], i["tag"]) for i in note["items"]] == [("外泌体检测试剂盒", f"/listings/{matching}", "新")]
    assert note["link"] == saved["search_url"]
    assert before not in str(note)

    # The next rounds find the same change again (the window looks back) and notify nobody.
    for _ in range(2):
        again = await alert_round(sessionmaker, search)
        assert again.matches == 0
    assert len(await notifications(client, world)) == 1
    assert await db.scalar(select(func.count()).select_from(SavedSearchMatch)) == 1
    # Other users hear nothing of it.
    assert await notifications(client, world, Role.company_admin) == []


async def test_an_edit_that_makes_a_listing_match_is_notified(client, db, world, search, sessionmaker) -> None:
    await save(client, world, name="临床一期", query="kind=result&stage=clinical_1")
    listing = await publish(client, world)  # preclinical: no match
    assert (await alert_round(sessionmaker, search)).notified == 0

    edited = await client.patch(f"/api/v1/listings/{listing}", json={"stage": "clinical_1"}, headers=world.bearer(Role.tto_staff))
    assert edited.status_code == 200, edited.text
    assert (await alert_round(sessionmaker, search)).notified == 1
    [note] = await notifications(client, world)
    assert note["items"][0]["link"] == f"/listings/{listing}" and note["items"][0]["tag"] == "新"

    # Confirming it is a change too; the search has seen the listing before, so it is "updated".
    confirmed = await client.post(
        f"/api/v1/listings/{listing}/transitions", json={"action": "confirm"}, headers=world.bearer(Role.tto_staff)
    )
    assert confirmed.status_code == 200
    assert (await alert_round(sessionmaker, search)).notified == 1
    latest = (await notifications(client, world))[0]
    assert latest["items"][0]["tag"] == "已更新"


async def test_changes_that_search_does_not_show_alert_nobody(client, db, world, search, sessionmaker) -> None:
    await save(client, world)
    listing = await publish(client, world)
    assert (await alert_round(sessionmaker, search)).notified == 1
    changed_at = await db.scalar(select(Listing.changed_at).where(Listing.id == uuid.UUID(listing)))
    # Confidential details and turning stale change the row but not what search shows.
    await client.patch(
        f"/api/v1/listings/{listing}", json={"confidential_details": "新的保密数据"}, headers=world.bearer(Role.tto_staff)
    )
    await db.execute(update(Listing).where(Listing.id == uuid.UUID(listing)).values(is_stale=True))
    await db.commit()
    assert (
        await db.scalar(
            select(Listing.changed_at).where(Listing.id == uuid.UUID(listing)).execution_options(populate_existing=True)
        )
        == changed_at
    )
    assert (await alert_round(sessionmaker, search)).notified == 0
    assert len(await notifications(client, world)) == 1


async def test_alerts_look_at_a_change_once_the_relay_has_indexed_it(client, db, world, search, sessionmaker) -> None:
    await save(client, world)
    await publish(client, world)  # committed, not yet in the index
    assert (await run_alerts(sessionmaker, search)).changes == 0
    [row] = await db.scalars(select(OutboxEntry))
    assert row.processed_at is None and row.alerted_at is None  # left for when it is indexed

    done = await alert_round(sessionmaker, search)
    assert (done.changes, done.notified) == (1, 1)
    assert (await run_alerts(sessionmaker, search)).changes == 0  # each change is looked at once


async def test_a_change_that_commits_late_is_still_found(client, db, world, search, sessionmaker) -> None:
    """A transaction that began before another change but commits after it carries the older
    time; it is looked at when the relay indexes it, not skipped because later ones were seen."""
    await save(client, world)
    async with sessionmaker() as late:
        began = await late.scalar(select(func.now()))  # its changes will carry this time
        on_time = await publish(client, world, title_zh="外泌体准时的成果")
        assert (await alert_round(sessionmaker, search)).notified == 1

        listing = await seed_listing(
            late,
            world.orgs["institution/own"].id,
            msgspec.convert(result_body(title_zh="外泌体迟到的成果"), ListingCreate),
            status="published",
        )
        late_id = listing.id
        await late.commit()
    assert await db.scalar(select(Listing.changed_at).where(Listing.id == late_id)) == began

    done = await alert_round(sessionmaker, search)
    assert (done.matches, done.notified) == (1, 1)
    latest = (await notifications(client, world))[0]
    assert [item["link"] for item in latest["items"]] == [f"/listings/{late_id}"]
    assert on_time not in str(latest)


# ----- the digest and unsubscribing ----------------------------------------------------------------


def links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.get_content())


async def age_digests(db, hours: int = 25) -> None:
    """As if the last digest went out `hours` ago."""
    await db.execute(
        update(SavedSearchDigest).values(
            sent_at=SavedSearchDigest.sent_at - timedelta(hours=hours),
            quiet_until=SavedSearchDigest.quiet_until - timedelta(hours=hours),
        )
    )
    await db.commit()


async def test_the_digest_emails_new_matches_with_links_at_most_once_a_day(
    client, db, world, settings, mailbox, search, sessionmaker
) -> None:
    assert await send_digests(sessionmaker, settings) == 0  # nothing saved, nothing new
    saved = (await save(client, world)).json()
    await save(client, world, name="不发邮件", query="kind=result", email_enabled=False)
    assert await send_digests(sessionmaker, settings) == 0  # saved, but nothing new yet
    first = await publish(client, world, title_zh="外泌体肝癌早筛")
    second = await publish(client, world, title_zh="外泌体胰腺癌早筛")
    await alert_round(sessionmaker, search)

    assert await send_digests(sessionmaker, settings) == 1
    message = mailbox.only()
    assert message["To"] == world.emails[MEMBER]
    assert message["Subject"] == "您保存的搜索有新的匹配：2 条"
    body = message.get_content()
    assert "外泌体成果" in body and "不发邮件" not in body
    found = links(message)
    base = settings.base_url
    assert f"{base}/listings/{first}" in found and f"{base}/listings/{second}" in found
    assert f"{base}{saved['search_url']}" in found
    assert f"{base}/saved-searches/unsubscribe/" in body
    stop_all = message["List-Unsubscribe"].strip("<>")
    assert stop_all.startswith(f"{base}/unsubscribe/") and stop_all in found
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Within 24 hours: nothing more, even with news.
    third = await publish(client, world, title_zh="外泌体肺癌早筛")
    await alert_round(sessionmaker, search)
    assert await send_digests(sessionmaker, settings) == 0
    assert len(mailbox.messages) == 1

    # A day later, only what is new since the last digest.
    await age_digests(db)
    assert await send_digests(sessionmaker, settings) == 1
    later = mailbox.messages[-1]
    assert f"{base}/listings/{third}" in links(later) and f"{base}/listings/{first}" not in links(later)
    assert await send_digests(sessionmaker, settings) == 0


async def test_unsubscribing_from_a_search_stops_its_email_and_the_next_digest_skips_it(
    client, db, world, settings, mailbox, search, sessionmaker
) -> None:
    saved = (await save(client, world)).json()
    await publish(client, world)
    await alert_round(sessionmaker, search)
    assert await send_digests(sessionmaker, settings) == 1
    [link] = [u for u in links(mailbox.only()) if "/saved-searches/unsubscribe/" in u]
    path = urlsplit(link).path

    client.cookies.clear()  # no sign-in needed
    confirm = await client.get(path)
    assert confirm.status_code == 200 and "外泌体成果" in confirm.text and "退订" in confirm.text
    assert (await client.get(path + "x")).status_code == 404
    assert (await post_form(client, path + "x")).status_code == 404
    done = await post_form(client, path)
    assert done.status_code == 200 and "已退订" in done.text
    record = await db.scalar(select(SavedSearch).where(SavedSearch.id == uuid.UUID(saved["id"])))
    assert record.email_enabled is False
    assert await db.scalar(select(func.count()).where(AuditEvent.action == "saved_search_unsubscribed")) == 1

    # New matches still reach the notifications, but no e-mail.
    await publish(client, world, title_zh="外泌体新成果")
    await alert_round(sessionmaker, search)
    assert len(await notifications(client, world)) == 2
    await age_digests(db)
    assert await send_digests(sessionmaker, settings) == 0
    assert len(mailbox.messages) == 1

    # Turned on again, it e-mails what is found from then on, not what was found while it was off.
    await client.patch(f"/api/v1/saved-searches/{saved['id']}", json={"email_enabled": True}, headers=world.bearer(MEMBER))
    assert await send_digests(sessionmaker, settings) == 0
    newest = await publish(client, world, title_zh="外泌体最新成果")
    await alert_round(sessionmaker, search)
    assert await send_digests(sessionmaker, settings) == 1
    assert [u for u in links(mailbox.messages[-1]) if "/listings/" in u] == [f"{settings.base_url}/listings/{newest}"]


async def test_the_database_refuses_a_second_digest_within_a_day(db, world) -> None:
    user_id = (await AccountService(db).user_by_email(world.emails[MEMBER])).id
    db.add(SavedSearchDigest(user_id=user_id, matches=1, quiet_until=func.now() + timedelta(hours=24)))
    await db.commit()
    db.add(SavedSearchDigest(user_id=user_id, matches=1, quiet_until=func.now() + timedelta(hours=24)))
    with pytest.raises(IntegrityError, match="ex_saved_search_digests_one_a_day"):
        await db.commit()
    await db.rollback()
    db.add(SavedSearchDigest(user_id=user_id, matches=1, quiet_until=func.now() + timedelta(hours=1)))
    with pytest.raises(IntegrityError, match="quiet_a_day"):
        await db.commit()
