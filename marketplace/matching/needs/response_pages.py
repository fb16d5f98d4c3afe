"""Pages of institutions' responses to needs: the respond form's post, one response with its steps
and its conversation, and the poster's and the institution's steps on a response. Apart from the
need's own pages (pages.py), whose need page shows a refused response or step again."""

from __future__ import annotations

import uuid
from decimal import InvalidOperation

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.errors import DomainError, FieldError, NotFound
from marketplace.i18n import N_, current_locale, gettext
from marketplace.matching.needs.lifecycle import NEED_STATE_LABELS, RESPONSE_ACTION_LABELS, RESPONSE_STATE_LABELS
from marketplace.matching.needs.models import Need, NeedResponse
from marketplace.matching.needs.pages import field_errors, need_page, refused_page
from marketplace.matching.needs.schemas import ResponseCreate
from marketplace.matching.needs.services import (
    NEED_KIND_LABELS,
    Needs,
    NeedService,
)
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.services import Threads, ThreadService
from marketplace.matching.web import budget_text, parse_wan, thread_form_context
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, render, to_existing

Form = URLEncodedBody[dict[str, str]]
RESPONSE_DONE = {
    "shortlist": N_("The response is shortlisted; the institution is told."),
    "select": N_("Selected. The match request is open for negotiation."),
    "decline": N_("The institution is told that its response was not selected."),
    "withdraw": N_("Your response has been withdrawn."),
}


class NeedResponsePages(Controller):
    include_in_schema = False

    @get("/needs/{need_id:uuid}/responses/{response_id:uuid}")
    async def response(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        threads: Threads,
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
    ) -> Template:
        """One response with its steps and its conversation (for those who read it; viewing marks
        it read, the new messages still flagged on this view)."""
        need, found = await needs.get_response(principal, need_id, response_id)
        return await response_page(request, principal, needs, threads, need, found, mark_read=True)

    @post("/needs/{need_id:uuid}/responses")
    async def respond(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        threads: Threads,
        need_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        needs.require_responder(principal)
        need = await needs.get(principal, need_id)
        lists = list((await request.form()).multi_items())
        listing_ids = [v for k, v in lists if k == "listing_ids" and v]
        errors: dict[str, str] = {}
        body: dict = {
            "proposal": data.get("proposal", "").strip(),
            "listing_ids": listing_ids,
            "timeline": data.get("timeline", ""),
        }
        for name in ("budget_min", "budget_max"):
            if data.get(name, "").strip():
                try:
                    body[f"{name}_fen"] = parse_wan(data[name])
                except (ValueError, InvalidOperation):
                    errors[name] = gettext("Enter an amount in 10,000 yuan, for example 50 or 12.5.")
        created, problems = forms.try_convert(body, ResponseCreate)
        forms.by_input(problems, into=errors)
        status_code = 422
        if created is not None and not errors:
            _, refusal = await attempt(needs.respond(principal, need.id, created, ip=client_ip(request)))
            if existing := to_existing(request, refusal, lambda response_id: f"/needs/{need.id}/responses/{response_id}"):
                return existing
            if refusal is None:
                flash(request, N_("Your response has been sent to the poster."))
                return Redirect(f"/needs/{need.id}#responses")
            status_code, errors = refusal.status_code, field_errors(refusal)
        form = dict(data) | {"listing_ids": listing_ids}
        return await need_page(
            request,
            principal,
            needs,
            need,
            status_code=status_code,
            form=form,
            errors=errors,
            threads=threads,
            problem={"message": errors.get("__all__") or gettext("Please correct the marked fields."), "fields": {}},
        )

    @post("/needs/{need_id:uuid}/responses/{response_id:uuid}/transitions")
    async def move_response(
        self,
        request: Request,
        principal: CurrentPrincipal,
        needs: Needs,
        threads: Threads,
        need_id: FromPath[uuid.UUID],
        response_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        principal.require()
        action = data.get("action", "")
        nda_version = None
        if action == "select" and "nda_version" in data:
            if data.get("accept_nda") != "on":
                unticked = DomainError(
                    N_("Tick the box to accept the agreement."),
                    FieldError("accept_nda", N_("Tick the box to accept the agreement.")),
                    status_code=422,
                )
                return await refused_page(request, principal, needs, threads, need_id, unticked)
            nda_version = forms.whole_number(data["nda_version"], 9) or 0
        _, refusal = await attempt(
            needs.move_response(
                principal,
                need_id,
                response_id,
                action,
                data.get("reason", "")[:2000],
                nda_version=nda_version,
                ip=client_ip(request),
            )
        )
        if refusal is not None:
            return await refused_page(request, principal, needs, threads, need_id, refusal)
        flash(request, RESPONSE_DONE.get(action, N_("Saved.")))
        if data.get("back") == "response":
            return Redirect(f"/needs/{need_id}/responses/{response_id}")
        return Redirect(f"/needs/{need_id}#responses")


async def response_page(
    request: Request,
    principal: Principal,
    needs: NeedService,
    threads: ThreadService,
    need: Need,
    response: NeedResponse,
    *,
    status_code: int = 200,
    mark_read: bool = False,
    thread_problem: dict | None = None,
    thread_text: str = "",
) -> Template:
    """A response (as on the need page, with the viewer's steps) and its conversation."""
    try:
        thread = await threads.view(principal, SubjectKindName.need_response, response.id)
    except NotFound:
        thread = None  # the institution's inventors and the analyst see responses, not conversations
    if thread is not None and mark_read and thread.unread:
        await threads.mark_read(principal, SubjectKindName.need_response, response.id, thread.last_seq)
    orgs = await needs.accounts.public_organizations(
        {need.organization_id, response.institution_id} | ({need.on_behalf_of_id} if need.on_behalf_of_id else set())
    )
    locale = current_locale.get()
    nda = await needs.catalog.current_nda()
    poster_side = orgs[need.organization_id].display_name(locale)
    if need.on_behalf_of_id:  # a challenge for a company: the company, through the platform
        poster_side = f"{orgs[need.on_behalf_of_id].display_name(locale)} · {gettext('via %(platform)s', platform=poster_side)}"
    return render(
        request,
        "needs/response.html",
        principal,
        status_code=status_code,
        need=need,
        r=response,
        listings=await needs.catalog.listing_refs(set(response.listing_ids)),
        orgs=orgs,
        poster=needs.is_poster(principal, need),
        party=needs.reads_responses(principal, need),
        response_actions={response.id: needs.response_actions(principal, need, response)},
        response_action_labels=RESPONSE_ACTION_LABELS,
        response_labels=RESPONSE_STATE_LABELS,
        state_labels=NEED_STATE_LABELS,
        kind_labels=NEED_KIND_LABELS,
        budget_text=budget_text,
        opens_match=need.kind == "need" or need.on_behalf_of_id is not None,
        nda=nda,
        nda_text=nda.text_en if locale == "en" else nda.text_zh,
        on_response_page=True,
        thread=thread,
        thread_problem=thread_problem,
        thread_text=thread_text,
        thread_sides={"company": poster_side, "institution": orgs[response.institution_id].display_name(locale)},
        **thread_form_context(threads),
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
    """A need response's page again when its thread refused a message: the problem beside the
    message form, the text kept (the threads' pages call it for this kind of subject)."""
    needs = NeedService(threads.session)
    need, response = await needs.get_response(principal, request.path_params["need_id"], subject_id)
    return await response_page(
        request,
        principal,
        needs,
        threads,
        need,
        response,
        status_code=status_code,
        thread_problem=problem,
        thread_text=text,
    )
