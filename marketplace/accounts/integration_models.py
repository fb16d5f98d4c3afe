"""Tables of integration clients (OAuth 2 client credentials): the clients an organization's
administrator registers and the short-lived tokens they take (accounts/integrations.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization
from marketplace.accounts.scopes import Scope
from marketplace.db import Base, UUIDPrimaryKey

# PostgreSQL keeps a scope list non-empty and within the fixed list (scopes.Scope).
_KNOWN = ", ".join(repr(s.value) for s in Scope)
SCOPES_CHECK = f"cardinality(scopes) > 0 AND scopes <@ ARRAY[{_KNOWN}]::varchar[]"


class IntegrationClient(UUIDPrimaryKey, Base):
    """A hospital's or company's own system (research management, CRM) that calls /api/v1 for its
    organization. Only the secret's SHA-256 is kept; the secret is shown once, at registration and
    at each rotation. It acts through its own service user (no password, no membership), whose name
    is the client's, so the audit trail names the integration."""

    __tablename__ = "integration_clients"
    __table_args__ = (
        CheckConstraint(SCOPES_CHECK, name="scopes_known"),
        # One active client per name in an organization: a registration sent twice makes one.
        Index(
            "uq_integration_clients_active_name",
            "organization_id",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship(lazy="raise")


class IntegrationToken(UUIDPrimaryKey, Base):
    """An access token issued to a client: only its SHA-256, the scopes granted and its expiry."""

    __tablename__ = "integration_tokens"
    __table_args__ = (
        CheckConstraint(SCOPES_CHECK, name="scopes_known"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integration_clients.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
