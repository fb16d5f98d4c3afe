"""Needs and challenges (企业需求, 揭榜挂帅) and institutions' responses.

A company member or admin posts a need; a platform admin posts a challenge (a need of kind
`challenge`, posted by the platform, possibly on behalf of a company). Needs go
draft → open → closed | awarded (the NEED machine, lifecycle.py); the deadline passing closes an
open need (the worker's `close_expired_needs`, deadline.py). An institution's TTO responds to an
open need it can see with a proposal linking its own published listings; the poster shortlists, declines and selects (the
RESPONSE machine), and selecting opens a match request in `negotiating` (MatchingService.
open_from_need) and awards the need. The needs index and recommendations are in search.py;
responses are the NeedResponses mixin (responses.py), who is told what the NeedNotices mixin
(notices.py). The only code that writes needs and responses.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import msgspec
from litestar.di import NamedDependency
from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, INSTITUTION_ROLES, TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.audit.models import AuditEvent
from marketplace.catalog.services import CatalogService
from marketplace.config import Settings
from marketplace.db import DbSession, china_day, utcnow
from marketplace.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.needs.lifecycle import NEED, NEED_STATE_LABELS, RESPONSE, Decision, is_poster
from marketplace.matching.needs.models import (
    TYPES_OF_KIND,
    WANTED_VALUES,
    Need,
    NeedInvitation,
    NeedKind,
    NeedResponse,
    NeedState,
    ResponseState,
    Visibility,
    wanted_types,
)
from marketplace.matching.needs.responses import NeedResponses
from marketplace.matching.needs.schemas import NeedCreate, NeedUpdate
from marketplace.matching.needs.search import NeedSearch
from marketplace.notifications.services import NotificationService
from marketplace.tenancy import Principal
from marketplace.web import AppSettings

NEED_KIND_LABELS = {NeedKind.need: N_("Company need"), NeedKind.challenge: N_("Challenge (揭榜挂帅)")}
VISIBILITY_LABELS = {Visibility.public: N_("Public"), Visibility.invited: N_("Invited institutions only")}


# ----- the service -------------------------------------------------------------------------------

# What a multi-centre need must ask for: trial sites, research wards or PI teams (or any resource).
CLINICAL_TRIAL_WANTED = frozenset({"resource", "trial_site", "research_ward", "pi_team"})


class NeedService(NeedResponses):
    def __init__(self, session: AsyncSession, settings: Settings | None = None) -> None:
        self.session = session
        self.settings = settings  # without it (demo data, scripts) people are told in-app only
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)
        self.notifications = NotificationService(session)

    # ----- who sees and acts ------------------------------------------------------------------

    @staticmethod
    def visible(principal: Principal):
        """Platform roles see every need. The posting organization (and the company a challenge is
        posted for) sees its own in every state; everyone else sees needs once published: public
        ones, and invited-only ones where their institution is invited."""
        principal.require()
        if principal.is_platform:
            return true()
        org = principal.organization_id
        published = Need.state != NeedState.draft
        if principal.role in COMPANY_ROLES:
            return or_(
                Need.organization_id == org,
                and_(published, or_(Need.visibility == Visibility.public, Need.on_behalf_of_id == org)),
            )
        if principal.role in INSTITUTION_ROLES:
            invited = exists().where(NeedInvitation.need_id == Need.id, NeedInvitation.institution_id == org)
            return and_(published, or_(Need.visibility == Visibility.public, invited))
        return false()

    is_poster = staticmethod(is_poster)

    @staticmethod
    def is_party(principal: Principal, need: Need) -> bool:
        """The poster's side, and the company a challenge is for: they read every response."""
        return NeedService.is_poster(principal, need) or (
            principal.role in COMPANY_ROLES and need.on_behalf_of_id == principal.organization_id
        )

    @staticmethod
    def reads_responses(principal: Principal, need: Need) -> bool:
        """Every response to a need is read by its parties and by the platform."""
        return principal.is_platform or NeedService.is_party(principal, need)

    @staticmethod
    def may_post(principal: Principal) -> bool:
        """Companies post needs; the platform admin posts challenges (for a company or for all)."""
        return principal.role in (*COMPANY_ROLES, Role.platform_admin)

    @staticmethod
    def require_poster_role(principal: Principal) -> Principal:
        return principal.require(*COMPANY_ROLES, Role.platform_admin)

    @staticmethod
    def posts_challenges(principal: Principal) -> bool:
        """What the platform admin posts is a challenge."""
        return principal.role == Role.platform_admin

    @staticmethod
    def require_responder(principal: Principal) -> Principal:
        """Institutions' TTOs answer needs with their listings."""
        return principal.require(*TTO_ROLES)

    @staticmethod
    def reads_conversation(principal: Principal, need: Need, response: NeedResponse) -> bool:
        """A response's conversation is read by its two sides and the platform admin (as
        threads.NeedResponseThreads decides for the thread's routes)."""
        return principal.role == Role.platform_admin or NeedService.conversation_side(principal, need, response) is not None

    @staticmethod
    def conversation_side(principal: Principal, need: Need, response: NeedResponse) -> str | None:
        """The viewer's party in a response's conversation: "company" for the poster's side (the
        company a challenge is for included), "institution" for the responding institution's TTO;
        None for anyone else (the platform admin reads it: marketplace/matching/threads/subjects.py)."""
        if NeedService.is_party(principal, need):
            return "company"
        if principal.role in TTO_ROLES and principal.organization_id == response.institution_id:
            return "institution"
        return None

    def need_actions(self, principal: Principal, need: Need) -> list[str]:
        return states.actions(NEED, principal, need)

    def response_actions(self, principal: Principal, need: Need, response: NeedResponse) -> list[str]:
        return states.actions(RESPONSE, principal, response, Decision(need))

    def may_respond(self, principal: Principal, need: Need, today: date | None = None) -> bool:
        today = today or china_day(utcnow())
        return principal.role in TTO_ROLES and need.state == NeedState.open and need.deadline >= today

    # ----- reading ----------------------------------------------------------------------------

    async def get(self, principal: Principal, need_id: uuid.UUID, *, for_update: bool = False) -> Need:
        stmt = select(Need).where(Need.id == need_id, self.visible(principal)).execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update(of=Need)
        need = await self.session.scalar(stmt)
        if need is None:
            raise NotFound()
        return need

    async def list(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        mine: bool = False,
        query: NeedSearch | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> tuple[list[Need], int]:
        """Needs the caller may see, from PostgreSQL (drafts and invited-only needs included)."""
        conditions = [self.visible(principal)]
        if state:
            conditions.append(Need.state == state)
        if mine:
            org = principal.organization_id
            conditions.append(or_(Need.organization_id == org, Need.on_behalf_of_id == org))
        if query and query.areas:
            conditions.append(Need.areas.overlap(query.areas))
        if query and query.wanted:
            conditions.append(
                Need.wanted.overlap(sorted({*query.wanted, *wanted_types(query.wanted), *self._kinds_of(query.wanted)}))
            )
        if query and query.deadline_from:
            conditions.append(Need.deadline >= query.deadline_from)
        if query and query.deadline_to:
            conditions.append(Need.deadline <= query.deadline_to)
        total = await self.session.scalar(select(func.count()).select_from(Need).where(*conditions))
        stmt = (
            select(Need)
            .where(*conditions)
            .order_by((Need.state == NeedState.open).desc(), Need.deadline, Need.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list((await self.session.scalars(stmt)).all()), total or 0

    async def own(self, principal: Principal) -> builtins.list[Need]:
        """The organization's needs in every state: a company's, and for the platform its challenges."""
        principal.require(*COMPANY_ROLES, Role.platform_admin, Role.platform_analyst)
        if principal.is_platform:
            items, _ = await self.list(principal, page_size=200)
            return [n for n in items if n.kind == "challenge"]
        items, _ = await self.list(principal, mine=True, page_size=200)
        return items

    @staticmethod
    def _kinds_of(wanted: Iterable[str]) -> set[str]:
        """A need wanting a whole kind answers a filter on any of its types."""
        return {str(kind) for kind, types in TYPES_OF_KIND.items() for t in wanted if t in types}

    async def by_ids(self, principal: Principal, ids: builtins.list[uuid.UUID]) -> builtins.list[Need]:
        """Those of `ids` the caller may see, in the given order (search hits are open public needs)."""
        if not ids:
            return []
        found = {n.id: n for n in await self.session.scalars(select(Need).where(Need.id.in_(ids), self.visible(principal)))}
        return [found[i] for i in ids if i in found]

    async def invited(self, need_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, builtins.list[uuid.UUID]]:
        rows = await self.session.execute(
            select(NeedInvitation.need_id, NeedInvitation.institution_id).where(NeedInvitation.need_id.in_(list(need_ids)))
        )
        result: dict[uuid.UUID, list[uuid.UUID]] = {}
        for need_id, institution_id in rows:
            result.setdefault(need_id, []).append(institution_id)
        return result

    async def response_counts(self, need_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
        rows = await self.session.execute(
            select(NeedResponse.need_id, func.count())
            .where(NeedResponse.need_id.in_(list(need_ids)), NeedResponse.state != ResponseState.withdrawn)
            .group_by(NeedResponse.need_id)
        )
        return dict(rows.all())

    async def count_closing(self, principal: Principal, start: date, end: date) -> int:
        """Open needs the caller may see whose deadline falls between `start` and `end` (what
        /needs?deadline_from=…&deadline_to=… lists without words)."""
        stmt = (
            select(func.count())
            .select_from(Need)
            .where(self.visible(principal), Need.state == NeedState.open, Need.deadline >= start, Need.deadline <= end)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def count_responses_to_decide(self, principal: Principal) -> int:
        """Responses to the organization's own open needs that wait for its decision (not yet
        selected, turned down or withdrawn), as /needs/mine lists them."""
        org = principal.require(*COMPANY_ROLES).organization_id
        stmt = (
            select(func.count())
            .select_from(NeedResponse)
            .join(Need, Need.id == NeedResponse.need_id)
            .where(
                or_(Need.organization_id == org, Need.on_behalf_of_id == org),
                Need.state == NeedState.open,
                NeedResponse.state.in_([ResponseState.submitted, ResponseState.shortlisted]),
            )
        )
        return int(await self.session.scalar(stmt) or 0)

    async def history(self, subject_id: uuid.UUID) -> builtins.list[AuditEvent]:
        return list(reversed(await audit.events(self.session, subject_id=subject_id, limit=200)))

    # ----- writing needs ----------------------------------------------------------------------

    async def field_problems(self, fields: dict) -> builtins.list[FieldError]:
        """The need rules on a form's fields before they make a valid NeedCreate, so the form can
        show every problem at once (create and update check the same)."""
        errors: list[FieldError] = []
        await self._check(fields, errors, today=china_day(utcnow()))
        return errors

    async def create(self, principal: Principal, data: NeedCreate, *, now: datetime | None = None, ip: str | None = None) -> Need:
        self.require_poster_role(principal)
        assert principal.organization_id is not None, "a signed-in caller acts for an organization"
        now = now or utcnow()
        errors: list[FieldError] = []
        if principal.role in COMPANY_ROLES:
            if data.kind == NeedKind.challenge:
                errors.append(FieldError("kind", N_("Only the platform posts challenges.")))
            if data.on_behalf_of_id is not None:
                errors.append(FieldError("on_behalf_of_id", N_("Only the platform posts on behalf of a company.")))
            kind = NeedKind.need
        else:
            kind = NeedKind.challenge  # what the platform posts is a challenge
        fields = {name: getattr(data, name) for name in NeedCreate.__struct_fields__}
        invited = await self._check(fields, errors, today=china_day(now))
        if errors:
            raise InvalidInput(*errors)
        org = await self.accounts.public_organization(principal.organization_id)
        need = Need(
            kind=kind,
            organization_id=org.id,
            organization_kind=org.kind,
            on_behalf_of_id=data.on_behalf_of_id if kind == NeedKind.challenge else None,
            created_by_user_id=principal.user_id,
            state=NeedState.draft,
            state_changed_at=now,
        )
        self._apply(need, fields)
        self.session.add(need)
        await self.session.flush()
        await self._set_invited(need, invited)
        await self._record("need_created", principal, need, now, ip=ip, after=need.state, kind=need.kind)
        return need

    async def update(self, principal: Principal, need_id: uuid.UUID, data: NeedUpdate, *, ip: str | None = None) -> Need:
        need = await self.get(principal, need_id, for_update=True)
        if not self.is_poster(principal, need):
            raise Forbidden()
        if need.state != NeedState.draft:
            raise Conflict(
                N_("Only a draft can be edited; this need is “%(state)s”."),
                FieldError("state", N_("Not allowed from the need's current state.")),
                state=NEED_STATE_LABELS[NeedState(need.state)],
            )
        fields = {name: getattr(data, name) for name in NeedUpdate.__struct_fields__}
        fields = {k: v for k, v in fields.items() if v is not msgspec.UNSET}
        if need.kind == NeedKind.need and fields.get("on_behalf_of_id"):
            raise invalid("on_behalf_of_id", N_("Only the platform posts on behalf of a company."))
        merged = {
            "title": need.title,
            "problem": need.problem,
            "therapeutic_areas": list(need.areas),
            "wanted": list(need.wanted),
            "budget_min_fen": need.budget_min_fen,
            "budget_max_fen": need.budget_max_fen,
            "deadline": need.deadline,
            "visibility": need.visibility,
            "on_behalf_of_id": need.on_behalf_of_id,
            "invited_institution_ids": (await self.invited([need.id])).get(need.id, []),
            "multi_centre": need.multi_centre,
        } | fields
        errors: list[FieldError] = []
        invited = await self._check(merged, errors, today=china_day(utcnow()))
        if errors:
            raise InvalidInput(*errors)
        self._apply(need, merged)
        if need.kind == NeedKind.challenge:
            need.on_behalf_of_id = merged["on_behalf_of_id"]
        await self.session.flush()
        await self._set_invited(need, invited)
        await self._record("need_updated", principal, need, utcnow(), ip=ip, fields=sorted(fields))
        return need

    async def _check(self, fields: dict, errors: builtins.list[FieldError], *, today: date) -> builtins.list[uuid.UUID]:
        """Field problems of a need; returns the invited institutions to keep."""
        for name in ("title", "problem"):
            if not (fields.get(name) or "").strip():
                errors.append(FieldError(name, N_("Required.")))
        codes = {a.code for a in await self.catalog.areas()}
        areas = fields.get("therapeutic_areas") or []
        if not areas:
            errors.append(FieldError("therapeutic_areas", N_("Choose at least one.")))
        elif any(code not in codes for code in areas):
            errors.append(FieldError("therapeutic_areas", N_("Not one of the allowed values.")))
        wanted = fields.get("wanted") or []
        if not wanted:
            errors.append(FieldError("wanted", N_("Choose at least one.")))
        elif any(value not in WANTED_VALUES for value in wanted):
            errors.append(FieldError("wanted", N_("Not one of the allowed values.")))
        elif fields.get("multi_centre") and not set(wanted) & CLINICAL_TRIAL_WANTED:
            errors.append(FieldError("multi_centre", N_("Only a need for clinical-trial sites has several centres.")))
        low, high = fields.get("budget_min_fen"), fields.get("budget_max_fen")
        if low is not None and high is not None and low > high:
            errors.append(FieldError("budget_max_fen", N_("Must not be below the minimum.")))
        deadline = fields.get("deadline")
        if deadline is None:
            errors.append(FieldError("deadline", N_("Required.")))
        elif deadline < today:
            errors.append(FieldError("deadline", N_("The deadline must not be in the past.")))
        elif deadline > today + timedelta(days=730):
            errors.append(FieldError("deadline", N_("At most two years ahead.")))
        invited = list(dict.fromkeys(fields.get("invited_institution_ids") or []))
        if fields.get("visibility") == Visibility.invited:
            if not invited:
                errors.append(FieldError("invited_institution_ids", N_("Invite at least one institution.")))
            else:
                orgs = await self.accounts.public_organizations(set(invited))
                if any(i not in orgs or orgs[i].kind != "institution" for i in invited):
                    errors.append(FieldError("invited_institution_ids", N_("Not an institution on the platform.")))
        else:
            invited = []
        behalf = fields.get("on_behalf_of_id")
        if behalf is not None:
            org = (await self.accounts.public_organizations({behalf})).get(behalf)
            if org is None or org.kind != "company":
                errors.append(FieldError("on_behalf_of_id", N_("Not a company on the platform.")))
        return invited

    @staticmethod
    def _apply(need: Need, fields: dict) -> None:
        need.title = fields["title"].strip()
        need.problem = fields["problem"].strip()
        need.areas = list(dict.fromkeys(fields["therapeutic_areas"]))
        need.wanted = list(dict.fromkeys(fields["wanted"]))
        need.budget_min_fen, need.budget_max_fen = fields.get("budget_min_fen"), fields.get("budget_max_fen")
        need.deadline = fields["deadline"]
        need.visibility = fields.get("visibility") or Visibility.public
        need.multi_centre = bool(fields.get("multi_centre"))

    async def _set_invited(self, need: Need, invited: builtins.list[uuid.UUID]) -> None:
        current = set((await self.invited([need.id])).get(need.id, []))
        for gone in current - set(invited):
            await self.session.delete(await self.session.get_one(NeedInvitation, (need.id, gone)))
        self.session.add_all(NeedInvitation(need_id=need.id, institution_id=i) for i in invited if i not in current)
        await self.session.flush()

    async def transition(
        self,
        principal: Principal,
        need_id: uuid.UUID,
        action: str,
        reason: str = "",
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> Need:
        principal.require()
        declared = NEED.action(action)
        need = await self.get(principal, need_id, for_update=True)
        await states.apply(self.session, NEED, principal, need, declared, reason, now=now or utcnow(), ip=ip)
        return need

    async def _record(self, action: str, principal: Principal | None, subject, now: datetime, **data) -> None:
        event = await audit.record(
            self.session,
            action,
            actor_user_id=principal.user_id if principal else None,
            organization_id=principal.organization_id if principal else None,
            subject=subject,
            **data,
        )
        event.occurred_at = now


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Needs = NamedDependency[NeedService]


async def provide_needs(db_session: DbSession, settings: AppSettings) -> NeedService:
    return NeedService(db_session, settings)
