"""Accounts test data: organizations and members made directly, without an acting user, so a
test can set up any world in a line; API tokens for any member. Production code never imports this."""

from __future__ import annotations

import random
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.access_requests import Application
from marketplace.accounts.members import normalize_email
from marketplace.accounts.models import ROLES_BY_KIND, Membership, Organization, OrgKind, User
from marketplace.accounts.organizations import OrganizationInput, credit_code_check_character, validate_organization
from marketplace.accounts.passwords import hash_password
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.tenancy import Principal


async def seed_organization(session: AsyncSession, data: OrganizationInput) -> Organization:
    """An organization, validated like one the platform admin creates."""
    validate_organization(data)
    org = Organization(**vars(data))
    session.add(org)
    await session.flush()
    await audit.record(session, "organization_created", organization_id=org.id, subject=org, source="seed")
    return org


async def seed_member(session: AsyncSession, org: Organization, *, email: str, name: str, role: str, password: str) -> Membership:
    """A user (created if new) with a password, a member of `org` in `role`."""
    if role not in ROLES_BY_KIND[OrgKind(org.kind)]:
        raise ValueError(f"{role} is not a role of a {org.kind}")
    user = await AccountService(session).user_by_email(email)
    if user is None:
        user = User(email=normalize_email(email), name=name, password_hash=hash_password(password))
        session.add(user)
        await session.flush()
    membership = Membership(user_id=user.id, organization_id=org.id, org_kind=org.kind, role=role)
    session.add(membership)
    await session.flush()
    await audit.record(session, "member_added", organization_id=org.id, subject=membership, role=role, source="seed")
    return membership


async def principal_of(db: AsyncSession, email: str) -> Principal:
    """The acting principal of the user with this e-mail, in their current organization."""
    accounts = AccountService(db)
    user = await accounts.user_by_email(email)
    assert user is not None, f"no user {email}"
    principal = await accounts.principal_for_user(user.id)
    assert principal is not None, f"{email} belongs to no organization"
    return principal


async def bearer_for(db: AsyncSession, email: str) -> dict[str, str]:
    """An Authorization header with a fresh API token of the user with this e-mail (any member)."""
    _token, raw = await AccountService(db).create_token(await principal_of(db, email), "test")
    await db.commit()
    return {"Authorization": f"Bearer {raw}"}


def credit_code() -> str:
    """A fresh unified social credit code with a right check character (GB 32100-2015)."""
    first17 = "913100" + "".join(random.choice("0123456789") for _ in range(11))
    return first17 + credit_code_check_character(first17)


async def seed_application(db, *, kind: str = "institution", email: str | None = None):
    """A pending request for access, as the public form sends it (committed)."""
    row = await AccountService(db).apply_for_access(
        Application(
            kind=kind,
            name_zh=f"申请单位{uuid.uuid4().hex[:6]}",
            name_en="Applicant",
            credit_code=credit_code() if kind == "company" else "",
            city="上海",
            contact_name="王联系",
            email=email or f"{uuid.uuid4().hex[:10]}@apply.test",
            phone="021-6000 0000",
            message="我们想发布成果。",
        )
    )
    await db.commit()
    return row
