"""The search outbox: one row per change that search must carry to Meilisearch.

Rows are written in the same transaction as the change itself (see services.install_outbox_listeners),
so a committed change always has its row and a rolled-back one never does. The relay sends them
and marks them processed; processed rows are kept a while for the reindex's catch-up, then pruned.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, in_values


# PostgreSQL NOTIFY channel of committed outbox rows (trigger outbox_notify, migration 0004): the
# worker listens on it to send changes at once rather than at its next round.
OUTBOX_CHANNEL = "search_outbox"


class EntityType(enum.StrEnum):
    listing = "listing"


class OutboxOp(enum.StrEnum):
    upsert = "upsert"
    delete = "delete"


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(in_values("entity_type", EntityType), name="entity_type"),
        CheckConstraint(in_values("op", OutboxOp), name="op"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # What the relay claims next: pending rows that are due, oldest first.
        Index("ix_outbox_pending", "next_attempt_at", "id", postgresql_where=text("processed_at IS NULL")),
        # The relay's per-entity look-up (all pending rows of the entities in a batch).
        Index("ix_outbox_pending_entity", "entity_type", "entity_id", postgresql_where=text("processed_at IS NULL")),
        # Pruning processed rows and the reindex's catch-up by age.
        Index("ix_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(20), default=EntityType.listing)
    entity_id: Mapped[uuid.UUID] = mapped_column()
    # Informational: the relay sends what PostgreSQL holds when it sends (a listing no longer
    # published becomes a delete whatever the row says).
    op: Mapped[str] = mapped_column(String(8), default=OutboxOp.upsert)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The Meilisearch task of the last send (succeeded when processed, failed or unknown otherwise).
    sent_task_uid: Mapped[int | None] = mapped_column(BigInteger)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
