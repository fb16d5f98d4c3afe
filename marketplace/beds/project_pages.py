"""Pages of multi-centre projects: the caller's projects, the company's form to start one (directly
or from a multi-centre need, `?need=`), and a project's page with every centre's three tracks and
start-up clock side by side, the centre holding the project back, the company's add-a-centre form
and its steps. The rules are the beds service's; a refused form is shown again with its status, so
the request's transaction rolls back and nothing is written."""

from __future__ import annotations

import uuid
from decimal import InvalidOperation

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.beds.lifecycle import PROJECT, REVIEW
from marketplace.beds.models import Project
from marketplace.beds.project_schemas import CentreIn, ProjectIn, ProjectTransition
from marketplace.beds.project_views import projects_out
from marketplace.beds.schemas import PHASES
from marketplace.beds.services import Beds, BedsService
from marketplace.errors import DomainError
from marketplace.i18n import N_, gettext
from marketplace.matching.web import parse_wan, problem_of
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import attempt, client_ip, flash, page_number, render

Form = URLEncodedBody[dict[str, str]]

PAGE_SIZE = 20


def _errors(refusal: DomainError) -> dict[str, str]:
    return forms.by_input(refusal.errors) or {"__all__": gettext(refusal.message, **refusal.params)}


class ProjectPages(Controller):
    include_in_schema = False

    @get("/projects")
    async def list_page(self, request: Request, principal: CurrentPrincipal, beds: Beds, page: FromQuery[int] = 1) -> Template:
        page = page_number(page)
        items, total = await beds.list_projects(principal, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return render(
            request,
            "beds/projects.html",
            principal,
            items=await projects_out(beds, items),
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            may_create=beds.may_form(principal),
            state_labels=PROJECT.state_labels,
        )

    async def _form(
        self, request: Request, principal: Principal, form: dict[str, str], errors: dict | None = None, status_code: int = 200
    ) -> Template:
        return render(
            request, "beds/project_form.html", principal, status_code=status_code, form=form, errors=errors or {}, phases=PHASES
        )

    @get("/projects/new")
    async def new_form(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, need: FromQuery[uuid.UUID | None] = None
    ) -> Template:
        beds.require_project_company(principal)
        return await self._form(request, principal, {"phase": "III", "need_id": str(need) if need else ""})

    @post("/projects")
    async def create(self, request: Request, principal: CurrentPrincipal, beds: Beds, data: Form) -> Response:
        beds.require_project_company(principal)
        body = {k: data.get(k, "") for k in ("title", "phase", "sponsor", "protocol_summary")}
        if data.get("need_id", "").strip():
            body["need_id"] = data["need_id"].strip()
        converted, problems = forms.try_convert(body, ProjectIn)
        errors = forms.by_input(problems)
        status_code = 422
        if converted is not None:
            project, refusal = await attempt(beds.create_project(principal, converted, ip=client_ip(request)))
            if project is not None:
                flash(request, N_("The project is created: add its lead site and participating centres."))
                return Redirect(f"/projects/{project.id}")
            assert refusal is not None
            status_code, errors = refusal.status_code, _errors(refusal)
        return await self._form(request, principal, data, errors, status_code)

    async def _detail(
        self,
        request: Request,
        principal: Principal,
        beds: BedsService,
        project: Project,
        *,
        form: dict[str, str] | None = None,
        errors: dict | None = None,
        refusal: DomainError | None = None,
        status_code: int = 200,
    ) -> Template:
        may_steer = beds.may_steer(principal, project)
        return render(
            request,
            "beds/project.html",
            principal,
            status_code=refusal.status_code if refusal else status_code,
            problem=problem_of(refusal) if refusal else None,
            project=(await projects_out(beds, [project]))[0],
            actions=beds.project_actions(principal, project),
            action_labels=PROJECT.action_labels,
            state_labels=PROJECT.state_labels,
            review_labels=REVIEW.state_labels,
            may_steer=may_steer,
            institutions=await beds.institution_choices() if may_steer else [],
            form=form or {"centre_role": "participating"},
            errors=errors or {},
        )

    @get("/projects/{project_id:uuid}")
    async def detail(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, project_id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._detail(request, principal, beds, await beds.get_project(principal, project_id))

    @post("/projects/{project_id:uuid}/centres")
    async def add_centre(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, project_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        project = await beds.get_project(principal, project_id)
        body: dict = {k: data.get(k, "") for k in ("institution_id", "centre_role", "pi_name")}
        errors: dict[str, str] = {}
        if data.get("fee", "").strip():
            try:
                body["fee_fen"] = parse_wan(data["fee"])
            except (ValueError, InvalidOperation):
                errors["fee"] = gettext("Enter an amount in 10,000 yuan, for example 50 or 12.5.")
        converted, problems = forms.try_convert(body, CentreIn)
        forms.by_input(problems, {"fee_fen": "fee"}, into=errors)
        status_code = 422
        if converted is not None and not errors:
            centre, refusal = await attempt(beds.add_centre(principal, project_id, converted, ip=client_ip(request)))
            if centre is not None:
                flash(request, N_("The centre is added: its three reviews can start."))
                return Redirect(f"/projects/{project_id}")
            assert refusal is not None
            if not refusal.errors:
                return await self._detail(request, principal, beds, project, form=data, refusal=refusal)
            status_code, errors = refusal.status_code, forms.by_input(refusal.errors, {"fee_fen": "fee"})
        return await self._detail(request, principal, beds, project, form=data, errors=errors, status_code=status_code)

    @post("/projects/{project_id:uuid}/transitions")
    async def transition(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, project_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        project = await beds.get_project(principal, project_id)
        step, problems = forms.try_convert(
            {"action": data.get("action", ""), "reason": data.get("reason", "")}, ProjectTransition
        )
        if step is None:
            return await self._detail(request, principal, beds, project, errors=forms.by_input(problems), status_code=422)
        moved, refusal = await attempt(
            beds.transition_project(principal, project_id, step.action, step.reason, ip=client_ip(request))
        )
        if moved is None:
            return await self._detail(request, principal, beds, project, refusal=refusal)
        flash(request, N_("The project's state is changed."))
        return Redirect(f"/projects/{project_id}")
