"""JSON API of the catalogue: /api/v1/listings, its transitions, import and export."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TypeVar

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED

from marketplace import api_docs
from marketplace.accounts.scopes import Scope, needs
from marketplace.accounts.services import AccountService
from marketplace.api_errors import OPTIONAL_TOKEN, ErrorOut
from marketplace.catalog import schemas, spreadsheets
from marketplace.catalog.models import (
    Availability,
    EngagementMode,
    Listing,
    ListingKind,
    OwnershipModel,
    PricingModel,
    Stage,
    Status,
)
from marketplace.catalog.services import Catalog, CatalogService
from marketplace.errors import invalid
from marketplace.i18n import N_
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import Page, PageSize, client_ip

E = TypeVar("E")

IMPORT_BODY = api_docs.multipart({"file": api_docs.BINARY}, ["file"])
SPREADSHEET = api_docs.download("The spreadsheet, as an attachment.", api_docs.XLSX, api_docs.CSV)


def _maybe(choice: Callable[[str], E], value: str | None) -> E | None:
    return None if value is None else choice(value)


async def listings_out(catalog: CatalogService, principal: Principal, listings: list[Listing]) -> list[schemas.ListingOut]:
    """Listings as the caller may see them: confidential details only for those entitled."""
    owners = await AccountService(catalog.session).public_organizations({item.institution_id for item in listings})
    areas = {area.code: area for area in await catalog.areas()}
    entitled = await catalog.confidential_listing_ids(principal, listings)
    result = []
    for item in listings:
        owner = owners[item.institution_id]
        result.append(
            schemas.ListingOut(
                id=item.id,
                kind=ListingKind(item.kind),
                type=item.type,
                status=Status(item.status),
                institution=schemas.InstitutionRef(id=owner.id, name_zh=owner.name_zh, name_en=owner.name_en, city=owner.city),
                title_zh=item.title_zh,
                title_en=item.title_en,
                summary_zh=item.summary_zh,
                summary_en=item.summary_en,
                therapeutic_areas=[
                    schemas.AreaOut(a.area_code, areas[a.area_code].name_zh, areas[a.area_code].name_en) for a in item.areas
                ],
                keywords=list(item.keywords),
                contact_name=item.contact_name,
                contact_email=item.contact_email,
                contact_phone=item.contact_phone,
                published_at=item.published_at,
                confirmed_at=item.confirmed_at,
                is_stale=item.is_stale,
                updated_at=item.updated_at,
                stage=_maybe(Stage, item.stage),
                trl=item.trl,
                advantages=item.advantages,
                ownership_model=_maybe(OwnershipModel, item.ownership_model),
                licence_options=[{"option": o, "terms": item.licence_terms.get(o, "")} for o in item.licence_options],
                ip_assets=[
                    {
                        "number": a.number,
                        "kind": a.kind,
                        "jurisdiction": a.jurisdiction,
                        "status": a.status,
                        "filing_date": a.filing_date,
                        "expiry_date": a.expiry_date,
                    }
                    for a in item.ip_assets
                ],
                inventors=[
                    {"name": i.name, "share_bp": i.share_bp, "user_id": i.user_id}
                    if catalog.sees_inventor_shares(principal, item)
                    else {"name": i.name}
                    for i in item.inventors
                ],
                details=item.details,
                engagement_modes=[EngagementMode(m) for m in item.engagement_modes],
                pricing_model=_maybe(PricingModel, item.pricing_model),
                availability=_maybe(Availability, item.availability),
                confidential_details=item.confidential_details if item.id in entitled else None,
            )
        )
    return result


class CatalogApi(Controller):
    path = "/api/v1/listings"
    tags = ["catalogue"]

    @get("/", security=OPTIONAL_TOKEN, opt=needs(Scope.listings_read))
    async def list_listings(
        self,
        principal: CurrentPrincipal,
        catalog: Catalog,
        kind: FromQuery[ListingKind | None] = None,
        type: FromQuery[schemas.ListingTypeName | None] = None,
        status: FromQuery[Status | None] = None,
        institution_id: FromQuery[uuid.UUID | None] = None,
        area: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        stale: FromQuery[bool | None] = None,
        page: Page = 1,
        page_size: PageSize = 20,
    ) -> schemas.ListingPage:
        items, total = await catalog.search(
            principal,
            kind=kind,
            type=type,
            status=status,
            institution_id=institution_id,
            area=area,
            q=q,
            stale=stale,
            page=page,
            page_size=page_size,
        )
        return schemas.ListingPage(await listings_out(catalog, principal, items), total, page, page_size)

    @post("/", status_code=HTTP_201_CREATED, opt=needs(Scope.listings_write))
    async def create_listing(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, data: JSONBody[schemas.ListingCreate]
    ) -> schemas.ListingOut:
        listing = await catalog.create(principal, data, ip=client_ip(request))
        return (await listings_out(catalog, principal, [listing]))[0]

    @post(
        "/import",
        status_code=200,
        opt=needs(Scope.listings_write),
        request_max_body_size=spreadsheets.MAX_BYTES + 64 * 1024,
        # A file under any part name is taken; `file` is the one documented.
        operation_class=api_docs.documented(request_body=IMPORT_BODY),
        responses={
            422: ResponseSpec(
                schemas.ImportReport | ErrorOut,  # type: ignore[arg-type]
                description="Not a dry run and some row has a problem (the report; nothing created), or the file "
                "cannot be read or has too many rows.",
                generate_examples=False,
            )
        },
    )
    async def import_listings(
        self,
        principal: CurrentPrincipal,
        catalog: Catalog,
        # Files by any field name: a bare UploadFile answers a form without a file with a 500.
        data: MultipartBody[dict[str, UploadFile]],
        dry_run: FromQuery[bool] = True,
    ) -> Response[schemas.ImportReport]:
        """Upload an .xlsx or .csv (see /api/v1/listings/template). A dry run reports each row's
        problems; otherwise all rows are created, or none if any row has a problem (422)."""
        catalog.require_tto(principal)
        upload = next(iter(data.values()), None)
        if upload is None:
            raise invalid("file", N_("Choose an .xlsx or .csv file to upload."))
        vocab = spreadsheets.vocabulary(await catalog.areas())
        rows = await asyncio.to_thread(spreadsheets.parse, upload.filename or "", await upload.read(), vocab)
        report = await catalog.import_rows(principal, rows, dry_run=dry_run)
        status = 422 if report["errors"] and not dry_run else 200
        return Response(msgspec.convert(report, schemas.ImportReport), status_code=status)

    @get("/export", opt=needs(Scope.listings_read), operation_class=api_docs.documented(responses={"200": SPREADSHEET}))
    async def export_listings(
        self, principal: CurrentPrincipal, catalog: Catalog, format: FromQuery[schemas.SpreadsheetFormat] = "xlsx"
    ) -> Response:
        vocab = spreadsheets.vocabulary(await catalog.areas())
        rows = [spreadsheets.listing_to_row(item, vocab) for item in await catalog.export_rows(principal)]
        content = await asyncio.to_thread(spreadsheets.write, rows, format, vocab)
        return spreadsheets.spreadsheet_response(content, format, "listings")

    @get(
        "/template",
        security=OPTIONAL_TOKEN,
        opt=needs(Scope.listings_read),
        operation_class=api_docs.documented(responses={"200": SPREADSHEET}),
    )
    async def template(self, catalog: Catalog, format: FromQuery[schemas.SpreadsheetFormat] = "xlsx") -> Response:
        """The import template: the columns (with drop-downs and a sheet of allowed values in the
        .xlsx) and one example row of each kind, in the reader's language."""
        vocab = spreadsheets.vocabulary(await catalog.areas())
        content = await asyncio.to_thread(spreadsheets.write, spreadsheets.example_rows(vocab), format, vocab)
        return spreadsheets.spreadsheet_response(content, format, "listings-template")

    @get("/{listing_id:uuid}", security=OPTIONAL_TOKEN, opt=needs(Scope.listings_read))
    async def get_listing(
        self, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID]
    ) -> schemas.ListingOut:
        return (await listings_out(catalog, principal, [await catalog.get(principal, listing_id)]))[0]

    @patch("/{listing_id:uuid}", opt=needs(Scope.listings_write))
    async def update_listing(
        self,
        principal: CurrentPrincipal,
        catalog: Catalog,
        listing_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ListingUpdate],
    ) -> schemas.ListingOut:
        listing = await catalog.update(principal, listing_id, data)
        return (await listings_out(catalog, principal, [listing]))[0]

    @post("/{listing_id:uuid}/transitions", status_code=200, opt=needs(Scope.listings_write))
    async def transition(
        self, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID], data: JSONBody[schemas.Transition]
    ) -> schemas.ListingOut:
        await catalog.transition(principal, listing_id, data.action, data.reason)
        return (await listings_out(catalog, principal, [await catalog.get(principal, listing_id)]))[0]


def nda_out(nda) -> schemas.NdaOut:
    return schemas.NdaOut(version=nda.version, text_zh=nda.text_zh, text_en=nda.text_en, published_at=nda.published_at)


class NdaApi(Controller):
    """The platform's confidentiality agreement that companies accept when they request a match."""

    path = "/api/v1/nda-versions"
    tags = ["catalogue"]

    @get("/current", security=OPTIONAL_TOKEN)
    async def current(self, catalog: Catalog) -> schemas.NdaOut:
        """The version in force and its text (public: it is what every company signs)."""
        return nda_out(await catalog.current_nda())

    @post("/", status_code=HTTP_201_CREATED)
    async def publish(self, principal: CurrentPrincipal, catalog: Catalog, data: JSONBody[schemas.NdaCreate]) -> schemas.NdaOut:
        """A new version (platform admin). Companies must accept it before they see confidential
        details again."""
        return nda_out(await catalog.publish_nda(principal, data.text_zh, data.text_en))
