"""The worker's deadline job: an open need whose deadline has passed is closed (the NEED machine's
`expire`, taken by the system), apart from the service because it runs in its own transactions."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select

from marketplace import states
from marketplace.config import Settings
from marketplace.db import china_day, utcnow
from marketplace.matching.needs.lifecycle import NEED
from marketplace.matching.needs.models import Need, NeedState

log = logging.getLogger(__name__)


async def close_expired_needs(sessionmaker, today: date | None = None, batch: int = 100) -> int:
    """Close every open need whose deadline has passed (China time), audited, each with its outbox
    row; competing workers skip each other's rows. Returns how many."""
    closed = 0
    while True:
        async with sessionmaker() as session, session.begin():
            day = today or china_day(utcnow())
            needs = list(
                (
                    await session.scalars(
                        select(Need)
                        .where(Need.state == NeedState.open, Need.deadline < day)
                        .order_by(Need.deadline, Need.id)
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            now = utcnow()
            for need in needs:
                await states.apply(
                    session,
                    NEED,
                    None,
                    need,
                    "expire",
                    now=now,
                    details={"deadline": need.deadline.isoformat()},
                    as_system=True,
                )
        closed += len(needs)
        if len(needs) < batch:
            return closed


async def expire_job(settings: Settings, sessionmaker) -> None:
    """The worker's job (marketplace/worker.py)."""
    closed = await close_expired_needs(sessionmaker)
    if closed:
        log.info("closed %d need(s) past their deadline", closed)
