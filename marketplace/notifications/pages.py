"""Pages of notifications: the list with mark-read, the e-mail settings, and unsubscribing from a
kind of e-mail by the link it carries (no sign-in needed: the token is the credential)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import i18n
from marketplace.db import DbSession
from marketplace.notifications.services import EMAIL_KINDS, NotificationService
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import flash, render

Notifications = NamedDependency[NotificationService]
Form = URLEncodedBody[dict[str, str]]


async def provide_notifications(db_session: DbSession) -> NotificationService:
    """The notifications service on the request's session."""
    return NotificationService(db_session)


class NotificationPages(Controller):
    include_in_schema = False

    @get("/notifications")
    async def notifications(
        self, request: Request, principal: CurrentPrincipal, notifications: Notifications, unread: FromQuery[bool] = False
    ) -> Template:
        principal.require()
        items = await notifications.recent(principal.signed_in_user_id, unread_only=unread)
        count = await notifications.unread_count(principal.signed_in_user_id)
        return render(request, "notifications/list.html", principal, items=items, unread_only=unread, unread_count=count)

    @post("/notifications/{notification_id:uuid}/read")
    async def mark_read(
        self, principal: CurrentPrincipal, notifications: Notifications, notification_id: FromPath[uuid.UUID], data: Form
    ) -> Redirect:
        """Marks it read; with `open`, goes on to what it links to (a path on this site)."""
        principal.require()
        notification = await notifications.mark_read(principal.signed_in_user_id, notification_id)
        if data.get("open") and notification.link:
            return Redirect(notification.link)
        return Redirect("/notifications")

    @post("/notifications/read-all")
    async def mark_all_read(self, request: Request, principal: CurrentPrincipal, notifications: Notifications) -> Redirect:
        principal.require()
        await notifications.mark_all_read(principal.signed_in_user_id)
        flash(request, "All notifications are marked as read.")
        return Redirect("/notifications")

    @get("/settings/notifications")
    async def settings(self, request: Request, principal: CurrentPrincipal, notifications: Notifications) -> Template:
        principal.require()
        # Only the kinds that can reach the person in their current role.
        choices = await notifications.email_choices(principal.signed_in_user_id, principal.role)
        return render(request, "notifications/settings.html", principal, kinds=[EMAIL_KINDS[k] for k in choices], choices=choices)

    @post("/settings/notifications")
    async def save_settings(
        self,
        request: Request,
        principal: CurrentPrincipal,
        notifications: Notifications,
        data: URLEncodedBody[dict[str, list[str] | str]],
    ) -> Redirect:
        """Every kind the form showed (`kind`) is on when its box (`on`) is ticked, off otherwise."""
        principal.require()
        shown = _values(data, "kind")
        ticked = set(_values(data, "on"))
        await notifications.set_email_choices(
            principal.signed_in_user_id, {key: key in ticked for key in shown if key}, principal.role
        )
        flash(request, "Your e-mail settings are saved.")
        return Redirect("/settings/notifications")

    @get("/unsubscribe/{token:str}")
    async def unsubscribe_form(
        self, request: Request, principal: CurrentPrincipal, notifications: Notifications, token: FromPath[str]
    ) -> Template:
        preference = await notifications.by_unsubscribe_token(token)
        return _unsubscribe_page(request, principal, preference.kind, token, done=not preference.enabled)

    # Mail programs POST here without a page (RFC 8058 one-click), so there is no CSRF token;
    # the unguessable token in the path is what authorizes it, and it can only turn e-mail off.
    @post("/unsubscribe/{token:str}", exclude_from_csrf=True)
    async def unsubscribe(
        self, request: Request, principal: CurrentPrincipal, notifications: Notifications, token: FromPath[str]
    ) -> Response:
        preference = await notifications.unsubscribe(token)
        return _unsubscribe_page(request, principal, preference.kind, token, done=True)


def _values(data: dict, name: str) -> list[str]:
    value = data.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _unsubscribe_page(request: Request, principal, kind_key: str, token: str, *, done: bool) -> Template:
    kind = EMAIL_KINDS.get(kind_key)
    return render(
        request,
        "notifications/unsubscribe.html",
        principal,
        subject=i18n.gettext(kind.label) if kind else kind_key,
        detail=i18n.gettext(kind.description) if kind else "",
        action=f"/unsubscribe/{token}",
        done=done,
        manage_url="/settings/notifications",
    )
