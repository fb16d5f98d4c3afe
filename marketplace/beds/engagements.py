"""Trial engagements: a company's trial at one institution, alone or as a centre of a multi-centre
project. Opening one opens its three review tracks side by side, with the institution's targets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.audit import services as audit
from marketplace.beds.models import DEFAULT_TARGETS, EngagementState, Review, ReviewState, Track, TrialEngagement
from marketplace.db import utcnow
from marketplace.tenancy import Principal


@dataclass(frozen=True)
class EngagementTerms:
    """What an engagement is opened with (the services check who may open it and on what)."""

    institution_id: uuid.UUID
    company_id: uuid.UUID
    title: str
    phase: str
    sponsor: str
    pi_name: str
    fee_fen: int = 0
    project_id: uuid.UUID | None = None
    centre_role: str | None = None
    match_request_id: uuid.UUID | None = None
    listing_id: uuid.UUID | None = None


class Engagements:
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    async def open_engagement(
        self, principal: Principal | None, terms: EngagementTerms, *, now: datetime | None = None, ip: str | None = None
    ) -> TrialEngagement:
        """The engagement and its three tracks, not started, each with its target in working days."""
        now = now or utcnow()
        engagement = TrialEngagement(
            id=uuid.uuid4(),
            state=EngagementState.starting,
            created_by_user_id=principal.user_id if principal else None,
            state_changed_at=now,
            **{field: getattr(terms, field) for field in terms.__dataclass_fields__},
        )
        self.session.add(engagement)
        await self.session.flush()
        self.session.add_all(
            Review(
                engagement_id=engagement.id,
                track=track,
                state=ReviewState.not_started,
                target_working_days=DEFAULT_TARGETS[track],
                state_changed_at=now,
            )
            for track in Track
        )
        await self.session.flush()
        event = await audit.record(
            self.session,
            "trial_engagement_opened",
            actor_user_id=principal.user_id if principal else None,
            organization_id=principal.organization_id if principal else None,
            subject=engagement,
            ip=ip,
            after=engagement.state,
            institution_id=str(engagement.institution_id),
            project_id=str(engagement.project_id) if engagement.project_id else None,
        )
        event.occurred_at = now
        return engagement
