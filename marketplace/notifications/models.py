"""In-app notifications and each user's e-mail preferences.

Other domains notify people by user id; this domain knows nothing of what they are about. A
notification keeps an English message id with its parameters and is translated when it is shown,
so each reader sees it in their own language.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UUIDPrimaryKey, utcnow

# Links stay on this site: a path, never another host.
SAME_SITE_LINK = "{column} IS NULL OR ({column} LIKE '/%' AND {column} NOT LIKE '//%')"


class Notification(UUIDPrimaryKey, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(SAME_SITE_LINK.format(column="link"), name="link_same_site"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        # The unread badge on every page counts these.
        Index("ix_notifications_unread", "user_id", postgresql_where=text("read_at IS NULL")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What sent it, e.g. "saved_search_matches" (for styling and filtering; free text by design).
    kind: Mapped[str] = mapped_column(String(60))
    # English message id and its %(name)s parameters, translated when shown.
    message: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    # Records it is about: [{"label": …, "label_en": …, "link": "/…", "tag": message id}].
    items: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    link: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailPreference(Base):
    """A user's choice for one kind of e-mail. No row means the kind's default (on). The row also
    keeps the unsubscribe token put in that kind's e-mails: random, and only able to turn the
    e-mail off, so it is stored as is and reused by every e-mail of the kind."""

    __tablename__ = "email_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    # When it was turned back on after being off (None: never off), so that an e-mail that
    # gathers news since it was last sent does not bring up what happened while it was off.
    enabled_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=utcnow)


class OutgoingEmail(UUIDPrimaryKey, Base):
    """An e-mail queued in the transaction of the change it tells about, so it leaves only if
    that change is committed and a slow or failing mail server never holds up the change; the
    worker sends it (`send_queued_emails`) and retries with back-off. One it gives up on is moved
    aside: `failed_at` set, `last_error` saying why (the platform admin lists them)."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (
        Index("ix_outgoing_emails_due", "next_attempt_at", postgresql_where=text("sent_at IS NULL AND failed_at IS NULL")),
        Index("ix_outgoing_emails_failed", "failed_at", postgresql_where=text("failed_at IS NOT NULL")),
    )

    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    kind: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The request that queued it (marketplace.logs): the worker's lines about it carry the same id.
    request_id: Mapped[str | None] = mapped_column(String(64))
