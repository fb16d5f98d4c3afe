"""E-mail through a real SMTP client; in-app notifications arrive with the matching issue.

With no SMTP_HOST configured (the embedded default), messages are written as .eml files under
DATA_DIR/mail so a local run can still follow an invitation link.
"""

from __future__ import annotations

import logging
import uuid
from email.message import EmailMessage

import aiosmtplib

from marketplace.config import Settings

log = logging.getLogger(__name__)


def build_message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


async def send_email(settings: Settings, to: str, subject: str, text: str) -> None:
    message = build_message(settings, to, subject, text)
    if not settings.smtp_host:
        folder = settings.data_dir / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4()}.eml"
        path.write_bytes(message.as_bytes())
        log.warning("SMTP_HOST is not set: e-mail to %s written to %s", to, path)
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
