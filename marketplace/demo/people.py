"""Demo people looked up by e-mail: once the demo's organizations are loaded every one of them
exists and has a membership, so a miss is broken demo data, not an answer to pass on."""

from __future__ import annotations

import uuid

from marketplace.accounts.services import AccountService
from marketplace.tenancy import Principal


async def user_id(accounts: AccountService, email: str) -> uuid.UUID:
    user = await accounts.user_by_email(email)
    if user is None:
        raise LookupError(f"demo data: nobody has the e-mail address {email}")
    return user.id


async def principal(accounts: AccountService, user: uuid.UUID, organization_id: uuid.UUID | None = None) -> Principal:
    found = await accounts.principal_for_user(user, organization_id)
    if found is None:
        raise LookupError(f"demo data: user {user} is no member of {organization_id or 'any organization'}")
    return found
