"""Pages of open licences (开放许可): the public list of declarations, the TTO's declaration form on
a result, the withdrawal, and the one-click take of a company's administrator. The rules are the
licensing service's; a form with a problem is shown again with its 4xx status, so the request's
transaction rolls back and nothing is written."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.catalog.models import Listing
from marketplace.errors import DomainError
from marketplace.i18n import N_, gettext
from marketplace.licensing.models import PaymentMode
from marketplace.licensing.open_licence_schemas import OpenLicenceIn
from marketplace.licensing.services import Licensing, LicensingService
from marketplace.matching.web import parse_wan, problem_of
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, page_number, refusal_errors, render, to_existing

Form = URLEncodedBody[dict[str, str]]

PAGE_SIZE = 20
# Form fields by the names the service uses.
FORM_FIELDS = {"upfront_fen": "upfront", "royalty_bp": "royalty", "listing_id": "__all__"}
DEFAULTS = {"territory": "中国大陆", "term_months": "36", "payment_mode": PaymentMode.lump_sum}


def parse_percent(value: str) -> int:
    """A rate in per cent (up to two decimals) as basis points; ValueError if it is not one."""
    rate = Decimal(value.replace("%", "").strip())
    exponent = rate.as_tuple().exponent
    if not rate.is_finite() or rate < 0 or rate > 100 or not isinstance(exponent, int) or exponent < -2:
        raise ValueError(value)
    return int(rate * 100)


def declaration_form_data(form: dict[str, str], listing: Listing) -> tuple[OpenLicenceIn | None, dict[str, str]]:
    """The form as the service's input, or the problems by field."""
    errors: dict[str, str] = {}
    body: dict = {
        "listing_id": str(listing.id),
        "fee_standard": form.get("fee_standard", ""),
        "territory": form.get("territory", ""),
        "payment_mode": form.get("payment_mode", ""),
    }
    try:
        body["term_months"] = int(form.get("term_months", "").strip())
    except ValueError:
        errors["term_months"] = gettext("A whole number of months.")
    if form.get("upfront", "").strip():
        try:
            body["upfront_fen"] = parse_wan(form["upfront"])
        except (ValueError, InvalidOperation):
            errors["upfront"] = gettext("Enter an amount in 10,000 yuan, for example 50 or 12.5.")
    if form.get("royalty", "").strip():
        try:
            body["royalty_bp"] = parse_percent(form["royalty"])
        except (ValueError, InvalidOperation):
            errors["royalty"] = gettext("A percentage from 0 to 100, for example 3 or 2.5.")
    data, problems = forms.try_convert(body, OpenLicenceIn)
    forms.by_input(problems, FORM_FIELDS, into=errors)
    return (None, errors) if errors else (data, {})


class OpenLicencePages(Controller):
    include_in_schema = False

    @get("/open-licences")
    async def list_page(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        listing_id: FromQuery[uuid.UUID | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        """Every active open licence: anyone may read the terms; a company's administrator takes one here."""
        return await self._list(request, principal, licensing, listing_id=listing_id, page=page_number(page))

    async def _list(
        self,
        request: Request,
        principal: Principal,
        licensing: LicensingService,
        *,
        listing_id: uuid.UUID | None = None,
        page: int = 1,
        refusal: DomainError | None = None,
    ) -> Template:
        items, total = await licensing.list_open_licences(
            principal, listing_id=listing_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        return render(
            request,
            "licensing/open_licences.html",
            principal,
            status_code=refusal.status_code if refusal else 200,
            problem=problem_of(refusal) if refusal else None,
            items=await licensing.open_licences_out(items),
            declarations={item.id: item for item in items},
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            may_take=licensing.may_take,
            may_withdraw=licensing.may_withdraw,
        )

    async def _form(
        self,
        request: Request,
        principal: Principal,
        licensing: LicensingService,
        listing: Listing,
        form: dict[str, str],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "licensing/open_licence_form.html",
            principal,
            status_code=status_code,
            listing=listing,
            form=form,
            errors=errors or {},
            modes=list(PaymentMode),
        )

    @get("/listings/{listing_id:uuid}/open-licence")
    async def declaration_form(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, listing_id: FromPath[uuid.UUID]
    ) -> Template:
        listing = await licensing.listing_to_declare(principal, listing_id)
        return await self._form(request, principal, licensing, listing, dict(DEFAULTS))

    @post("/listings/{listing_id:uuid}/open-licence")
    async def declare(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, listing_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        listing = await licensing.listing_to_declare(principal, listing_id)
        body, errors = declaration_form_data(data, listing)
        status_code = 422
        if body is not None:
            created, refusal = await attempt(licensing.declare(principal, body, ip=client_ip(request)))
            if existing := to_existing(request, refusal, lambda _existing: f"/listings/{listing_id}"):
                return existing
            if refusal is not None:
                status_code = refusal.status_code
                errors = refusal_errors(refusal, FORM_FIELDS)
            elif created is not None:
                flash(request, N_("The open licence is declared: anyone may now take it on these terms."))
                return Redirect(f"/listings/{listing_id}")
        return await self._form(request, principal, licensing, listing, data, errors, status_code)

    @post("/open-licences/{open_licence_id:uuid}/withdraw")
    async def withdraw(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, open_licence_id: FromPath[uuid.UUID]
    ) -> Response:
        declaration, refusal = await attempt(licensing.withdraw_open_licence(principal, open_licence_id, ip=client_ip(request)))
        if declaration is None:  # refused: shown with its status, so nothing is written
            return await self._list(request, principal, licensing, refusal=refusal)
        flash(request, N_("The open licence is withdrawn for new takers; the licences already taken stand."))
        return Redirect(f"/listings/{declaration.listing_id}")

    @post("/open-licences/{open_licence_id:uuid}/take")
    async def take(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, open_licence_id: FromPath[uuid.UUID]
    ) -> Response:
        agreement, refusal = await attempt(licensing.take_open_licence(principal, open_licence_id, ip=client_ip(request)))
        if existing := to_existing(request, refusal, lambda agreement_id: f"/agreements/{agreement_id}"):
            return existing
        if agreement is None:  # refused: shown with its status, so nothing is written
            return await self._list(request, principal, licensing, refusal=refusal)
        flash(request, N_("Your company now holds a signed open licence, in force from today."))
        return Redirect(f"/agreements/{agreement.id}")
