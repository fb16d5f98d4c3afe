"""API tokens: a user's bearer secrets for the JSON API, each acting for the organization it was
made in. Stored only as a digest; the raw token is shown once, at creation.

A mixin of AccountService (`ApiTokens`); turning a presented token back into a principal is
sign-in, in accounts/services.py.
"""

from __future__ import annotations

import uuid

from authlib.common.security import generate_token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import ApiToken
from marketplace.accounts.passwords import digest
from marketplace.audit import services as audit
from marketplace.db import utcnow
from marketplace.errors import NotFound, invalid
from marketplace.tenancy import Principal

TOKEN_PREFIX = "mkp_"


class ApiTokens:
    session: AsyncSession

    async def create_token(self, principal: Principal, name: str, *, ip: str | None = None) -> tuple[ApiToken, str]:
        principal.require()
        if not name.strip():
            raise invalid("name", "Required.")
        raw = TOKEN_PREFIX + generate_token(40)
        token = ApiToken(
            user_id=principal.signed_in_user_id,
            organization_id=principal.acting_organization_id,
            name=name.strip(),
            prefix=raw[:12],
            token_hash=digest(raw),
        )
        self.session.add(token)
        await self.session.flush()
        await audit.record(
            self.session,
            "token_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=token,
            ip=ip,
            name=token.name,
        )
        return token, raw

    async def list_tokens(self, principal: Principal) -> list[ApiToken]:
        principal.require()
        stmt = select(ApiToken).where(ApiToken.user_id == principal.signed_in_user_id).order_by(ApiToken.created_at.desc())
        return list((await self.session.scalars(stmt)).all())

    async def revoke_token(self, principal: Principal, token_id: uuid.UUID) -> ApiToken:
        principal.require()
        token = await self.session.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == principal.signed_in_user_id)
        )
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            await audit.record(self.session, "token_revoked", actor_user_id=principal.user_id, subject=token, name=token.name)
        return token
