"""JSON API of matching: /api/v1/match-requests, one request, and its transitions."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from marketplace.accounts.scopes import Scope, needs
from marketplace.db import china_day, utcnow
from marketplace.matching.requests import schemas
from marketplace.matching.requests.deadlines import is_overdue
from marketplace.matching.requests.models import EngagementType, MatchRequest, State
from marketplace.matching.requests.schemas import StateQuery
from marketplace.matching.requests.services import Matching, MatchingService
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import Page, PageSize, client_ip


def _org_ref(org) -> schemas.OrganizationRef:
    return schemas.OrganizationRef(id=org.id, name_zh=org.name_zh, name_en=org.name_en, city=org.city)


async def requests_out(
    matching: MatchingService, principal: Principal, requests: list[MatchRequest], *, with_history: bool = False
) -> list[schemas.MatchRequestOut]:
    listings = await matching.catalog.listing_refs({r.listing_id for r in requests})
    orgs = await matching.accounts.public_organizations({r.institution_id for r in requests} | {r.company_id for r in requests})
    current_nda = await matching.catalog.current_nda_version()
    today = china_day(utcnow())
    result = []
    for r in requests:
        listing = listings[r.listing_id]
        history = []
        if with_history:
            events = await matching.history(r)
            names = await matching.accounts.user_names({e.actor_user_id for e in events if e.actor_user_id})
            history = schemas.history_out(events, names)
        result.append(
            schemas.MatchRequestOut(
                id=r.id,
                state=State(r.state),
                listing=schemas.ListingRef(
                    id=listing.id,
                    kind=listing.kind,
                    type=listing.type,
                    status=listing.status,
                    title_zh=listing.title_zh,
                    title_en=listing.title_en,
                ),
                institution=_org_ref(orgs[r.institution_id]),
                company=_org_ref(orgs[r.company_id]),
                engagement_type=EngagementType(r.engagement_type),
                purpose=r.purpose,
                timeline=r.timeline,
                budget_min_fen=r.budget_min_fen,
                budget_max_fen=r.budget_max_fen,
                budget_currency=r.budget_currency,
                message=r.message,
                nda_version=r.nda_version,
                nda_accepted_at=r.nda_accepted_at,
                nda_current=r.nda_version >= current_nda,
                submitted_at=r.submitted_at,
                response_due_on=r.response_due_on,
                overdue=is_overdue(r, today),
                first_answered_at=r.first_answered_at,
                company_agreed_at=r.company_agreed_at,
                institution_agreed_at=r.institution_agreed_at,
                updated_at=r.updated_at,
                actions=matching.allowed_actions(principal, r, current_nda),
                history=history,
            )
        )
    return result


class MatchingApi(Controller):
    path = "/api/v1/match-requests"
    tags = ["matching"]

    @get("/", opt=needs(Scope.requests_read))
    async def list_requests(
        self,
        principal: CurrentPrincipal,
        matching: Matching,
        state_filter: StateQuery = None,
        listing_id: FromQuery[uuid.UUID | None] = None,
        page: Page = 1,
        page_size: PageSize = 20,
    ) -> schemas.MatchRequestPage:
        """The caller's requests: a company's own, those on an institution's listings, an
        inventor's results', or all for platform roles. Newest first."""
        items, total = await matching.list(principal, state=state_filter, listing_id=listing_id, page=page, page_size=page_size)
        return schemas.MatchRequestPage(await requests_out(matching, principal, items), total, page, page_size)

    @post("/", status_code=HTTP_201_CREATED)
    async def create_request(
        self, request: Request, principal: CurrentPrincipal, matching: Matching, data: JSONBody[schemas.MatchRequestCreate]
    ) -> schemas.MatchRequestOut:
        """A company asks about a published listing, accepting the current NDA
        (GET /api/v1/nda-versions/current gives its version and text)."""
        created = await matching.create(principal, data, ip=client_ip(request))
        return (await requests_out(matching, principal, [created], with_history=True))[0]

    @get("/{request_id:uuid}", opt=needs(Scope.requests_read))
    async def get_request(
        self, principal: CurrentPrincipal, matching: Matching, request_id: FromPath[uuid.UUID]
    ) -> schemas.MatchRequestOut:
        found = await matching.get(principal, request_id)
        return (await requests_out(matching, principal, [found], with_history=True))[0]

    @post("/{request_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        matching: Matching,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.MatchTransition],
    ) -> schemas.MatchRequestOut:
        """Move the request: `actions` in its answer lists what the caller may do now."""
        moved = await matching.transition(
            principal, request_id, data.action, data.reason, nda_version=data.nda_version, ip=client_ip(request)
        )
        return (await requests_out(matching, principal, [moved], with_history=True))[0]
