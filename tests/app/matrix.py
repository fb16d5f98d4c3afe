"""The role × organization tenancy matrix that every route goes through (tests/app/test_tenancy.py):
what each role should get on its own and another organization's records, and the two checks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import ADMIN_ROLES, Role
from tests.accounts.factories import seed_member
from tests.support.web import login, post_form
from tests.support.world import PASSWORD, ROLE_KIND, World

Expect = Callable[[Role, str], int]


def readable(ok: int) -> Expect:
    """Own organization's records: every role; other organizations': platform roles only, else 404."""
    return lambda role, relation: ok if relation == "own" or role in (Role.platform_admin, Role.platform_analyst) else 404


def any_role(ok: int) -> Expect:
    return lambda role, relation: ok


def only(ok: int, *roles: Role) -> Expect:
    return lambda role, relation: ok if role in roles else 403


def managed(ok: int) -> Expect:
    """Member management: the organization's administrator (or the platform admin anywhere);
    other roles of the same organization get 403; other organizations are 404 unless platform."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return ok
        if role == Role.platform_analyst:
            return 403
        if relation == "other":
            return 404
        return ok if role in ADMIN_ROLES else 403

    return expect


@dataclass
class Route:
    method: str
    path: str  # may hold {org}, {membership}, {token}
    expect: Expect
    anonymous: int = 401
    body: Callable[[World, Role, str], dict] | None = None
    files: dict | None = None  # multipart uploads instead of a JSON body
    headers: Callable[[], dict] | None = None  # extra headers, made afresh for every call (Idempotency-Key)
    # Makes a fresh record for routes that consume one (delete, revoke); returns path values.
    prepare: Callable[[AsyncSession, World, Role, str], Awaitable[dict]] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


async def path_values(db: AsyncSession, world: World, route: Route, role: Role, relation: str) -> dict:
    org_key = f"{ROLE_KIND[role]}/{relation}"
    values = {"org": world.orgs[org_key].id, "membership": world.targets[org_key].id}
    if route.prepare:
        values.update(await route.prepare(db, world, role, relation))
    return values


async def fresh_member(db: AsyncSession, world: World, role: Role, relation: str) -> dict:
    org = world.org_for(role, relation)
    kind = ROLE_KIND[role]
    new_role = {"platform": "platform_analyst", "institution": "inventor", "company": "company_member"}[kind]
    membership = await seed_member(
        db, org, email=f"{uuid.uuid4().hex[:10]}@fresh.test", name="fresh", role=new_role, password=PASSWORD
    )
    await db.commit()
    return {"membership": membership.id}


async def check_api_matrix(client: AsyncTestClient, db: AsyncSession, world: World, route: Route) -> None:
    """Call the route as every role, on its own and another organization, and anonymously."""
    failures = []
    for role in Role:
        for relation in ("own", "other"):
            values = await path_values(db, world, route, role, relation)
            body = route.body(world, role, relation) if route.body else None
            headers = {**world.bearer(role), **(route.headers() if route.headers else {})}
            response = await client.request(
                route.method, route.path.format(**values), json=body, files=route.files, headers=headers
            )
            expected = route.expect(role, relation)
            if response.status_code != expected:
                failures.append(
                    f"{role.value:16} {relation:5} → {response.status_code}, expected {expected}: {response.text[:160]}"
                )
    values = await path_values(db, world, route, Role.company_member, "own")
    body = route.body(world, Role.company_member, "own") if route.body else None
    extra = route.headers() if route.headers else None
    anonymous = await client.request(route.method, route.path.format(**values), json=body, files=route.files, headers=extra)
    if anonymous.status_code != route.anonymous:
        failures.append(f"anonymous              → {anonymous.status_code}, expected {route.anonymous}")
    assert not failures, f"{route.method} {route.path}:\n" + "\n".join(failures)


async def check_page_matrix(client: AsyncTestClient, db: AsyncSession, world: World, route: Route) -> None:
    """The same for a page, signed in through the login form; anonymous visitors go to /login."""
    failures = []
    for role in Role:
        await login(client, world.emails[role])
        for relation in ("own", "other"):
            values = await path_values(db, world, route, role, relation)
            path = route.path.format(**values)
            if route.method == "GET":
                response = await client.get(path, follow_redirects=False)
            else:
                data = route.body(world, role, relation) if route.body else {}
                response = await post_form(client, path, data, files=route.files, follow_redirects=False)
            expected = route.expect(role, relation)
            if response.status_code != expected:
                failures.append(f"{role.value:16} {relation:5} → {response.status_code}, expected {expected}")
    client.cookies.clear()
    values = await path_values(db, world, route, Role.company_member, "own")
    path = route.path.format(**values)
    if route.method == "GET":
        anonymous = await client.get(path, follow_redirects=False)
    else:
        anonymous = await post_form(client, path, {}, files=route.files, follow_redirects=False)
    if anonymous.status_code != route.anonymous:
        failures.append(f"anonymous → {anonymous.status_code}, expected {route.anonymous}")
    assert not failures, f"page {route.method} {route.path}:\n" + "\n".join(failures)
