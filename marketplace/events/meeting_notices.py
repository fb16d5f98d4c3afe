"""Telling the other team of a meeting request what happened to it: an in-app notification to the
people the team brings (its contact if none) and, when they want that kind, an e-mail with a link
to the event's meetings page. The e-mail goes through matching's sender (one place builds e-mails,
whose headers are flattened, so a title with a line break cannot break one)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Organization, User
from marketplace.config import Settings
from marketplace.events.models import Attendee, Event, MeetingRequest, Registration
from marketplace.i18n import N_
from marketplace.matching.events import MatchEvents
from marketplace.notifications.services import EmailKind, NotificationService

MEETING_EMAIL = EmailKind(
    "event_meeting_requests",
    N_("Matchmaking events: meeting requests"),
    N_(
        "When a registered team asks yours for a one-to-one meeting at an event, answers your team's request, withdraws it or calls a meeting off."
    ),
    roles=TTO_ROLES | COMPANY_ROLES,
)

# action → (in-app text, e-mail subject, e-mail lead)
NOTICES: dict[str, tuple[str, str, str]] = {
    "created": (
        N_("A registered team asks yours for a one-to-one meeting at an event."),
        N_("Meeting request at “%(event)s”"),
        N_("%(other)s asks your team for a one-to-one meeting at “%(event)s”:\n\n%(text)s"),
    ),
    "accept": (
        N_("Your team's meeting request has been accepted."),
        N_("Meeting accepted at “%(event)s”"),
        N_(
            "%(other)s has accepted your team's meeting request at “%(event)s”. The organizer places it in a slot and at a table."
        ),
    ),
    "decline": (
        N_("Your team's meeting request has been declined."),
        N_("Meeting declined at “%(event)s”"),
        N_("%(other)s has declined your team's meeting request at “%(event)s”:\n\n%(text)s"),
    ),
    "withdraw": (
        N_("A meeting request to your team has been withdrawn."),
        N_("Meeting request withdrawn at “%(event)s”"),
        N_("%(other)s has withdrawn its meeting request at “%(event)s”."),
    ),
    "cancel": (
        N_("A meeting of your team has been called off."),
        N_("Meeting called off at “%(event)s”"),
        N_("The meeting between your team and %(other)s at “%(event)s” has been called off:\n\n%(text)s"),
    ),
}


def meetings_link(event_id: uuid.UUID) -> str:
    return f"/events/{event_id}/meetings"


class MeetingNotices:
    def __init__(self, session: AsyncSession, settings: Settings | None) -> None:
        self.session = session
        self.mail = MatchEvents(session, settings)
        self.notifications = NotificationService(session)

    async def people_of(self, registration: Registration) -> list[User]:
        rows = list(
            await self.session.scalars(
                select(User).join(Attendee, Attendee.user_id == User.id).where(Attendee.registration_id == registration.id)
            )
        )
        if not rows and registration.contact_user_id:
            contact = await self.session.get(User, registration.contact_user_id)
            rows = [contact] if contact else []
        return rows

    async def tell(
        self, event: Event, request: MeetingRequest, action: str, told: Registration, other: Registration, text: str = ""
    ) -> None:
        """Tell the team `told` of `action`, taken by (or concerning) the team `other`."""
        if action not in NOTICES:
            return
        message, subject, lead = NOTICES[action]
        people = await self.people_of(told)
        link = meetings_link(event.id)
        organization = await self.session.get(Organization, other.organization_id)
        await self.notifications.notify(
            [person.id for person in people],
            f"event_meeting_request_{action}",
            message,
            items=[{"label": event.title, "label_en": event.title_en or event.title, "link": link}],
            link=link,
        )

        def values(locale: str) -> dict:
            english = locale == "en"
            return {
                "event": event.title_en if english and event.title_en else event.title,
                "other": organization.display_name(locale) if organization else "",
                "text": text,
            }

        await self.mail.email(people, MEETING_EMAIL.key, link, subject, lead, values, open_label=N_("Open your meetings:"))
