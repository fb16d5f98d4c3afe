"""Helpers of the page cache's tests (tests/catalog, tests/search): the statements an app runs, its
listener up and caught up, a visit without cookies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

from marketplace import page_cache
from marketplace.catalog.models import ListingViewDay

QUIET_SECONDS = 0.2


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """The SQL the app's own engine runs meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def listening(engine) -> None:
    """The app's listener has its connection (pages are kept only while it listens) and has heard
    the notifications of the changes committed so far (the test's own data among them)."""
    for _ in range(100):
        if page_cache.STORE.enabled and page_cache.STORE.listening:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the page cache's listener did not connect")
    await notified(engine)


async def notified(engine, *, members_only: bool = False) -> None:
    """NOTIFY as another worker process's change would, and wait until the listener has heard it and
    every notification before it (a sign-in's own among them): the generation moves, then stays put
    for QUIET_SECONDS. (Returning at the first move could leave this one still on its way, to drop a
    page the test then expects.) With members_only, the visitors' pages stay kept."""
    payload = "members" if members_only else ""

    def generation() -> int:
        return page_cache.STORE.generation_of(members_only)

    start = last = generation()
    async with engine.begin() as connection:
        await connection.execute(text("select pg_notify('page_cache', :payload)"), {"payload": payload})
    for _ in range(100):
        await asyncio.sleep(QUIET_SECONDS)
        now = generation()
        if now != start and now == last:
            return
        last = now
    pytest.fail("the page cache's listener did not hear the notification")


async def visit(client, url: str, **headers):
    client.cookies.clear()
    return await client.get(url, headers=headers)


async def views_written(db, listing_id, expected: int) -> int:
    """The listing's views in all, once they reach `expected` or after three seconds: the views of
    kept pages are added up in the process and written every half second. Read apart from `db`'s
    transaction, which keeps its objects."""
    query = select(func.coalesce(func.sum(ListingViewDay.views), 0)).where(ListingViewDay.listing_id == listing_id)
    for _ in range(60):
        async with db.bind.connect() as connection:
            views = await connection.scalar(query)
        if views == expected:
            break
        await asyncio.sleep(0.05)
    return views
