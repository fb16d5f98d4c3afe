"""Test-data factories: organizations, members and listings made directly, without an acting
user, so a test can set up any world in a line. Production code never imports this module."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.members import normalize_email
from marketplace.accounts.models import ROLES_BY_KIND, Membership, Organization, OrgKind, User
from marketplace.accounts.organizations import OrganizationInput, validate_organization
from marketplace.accounts.passwords import hash_password
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.catalog.services import CatalogService


async def seed_organization(session: AsyncSession, data: OrganizationInput) -> Organization:
    """An organization, validated like one the platform admin creates."""
    validate_organization(data)
    org = Organization(**vars(data))
    session.add(org)
    await session.flush()
    await audit.record(session, "organization_created", organization_id=org.id, subject=org, source="seed")
    return org


async def seed_member(
    session: AsyncSession, org: Organization, *, email: str, name: str, role: str, password: str
) -> Membership:
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


async def seed_listing(
    session: AsyncSession,
    institution_id: uuid.UUID,
    data: ListingCreate,
    *,
    status: str = Status.draft,
    published_at: datetime | None = None,
    confirmed_at: datetime | None = None,
    created_by_user_id: uuid.UUID | None = None,
) -> Listing:
    """A listing in a given status, through the catalogue's add_existing (same validation)."""
    return await CatalogService(session).add_existing(
        institution_id, data, status=status, published_at=published_at, confirmed_at=confirmed_at,
        created_by_user_id=created_by_user_id,
    )
