"""Response shapes of the notifications API."""

from __future__ import annotations

import uuid
from datetime import datetime

from msgspec import Struct


class NotificationItemOut(Struct):
    label: str
    link: str | None
    label_en: str | None = None
    tag: str | None = None


class NotificationOut(Struct):
    id: uuid.UUID
    kind: str
    text: str  # in the request's language
    message: str  # the English message id, with `params`
    params: dict
    items: list[NotificationItemOut]
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationList(Struct):
    unread: int
    notifications: list[NotificationOut]


class MarkedRead(Struct):
    unread: int
    marked: int


class FailedEmailOut(Struct):
    """A queued e-mail the worker gave up on (no body: it carries the recipient's unsubscribe link)."""

    id: uuid.UUID
    kind: str
    to_address: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    failed_at: datetime
