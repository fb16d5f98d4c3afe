"""JSON API of open licences (开放许可): /api/v1/open-licences (the active declarations, public;
the TTO declares), one declaration, its withdrawal, and taking it (a company's administrator)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from marketplace.api_errors import OPTIONAL_TOKEN
from marketplace.licensing.models import State
from marketplace.licensing.open_licence_schemas import (
    OpenLicenceIn,
    OpenLicenceOut,
    OpenLicencePage,
    OpenLicenceStateQuery,
    OpenLicenceTaken,
)
from marketplace.licensing.services import Licensing
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import Page, PageSize, client_ip


class OpenLicenceApi(Controller):
    path = "/api/v1/open-licences"
    tags = ["licensing"]

    @get("/", security=OPTIONAL_TOKEN)
    async def list_open_licences(
        self,
        principal: CurrentPrincipal,
        licensing: Licensing,
        listing_id: FromQuery[uuid.UUID | None] = None,
        institution: FromQuery[uuid.UUID | None] = None,
        state_filter: OpenLicenceStateQuery = "active",
        page: Page = 1,
        page_size: PageSize = 20,
    ) -> OpenLicencePage:
        """Open licences anyone may take, newest first; `state=withdrawn` lists the withdrawn ones
        the caller may see (its institution's, or all for platform roles)."""
        items, total = await licensing.list_open_licences(
            principal,
            state=state_filter,
            listing_id=listing_id,
            institution_id=institution,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
        return OpenLicencePage(await licensing.open_licences_out(items), total)

    @post("/", status_code=HTTP_201_CREATED)
    async def declare(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, data: JSONBody[OpenLicenceIn]
    ) -> OpenLicenceOut:
        """The TTO declares an open licence on a published result of its institution (one active
        declaration per result)."""
        declaration = await licensing.declare(principal, data, ip=client_ip(request))
        return (await licensing.open_licences_out([declaration]))[0]

    @get("/{open_licence_id:uuid}", security=OPTIONAL_TOKEN)
    async def get_open_licence(
        self, principal: CurrentPrincipal, licensing: Licensing, open_licence_id: FromPath[uuid.UUID]
    ) -> OpenLicenceOut:
        declaration = await licensing.get_open_licence(principal, open_licence_id)
        return (await licensing.open_licences_out([declaration]))[0]

    @post("/{open_licence_id:uuid}/withdraw", status_code=200)
    async def withdraw(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, open_licence_id: FromPath[uuid.UUID]
    ) -> OpenLicenceOut:
        """No new takers from now on; the agreements already taken stand."""
        declaration = await licensing.withdraw_open_licence(principal, open_licence_id, ip=client_ip(request))
        return (await licensing.open_licences_out([declaration]))[0]

    @post("/{open_licence_id:uuid}/take", status_code=HTTP_201_CREATED)
    async def take(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, open_licence_id: FromPath[uuid.UUID]
    ) -> OpenLicenceTaken:
        """The company's administrator takes the open licence: a signed ordinary licence on the
        declared terms, in force at once (its upfront fee falls due). Once per company while it runs."""
        agreement = await licensing.take_open_licence(principal, open_licence_id, ip=client_ip(request))
        return OpenLicenceTaken(
            agreement_id=agreement.id,
            open_licence_id=open_licence_id,
            state=State(agreement.state),
            document_sha256=agreement.document_sha256,
        )
