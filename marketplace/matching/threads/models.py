"""Conversation threads: one per subject (a match request, or an institution's response to a need),
their messages, the files attached to messages, and each reader's read marker.

A thread names its subject by kind and id rather than by a foreign key per kind, so a new kind
of subject is a new CHECK value and a registered SubjectKind (marketplace/matching/threads/subjects.py),
not a new column. Who may read and post is decided by the subject's kind, never here.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UUIDPrimaryKey, in_values


class SubjectKindName(enum.StrEnum):
    match_request = "match_request"
    need_response = "need_response"


class ThreadSide(enum.StrEnum):
    """Which party wrote a message: the one that asked (a company; for a platform challenge the
    platform and the company it is for), or the institution that answers."""

    company = "company"
    institution = "institution"


ALLOWED_EXTENSIONS = ("pdf", "docx", "xlsx", "pptx", "png", "jpg", "txt", "csv", "zip")


class Thread(UUIDPrimaryKey, Base):
    __tablename__ = "threads"
    __table_args__ = (
        CheckConstraint(in_values("subject_kind", SubjectKindName), name="subject_kind"),
        UniqueConstraint("subject_kind", "subject_id", name="uq_threads_subject"),
    )

    subject_kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ThreadMessage(UUIDPrimaryKey, Base):
    __tablename__ = "thread_messages"
    __table_args__ = (
        CheckConstraint(in_values("author_side", ThreadSide), name="author_side"),
        CheckConstraint("length(body) <= 10000", name="body_length"),
        Index("ix_thread_messages_thread_seq", "thread_id", "seq"),
    )

    # The order of messages and what a read marker points at (ids are random, times may tie).
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_side: Mapped[str] = mapped_column(String(20))
    # May be empty when the message carries files (checked by the service).
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The subject's step this message was written with (its action: "request_info", "accept", …),
    # its text the step's question, answer, note or reason; None for an ordinary message.
    step: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ThreadAttachment(UUIDPrimaryKey, Base):
    """A file on a message, stored under the attachments folder by its id; the uploader's file
    name is kept only to name the download."""

    __tablename__ = "thread_attachments"
    __table_args__ = (
        CheckConstraint(in_values("extension", ALLOWED_EXTENSIONS), name="extension"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("length(btrim(original_name)) > 0", name="name_given"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("thread_messages.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    # What the content was found to be (not what the uploader's browser said).
    extension: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ThreadReadMarker(Base):
    """The last message a user has read in a thread; what comes after it is unread."""

    __tablename__ = "thread_read_markers"

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_read_seq: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
