"""JSON API of research wards and bed allocations: /api/v1/wards (with each ward's calendar) and
/api/v1/bed-allocations with their lifecycle's steps."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from marketplace.accounts.api import requires_bearer
from marketplace.beds import schemas
from marketplace.beds.models import AllocationState
from marketplace.beds.services import Beds
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import Page, PageSize, client_ip

# `state` is a name Litestar keeps for the app state, so the parameter is named in the query only.
StateQuery = Annotated[
    str | None,
    QueryParameter(name="state", schema_extra={"one_of": None, "type": OpenAPIType.STRING, "enum": sorted(AllocationState)}),
]


class WardsApi(Controller):
    path = "/api/v1/wards"
    tags = ["beds"]
    guards = [requires_bearer]

    @get("/")
    async def list_wards(
        self, principal: CurrentPrincipal, beds: Beds, listing_id: FromQuery[uuid.UUID | None] = None
    ) -> list[schemas.WardOut]:
        """Wards of published research-ward listings (and, for the TTO, all of its own)."""
        return [beds.ward_out(ward) for ward in await beds.list_wards(principal, listing_id=listing_id)]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_ward(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, data: JSONBody[schemas.WardIn]
    ) -> schemas.WardOut:
        """The TTO adds a ward to one of its institution's research-ward listings."""
        return beds.ward_out(await beds.create_ward(principal, data, ip=client_ip(request)))

    @get("/{ward_id:uuid}")
    async def get_ward(self, principal: CurrentPrincipal, beds: Beds, ward_id: FromPath[uuid.UUID]) -> schemas.WardOut:
        return beds.ward_out(await beds.get_ward(principal, ward_id))

    @put("/{ward_id:uuid}")
    async def update_ward(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        ward_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.WardUpdate],
    ) -> schemas.WardOut:
        """The TTO edits a ward: fewer beds or shorter dates must still hold what is approved."""
        return beds.ward_out(await beds.update_ward(principal, ward_id, data, ip=client_ip(request)))

    @get("/{ward_id:uuid}/calendar")
    async def calendar(
        self,
        principal: CurrentPrincipal,
        beds: Beds,
        ward_id: FromPath[uuid.UUID],
        from_day: Annotated[date | None, QueryParameter(name="from")] = None,
    ) -> schemas.CalendarOut:
        """Each day of the next 12 months (from `from`, default today): beds approved, requested, free."""
        return await beds.calendar_of(principal, ward_id, first=from_day)


class BedAllocationsApi(Controller):
    path = "/api/v1/bed-allocations"
    tags = ["beds"]
    guards = [requires_bearer]

    @get("/")
    async def list_allocations(
        self,
        principal: CurrentPrincipal,
        beds: Beds,
        ward_id: FromQuery[uuid.UUID | None] = None,
        state_filter: StateQuery = None,
        page: Page = 1,
        page_size: PageSize = 20,
    ) -> schemas.AllocationPage:
        """The caller's allocations by first day: the TTO its institution's, a company its own."""
        return await beds.allocation_page(principal, ward_id=ward_id, state=state_filter, page=page, page_size=page_size)

    @post("/", status_code=HTTP_201_CREATED)
    async def request_beds(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, data: JSONBody[schemas.AllocationIn]
    ) -> schemas.AllocationOut:
        """A company asks for beds (with `match_request_id`: for its accepted clinical-trial request)."""
        created = await beds.request_allocation(principal, data, ip=client_ip(request))
        return beds.allocation_out(principal, created)

    @get("/{allocation_id:uuid}")
    async def get_allocation(
        self, principal: CurrentPrincipal, beds: Beds, allocation_id: FromPath[uuid.UUID]
    ) -> schemas.AllocationOut:
        return beds.allocation_out(principal, await beds.get_allocation(principal, allocation_id))

    @post("/{allocation_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        allocation_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TransitionIn],
    ) -> schemas.AllocationOut:
        """A step (`actions` lists the caller's); approving past the ward's beds on a day is a 409."""
        moved = await beds.transition_allocation(principal, allocation_id, data, ip=client_ip(request))
        return beds.allocation_out(principal, moved)
