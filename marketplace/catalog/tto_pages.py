"""The TTO's pages for many listings at once: the review queue (submitted listings, and published
ones due for confirmation) and the spreadsheet import and export. Apart from the pages of one
listing since they work on the institution's whole catalogue."""

from __future__ import annotations

import asyncio
import base64
import binascii

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from marketplace.catalog import spreadsheets
from marketplace.catalog.lifecycle import STALE_AFTER, freshness
from marketplace.catalog.pages import problem_of
from marketplace.catalog.services import Catalog
from marketplace.db import china_today, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import gettext
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import area_names, flash, render

# A clean dry run hands the file back in the page for the real import (base64 grows it by a third).
IMPORT_BODY_LIMIT = spreadsheets.MAX_BYTES * 4 // 3 + 256 * 1024


class TtoPages(Controller):
    include_in_schema = False

    # ----- review and freshness ---------------------------------------------------------------

    @get("/review")
    async def review(self, request: Request, principal: CurrentPrincipal, catalog: Catalog) -> Template:
        """What waits for the TTO: listings submitted for review, and published listings that
        are stale or turn stale within 30 days, each with a one-click confirmation."""
        catalog.require_tto(principal)
        now = utcnow()
        due = await catalog.due_for_confirmation(principal)
        return render(
            request,
            "catalog/review.html",
            principal,
            pending=await catalog.pending_review(principal),
            due=[(listing, freshness(listing, now)) for listing in due],
            area_names=area_names(await catalog.areas()),
            stale_after=STALE_AFTER.days,
        )

    # ----- import and export ------------------------------------------------------------------

    @get("/listings/import")
    async def import_form(self, request: Request, principal: CurrentPrincipal, catalog: Catalog) -> Template:
        catalog.require_tto(principal)
        return await self._import_page(request, principal, catalog)

    async def _import_page(
        self, request: Request, principal: Principal, catalog: Catalog, status_code: int = 200, **context
    ) -> Template:
        context.setdefault("report", None)
        context.setdefault("problem", None)
        context.setdefault("upload", None)
        # The help shows the columns and example cells as the template has them, in the reader's language.
        vocab = spreadsheets.vocabulary(await catalog.areas())
        return render(
            request,
            "catalog/import.html",
            principal,
            status_code=status_code,
            max_rows=spreadsheets.MAX_ROWS,
            max_mb=spreadsheets.MAX_BYTES // 2**20,
            headers=spreadsheets.headers(),
            examples=spreadsheets.example_rows(vocab),
            **context,
        )

    @post("/listings/import", request_max_body_size=IMPORT_BODY_LIMIT)
    async def import_listings(self, request: Request, principal: CurrentPrincipal, catalog: Catalog) -> Response:
        """A dry run (the default) reports each row's problems; otherwise all rows are created, or
        none if any row has a problem. A clean dry run offers the same file for the real import."""
        catalog.require_tto(principal)
        form = await request.form()
        upload = form.get("file")
        dry_run = form.get("dry_run") == "on"
        filename, content = "", b""
        if isinstance(upload, UploadFile) and upload.filename:
            filename, content = upload.filename, await upload.read()
        elif isinstance(form.get("content"), str) and form.get("content"):
            filename = str(form.get("filename", ""))
            try:
                content = base64.b64decode(form["content"], validate=True)
            except (binascii.Error, ValueError):
                content = b""
        if not content:
            problem = {"message": gettext("Choose an .xlsx or .csv file to upload."), "fields": []}
            return await self._import_page(request, principal, catalog, 422, problem=problem, dry_run=dry_run)
        try:
            vocab = spreadsheets.vocabulary(await catalog.areas())
            rows = await asyncio.to_thread(spreadsheets.parse, filename, content, vocab)
        except DomainError as error:
            return await self._import_page(
                request, principal, catalog, error.status_code, problem=problem_of(error), dry_run=dry_run
            )
        report = await catalog.import_rows(principal, rows, dry_run=dry_run)
        if not dry_run and not report["errors"]:
            flash(request, gettext("Imported: %(n)d listings.", n=report["created"]))
            return Redirect("/listings?show=mine")
        clean = dry_run and not report["errors"] and report["rows"] > 0
        upload_info = {"filename": filename, "content": base64.b64encode(content).decode() if clean else None}
        return await self._import_page(
            request,
            principal,
            catalog,
            422 if report["errors"] and not dry_run else 200,
            report=report,
            upload=upload_info,
            dry_run=dry_run,
        )

    @get("/listings/export")
    async def export_listings(self, principal: CurrentPrincipal, catalog: Catalog, format: FromQuery[str] = "xlsx") -> Response:
        """The institution's listings in the import format, for the signed-in TTO."""
        catalog.require_tto(principal)
        fmt = spreadsheets.spreadsheet_format(format)
        vocab = spreadsheets.vocabulary(await catalog.areas())
        rows = [spreadsheets.listing_to_row(item, vocab) for item in await catalog.export_rows(principal)]
        content = await asyncio.to_thread(spreadsheets.write, rows, fmt, vocab)
        return spreadsheets.spreadsheet_response(content, fmt, f"listings-{china_today().isoformat()}")
