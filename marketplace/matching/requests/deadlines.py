"""Institutions' answer deadlines on match requests: counts for inboxes and dashboards, and the
worker's reminders two working days before the due day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.catalog.services import CatalogService
from marketplace.config import Settings
from marketplace.db import china_day, utcnow
from marketplace.i18n import N_
from marketplace.matching.events import REMINDER_EMAIL, MatchEvents, thread_link
from marketplace.matching.requests.models import MatchRequest, Side, State
from marketplace.notifications.services import NotificationService


@dataclass(frozen=True)
class DeadlineCounts:
    """Requests waiting for an institution's first answer, for the inbox and the dashboards."""

    awaiting: int
    due_soon: int  # inside the reminder window, not yet late
    overdue: int


def is_overdue(request: MatchRequest, today: date) -> bool:
    return request.state == State.submitted and request.response_due_on is not None and request.response_due_on < today


async def deadline_counts(session: AsyncSession, condition=None, today: date | None = None) -> DeadlineCounts:
    """Requests waiting for a first answer, those due within the reminder window and those late.
    `condition` narrows them (MatchingService.visible(principal), or an institution)."""
    today = today or china_day(utcnow())
    waiting = MatchRequest.state == State.submitted
    row = (
        await session.execute(
            select(
                func.count().filter(waiting),
                func.count().filter(waiting, MatchRequest.remind_on <= today, MatchRequest.response_due_on >= today),
                func.count().filter(waiting, MatchRequest.response_due_on < today),
            ).where(condition if condition is not None else true())
        )
    ).one()
    return DeadlineCounts(*row)


async def send_response_reminders(settings: Settings, sessionmaker, today: date | None = None) -> int:
    """E-mail the TTO of each institution whose answer to a request is due within two working
    days, once per deadline: the request is claimed and marked in the same transaction as the
    e-mails leave, so a failed send is retried and a second worker skips it. Returns how many."""
    sent = 0
    while True:
        async with sessionmaker() as session, session.begin():
            day = today or china_day(utcnow())
            request = await session.scalar(
                select(MatchRequest)
                .where(
                    MatchRequest.state == State.submitted,
                    MatchRequest.reminder_sent_at.is_(None),
                    MatchRequest.remind_on <= day,
                    MatchRequest.response_due_on >= day,
                )
                .order_by(MatchRequest.response_due_on, MatchRequest.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if request is None:
                return sent
            recipients = await _send_reminder(session, settings, request)
            request.reminder_sent_at = utcnow()
            await audit.record(
                session,
                "match_request_reminder_sent",
                organization_id=request.institution_id,
                subject=request,
                due=request.response_due_on.isoformat(),
                recipients=recipients,
            )
        sent += 1


async def _send_reminder(session: AsyncSession, settings: Settings, request: MatchRequest) -> int:
    """Tell the institution's TTO in-app, and by e-mail those who want deadline reminders."""
    due = request.response_due_on
    assert due is not None, "a submitted request has a due day (the due_while_submitted check)"
    events = MatchEvents(session, settings)
    people = await events.side_people(request, Side.institution)
    listing = (await CatalogService(session).listing_refs({request.listing_id}))[request.listing_id]
    company = await AccountService(session).public_organization(request.company_id)
    await NotificationService(session).notify(
        [p.id for p in people],
        "match_request_reminder",
        N_("The answer to a match request is due by %(due)s."),
        params={"due": due.isoformat()},
        items=[{"label": listing.title_zh, "label_en": listing.title_en, "link": thread_link(request.id)}],
        link=thread_link(request.id),
    )

    def values(locale: str) -> dict:
        english = locale == "en"
        return {
            "title": listing.title_en if english and listing.title_en else listing.title_zh,
            "company": company.display_name(locale),
            "due": due.isoformat(),
            "submitted": china_day(request.submitted_at).isoformat(),
        }

    await events.email(
        people,
        REMINDER_EMAIL.key,
        thread_link(request.id),
        N_("Reminder: answer the match request on “%(title)s” by %(due)s"),
        N_(
            "%(company)s sent a match request on “%(title)s” on %(submitted)s. Your institution's answer is due "
            "by %(due)s (China time): start the review, ask for information, accept or decline."
        ),
        values,
    )
    return len(people)


async def reminder_job(settings: Settings, sessionmaker) -> None:
    """The worker's job (marketplace/worker.py)."""
    await send_response_reminders(settings, sessionmaker)
