"""Trial engagements: a company's trial at one institution, alone or as a centre of a multi-centre
project. Opening one opens its three review tracks side by side, with the institution's targets."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Organization, OrgKind
from marketplace.audit import services as audit
from marketplace.beds.engagement_schemas import EngagementCreate, EngagementTransitionIn
from marketplace.beds.lifecycle import ENGAGEMENT
from marketplace.beds.models import DEFAULT_TARGETS, EngagementState, Review, ReviewState, Track, TrialEngagement
from marketplace.db import china_day, utcnow
from marketplace.errors import Conflict, FieldError, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.requests.models import EngagementType, MatchRequest
from marketplace.matching.requests.models import State as RequestState
from marketplace.tenancy import Principal
from marketplace.working_days import china_calendar

# A match request the institution has taken up may become a trial engagement.
OPENING_REQUEST_STATES = frozenset({RequestState.accepted, RequestState.negotiating, RequestState.agreed})
# A PI's concurrent trials: those starting up or enrolling.
RUNNING = (EngagementState.starting, EngagementState.active)


@dataclass(frozen=True)
class EngagementTerms:
    """What an engagement is opened with (the services check who may open it and on what)."""

    institution_id: uuid.UUID
    company_id: uuid.UUID
    title: str
    phase: str
    sponsor: str
    pi_name: str
    fee_fen: int = 0
    project_id: uuid.UUID | None = None
    centre_role: str | None = None
    match_request_id: uuid.UUID | None = None
    listing_id: uuid.UUID | None = None


def visible(principal: Principal) -> ColumnElement[bool]:
    """Platform roles see every engagement; the TTO its institution's; the company's people theirs."""
    principal.require()
    if principal.is_platform:
        return true()
    if principal.role in TTO_ROLES:
        return TrialEngagement.institution_id == principal.organization_id
    if principal.role in COMPANY_ROLES:
        return TrialEngagement.company_id == principal.organization_id
    return false()


def late_if_submitted_by(target: int, today: date) -> date:
    """The last day a track may have been submitted on and be past `target` working days today:
    more than `target` working days lie after it, up to today."""
    calendar = china_calendar()
    day, counted = today, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
        if counted > target:
            return day - timedelta(days=1)
        day -= timedelta(days=1)


class Engagements:
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    async def engagement(self, principal: Principal, engagement_id: uuid.UUID, *, for_update: bool = False) -> TrialEngagement:
        """The engagement if the caller may see it, else 404."""
        stmt = select(TrialEngagement).where(TrialEngagement.id == engagement_id, visible(principal))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        found = await self.session.scalar(stmt)
        if found is None:
            raise NotFound()
        return found

    async def engagements(
        self, principal: Principal, *, state: str | None = None, late: bool = False, limit: int = 200
    ) -> builtins.list[TrialEngagement]:
        """The caller's engagements, newest first; `late`: those with a review track past its target."""
        stmt = select(TrialEngagement).where(visible(principal))
        if state:
            stmt = stmt.where(TrialEngagement.state == state)
        if late:
            stmt = stmt.where(await self._running_late(principal, china_day(utcnow())))
        stmt = stmt.order_by(TrialEngagement.created_at.desc(), TrialEngagement.id).limit(limit)
        return list(await self.session.scalars(stmt))

    async def _running_late(self, principal: Principal, today: date) -> ColumnElement[bool]:
        """Engagements with an open review track whose working days so far exceed its target (as
        reviews.track_views counts them): per target, the last submission day that is already late."""
        open_track = and_(Review.state != ReviewState.approved, Review.first_submitted_on.is_not(None))
        targets = await self.session.scalars(
            select(Review.target_working_days)
            .join(TrialEngagement, TrialEngagement.id == Review.engagement_id)
            .where(visible(principal), open_track)
            .distinct()
        )
        late = [
            and_(Review.target_working_days == t, Review.first_submitted_on <= late_if_submitted_by(t, today)) for t in targets
        ]
        return exists().where(Review.engagement_id == TrialEngagement.id, open_track, or_(*late) if late else false())

    async def count_running_late(self, principal: Principal, today: date | None = None) -> int:
        """The caller's engagements with a review track running late (what ?late=1 lists)."""
        condition = await self._running_late(principal, today or china_day(utcnow()))
        stmt = select(func.count()).select_from(TrialEngagement).where(visible(principal), condition)
        return int(await self.session.scalar(stmt) or 0)

    async def pi_running_trials(self, institution_id: uuid.UUID, pi_name: str) -> builtins.list[TrialEngagement]:
        """The PI's trials starting up or enrolling at the institution."""
        stmt = (
            select(TrialEngagement)
            .where(
                TrialEngagement.institution_id == institution_id,
                func.lower(TrialEngagement.pi_name) == pi_name.strip().lower(),
                TrialEngagement.state.in_(RUNNING),
            )
            .order_by(TrialEngagement.created_at)
        )
        return list(await self.session.scalars(stmt))

    async def pi_trials(self, principal: Principal, institution_id: uuid.UUID, pi_name: str) -> builtins.list[TrialEngagement]:
        """A PI's page: their running trials at the institution, as far as the caller may see them
        (the institution's TTO and the platform all; a company its own)."""
        principal.require()
        stmt = (
            select(TrialEngagement)
            .where(
                visible(principal),
                TrialEngagement.institution_id == institution_id,
                func.lower(TrialEngagement.pi_name) == pi_name.strip().lower(),
                TrialEngagement.state.in_(RUNNING),
            )
            .order_by(TrialEngagement.created_at)
        )
        return list(await self.session.scalars(stmt))

    async def pi_over_threshold(self, institution_id: uuid.UUID, pi_name: str) -> tuple[int, int | None]:
        """The PI's running trials now and the institution's threshold (None: no threshold)."""
        institution = await self.session.get(Organization, institution_id)
        threshold = institution.pi_concurrent_trial_threshold if institution else None
        running = len(await self.pi_running_trials(institution_id, pi_name))
        return running, threshold

    async def create_engagement(
        self, principal: Principal, data: EngagementCreate, *, now: datetime | None = None, ip: str | None = None
    ) -> TrialEngagement:
        """The institution's TTO or the company opens an engagement from a clinical-trial match
        request the institution has taken up; the TTO may also open one directly for a known
        company. A PI whose running trials would pass the institution's threshold needs a reason."""
        principal.require(*TTO_ROLES, *COMPANY_ROLES)
        if data.match_request_id is not None:
            institution_id, company_id, listing_id = await self._from_request(principal, data.match_request_id)
        else:
            if principal.role not in TTO_ROLES:
                raise invalid("match_request_id", N_("A company opens an engagement from its match request."))
            if data.company_id is None:
                raise invalid("company_id", N_("Name the company, or the match request."))
            company = await self.session.get(Organization, data.company_id)
            if company is None or company.kind != OrgKind.company:
                raise invalid("company_id", N_("Not a company on the platform."))
            assert principal.organization_id is not None
            institution_id, company_id, listing_id = principal.organization_id, company.id, None
        running, threshold = await self.pi_over_threshold(institution_id, data.pi_name)
        reason = data.pi_acknowledged_reason.strip()
        over = threshold is not None and running + 1 > threshold
        if over and not reason:
            raise invalid(
                "pi_acknowledged_reason",
                N_("This PI already runs %(running)s trials (the institution's threshold is %(threshold)s): say why."),
                running=running,
                threshold=threshold,
            )
        engagement = await self.open_engagement(
            principal,
            EngagementTerms(
                institution_id=institution_id,
                company_id=company_id,
                title=data.title.strip(),
                phase=data.phase,
                sponsor=data.sponsor.strip(),
                pi_name=data.pi_name.strip(),
                fee_fen=data.fee_fen,
                match_request_id=data.match_request_id,
                listing_id=listing_id,
            ),
            now=now,
            ip=ip,
        )
        if over:
            engagement.pi_warning_reason = reason
            await audit.record(
                self.session,
                "trial_engagement_pi_acknowledged",
                actor_user_id=principal.user_id,
                organization_id=principal.organization_id,
                subject=engagement,
                ip=ip,
                reason=reason,
                pi_name=engagement.pi_name,
                running=running,
                threshold=threshold,
            )
            await self.session.flush()
        return engagement

    async def _from_request(self, principal: Principal, request_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]:
        request = await self.session.get(MatchRequest, request_id)
        mine = request is not None and principal.organization_id in (request.institution_id, request.company_id)
        if request is None or not mine:
            raise invalid("match_request_id", N_("Not one of your match requests."))
        if request.engagement_type != EngagementType.clinical_trial:
            raise invalid("match_request_id", N_("Not a clinical-trial match request."))
        if request.state not in OPENING_REQUEST_STATES:
            raise invalid("match_request_id", N_("The institution has not taken up this match request."))
        if principal.role in TTO_ROLES and request.institution_id != principal.organization_id:
            raise invalid("match_request_id", N_("Not one of your match requests."))
        if principal.role in COMPANY_ROLES and request.company_id != principal.organization_id:
            raise invalid("match_request_id", N_("Not one of your match requests."))
        return request.institution_id, request.company_id, request.listing_id

    async def transition_engagement(
        self,
        principal: Principal,
        engagement_id: uuid.UUID,
        data: EngagementTransitionIn,
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> TrialEngagement:
        """A step of the engagement: the first consent (only once all three reviews are approved)
        stops the start-up clock; completing; cancelling."""
        principal.require()
        declared = ENGAGEMENT.action(data.action)
        engagement = await self.engagement(principal, engagement_id, for_update=True)
        now = now or utcnow()
        details: dict = {}
        if declared.name == "record_first_consent" and ENGAGEMENT.may(principal, engagement, declared):
            consent_on = self._consent_day(engagement, data.first_consent_on, china_day(now))
            details["first_consent_on"] = consent_on.isoformat()
            # Set before the step flushes: PostgreSQL wants the day with the state (a refusal rolls back).
            engagement.first_consent_on = consent_on
        await states.apply(
            self.session, ENGAGEMENT, principal, engagement, declared, data.reason, now=now, ip=ip, details=details
        )
        return engagement

    @staticmethod
    def _consent_day(engagement: TrialEngagement, given: date | None, today: date) -> date:
        if engagement.state != EngagementState.starting:
            raise ENGAGEMENT.illegal("record_first_consent", ENGAGEMENT.state_label(engagement.state))
        if engagement.reviews_approved_on is None:
            raise Conflict(
                N_("The first consent comes after all three reviews are approved."),
                FieldError("action", N_("Not all three reviews are approved yet.")),
            )
        day = given or today
        if day > today:
            raise invalid("first_consent_on", N_("Not a day in the future."))
        if day < engagement.reviews_approved_on:
            raise invalid("first_consent_on", N_("Not before the last review was approved."))
        return day

    async def open_engagement(
        self, principal: Principal | None, terms: EngagementTerms, *, now: datetime | None = None, ip: str | None = None
    ) -> TrialEngagement:
        """The engagement and its three tracks, not started, each with its target in working days."""
        now = now or utcnow()
        engagement = TrialEngagement(
            id=uuid.uuid4(),
            state=EngagementState.starting,
            created_by_user_id=principal.user_id if principal else None,
            state_changed_at=now,
            **{field: getattr(terms, field) for field in terms.__dataclass_fields__},
        )
        self.session.add(engagement)
        await self.session.flush()
        self.session.add_all(
            Review(
                engagement_id=engagement.id,
                track=track,
                state=ReviewState.not_started,
                target_working_days=DEFAULT_TARGETS[track],
                state_changed_at=now,
            )
            for track in Track
        )
        await self.session.flush()
        event = await audit.record(
            self.session,
            "trial_engagement_opened",
            actor_user_id=principal.user_id if principal else None,
            organization_id=principal.organization_id if principal else None,
            subject=engagement,
            ip=ip,
            after=engagement.state,
            institution_id=str(engagement.institution_id),
            project_id=str(engagement.project_id) if engagement.project_id else None,
        )
        event.occurred_at = now
        return engagement
