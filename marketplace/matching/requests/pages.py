"""Pages of matching: the request form (with the NDA) on a listing, a company's requests, the
TTO's inbox sorted by deadline, and a request with its history and the viewer's next steps.
A form with a problem is shown again with its 4xx status, so the transaction rolls back and
nothing is written."""

from __future__ import annotations

import math
import uuid
from datetime import date
from decimal import InvalidOperation
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.catalog.models import Listing, ListingKind
from marketplace.db import china_day, utcnow
from marketplace.errors import DomainError, FieldError, NotFound
from marketplace.i18n import N_, current_locale, gettext
from marketplace.matching.requests.deadlines import is_overdue
from marketplace.matching.requests.lifecycle import ACTION_LABELS, LIFECYCLE, REMIND_WORKING_DAYS_BEFORE, STATE_LABELS
from marketplace.matching.requests.models import OPEN_STATES, MatchRequest, State
from marketplace.matching.requests.schemas import MatchRequestCreate, StateQuery
from marketplace.matching.requests.services import ENGAGEMENT_LABELS, ENGAGEMENTS_BY_KIND, Matching, MatchingService
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.services import Threads, ThreadService
from marketplace.matching.web import budget_text, parse_wan, problem_of, thread_form_context
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import (
    KEEPS_FORM,
    attempt,
    client_ip,
    control_character_refusal,
    flash,
    page_number,
    refusal_errors,
    render,
    to_existing,
)
from marketplace.working_days import working_days_late

Form = URLEncodedBody[dict[str, str]]

PAGE_SIZE = 20
# Form fields by the names the service uses.
FORM_FIELDS = {"budget_min_fen": "budget_min", "budget_max_fen": "budget_max", "listing_id": "__all__"}
ACTION_DONE = {
    "review": N_("The review has started; the company sees it."),
    "request_info": N_("Your question has been sent to the company."),
    "provide_info": N_("The information has been sent; the institution answers again within its response time."),
    "accept": N_("Accepted. The company can now read the confidential details."),
    "decline": N_("The request has been declined."),
    "start_negotiation": N_("Negotiation has started."),
    "agree": N_("Your confirmation is recorded."),
    "close_no_deal": N_("The request has been closed without a deal."),
    "withdraw": N_("The request has been withdrawn."),
    "accept_nda": N_("The current confidentiality agreement is accepted."),
}
# Steps taken elsewhere on the page than the side form: the NDA card, the conversation.
IN_PLACE_ACTIONS = ("accept_nda", "provide_info")
# Side-form steps that take no note: the reason box shows only when another step is offered.
UNNOTED_ACTIONS = ("withdraw",)
# Steps that end or refuse something are drawn as secondary buttons.
QUIET_ACTIONS = ("decline", "withdraw", "close_no_deal")


def request_form_data(form: dict[str, str], listing: Listing) -> tuple[MatchRequestCreate | None, dict[str, str]]:
    """The form as the service's input, or what does not read as one by form field; the rules
    (engagements offered, budgets in order, the NDA ticked) are the service's to say."""
    errors: dict[str, str] = {}
    body: dict = {
        "listing_id": str(listing.id),
        "purpose": form.get("purpose", ""),
        "timeline": form.get("timeline", ""),
        "message": form.get("message", ""),
        "accept_nda": form.get("accept_nda") == "on",
    }
    if form.get("engagement_type"):
        body["engagement_type"] = form["engagement_type"]
    try:
        body["nda_version"] = int(form.get("nda_version", ""))
    except ValueError:
        errors["__all__"] = gettext("The form is out of date: reload the page.")
    for name in ("budget_min", "budget_max"):
        if form.get(name, "").strip():
            try:
                body[f"{name}_fen"] = parse_wan(form[name])
            except (ValueError, InvalidOperation):
                errors[name] = gettext("Enter an amount in 10,000 yuan, for example 50 or 12.5.")
    data, problems = forms.try_convert(body, MatchRequestCreate)
    forms.by_input(problems, FORM_FIELDS, into=errors)
    return (None, errors) if errors else (data, {})


def deadline_of(request: MatchRequest, today: date) -> dict | None:
    """What the pages say about a request's response deadline."""
    if request.response_due_on is None:
        return None
    due = request.response_due_on
    return {
        "due": due,
        "overdue": is_overdue(request, today),
        "late": working_days_late(due, today),
        "soon": not is_overdue(request, today) and request.remind_on is not None and request.remind_on <= today,
    }


class MatchingPages(Controller):
    include_in_schema = False

    # ----- the request form -------------------------------------------------------------------

    async def _form(
        self,
        request: Request,
        principal: Principal,
        matching: MatchingService,
        listing: Listing,
        form: dict[str, str],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        nda = await matching.catalog.current_nda()
        owner = await matching.accounts.public_organization(listing.institution_id)
        return render(
            request,
            "matching/form.html",
            principal,
            status_code=status_code,
            listing=listing,
            owner=owner,
            nda=nda,
            nda_text=nda.text_en if current_locale.get() == "en" else nda.text_zh,
            engagements=[(value, ENGAGEMENT_LABELS[value]) for value in ENGAGEMENTS_BY_KIND[ListingKind(listing.kind)]],
            form=form,
            errors=errors or {},
            response_days=owner.response_working_days,
        )

    @get("/listings/{listing_id:uuid}/match-request")
    async def request_form(
        self, request: Request, principal: CurrentPrincipal, matching: Matching, listing_id: FromPath[uuid.UUID]
    ) -> Response:
        """The form, or the company's request on this listing if it already has one."""
        matching.require_requester(principal)
        listing = await matching.catalog.get(principal, listing_id)
        existing = await matching.current_request_on(principal, listing.id)
        if existing is not None:
            # Said, not silent: the company is taken to the request it already has.
            flash(request, N_("Your company already has a request on this listing: here it is."), "warning")
            return Redirect(f"/match-requests/{existing.id}")
        return await self._form(request, principal, matching, listing, {})

    @post("/listings/{listing_id:uuid}/match-request")
    async def create_request(
        self, request: Request, principal: CurrentPrincipal, matching: Matching, listing_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        matching.require_requester(principal)
        listing = await matching.catalog.get(principal, listing_id)
        body, errors = request_form_data(data, listing)
        status_code = 422
        if body is not None:
            created, refusal = await attempt(matching.create(principal, body, ip=client_ip(request)))
            if existing := to_existing(request, refusal, lambda request_id: f"/match-requests/{request_id}"):
                return existing
            if refusal is not None:
                status_code = refusal.status_code
                errors = refusal_errors(refusal, FORM_FIELDS)
            elif created is not None:
                flash(request, N_("Your request has been sent. The institution answers within its response time."))
                return Redirect(f"/match-requests/{created.id}")
        return await self._form(request, principal, matching, listing, data, errors, status_code)

    # ----- lists ------------------------------------------------------------------------------

    @get("/match-requests")
    async def list_requests(
        self,
        request: Request,
        principal: CurrentPrincipal,
        matching: Matching,
        threads: Threads,
        state_filter: StateQuery = None,
        overdue: FromQuery[str | None] = None,
        stalled: FromQuery[str | None] = None,
        unread: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        """The caller's requests: a company's, an institution's, an inventor's results', or all;
        `overdue=1` those past their answer deadline, `stalled=1` those open and unmoved for 30 days,
        `unread=1` those whose conversation has messages the caller has not read."""
        principal.require()
        state = state_filter if state_filter in set(State) else None
        flags = {
            name: "1" if value == "1" else None
            for name, value in (("overdue", overdue), ("stalled", stalled), ("unread", unread))
        }
        among = None
        if flags["unread"] and threads.reads_conversations(principal):
            assert principal.user_id is not None, "require() lets only a signed-in caller through"
            among = threads.unread_subjects(principal.user_id, SubjectKindName.match_request)
        page = page_number(page)
        items, total = await matching.list(
            principal,
            state=state,
            overdue=bool(flags["overdue"]),
            stalled=bool(flags["stalled"]),
            among=among,
            page=page,
            page_size=PAGE_SIZE,
        )
        pages = max(1, math.ceil(total / PAGE_SIZE))

        def url(**changes) -> str:
            query = {k: v for k, v in {"state": state, **flags, **changes}.items() if v not in (None, "", 1)}
            return "/match-requests" + (f"?{urlencode(query)}" if query else "")

        return render(
            request,
            "matching/list.html",
            principal,
            items=items,
            total=total,
            page=min(page, pages),
            pages=pages,
            state=state,
            states=list(State),
            flags=flags,
            url=url,
            unread=await unread_of(threads, principal, items),
            **await refs(matching, items),
        )

    @get("/match-requests/inbox")
    async def inbox(self, request: Request, principal: CurrentPrincipal, matching: Matching, threads: Threads) -> Template:
        """The TTO's open requests, the nearest deadline (and so the overdue) first."""
        items = await matching.inbox(principal)  # the TTO's: 403 for anyone else
        today = china_day(utcnow())
        return render(
            request,
            "matching/inbox.html",
            principal,
            items=items,
            counts=await matching.deadline_counts(principal, today),
            deadlines={item.id: deadline_of(item, today) for item in items},
            remind_days=REMIND_WORKING_DAYS_BEFORE,
            unread=await unread_of(threads, principal, items),
            **await refs(matching, items),
        )

    # ----- one request ------------------------------------------------------------------------

    @get("/match-requests/{request_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, matching: Matching, threads: Threads, request_id: FromPath[uuid.UUID]
    ) -> Template:
        found = await matching.get(principal, request_id)
        return await detail_page(request, principal, matching, threads, found, mark_read=True)

    @post("/match-requests/{request_id:uuid}/transitions", opt={KEEPS_FORM: True})
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        matching: Matching,
        threads: Threads,
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        principal.require()
        action = data.get("action", "")
        reason = data.get("reason", "").strip()[:2000]
        nda_version = None
        refusal: DomainError | None = await control_character_refusal(request)
        if refusal is not None:
            reason = forms.without_control_characters(reason)
        elif action == "accept_nda" and data.get("accept_nda") != "on":
            refusal = DomainError(
                N_("Tick the box to accept the agreement."),
                FieldError("accept_nda", N_("Tick the box to accept the agreement.")),
                status_code=422,
            )
        else:
            if action == "accept_nda":
                nda_version = forms.whole_number(data.get("nda_version", ""), 9) or 0
            _, refusal = await attempt(
                matching.transition(principal, request_id, action, reason, nda_version=nda_version, ip=client_ip(request))
            )
        if refusal is not None:
            found = await matching.get(principal, request_id)
            return await detail_page(
                request,
                principal,
                matching,
                threads,
                found,
                status_code=refusal.status_code,
                problem=problem_of(refusal),
                reason=reason,
            )
        flash(request, ACTION_DONE.get(action, N_("Saved.")))
        return Redirect(f"/match-requests/{request_id}")


async def unread_of(threads: ThreadService, principal: Principal, items: list[MatchRequest]) -> dict:
    """Unread conversation messages per request, for those who read the conversations."""
    if not threads.reads_conversations(principal):
        return {}
    assert principal.user_id is not None, "the requests listed were read for a signed-in caller"
    return await threads.unread_counts(principal.user_id, SubjectKindName.match_request, [item.id for item in items])


async def refs(matching: MatchingService, items: list[MatchRequest]) -> dict:
    listings = await matching.catalog.listing_refs({item.listing_id for item in items})
    orgs = await matching.accounts.public_organizations(
        {item.institution_id for item in items} | {item.company_id for item in items}
    )
    return {
        "listings": listings,
        "orgs": orgs,
        "state_labels": STATE_LABELS,
        "engagement_labels": ENGAGEMENT_LABELS,
        "open_states": OPEN_STATES,
        "title_of": lambda listing: listing.title_en if current_locale.get() == "en" and listing.title_en else listing.title_zh,
    }


async def detail_page(
    request: Request,
    principal: Principal,
    matching: MatchingService,
    threads: ThreadService,
    match: MatchRequest,
    status_code: int = 200,
    problem: dict | None = None,
    reason: str = "",
    *,
    mark_read: bool = False,
    thread_problem: dict | None = None,
    thread_text: str = "",
) -> Template:
    """A request with its history, the viewer's next steps and its conversation (for those who
    read it; viewing marks it read, the new messages still flagged on this view)."""
    found = await refs(matching, [match])
    listing = found["listings"][match.listing_id]
    nda = await matching.catalog.current_nda()
    history = await matching.history(match)
    actors = await matching.accounts.user_names({e.actor_user_id for e in history if e.actor_user_id})
    side = matching.side(principal, match)
    accepted_nda = await matching.catalog.nda_version(match.nda_version)
    actions = matching.allowed_actions(principal, match, nda.version)
    # The NDA has its own card; the company answers a question in the conversation (its message
    # takes the step), so the side form holds the rest.
    side_steps = [a for a in actions if a not in IN_PLACE_ACTIONS]
    try:
        thread = await threads.view(principal, SubjectKindName.match_request, match.id)
    except NotFound:
        thread = None  # the platform analyst reads requests, not conversations
    if thread is not None and mark_read and thread.unread:
        await threads.mark_read(principal, SubjectKindName.match_request, match.id, thread.last_seq)
    return render(
        request,
        "matching/detail.html",
        principal,
        status_code=status_code,
        match=match,
        listing=listing,
        institution=found["orgs"][match.institution_id],
        company=found["orgs"][match.company_id],
        side=side,
        actions=actions,
        side_steps=side_steps,
        noted_steps=[a for a in side_steps if a not in UNNOTED_ACTIONS],
        action_labels=ACTION_LABELS,
        reason_required=LIFECYCLE.reason_required(),
        quiet_actions=QUIET_ACTIONS,
        deadline=deadline_of(match, china_day(utcnow())),
        budget=budget_text(match),
        nda=nda,
        nda_text=nda.text_en if current_locale.get() == "en" else nda.text_zh,
        accepted_nda=accepted_nda,
        sees_confidential=side is not None and await matching.catalog.sees_confidential(principal, listing),
        history=history,
        actors=actors,
        problem=problem,
        reason=reason,
        thread=thread,
        thread_sides={
            "company": found["orgs"][match.company_id].display_name(current_locale.get()),
            "institution": found["orgs"][match.institution_id].display_name(current_locale.get()),
        },
        thread_problem=thread_problem,
        thread_text=thread_text,
        **thread_form_context(threads),
        **{k: v for k, v in found.items() if k not in ("listings", "orgs")},
    )


async def thread_problem_page(
    request: Request,
    principal: Principal,
    threads: ThreadService,
    subject_id: uuid.UUID,
    status_code: int,
    problem: dict,
    text: str,
) -> Template:
    """A match request's page again when its thread refused a message: the problem beside the
    message form, the text kept (the threads' pages call it for this kind of subject)."""
    matching = MatchingService(threads.session, threads.settings)
    found = await matching.get(principal, subject_id)
    return await detail_page(
        request, principal, matching, threads, found, status_code=status_code, thread_problem=problem, thread_text=text
    )
