"""The app served over real HTTP, and headless Chromium to drive it, for the browser tests.

The root conftest registers this module as a plugin, so the fixtures are everywhere; a session
starts the server and Chromium only if a test asks for them.

`live_server` runs `create_app(settings)` with uvicorn in a background thread (its own event loop)
on a free 127.0.0.1 port, on the same per-worker database as the other tests, so data arranged
through the `db` / `world` fixtures is what the browser sees, and the `client` fixture's truncation
after each test isolates browser tests too. `browser` is Debian's Chromium through Playwright's
async API, on the suite's session event loop.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from litestar import Litestar
from playwright.async_api import Browser, Page, async_playwright

from marketplace.app import create_app
from marketplace.cli import server_config
from marketplace.config import Settings
from marketplace.embedded.postgres import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STARTUP_TIMEOUT = 60.0


class LiveServer(str):
    """The base URL (``http://127.0.0.1:<port>``), which also knows the app it serves."""

    app: Litestar

    def __new__(cls, url: str, app: Litestar) -> LiveServer:
        server = super().__new__(cls, url)
        server.app = app
        return server


def _wait_until_healthy(url: str, thread: threading.Thread, server: uvicorn.Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: object = None
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError(f"the live server stopped while starting (last answer: {last_error})")
        if server.started:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                    if response.status == 200:
                        return
                    last_error = response.status
            except urllib.error.HTTPError as error:  # 503 while a service is still coming up
                last_error = error.code
            except OSError as error:
                last_error = error
        time.sleep(0.05)
    raise RuntimeError(f"the live server did not answer /health within {STARTUP_TIMEOUT:.0f} s (last answer: {last_error})")


@contextmanager
def serve(settings: Settings, port: int | None = None) -> Iterator[LiveServer]:
    """The app for `settings` served by uvicorn in a background thread on `port` (a free one by
    default) until the block ends."""
    app = create_app(settings)
    port = port or free_port()
    # The production configuration (forwarded headers ignored: no trusted proxy) on a free port.
    config = server_config(
        app, settings.model_copy(update={"host": "127.0.0.1", "port": port}), log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    url = LiveServer(f"http://127.0.0.1:{port}", app)
    try:
        _wait_until_healthy(url, thread, server)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if thread.is_alive():  # a stuck connection: stop waiting for it
            server.force_exit = True
            thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """Base URL of the app served by uvicorn in a background thread; stopped at the session's end."""
    with serve(settings) as url:
        yield url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium, shared by the session; each test opens its own context."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Browser, live_server: LiveServer) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) of a person whose browser prefers Chinese, at 1280×800,
    closed after the test."""
    context = await browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5_000)
    tab = await context.new_page()
    try:
        yield tab
    finally:
        await context.close()
