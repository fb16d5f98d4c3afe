"""The public profiles of institutions (description, logo, named contact, response record and their
published listings by kind; the TTO manager's form for the working days to answer a match request)
and of companies, with the administrator's form to edit a profile and the logo's address. Apart
from the listing pages since they show an organization, not a listing; in matching because an
institution's response record comes from its match requests."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace.accounts.models import Organization, OrgKind
from marketplace.accounts.profiles import MAX_LOGO_BYTES, LogoUpload, ProfileInput
from marketplace.accounts.services import Accounts, AccountService
from marketplace.catalog.models import ListingKind, Status
from marketplace.catalog.services import Catalog, CatalogService
from marketplace.i18n import N_, gettext
from marketplace.matching.requests.services import Matching, MatchingService
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import area_names, attempt, client_ip, field_errors, flash, render

Form = URLEncodedBody[dict[str, str]]

PROFILE_LISTINGS = 12
# The form's text fields and a logo: a little over the logo's limit, so a bigger one gets a field error.
PROFILE_BODY_LIMIT = MAX_LOGO_BYTES * 2 + 64 * 1024


def public_page(org: Organization) -> str:
    return f"/{'institutions' if org.kind == OrgKind.institution else 'companies'}/{org.id}"


class ProfilePages(Controller):
    include_in_schema = False

    @get("/institutions/{organization_id:uuid}")
    async def institution(
        self,
        request: Request,
        principal: CurrentPrincipal,
        catalog: Catalog,
        accounts: Accounts,
        matching: Matching,
        organization_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._institution(request, principal, catalog, accounts, matching, organization_id)

    async def _institution(
        self,
        request: Request,
        principal: Principal,
        catalog: CatalogService,
        accounts: AccountService,
        matching: MatchingService,
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
            record=await matching.response_record(org.id),
            may_set_response_days=accounts.may_set_response_working_days(principal, org.id),
            may_edit_profile=accounts.may_edit_profile(principal, org.id),
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
        matching: Matching,
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
                request, principal, catalog, accounts, matching, organization_id, refusal.status_code, errors, data
            )
        flash(request, N_("The response time has been saved."))
        return Redirect(f"/institutions/{organization_id}")

    @get("/companies/{organization_id:uuid}")
    async def company(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, organization_id: FromPath[uuid.UUID]
    ) -> Template:
        org = await accounts.public_organization(organization_id, OrgKind.company)
        return render(
            request, "catalog/company.html", principal, org=org, may_edit_profile=accounts.may_edit_profile(principal, org.id)
        )

    # ----- the administrator's profile form ---------------------------------------------------

    @get("/organizations/{organization_id:uuid}/profile")
    async def edit_profile(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, organization_id: FromPath[uuid.UUID]
    ) -> Template:
        org = await accounts.profile_to_edit(principal, organization_id)
        return self._form(request, principal, org)

    def _form(
        self,
        request: Request,
        principal: Principal,
        org: Organization,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        return render(
            request,
            "catalog/profile_form.html",
            principal,
            status_code=status_code,
            org=org,
            errors=errors or {},
            form=form if form is not None else {name: getattr(org, name) for name in vars(ProfileInput())},
            public_page=public_page(org) if org.kind != OrgKind.platform else None,
            max_logo_kb=MAX_LOGO_BYTES // 1024,
        )

    @post("/organizations/{organization_id:uuid}/profile", request_max_body_size=PROFILE_BODY_LIMIT)
    async def save_profile(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, organization_id: FromPath[uuid.UUID]
    ) -> Response:
        """Multipart: the profile's text fields, an optional `logo` file and `remove_logo`. Every
        problem shows beside its field with what was typed kept."""
        org = await accounts.profile_to_edit(principal, organization_id)
        form = await request.form()
        texts = {key: value for key, value in form.items() if isinstance(value, str)}
        upload = form.get("logo")
        logo = LogoUpload(upload.filename, upload.file) if isinstance(upload, UploadFile) and upload.filename else None
        data = ProfileInput.of(texts)
        _, refusal = await attempt(
            accounts.update_organization_profile(
                principal, org.id, data, logo=logo, remove_logo=texts.get("remove_logo") == "on", ip=client_ip(request)
            )
        )
        if refusal is not None:
            return self._form(request, principal, org, refusal.status_code, field_errors(refusal), vars(data))
        flash(request, N_("The profile has been saved."))
        return Redirect(public_page(org) if org.kind != OrgKind.platform else f"/organizations/{org.id}/profile")

    @get("/organizations/{organization_id:uuid}/logo")
    async def logo(self, accounts: Accounts, organization_id: FromPath[uuid.UUID]) -> Response:
        """Public like the profile. The address carries the logo's hash (?v=), so it may be cached."""
        stored = await accounts.logo(organization_id)
        return Response(
            content=stored.data,
            media_type=stored.content_type,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "public, max-age=86400",
                "Content-Disposition": "inline",
            },
        )
