"""Pages of the catalogue's listings: browse, detail with its lifecycle actions, and the form of each
kind and type. The TTO's review queue and spreadsheets are tto_pages.py, the organizations' profiles
profile_pages.py. The rules are the catalogue service's: these handlers turn forms into its inputs
and its errors into marked fields, and a form with a problem is shown again with status 422, so the
request's transaction rolls back and nothing is written."""

from __future__ import annotations

import math
import uuid
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace.accounts.services import AccountService
from marketplace.catalog.form_fields import (
    FIELD_LABELS,
    SELECT_CHOICES,
    choice_label,
    detail_fields,
    error_summary,
    share_percent,
)
from marketplace.catalog.forms import (
    MIN_INVENTOR_ROWS,
    MIN_IP_ROWS,
    FormData,
    ParsedForm,
    add_service_errors,
    listing_form,
    new_form,
    parse_listing_form,
    to_struct,
    valid_type,
)
from marketplace.catalog.lifecycle import STALE_AFTER, freshness
from marketplace.catalog.models import Listing, ListingKind, ResourceType, ResultType, Status
from marketplace.catalog.page_views import count_cached_visit
from marketplace.catalog.panels import listing_panels
from marketplace.catalog.schemas import ListingCreate, ListingUpdate
from marketplace.catalog.services import Catalog, CatalogService
from marketplace.catalog.shortlist import NOTE_MAX, ShortlistService
from marketplace.db import utcnow
from marketplace.errors import DomainError, FieldError, Forbidden, InvalidInput
from marketplace.i18n import N_, gettext
from marketplace.page_cache import cache_page
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import area_names, attempt, client_ip, flash, page_number, render, safe_next

ListingForm = URLEncodedBody[dict[str, str | list[str]]]
Form = URLEncodedBody[dict[str, str]]

PAGE_SIZE = 20

ACTION_LABELS = {
    "submit": N_("Submit for review"),
    "return": N_("Return to draft"),
    "publish": N_("Publish"),
    "withdraw": N_("Withdraw"),
    "republish": N_("Republish"),
    "archive": N_("Archive"),
    "restore": N_("Restore as draft"),
    "confirm": N_("Confirm as current"),
}
ACTION_DONE = {
    "submit": N_("Submitted for review."),
    "return": N_("Returned to draft."),
    "publish": N_("Published."),
    "withdraw": N_("Withdrawn from the catalogue."),
    "republish": N_("Published again."),
    "archive": N_("Archived."),
    "restore": N_("Restored as a draft."),
    "confirm": N_("Confirmed as current."),
}
# Actions that take a listing out of view are drawn as secondary buttons.
QUIET_ACTIONS = ("return", "withdraw", "archive")


def problem_of(error: DomainError) -> dict:
    """A refused action, for the page: the message and each named field with its label."""
    params = {k: gettext(v) if isinstance(v, str) else v for k, v in error.params.items()}
    return {
        "message": gettext(error.message, **params),
        "fields": [
            (gettext(FIELD_LABELS.get(e.field, e.field)), gettext(e.message, **e.params))
            for e in error.errors
            if e.field != "action"
        ],
    }


def detail_rows(listing: Listing) -> list[tuple[str, str]]:
    """A resource's type-specific fields as (label, value) lines for people."""
    rows = []
    for f in detail_fields(listing.type):
        value = (listing.details or {}).get(f.name)
        if value is None or value == []:
            shown = "—"
        elif f.widget == "checkbox":
            shown = gettext("Yes") if value else gettext("No")
        elif f.widget in ("choices", "list"):
            shown = "、".join(gettext(choice_label(v)) if f.widget == "choices" else str(v) for v in value)
        elif f.widget == "select":
            shown = gettext(choice_label(value))
        elif f.widget == "decimal":
            shown = f"{value:g}"
        elif f.widget == "number":
            shown = f"{value:,}"
        else:
            shown = str(value)
        rows.append((gettext(f.label), shown))
    return rows


class CatalogPages(Controller):
    include_in_schema = False

    # ----- browse -----------------------------------------------------------------------------

    @get("/listings")
    async def browse(
        self,
        request: Request,
        principal: CurrentPrincipal,
        catalog: Catalog,
        kind: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        area: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        institution: FromQuery[uuid.UUID | None] = None,
        show: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        """Published listings for everyone; the institution's people also see all of their own."""
        areas = await catalog.areas()
        names = area_names(areas)
        if type in set(ResultType):
            kind = ListingKind.result
        elif type in set(ResourceType):
            kind = ListingKind.resource
        else:
            type = None
        kind = kind if kind in set(ListingKind) else None
        area = area if area in names else None
        q = (q or "").strip()[:100] or None
        # "own": an inventor's results (written by or naming them), from their home page.
        own = show == "own" and catalog.has_own_results(principal)
        mine = show in ("mine", "own") and catalog.has_own_listings(principal)
        # Platform roles may list any status (their home page counts listings waiting for review).
        status = status if (mine or catalog.lists_any_status(principal)) and status in set(Status) else None
        accounts = AccountService(catalog.session)
        institution_org = None
        if institution and not mine:
            found = await accounts.public_organizations({institution})
            institution_org = found.get(institution)
        page = page_number(page)
        items, total = await catalog.search(
            principal,
            kind=kind,
            type=type,
            area=area,
            q=q,
            status=status if mine or status else Status.published,
            own=own,
            institution_id=principal.organization_id if mine else (institution_org.id if institution_org else None),
            page=page,
            page_size=PAGE_SIZE,
            cards=True,
        )
        pages = max(1, math.ceil(total / PAGE_SIZE))
        owners = await accounts.public_organizations({item.institution_id for item in items})
        filters = {
            "kind": kind,
            "type": type,
            "area": area,
            "q": q,
            "show": ("own" if own else "mine") if mine else None,
            "status": status,
            "institution": str(institution_org.id) if institution_org else None,
        }

        def url(**changes) -> str:
            query = {k: v for k, v in {**filters, "page": None, **changes}.items() if v not in (None, "", 1)}
            return "/listings" + (f"?{urlencode(query)}" if query else "")

        cache_page(request.scope)
        return render(
            request,
            "catalog/browse.html",
            principal,
            items=items,
            total=total,
            page=min(page, pages),
            pages=pages,
            owners=owners,
            areas=areas,
            area_names=names,
            filters=filters,
            institution_org=institution_org,
            mine=mine,
            may_see_own=catalog.has_own_listings(principal),
            may_create=catalog.may_create(principal),
            result_types=list(ResultType),
            resource_types=list(ResourceType),
            statuses=list(Status),
            url=url,
        )

    # ----- detail and actions -----------------------------------------------------------------

    @get("/listings/{listing_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID]
    ) -> Template:
        listing = await catalog.open_page(principal, listing_id)
        # Kept, except for those who see its view counts (not written through the ORM); a visit the
        # page counted (open_page) counts each time it is given again.
        if not catalog.sees_view_counts(principal, listing):
            cache_page(request.scope, on_hit=count_cached_visit(listing.id) if catalog.counts_view(principal, listing) else None)
        return await self._detail(request, principal, catalog, listing)

    async def _detail(
        self,
        request: Request,
        principal: Principal,
        catalog: CatalogService,
        listing: Listing,
        status_code: int = 200,
        problem: dict | None = None,
        reason: str = "",
    ) -> Template:
        accounts = AccountService(catalog.session)
        owner = (await accounts.public_organizations({listing.institution_id}))[listing.institution_id]
        # The listing's own history is the owning institution's and the platform's, not a company's
        # that holds an NDA grant.
        history = await catalog.history(principal, listing)
        actors = await accounts.user_names({e.actor_user_id for e in history if e.actor_user_id}) if history else {}
        shortlist = ShortlistService(catalog.session)
        return render(
            request,
            "catalog/detail.html",
            principal,
            status_code=status_code,
            listing=listing,
            owner=owner,
            area_names=area_names(await catalog.areas()),
            sees_confidential=await catalog.sees_confidential(principal, listing),
            outdated_nda=await catalog.outdated_grant(principal, listing),
            may_request_match=catalog.may_request_match(principal, listing),
            # What later domains add for this viewer (their own request, the requests received).
            panels=await listing_panels(catalog.session, principal, listing),
            view_counts=await catalog.view_counts(principal, listing),
            may_shortlist=shortlist.may_shortlist(principal) and listing.status == Status.published,
            shortlisted=await shortlist.entry_for(principal, listing.id),
            note_max=NOTE_MAX,
            may_edit=catalog.may_edit(principal, listing),
            actions=catalog.allowed_actions(principal, listing),
            action_labels=ACTION_LABELS,
            quiet_actions=QUIET_ACTIONS,
            detail_rows=detail_rows(listing) if listing.kind == ListingKind.resource else [],
            share_percent=share_percent,
            sees_shares=catalog.sees_inventor_shares(principal, listing),
            freshness=freshness(listing, utcnow()),
            stale_after=STALE_AFTER.days,
            history=history,
            actors=actors,
            problem=problem,
            reason=reason,
        )

    @post("/listings/{listing_id:uuid}/transitions")
    async def transition(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        principal.require()
        action = data.get("action", "")
        reason = data.get("reason", "").strip()[:1000]
        _, refusal = await attempt(catalog.transition(principal, listing_id, action, reason))
        if refusal is not None:
            listing = await catalog.get(principal, listing_id)
            return await self._detail(
                request, principal, catalog, listing, status_code=refusal.status_code, problem=problem_of(refusal), reason=reason
            )
        flash(request, ACTION_DONE.get(action, "Saved."))
        return Redirect(safe_next(data["next"]) if data.get("next") else f"/listings/{listing_id}")

    # ----- the form ---------------------------------------------------------------------------

    async def _form(
        self,
        request: Request,
        principal: Principal,
        catalog: CatalogService,
        form: FormData,
        *,
        kind: str,
        type_: str,
        listing: Listing | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        errors = errors or {}
        institution_id = listing.institution_id if listing else principal.acting_organization_id
        members = []
        if kind == ListingKind.result:
            try:
                members = await AccountService(catalog.session).list_members(principal, institution_id)
            except DomainError:
                members = []
        return render(
            request,
            "catalog/form.html",
            principal,
            status_code=status_code,
            form=form,
            kind=kind,
            type_=type_,
            listing=listing,
            errors=errors,
            summary=error_summary(errors),
            areas=await catalog.areas(),
            area_names=area_names(await catalog.areas()),
            detail_fields=detail_fields(type_) if kind == ListingKind.resource else (),
            choices=SELECT_CHOICES,
            label_choice=lambda value: gettext(choice_label(value)),
            inventor_rows=form.rows("inventors", MIN_INVENTOR_ROWS),
            ip_rows=form.rows("ip_assets", MIN_IP_ROWS),
            members=members,
        )

    @get("/listings/new")
    async def new_listing(
        self,
        request: Request,
        principal: CurrentPrincipal,
        catalog: Catalog,
        kind: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
    ) -> Template:
        principal.require()
        if not catalog.may_create(principal, kind):
            raise Forbidden()
        if kind is None or type is None or not valid_type(kind, type):
            return render(
                request,
                "catalog/choose_type.html",
                principal,
                result_types=list(ResultType),
                resource_types=list(ResourceType) if catalog.may_create(principal, ListingKind.resource) else [],
            )
        contact = catalog.default_contact(principal)
        return await self._form(request, principal, catalog, new_form(kind, type, **contact), kind=kind, type_=type)

    @post("/listings")
    async def create_listing(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, data: ListingForm
    ) -> Response:
        principal.require()
        form = FormData({**data, "_submitted": "1"})
        kind, type_ = form.get("kind"), form.get("type")
        if not catalog.may_create(principal, kind):
            raise Forbidden()
        if not valid_type(kind, type_):
            raise InvalidInput(FieldError("type", N_("Not one of the allowed values.")))
        parsed = parse_listing_form(form, kind, type_, partial=False)
        parsed.payload.update(kind=kind, type=type_)
        listing = await self._write(parsed, ListingCreate, lambda data: catalog.create(principal, data, ip=client_ip(request)))
        if parsed.errors or listing is None:
            # Status 422: the transaction (and a listing the service may have added) rolls back.
            return await self._form(
                request, principal, catalog, form, kind=kind, type_=type_, errors=parsed.errors, status_code=422
            )
        flash(request, N_("The listing has been saved as a draft."))
        return Redirect(f"/listings/{listing.id}")

    @get("/listings/{listing_id:uuid}/edit")
    async def edit_listing(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID]
    ) -> Template:
        principal.require()
        listing = await catalog.get(principal, listing_id)
        if not catalog.may_edit(principal, listing):
            raise Forbidden()
        return await self._form(
            request, principal, catalog, listing_form(listing), kind=listing.kind, type_=listing.type, listing=listing
        )

    @post("/listings/{listing_id:uuid}")
    async def update_listing(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID], data: ListingForm
    ) -> Response:
        principal.require()
        listing = await catalog.get(principal, listing_id)
        if not catalog.may_edit(principal, listing):
            raise Forbidden()
        form = FormData({**data, "_submitted": "1"})
        parsed = parse_listing_form(form, listing.kind, listing.type, partial=True)
        updated = await self._write(parsed, ListingUpdate, lambda data: catalog.update(principal, listing_id, data))
        if parsed.errors or updated is None:
            return await self._form(
                request,
                principal,
                catalog,
                form,
                kind=listing.kind,
                type_=listing.type,
                listing=listing,
                errors=parsed.errors,
                status_code=422,
            )
        flash(request, N_("Saved."))
        return Redirect(f"/listings/{listing_id}")

    @staticmethod
    async def _write(parsed: ParsedForm, struct, write):
        """Convert and hand to the service even when the form already has problems, so the page
        shows them all at once; the caller answers 422 then, which rolls the write back."""
        data = to_struct(parsed, struct)
        if data is None:
            return None
        written, refusal = await attempt(write(data))
        if refusal is not None:
            add_service_errors(parsed, refusal.errors)
            if not refusal.errors:
                parsed.errors["__all__"] = gettext(refusal.message, **refusal.params)
        return written
