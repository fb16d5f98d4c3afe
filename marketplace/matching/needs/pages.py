"""Pages of needs and challenges: the open needs with search (for institutions, and everyone), an
organization's own needs with their responses, the need form, the need with its responses, the
respond form and the recommended listings, and the needs a listing may answer (a fragment the
listing page loads for its TTO). Responses' own pages are in response_pages.py. A form with a
problem is shown again with its 4xx status, so the transaction rolls back and nothing is written."""

from __future__ import annotations

import math
import uuid
from datetime import date
from decimal import InvalidOperation
from typing import TypeVar
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.catalog.models import ListingKind, ResourceType, ResultType, Status
from marketplace.db import china_day, utcnow
from marketplace.errors import DomainError, Forbidden
from marketplace.i18n import N_, current_locale, gettext
from marketplace.matching.needs.lifecycle import (
    NEED_ACTION_LABELS,
    NEED_STATE_LABELS,
    RESPONSE_ACTION_LABELS,
    RESPONSE_STATE_LABELS,
)
from marketplace.matching.needs.models import Need, NeedState, ResponseState
from marketplace.matching.needs.schemas import NeedCreate, NeedUpdate
from marketplace.matching.needs.search import parse_need_query, recommend_listings, recommend_needs, search_needs
from marketplace.matching.needs.services import (
    NEED_KIND_LABELS,
    VISIBILITY_LABELS,
    Needs,
    NeedService,
)
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.services import Threads, ThreadService
from marketplace.matching.web import budget_text, parse_wan, problem_of, wan
from marketplace.search.engine import SearchUnavailable
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, render

Form = URLEncodedBody[dict[str, str]]
PAGE_SIZE = 20
# The service's field names as the form's.
FORM_FIELDS = {
    "budget_min_fen": "budget_min",
    "budget_max_fen": "budget_max",
    "therapeutic_areas": "areas",
    "invited_institution_ids": "invited",
}
WANTED_CHOICES = (
    (ListingKind.result, tuple(ResultType)),
    (ListingKind.resource, tuple(ResourceType)),
)
NEED_DONE = {"publish": N_("The need is open for responses."), "close": N_("The need is closed for responses.")}


def field_errors(error: DomainError) -> dict[str, str]:
    errors = {FORM_FIELDS.get(e.field, e.field): gettext(e.message, **e.params) for e in error.errors}
    return errors or {"__all__": gettext(error.message, **error.params)}


NeedInput = TypeVar("NeedInput", bound=NeedCreate | NeedUpdate)


async def need_body(
    needs: NeedService, form: dict[str, str], lists: dict[str, list[str]], schema: type[NeedInput]
) -> tuple[NeedInput | None, dict[str, str]]:
    """The form as the service's input (NeedCreate or NeedUpdate), or the problems by form field:
    what does not read as an amount, date or id, the shape's and the service's own rules."""
    errors: dict[str, str] = {}
    body: dict = {
        "title": form.get("title", "").strip(),
        "problem": form.get("problem", "").strip(),
        "therapeutic_areas": lists["areas"],
        "wanted": lists["wanted"],
        "visibility": form.get("visibility") or "public",
        "multi_centre": form.get("multi_centre") == "on",
    }
    try:
        body["invited_institution_ids"] = [uuid.UUID(value) for value in lists["invited"]]
        if form.get("on_behalf_of"):
            body["on_behalf_of_id"] = uuid.UUID(form["on_behalf_of"])
        elif schema is NeedUpdate:
            body["on_behalf_of_id"] = None
    except ValueError:
        errors["__all__"] = gettext("The form is out of date: reload the page.")
    for name in ("budget_min", "budget_max"):
        body[f"{name}_fen"] = None
        if form.get(name, "").strip():
            try:
                body[f"{name}_fen"] = parse_wan(form[name])
            except (ValueError, InvalidOperation):
                errors[name] = gettext("Enter an amount in 10,000 yuan, for example 50 or 12.5.")
    try:
        body["deadline"] = date.fromisoformat(form.get("deadline", "").strip())
    except ValueError:
        errors["deadline"] = gettext("A date as YYYY-MM-DD.")
    data, problems = forms.try_convert(body, schema)
    if data is not None and not errors:
        return data, {}
    # The service's rules on what was typed, so every problem shows at once, not only the shape's.
    return None, forms.by_input([*problems, *await needs.field_problems(body)], FORM_FIELDS, into=errors)


async def need_refs(needs: NeedService, items: list[Need]) -> dict:
    orgs = await needs.accounts.public_organizations(
        {n.organization_id for n in items} | {n.on_behalf_of_id for n in items if n.on_behalf_of_id}
    )
    return {
        "orgs": orgs,
        "area_names": {a.code: (a.name_en if current_locale.get() == "en" else a.name_zh) for a in await needs.catalog.areas()},
        "state_labels": NEED_STATE_LABELS,
        "kind_labels": NEED_KIND_LABELS,
        "visibility_labels": VISIBILITY_LABELS,
        "budget_of": lambda n: budget_text(n),
        "today": china_day(utcnow()),
    }


async def need_page(
    request: Request,
    principal: Principal,
    needs: NeedService,
    need: Need,
    *,
    status_code: int = 200,
    problem: dict | None = None,
    form: dict | None = None,
    errors: dict | None = None,
    threads: ThreadService,
) -> Template:
    """The need with its responses, the respond form and the recommended listings; again with a
    problem when a step or a response was refused."""
    responses = await needs.responses(principal, need)
    # Each response whose conversation the viewer reads links to it, with its unread count.
    talks = [r for r in responses if needs.reads_conversation(principal, need, r)]
    assert principal.user_id is not None, "the need was read for a signed-in caller"
    unread = await threads.unread_counts(principal.user_id, SubjectKindName.need_response, [r.id for r in talks])
    conversations = {r.id: unread.get(r.id, 0) for r in talks}
    listings = await needs.catalog.listing_refs({i for r in responses for i in r.listing_ids})
    refs = await need_refs(needs, [need])
    refs["orgs"] |= await needs.accounts.public_organizations({r.institution_id for r in responses})
    poster = needs.is_poster(principal, need)
    own_listings: list = []
    may_respond = needs.may_respond(principal, need) and not any(
        r.institution_id == principal.organization_id
        and r.state in (ResponseState.submitted, ResponseState.shortlisted, ResponseState.selected)
        for r in responses
    )
    if may_respond:
        own_listings, _ = await needs.catalog.search(
            principal, institution_id=principal.organization_id, status=Status.published, page_size=200
        )
    recommended, unavailable = [], False
    if poster and need.state in (NeedState.open, NeedState.draft, NeedState.closed):
        try:
            recommended = await recommend_listings(request.app.state.search, need)
        except SearchUnavailable:
            unavailable = True
    history = await needs.history(need.id)
    nda = await needs.catalog.current_nda()
    return render(
        request,
        "needs/detail.html",
        principal,
        status_code=status_code,
        need=need,
        responses=responses,
        listings=listings,
        poster=poster,
        party=needs.reads_responses(principal, need),
        actions=needs.need_actions(principal, need),
        action_labels=NEED_ACTION_LABELS,
        response_actions={r.id: needs.response_actions(principal, need, r) for r in responses},
        response_action_labels=RESPONSE_ACTION_LABELS,
        response_labels=RESPONSE_STATE_LABELS,
        may_respond=may_respond,
        own_listings=own_listings,
        recommended=recommended,
        unavailable=unavailable,
        invited=(await needs.invited([need.id])).get(need.id, []) if poster else [],
        history=history,
        actors=await needs.accounts.user_names({e.actor_user_id for e in history if e.actor_user_id}),
        problem=problem,
        form=form or {},
        errors=errors or {},
        nda=nda,
        nda_text=nda.text_en if current_locale.get() == "en" else nda.text_zh,
        opens_match=need.kind == "need" or need.on_behalf_of_id is not None,
        budget_text=budget_text,
        conversations=conversations,
        **refs,
    )


async def refused_page(
    request: Request, principal: Principal, needs: NeedService, threads, need_id: uuid.UUID, error: DomainError
) -> Template:
    """A step the rules refused: the need page again, saying why."""
    need = await needs.get(principal, need_id)
    return await need_page(
        request, principal, needs, need, status_code=error.status_code, problem=problem_of(error), threads=threads
    )


class NeedsPages(Controller):
    include_in_schema = False

    async def _form_lists(self, request: Request) -> dict[str, list[str]]:
        items = list((await request.form()).multi_items())
        return {name: [v for k, v in items if k == name and v] for name in ("areas", "wanted", "invited")}

    # ----- lists ------------------------------------------------------------------------------

    @get("/needs")
    async def open_needs(self, request: Request, principal: CurrentPrincipal, needs: Needs) -> Template:
        """Open needs and challenges the caller may see: a search box (Meilisearch over open public
        needs) and filters by area, kind wanted and deadline (PostgreSQL without words, so an
        institution also sees the invited-only needs it is invited to)."""
        principal.require()
        areas = await needs.catalog.areas()
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("state", "mine")]
        query, _state, _mine, _errors = parse_need_query(params, {a.code for a in areas}, strict=False)
        unavailable = False
        if query.q:
            try:
                hits, total = await search_needs(request.app.state.search, query)
            except SearchUnavailable:
                hits, total, unavailable = [], 0, True
            items = await needs.by_ids(principal, [uuid.UUID(h["id"]) for h in hits])
        else:
            items, total = await needs.list(principal, state=NeedState.open, query=query, page=query.page, page_size=PAGE_SIZE)
        pages = max(1, math.ceil(total / (query.page_size if query.q else PAGE_SIZE)))

        def url(**changes) -> str:
            pairs = [(k, v) for k, v in params if k != "page" and k not in changes]
            pairs += [(k, str(v)) for k, v in changes.items() if v not in (None, "", 1)]
            return "/needs" + (f"?{urlencode(pairs)}" if pairs else "")

        return render(
            request,
            "needs/list.html",
            principal,
            items=items,
            total=total,
            query=query,
            page=query.page,
            pages=pages,
            url=url,
            unavailable=unavailable,
            areas=areas,
            wanted_choices=WANTED_CHOICES,
            **await need_refs(needs, items),
        )

    @get("/needs/mine")
    async def my_needs(self, request: Request, principal: CurrentPrincipal, needs: Needs) -> Template:
        """The organization's needs (a company's; the platform's challenges) in every state, with
        their responses."""
        items = await needs.own(principal)
        responses = {n.id: await needs.responses(principal, n) for n in items}
        refs = await need_refs(needs, items)
        refs["orgs"] |= await needs.accounts.public_organizations({r.institution_id for rs in responses.values() for r in rs})
        return render(
            request,
            "needs/mine.html",
            principal,
            items=items,
            responses=responses,
            response_labels=RESPONSE_STATE_LABELS,
            may_post=needs.may_post(principal),
            **refs,
        )

    # ----- the form ---------------------------------------------------------------------------

    async def _form(
        self,
        request: Request,
        principal: Principal,
        needs: NeedService,
        form: dict,
        lists: dict,
        *,
        need: Need | None = None,
        errors: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "needs/form.html",
            principal,
            status_code=status_code,
            need=need,
            form=form,
            lists=lists,
            errors=errors or {},
            areas=await needs.catalog.areas(),
            wanted_choices=WANTED_CHOICES,
            institutions=await needs.accounts.directory("institution"),
            companies=await needs.accounts.directory("company") if needs.posts_challenges(principal) else [],
            is_challenge=needs.posts_challenges(principal),
        )

    @get("/needs/new")
    async def new_need(self, request: Request, principal: CurrentPrincipal, needs: Needs) -> Template:
        needs.require_poster_role(principal)
        return await self._form(request, principal, needs, {"visibility": "public"}, {"areas": [], "wanted": [], "invited": []})

    @post("/needs")
    async def create_need(self, request: Request, principal: CurrentPrincipal, needs: Needs, data: Form) -> Response:
        needs.require_poster_role(principal)
        lists = await self._form_lists(request)
        body, errors = await need_body(needs, data, lists, NeedCreate)
        status_code = 422
        if body is not None:
            if needs.posts_challenges(principal):
                body.kind = "challenge"
            created, refusal = await attempt(needs.create(principal, body, ip=client_ip(request)))
            if refusal is not None:
                status_code, errors = refusal.status_code, field_errors(refusal)
            elif created is not None:
                flash(request, N_("Saved as a draft. Publish it when it reads right."))
                return Redirect(f"/needs/{created.id}")
        return await self._form(request, principal, needs, data, lists, errors=errors, status_code=status_code)

    @get("/needs/{need_id:uuid}/edit")
    async def edit_need(
        self, request: Request, principal: CurrentPrincipal, needs: Needs, need_id: FromPath[uuid.UUID]
    ) -> Response:
        need = await needs.get(principal, need_id)
        if not needs.is_poster(principal, need):
            raise Forbidden()
        if need.state != NeedState.draft:
            return Redirect(f"/needs/{need.id}")
        form = {
            "title": need.title,
            "problem": need.problem,
            "budget_min": wan(need.budget_min_fen),
            "budget_max": wan(need.budget_max_fen),
            "deadline": need.deadline.isoformat(),
            "visibility": need.visibility,
            "on_behalf_of": str(need.on_behalf_of_id or ""),
            "multi_centre": "on" if need.multi_centre else "",
        }
        invited = [str(i) for i in (await needs.invited([need.id])).get(need.id, [])]
        lists = {"areas": list(need.areas), "wanted": list(need.wanted), "invited": invited}
        return await self._form(request, principal, needs, form, lists, need=need)

    @post("/needs/{need_id:uuid}")
    async def update_need(
        self, request: Request, principal: CurrentPrincipal, needs: Needs, need_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        need = await needs.get(principal, need_id)
        if not needs.is_poster(principal, need):
            raise Forbidden()
        lists = await self._form_lists(request)
        body, errors = await need_body(needs, data, lists, NeedUpdate)
        status_code = 422
        if body is not None:
            _, refusal = await attempt(needs.update(principal, need.id, body, ip=client_ip(request)))
            if refusal is None:
                flash(request, N_("Saved."))
                return Redirect(f"/needs/{need.id}")
            status_code, errors = refusal.status_code, field_errors(refusal)
        return await self._form(request, principal, needs, data, lists, need=need, errors=errors, status_code=status_code)

    # ----- one need ---------------------------------------------------------------------------

    @get("/needs/{need_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, needs: Needs, threads: Threads, need_id: FromPath[uuid.UUID]
    ) -> Template:
        return await need_page(request, principal, needs, await needs.get(principal, need_id), threads=threads)

    @post("/needs/{need_id:uuid}/transitions")
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        threads: Threads,
        need_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        principal.require()
        action = data.get("action", "")
        _, refusal = await attempt(
            needs.transition(principal, need_id, action, data.get("reason", "")[:2000], ip=client_ip(request))
        )
        if refusal is not None:
            return await refused_page(request, principal, needs, threads, need_id, refusal)
        flash(request, NEED_DONE.get(action, N_("Saved.")))
        return Redirect(f"/needs/{need_id}")

    # ----- the needs a listing may answer (loaded into the listing page for its TTO) ---------------

    @get("/listings/{listing_id:uuid}/needs")
    async def listing_needs(
        self, request: Request, principal: CurrentPrincipal, needs: Needs, listing_id: FromPath[uuid.UUID]
    ) -> Template:
        needs.require_responder(principal)
        listing = await needs.catalog.get(principal, listing_id)
        recommended, unavailable = [], False
        if listing.institution_id == principal.organization_id and listing.status == Status.published:
            try:
                recommended = await recommend_needs(request.app.state.search, listing)
            except SearchUnavailable:
                unavailable = True
        template = "needs/_listing_needs.html" if request.headers.get("hx-request") else "needs/listing_needs.html"
        return render(request, template, principal, listing=listing, recommended=recommended, unavailable=unavailable)
