"""The three review tracks of an engagement run side by side (project approval, ethics, contract):
their steps, their days so far in China's working days against the institution's targets, the
critical path, and the one set of documents every track shares."""

from __future__ import annotations

import builtins
import hashlib
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.audit import services as audit
from marketplace.beds.engagement_schemas import ReviewTransitionIn
from marketplace.beds.lifecycle import REVIEW
from marketplace.beds.models import (
    CentreRole,
    EngagementDocument,
    EngagementState,
    ReviewState,
    Track,
    TrialEngagement,
)
from marketplace.beds.models import Review as ReviewRow
from marketplace.db import china_day, utcnow
from marketplace.errors import DomainError, FieldError, Forbidden, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.threads.files import CONTENT_TYPES, clean_name, content_matches, extension_of
from marketplace.tenancy import Principal
from marketplace.working_days import china_calendar

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # the table's CHECK
TRACK_ORDER = (Track.approval, Track.ethics, Track.contract)


def unsupported(message: str) -> DomainError:
    """A file of a type not accepted: 415, as the catalogue's imports answer."""
    return DomainError(message, FieldError("file", message), status_code=415)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to `end` (the day of submission does not count, as for
    matching's answer deadlines)."""
    if end <= start:
        return 0
    return china_calendar().get_working_days_count(start + timedelta(days=1), end)


@dataclass(frozen=True)
class TrackView:
    review: ReviewRow
    days_so_far: int
    overrun_days: int
    critical: bool


def track_views(reviews: builtins.list[ReviewRow], today: date) -> builtins.list[TrackView]:
    """Each track's working days so far (to its approval, or today), its overrun against its
    target, and the critical path: the slowest track still open, or, when all are approved, the
    one approved last."""
    ordered = sorted(reviews, key=lambda review: TRACK_ORDER.index(Track(review.track)))
    days = {
        review.track: working_days_between(review.first_submitted_on, review.approved_on or today)
        if review.first_submitted_on
        else 0
        for review in ordered
    }
    open_tracks = [review for review in ordered if review.state != ReviewState.approved]
    critical: ReviewRow | None = None
    if open_tracks:
        # The slowest open track: the most days so far, or, none started, the one with the longest target.
        critical = max(open_tracks, key=lambda review: (days[review.track], review.target_working_days))
    elif ordered:
        critical = max(ordered, key=lambda review: review.approved_on or date.min)
    return [
        TrackView(
            review=review,
            days_so_far=days[review.track],
            overrun_days=max(0, days[review.track] - review.target_working_days),
            critical=critical is not None and review.id == critical.id,
        )
        for review in ordered
    ]


class Reviews:
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    if TYPE_CHECKING:  # engagements.py's, mixed in beside this

        async def engagement(
            self, principal: Principal, engagement_id: uuid.UUID, *, for_update: bool = False
        ) -> TrialEngagement: ...

    async def reviews_of(self, engagement_id: uuid.UUID) -> builtins.list[ReviewRow]:
        stmt = select(ReviewRow).where(ReviewRow.engagement_id == engagement_id).execution_options(populate_existing=True)
        return sorted(await self.session.scalars(stmt), key=lambda review: TRACK_ORDER.index(Track(review.track)))

    async def tracks(self, principal: Principal, engagement_id: uuid.UUID, *, today: date | None = None):
        engagement = await self.engagement(principal, engagement_id)
        return engagement, track_views(await self.reviews_of(engagement.id), today or china_day(utcnow()))

    async def transition_review(
        self,
        principal: Principal,
        engagement_id: uuid.UUID,
        track: str,
        data: ReviewTransitionIn,
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> ReviewRow:
        """A step of one track: submit (either side; the track's clock starts at the first),
        start_review, approve (with its reference), return (with the reason), recognise (ethics
        only: the lead site's approved ethics review). The last approval starts the start-up clock."""
        principal.require()
        if track not in Track.__members__:
            raise invalid("track", N_("Not one of the allowed values."))
        declared = REVIEW.action(data.action)
        engagement = await self.engagement(principal, engagement_id, for_update=True)
        review = next(found for found in await self.reviews_of(engagement.id) if found.track == track)
        now = now or utcnow()
        today = china_day(now)
        details: dict = {"track": track}
        allowed = REVIEW.may(principal, review, declared, engagement) and review.state in declared.sources
        if allowed and engagement.state != EngagementState.starting:
            raise REVIEW.illegal(declared.name, REVIEW.state_label(review.state))
        if allowed and declared.name == "approve":
            if not data.reference.strip():
                raise invalid("reference", N_("Give the approval's reference number."))
            review.reference = data.reference.strip()
        if allowed and declared.name == "recognise":
            review.reference, review.recognised_engagement_id = await self._recognised_reference(engagement, review, data)
            details["recognised_engagement_id"] = str(review.recognised_engagement_id)
        if allowed and declared.name in ("approve", "recognise"):
            review.approved_on = today
            details["reference"] = review.reference
        await states.apply(
            self.session, REVIEW, principal, review, declared, data.reason, context=engagement, now=now, ip=ip, details=details
        )
        if declared.name == "submit" and review.first_submitted_on is None:
            review.first_submitted_on = today
        if declared.name in ("approve", "recognise"):
            await self._after_approval(principal, engagement, today, ip)
        await self.session.flush()
        return review

    async def _recognised_reference(
        self, engagement: TrialEngagement, review: ReviewRow, data: ReviewTransitionIn
    ) -> tuple[str, uuid.UUID]:
        """伦理互认: only ethics, only a participating centre, only the lead site's approved ethics
        (the project's lead site unless another engagement is named, which must be it)."""
        if review.track != Track.ethics:
            raise invalid("action", N_("Only the ethics review may be completed by recognition."))
        if engagement.project_id is None or engagement.centre_role != CentreRole.participating:
            raise invalid(
                "recognised_engagement_id", N_("Only a participating centre of a project recognises the lead site's ethics.")
            )
        lead_id = data.recognised_engagement_id or await self.session.scalar(
            select(TrialEngagement.id).where(
                TrialEngagement.project_id == engagement.project_id,
                TrialEngagement.centre_role == CentreRole.lead,
                TrialEngagement.state != EngagementState.cancelled,
            )
        )
        lead = await self.session.get(TrialEngagement, lead_id) if lead_id else None
        if (
            lead is None
            or lead.project_id != engagement.project_id
            or lead.centre_role != CentreRole.lead
            or lead.state == EngagementState.cancelled
        ):
            raise invalid("recognised_engagement_id", N_("Not the lead site of this project."))
        ethics = await self.session.scalar(
            select(ReviewRow).where(ReviewRow.engagement_id == lead.id, ReviewRow.track == Track.ethics)
        )
        if ethics is None or ethics.state != ReviewState.approved:
            raise invalid("recognised_engagement_id", N_("The lead site's ethics review is not approved yet."))
        return ethics.reference, lead.id

    async def _after_approval(self, principal: Principal, engagement: TrialEngagement, today: date, ip: str | None) -> None:
        """The last of the three approvals starts the start-up clock."""
        reviews = await self.reviews_of(engagement.id)
        if engagement.reviews_approved_on is None and all(review.state == ReviewState.approved for review in reviews):
            engagement.reviews_approved_on = today
            await audit.record(
                self.session,
                "trial_engagement_reviews_approved",
                actor_user_id=principal.user_id,
                organization_id=principal.organization_id,
                subject=engagement,
                ip=ip,
                reviews_approved_on=today.isoformat(),
            )

    # ----- one set of materials, one submission ---------------------------------------------

    async def documents(self, principal: Principal, engagement_id: uuid.UUID) -> builtins.list[EngagementDocument]:
        engagement = await self.engagement(principal, engagement_id)
        stmt = (
            select(EngagementDocument)
            .where(EngagementDocument.engagement_id == engagement.id)
            .order_by(EngagementDocument.created_at, EngagementDocument.id)
        )
        return list(await self.session.scalars(stmt))

    async def document(self, principal: Principal, engagement_id: uuid.UUID, document_id: uuid.UUID) -> EngagementDocument:
        engagement = await self.engagement(principal, engagement_id)
        found = await self.session.get(EngagementDocument, document_id)
        if found is None or found.engagement_id != engagement.id:
            raise NotFound()
        return found

    @staticmethod
    def may_upload(principal: Principal) -> bool:
        """Either side of an engagement it sees; platform roles read, never act for a party."""
        return principal.is_authenticated and not principal.is_platform

    async def upload_document(
        self, principal: Principal, engagement_id: uuid.UUID, name: str, content: bytes, *, ip: str | None = None
    ) -> EngagementDocument:
        """Either side uploads a document once; every track lists it. Types and sizes are checked
        as thread attachments' are (the content must be what the name says)."""
        principal.require()
        engagement = await self.engagement(principal, engagement_id)
        if not self.may_upload(principal):
            raise Forbidden()
        file_name = clean_name(name or "")
        extension = extension_of(file_name)
        if not file_name or extension not in CONTENT_TYPES:
            raise unsupported(N_("This type of file is not accepted."))
        if not content:
            raise invalid("file", N_("The file is empty."))
        if len(content) > MAX_DOCUMENT_BYTES:
            raise invalid("file", N_("The file is larger than 20 MB."))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload"
            path.write_bytes(content)
            if not content_matches(extension, path):
                raise unsupported(N_("The file's content does not match its type."))
        document = EngagementDocument(
            id=uuid.uuid4(),
            engagement_id=engagement.id,
            file_name=file_name[:200],
            content_type=CONTENT_TYPES[extension],
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_by_user_id=principal.user_id,
        )
        self.session.add(document)
        await self.session.flush()
        await audit.record(
            self.session,
            "trial_document_uploaded",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=engagement,
            ip=ip,
            document_id=str(document.id),
            file_name=document.file_name,
            sha256=document.sha256,
        )
        return document
