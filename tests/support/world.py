"""The world most tests act in: two organizations of each kind, a user for every role in the own
ones, and their API tokens (the `world` fixture of tests/conftest.py builds it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Membership, Organization, Role
from marketplace.accounts.organizations import OrganizationInput, credit_code_check_character
from marketplace.accounts.services import AccountService
from marketplace.tenancy import Principal
from tests.accounts.factories import principal_of, seed_member, seed_organization

PASSWORD = "test-password-1"


def credit_code(seed: int) -> str:
    first17 = f"91310000MA{seed:07d}"
    return first17 + credit_code_check_character(first17)


def institution(name: str, **overrides) -> OrganizationInput:
    data = OrganizationInput(
        kind="institution",
        name_zh=name,
        name_en=None,
        city="上海",
        grade="3A",
        approved_beds=1000,
        research_beds=100,
        pi_concurrent_trial_threshold=5,
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

    async def principal(self, db: AsyncSession, email: str) -> Principal:
        return await principal_of(db, email)

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
        _token, raw = await accounts.create_token(await principal_of(db, email), f"{role} token")
        world.tokens[role] = raw
    await db.commit()
    return world
