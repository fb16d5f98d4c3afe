"""JSON API of trial engagements: /api/v1/trial-engagements — opening one, its steps, its three
review tracks side by side and the documents they share. The rules are the beds service's
(engagements.py, reviews.py, startup.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from marketplace import api_docs
from marketplace.accounts.api import requires_bearer
from marketplace.beds import engagement_schemas as schemas
from marketplace.beds.document_http import document_response, uploaded_file
from marketplace.beds.lifecycle import ENGAGEMENT, REVIEW
from marketplace.beds.models import EngagementDocument, EngagementState, TrialEngagement
from marketplace.beds.reviews import MAX_DOCUMENT_BYTES, TrackView
from marketplace.beds.services import Beds
from marketplace.beds.startup import flagged, startup_days
from marketplace.db import china_today
from marketplace.matching.threads.files import CONTENT_TYPES
from marketplace.states import actions
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import client_ip

StateQuery = Annotated[
    str | None,
    QueryParameter(name="state", schema_extra={"one_of": None, "type": OpenAPIType.STRING, "enum": sorted(EngagementState)}),
]
DOCUMENT_BODY = api_docs.multipart({"file": api_docs.BINARY}, ["file"])
DOCUMENT_FILE = api_docs.download("The document, as an attachment.", *sorted({t.split(";")[0] for t in CONTENT_TYPES.values()}))


def engagement_out(principal: Principal, engagement: TrialEngagement) -> schemas.EngagementOut:
    today = china_today()
    return schemas.EngagementOut(
        id=engagement.id,
        institution_id=engagement.institution_id,
        company_id=engagement.company_id,
        project_id=engagement.project_id,
        centre_role=engagement.centre_role,
        match_request_id=engagement.match_request_id,
        title=engagement.title,
        phase=engagement.phase,
        sponsor=engagement.sponsor,
        pi_name=engagement.pi_name,
        pi_warning_reason=engagement.pi_warning_reason,
        fee_fen=engagement.fee_fen,
        state=engagement.state,
        reviews_approved_on=engagement.reviews_approved_on,
        first_consent_on=engagement.first_consent_on,
        startup=schemas.StartupOut(days=startup_days(engagement, today), flagged=flagged(engagement, today)),
        created_at=engagement.created_at,
        actions=actions(ENGAGEMENT, principal, engagement),
    )


def review_out(principal: Principal, engagement: TrialEngagement, view: TrackView) -> schemas.ReviewOut:
    review = view.review
    return schemas.ReviewOut(
        track=review.track,
        state=review.state,
        target_working_days=review.target_working_days,
        first_submitted_on=review.first_submitted_on,
        approved_on=review.approved_on,
        days_so_far=view.days_so_far,
        overrun_days=view.overrun_days,
        critical=view.critical,
        reference=review.reference,
        recognised_engagement_id=review.recognised_engagement_id,
        state_reason=review.state_reason,
        actions=actions(REVIEW, principal, review, engagement) if engagement.state == EngagementState.starting else [],
    )


def document_out(document: EngagementDocument) -> schemas.DocumentOut:
    return schemas.DocumentOut(
        id=document.id,
        engagement_id=document.engagement_id,
        file_name=document.file_name,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        created_at=document.created_at,
    )


class TrialEngagementsApi(Controller):
    path = "/api/v1/trial-engagements"
    tags = ["beds"]
    guards = [requires_bearer]

    @get("/")
    async def list_engagements(
        self, principal: CurrentPrincipal, beds: Beds, state_filter: StateQuery = None
    ) -> list[schemas.EngagementOut]:
        """The caller's engagements, newest first: the TTO its institution's, a company its own,
        platform roles all; `startup.flagged` marks those past 12 weeks without a first consent."""
        return [engagement_out(principal, found) for found in await beds.engagements(principal, state=state_filter)]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_engagement(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, data: JSONBody[schemas.EngagementCreate]
    ) -> schemas.EngagementOut:
        """The TTO or the company opens an engagement from a clinical-trial match request the
        institution has taken up (`match_request_id`); the TTO also directly (`company_id`). A PI
        over the institution's concurrent-trial threshold needs `pi_acknowledged_reason`."""
        created = await beds.create_engagement(principal, data, ip=client_ip(request))
        return engagement_out(principal, created)

    @get("/{engagement_id:uuid}")
    async def get_engagement(
        self, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID]
    ) -> schemas.EngagementOut:
        """The engagement, its start-up clock and the caller's `actions`."""
        return engagement_out(principal, await beds.engagement(principal, engagement_id))

    @post("/{engagement_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        engagement_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.EngagementTransitionIn],
    ) -> schemas.EngagementOut:
        """A step: `record_first_consent` (the TTO, once all three reviews are approved;
        `first_consent_on` defaults to today) stops the start-up clock; `complete`; `cancel`."""
        moved = await beds.transition_engagement(principal, engagement_id, data, ip=client_ip(request))
        return engagement_out(principal, moved)

    @get("/{engagement_id:uuid}/reviews")
    async def list_reviews(
        self, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID]
    ) -> list[schemas.ReviewOut]:
        """The three tracks side by side: state, working days so far against the target, overrun,
        and which one is the critical path."""
        engagement, views = await beds.tracks(principal, engagement_id)
        return [review_out(principal, engagement, view) for view in views]

    @post("/{engagement_id:uuid}/reviews/{track:str}/transitions", status_code=200)
    async def transition_review(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        engagement_id: FromPath[uuid.UUID],
        track: FromPath[str],
        data: JSONBody[schemas.ReviewTransitionIn],
    ) -> list[schemas.ReviewOut]:
        """A step of one track (`approval`, `ethics`, `contract`): submit, start_review, approve
        (`reference`), return (`reason`), recognise (ethics: `recognised_engagement_id` of the lead
        site). Answers the three tracks."""
        await beds.transition_review(principal, engagement_id, track, data, ip=client_ip(request))
        engagement, views = await beds.tracks(principal, engagement_id)
        return [review_out(principal, engagement, view) for view in views]

    @get("/{engagement_id:uuid}/documents")
    async def list_documents(
        self, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID]
    ) -> list[schemas.DocumentOut]:
        """One set of materials: every track's documents."""
        return [document_out(found) for found in await beds.documents(principal, engagement_id)]

    @post(
        "/{engagement_id:uuid}/documents",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_DOCUMENT_BYTES + 1024 * 1024,
        operation_class=api_docs.documented(request_body=DOCUMENT_BODY),
    )
    async def upload_document(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID]
    ) -> schemas.DocumentOut:
        """Either side uploads a document once (multipart `file`: pdf, docx, xlsx, pptx, png, jpg,
        txt, csv, zip; at most 20 MB); all three tracks list it."""
        await beds.engagement(principal, engagement_id)  # 404 before reading the body
        name, content = await uploaded_file(request)
        document = await beds.upload_document(principal, engagement_id, name, content, ip=client_ip(request))
        return document_out(document)

    @get(
        "/{engagement_id:uuid}/documents/{document_id:uuid}",
        operation_class=api_docs.documented(responses={"200": DOCUMENT_FILE}),
    )
    async def download_document(
        self, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID], document_id: FromPath[uuid.UUID]
    ) -> Response:
        """The document as uploaded, always as an attachment."""
        return document_response(await beds.document(principal, engagement_id, document_id))
