"""Listing pages for visitors not signed in are kept (marketplace/page_cache.py): the next visit is
answered without the handler or the database, a matching ETag gets a 304, and publishing, editing
or withdrawing a listing drops what was kept — in this process at once, in the others through
PostgreSQL's NOTIFY. A signed-in session's pages are kept for it alone, with the live session itself,
until a write drops them; no visitor gets another's CSRF token."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import event, select, text, update

from marketplace import page_cache
from marketplace.accounts.models import Role, User, WebSession
from marketplace.catalog.models import Listing, ListingViewDay
from marketplace.db import utcnow
from marketplace.notifications.services import NotificationService
from tests.catalog.factories import published
from tests.support.page_cache import listening, notified, statements, views_written, visit
from tests.support.web import login, post_form

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def test_a_visitors_second_visit_is_served_without_the_handler_and_still_counted(client, db, world, app, engine) -> None:
    listing_id = await published(db, world)
    await listening(engine)
    first = await visit(client, f"/listings/{listing_id}")
    assert first.status_code == 200
    with statements(app) as seen:
        second = await visit(client, f"/listings/{listing_id}")
    assert second.status_code == 200
    # No session, no listing, no organization, no areas read again; only the view is counted
    # (added up, then written on the page cache's own pool).
    assert seen == []
    assert second.text.replace(TOKEN.search(second.text)[1], "") == first.text.replace(TOKEN.search(first.text)[1], "")
    # Counted too, by the process's next write of the kept pages' views.
    for _ in range(60):
        views = await db.scalar(select(ListingViewDay.views).where(ListingViewDay.listing_id == listing_id))
        if views == 2:
            break
        await asyncio.sleep(0.05)
    assert views == 2
    assert second.headers["cache-control"] == "private, no-cache"


async def test_each_visitor_gets_their_own_csrf_token_and_no_session(client, db, world, engine) -> None:
    listing_id = await published(db, world)
    await listening(engine)
    first = await visit(client, f"/listings/{listing_id}")
    first_token = first.cookies["csrftoken"]
    assert TOKEN.search(first.text)[1] == first_token
    second = await visit(client, f"/listings/{listing_id}")
    assert "session" not in second.cookies
    second_token = second.cookies["csrftoken"]
    assert second_token != first_token and first_token not in second.text
    assert TOKEN.search(second.text)[1] == second_token
    # A visitor who has their cookie gets it back in the form; their language switch works.
    client.cookies.set("csrftoken", second_token)
    again = await client.get(f"/listings/{listing_id}")
    assert "set-cookie" not in again.headers and TOKEN.search(again.text)[1] == second_token
    switched = await client.post("/lang", data={"locale": "en", "next": "/", "_csrf_token": second_token}, follow_redirects=False)
    assert switched.status_code in (302, 303)


async def test_a_matching_etag_gets_304_until_the_listing_changes(client, db, world, engine) -> None:
    listing_id = await published(db, world)
    await listening(engine)
    client.cookies.clear()
    first = await client.get(f"/listings/{listing_id}")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    cached = await client.get(f"/listings/{listing_id}", headers={"if-none-match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    listing = await db.get(Listing, listing_id)
    listing.title_zh = "新的标题：肝癌早筛试剂盒"
    await db.commit()
    fresh = await client.get(f"/listings/{listing_id}", headers={"if-none-match": etag})
    assert fresh.status_code == 200 and "新的标题：肝癌早筛试剂盒" in fresh.text
    assert fresh.headers["etag"] != etag
    # Another visitor's token does not validate this visitor's copy.
    client.cookies.clear()
    assert (await client.get(f"/listings/{listing_id}", headers={"if-none-match": fresh.headers["etag"]})).status_code == 200


async def test_withdrawing_and_publishing_drop_the_kept_pages(client, db, world, engine) -> None:
    listing_id = await published(db, world)
    other_id = await published(db, world, relation="other")
    await listening(engine)
    assert str(listing_id) in (await visit(client, "/listings")).text
    assert (await visit(client, f"/listings/{listing_id}")).status_code == 200
    await login(client, world.emails[Role.tto_staff])
    answer = await post_form(client, f"/listings/{listing_id}/transitions", {"action": "withdraw"})
    assert answer.status_code in (302, 303), answer.text
    assert (await visit(client, f"/listings/{listing_id}")).status_code == 404
    assert str(listing_id) not in (await visit(client, "/listings")).text
    await login(client, world.emails[Role.tto_staff])
    answer = await post_form(client, f"/listings/{listing_id}/transitions", {"action": "republish"})
    assert answer.status_code in (302, 303), answer.text
    assert (await visit(client, f"/listings/{listing_id}")).status_code == 200
    assert str(listing_id) in (await visit(client, "/listings")).text and str(other_id) in (await visit(client, "/listings")).text


async def test_another_processs_change_reaches_this_one_through_notify(client, db, world, engine) -> None:
    listing_id = await published(db, world)
    await listening(engine)
    await visit(client, f"/listings/{listing_id}")
    assert len(page_cache.STORE) >= 1
    # What another worker process's transaction says when it commits a change to a listing.
    await notified(engine)
    assert len(page_cache.STORE) == 0


async def test_a_transaction_says_notify_once_and_a_rolled_back_savepoint_does_not_silence_it(db, world, engine) -> None:
    listing_id = await published(db, world)
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "pg_notify" in statement:
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        listing = await db.get_one(Listing, listing_id)
        listing.title_en = "One"
        await db.flush()
        listing.title_en = "Two"
        await db.flush()
        await db.execute(update(Listing).where(Listing.id == listing_id).values(title_en="Three"))
        assert len(sent) == 1  # PostgreSQL would fold the others anyway: each was a round trip for nothing
        await db.commit()
        # A savepoint rolled back takes its NOTIFY with it; the change after it says it again.
        savepoint = await db.begin_nested()
        await db.execute(update(Listing).where(Listing.id == listing_id).values(title_en="Four"))
        await savepoint.rollback()
        await db.execute(update(Listing).where(Listing.id == listing_id).values(title_en="Five"))
        await db.commit()
        assert len(sent) == 3
        # One sent before a savepoint stands when the savepoint is rolled back: not sent again, and
        # this process still drops its pages on commit.
        await db.execute(update(Listing).where(Listing.id == listing_id).values(title_en="Six"))
        savepoint = await db.begin_nested()
        await db.execute(update(Listing).where(Listing.id == listing_id).values(title_en="Seven"))
        await savepoint.rollback()
        await db.execute(update(Listing).where(Listing.id == listing_id).values(title_en="Eight"))
        generation = page_cache.STORE.generation
        await db.commit()
        assert len(sent) == 4 and page_cache.STORE.generation > generation
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_signed_in_page_is_kept_for_its_own_session_only(client, db, world, app, engine) -> None:
    listing_id = await published(db, world, relation="other")
    await listening(engine)
    await visit(client, f"/listings/{listing_id}")  # the visitors' page, kept
    await login(client, world.emails[Role.company_member])
    await notified(engine, members_only=True)
    first = await client.get(f"/listings/{listing_id}")
    assert first.status_code == 200 and "/logout" in first.text  # the signed-in page, not the visitor's
    assert first.headers["cache-control"] == "no-store" and "etag" not in first.headers
    with statements(app) as seen:
        second = await client.get(f"/listings/{listing_id}")
    assert second.text == first.text and second.headers["cache-control"] == "no-store"
    assert seen == [], seen  # the live session and its page are both kept: nothing is read
    assert await views_written(db, listing_id, 3) == 3  # the visitor's, then the member's two
    # Another person's session gets their own page, with their own form token.
    await login(client, world.emails[Role.company_admin])
    theirs = await client.get(f"/listings/{listing_id}")
    assert "/logout" in theirs.text and TOKEN.search(theirs.text)[1] != TOKEN.search(first.text)[1]
    # A session that signed out no longer opens its kept pages.
    cookie = client.cookies["session"]
    assert (await post_form(client, "/logout")).status_code in (302, 303)
    client.cookies.set("session", cookie)
    after = await client.get(f"/listings/{listing_id}")
    assert after.status_code == 200 and "/logout" not in after.text


async def test_a_session_ended_in_another_process_is_not_served_from_memory(client, db, world, app, engine) -> None:
    listing_id = await published(db, world, relation="other")
    await listening(engine)
    await login(client, world.emails[Role.company_member])
    await notified(engine, members_only=True)
    assert "/logout" in (await client.get(f"/listings/{listing_id}")).text
    # Ended on a connection of its own, as another process would, before its NOTIFY arrives: this
    # process still gives the kept page from memory, reading nothing.
    async with engine.begin() as connection:
        await connection.execute(update(WebSession).values(ended_at=utcnow()))
    with statements(app) as seen:
        assert "/logout" in (await client.get(f"/listings/{listing_id}")).text
    assert seen == []
    # That process's transaction said so: the sessions are read again, the ended one is not opened.
    generation = page_cache.STORE.session_generation
    async with engine.begin() as connection:
        await connection.execute(text("select pg_notify('page_cache', 'sessions')"))
    for _ in range(100):
        if page_cache.STORE.session_generation != generation:
            break
        await asyncio.sleep(0.05)
    after = await client.get(f"/listings/{listing_id}")
    assert after.status_code == 200 and "/logout" not in after.text


async def test_who_is_signed_in_is_read_once_until_a_write_a_member_might_see(client, db, world, app, engine) -> None:
    first = await published(db, world, relation="other")
    second = await published(db, world, relation="other")
    await listening(engine)
    await login(client, world.emails[Role.company_member])
    await notified(engine, members_only=True)
    assert (await client.get(f"/listings/{first}")).status_code == 200
    with statements(app) as seen:
        assert (await client.get(f"/listings/{second}")).status_code == 200  # a page not kept yet
    read = " ".join(seen)
    assert "FROM users" not in read and "FROM memberships" not in read and "FROM notifications" not in read, seen
    # Their name changed (any write through the ORM): the next page reads who they are again.
    await db.execute(update(User).where(User.email == world.emails[Role.company_member]).values(name="改过的名字"))
    await db.commit()
    assert "改过的名字" in (await client.get(f"/listings/{second}")).text


async def test_any_write_drops_the_signed_in_pages_but_not_the_visitors(client, db, world, app, engine) -> None:
    listing_id = await published(db, world, relation="other")
    await listening(engine)
    await visit(client, f"/listings/{listing_id}")
    await login(client, world.emails[Role.company_member])
    await notified(engine, members_only=True)  # the sign-in's own writes, heard before anything is kept
    assert "bell-count" not in (await client.get(f"/listings/{listing_id}")).text
    assert page_cache.STORE.count(members=True) == 1 and page_cache.STORE.count(members=False) == 1
    # A notice for this member: a write no visitor sees, shown on the member's next page at once.
    member = await world.principal(db, world.emails[Role.company_member])
    await NotificationService(db).notify([member.user_id], "test", "Something happened")
    await db.commit()
    assert page_cache.STORE.count(members=True) == 0 and page_cache.STORE.count(members=False) == 1
    await notified(engine, members_only=True)  # and that commit's NOTIFY, which this process hears too
    assert "bell-count" in (await client.get(f"/listings/{listing_id}")).text
    assert page_cache.STORE.count(members=True) == 1
    # Another process's such write drops them here too, through NOTIFY.
    async with engine.begin() as connection:
        await connection.execute(text("select pg_notify('page_cache', 'members')"))
    for _ in range(100):
        if page_cache.STORE.count(members=True) == 0:
            break
        await asyncio.sleep(0.05)
    assert page_cache.STORE.count(members=True) == 0 and page_cache.STORE.count(members=False) == 1


async def test_the_owners_page_with_its_view_counts_is_not_kept(client, db, world, engine) -> None:
    listing_id = await published(db, world)
    await listening(engine)
    await login(client, world.emails[Role.tto_staff])
    for _ in range(2):
        assert (await client.get(f"/listings/{listing_id}")).status_code == 200
    assert page_cache.STORE.count(members=True) == 0


async def test_statements_per_page_have_a_ceiling(client, db, world, app, engine) -> None:
    """A regression to a query per row (or per field) fails here."""
    listing_id = await published(db, world, relation="other")
    for _ in range(3):
        await published(db, world)
    page_cache.invalidate()
    ceilings = {f"/listings/{listing_id}": 8, "/listings": 6}
    for url, ceiling in ceilings.items():
        page_cache.invalidate()
        client.cookies.clear()
        with statements(app) as seen:
            assert (await client.get(url)).status_code == 200
        assert len(seen) <= ceiling, (url, seen)
    await login(client, world.emails[Role.company_member])
    for url, ceiling in {f"/listings/{listing_id}": 18, "/listings": 10}.items():
        with statements(app) as seen:
            assert (await client.get(url)).status_code == 200
        assert len(seen) <= ceiling, (url, seen)


def test_the_kept_pages_are_held_to_a_number_of_bytes_not_of_pages(monkeypatch) -> None:
    """Many different queries (each a page of its own) push out the oldest pages instead of growing the process."""
    monkeypatch.setattr(page_cache, "MAX_BYTES", 10_000)
    monkeypatch.setattr(page_cache, "MAX_PAGE_BYTES", 3_000)
    store = page_cache.PageStore(60)
    store.listeners = 1
    for n in range(20):
        store.put((f"/search?q={n}",), page_cache.CachedPage((), b"x" * 2_000, "digest", None), store.generation)
    assert store.count(members=False) == 5
    store.put(("/huge",), page_cache.CachedPage((), b"x" * 3_001, "digest", None), store.generation)
    assert store.get(("/huge",)) is None and store.get(("/search?q=19",)) is not None
