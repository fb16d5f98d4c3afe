"""Pages of licensing: the TTO's agreements by next due day (a company administrator's own
licences, on the same page), the draft form (from an agreed match or a deal made elsewhere) and
its edit, and an agreement with its terms, schedule, document, timeline and the viewer's steps.
A form the service refused is shown again with its status, so the transaction rolls back."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.db import china_today
from marketplace.errors import DomainError, InvalidInput
from marketplace.i18n import N_, current_locale
from marketplace.ledger.page_forms import amount_text
from marketplace.licensing import page_forms as pf
from marketplace.licensing.downloads import document_response
from marketplace.licensing.lifecycle import ACTION_LABELS, STATE_LABELS
from marketplace.licensing.models import CNY, Guarantor, Kind, PaymentMode, State
from marketplace.licensing.schemas import TransitionIn
from marketplace.licensing.services import Licensing, LicensingService
from marketplace.licensing.views import GUARANTOR_LABELS, KIND_LABELS, PAYMENT_MODE_LABELS, TRIGGER_LABELS
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, page_number, render, to_existing

Form = URLEncodedBody[dict[str, str]]
# The draft form has checkboxes (results, payment modes): repeated fields.
ListForm = URLEncodedBody[dict[str, str | list[str]]]
PAGE_SIZE = 30

ACTION_DONE = {
    "approve": N_("Approved: the agreement's document is generated and waits for both signatures."),
    "revise": N_("The agreement is a draft again."),
    "sign": N_("Your signature is recorded."),
    "convert": N_("The licence is converted: choose how to pay."),
    "choose_payment_mode": N_("The payment mode is chosen and the schedule is set."),
    "exit": N_("You have exited the licence; the rights return to the institution."),
    "terminate": N_("The agreement is terminated."),
    "cancel": N_("The agreement is cancelled."),
}
QUIET_ACTIONS = ("revise", "exit", "terminate", "cancel")

LABELS: dict[str, Any] = {
    "kind_labels": KIND_LABELS,
    "state_labels": STATE_LABELS,
    "mode_labels": PAYMENT_MODE_LABELS,
    "guarantor_labels": GUARANTOR_LABELS,
    "trigger_labels": TRIGGER_LABELS,
    "action_labels": ACTION_LABELS,
    "kinds": [kind for kind in Kind if kind != Kind.open_licence],
    "modes": list(PaymentMode),
    "guarantors": list(Guarantor),
    "money": lambda fen: "" if fen is None else amount_text(fen, CNY),
    "percent": pf.percent_text,
}


class AgreementPages(Controller):
    include_in_schema = False

    # ----- the list ---------------------------------------------------------------------------

    @get("/agreements")
    async def list_agreements(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        kind: FromQuery[str | None] = None,
        due: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        """The TTO's agreements by next due day; a company administrator's licences; platform roles
        all. `due=1`: those with an unpaid item late or due within 30 days."""
        licensing.require_reader(principal)
        state = state_filter if state_filter in set(State) else None
        kind = kind if kind in set(Kind) else None
        due = "1" if due == "1" else None
        page = page_number(page)
        found = await licensing.agreement_page(principal, state=state, kind=kind, due=bool(due), page=page, page_size=PAGE_SIZE)
        pages = max(1, math.ceil(found.total / PAGE_SIZE))

        def url(**changes) -> str:
            query = {k: v for k, v in {"state": state, "kind": kind, "due": due, **changes}.items() if v not in (None, "", 1)}
            return "/agreements" + (f"?{urlencode(query)}" if query else "")

        return render(
            request,
            "licensing/list.html",
            principal,
            items=found.items,
            total=found.total,
            page=min(page, pages),
            pages=pages,
            state=state,
            kind=kind,
            due=due,
            states=list(State),
            url=url,
            drafts=licensing.drafts(principal),
            **LABELS,
        )

    # ----- the draft form ---------------------------------------------------------------------

    async def _form(
        self,
        request: Request,
        principal: Principal,
        licensing: LicensingService,
        form: dict,
        *,
        match_request_id: uuid.UUID | None = None,
        agreement=None,
        errors: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        choices = await licensing.draft_choices(principal, match_request_id)
        return render(
            request,
            "licensing/form.html",
            principal,
            status_code=status_code,
            form=form,
            lists={"result_ids": pf.as_list(form.get("result_ids")), "payment_modes": pf.as_list(form.get("payment_modes"))},
            errors=errors or {},
            choices=choices,
            agreement=agreement,
            milestone_rows=range(pf.MILESTONE_ROWS),
            instalment_rows=range(pf.INSTALMENT_ROWS),
            title_of=lambda listing: listing.title_en if current_locale.get() == "en" and listing.title_en else listing.title_zh,
            **LABELS,
        )

    @get("/agreements/new")
    async def new_agreement(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        match_request_id: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        """The TTO's draft: from an agreed match request (its company and result), or for a deal made elsewhere."""
        form = pf.blank_form(china_today())
        if match_request_id is not None:
            form["match_request_id"] = str(match_request_id)
        return await self._form(request, principal, licensing, form, match_request_id=match_request_id)

    @post("/agreements")
    async def create_agreement(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, data: ListForm
    ) -> Response:
        licensing.require_drafter(principal)
        body, errors, rows = pf.create_input(data)
        status_code = 422
        if body is not None:
            created, refusal = await attempt(licensing.create(principal, body, ip=client_ip(request)))
            if existing := to_existing(request, refusal, lambda agreement_id: f"/agreements/{agreement_id}"):
                return existing
            if refusal is not None:
                status_code, errors = refusal.status_code, pf.refusal_errors(refusal, rows)
            elif created is not None:
                flash(request, N_("The draft is saved. The TTO manager approves it; then both sides sign."))
                return Redirect(f"/agreements/{created.id}")
        match_id = pf.first(data.get("match_request_id"))
        match_request_id = uuid.UUID(match_id) if _is_uuid(match_id) else None
        return await self._form(
            request, principal, licensing, data, match_request_id=match_request_id, errors=errors, status_code=status_code
        )

    @get("/agreements/{agreement_id:uuid}/edit")
    async def edit_agreement(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]
    ) -> Template:
        agreement = await licensing.draft_to_edit(principal, agreement_id)
        schedule = (await licensing.obligations_of({agreement.id}))[agreement.id]
        return await self._form(request, principal, licensing, pf.form_of(agreement, schedule), agreement=agreement)

    @post("/agreements/{agreement_id:uuid}")
    async def update_agreement(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        agreement_id: FromPath[uuid.UUID],
        data: ListForm,
    ) -> Response:
        agreement = await licensing.draft_to_edit(principal, agreement_id)
        body, errors, rows = pf.terms_input(data)
        status_code = 422
        if body is not None:
            _, refusal = await attempt(licensing.update(principal, agreement_id, body, ip=client_ip(request)))
            if refusal is None:
                flash(request, N_("The draft is saved."))
                return Redirect(f"/agreements/{agreement_id}")
            status_code, errors = refusal.status_code, pf.refusal_errors(refusal, rows)
        form = {**data, "kind": agreement.kind}
        return await self._form(request, principal, licensing, form, agreement=agreement, errors=errors, status_code=status_code)

    # ----- one agreement ----------------------------------------------------------------------

    @get("/agreements/{agreement_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]
    ) -> Template:
        return await detail_page(request, principal, licensing, agreement_id)

    @get("/agreements/{agreement_id:uuid}/document")
    async def document(self, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]) -> Response:
        """The current document as a PDF download."""
        agreement, found = await licensing.document_of(principal, agreement_id)
        return document_response(agreement.title, found.content, found.sha256)

    @post("/agreements/{agreement_id:uuid}/transitions")
    async def transition(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        body: dict = {"action": data.get("action", ""), "reason": data.get("reason", "").strip()}
        for name in ("document_sha256", "payment_mode"):
            if data.get(name):
                body[name] = data[name]
        if data.get("instalments", "").strip():
            body["instalments"] = data["instalments"].strip()
        step, problems = forms.try_convert(body, TransitionIn, strict=False)
        refusal: DomainError | None
        if step is not None:
            _, refusal = await attempt(licensing.transition(principal, agreement_id, step, ip=client_ip(request)))
        else:
            refusal = InvalidInput(*problems)
        if refusal is not None:
            return await detail_page(
                request,
                principal,
                licensing,
                agreement_id,
                status_code=refusal.status_code,
                errors=pf.refusal_errors(refusal),
                form=data,
            )
        flash(request, ACTION_DONE.get(body["action"], N_("Saved.")))
        return Redirect(f"/agreements/{agreement_id}")

    # ----- money: payments received, net sales, milestones --------------------------------------

    @post("/agreements/{agreement_id:uuid}/payments")
    async def record_payment(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        """The TTO records money received for a due item; the form's hidden key makes a second
        submit of the same form answer the first payment."""
        body, errors = pf.payment_input(data)
        status_code = 422
        if body is not None:
            step = licensing.record_payment(
                principal, agreement_id, body, data.get("idempotency_key") or None, ip=client_ip(request)
            )
            _, refusal = await attempt(step)
            if refusal is None:
                flash(request, N_("The payment is recorded; it is income in the ledger, split over the results."))
                return Redirect(f"/agreements/{agreement_id}#money")
            status_code, errors = refusal.status_code, pf.refusal_errors(refusal, rename=pf.PAYMENT_FIELDS)
            if status_code == 409:  # the key was used for another body: this form needs its own
                data = {**data, "idempotency_key": pf.new_key()}
        return await detail_page(
            request, principal, licensing, agreement_id, status_code=status_code, errors=errors, form=data, money_form="payment"
        )

    @post("/agreements/{agreement_id:uuid}/royalty-reports")
    async def report_royalties(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        """Net sales for a period, from the licensee's administrator or the TTO."""
        body, errors = pf.royalty_input(data)
        status_code = 422
        if body is not None:
            _, refusal = await attempt(licensing.report_royalties(principal, agreement_id, body, ip=client_ip(request)))
            if refusal is None:
                flash(request, N_("The net sales are reported; any royalty due is in the schedule."))
                return Redirect(f"/agreements/{agreement_id}#money")
            status_code, errors = refusal.status_code, pf.refusal_errors(refusal, rename=pf.ROYALTY_FIELDS)
        return await detail_page(
            request, principal, licensing, agreement_id, status_code=status_code, errors=errors, form=data, money_form="royalty"
        )

    @post("/agreements/{agreement_id:uuid}/milestones")
    async def reach_milestone(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        """A milestone reached: its item falls due, or a pay-later licence converts."""
        body, errors = pf.milestone_input(data)
        status_code = 422
        if body is not None:
            _, refusal = await attempt(licensing.reach_milestone(principal, agreement_id, body, ip=client_ip(request)))
            if refusal is None:
                flash(request, N_("The milestone is recorded."))
                return Redirect(f"/agreements/{agreement_id}#money")
            status_code, errors = refusal.status_code, pf.refusal_errors(refusal, rename=pf.MILESTONE_FIELDS)
        return await detail_page(
            request, principal, licensing, agreement_id, status_code=status_code, errors=errors, form=data, money_form="milestone"
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def detail_page(
    request: Request,
    principal: Principal,
    licensing: LicensingService,
    agreement_id: uuid.UUID,
    *,
    status_code: int = 200,
    errors: dict | None = None,
    form: dict | None = None,
    money_form: str | None = None,
) -> Template:
    """An agreement with its terms, schedule, document, timeline and the viewer's steps; the
    payment, royalty and milestone forms for the sides that use them."""
    detail = await licensing.agreement_detail(principal, agreement_id)
    return render(
        request,
        "licensing/detail.html",
        principal,
        status_code=status_code,
        a=detail.view,
        side=detail.side,
        history=detail.history,
        actors=detail.actors,
        document=detail.document,
        reason_required=detail.reason_required,
        money_steps=detail.money_steps,
        payments=detail.payments,
        reports=detail.reports,
        money_form=money_form,
        quiet_actions=QUIET_ACTIONS,
        errors=errors or {},
        form=form or {},
        today=china_today().isoformat(),
        payment_key=pf.new_key(),
        **LABELS,
    )
