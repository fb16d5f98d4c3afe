"""The daily licensing job, for "today" in China time: signed agreements whose day has come take
effect; pay-later licences whose use period has ended convert; both sides are reminded before a
use period ends and before an item falls due, and told when it is late and when it is in default
(past the agreement's grace days: the item is marked, audited).

Each notice is sent once, even with two workers at once: its key is inserted into
licensing_reminders first (unique) and only the insert that gets through sends, in the same
transaction. Each agreement is handled in its own transaction, so one that fails is logged and
the others go on.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.accounts.models import TTO_ROLES, Organization, User
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.db import add_unless_taken, china_today, utcnow
from marketplace.i18n import N_
from marketplace.ledger.statement_files import format_fen
from marketplace.licensing.agreements import LICENSEE_ROLES
from marketplace.licensing.models import (
    PAYING_STATES,
    Agreement,
    Obligation,
    ObligationKind,
    ObligationState,
    Reminder,
    State,
)
from marketplace.licensing.services import LicensingService
from marketplace.matching.events import MatchEvents
from marketplace.notifications.services import EmailKind, NotificationService

log = logging.getLogger(__name__)

REMINDER_EMAIL = EmailKind(
    "licensing_reminders",
    N_("Licences: use periods and payments due"),
    N_("Before a licence's use period ends or a payment is due, and when a payment is late or in default."),
    roles=TTO_ROLES | LICENSEE_ROLES,  # both sides of an agreement, as _audience reads them
)
REMINDER_CONSTRAINT = "uq_licensing_reminders_key"
USE_PERIOD_DAYS = (90, 30, 7)  # before a pay-later licence's use period ends
DUE_DAYS = (14, 3)  # before an item of the schedule falls due

ITEM_LABELS: dict[str, str] = {
    ObligationKind.upfront: N_("The upfront fee"),
    ObligationKind.milestone: N_("A milestone payment"),
    ObligationKind.instalment: N_("An instalment"),
    ObligationKind.lump_sum: N_("The licence fee"),
    ObligationKind.royalty: N_("A royalty payment"),
    ObligationKind.annual_minimum: N_("The annual minimum royalty"),
}

# kind → (in-app message, e-mail subject, e-mail lead); every text takes the same values.
NOTICES: dict[str, tuple[str, str, str]] = {
    "use_ends": (
        N_("The use period of a pay-later licence ends on %(day)s."),
        N_("Reminder: the use period of “%(title)s” ends on %(day)s"),
        N_(
            "The use period of the pay-later licence “%(title)s” between %(institution)s and %(company)s ends on "
            "%(day)s (China time). Until then the licensee may convert early or exit and return the rights; "
            "at its end the licence becomes a paid licence."
        ),
    ),
    "converted": (
        N_("A pay-later licence's use period has ended: it is now a paid licence."),
        N_("Now a paid licence: “%(title)s”"),
        N_(
            "The use period of the pay-later licence “%(title)s” between %(institution)s and %(company)s ended on "
            "%(day)s: it is now a paid licence. The payment mode is chosen next."
        ),
    ),
    "due": (
        N_("A payment under a licence is due on %(day)s."),
        N_("Reminder: %(amount)s yuan due on %(day)s under “%(title)s”"),
        N_(
            "%(item)s of %(amount)s yuan under the licence “%(title)s” between %(institution)s and %(company)s "
            "is due on %(day)s (China time)."
        ),
    ),
    "late": (
        N_("A payment under a licence is late."),
        N_("Late: %(amount)s yuan due on %(day)s under “%(title)s”"),
        N_(
            "%(item)s of %(amount)s yuan under the licence “%(title)s” between %(institution)s and %(company)s "
            "was due on %(day)s and is unpaid. After %(grace)s days of grace the licensee is in default."
        ),
    ),
    "default": (
        N_("A licensee is in default on a payment."),
        N_("In default: %(amount)s yuan due on %(day)s under “%(title)s”"),
        N_(
            "%(item)s of %(amount)s yuan under the licence “%(title)s” between %(institution)s and %(company)s "
            "was due on %(day)s and is still unpaid after %(grace)s days of grace: the licensee is in default, "
            "and the agreement's default liability applies. It shows in the company's performance record."
        ),
    ),
}


@dataclass
class Run:
    """What one run did, for the log and the tests."""

    took_effect: int = 0
    converted: int = 0
    reminders: int = 0
    defaulted: int = 0
    failed: list[uuid.UUID] = field(default_factory=list)


def agreement_link(agreement_id: uuid.UUID) -> str:
    return f"/agreements/{agreement_id}"


def milestone(days_left: int, milestones: tuple[int, ...]) -> int | None:
    """The nearest milestone already reached (a day the job did not run still gets one reminder)."""
    reached = [m for m in milestones if 0 <= days_left <= m]
    return min(reached) if reached else None


async def run_daily(settings: Settings | None, sessionmaker, today: date | None = None, now: datetime | None = None) -> Run:
    today = today or china_today()
    now = now or utcnow()
    run = Run()
    for agreement_id in await _candidates(sessionmaker, today):
        try:
            async with sessionmaker() as session, session.begin():
                await _one(session, settings, agreement_id, today, now, run)
        except Exception:  # one bad agreement must not hold back the others: the next run retries it
            log.exception("licensing job: agreement %s failed", agreement_id)
            run.failed.append(agreement_id)
    if run.failed or run.reminders or run.took_effect or run.converted or run.defaulted:
        log.info("licensing job %s: %s", today, run)
    return run


async def _candidates(sessionmaker, today: date) -> list[uuid.UUID]:
    """Agreements the job may have something to do for today."""
    soon = today + timedelta(days=max(DUE_DAYS))
    # Items due soon or late; once marked in default, nothing more is sent for them.
    has_open = select(Obligation.agreement_id).where(
        Obligation.state == ObligationState.due, Obligation.due_on <= soon, Obligation.defaulted_at.is_(None)
    )
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Agreement.id)
            .where(
                or_(
                    (Agreement.state == State.signed) & (Agreement.starts_on <= today),
                    (Agreement.state == State.in_use) & (Agreement.use_ends_on <= today + timedelta(days=max(USE_PERIOD_DAYS))),
                    Agreement.state.in_(PAYING_STATES) & Agreement.id.in_(has_open),
                )
            )
            .order_by(Agreement.id)
        )
        return list(rows)


async def _one(
    session: AsyncSession, settings: Settings | None, agreement_id: uuid.UUID, today: date, now: datetime, run: Run
) -> None:
    # Waits for a second worker holding it; it then sees what that one did (state, keys taken).
    agreement = await session.scalar(
        select(Agreement).where(Agreement.id == agreement_id).with_for_update().execution_options(populate_existing=True)
    )
    if agreement is None:
        return
    service = LicensingService(session)
    notices = Notices(session, settings, agreement)
    notices.sent = set(await session.scalars(select(Reminder.key).where(Reminder.agreement_id == agreement.id)))
    if agreement.state == State.signed and agreement.starts_on <= today:
        await service.take_effect(agreement, now)
        run.took_effect += 1
    if agreement.state == State.in_use and agreement.use_ends_on is not None:
        if agreement.use_ends_on <= today:
            await service.convert(agreement, "use_period_end", now)
            run.converted += 1
            run.reminders += await notices.send(f"converted:{agreement.id}", "converted", day=agreement.use_ends_on)
        else:
            days = milestone((agreement.use_ends_on - today).days, USE_PERIOD_DAYS)
            if days is not None:
                key = f"use_ends:{days}:{agreement.id}:{agreement.use_ends_on}"
                run.reminders += await notices.send(key, "use_ends", day=agreement.use_ends_on)
    if agreement.state not in PAYING_STATES:
        return
    for obligation in (await service.obligations_of({agreement.id}, for_update=True))[agreement.id]:
        if obligation.state != ObligationState.due or obligation.due_on is None:
            continue
        due_on = obligation.due_on
        if due_on >= today:
            days = milestone((due_on - today).days, DUE_DAYS)
            if days is not None:
                run.reminders += await notices.send(f"due:{days}:{obligation.id}:{due_on}", "due", obligation)
            continue
        run.reminders += await notices.send(f"late:{obligation.id}:{due_on}", "late", obligation)
        if obligation.defaulted_at is None and today > due_on + timedelta(days=agreement.grace_days):
            obligation.defaulted_at = now
            await audit.record(
                session,
                "obligation_defaulted",
                organization_id=agreement.institution_id,
                subject=obligation,
                agreement_id=agreement.id,
                company_id=agreement.company_id,
                due_on=due_on.isoformat(),
                outstanding_fen=obligation.amount_fen - obligation.paid_fen,
                grace_days=agreement.grace_days,
            )
            run.defaulted += 1
            run.reminders += await notices.send(f"default:{obligation.id}", "default", obligation)


class Notices:
    """In-app notices and e-mails about one agreement to both sides: the institution's TTO and the
    company's administrators (those who see the licence)."""

    def __init__(self, session: AsyncSession, settings: Settings | None, agreement: Agreement) -> None:
        self.session = session
        self.settings = settings
        self.agreement = agreement
        self.sent: set[str] = set()  # keys taken before this transaction began: no insert needed
        self._people_and_orgs: tuple[list[User], dict[uuid.UUID, Organization]] | None = None

    async def _audience(self) -> tuple[list[User], dict[uuid.UUID, Organization]]:
        """Both sides' people and names, read once per agreement however many notices it sends."""
        if self._people_and_orgs is None:
            agreement = self.agreement
            accounts = AccountService(self.session)
            people = [
                *await accounts.member_contacts(agreement.institution_id, TTO_ROLES),
                *await accounts.member_contacts(agreement.company_id, LICENSEE_ROLES),
            ]
            orgs = await accounts.public_organizations({agreement.institution_id, agreement.company_id})
            self._people_and_orgs = (people, orgs)
        return self._people_and_orgs

    async def send(self, key: str, kind: str, obligation: Obligation | None = None, *, day: date | None = None) -> int:
        """Send the notice unless its key is taken (sent already, or being sent by another worker)."""
        agreement = self.agreement
        if key in self.sent:
            return 0
        reminder = Reminder(key=key, agreement_id=agreement.id, obligation_id=obligation.id if obligation else None, kind=kind)
        if not await add_unless_taken(self.session, reminder, REMINDER_CONSTRAINT):
            return 0
        people, orgs = await self._audience()
        day = obligation.due_on if obligation is not None else day
        assert day is not None
        params = {
            "title": agreement.title,
            "day": day.isoformat(),
            "amount": format_fen(obligation.amount_fen - obligation.paid_fen) if obligation else "",
            "grace": str(agreement.grace_days),
        }
        message, subject, lead = NOTICES[kind]
        link = agreement_link(agreement.id)
        await NotificationService(self.session).notify(
            [person.id for person in people],
            f"licensing_{kind}",
            message,
            params={"day": params["day"]},
            items=[{"label": agreement.title, "link": link}],
            link=link,
        )

        def values(locale: str) -> dict:
            item = ITEM_LABELS.get(obligation.kind, "") if obligation else ""
            return {
                **params,
                "item": i18n.gettext(item) if item else "",
                "institution": orgs[agreement.institution_id].display_name(locale),
                "company": orgs[agreement.company_id].display_name(locale),
            }

        # The matching domain's e-mail builder: the reader's language, the link, the unsubscribe headers.
        await MatchEvents(self.session, self.settings).email(
            people, REMINDER_EMAIL.key, link, subject, lead, values, open_label=N_("Open the agreement:")
        )
        return 1


async def licensing_job(settings: Settings, sessionmaker) -> None:
    """The worker's job (marketplace/worker.py): cheap when there is nothing to do, so it runs
    hourly and a day's work is done soon after midnight China time."""
    await run_daily(settings, sessionmaker)
