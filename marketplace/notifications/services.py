"""Notifications: in-app messages for a user, the e-mails each user chooses to get, and sending
e-mail through a real SMTP client.

Used by every domain and using none: callers name people by user id and pass the text as an
English message id with parameters. Each domain declares the kinds of e-mail it sends
(`EmailKind`) and marketplace.wiring registers them (`register_email_kind`), so the settings page
lists every kind without knowing the senders.

With no SMTP_HOST configured (the embedded default), e-mails are written as .eml files under
DATA_DIR/mail so a local run can still follow their links.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import structlog
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import metrics
from marketplace.config import Settings
from marketplace.db import rowcount, utcnow
from marketplace.errors import FieldError, InvalidInput, NotFound
from marketplace.i18n import N_
from marketplace.logs import current_request_id
from marketplace.notifications.models import EmailPreference, Notification, OutgoingEmail
from marketplace.tenancy import Principal

log = logging.getLogger(__name__)

MAX_ITEMS = 20  # records listed in one notification; its link leads to the rest
PAGE_LIMIT = 100


@dataclass(frozen=True)
class EmailKind:
    key: str
    label: str  # message id
    description: str  # message id
    default: bool = True
    # The roles it can reach (a TTO's deadline reminder never reaches a company): the settings
    # offer, and accept, only these. None: every role.
    roles: frozenset[str] | None = None

    def applies_to(self, role: str | None) -> bool:
        return self.roles is None or role in self.roles


EMAIL_KINDS: dict[str, EmailKind] = {}


def register_email_kind(kind: EmailKind) -> EmailKind:
    """Called by marketplace.wiring for each kind (idempotent); the settings page lists every
    registered kind, in this order, and the user may turn each off."""
    EMAIL_KINDS[kind.key] = kind
    return kind


class NotificationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----- in-app -----------------------------------------------------------------------------

    async def notify(
        self,
        user_ids: Iterable[uuid.UUID],
        kind: str,
        message: str,
        *,
        params: dict | None = None,
        items: list[dict] | None = None,
        link: str | None = None,
        at: datetime | None = None,
    ) -> list[Notification]:
        """One notification per user, in the caller's transaction. `message` is an English
        message id with %(name)s parameters; `items` name the records it is about. `at` is the
        moment of what it tells (a step replayed with its own clock, as the demo does); by default
        this call's moment, not the transaction's start, so notices of one batch keep their order."""
        if link is not None and (not link.startswith("/") or link.startswith("//")):
            raise ValueError(f"a notification links within the site, not to {link!r}")
        rows = [
            Notification(
                user_id=user_id,
                kind=kind,
                message=message,
                params=dict(params or {}),
                items=list(items or [])[:MAX_ITEMS],
                link=link,
                created_at=at or utcnow(),
            )
            for user_id in dict.fromkeys(user_ids)
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def recent(self, user_id: uuid.UUID, *, unread_only: bool = False, limit: int = PAGE_LIMIT) -> list[Notification]:
        stmt = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        stmt = stmt.order_by(Notification.created_at.desc(), Notification.id).limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def unread_count(self, user_id: uuid.UUID) -> int:
        stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        return await self.session.scalar(stmt) or 0

    async def mark_read(self, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
        """Another user's notification is not found."""
        found = await self.session.scalar(
            select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
        )
        if found is None:
            raise NotFound()
        if found.read_at is None:
            found.read_at = func.now()
            await self.session.flush()
            await self.session.refresh(found, ["read_at"])
        return found

    async def mark_all_read(self, user_id: uuid.UUID) -> int:
        result = await self.session.execute(
            update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=func.now())
        )
        return rowcount(result) or 0

    # ----- e-mail preferences -----------------------------------------------------------------

    async def _preferences(self, user_id: uuid.UUID) -> dict[str, EmailPreference]:
        rows = await self.session.scalars(select(EmailPreference).where(EmailPreference.user_id == user_id))
        return {row.kind: row for row in rows}

    async def email_choices(self, user_id: uuid.UUID, role: str | None = None) -> dict[str, bool]:
        """Every registered kind of e-mail (those that reach `role`, when given), on or off for this user."""
        rows = await self._preferences(user_id)
        return {
            key: rows[key].enabled if key in rows else kind.default
            for key, kind in EMAIL_KINDS.items()
            if role is None or kind.applies_to(role)
        }

    async def set_email_choices(self, user_id: uuid.UUID, choices: dict[str, bool], role: str | None = None) -> None:
        """Kinds that do not reach `role` (when given) are refused like unknown ones."""
        unknown = [
            key for key in choices if key not in EMAIL_KINDS or (role is not None and not EMAIL_KINDS[key].applies_to(role))
        ]
        if unknown:
            raise InvalidInput(*(FieldError(key, N_("Not one of the allowed values.")) for key in unknown))
        for key, enabled in choices.items():
            await self._set(user_id, key, enabled)

    async def wants_email_since(self, user_id: uuid.UUID, kind: str) -> tuple[bool, datetime | None]:
        """Whether the user gets this kind of e-mail, and since when it is on again (None: it has
        not been turned off and on again)."""
        row = (await self._preferences(user_id)).get(kind)
        if row is None:
            return EMAIL_KINDS[kind].default if kind in EMAIL_KINDS else True, None
        return row.enabled, row.enabled_since

    async def wants_email(self, user_id: uuid.UUID, kind: str) -> bool:
        return (await self.wants_email_since(user_id, kind))[0]

    async def _row(self, user_id: uuid.UUID, kind: str) -> EmailPreference:
        """The user's row for the kind, created (with the kind's default) when missing."""
        default = EMAIL_KINDS[kind].default if kind in EMAIL_KINDS else True
        await self.session.execute(
            insert(EmailPreference)
            .values(user_id=user_id, kind=kind, enabled=default, unsubscribe_token=secrets.token_urlsafe(32))
            .on_conflict_do_nothing(index_elements=["user_id", "kind"])
        )
        found = await self.session.scalars(
            select(EmailPreference)
            .where(EmailPreference.user_id == user_id, EmailPreference.kind == kind)
            .execution_options(populate_existing=True)
        )
        return found.one()  # there is one now: inserted above or already there

    async def _set(self, user_id: uuid.UUID, kind: str, enabled: bool) -> EmailPreference:
        row = await self._row(user_id, kind)
        if row.enabled != enabled:
            row.enabled = enabled
            if enabled:
                row.enabled_since = func.now()
            await self.session.flush()
            await self.session.refresh(row, ["enabled_since", "updated_at"])
        return row

    async def unsubscribe_token(self, user_id: uuid.UUID, kind: str) -> str:
        """The token that turns this kind of e-mail off for this user (put into each such e-mail)."""
        return (await self._row(user_id, kind)).unsubscribe_token

    async def by_unsubscribe_token(self, token: str) -> EmailPreference:
        """A wrong or unknown token is not found."""
        row = await self.session.scalar(select(EmailPreference).where(EmailPreference.unsubscribe_token == token))
        if row is None:
            raise NotFound()
        return row

    async def unsubscribe(self, token: str) -> EmailPreference:
        row = await self.by_unsubscribe_token(token)
        return await self._set(row.user_id, row.kind, False)

    # ----- queued e-mail ----------------------------------------------------------------------

    async def queue_email(
        self, to: str, kind: str, subject: str, text: str, *, headers: dict[str, str] | None = None
    ) -> OutgoingEmail:
        """Queue an e-mail in the caller's transaction; the worker sends it once committed."""
        row = OutgoingEmail(
            to_address=clean_header(to),
            kind=kind,
            subject=clean_header(subject, SUBJECT_MAX),
            body=text,
            headers={name: clean_header(value) for name, value in (headers or {}).items()},
            request_id=current_request_id(),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def failed_emails(self, principal: Principal, *, limit: int = PAGE_LIMIT) -> list[OutgoingEmail]:
        """Queued e-mails the worker gave up on, newest first, with why: for the platform admin."""
        principal.require_platform_admin()
        stmt = (
            select(OutgoingEmail)
            .where(OutgoingEmail.failed_at.is_not(None))
            .order_by(OutgoingEmail.failed_at.desc(), OutgoingEmail.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())


# ----- e-mail ------------------------------------------------------------------------------------


SUBJECT_MAX = 200  # characters; a title pasted from a spreadsheet cell can be any length
HEADER_MAX = 900  # under RFC 5322's 998-octet line, before the library folds it


def clean_header(value: str, limit: int = HEADER_MAX) -> str:
    """One line of text for a header: line breaks (\\n, \\r, U+2028/U+2029, NEL …) and other control
    characters become spaces, runs of spaces one, and it is capped. The e-mail library refuses a
    header with a line break, and a refused message must not be what user text can cause."""
    flat = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in value)
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def build_message(settings: Settings, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> EmailMessage:
    """Every header value is cleaned here, where every e-mail is built (queued or sent at once)."""
    message = EmailMessage()
    message["From"] = clean_header(settings.mail_from)
    message["To"] = clean_header(to)
    message["Subject"] = clean_header(subject, SUBJECT_MAX)
    for name, value in (headers or {}).items():
        message[name] = clean_header(value)
    message.set_content(text)
    return message


async def send_email(settings: Settings, to: str, subject: str, text: str, *, headers: dict[str, str] | None = None) -> None:
    await deliver(settings, build_message(settings, to, subject, text, headers))


async def deliver(settings: Settings, message: EmailMessage) -> None:
    if not settings.smtp_host:
        folder = settings.data_dir / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4()}.eml"
        path.write_bytes(message.as_bytes())
        log.warning("SMTP_HOST is not set: e-mail to %s written to %s", message["To"], path)
        return
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=15,
    )


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail programs POST `List-Unsubscribe=One-Click` to the URL."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


EMAIL_RETRY_BASE = timedelta(minutes=1)
EMAIL_MAX_ATTEMPTS = 8  # about four hours of back-off, then the e-mail is moved aside as failed


def permanent_refusal(error: Exception) -> bool:
    """A 5xx answer (for the one recipient) will not change by trying again."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(500 <= refused.code < 600 for refused in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and 500 <= error.code < 600


def _reason(error: Exception) -> str:
    # PostgreSQL text holds no NUL, and the reason must always be writable.
    return f"{type(error).__name__}: {error}".replace("\x00", " ")[:2000]


async def send_queued_emails(settings: Settings, sessionmaker, *, limit: int = 100) -> int:
    """Send queued e-mails that are due, one per transaction: each is claimed with SKIP LOCKED
    (a second worker takes another) and marked sent in the transaction it leaves in. A message
    that cannot be built or is refused permanently (5xx) is moved aside at once (`failed_at`, with
    `last_error`); other failures are retried with back-off and moved aside after
    EMAIL_MAX_ATTEMPTS. Every error is caught, so a bad row never holds back the rows behind it.
    Returns how many were sent."""
    sent = 0
    for _ in range(limit):
        async with sessionmaker() as session, session.begin():
            row = await session.scalar(
                select(OutgoingEmail)
                .where(
                    OutgoingEmail.sent_at.is_(None),
                    OutgoingEmail.failed_at.is_(None),
                    OutgoingEmail.next_attempt_at <= func.now(),
                )
                .order_by(OutgoingEmail.next_attempt_at, OutgoingEmail.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return sent
            row.attempts += 1
            # Every line about this e-mail carries the id of the request that queued it.
            with structlog.contextvars.bound_contextvars(request_id=row.request_id):
                try:
                    message = build_message(settings, row.to_address, row.subject, row.body, row.headers)
                    message.as_bytes()  # what delivery does: a message that cannot be written fails here
                except Exception as error:  # any refusal to build is in the row itself: it will not pass later
                    _fail(row, error, permanent=True)
                    continue
                try:
                    await deliver(settings, message)
                except Exception as error:  # whatever it is, the rows behind this one still go
                    _fail(row, error, permanent=permanent_refusal(error))
                    continue
                row.sent_at = func.now()
                sent += 1
    return sent


def _fail(row: OutgoingEmail, error: Exception, *, permanent: bool) -> None:
    metrics.EMAIL_SEND_FAILURES.inc()
    row.last_error = _reason(error)
    if permanent or row.attempts >= EMAIL_MAX_ATTEMPTS:
        row.failed_at = utcnow()
        log.error("e-mail %s to %s moved aside after %d attempt(s): %s", row.id, row.to_address, row.attempts, row.last_error)
        return
    log.warning("e-mail %s to %s failed (attempt %d): %s", row.id, row.to_address, row.attempts, row.last_error)
    row.next_attempt_at = utcnow() + EMAIL_RETRY_BASE * 2 ** (row.attempts - 1)


async def email_queue(session: AsyncSession) -> tuple[int, int]:
    """E-mails waiting to be sent, and those given up on (for the metrics)."""
    row = (
        await session.execute(
            select(
                func.count().filter(OutgoingEmail.sent_at.is_(None), OutgoingEmail.failed_at.is_(None)),
                func.count().filter(OutgoingEmail.failed_at.is_not(None)),
            )
        )
    ).one()
    return row[0], row[1]


async def email_job(settings: Settings, sessionmaker) -> None:
    """The worker's job (marketplace/worker.py)."""
    await send_queued_emails(settings, sessionmaker)
