"""The shapes of projects for the API and the pages, from the service's read model."""

from __future__ import annotations

from marketplace.beds.models import Project
from marketplace.beds.project_schemas import CentreOut, ProjectOut, TrackOut
from marketplace.beds.projects import CentreView, ProjectView
from marketplace.beds.services import BedsService


def centre_out(centre: CentreView) -> CentreOut:
    e = centre.engagement
    return CentreOut(
        engagement_id=e.id,
        institution_id=e.institution_id,
        institution_name=centre.institution_name,
        centre_role=e.centre_role or "",
        state=e.state,
        pi_name=e.pi_name,
        tracks=[
            TrackOut(t.track, t.state, t.days_so_far, t.target_working_days, t.overrun, t.approved_on) for t in centre.tracks
        ],
        open_tracks=centre.open_tracks,
        reviews_approved_on=e.reviews_approved_on,
        first_consent_on=e.first_consent_on,
        startup_days=centre.startup_days,
        startup_flagged=centre.startup_flagged,
    )


def project_out(view: ProjectView) -> ProjectOut:
    p = view.project
    return ProjectOut(
        id=p.id,
        company_id=p.company_id,
        title=p.title,
        phase=p.phase,
        sponsor=p.sponsor,
        protocol_summary=p.protocol_summary,
        state=p.state,
        need_id=p.need_id,
        centres=[centre_out(c) for c in view.centres],
        holding_back=view.holding_back.engagement.id if view.holding_back else None,
    )


async def projects_out(beds: BedsService, projects: list[Project]) -> list[ProjectOut]:
    return [project_out(v) for v in await beds.project_views(projects)]
