"""The audit trail: every login, invitation, role change, token and state change lands here."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.audit.models import AuditEvent


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor_user_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    subject: Any = None,
    subject_type: str | None = None,
    subject_id: uuid.UUID | str | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditEvent:
    """Add an event to the caller's transaction, so it commits or rolls back with the change."""
    event = AuditEvent(
        action=action,
        actor_user_id=actor_user_id,
        organization_id=organization_id,
        subject_type=type(subject).__tablename__ if subject is not None else subject_type,
        subject_id=str(subject.id) if subject is not None else (str(subject_id) if subject_id else None),
        data={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()},
        ip=ip,
    )
    session.add(event)
    return event


async def events(
    session: AsyncSession,
    *,
    action: str | None = None,
    organization_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | str | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first. Callers scope by organization unless the reader has a platform role."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if organization_id:
        stmt = stmt.where(AuditEvent.organization_id == organization_id)
    if subject_id:
        stmt = stmt.where(AuditEvent.subject_id == str(subject_id))
    return list((await session.scalars(stmt)).all())
