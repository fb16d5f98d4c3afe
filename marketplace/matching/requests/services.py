"""The rules of matching: who sees which match request, the state machine and who may move it,
the NDA a company accepts, confidential access that follows the state, and the institution's
response deadline in China's working days. The only code that writes match requests."""

from __future__ import annotations

import builtins
import uuid
from datetime import date, datetime, timedelta

from litestar.di import NamedDependency
from sqlalchemy import Select, and_, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms, states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import ListingKind, Status
from marketplace.catalog.services import CatalogService
from marketplace.config import Settings
from marketplace.db import DbSession, add_unless_taken, china_day, utcnow
from marketplace.errors import Duplicate, FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.events import MatchEvents
from marketplace.matching.requests.deadlines import DeadlineCounts, deadline_counts
from marketplace.matching.requests.lifecycle import (
    LIFECYCLE,
    Nda,
    enter_state,
    side_of,
    start_clock,
)
from marketplace.matching.requests.models import GRANTING_STATES, OPEN_STATES, EngagementType, MatchRequest, Side, State
from marketplace.matching.requests.response_record import ResponseRecord, response_record
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.threads.models import SubjectKindName, ThreadMessage
from marketplace.matching.threads.steps import record_step
from marketplace.tenancy import Principal
from marketplace.web import AppSettings

# An open request that has not changed state for this long is stuck (home pages, the stalled filter).
STALLED_AFTER = timedelta(days=30)

ENGAGEMENT_LABELS = {
    EngagementType.licence: N_("Licence or transfer"),
    EngagementType.co_development: N_("Co-development"),
    EngagementType.clinical_trial: N_("Clinical trial"),
    EngagementType.resource_use: N_("Use of the resource"),
    EngagementType.service: N_("Service (testing, data, consulting)"),
}
# A licence is of a result; using a resource is of a clinical resource.
ENGAGEMENTS_BY_KIND = {
    ListingKind.result: (
        EngagementType.licence,
        EngagementType.co_development,
        EngagementType.clinical_trial,
        EngagementType.service,
    ),
    ListingKind.resource: (
        EngagementType.resource_use,
        EngagementType.clinical_trial,
        EngagementType.co_development,
        EngagementType.service,
    ),
}


class MatchingService:
    """`settings` lets the service e-mail the other side of each step (MatchEvents); without it
    (demo data, scripts) people are notified in-app only."""

    def __init__(self, session: AsyncSession, settings: Settings | None = None) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)
        self.events = MatchEvents(session, settings)

    async def response_record(self, institution_id: uuid.UUID) -> ResponseRecord | None:
        """How fast the institution usually answers (public: its profile shows it)."""
        return await response_record(self.session, institution_id)

    # ----- who sees and acts ------------------------------------------------------------------

    @staticmethod
    def visible(principal: Principal):
        """Platform roles see every request; the TTO those on its institution's listings; an
        inventor those on results naming them; a company its own."""
        principal.require()
        if principal.is_platform:
            return true()
        if principal.role in TTO_ROLES:
            return MatchRequest.institution_id == principal.organization_id
        if principal.role == Role.inventor:
            assert principal.user_id is not None, "require() lets only a signed-in caller through"
            return and_(
                MatchRequest.institution_id == principal.organization_id,
                MatchRequest.listing_id.in_(CatalogService.listings_naming(principal.user_id)),
            )
        if principal.role in COMPANY_ROLES:
            return MatchRequest.company_id == principal.organization_id
        return false()

    side = staticmethod(side_of)

    @staticmethod
    def require_requester(principal: Principal) -> Principal:
        """Companies ask for matches (create() checks it again; the form pages ask first)."""
        return principal.require(*COMPANY_ROLES)

    def allowed_actions(self, principal: Principal, request: MatchRequest, current_nda: int) -> list[str]:
        """The steps the caller may take now (the buttons a page shows, the API's `actions`)."""
        return states.actions(LIFECYCLE, principal, request, Nda(current=current_nda))

    # ----- reading ----------------------------------------------------------------------------

    async def get(self, principal: Principal, request_id: uuid.UUID, *, for_update: bool = False) -> MatchRequest:
        stmt = select(MatchRequest).where(MatchRequest.id == request_id, self.visible(principal))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        request = await self.session.scalar(stmt)
        if request is None:
            raise NotFound()
        return request

    async def list(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        listing_id: uuid.UUID | None = None,
        overdue: bool = False,
        stalled: bool = False,
        among: Select | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> tuple[list[MatchRequest], int]:
        """The caller's requests, newest first; `overdue`: past their answer deadline unanswered;
        `stalled`: open and unmoved for STALLED_AFTER (the home pages' items link to these); `among`:
        only those whose id the subquery gives (threads' unread_subjects)."""
        conditions = [self.visible(principal)]
        if state:
            if state not in set(State):
                raise invalid("state", N_("Not one of the allowed values."))
            conditions.append(MatchRequest.state == state)
        if listing_id:
            conditions.append(MatchRequest.listing_id == listing_id)
        if overdue:
            conditions.append(self._overdue(china_day(utcnow())))
        if stalled:
            conditions.append(self._stalled(utcnow()))
        if among is not None:
            conditions.append(MatchRequest.id.in_(among))
        total = await self.session.scalar(select(func.count()).select_from(MatchRequest).where(*conditions))
        stmt = (
            select(MatchRequest)
            .where(*conditions)
            .order_by(MatchRequest.submitted_at.desc(), MatchRequest.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list((await self.session.scalars(stmt)).all()), total or 0

    async def inbox(self, principal: Principal) -> builtins.list[MatchRequest]:
        """The institution's open requests: those waiting for an answer first, nearest deadline
        (so the overdue ones) on top; then the rest, most recently changed first."""
        principal.require(*TTO_ROLES)
        stmt = (
            select(MatchRequest)
            .where(self.visible(principal), MatchRequest.state.in_(list(OPEN_STATES)))
            .order_by(MatchRequest.response_due_on.asc().nulls_last(), MatchRequest.state_changed_at.desc())
        )
        return list((await self.session.scalars(stmt)).all())

    async def current_request_on(self, principal: Principal, listing_id: uuid.UUID) -> MatchRequest | None:
        """The caller's company's open request on a listing, else its agreed one, else None."""
        stmt = (
            select(MatchRequest)
            .where(
                self.visible(principal),
                MatchRequest.listing_id == listing_id,
                MatchRequest.state.in_([*OPEN_STATES, State.agreed]),
            )
            .order_by((MatchRequest.state == State.agreed).asc(), MatchRequest.submitted_at.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def deadline_counts(self, principal: Principal, today: date | None = None) -> DeadlineCounts:
        return await deadline_counts(self.session, self.visible(principal), today)

    @staticmethod
    def _overdue(today: date):
        return and_(MatchRequest.state == State.submitted, MatchRequest.response_due_on < today)

    @staticmethod
    def _stalled(now: datetime):
        return and_(MatchRequest.state.in_(list(OPEN_STATES)), MatchRequest.state_changed_at < now - STALLED_AFTER)

    async def state_counts(self, principal: Principal) -> dict[str, int]:
        """How many of the caller's requests are in each state (states with none are left out)."""
        rows = await self.session.execute(
            select(MatchRequest.state, func.count()).where(self.visible(principal)).group_by(MatchRequest.state)
        )
        return {state: int(n) for state, n in rows}

    async def count_stalled(self, principal: Principal, now: datetime | None = None) -> int:
        """The caller's open requests without a change of state for STALLED_AFTER."""
        stmt = select(func.count()).select_from(MatchRequest).where(self.visible(principal), self._stalled(now or utcnow()))
        return int(await self.session.scalar(stmt) or 0)

    async def count_among(self, principal: Principal, among: Select) -> int:
        """How many of the caller's requests have an id the subquery gives."""
        stmt = select(func.count()).select_from(MatchRequest).where(self.visible(principal), MatchRequest.id.in_(among))
        return int(await self.session.scalar(stmt) or 0)

    async def listing_ids_of(self, principal: Principal, request_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The listing each of these requests is about (those the caller may see), to name them."""
        if not request_ids:
            return {}
        rows = await self.session.execute(
            select(MatchRequest.id, MatchRequest.listing_id).where(MatchRequest.id.in_(request_ids), self.visible(principal))
        )
        return dict(rows.all())

    async def history(self, request: MatchRequest) -> builtins.list[AuditEvent]:
        """The request's audit trail, oldest first (only for callers who may see the request)."""
        return list(reversed(await audit.events(self.session, subject_id=request.id, limit=200)))

    # ----- writing ----------------------------------------------------------------------------

    async def create(
        self, principal: Principal, data: MatchRequestCreate, *, now: datetime | None = None, ip: str | None = None
    ) -> MatchRequest:
        principal.require(*COMPANY_ROLES)
        assert principal.organization_id is not None, "a signed-in caller acts for an organization"
        now = now or utcnow()
        try:
            listing = await self.catalog.get(principal, data.listing_id)
        except NotFound:
            listing = None
        if listing is None or listing.status != Status.published:
            raise invalid("listing_id", N_("No published listing has this id."))
        errors: list[FieldError] = []
        for name in ("purpose", "timeline"):
            if not getattr(data, name).strip():
                errors.append(FieldError(name, N_("Required.")))
        if data.engagement_type not in ENGAGEMENTS_BY_KIND[ListingKind(listing.kind)]:
            errors.append(FieldError("engagement_type", N_("Not offered for this kind of listing.")))
        if data.budget_min_fen is not None and data.budget_max_fen is not None and data.budget_min_fen > data.budget_max_fen:
            errors.append(FieldError("budget_max_fen", N_("Must not be below the minimum.")))
        if not data.accept_nda:
            errors.append(FieldError("accept_nda", N_("Accept the confidentiality agreement to send the request.")))
        if data.nda_version != await self.catalog.current_nda_version():
            errors.append(FieldError("nda_version", N_("A newer confidentiality agreement is in force: read it and accept it.")))
        if errors:
            raise InvalidInput(*errors)
        if existing := await self._open_request(listing.id, principal.organization_id):
            raise self._already_open(existing)
        institution = await self.accounts.public_organization(listing.institution_id)
        request = MatchRequest(
            listing_id=listing.id,
            institution_id=listing.institution_id,
            company_id=principal.organization_id,
            requested_by_user_id=principal.user_id,
            state=State.submitted,
            engagement_type=data.engagement_type,
            purpose=data.purpose.strip(),
            timeline=data.timeline.strip(),
            budget_min_fen=data.budget_min_fen,
            budget_max_fen=data.budget_max_fen,
            message=data.message.strip(),
            nda_version=data.nda_version,
            nda_accepted_at=now,
            submitted_at=now,
            state_changed_at=now,
        )
        start_clock(request, institution.response_working_days, now)
        assert request.response_due_on is not None, "start_clock() sets the due day"
        if not await add_unless_taken(self.session, request, "uq_match_requests_open"):
            raise self._already_open(await self._open_request(listing.id, principal.organization_id))
        await self._record(
            "match_request_created",
            principal,
            request,
            now,
            ip=ip,
            after=request.state,
            nda_version=request.nda_version,
            due=request.response_due_on.isoformat(),
        )
        await self.events.step(request, "created", Side.company, at=now)
        return request

    async def open_from_need(
        self,
        principal: Principal,
        *,
        company_id: uuid.UUID,
        listing_id: uuid.UUID,
        nda_version: int,
        purpose: str,
        timeline: str,
        budget: tuple[int | None, int | None],
        message: str,
        need_response_id: uuid.UUID,
        now: datetime,
    ) -> MatchRequest:
        """A need's poster selected an institution's response (marketplace/matching/needs/services.py):
        the match opens in `negotiating` on the response's first listing, since the institution
        proposed it and the poster chose it. It passes through submitted and accepted, as the
        state table and the database trigger allow, and grants the company the listing's
        confidential details under the NDA version the selecting person accepted. A request the
        company already has open on that listing is used as it stands instead of a second one."""
        existing = await self._open_request(listing_id, company_id)
        if existing is not None:
            return await self.session.get_one(MatchRequest, existing)
        listing = (await self.catalog.listing_refs({listing_id}))[listing_id]
        institution = await self.accounts.public_organization(listing.institution_id)
        low, high = budget
        request = MatchRequest(
            listing_id=listing.id,
            institution_id=listing.institution_id,
            company_id=company_id,
            requested_by_user_id=principal.user_id,
            state=State.submitted,
            engagement_type=ENGAGEMENTS_BY_KIND[ListingKind(listing.kind)][0],
            purpose=purpose,
            timeline=timeline or "—",
            budget_min_fen=low,
            budget_max_fen=high,
            message=message,
            nda_version=nda_version,
            nda_accepted_at=now,
            submitted_at=now,
            state_changed_at=now,
        )
        start_clock(request, institution.response_working_days, now)
        self.session.add(request)
        await self.session.flush()
        await self._record(
            "match_request_created",
            principal,
            request,
            now,
            after=request.state,
            nda_version=nda_version,
            need_response_id=need_response_id,
        )
        for target in (State.accepted, State.negotiating):
            await enter_state(self.session, request, target, answered=True, now=now)
            await self.session.flush()  # one step at a time, as the trigger checks each
        await self._record(
            "match_request_opened_from_need",
            principal,
            request,
            now,
            before=State.submitted,
            after=request.state,
            need_response_id=need_response_id,
        )
        await self._sync_confidential_access(request, principal.user_id, now)
        return request

    async def transition(
        self,
        principal: Principal,
        request_id: uuid.UUID,
        action: str,
        reason: str = "",
        *,
        nda_version: int | None = None,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> MatchRequest:
        request, _ = await self.take_step(principal, request_id, action, reason, nda_version=nda_version, now=now, ip=ip)
        return request

    async def take_step(
        self,
        principal: Principal,
        request_id: uuid.UUID,
        action: str,
        reason: str = "",
        *,
        nda_version: int | None = None,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> tuple[MatchRequest, ThreadMessage]:
        """A party's step, audited, and written into the request's conversation with its reason
        (the question, the answer, the note), so both sides read it there in order."""
        principal.require()
        declared = LIFECYCLE.action(action)
        request = await self.get(principal, request_id, for_update=True)
        # get() already answered 404 for what the caller may not see; seeing is not acting.
        if errors := forms.control_character_errors({"reason": reason}):
            raise InvalidInput(*errors)
        step = await states.apply(
            self.session,
            LIFECYCLE,
            principal,
            request,
            declared,
            reason,
            context=Nda(accepted=nda_version),
            now=now or utcnow(),
            ip=ip,
        )
        if action == "accept_nda" or step.before in GRANTING_STATES or request.state in GRANTING_STATES:
            await self._sync_confidential_access(request, principal.user_id, step.now)
        side = side_of(principal, request)
        assert side is not None, "apply() lets only a party take a step"
        message = await record_step(
            self.session,
            SubjectKindName.match_request,
            request.id,
            step=action,
            side=side,
            author_user_id=principal.user_id,
            text=step.reason,
            at=step.now,
        )
        await self.events.step(request, action, side, step.reason, at=step.now)
        return request, message

    async def _sync_confidential_access(self, request: MatchRequest, actor: uuid.UUID | None, now: datetime) -> None:
        """The company reads the listing's confidential details while any of its requests on the
        listing is accepted, negotiating or agreed, under the newest NDA version it accepted there."""
        version = await self.session.scalar(
            select(func.max(MatchRequest.nda_version)).where(
                MatchRequest.listing_id == request.listing_id,
                MatchRequest.company_id == request.company_id,
                MatchRequest.state.in_(list(GRANTING_STATES)),
            )
        )
        if version is None:
            await self.catalog.revoke_confidential_access(request.listing_id, request.company_id, actor_user_id=actor)
        else:
            await self.catalog.grant_confidential_access(
                request.listing_id, request.company_id, version, actor_user_id=actor, now=now
            )

    async def _open_request(self, listing_id: uuid.UUID, company_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(MatchRequest.id).where(
                MatchRequest.listing_id == listing_id,
                MatchRequest.company_id == company_id,
                MatchRequest.state.in_(list(OPEN_STATES)),
            )
        )

    @staticmethod
    def _already_open(existing: uuid.UUID | None) -> Duplicate:
        return Duplicate(
            N_("Your company already has an open request on this listing."),
            FieldError("listing_id", N_("Your company already has an open request on this listing.")),
            existing=existing,
        )

    async def _record(self, action: str, principal: Principal, request: MatchRequest, now: datetime, **data) -> None:
        event = await audit.record(
            self.session,
            action,
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=request,
            **data,
        )
        event.occurred_at = now


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Matching = NamedDependency[MatchingService]


async def provide_matching(db_session: DbSession, settings: AppSettings) -> MatchingService:
    """The matching service on the request's session (with the settings its e-mails need)."""
    return MatchingService(db_session, settings)
