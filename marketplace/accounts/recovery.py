"""Forgotten passwords: a one-time link, valid for an hour, e-mailed to the account's address.

The answer to a request is the same whether the address has an account or not (no enumeration):
the e-mail is queued in the request's transaction (the worker sends it), so no answer waits on a
mail server either. Requests are throttled like sign-ins (throttle.py), in a bucket of their own per
address so they never slow the account's sign-in. Only the link's SHA-256 is kept; setting the new
password uses it up, ends every session of the user and forgets their sign-in failures.

A mixin of AccountService (`PasswordResets`, on top of `Members`).
"""

from __future__ import annotations

from datetime import timedelta

from authlib.common.security import generate_token
from sqlalchemy import func, select, update

from marketplace import i18n
from marketplace.accounts import oidc, sessions, throttle
from marketplace.accounts.members import Members, normalize_email
from marketplace.accounts.models import PasswordReset, User
from marketplace.accounts.passwords import check_password, digest, hash_password
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import utcnow
from marketplace.errors import NotFound, Throttled
from marketplace.notifications.services import NotificationService

RESET_TTL = timedelta(hours=1)
RESET_EMAIL_KIND = "password_reset"


def reset_bucket(email: str) -> str:
    """The throttle's key for reset requests: apart from the address's sign-in failures."""
    return f"reset:{normalize_email(email)}"[:254]


class PasswordResets(Members):
    async def request_password_reset(self, email: str, settings: Settings, *, ip: str | None, policy: ThrottlePolicy) -> bool:
        """E-mail a reset link if the address has an active account; otherwise nothing, and the
        caller says the same either way. False (and no link) when the address's organization has
        turned password sign-in off: its people sign in through its own identity provider."""
        wait = await throttle.admit(self.session, reset_bucket(email), ip, policy)
        if wait:
            await audit.record(self.session, "password_reset_rate_limited", ip=ip, email=normalize_email(email))
            await self.session.commit()
            raise Throttled(wait)
        if email.strip() and not await oidc.password_sign_in_allowed(self.session, email):
            # No link, or a password would exist that its organization has ruled out. The answer depends
            # on the address's domain only (which the sign-in page's single sign-on reveals anyway),
            # never on whether the address has an account, so it tells nobody who is a member.
            await audit.record(self.session, "password_reset_refused_sso", ip=ip, email=normalize_email(email))
            return False
        user = await self.user_by_email(email) if email.strip() else None
        if user is None or not user.is_active:
            await audit.record(self.session, "password_reset_requested", ip=ip, email=normalize_email(email), known=False)
            return True
        raw = generate_token(40)
        # A new link replaces the ones sent before.
        await self.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
            .values(used_at=utcnow())
        )
        reset = PasswordReset(user_id=user.id, token_hash=digest(raw), expires_at=utcnow() + RESET_TTL)
        self.session.add(reset)
        await self.session.flush()
        await audit.record(self.session, "password_reset_requested", actor_user_id=user.id, subject=reset, ip=ip, known=True)
        token = i18n.current_locale.set(user.locale if user.locale in i18n.LOCALES else i18n.current_locale.get())
        try:
            subject = i18n.gettext("Set a new password for the medical tech-transfer marketplace")
            body = i18n.gettext(
                "Someone (we hope you) asked to set a new password for %(email)s.\n\nSet it here (the link works once "
                "and expires in one hour):\n%(link)s\n\nIf it was not you, ignore this e-mail: your password stays as it is.\n",
                email=user.email,
                link=f"{settings.base_url.rstrip('/')}/reset-password/{raw}",
            )
        finally:
            i18n.current_locale.reset(token)
        await NotificationService(self.session).queue_email(user.email, RESET_EMAIL_KIND, subject, body)
        return True

    async def open_password_reset(self, raw_token: str) -> tuple[PasswordReset, User]:
        """The reset a link points to, if unused and unexpired (locked); otherwise 404."""
        row = (
            await self.session.execute(
                select(PasswordReset, User)
                .join(User, User.id == PasswordReset.user_id)
                .where(
                    PasswordReset.token_hash == digest(raw_token),
                    PasswordReset.used_at.is_(None),
                    PasswordReset.expires_at > func.now(),
                    User.is_active,
                )
                .with_for_update(of=PasswordReset)
            )
        ).first()
        if row is None:
            raise NotFound()
        return row[0], row[1]

    async def reset_password(self, raw_token: str, password: str, *, ip: str | None = None) -> User:
        """Set the new password; the link is used up and every session of the user ends."""
        reset, user = await self.open_password_reset(raw_token)
        check_password(password)
        user.password_hash = hash_password(password)
        reset.used_at = utcnow()
        await audit.record(self.session, "password_reset", actor_user_id=user.id, subject=user, ip=ip)
        ended = await sessions.end_sessions(self.session, user_id=user.id)
        await audit.record(self.session, "sessions_ended", actor_user_id=user.id, count=ended, reason="password_reset")
        await throttle.forget_failures(self.session, normalize_email(user.email))
        return user
