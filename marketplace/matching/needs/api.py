"""JSON API of needs and challenges: /api/v1/needs, one need, its transitions, its responses and
theirs; /api/v1/recommendations (listings for a need, needs for a listing)."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from marketplace.accounts.api import requires_bearer
from marketplace.errors import DomainError, FieldError
from marketplace.i18n import N_
from marketplace.matching.needs import schemas
from marketplace.matching.needs.models import Need, NeedKind, NeedResponse, NeedState, ResponseState, Visibility
from marketplace.matching.needs.search import parse_need_query, recommend_listings, recommend_needs, search_needs
from marketplace.matching.needs.services import Needs, NeedService
from marketplace.matching.requests.api import _org_ref
from marketplace.matching.requests.schemas import ListingRef, history_out
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import client_ip


async def needs_out(
    needs: NeedService, principal: Principal, items: list[Need], *, with_history: bool = False
) -> list[schemas.NeedOut]:
    orgs = await needs.accounts.public_organizations(
        {n.organization_id for n in items} | {n.on_behalf_of_id for n in items if n.on_behalf_of_id}
    )
    posters = [n for n in items if needs.reads_responses(principal, n)]
    invited = await needs.invited([n.id for n in posters]) if posters else {}
    counts = await needs.response_counts([n.id for n in posters]) if posters else {}
    result = []
    for n in items:
        party = needs.reads_responses(principal, n)
        history = []
        if with_history:
            events = await needs.history(n.id)
            names = await needs.accounts.user_names({e.actor_user_id for e in events if e.actor_user_id})
            history = history_out(events, names)
        result.append(
            schemas.NeedOut(
                id=n.id,
                kind=NeedKind(n.kind),
                state=NeedState(n.state),
                title=n.title,
                problem=n.problem,
                therapeutic_areas=list(n.areas),
                wanted=list(n.wanted),
                budget_min_fen=n.budget_min_fen,
                budget_max_fen=n.budget_max_fen,
                budget_currency=n.budget_currency,
                deadline=n.deadline,
                visibility=Visibility(n.visibility),
                poster=_org_ref(orgs[n.organization_id]),
                on_behalf_of=_org_ref(orgs[n.on_behalf_of_id]) if n.on_behalf_of_id else None,
                opened_at=n.opened_at,
                updated_at=n.updated_at,
                invited_institution_ids=invited.get(n.id, []) if party else None,
                multi_centre=n.multi_centre,
                response_count=counts.get(n.id, 0) if party else None,
                actions=needs.need_actions(principal, n),
                history=history,
            )
        )
    return result


async def responses_out(
    needs: NeedService, principal: Principal, need: Need, items: list[NeedResponse]
) -> list[schemas.ResponseOut]:
    listings = await needs.catalog.listing_refs({i for r in items for i in r.listing_ids})
    orgs = await needs.accounts.public_organizations({r.institution_id for r in items})
    return [
        schemas.ResponseOut(
            id=r.id,
            need_id=r.need_id,
            state=ResponseState(r.state),
            institution=_org_ref(orgs[r.institution_id]),
            proposal=r.proposal,
            listings=[
                ListingRef(
                    id=listings[i].id,
                    kind=listings[i].kind,
                    type=listings[i].type,
                    status=listings[i].status,
                    title_zh=listings[i].title_zh,
                    title_en=listings[i].title_en,
                )
                for i in r.listing_ids
                if i in listings
            ],
            budget_min_fen=r.budget_min_fen,
            budget_max_fen=r.budget_max_fen,
            budget_currency=r.budget_currency,
            timeline=r.timeline,
            submitted_at=r.submitted_at,
            match_request_id=r.match_request_id,
            actions=needs.response_actions(principal, need, r),
        )
        for r in items
    ]


class NeedsApi(Controller):
    path = "/api/v1/needs"
    tags = ["needs"]
    guards = [requires_bearer]

    @get("/")
    async def list_needs(self, request: Request, principal: CurrentPrincipal, needs: Needs) -> schemas.NeedPage:
        """Needs the caller may see, from PostgreSQL, open ones first by deadline (filters `state`,
        `mine`, `area`, `wanted`, `deadline_from`, `deadline_to`). With `q`: open public needs from
        Meilisearch, by relevance (`source` says which)."""
        principal.require()
        codes = {a.code for a in await needs.catalog.areas()}
        query, state, mine, errors = parse_need_query(request.query_params.multi_items(), codes)
        if errors:
            raise DomainError(N_("The request has invalid fields."), *errors, status_code=400)
        if query.q:
            # SearchUnavailable becomes the 503 with Retry-After (app.search_unavailable_handler).
            hits, total = await search_needs(request.app.state.search, query)
            items = await needs.by_ids(principal, [uuid.UUID(h["id"]) for h in hits])
            return schemas.NeedPage(await needs_out(needs, principal, items), total, query.page, query.page_size, "search")
        items, total = await needs.list(
            principal, state=state, mine=mine, query=query, page=query.page, page_size=query.page_size
        )
        return schemas.NeedPage(await needs_out(needs, principal, items), total, query.page, query.page_size)

    @post("/", status_code=HTTP_201_CREATED)
    async def create_need(
        self, request: Request, principal: CurrentPrincipal, needs: Needs, data: JSONBody[schemas.NeedCreate]
    ) -> schemas.NeedOut:
        """A company member or admin posts a need; a platform admin posts a challenge (揭榜挂帅),
        possibly `on_behalf_of_id` a company. It starts as a draft: publish it with a transition."""
        created = await needs.create(principal, data, ip=client_ip(request))
        return (await needs_out(needs, principal, [created], with_history=True))[0]

    @get("/{need_id:uuid}")
    async def get_need(self, principal: CurrentPrincipal, needs: Needs, need_id: FromPath[uuid.UUID]) -> schemas.NeedOut:
        found = await needs.get(principal, need_id)
        return (await needs_out(needs, principal, [found], with_history=True))[0]

    @patch("/{need_id:uuid}")
    async def update_need(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.NeedUpdate],
    ) -> schemas.NeedOut:
        """Only while draft (409 afterwards)."""
        updated = await needs.update(principal, need_id, data, ip=client_ip(request))
        return (await needs_out(needs, principal, [updated], with_history=True))[0]

    @post("/{need_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.NeedTransition],
    ) -> schemas.NeedOut:
        """`publish` a draft, `close` an open need early; `actions` lists what the caller may do."""
        moved = await needs.transition(principal, need_id, data.action, data.reason, ip=client_ip(request))
        return (await needs_out(needs, principal, [moved], with_history=True))[0]

    @get("/{need_id:uuid}/responses")
    async def list_responses(
        self, principal: CurrentPrincipal, needs: Needs, need_id: FromPath[uuid.UUID]
    ) -> list[schemas.ResponseOut]:
        """The poster (and the platform) sees every response; an institution only its own."""
        need = await needs.get(principal, need_id)
        return await responses_out(needs, principal, need, await needs.responses(principal, need))

    @post("/{need_id:uuid}/responses", status_code=HTTP_201_CREATED)
    async def respond(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        need_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ResponseCreate],
    ) -> schemas.ResponseOut:
        """An institution's TTO proposes its published listings for an open need it can see."""
        created = await needs.respond(principal, need_id, data, ip=client_ip(request))
        need = await needs.get(principal, need_id)
        return (await responses_out(needs, principal, need, [created]))[0]

    @post("/{need_id:uuid}/responses/{response_id:uuid}/transitions", status_code=200)
    async def move_response(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ResponseTransition],
    ) -> schemas.ResponseOut:
        """The poster `shortlist`s, `decline`s or `select`s (with the `nda_version` it accepts, when
        the selection opens a match request); the institution may `withdraw` until one is selected."""
        moved = await needs.move_response(
            principal, need_id, response_id, data.action, data.reason, nda_version=data.nda_version, ip=client_ip(request)
        )
        need = await needs.get(principal, need_id)
        return (await responses_out(needs, principal, need, [moved]))[0]


class RecommendationsApi(Controller):
    path = "/api/v1/recommendations"
    tags = ["needs"]
    guards = [requires_bearer]

    @get("/")
    async def recommendations(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        need: FromQuery[uuid.UUID | None] = None,
        listing: FromQuery[uuid.UUID | None] = None,
    ) -> schemas.Recommendations:
        """`?need=<id>`: the published listings that fit the need best (top 5); `?listing=<id>`:
        the open public needs the listing may answer. Each only for a need or listing the caller
        may see (404 otherwise)."""
        principal.require()
        if (need is None) == (listing is None):
            raise DomainError(
                N_("The request has invalid fields."),
                FieldError("need", N_("Give either a need or a listing.")),
                status_code=400,
            )
        engine = request.app.state.search
        if need is not None:
            found = await needs.get(principal, need)
            docs = await recommend_listings(engine, found)
            return schemas.Recommendations(need_id=found.id, listings=[recommended_listing(d) for d in docs])
        assert listing is not None, "exactly one of need and listing is given (checked above)"
        item = await needs.catalog.get(principal, listing)
        docs = await recommend_needs(engine, item)
        return schemas.Recommendations(listing_id=item.id, needs=[recommended_need(d) for d in docs])


def recommended_listing(doc: dict) -> schemas.RecommendedListing:
    return schemas.RecommendedListing(
        id=uuid.UUID(doc["id"]),
        kind=doc["kind"],
        type=doc["type"],
        title_zh=doc["title_zh"],
        title_en=doc.get("title_en"),
        institution_id=uuid.UUID(doc["institution_id"]),
        institution_name_zh=doc["institution_name_zh"],
        areas=doc.get("areas") or [],
    )


def recommended_need(doc: dict) -> schemas.RecommendedNeed:
    return schemas.RecommendedNeed(
        id=uuid.UUID(doc["id"]),
        kind=doc["kind"],
        title=doc["title"],
        deadline=date.fromisoformat(doc["deadline"]),
        poster_name_zh=doc["poster_name_zh"],
        areas=doc.get("areas") or [],
        wanted=doc.get("wanted") or [],
    )
