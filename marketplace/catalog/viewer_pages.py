"""Pages for a listing's readers: the one-page PDF of its public information, and a company
member's shortlist (add from the listing's page, keep a note, remove). The rules are the services':
the catalogue says who sees the listing, the shortlist whose entry is whose."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace.accounts.services import AccountService
from marketplace.catalog.listing_pdf import content_disposition, listing_pdf, listing_sheet
from marketplace.catalog.services import Catalog
from marketplace.catalog.shortlist import NOTE_MAX, Shortlist, ShortlistService, provide_shortlist
from marketplace.errors import DomainError
from marketplace.i18n import N_, gettext
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import AppSettings, area_names, attempt, flash, render, safe_next

Form = URLEncodedBody[dict[str, str]]


async def shortlist_page(
    request: Request,
    principal: Principal,
    shortlist: ShortlistService,
    *,
    status_code: int = 200,
    problem: tuple[uuid.UUID, str, str] | None = None,
) -> Template:
    """The caller's shortlist; `problem`: an entry whose note was refused, its message and the text typed."""
    entries = await shortlist.entries(principal)
    owners = await AccountService(shortlist.session).public_organizations({listing.institution_id for _, listing in entries})
    return render(
        request,
        "catalog/shortlist.html",
        principal,
        status_code=status_code,
        entries=entries,
        owners=owners,
        area_names=area_names(await shortlist.catalog.areas()),
        note_max=NOTE_MAX,
        problem=problem,
    )


def _message(refusal: DomainError) -> str:
    errors = [gettext(e.message, **e.params) for e in refusal.errors]
    return errors[0] if errors else gettext(refusal.message, **refusal.params)


class ListingReaderPages(Controller):
    include_in_schema = False
    dependencies = {"shortlist": Provide(provide_shortlist)}

    @get("/listings/{listing_id:uuid}/summary.pdf")
    async def pdf(
        self, principal: CurrentPrincipal, catalog: Catalog, settings: AppSettings, listing_id: FromPath[uuid.UUID]
    ) -> Response:
        """The listing's public information on one page, for anyone who may see the listing."""
        listing = await catalog.get(principal, listing_id)
        owner = await AccountService(catalog.session).public_organization(listing.institution_id)
        url = f"{settings.base_url.rstrip('/')}/listings/{listing.id}"
        sheet = listing_sheet(listing, owner, area_names(await catalog.areas()), url)
        return Response(
            await listing_pdf(sheet),
            media_type="application/pdf",
            headers={"Content-Disposition": content_disposition(sheet, listing.id), "X-Content-Type-Options": "nosniff"},
        )

    @get("/shortlist")
    async def shortlist(self, request: Request, principal: CurrentPrincipal, shortlist: Shortlist) -> Template:
        return await shortlist_page(request, principal, shortlist)

    @post("/listings/{listing_id:uuid}/shortlist")
    async def add(
        self, request: Request, principal: CurrentPrincipal, shortlist: Shortlist, listing_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        _, refusal = await attempt(shortlist.add(principal, listing_id, data.get("note", "")))
        if refusal is not None:
            flash(request, _message(refusal), "error")
        else:
            flash(request, N_("Added to your shortlist."))
        return Redirect(safe_next(data.get("next")) if data.get("next") else f"/listings/{listing_id}")

    @post("/shortlist/{entry_id:uuid}/note")
    async def note(
        self, request: Request, principal: CurrentPrincipal, shortlist: Shortlist, entry_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        text = data.get("note", "")
        _, refusal = await attempt(shortlist.set_note(principal, entry_id, text))
        if refusal is not None:
            return await shortlist_page(
                request, principal, shortlist, status_code=refusal.status_code, problem=(entry_id, _message(refusal), text)
            )
        flash(request, N_("Note saved."))
        return Redirect(safe_next(data.get("next")) if data.get("next") else "/shortlist")

    @post("/shortlist/{entry_id:uuid}/delete")
    async def remove(
        self, request: Request, principal: CurrentPrincipal, shortlist: Shortlist, entry_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        await shortlist.remove(principal, entry_id)
        flash(request, N_("Removed from your shortlist."))
        return Redirect(safe_next(data.get("next")) if data.get("next") else "/shortlist")
