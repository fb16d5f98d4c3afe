"""Talking to the app as a browser does: the CSRF token, posting forms, signing in, reading a
field's error off a page."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from tests.support.world import PASSWORD


async def csrf_token(client: AsyncTestClient) -> str:
    if "csrftoken" not in client.cookies:
        await client.get("/login")
    return client.cookies["csrftoken"]


async def post_form(client: AsyncTestClient, url: str, data: dict | None = None, **kwargs):
    kwargs.setdefault("follow_redirects", False)
    return await client.post(url, data=data or {}, headers={"x-csrftoken": await csrf_token(client)}, **kwargs)


async def login(client: AsyncTestClient, email: str, password: str = PASSWORD):
    client.cookies.clear()
    response = await post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.text
    return response


def error_of(html: str, name: str) -> str:
    match = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', html)
    assert match, f"no error shown for {name}"
    return match.group(1)
