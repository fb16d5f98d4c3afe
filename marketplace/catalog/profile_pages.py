"""The public profiles of institutions (their published listings by kind, and the TTO manager's
form for the working days to answer a match request) and of companies. Apart from the listing
pages since they show an organization, not a listing."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace.accounts.models import OrgKind
from marketplace.accounts.services import Accounts, AccountService
from marketplace.catalog.models import ListingKind, Status
from marketplace.catalog.services import Catalog, CatalogService
from marketplace.i18n import N_, gettext
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import area_names, attempt, client_ip, flash, render

Form = URLEncodedBody[dict[str, str]]

PROFILE_LISTINGS = 12


class ProfilePages(Controller):
    include_in_schema = False

    @get("/institutions/{organization_id:uuid}")
    async def institution(
        self,
        request: Request,
        principal: CurrentPrincipal,
        catalog: Catalog,
        accounts: Accounts,
        organization_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._institution(request, principal, catalog, accounts, organization_id)

    async def _institution(
        self,
        request: Request,
        principal: Principal,
        catalog: CatalogService,
        accounts: AccountService,
        organization_id: uuid.UUID,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        org = await accounts.public_organization(organization_id, OrgKind.institution)
        sections = []
        for kind, title in ((ListingKind.result, N_("Results")), (ListingKind.resource, N_("Clinical resources"))):
            items, total = await catalog.search(
                principal, kind=kind, institution_id=org.id, status=Status.published, page_size=PROFILE_LISTINGS
            )
            sections.append({"kind": kind, "title": title, "items": items, "total": total})
        own = principal.organization_id == org.id and catalog.has_own_listings(principal)
        return render(
            request,
            "catalog/institution.html",
            principal,
            status_code=status_code,
            org=org,
            sections=sections,
            owners={org.id: org},
            area_names=area_names(await catalog.areas()),
            own=own,
            may_set_response_days=accounts.may_set_response_working_days(principal, org.id),
            errors=errors or {},
            form=form or {},
        )

    @post("/institutions/{organization_id:uuid}/response-days")
    async def set_response_days(
        self,
        request: Request,
        principal: CurrentPrincipal,
        catalog: Catalog,
        accounts: Accounts,
        organization_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        """The profile's form for the TTO manager: working days to answer a match request."""
        principal.require()
        try:
            days = int(data.get("response_working_days", "").strip())
        except ValueError:
            days = 0
        _, refusal = await attempt(accounts.set_response_working_days(principal, organization_id, days, ip=client_ip(request)))
        if refusal is not None:
            errors = {e.field: gettext(e.message, **e.params) for e in refusal.errors}
            return await self._institution(
                request, principal, catalog, accounts, organization_id, refusal.status_code, errors, data
            )
        flash(request, N_("The response time has been saved."))
        return Redirect(f"/institutions/{organization_id}")

    @get("/companies/{organization_id:uuid}")
    async def company(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, organization_id: FromPath[uuid.UUID]
    ) -> Template:
        org = await accounts.public_organization(organization_id, OrgKind.company)
        return render(request, "catalog/company.html", principal, org=org)
