"""The agenda in headless Chromium: readable at desktop and phone widths in both languages, the
request's fields shown only when "open a match request" is chosen, and one clean page in print."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.events.models import EventState, MeetingRequestState
from tests.events.agenda_factories import cancel, place, scene
from tests.events.factories import members_of, seed_meeting_request, seed_registration
from tests.support.browser import page_in, screenshot, sign_in
from tests.support.live_server import LiveServer
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_the_agenda_at_each_size_language_and_in_print(db, world: World, live_server: LiveServer, browser: Browser) -> None:
    # Today's event: slot 1 has passed by the evening (China time) or is coming in the morning.
    s = await scene(db, world, EventState.running, starts_on=china_today())
    other = await seed_registration(
        db, s.event, world.orgs["institution/other"], people=(await members_of(db, world.orgs["institution/other"]))[:1]
    )
    # A meeting with the other institution was called off (its request too), then asked again.
    first = await seed_meeting_request(db, s.event, s.company, other, MeetingRequestState.accepted)
    called_off = await cancel(db, await place(db, s.event, first, 10, 0))
    first.state = MeetingRequestState.cancelled
    await db.commit()
    later = await place(
        db, s.event, await seed_meeting_request(db, s.event, s.company, other, MeetingRequestState.accepted), 8, 2
    )
    url = f"/events/{s.event.id}/agenda"
    for locale in ("zh_CN", "en"):
        for size in ("desktop", "phone"):
            page = await page_in(browser, live_server, "zh_CN", size)
            await sign_in(page, world.emails[Role.company_admin], url)
            if locale == "en":  # signing in clears the language cookie: set it again
                await page.context.add_cookies([{"name": "lang", "value": "en", "url": str(live_server)}])
                await page.goto(url)
            await expect(page.locator(f"#meeting-{s.meeting.id}")).to_be_visible()
            await expect(page.locator(f"#meeting-{later.id}")).to_be_visible()
            await expect(page.locator(f"#meeting-{called_off.id}")).to_be_visible()
            await screenshot(page, f"agenda-{locale}-{size}")
            summary = page.locator(f"#meeting-{s.meeting.id} + .outcome-row > td > details > summary")
            if await summary.count():
                await summary.click()
                fields = page.locator(f"#meeting-{s.meeting.id} + .outcome-row .request-fields")
                await expect(fields).to_be_hidden()
                await page.locator(f"#meeting-{s.meeting.id} + .outcome-row input[value=match_request]").check()
                await expect(fields).to_be_visible()
                await screenshot(page, f"agenda-outcome-{locale}-{size}")
            if size == "desktop":
                await page.emulate_media(media="print")
                await expect(page.locator(".agenda-tools")).to_be_hidden()
                await screenshot(page, f"agenda-print-{locale}")
            await page.context.close()
