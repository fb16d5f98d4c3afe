"""Multi-centre clinical projects (HI-CLIP's unit): a company forms a project — directly, from a
multi-centre need's selected responses, or from its accepted clinical-trial match requests — with
one lead site (组长单位) and participating sites, each centre a trial engagement with its own three
review tracks. The project page shows the centres side by side and which one holds it back.

Who sees a project: the company's people; the TTO of every centre's institution (the whole
project, so a site can see how the others' start-up goes — but no fees); the platform roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, false, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Organization
from marketplace.audit import services as audit
from marketplace.beds.engagements import Engagements, EngagementTerms
from marketplace.beds.lifecycle import ENGAGEMENT, PROJECT
from marketplace.beds.models import (
    STARTUP_FLAG_DAYS,
    CentreRole,
    EngagementState,
    Project,
    ProjectState,
    Review,
    ReviewState,
    Track,
    TrialEngagement,
)
from marketplace.beds.project_schemas import CentreIn, ProjectIn
from marketplace.catalog.models import Listing, ResourceType
from marketplace.db import china_day, utcnow
from marketplace.errors import Conflict, FieldError, Forbidden, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.needs.models import NeedKind, ResponseState
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.models import GRANTING_STATES, MatchRequest
from marketplace.matching.requests.services import MatchingService
from marketplace.tenancy import Principal
from marketplace.working_days import china_calendar

TRIAL_TYPES = frozenset({ResourceType.trial_site, ResourceType.research_ward, ResourceType.pi_team})
OPEN_CENTRE_STATES = frozenset({EngagementState.starting, EngagementState.active})
TRACK_ORDER = tuple(Track)


@dataclass(frozen=True)
class TrackView:
    track: str
    state: str
    days_so_far: int | None
    target_working_days: int
    approved_on: date | None

    @property
    def overrun(self) -> bool:
        return self.days_so_far is not None and self.days_so_far > self.target_working_days


@dataclass(frozen=True)
class CentreView:
    engagement: TrialEngagement
    institution_name: str
    tracks: tuple[TrackView, ...]
    startup_days: int | None

    @property
    def open_tracks(self) -> int:
        return sum(1 for t in self.tracks if t.state != ReviewState.approved)

    @property
    def longest_open(self) -> int:
        return max((t.days_so_far or 0 for t in self.tracks if t.state != ReviewState.approved), default=0)

    @property
    def startup_flagged(self) -> bool:
        return self.engagement.first_consent_on is None and (self.startup_days or 0) > STARTUP_FLAG_DAYS


@dataclass(frozen=True)
class ProjectView:
    project: Project
    centres: tuple[CentreView, ...]
    holding_back: CentreView | None


def track_view(review: Review, today: date) -> TrackView:
    days = None
    if review.first_submitted_on is not None:
        end = review.approved_on or today
        days = china_calendar().get_working_days_count(review.first_submitted_on, end) if end >= review.first_submitted_on else 0
    return TrackView(review.track, review.state, days, review.target_working_days, review.approved_on)


def holding_back(centres: tuple[CentreView, ...]) -> CentreView | None:
    """The centre still starting up that is furthest from done: most tracks open, then the
    longest-running open track, then the longest start-up clock."""
    starting = [c for c in centres if c.engagement.state == EngagementState.starting]
    if not starting:
        return None
    return max(starting, key=lambda c: (c.open_tracks, c.longest_open, c.startup_days or 0))


class Projects(Engagements):
    """Mixed into BedsService (services.py); centres are opened with Engagements.open_engagement."""

    session: AsyncSession

    # ----- who sees --------------------------------------------------------------------------

    @staticmethod
    def projects_visible(principal: Principal):
        if principal.is_platform:
            return true()
        if principal.organization_id is None:
            return false()
        if principal.role in COMPANY_ROLES:
            return Project.company_id == principal.organization_id
        if principal.role in TTO_ROLES:
            return exists().where(
                TrialEngagement.project_id == Project.id, TrialEngagement.institution_id == principal.organization_id
            )
        return false()

    async def get_project(self, principal: Principal, project_id: uuid.UUID, *, for_update: bool = False) -> Project:
        principal.require()
        stmt = select(Project).where(Project.id == project_id, self.projects_visible(principal))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        project = await self.session.scalar(stmt)
        if project is None:
            raise NotFound()
        return project

    async def list_projects(
        self, principal: Principal, *, state: str | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[Project], int]:
        principal.require()
        conditions = [self.projects_visible(principal)]
        if state:
            conditions.append(Project.state == state)
        total = await self.session.scalar(select(func.count()).select_from(Project).where(*conditions))
        stmt = select(Project).where(*conditions).order_by(Project.created_at.desc(), Project.id).limit(limit).offset(offset)
        return list((await self.session.scalars(stmt)).all()), total or 0

    @staticmethod
    def require_project_company(principal: Principal) -> None:
        """Only a company's people form projects (the form page asks the same)."""
        principal.require()
        if principal.role not in COMPANY_ROLES:
            raise Forbidden()

    @staticmethod
    def may_form(principal: Principal) -> bool:
        return principal.role in COMPANY_ROLES

    @staticmethod
    def may_steer(principal: Principal, project: Project) -> bool:
        return principal.role in COMPANY_ROLES and project.company_id == principal.organization_id

    def project_actions(self, principal: Principal, project: Project) -> list[str]:
        return states.actions(PROJECT, principal, project)

    async def institution_choices(self) -> list[tuple[uuid.UUID, str]]:
        """Every institution on the platform (public), for the add-a-centre form."""
        rows = await self.session.execute(
            select(Organization.id, Organization.name_zh).where(Organization.kind == "institution").order_by(Organization.name_zh)
        )
        return [(row.id, row.name_zh) for row in rows]

    # ----- forming ---------------------------------------------------------------------------

    async def create_project(
        self, principal: Principal, data: ProjectIn, *, now: datetime | None = None, ip: str | None = None
    ) -> Project:
        self.require_project_company(principal)
        if data.need_id and data.match_request_ids:
            raise invalid("match_request_ids", N_("Form the project from a need or from match requests, not both."))
        now = now or utcnow()
        company_id = principal.acting_organization_id
        centres = await self._centres_from_need(principal, data) if data.need_id else []
        if data.match_request_ids:
            centres = await self._centres_from_matches(principal, data)
        if data.lead_institution_id and centres and data.lead_institution_id not in {c.institution_id for c in centres}:
            raise invalid("lead_institution_id", N_("The lead site must be one of the project's centres."))
        project = Project(
            id=uuid.uuid4(),
            company_id=company_id,
            need_id=data.need_id,
            title=data.title,
            phase=data.phase,
            sponsor=data.sponsor,
            protocol_summary=data.protocol_summary,
            state=ProjectState.forming,
            created_by_user_id=principal.user_id,
        )
        self.session.add(project)
        await self.session.flush()
        event = await audit.record(
            self.session,
            "trial_project_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=project,
            ip=ip,
            after=project.state,
            need_id=str(data.need_id) if data.need_id else None,
        )
        event.occurred_at = now
        lead = data.lead_institution_id or (centres[0].institution_id if centres else None)
        for centre in centres:
            role = CentreRole.lead if centre.institution_id == lead else CentreRole.participating
            await self._open_centre(principal, project, centre, role, now, ip)
        return project

    async def _centres_from_need(self, principal: Principal, data: ProjectIn) -> list[CentreIn]:
        """The need must be the company's (or a challenge posted for it), multi-centre, with
        responses selected: their institutions become the centres."""
        assert data.need_id is not None
        needs = NeedService(self.session)
        try:
            need = await needs.get(principal, data.need_id)
        except NotFound:
            raise invalid("need_id", N_("Not one of your company's needs.")) from None
        company = need.organization_id if need.kind == NeedKind.need else need.on_behalf_of_id
        if company != principal.organization_id:
            raise invalid("need_id", N_("Not one of your company's needs."))
        if not need.multi_centre:
            raise invalid("need_id", N_("Only a multi-centre need forms a project."))
        selected = [r for r in await needs.responses(principal, need) if r.state == ResponseState.selected]
        if not selected:
            raise invalid("need_id", N_("Select at least one response before forming the project."))
        return [
            CentreIn(institution_id=r.institution_id, match_request_id=r.match_request_id, listing_id=r.listing_ids[0])
            for r in selected
        ]

    async def _centres_from_matches(self, principal: Principal, data: ProjectIn) -> list[CentreIn]:
        """The company's accepted match requests on trial sites, research wards or PI teams, one
        per institution."""
        matching = MatchingService(self.session)
        centres: list[CentreIn] = []
        for request_id in dict.fromkeys(data.match_request_ids):
            try:
                match: MatchRequest = await matching.get(principal, request_id)
            except NotFound:
                raise invalid("match_request_ids", N_("Not one of your company's match requests.")) from None
            listing_type = await self.session.scalar(select(Listing.type).where(Listing.id == match.listing_id))
            if match.company_id != principal.organization_id or match.state not in GRANTING_STATES:
                raise invalid("match_request_ids", N_("Only your company's accepted match requests form a project."))
            if listing_type not in TRIAL_TYPES:
                raise invalid("match_request_ids", N_("Only clinical-trial match requests form a project."))
            if any(c.institution_id == match.institution_id for c in centres):
                raise invalid("match_request_ids", N_("One match request per institution."))
            centres.append(CentreIn(institution_id=match.institution_id, match_request_id=match.id, listing_id=match.listing_id))
        return centres

    async def add_centre(
        self, principal: Principal, project_id: uuid.UUID, data: CentreIn, *, now: datetime | None = None, ip: str | None = None
    ) -> TrialEngagement:
        principal.require()
        project = await self.get_project(principal, project_id, for_update=True)
        if principal.role not in COMPANY_ROLES or project.company_id != principal.organization_id:
            raise Forbidden()
        if project.state not in (ProjectState.forming, ProjectState.running):
            raise Conflict(N_("Centres are added while the project is forming or running."))
        if data.centre_role == CentreRole.lead and await self._lead_of(project.id) is not None:
            raise invalid("centre_role", N_("The project has its lead site already."))
        return await self._open_centre(principal, project, data, CentreRole(data.centre_role), now or utcnow(), ip)

    async def _open_centre(
        self, principal: Principal, project: Project, centre: CentreIn, role: CentreRole, now: datetime, ip: str | None
    ) -> TrialEngagement:
        kind = await self.session.scalar(select(Organization.kind).where(Organization.id == centre.institution_id))
        if kind != "institution":
            raise invalid("institution_id", N_("Choose a hospital or research institution."))
        taken = await self.session.scalar(
            select(TrialEngagement.id).where(
                TrialEngagement.project_id == project.id, TrialEngagement.institution_id == centre.institution_id
            )
        )
        if taken is not None:
            raise Conflict(
                N_("This institution is a centre of the project already."),
                FieldError("institution_id", N_("This institution is a centre of the project already.")),
            )
        terms = EngagementTerms(
            institution_id=centre.institution_id,
            company_id=project.company_id,
            title=project.title,
            phase=project.phase,
            sponsor=project.sponsor,
            pi_name=centre.pi_name,
            fee_fen=centre.fee_fen,
            project_id=project.id,
            centre_role=role,
            match_request_id=centre.match_request_id,
            listing_id=centre.listing_id,
        )
        try:
            async with self.session.begin_nested():
                return await self.open_engagement(principal, terms, now=now, ip=ip)
        except IntegrityError as error:  # two leads at once, or a foreign key gone meanwhile
            raise Conflict(N_("The centre could not be added; reload the project and try again.")) from error

    async def _lead_of(self, project_id: uuid.UUID) -> TrialEngagement | None:
        return await self.session.scalar(
            select(TrialEngagement).where(
                TrialEngagement.project_id == project_id,
                TrialEngagement.centre_role == CentreRole.lead,
                TrialEngagement.state != EngagementState.cancelled,
            )
        )

    # ----- running ---------------------------------------------------------------------------

    async def transition_project(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        action: str,
        reason: str = "",
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> Project:
        principal.require()
        declared = PROJECT.action(action)
        project = await self.get_project(principal, project_id, for_update=True)
        now = now or utcnow()
        if action == "start" and PROJECT.may(principal, project, declared, None) and await self._lead_of(project.id) is None:
            raise Conflict(
                N_("Add the lead site before starting the project."),
                FieldError("action", N_("Add the lead site before starting the project.")),
            )
        await states.apply(self.session, PROJECT, principal, project, declared, reason, now=now, ip=ip)
        if action == "cancel":
            centres = await self.session.scalars(
                select(TrialEngagement)
                .where(TrialEngagement.project_id == project.id, TrialEngagement.state.in_(OPEN_CENTRE_STATES))
                .with_for_update()
            )
            for engagement in centres.all():
                await states.apply(
                    self.session, ENGAGEMENT, principal, engagement, "cancel", reason, now=now, ip=ip, as_system=True
                )
        return project

    # ----- the side-by-side page -------------------------------------------------------------

    async def project_views(self, projects: list[Project], *, today: date | None = None) -> list[ProjectView]:
        """Each project's centres (lead first), their tracks and start-up clocks, and the centre
        holding the project back."""
        today = today or china_day(utcnow())
        ids = [p.id for p in projects]
        if not ids:
            return []
        engagements = (
            await self.session.execute(
                select(TrialEngagement, Organization.name_zh)
                .join(Organization, Organization.id == TrialEngagement.institution_id)
                .where(TrialEngagement.project_id.in_(ids))
                .order_by(TrialEngagement.centre_role, Organization.name_zh, TrialEngagement.id)
            )
        ).all()
        reviews = await self.session.scalars(
            select(Review).where(Review.engagement_id.in_([e.id for e, _ in engagements] or [uuid.uuid4()]))
        )
        by_engagement: dict[uuid.UUID, dict[str, Review]] = {}
        for review in reviews.all():
            by_engagement.setdefault(review.engagement_id, {})[review.track] = review
        centres: dict[uuid.UUID, list[CentreView]] = {}
        for engagement, name in engagements:
            tracks = by_engagement.get(engagement.id, {})
            startup = None
            if engagement.reviews_approved_on is not None:
                startup = ((engagement.first_consent_on or today) - engagement.reviews_approved_on).days
            view = CentreView(engagement, name, tuple(track_view(tracks[t], today) for t in TRACK_ORDER if t in tracks), startup)
            centres.setdefault(engagement.project_id, []).append(view)  # type: ignore[arg-type]
        views = []
        for project in projects:
            mine = tuple(centres.get(project.id, ()))
            views.append(ProjectView(project, mine, holding_back(mine)))
        return views
