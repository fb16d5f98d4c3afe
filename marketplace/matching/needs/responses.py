"""Institutions' responses to needs: listing them, responding with a proposal, and the poster's
steps on a response (the RESPONSE machine), where selecting opens the match request and awards the
need. A mixin of NeedService (marketplace/matching/needs/services.py), apart from the needs' own
writing; it reads the need through the service's `get` and visibility rules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import INSTITUTION_ROLES, TTO_ROLES
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Status
from marketplace.catalog.services import CatalogService
from marketplace.db import add_unless_taken, china_day, utcnow
from marketplace.errors import Conflict, Duplicate, FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.needs.lifecycle import NEED, RESPONSE, Decision
from marketplace.matching.needs.models import ACTIVE_RESPONSE_STATES, Need, NeedKind, NeedResponse, NeedState, ResponseState
from marketplace.matching.needs.notices import NeedNotices
from marketplace.matching.needs.schemas import ResponseCreate
from marketplace.matching.requests.services import MatchingService
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.steps import record_step
from marketplace.tenancy import Principal

# The system's decline of the other live responses when one is selected: its audit reason, and
# its step in their conversations (the label says why; migration 0021 copies old ones the same way).
OTHER_SELECTED = "another proposal was selected"
DECLINED_OTHER_SELECTED = "decline_other_selected"


class NeedResponses(NeedNotices):
    """NeedService's responses; the service sets the attributes and defines the need's methods below."""

    session: AsyncSession
    catalog: CatalogService
    accounts: AccountService
    get: Callable[..., Awaitable[Need]]
    is_party: Callable[[Principal, Need], bool]
    may_respond: Callable[[Principal, Need, date | None], bool]
    _record: Callable[..., Awaitable[None]]

    async def responses(self, principal: Principal, need: Need) -> list[NeedResponse]:
        """The poster's side and the platform see every response; an institution only its own."""
        stmt = select(NeedResponse).where(NeedResponse.need_id == need.id)
        if not (principal.is_platform or self.is_party(principal, need)):
            if principal.role not in INSTITUTION_ROLES:
                return []
            stmt = stmt.where(NeedResponse.institution_id == principal.organization_id)
        stmt = stmt.order_by(
            (NeedResponse.state == ResponseState.selected).desc(),
            (NeedResponse.state == ResponseState.shortlisted).desc(),
            NeedResponse.submitted_at,
        )
        return list((await self.session.scalars(stmt)).all())

    async def _active_response_of(self, need_id: uuid.UUID, institution_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(NeedResponse.id).where(
                NeedResponse.need_id == need_id,
                NeedResponse.institution_id == institution_id,
                NeedResponse.state.in_(sorted(ACTIVE_RESPONSE_STATES)),
            )
        )

    @staticmethod
    def _already_responded(existing: uuid.UUID | None) -> Duplicate:
        return Duplicate(
            N_("Your institution has already responded to this need."),
            FieldError("need", N_("Your institution has already responded to this need.")),
            existing=existing,
        )

    async def get_response(
        self, principal: Principal, need_id: uuid.UUID, response_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[Need, NeedResponse]:
        need = await self.get(principal, need_id, for_update=for_update)
        stmt = select(NeedResponse).where(NeedResponse.id == response_id, NeedResponse.need_id == need.id)
        if not (principal.is_platform or self.is_party(principal, need)):
            stmt = stmt.where(NeedResponse.institution_id == principal.organization_id)
        if for_update:
            stmt = stmt.with_for_update()
        response = await self.session.scalar(stmt.execution_options(populate_existing=True))
        if response is None:
            raise NotFound()
        return need, response

    async def respond(
        self,
        principal: Principal,
        need_id: uuid.UUID,
        data: ResponseCreate,
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> NeedResponse:
        principal.require(*TTO_ROLES)
        assert principal.organization_id is not None, "a signed-in caller acts for an organization"
        need = await self.get(principal, need_id, for_update=True)
        now = now or utcnow()
        if not self.may_respond(principal, need, china_day(now)):
            raise Conflict(N_("This need takes no more responses."), FieldError("need", N_("This need takes no more responses.")))
        errors: list[FieldError] = []
        if not data.proposal.strip():
            errors.append(FieldError("proposal", N_("Required.")))
        listing_ids = list(dict.fromkeys(data.listing_ids))
        listings = await self.catalog.listing_refs(set(listing_ids))
        if not listing_ids:
            errors.append(FieldError("listing_ids", N_("Choose at least one.")))
        elif any(
            i not in listings or listings[i].institution_id != principal.organization_id or listings[i].status != Status.published
            for i in listing_ids
        ):
            errors.append(FieldError("listing_ids", N_("Only your institution's published listings.")))
        if data.budget_min_fen is not None and data.budget_max_fen is not None and data.budget_min_fen > data.budget_max_fen:
            errors.append(FieldError("budget_max_fen", N_("Must not be below the minimum.")))
        if errors:
            raise InvalidInput(*errors)
        if existing := await self._active_response_of(need.id, principal.organization_id):
            raise self._already_responded(existing)
        response = NeedResponse(
            need_id=need.id,
            institution_id=principal.organization_id,
            submitted_by_user_id=principal.user_id,
            state=ResponseState.submitted,
            proposal=data.proposal.strip(),
            listing_ids=listing_ids,
            budget_min_fen=data.budget_min_fen,
            budget_max_fen=data.budget_max_fen,
            timeline=data.timeline.strip(),
            submitted_at=now,
            state_changed_at=now,
            multi_centre=need.multi_centre,
        )
        if not await add_unless_taken(self.session, response, "uq_need_responses_active"):
            raise self._already_responded(await self._active_response_of(need.id, principal.organization_id))
        await self._record(
            "need_response_created",
            principal,
            response,
            now,
            ip=ip,
            after=response.state,
            need_id=need.id,
            listings=[str(i) for i in listing_ids],
        )
        institution = await self.accounts.public_organization(principal.organization_id)
        await self._tell_poster(need, N_("%(institution)s responded to your need “%(title)s”."), institution=institution)
        return response

    async def move_response(
        self,
        principal: Principal,
        need_id: uuid.UUID,
        response_id: uuid.UUID,
        action: str,
        reason: str = "",
        *,
        nda_version: int | None = None,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> NeedResponse:
        principal.require()
        declared = RESPONSE.action(action)
        need, response = await self.get_response(principal, need_id, response_id, for_update=True)
        now = now or utcnow()
        decision = Decision(need, open_match=lambda: self._select(principal, need, response, nda_version, now))
        step = await states.apply(
            self.session,
            RESPONSE,
            principal,
            response,
            declared,
            reason,
            context=decision,
            now=now,
            ip=ip,
            details={"need_id": need.id},
        )
        # The step in the response's conversation: the poster's side writes as "company".
        side = "institution" if action == "withdraw" else "company"
        await record_step(
            self.session,
            SubjectKindName.need_response,
            response.id,
            step=action,
            side=side,
            author_user_id=principal.user_id,
            text=step.reason,
            at=now,
        )
        if action == "select":
            await self._award(principal, need, response, now)
        if any(party.side == "poster" for party in declared.by):
            await self._tell_institution(need, response)
        return response

    async def _select(
        self, principal: Principal, need: Need, response: NeedResponse, nda_version: int | None, now: datetime
    ) -> dict:
        """Open the match request between the poster's company and the institution, on the
        response's first listing; a platform challenge for no company opens none."""
        company_id = need.organization_id if need.kind == NeedKind.need else need.on_behalf_of_id
        if company_id is None:
            return {}
        current = await self.catalog.current_nda_version()
        if nda_version is None:
            raise invalid("nda_version", N_("Accept the confidentiality agreement to open the match."))
        if nda_version != current:
            raise invalid("nda_version", N_("A newer confidentiality agreement is in force: read it and accept it."))
        listing_id = response.listing_ids[0]
        listing = (await self.catalog.listing_refs({listing_id}))[listing_id]
        if listing.status != Status.published:
            raise Conflict(
                N_("The proposed listing is no longer published; the institution must update its response."),
                FieldError("listing_ids", N_("Only your institution's published listings.")),
            )
        others = await self.catalog.listing_refs(set(response.listing_ids[1:]))
        also = "".join(f"\n- {others[i].title_zh}" for i in response.listing_ids[1:] if i in others)
        message = f"{response.proposal}\n\n其余关联条目：{also}" if also else response.proposal
        match = await MatchingService(self.session).open_from_need(
            principal,
            company_id=company_id,
            listing_id=listing_id,
            nda_version=nda_version,
            purpose=f"{need.title}\n\n{need.problem}"[:2000],
            timeline=response.timeline,
            budget=(response.budget_min_fen, response.budget_max_fen)
            if response.budget_min_fen is None
            or response.budget_max_fen is None
            or response.budget_min_fen <= response.budget_max_fen
            else (None, None),
            message=message[:5000],
            need_response_id=response.id,
            now=now,
        )
        response.match_request_id = match.id
        return {"match_request_id": match.id, "listing_id": listing_id}

    async def _award(self, principal: Principal, need: Need, selected: NeedResponse, now: datetime) -> None:
        """The selection's consequences, the system's steps: the need is awarded and every other
        live response declined — except on a multi-centre need, whose other responses stay open to
        be selected as further centres."""
        if need.multi_centre:
            if need.state != NeedState.awarded:
                await states.apply(
                    self.session, NEED, principal, need, "award", now=now, details={"response_id": selected.id}, as_system=True
                )
            return
        await states.apply(
            self.session, NEED, principal, need, "award", now=now, details={"response_id": selected.id}, as_system=True
        )
        others = await self.session.scalars(
            select(NeedResponse)
            .where(
                NeedResponse.need_id == need.id,
                NeedResponse.id != selected.id,
                NeedResponse.state.in_([ResponseState.submitted, ResponseState.shortlisted]),
            )
            .with_for_update()
        )
        for other in others.all():
            await states.apply(
                self.session,
                RESPONSE,
                principal,
                other,
                "decline",
                OTHER_SELECTED,
                context=Decision(need),
                now=now,
                details={"need_id": need.id},
                as_system=True,
            )
            await record_step(
                self.session,
                SubjectKindName.need_response,
                other.id,
                step=DECLINED_OTHER_SELECTED,
                side="company",
                author_user_id=principal.user_id,
                text="",
                at=now,
            )
            await self._tell_institution(need, other)
