"""JSON API of multi-centre projects: /api/v1/projects (the caller's), one project with its centres
side by side, its steps (start, complete, cancel) and its centres (each a trial engagement)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from marketplace.beds.project_schemas import CentreIn, CentreOut, ProjectIn, ProjectOut, ProjectPage, ProjectTransition
from marketplace.beds.project_views import projects_out
from marketplace.beds.services import Beds
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import Page, PageSize, client_ip

# `state` is a name Litestar keeps for the app state, so the query parameter gets another one.
StateQuery = Annotated[Literal["forming", "running", "completed", "cancelled"] | None, QueryParameter(name="state")]


class ProjectApi(Controller):
    path = "/api/v1/projects"
    tags = ["beds"]

    @get("/")
    async def list_projects(
        self, principal: CurrentPrincipal, beds: Beds, state_filter: StateQuery = None, page: Page = 1, page_size: PageSize = 20
    ) -> ProjectPage:
        """The company's projects; for a TTO, the projects its institution is a centre of; all for
        the platform roles. Newest first."""
        items, total = await beds.list_projects(principal, state=state_filter, limit=page_size, offset=(page - 1) * page_size)
        return ProjectPage(await projects_out(beds, items), total)

    @post("/", status_code=HTTP_201_CREATED)
    async def create_project(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, data: JSONBody[ProjectIn]
    ) -> ProjectOut:
        """A company forms a project: directly, from a multi-centre need's selected responses, or
        from its accepted clinical-trial match requests (their institutions become the centres)."""
        project = await beds.create_project(principal, data, ip=client_ip(request))
        return (await projects_out(beds, [project]))[0]

    @get("/{project_id:uuid}")
    async def get_project(self, principal: CurrentPrincipal, beds: Beds, project_id: FromPath[uuid.UUID]) -> ProjectOut:
        """Every centre's three tracks and start-up clock side by side, and the centre holding the
        project back."""
        project = await beds.get_project(principal, project_id)
        return (await projects_out(beds, [project]))[0]

    @post("/{project_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        project_id: FromPath[uuid.UUID],
        data: JSONBody[ProjectTransition],
    ) -> ProjectOut:
        """start (needs the lead site), complete, cancel (with a reason: cancels the open centres)."""
        project = await beds.transition_project(principal, project_id, data.action, data.reason, ip=client_ip(request))
        return (await projects_out(beds, [project]))[0]

    @get("/{project_id:uuid}/centres")
    async def list_centres(self, principal: CurrentPrincipal, beds: Beds, project_id: FromPath[uuid.UUID]) -> list[CentreOut]:
        project = await beds.get_project(principal, project_id)
        return (await projects_out(beds, [project]))[0].centres

    @post("/{project_id:uuid}/centres", status_code=HTTP_201_CREATED)
    async def add_centre(
        self, request: Request, principal: CurrentPrincipal, beds: Beds, project_id: FromPath[uuid.UUID], data: JSONBody[CentreIn]
    ) -> CentreOut:
        """The company adds an institution as the lead site (one per project) or a participating
        site: a trial engagement with its three review tracks opens there."""
        engagement = await beds.add_centre(principal, project_id, data, ip=client_ip(request))
        project = await beds.get_project(principal, project_id)
        centres = (await projects_out(beds, [project]))[0].centres
        return next(c for c in centres if c.engagement_id == engagement.id)
