"""Shared test helpers: the SMTP mailbox, a world of organizations and users for every role,
sign-in helpers, and the role × organization tenancy matrix that every route goes through."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import ADMIN_ROLES, Membership, Organization, Role
from marketplace.accounts.organizations import OrganizationInput, credit_code_check_character
from marketplace.accounts.services import AccountService
from tests.factories import seed_member, seed_organization

PASSWORD = "test-password-1"


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def only(self) -> Message:
        assert len(self.messages) == 1, f"expected one e-mail, got {len(self.messages)}"
        return self.messages[0]


def credit_code(seed: int) -> str:
    first17 = f"91310000MA{seed:07d}"
    return first17 + credit_code_check_character(first17)


def institution(name: str, **overrides) -> OrganizationInput:
    data = OrganizationInput(
        kind="institution", name_zh=name, name_en=None, city="上海", grade="3A", approved_beds=1000,
        research_beds=100, pi_concurrent_trial_threshold=5,
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def company(name: str, seed: int) -> OrganizationInput:
    return OrganizationInput(kind="company", name_zh=name, city="杭州", credit_code=credit_code(seed), segment="pharma")


ROLE_KIND = {
    Role.platform_admin: "platform",
    Role.platform_analyst: "platform",
    Role.tto_manager: "institution",
    Role.tto_staff: "institution",
    Role.inventor: "institution",
    Role.company_admin: "company",
    Role.company_member: "company",
}


@dataclass
class World:
    """Two organizations of each kind ("own" and "other"); in each own one, a user per role;
    in every organization an administrator and a plain member to act on."""

    orgs: dict[str, Organization] = field(default_factory=dict)  # "platform/own", "company/other", ...
    emails: dict[Role, str] = field(default_factory=dict)
    tokens: dict[Role, str] = field(default_factory=dict)
    targets: dict[str, Membership] = field(default_factory=dict)  # a non-admin member per org key
    scratch: dict = field(default_factory=dict)  # what a route's prepare step hands to its body

    async def principal(self, db: AsyncSession, email: str):
        accounts = AccountService(db)
        return await accounts.principal_for_user((await accounts.user_by_email(email)).id)

    def org_for(self, role: Role, relation: str) -> Organization:
        return self.orgs[f"{ROLE_KIND[role]}/{relation}"]

    def bearer(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def build_world(db: AsyncSession) -> World:
    world = World()
    specs = {
        "platform/own": OrganizationInput(kind="platform", name_zh="测试平台", city="上海"),
        "platform/other": OrganizationInput(kind="platform", name_zh="另一平台", city="北京"),
        "institution/own": institution("本院"),
        "institution/other": institution("他院", city="北京"),
        "company/own": company("本企业", 1),
        "company/other": company("他企业", 2),
    }
    for key, data in specs.items():
        world.orgs[key] = await seed_organization(db, data)
    admin_of = {"platform": "platform_admin", "institution": "tto_manager", "company": "company_admin"}
    member_of = {"platform": "platform_analyst", "institution": "inventor", "company": "company_member"}
    for role, kind in ROLE_KIND.items():
        email = f"{role.value}@own.test"
        await seed_member(db, world.orgs[f"{kind}/own"], email=email, name=role.value, role=role, password=PASSWORD)
        world.emails[role] = email
    for key, org in world.orgs.items():
        kind = key.split("/")[0]
        if key.endswith("/other"):
            await seed_member(db, org, email=f"admin@{kind}.other.test", name="admin", role=admin_of[kind], password=PASSWORD)
        world.targets[key] = await seed_member(
            db, org, email=f"target@{key.replace('/', '.')}.test", name="target", role=member_of[kind], password=PASSWORD
        )
    accounts = AccountService(db)
    for role, email in world.emails.items():
        user = await accounts.user_by_email(email)
        principal = await accounts.principal_for_user(user.id)
        _token, raw = await accounts.create_token(principal, f"{role} token")
        world.tokens[role] = raw
    await db.commit()
    return world


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


# ----- the tenancy matrix -------------------------------------------------------------------------

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
            response = await client.request(
                route.method, route.path.format(**values), json=body, files=route.files, headers=world.bearer(role)
            )
            expected = route.expect(role, relation)
            if response.status_code != expected:
                failures.append(f"{role.value:16} {relation:5} → {response.status_code}, expected {expected}: {response.text[:160]}")
    values = await path_values(db, world, route, Role.company_member, "own")
    body = route.body(world, Role.company_member, "own") if route.body else None
    anonymous = await client.request(route.method, route.path.format(**values), json=body, files=route.files)
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


