"""Home pages as work queues: for each role, what waits for the person, each item a count that
links to the filtered list where the work is done. Every count comes from its domain's service as
one SQL COUNT (or GROUP BY), scoped as that service scopes the caller's records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES, PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.audit.models import AuditEvent
from marketplace.beds.models import AllocationState
from marketplace.beds.services import BedsService
from marketplace.catalog.models import Status
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession, china_day, utcnow
from marketplace.i18n import N_
from marketplace.ledger.services import LedgerService
from marketplace.licensing.agreements import LICENSEE_ROLES
from marketplace.licensing.lifecycle import STATE_LABELS as AGREEMENT_STATE_LABELS
from marketplace.licensing.models import State as AgreementState
from marketplace.licensing.services import LicensingService
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.lifecycle import STATE_LABELS as REQUEST_STATE_LABELS
from marketplace.matching.requests.models import State as RequestState
from marketplace.matching.requests.services import MatchingService
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.services import ThreadService
from marketplace.search.saved_searches import SavedSearchService
from marketplace.tenancy import Principal

# Needs whose deadline falls within this many days are "responses due" for an institution.
NEEDS_CLOSING_WITHIN = timedelta(days=14)
# Saved searches' finds this recent are "new".
NEW_FINDS_SINCE = timedelta(days=7)
RECENT_EVENTS = 10

STATUS_LABELS: dict[str, str] = {
    Status.draft: N_("draft"),
    Status.pending_review: N_("pending_review"),
    Status.published: N_("published"),
    Status.withdrawn: N_("withdrawn"),
    Status.archived: N_("archived"),
}
# What a line of recent activity links to, by the audit subject's table.
SUBJECT_LINKS = {
    "listings": ("/listings/{id}", N_("Listing")),
    "match_requests": ("/match-requests/{id}", N_("Request")),
    "licensing_agreements": ("/agreements/{id}", N_("Agreement")),
    "bed_allocations": ("/bed-allocations/{id}", N_("Bed allocation")),
    "needs": ("/needs/{id}", N_("Need")),
    "wards": ("/wards/{id}", N_("Ward")),
    "trial_engagements": ("/trial-engagements/{id}", N_("Trial engagement")),
    "trial_projects": ("/projects/{id}", N_("Multi-centre project")),
    "ledger_incomes": ("/ledger/income#income-{id}", N_("Income")),
    "ledger_entries": ("/ledger/entries/{id}", N_("Journal entry")),
    "ledger_payouts": ("/ledger/payouts", N_("Payout")),
    "distribution_policies": ("/ledger/policies", N_("Distribution policy")),
}


def link(path: str, **query: object) -> str:
    pairs = {k: str(v) for k, v in query.items() if v is not None}
    if not pairs:
        return path
    return path + ("&" if "?" in path else "?") + urlencode(pairs)


@dataclass(frozen=True)
class QueueItem:
    key: str  # stable, for the page's markup and tests
    label: str  # a message id
    count: int
    href: str
    warn: bool = False  # shown first and in the warning colour while above zero
    money: bool = False  # `count` is CNY fen


@dataclass(frozen=True)
class QueueGroup:
    key: str
    title: str  # a message id
    items: list[QueueItem]
    empty: str = ""  # a message id, shown when every count is zero


@dataclass(frozen=True)
class FirstStep:
    text: str  # message ids
    action: str
    href: str


@dataclass
class HomeQueue:
    groups: list[QueueGroup] = field(default_factory=list)
    first_step: FirstStep | None = None


@dataclass(frozen=True)
class Activity:
    event: AuditEvent
    subject: str  # a message id naming the kind of record, or ""
    name: str  # the record's title when known
    href: str | None


def _by_state(
    key: str, counts: dict[str, int], order, labels: dict[str, str], path: str, param: str = "state"
) -> list[QueueItem]:
    """One item per state that has records, in the lifecycle's order."""
    return [
        QueueItem(f"{key}-{state}", labels[state], counts[state], link(path, **{param: str(state)}))
        for state in order
        if counts.get(state)
    ]


class HomeQueues:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.accounts = AccountService(session)
        self.catalog = CatalogService(session)
        self.matching = MatchingService(session)
        self.needs = NeedService(session)
        self.ledger = LedgerService(session)
        self.licensing = LicensingService(session)
        self.beds = BedsService(session)
        self.saved_searches = SavedSearchService(session)

    async def queue(self, principal: Principal, now: datetime | None = None) -> HomeQueue:
        """The signed-in person's queue for their role in the organization they act for."""
        principal.require()
        now = now or utcnow()
        if principal.role in TTO_ROLES:
            return await self._tto(principal, now)
        if principal.role == Role.inventor:
            return await self._inventor(principal)
        if principal.role in COMPANY_ROLES:
            return await self._company(principal, now)
        if principal.role in PLATFORM_ROLES:
            return await self._platform(principal, now)
        return HomeQueue()

    # ----- by role ----------------------------------------------------------------------------

    async def _tto(self, principal: Principal, now: datetime) -> HomeQueue:
        today = china_day(now)
        deadlines = await self.matching.deadline_counts(principal, today)
        closing = await self.needs.count_closing(principal, today, today + NEEDS_CLOSING_WITHIN)
        to_review, to_reconfirm = await self.catalog.review_counts(principal)
        allocations = await self.beds.allocation_state_counts(principal)
        answer = [
            QueueItem(
                "overdue-requests",
                N_("Overdue requests"),
                deadlines.overdue,
                await self._overdue_link(principal, deadlines.overdue),
                warn=True,
            ),
            QueueItem(
                "requests-to-answer", N_("Requests to answer"), deadlines.awaiting, link("/match-requests", state="submitted")
            ),
            await self._unread_item(principal),
            QueueItem(
                "needs-closing",
                N_("Needs closing within 14 days"),
                closing,
                link("/needs", deadline_from=today.isoformat(), deadline_to=(today + NEEDS_CLOSING_WITHIN).isoformat()),
            ),
        ]
        listings = [
            QueueItem("listings-to-review", N_("Listings to review"), to_review, "/review#pending"),
            QueueItem("listings-to-reconfirm", N_("Listings to reconfirm"), to_reconfirm, "/review#due"),
        ]
        deals = [
            QueueItem(
                "agreements-due",
                N_("Agreements with a payment due"),
                await self.licensing.count_due(principal, today),
                link("/agreements", due=1),
            ),
            QueueItem(
                "allocations-to-decide",
                N_("Bed requests to decide"),
                allocations.get(AllocationState.requested, 0),
                link("/bed-allocations", state=AllocationState.requested),
            ),
            QueueItem(
                "reviews-late",
                N_("Trials with a review running late"),
                await self.beds.count_running_late(principal, today),
                link("/trial-engagements", late=1),
            ),
        ]
        queue = HomeQueue(
            [
                QueueGroup("answer", N_("Waiting for an answer"), answer, N_("No request or need waits for your answer.")),
                QueueGroup("listings", N_("Listings"), listings, N_("Every listing is reviewed and up to date.")),
                QueueGroup("deals", N_("Deals"), deals, N_("Nothing is due on your agreements and beds.")),
            ]
        )
        if not await self.catalog.status_counts(principal):
            queue.first_step = FirstStep(
                N_("Your institution has no listings yet."), N_("Publish your first result"), "/listings/new?kind=result"
            )
        return queue

    async def _unread_item(self, principal: Principal) -> QueueItem:
        """Requests whose conversation holds messages the person has not read."""
        assert principal.user_id is not None, "queue() lets only a signed-in caller through"
        among = ThreadService.unread_subjects(principal.user_id, SubjectKindName.match_request)
        count = await self.matching.count_among(principal, among)
        return QueueItem("requests-unread", N_("Requests with unread messages"), count, link("/match-requests", unread=1))

    async def _overdue_link(self, principal: Principal, overdue: int) -> str:
        """The one overdue request itself when there is only one (one click reaches it), else the list."""
        if overdue == 1:
            found, _total = await self.matching.list(principal, overdue=True, page_size=1)
            if found:
                return f"/match-requests/{found[0].id}"
        return link("/match-requests", overdue=1)

    async def _inventor(self, principal: Principal) -> HomeQueue:
        statuses = await self.catalog.status_counts(principal, own=True)
        requests = await self.matching.state_counts(principal)
        balance = await self.ledger.my_balance(principal)
        queue = HomeQueue(
            [
                QueueGroup(
                    "results",
                    N_("Your results"),
                    _by_state("results", statuses, list(Status), STATUS_LABELS, "/listings?show=own", "status"),
                    N_("You have no results yet."),
                ),
                QueueGroup(
                    "requests",
                    N_("Requests on your results"),
                    _by_state("requests", requests, list(RequestState), REQUEST_STATE_LABELS, "/match-requests"),
                    N_("No company has asked about your results yet."),
                ),
                QueueGroup(
                    "statement",
                    N_("Your statement"),
                    [QueueItem("balance", N_("Owed to you"), balance, "/statements/me", money=True)],
                ),
            ]
        )
        if not statuses:
            queue.first_step = FirstStep(
                N_("Nothing of yours is in the catalogue yet."), N_("Describe your first result"), "/listings/new?kind=result"
            )
        return queue

    async def _company(self, principal: Principal, now: datetime) -> HomeQueue:
        requests = await self.matching.state_counts(principal)
        waiting = [
            QueueItem(
                "replies-waiting",
                N_("Institutions asking you for information"),
                requests.get(RequestState.info_requested, 0),
                link("/match-requests", state=RequestState.info_requested),
                warn=True,
            ),
            await self._unread_item(principal),
            QueueItem(
                "responses-to-decide",
                N_("Responses to your needs to decide"),
                await self.needs.count_responses_to_decide(principal),
                "/needs/mine",
            ),
            QueueItem(
                "new-finds",
                N_("New finds of your saved searches (7 days)"),
                await self.saved_searches.count_new_finds(principal, now - NEW_FINDS_SINCE),
                "/saved-searches",
            ),
        ]
        if principal.role in LICENSEE_ROLES:
            waiting.append(
                QueueItem(
                    "licences-due",
                    N_("Licences with a payment due"),
                    await self.licensing.count_due(principal, china_day(now)),
                    link("/agreements", due=1),
                )
            )
        queue = HomeQueue(
            [
                QueueGroup("waiting", N_("Waiting for you"), waiting, N_("Nothing waits for you.")),
                QueueGroup(
                    "requests",
                    N_("Your requests"),
                    _by_state("requests", requests, list(RequestState), REQUEST_STATE_LABELS, "/match-requests"),
                    N_("No requests yet."),
                ),
            ]
        )
        if not requests:
            queue.first_step = FirstStep(N_("Your company has not asked for a match yet."), N_("Search the catalogue"), "/search")
        return queue

    async def _platform(self, principal: Principal, now: datetime) -> HomeQueue:
        today = china_day(now)
        deadlines = await self.matching.deadline_counts(principal, today)
        requests = await self.matching.state_counts(principal)
        agreements = await self.licensing.state_counts(principal)
        listings = await self.catalog.status_counts(principal)
        month_start = today.replace(day=1)
        stuck = [
            QueueItem(
                "overdue-requests",
                N_("Overdue requests"),
                deadlines.overdue,
                await self._overdue_link(principal, deadlines.overdue),
                warn=True,
            ),
            QueueItem(
                "stalled-requests",
                N_("Open requests without movement for 30 days"),
                await self.matching.count_stalled(principal, now),
                link("/match-requests", stalled=1),
            ),
            QueueItem(
                "listings-awaiting-review",
                N_("Listings awaiting review"),
                listings.get(Status.pending_review, 0),
                link("/listings", status=Status.pending_review),
            ),
        ]
        income = QueueItem(
            "income-this-month",
            N_("Income this month"),
            await self.ledger.income_total(principal, month_start, today),
            "/ledger/income",
            money=True,
        )
        queue = HomeQueue(
            [
                QueueGroup("stuck", N_("What is stuck"), stuck, N_("Nothing is stuck.")),
                QueueGroup(
                    "requests",
                    N_("Match requests by state"),
                    _by_state("requests", requests, list(RequestState), REQUEST_STATE_LABELS, "/match-requests"),
                    N_("No match requests yet."),
                ),
                QueueGroup(
                    "agreements",
                    N_("Agreements by state"),
                    _by_state("agreements", agreements, list(AgreementState), AGREEMENT_STATE_LABELS, "/agreements"),
                    N_("No agreements yet."),
                ),
                QueueGroup("income", N_("Income"), [income]),
            ]
        )
        if not listings:
            queue.first_step = FirstStep(
                N_("No institution has published anything yet."), N_("Add an organization"), "/organizations"
            )
        return queue

    # ----- recent activity --------------------------------------------------------------------

    async def recent_activity(self, principal: Principal) -> list[Activity]:
        """The latest audit lines the person may read, each naming its subject and linking to it."""
        events = await self.accounts.recent_events(principal, limit=RECENT_EVENTS)
        ids = {
            kind: {uuid.UUID(e.subject_id) for e in events if e.subject_type == kind and _is_uuid(e.subject_id)}
            for kind in ("listings", "match_requests")
        }
        listing_of = await self.matching.listing_ids_of(principal, ids["match_requests"])
        titles: dict[uuid.UUID, str] = {
            listing.id: listing.title_zh
            for listing in (await self.catalog.listing_refs(ids["listings"] | set(listing_of.values()))).values()
        }
        agreement_ids = {
            uuid.UUID(e.subject_id) for e in events if e.subject_type == "licensing_agreements" and _is_uuid(e.subject_id)
        }
        titles |= await self.licensing.titles_of(principal, agreement_ids)
        found = []
        for e in events:
            target = SUBJECT_LINKS.get(e.subject_type or "")
            if target is None or not _is_uuid(e.subject_id):
                found.append(Activity(e, "", "", None))
                continue
            subject_id = uuid.UUID(e.subject_id)
            listing_id = listing_of.get(subject_id) if e.subject_type == "match_requests" else subject_id
            name = titles.get(listing_id, "") if listing_id else ""
            found.append(Activity(e, target[1], name, target[0].format(id=subject_id)))
        return found


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(value or "")
    except ValueError:
        return False
    return True


Home = NamedDependency[HomeQueues]


async def provide_home_queues(db_session: DbSession) -> HomeQueues:
    return HomeQueues(db_session)
