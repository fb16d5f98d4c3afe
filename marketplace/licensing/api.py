"""JSON API of licensing: /api/v1/agreements — the list by next due day, drafting, a draft's
terms, the lifecycle's steps and the current document."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.openapi.spec import OpenAPIHeader, OpenAPIType, Schema
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from marketplace import api_docs
from marketplace.accounts.api import requires_bearer
from marketplace.accounts.scopes import Scope, needs
from marketplace.licensing import schemas
from marketplace.licensing.downloads import PDF, document_response
from marketplace.licensing.models import Kind, State
from marketplace.licensing.services import Licensing
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import Page, PageSize, client_ip

# Checked by the list itself: a value outside these matches nothing.
# `state` is a name Litestar keeps for the app state, so the parameter is named in the query only.
StateQuery = Annotated[
    str | None,
    QueryParameter(name="state", schema_extra={"one_of": None, "type": OpenAPIType.STRING, "enum": sorted(State)}),
]
KindQuery = Annotated[str | None, api_docs.enum_query(Kind)]

DOCUMENT_FILE = api_docs.download("The agreement's current document (PDF), as an attachment.", PDF)
assert DOCUMENT_FILE.headers is not None
DOCUMENT_FILE.headers["X-Document-SHA256"] = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING), required=True, description="The document's SHA-256: what a signature names."
)


class AgreementsApi(Controller):
    path = "/api/v1/agreements"
    tags = ["licensing"]
    guards = [requires_bearer]

    @get("/", opt=needs(Scope.payments_read))
    async def list_agreements(
        self,
        principal: CurrentPrincipal,
        licensing: Licensing,
        state_filter: StateQuery = None,
        kind: KindQuery = None,
        page: Page = 1,
        page_size: PageSize = 20,
    ) -> schemas.AgreementPage:
        """The caller's agreements, the nearest due day first (an item due, or a use period's end):
        the TTO its institution's, a company's administrator its company's licences, platform roles all."""
        return await licensing.agreement_page(principal, state=state_filter, kind=kind, page=page, page_size=page_size)

    @post("/", status_code=HTTP_201_CREATED)
    async def create_agreement(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, data: JSONBody[schemas.AgreementCreate]
    ) -> schemas.AgreementOut:
        """The TTO drafts an agreement: from an agreed match request (`match_request_id`: its
        company and result), or for a deal made elsewhere (`company_id` and `result_ids`)."""
        created = await licensing.create(principal, data, ip=client_ip(request))
        return await licensing.agreement_view(principal, created)

    @get("/{agreement_id:uuid}", opt=needs(Scope.payments_read))
    async def get_agreement(
        self, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]
    ) -> schemas.AgreementOut:
        """The agreement with its schedule, what is due next and the caller's `actions`."""
        return await licensing.agreement_view(principal, await licensing.get(principal, agreement_id))

    @patch("/{agreement_id:uuid}")
    async def update_agreement(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        agreement_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.AgreementTerms],
    ) -> schemas.AgreementOut:
        """A draft's terms, all of them (the schedule follows); 409 once approved."""
        updated = await licensing.update(principal, agreement_id, data, ip=client_ip(request))
        return await licensing.agreement_view(principal, updated)

    @post("/{agreement_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        agreement_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TransitionIn],
    ) -> schemas.AgreementOut:
        """A step of the lifecycle (`actions` lists the caller's): `sign` names the SHA-256 of the
        document signed; `choose_payment_mode` the mode and, for instalments, how many."""
        moved = await licensing.transition(principal, agreement_id, data, ip=client_ip(request))
        return await licensing.agreement_view(principal, moved)

    @get("/{agreement_id:uuid}/document", operation_class=api_docs.documented(responses={"200": DOCUMENT_FILE}))
    async def document(self, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]) -> Response:
        """The current document (generated at approval) as a PDF; its SHA-256 in `X-Document-SHA256`.
        404 before approval."""
        agreement, found = await licensing.document_of(principal, agreement_id)
        return document_response(agreement.title, found.content, found.sha256)
