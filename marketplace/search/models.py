"""The search outbox: one row per change that search must carry to Meilisearch; and saved
searches with the matches their alerts found.

Outbox rows are written in the same transaction as the change itself (see
services.install_outbox_listeners), so a committed change always has its row and a rolled-back one
never does. The relay sends them and marks them processed; processed rows are kept a while for the
reindex's catch-up, then pruned.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, REAL, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, in_values


class EntityType(enum.StrEnum):
    """What an outbox row is about; each has its index in search.index_settings.INDEXES (the needs index
    is registered by matching, which search does not import)."""

    listing = "listing"
    need = "need"


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
        # What saved-search alerts have still to look at: changes now in the index.
        Index("ix_outbox_unalerted", "id", postgresql_where=text("processed_at IS NOT NULL AND alerted_at IS NULL")),
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
    # When saved-search alerts looked at this change (after it reached the index).
    alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The request that made the change (marketplace.logs), to follow it from the logs to the index.
    request_id: Mapped[str | None] = mapped_column(String(64))


# ----- stored embeddings ---------------------------------------------------------------------------


class StoredEmbedding(Base):
    """The vector of a search document's passage (search.embeddings), kept so that it is computed
    once per text: the relay records the passage each document has now (`text_hash`); the worker
    embeds those whose vector was made from another text (`vector_hash`) and sends them again."""

    __tablename__ = "search_embeddings"
    __table_args__ = (
        CheckConstraint(in_values("entity_type", EntityType), name="entity_type"),
        CheckConstraint("vector IS NULL OR cardinality(vector) = 384", name="vector_dimensions"),
        # What the worker embeds next.
        Index("ix_search_embeddings_pending", "updated_at", postgresql_where=text("vector_hash IS DISTINCT FROM text_hash")),
        # Reuse of a vector already made from the same text (another listing, a re-published one).
        Index("ix_search_embeddings_vector_hash", "vector_hash"),
    )

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    passage: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))  # of the passage the document holds now
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[list[float] | None] = mapped_column(ARRAY(REAL))
    vector_hash: Mapped[str | None] = mapped_column(String(64))  # of the passage the vector was made from
    # Why the passage could not be embedded (it is not tried again until its text changes).
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# ----- saved searches and their alerts ------------------------------------------------------------


class SavedSearch(Base):
    """A company member's search (the whole URL query of /search), kept under a name. Personal:
    only its owner sees it. Tied to the membership it was saved under, so it goes when the member
    leaves the company."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "organization_id"],
            ["memberships.user_id", "memberships.organization_id"],
            name="fk_saved_searches_membership",
            ondelete="CASCADE",
        ),
        CheckConstraint("char_length(btrim(name)) BETWEEN 1 AND 80", name="name_length"),
        CheckConstraint("char_length(query) <= 2000", name="query_length"),
        Index("uq_saved_searches_user_name", "user_id", func.lower(text("name")), unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column()
    organization_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(80))
    # Canonical URL query (SearchQuery.params without page): q, filters, sort.
    query: Mapped[str] = mapped_column(Text, default="", server_default="")
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Matches found before this moment are not e-mailed (set when e-mail is turned on).
    email_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Random; only turns this search's e-mail off, so it is kept as is and put in every digest.
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The owner's last change (set by the service: the alert job's rounds do not count).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SavedSearchDigest(Base):
    """One digest e-mail sent to a user. PostgreSQL refuses a second one within its quiet period
    (24 hours), also when two workers race."""

    __tablename__ = "saved_search_digests"
    __table_args__ = (
        CheckConstraint("quiet_until - sent_at >= interval '24 hours'", name="quiet_a_day"),
        ExcludeConstraint(
            (column("user_id"), "="),
            (func.tstzrange(column("sent_at"), column("quiet_until")), "&&"),
            name="ex_saved_search_digests_one_a_day",
            using="gist",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    quiet_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    matches: Mapped[int] = mapped_column(Integer)


class SavedSearchMatch(Base):
    """A listing change that matched a saved search: one row per search, listing and change, so a
    rerun of the alert job finds the row and notifies nobody twice."""

    __tablename__ = "saved_search_matches"
    __table_args__ = (
        UniqueConstraint("saved_search_id", "listing_id", "changed_at_ms", name="uq_saved_search_matches_change"),
        Index("ix_saved_search_matches_recent", "saved_search_id", "found_at"),
        # What the digest still has to send.
        Index("ix_saved_search_matches_undigested", "saved_search_id", postgresql_where=text("digest_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    saved_search_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"))
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    # The listing's change (its search document's changed_at_ms).
    changed_at_ms: Mapped[int] = mapped_column(BigInteger)
    # First time this search found the listing (otherwise: it changed since).
    is_new: Mapped[bool] = mapped_column(Boolean)
    # The public title when found, for the notification and the digest.
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    digest_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("saved_search_digests.id", ondelete="SET NULL"))
