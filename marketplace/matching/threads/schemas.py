"""Request and response shapes of a subject's thread: messages, attachments, read markers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input


class MessageCreate(Input):
    text: Annotated[str, Meta(max_length=10_000)] = ""


class ReadMarker(Input):
    # The newest message read (its `seq`); without it, every message so far.
    up_to: Annotated[int, Meta(ge=0)] | None = None


class AttachmentOut(Struct):
    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


class MessageOut(Struct):
    id: uuid.UUID
    seq: int
    author: str | None
    author_side: str
    text: str
    created_at: datetime
    unread: bool
    attachments: list[AttachmentOut]
    # The subject's step the message was written with ("request_info", "accept", …), else null.
    step: str | None = None


class ThreadOut(Struct):
    items: list[MessageOut]
    unread: int
    last_read_seq: int
    can_post: bool


class ReadOut(Struct):
    last_read_seq: int
