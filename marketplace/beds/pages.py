"""Pages of research wards and bed allocations: the wards (with the 10% rule for the TTO and a
form to add one), a ward's 12-month calendar as a heat map where a company picks free dates and
the TTO answers the requests, the request form, and the allocations with their steps. A form
the service refused is shown again with its status, so the transaction rolls back."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms, states
from marketplace.beds.calendar import calendar_grid
from marketplace.beds.lifecycle import ALLOCATION
from marketplace.beds.models import AllocationState
from marketplace.beds.schemas import PHASES, AllocationIn, TransitionIn, WardIn
from marketplace.beds.services import Beds, BedsService
from marketplace.errors import DomainError, FieldError, InvalidInput
from marketplace.i18n import N_
from marketplace.ledger.models import CNY
from marketplace.ledger.page_forms import amount_text, parse_yuan
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, field_errors, flash, page_number, render

Form = URLEncodedBody[dict[str, str]]
PAGE_SIZE = 30
WARD_FIELDS = ("listing_id", "name", "specialty", "research_beds", "opens_on", "closes_on")
REQUEST_FIELDS = ("starts_on", "ends_on", "bed_count", "trial_title", "phase", "sponsor", "pi_name", "protocol_summary")

ACTION_DONE = {
    "approve": N_("Approved: the beds are held on the ward's calendar."),
    "waitlist": N_("The request is on the waiting list; it is approved when beds free up."),
    "decline": N_("The request is declined."),
    "start": N_("The beds are in use."),
    "complete": N_("The allocation is completed; its beds are free again."),
    "cancel": N_("The allocation is cancelled."),
}

LABELS: dict[str, Any] = {
    "state_labels": ALLOCATION.state_labels,
    "action_labels": ALLOCATION.action_labels,
    "phases": PHASES,
    "money": lambda fen: amount_text(fen, CNY),
}


def _filled(data: dict, names: tuple[str, ...]) -> dict:
    """The form's non-blank fields (a blank optional date is no date)."""
    return {name: data[name].strip() for name in names if data.get(name, "").strip()}


def _refusal_errors(refusal: DomainError) -> dict[str, str]:
    errors = field_errors(refusal)
    if refusal.status_code == 409:  # the capacity's refusal names the day: show it above the form
        errors["__all__"] = field_errors(DomainError(refusal.message, **refusal.params))["__all__"]
    return errors


class WardPages(Controller):
    include_in_schema = False

    async def _list(
        self,
        request: Request,
        principal: Principal,
        beds: BedsService,
        *,
        form: dict | None = None,
        errors: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "beds/wards.html",
            principal,
            status_code=status_code,
            **await beds.wards_overview(principal),
            form=form or {},
            errors=errors or {},
        )

    @get("/wards")
    async def list_wards(self, request: Request, principal: CurrentPrincipal, beds: Beds) -> Template:
        """Research wards; the TTO's own with the 10% rule and a form to add one."""
        return await self._list(request, principal, beds)

    @post("/wards")
    async def create_ward(self, request: Request, principal: CurrentPrincipal, beds: Beds, data: Form) -> Response:
        body, problems = forms.try_convert(_filled(data, WARD_FIELDS), WardIn, strict=False)
        refusal: DomainError | None = InvalidInput(*problems) if body is None else None
        if body is not None:
            created, refusal = await attempt(beds.create_ward(principal, body, ip=client_ip(request)))
            if created is not None:
                flash(request, N_("The ward is added; companies can book its beds."))
                return Redirect(f"/wards/{created.id}")
        assert refusal is not None
        return await self._list(
            request, principal, beds, form=data, errors=field_errors(refusal), status_code=refusal.status_code
        )

    @post("/wards/research-beds/acknowledgement")
    async def acknowledge(self, request: Request, principal: CurrentPrincipal, beds: Beds, data: Form) -> Response:
        """The TTO manager acknowledges research beds over 10% of the approved beds, with a reason."""
        _, refusal = await attempt(beds.acknowledge_capacity(principal, data.get("reason", ""), ip=client_ip(request)))
        if refusal is not None:
            return await self._list(
                request, principal, beds, form=data, errors=field_errors(refusal), status_code=refusal.status_code
            )
        flash(request, N_("The acknowledgement is recorded."))
        return Redirect("/wards")

    @get("/wards/{ward_id:uuid}")
    async def calendar(self, request: Request, principal: CurrentPrincipal, beds: Beds, ward_id: FromPath[uuid.UUID]) -> Template:
        """The next 12 months as a heat map; the requests on the ward the caller may see."""
        ward = await beds.get_ward(principal, ward_id)
        days = await beds.ward_days(ward)
        requests, _ = await beds.list_allocations(principal, ward_id=ward.id, limit=200)
        return render(
            request,
            "beds/calendar.html",
            principal,
            ward=ward,
            months=calendar_grid(days),
            requests=requests,
            may_request=beds.may_request_beds(principal),
            actions_of=lambda allocation: states.actions(ALLOCATION, principal, allocation),
            **LABELS,
        )

    async def _request_form(
        self,
        request: Request,
        principal: Principal,
        beds: BedsService,
        ward_id: uuid.UUID,
        form: dict,
        *,
        errors: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        ward = await beds.ward_to_request(principal, ward_id)
        return render(
            request,
            "beds/request_form.html",
            principal,
            status_code=status_code,
            ward=ward,
            form=form,
            errors=errors or {},
            **LABELS,
        )

    @get("/wards/{ward_id:uuid}/request")
    async def new_request(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        ward_id: FromPath[uuid.UUID],
        starts_on: FromQuery[str | None] = None,
        ends_on: FromQuery[str | None] = None,
        match_request_id: FromQuery[str | None] = None,
    ) -> Template:
        """A company's request, prefilled with the dates picked on the calendar."""
        form = {"starts_on": starts_on or "", "ends_on": ends_on or starts_on or "", "bed_count": "1", "phase": "I"}
        if match_request_id:
            form["match_request_id"] = match_request_id
        return await self._request_form(request, principal, beds, ward_id, form)

    @post("/wards/{ward_id:uuid}/request")
    async def create_request(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, ward_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        await beds.ward_to_request(principal, ward_id)
        body_data: dict[str, Any] = {"ward_id": str(ward_id), **_filled(data, (*REQUEST_FIELDS, "match_request_id"))}
        problems: list[FieldError] = []
        if data.get("fee", "").strip():
            try:
                body_data["fee_fen"] = parse_yuan(data["fee"])
            except ValueError:
                problems.append(FieldError("fee", N_("Enter an amount in yuan, e.g. 12,000.00.")))
        body, convert_problems = forms.try_convert(body_data, AllocationIn, strict=False)
        problems += convert_problems
        refusal: DomainError | None = InvalidInput(*problems) if problems or body is None else None
        if refusal is None and body is not None:
            created, refusal = await attempt(beds.request_allocation(principal, body, ip=client_ip(request)))
            if created is not None:
                flash(request, N_("Your request is sent; the institution's TTO answers it."))
                return Redirect(f"/bed-allocations/{created.id}")
        assert refusal is not None
        errors = field_errors(refusal)
        if "fee_fen" in errors:
            errors["fee"] = errors.pop("fee_fen")
        return await self._request_form(request, principal, beds, ward_id, data, errors=errors, status_code=refusal.status_code)


class AllocationPages(Controller):
    include_in_schema = False

    @get("/bed-allocations")
    async def list_allocations(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        """The TTO's requests to answer; a company's own requests."""
        state = state_filter if state_filter in set(AllocationState) else None
        page = page_number(page)
        found = await beds.allocation_page(principal, state=state, page=page, page_size=PAGE_SIZE)
        wards = {ward.id: ward for ward in await beds.list_wards(principal)}
        return render(
            request,
            "beds/allocations.html",
            principal,
            items=found.items,
            total=found.total,
            page=page,
            pages=max(1, -(-found.total // PAGE_SIZE)),
            state=state,
            states=list(AllocationState),
            wards=wards,
            **LABELS,
        )

    async def _detail(
        self,
        request: Request,
        principal: Principal,
        beds: BedsService,
        allocation_id: uuid.UUID,
        *,
        errors: dict | None = None,
        form: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        allocation = await beds.get_allocation(principal, allocation_id)
        history = await beds.allocation_history(allocation)
        return render(
            request,
            "beds/allocation.html",
            principal,
            status_code=status_code,
            a=beds.allocation_out(principal, allocation),
            ward=await beds.get_ward(principal, allocation.ward_id),
            history=history,
            actors=await beds.accounts.user_names({e.actor_user_id for e in history if e.actor_user_id}),
            errors=errors or {},
            form=form or {},
            **LABELS,
        )

    @get("/bed-allocations/{allocation_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, allocation_id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._detail(request, principal, beds, allocation_id)

    @post("/bed-allocations/{allocation_id:uuid}/transitions")
    async def transition(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, allocation_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        step, problems = forms.try_convert(
            {"action": data.get("action", ""), "reason": data.get("reason", "").strip()}, TransitionIn, strict=False
        )
        refusal: DomainError | None = InvalidInput(*problems) if step is None else None
        if step is not None:
            _, refusal = await attempt(beds.transition_allocation(principal, allocation_id, step, ip=client_ip(request)))
        if refusal is not None:
            return await self._detail(
                request,
                principal,
                beds,
                allocation_id,
                errors=_refusal_errors(refusal),
                form=data,
                status_code=refusal.status_code,
            )
        flash(request, ACTION_DONE.get(data.get("action", ""), N_("Saved.")))
        return Redirect(f"/bed-allocations/{allocation_id}")
