"""JSON API of notifications: the caller's in-app notifications and marking them read; for the
platform admin, the queued e-mails the worker gave up on."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery

from marketplace import i18n
from marketplace.notifications.models import Notification
from marketplace.notifications.pages import Notifications
from marketplace.notifications.schemas import (
    FailedEmailOut,
    MarkedRead,
    NotificationItemOut,
    NotificationList,
    NotificationOut,
)
from marketplace.tenancy import CurrentPrincipal


def rendered(notification: Notification) -> str:
    try:
        return i18n.gettext(notification.message, **notification.params)
    except (KeyError, TypeError, ValueError):  # parameters that no longer fit the message
        return i18n.gettext(notification.message)


def notification_out(notification: Notification) -> NotificationOut:
    items = []
    for item in notification.items:
        tag = item.get("tag")  # a message id
        items.append(
            NotificationItemOut(
                label=str(item.get("label", "")),
                link=item.get("link"),
                label_en=item.get("label_en"),
                tag=i18n.gettext(tag) if tag else None,
            )
        )
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        text=rendered(notification),
        message=notification.message,
        params=notification.params,
        items=items,
        link=notification.link,
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


class NotificationsApi(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/")
    async def list_notifications(
        self, principal: CurrentPrincipal, notifications: Notifications, unread: FromQuery[bool] = False
    ) -> NotificationList:
        """The caller's newest notifications (at most 100), and how many are unread."""
        principal.require()
        items = await notifications.recent(principal.signed_in_user_id, unread_only=unread)
        return NotificationList(
            unread=await notifications.unread_count(principal.signed_in_user_id),
            notifications=[notification_out(n) for n in items],
        )

    @post("/{notification_id:uuid}/read", status_code=200)
    async def mark_read(
        self, principal: CurrentPrincipal, notifications: Notifications, notification_id: FromPath[uuid.UUID]
    ) -> NotificationOut:
        principal.require()
        return notification_out(await notifications.mark_read(principal.signed_in_user_id, notification_id))

    @post("/read-all", status_code=200)
    async def mark_all_read(self, principal: CurrentPrincipal, notifications: Notifications) -> MarkedRead:
        principal.require()
        marked = await notifications.mark_all_read(principal.signed_in_user_id)
        return MarkedRead(unread=await notifications.unread_count(principal.signed_in_user_id), marked=marked)

    @get("/failed-emails")
    async def failed_emails(self, principal: CurrentPrincipal, notifications: Notifications) -> list[FailedEmailOut]:
        """Platform admin: the newest e-mails (at most 100) that could not be sent, with why."""
        return [
            FailedEmailOut(
                id=row.id,
                kind=row.kind,
                to_address=row.to_address,
                subject=row.subject,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                failed_at=row.failed_at,
            )
            for row in await notifications.failed_emails(principal)
            if row.failed_at is not None
        ]
