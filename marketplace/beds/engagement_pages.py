"""Pages of trial engagements: the TTO's (or company's) list with the start-up flags, an
engagement with its three tracks side by side (days so far against target, overrun, the critical
path, the viewer's steps), its shared documents, the start-up clock and the first consent form;
and a PI's page of running trials. A refused form is shown again with its status."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms, i18n
from marketplace.beds.document_http import document_response, uploaded_file
from marketplace.beds.engagement_schemas import EngagementTransitionIn, ReviewTransitionIn
from marketplace.beds.lifecycle import ENGAGEMENT, REVIEW
from marketplace.beds.models import STARTUP_FLAG_DAYS, EngagementState
from marketplace.beds.services import Beds, BedsService
from marketplace.beds.startup import flagged, startup_days
from marketplace.db import china_today
from marketplace.errors import DomainError, InvalidInput
from marketplace.i18n import N_
from marketplace.states import actions
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, field_errors, flash, render

Form = URLEncodedBody[dict[str, str]]

TRACK_LABELS = {"approval": N_("Project approval"), "ethics": N_("Ethics"), "contract": N_("Contract")}
LABELS: dict[str, Any] = {
    "track_labels": TRACK_LABELS,
    "engagement_state": ENGAGEMENT.state_label,
    "engagement_action": ENGAGEMENT.action_label,
    "review_state": REVIEW.state_label,
    "review_action": REVIEW.action_label,
    "flag_days": STARTUP_FLAG_DAYS,
}


async def detail_page(
    request: Request,
    principal: Principal,
    beds: BedsService,
    engagement_id: uuid.UUID,
    *,
    status_code: int = 200,
    errors: dict | None = None,
    form: dict | None = None,
) -> Template:
    engagement, views = await beds.tracks(principal, engagement_id)
    today = china_today()
    running = engagement.state == EngagementState.starting
    return render(
        request,
        "beds/engagement.html",
        principal,
        status_code=status_code,
        e=engagement,
        views=views,
        review_actions={
            view.review.track: actions(REVIEW, principal, view.review, engagement) if running else [] for view in views
        },
        engagement_actions=actions(ENGAGEMENT, principal, engagement),
        documents=await beds.documents(principal, engagement_id),
        startup=startup_days(engagement, today),
        flagged=flagged(engagement, today),
        can_upload=beds.may_upload(principal),
        today=today,
        errors=errors or {},
        form=form or {},
        **LABELS,
    )


def refused(error: DomainError) -> dict[str, str]:
    errors = field_errors(error)
    errors.setdefault("__all__", i18n.gettext(error.message, **error.params))
    return errors


class EngagementPages(Controller):
    include_in_schema = False

    @get("/trial-engagements")
    async def list_engagements(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, late: FromQuery[str | None] = None
    ) -> Template:
        """The caller's engagements; those past 12 weeks without a first consent flagged, first.
        `late=1`: only those with a review track past its target."""
        principal.require()
        today = china_today()
        only_late = late == "1"
        found = await beds.engagements(principal, late=only_late)
        rows = [(engagement, startup_days(engagement, today), flagged(engagement, today)) for engagement in found]
        rows.sort(key=lambda row: not row[2])
        return render(request, "beds/engagements.html", principal, rows=rows, only_late=only_late, **LABELS)

    @get("/trial-engagements/{engagement_id:uuid}")
    async def engagement(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID]
    ) -> Template:
        return await detail_page(request, principal, beds, engagement_id)

    @post("/trial-engagements/{engagement_id:uuid}/transitions")
    async def transition(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        body: dict = {"action": data.get("action", ""), "reason": data.get("reason", "").strip()}
        if data.get("first_consent_on", "").strip():
            body["first_consent_on"] = data["first_consent_on"].strip()
        step, problems = forms.try_convert(body, EngagementTransitionIn, strict=False)
        refusal: DomainError | None
        if step is not None:
            _, refusal = await attempt(beds.transition_engagement(principal, engagement_id, step, ip=client_ip(request)))
        else:
            refusal = InvalidInput(*problems)
        if refusal is not None:
            return await detail_page(
                request, principal, beds, engagement_id, status_code=refusal.status_code, errors=refused(refusal), form=data
            )
        flash(request, N_("Saved."))
        return Redirect(f"/trial-engagements/{engagement_id}")

    @post("/trial-engagements/{engagement_id:uuid}/reviews/{track:str}/transitions")
    async def review_transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        engagement_id: FromPath[uuid.UUID],
        track: FromPath[str],
        data: Form,
    ) -> Response:
        body: dict = {
            "action": data.get("action", ""),
            "reason": data.get("reason", "").strip(),
            "reference": data.get("reference", "").strip(),
        }
        if data.get("recognised_engagement_id", "").strip():
            body["recognised_engagement_id"] = data["recognised_engagement_id"].strip()
        step, problems = forms.try_convert(body, ReviewTransitionIn, strict=False)
        refusal: DomainError | None
        if step is not None:
            _, refusal = await attempt(beds.transition_review(principal, engagement_id, track, step, ip=client_ip(request)))
        else:
            refusal = InvalidInput(*problems)
        if refusal is not None:
            errors = {f"{track}.{name}": message for name, message in refused(refusal).items()}
            errors["__all__"] = refused(refusal)["__all__"]
            return await detail_page(
                request, principal, beds, engagement_id, status_code=refusal.status_code, errors=errors, form=data
            )
        flash(request, N_("Saved."))
        return Redirect(f"/trial-engagements/{engagement_id}")

    @post("/trial-engagements/{engagement_id:uuid}/documents", request_max_body_size=22 * 1024 * 1024)
    async def upload_document(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, engagement_id: FromPath[uuid.UUID]
    ) -> Response:
        await beds.engagement(principal, engagement_id)
        refusal: DomainError | None
        try:
            name, content = await uploaded_file(request)
        except DomainError as error:
            refusal = error
        else:
            _, refusal = await attempt(beds.upload_document(principal, engagement_id, name, content, ip=client_ip(request)))
        if refusal is not None:
            return await detail_page(
                request, principal, beds, engagement_id, status_code=refusal.status_code, errors=refused(refusal)
            )
        flash(request, N_("The document is uploaded: every track lists it."))
        return Redirect(f"/trial-engagements/{engagement_id}#documents")

    @get("/trial-engagements/{engagement_id:uuid}/documents/{document_id:uuid}")
    async def download_document(
        self,
        principal: CurrentPrincipal,
        beds: Beds,
        engagement_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Response:
        return document_response(await beds.document(principal, engagement_id, document_id))

    @get("/institutions/{institution_id:uuid}/pis")
    async def pi_page(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        institution_id: FromPath[uuid.UUID],
        name: Annotated[str, QueryParameter(max_length=100)] = "",
    ) -> Template:
        """A PI's running trials at the institution (as far as the viewer may see them), against
        the institution's threshold."""
        principal.require()
        trials = await beds.pi_trials(principal, institution_id, name) if name.strip() else []
        _, threshold = await beds.pi_over_threshold(institution_id, name) if name.strip() else (0, None)
        return render(request, "beds/pi.html", principal, name=name.strip(), trials=trials, threshold=threshold, **LABELS)
