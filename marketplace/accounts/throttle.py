"""Sign-in throttling that holds across app processes: attempts are rows in PostgreSQL.

An attempt is written (and committed) before its password is checked and deleted with the account's
other failures when the password is right, so what remains are failures — and forty attempts in
flight at once count as forty. Per account: a few failures are free, then each attempt must wait a
delay that doubles with every failure (capped, so the real user is slowed, never locked out for long),
and no more than `login_failures_per_hour` per hour (OWASP ASVS 2.2.1). Per address: a cap on failures
in 15 minutes, high enough for a hospital's staff behind one address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import SignInAttempt
from marketplace.config import Settings
from marketplace.db import utcnow

ACCOUNT_WINDOW = timedelta(hours=1)
ADDRESS_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    max_delay_seconds: int = 60
    failures_per_hour: int = 100
    failures_per_address: int = 100

    @classmethod
    def of(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            settings.login_free_failures,
            settings.login_max_delay_seconds,
            settings.login_failures_per_hour,
            settings.login_failures_per_address,
        )

    @classmethod
    def for_sso(cls, settings: Settings) -> ThrottlePolicy:
        """Single sign-on requests, counted per address in a bucket of their own (sso_bucket)."""
        return cls(
            settings.sso_free_requests_per_address,
            settings.login_max_delay_seconds,
            settings.sso_requests_per_address_per_hour,
            settings.login_failures_per_address,
        )

    def account_wait(self, failures: int, oldest: datetime | None, latest: datetime | None, now: datetime) -> float:
        """Seconds the account's next attempt must still wait."""
        if failures >= self.failures_per_hour and oldest:
            return (oldest + ACCOUNT_WINDOW - now).total_seconds()
        if failures >= self.free_failures and latest:
            delay = min(2 ** (failures - self.free_failures), self.max_delay_seconds)
            return delay - (now - latest).total_seconds()
        return 0


async def admit(db: AsyncSession, email: str, address: str | None, policy: ThrottlePolicy) -> int:
    """Record an attempt for `email` from `address`, or refuse it: the seconds to wait (0: recorded).
    The caller commits, which releases the account's lock."""
    # One attempt per account at a time is counted, so parallel attempts cannot all pass the count.
    await db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(email, 0))))
    now = utcnow()
    await db.execute(delete(SignInAttempt).where(SignInAttempt.attempted_at < now - ACCOUNT_WINDOW))
    failures, oldest, latest = (
        await db.execute(
            select(func.count(), func.min(SignInAttempt.attempted_at), func.max(SignInAttempt.attempted_at)).where(
                SignInAttempt.email == email
            )
        )
    ).one()
    wait = policy.account_wait(failures, oldest, latest, now)
    if address:
        from_address, first = (
            await db.execute(
                select(func.count(), func.min(SignInAttempt.attempted_at)).where(
                    SignInAttempt.address == address, SignInAttempt.attempted_at > now - ADDRESS_WINDOW
                )
            )
        ).one()
        if from_address >= policy.failures_per_address and first:
            wait = max(wait, (first + ADDRESS_WINDOW - now).total_seconds())
    if wait > 0:
        return max(1, math.ceil(wait))
    db.add(SignInAttempt(email=email, address=address, attempted_at=now))
    await db.flush()
    return 0


def sso_bucket(address: str | None) -> str:
    """The throttle's key for single sign-on requests from one address: every start and callback
    counts (they are not password failures, so they are kept apart from the address's sign-ins)."""
    return f"sso:{address or 'unknown'}"[:254]


async def forget_failures(db: AsyncSession, email: str) -> None:
    """The password was right: the account's failures (and this attempt) no longer count."""
    await db.execute(delete(SignInAttempt).where(SignInAttempt.email == email))
