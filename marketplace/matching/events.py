"""Telling the other side of a match what it must act on: an in-app notification and, when the
person wants that kind of e-mail, a queued e-mail with a link straight to the request's thread
and the unsubscribe headers (RFC 8058).

Who hears of what: a new request, the company's information and a withdrawal go to the
institution's TTO (manager and staff); a question, an acceptance or a refusal go to the
requesting company's people; the start of negotiation, a first confirmation of the deal and a
close without a deal go to the side that did not take the step. Inventors and platform roles
follow requests on the pages; they are not asked to act, so they are not notified.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from marketplace import i18n
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, User
from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.config import Settings
from marketplace.i18n import N_
from marketplace.matching.requests.models import MatchRequest
from marketplace.notifications.services import EmailKind, NotificationService, unsubscribe_headers

ACTIVITY_EMAIL = EmailKind(
    "match_request_activity",
    N_("Match requests: steps to answer"),
    N_(
        "When a company sends your institution a request or answers your question, or when an institution asks your company for information, accepts or declines, and the other steps of a match."
    ),
)
MESSAGE_EMAIL = EmailKind(
    "match_thread_messages",
    N_("Match conversations: new messages"),
    N_(
        "When the other side writes in a match conversation, or in the conversation on a response to a need, that you have read up to date (one e-mail until you read it again)."
    ),
)
REMINDER_EMAIL = EmailKind(
    "match_request_reminders",
    N_("Match requests: answer deadlines"),
    N_("Two working days before your institution's answer to a match request is due."),
    roles=TTO_ROLES,  # only the institution answers
)

INSTITUTION, COMPANY = "institution", "company"


def thread_link(request_id: uuid.UUID) -> str:
    return f"/match-requests/{request_id}#thread"


# action → (who is told: "institution", "company" or "other" side than the actor, notification
# text, e-mail subject, e-mail lead). Steps nobody must answer (review, accept_nda) tell nobody.
NOTICES: dict[str, tuple[str, str, str, str]] = {
    "created": (
        INSTITUTION,
        N_("A company has sent a match request on one of your institution's listings."),
        N_("New match request on “%(title)s”"),
        N_("%(company)s has sent a match request on “%(title)s”. Your institution's answer is due by %(due)s (China time)."),
    ),
    "request_info": (
        COMPANY,
        N_("The institution has asked your company for information on a match request."),
        N_("Information requested on “%(title)s”"),
        N_("%(institution)s asks your company for information on its match request about “%(title)s”:\n\n%(reason)s"),
    ),
    "provide_info": (
        INSTITUTION,
        N_("A company has sent the information you asked for on a match request."),
        N_("Information received on “%(title)s”"),
        N_(
            "%(company)s has answered your question on its match request about “%(title)s”:\n\n%(reason)s\n\nYour institution's answer is due by %(due)s (China time)."
        ),
    ),
    "accept": (
        COMPANY,
        N_("Your company's match request has been accepted."),
        N_("Match request accepted: “%(title)s”"),
        N_(
            "%(institution)s has accepted your company's match request about “%(title)s”. Your company can now read the listing's confidential details and start negotiating."
        ),
    ),
    "decline": (
        COMPANY,
        N_("Your company's match request has been declined."),
        N_("Match request declined: “%(title)s”"),
        N_("%(institution)s has declined your company's match request about “%(title)s”:\n\n%(reason)s"),
    ),
    "withdraw": (
        INSTITUTION,
        N_("A company has withdrawn its match request."),
        N_("Match request withdrawn: “%(title)s”"),
        N_("%(company)s has withdrawn its match request about “%(title)s”."),
    ),
    "start_negotiation": (
        "other",
        N_("Negotiation has started on a match request."),
        N_("Negotiation started: “%(title)s”"),
        N_("Negotiation has started on the match between %(company)s and %(institution)s about “%(title)s”."),
    ),
    "agree": (
        "other",
        N_("The other side has confirmed the agreement on a match request; your confirmation is awaited."),
        N_("Agreement confirmed by the other side: “%(title)s”"),
        N_("The other side has confirmed the agreement on “%(title)s”. It is agreed once your side confirms too."),
    ),
    "close_no_deal": (
        "other",
        N_("A match request has been closed without a deal."),
        N_("Closed without a deal: “%(title)s”"),
        N_("The match between %(company)s and %(institution)s about “%(title)s” has been closed without a deal:\n\n%(reason)s"),
    ),
}
# The second confirmation makes the deal; both sides hear of it.
AGREED = (
    N_("A match request is agreed by both sides."),
    N_("Agreed: “%(title)s”"),
    N_("Both sides have confirmed the agreement on “%(title)s”."),
)


class MatchEvents:
    """Notifies people of match requests' steps, in the caller's transaction. Without settings
    (demo data, scripts) only in-app notifications are written: e-mails need the site's address."""

    def __init__(self, session, settings: Settings | None) -> None:
        self.session = session
        self.settings = settings
        self.accounts = AccountService(session)
        self.notifications = NotificationService(session)

    async def side_people(self, request: MatchRequest, side: str) -> list[User]:
        if side == INSTITUTION:
            return await self.accounts.member_contacts(request.institution_id, TTO_ROLES)
        return await self.accounts.member_contacts(request.company_id, COMPANY_ROLES)

    async def step(
        self, request: MatchRequest, action: str, actor_side: str | None, reason: str = "", at: datetime | None = None
    ) -> None:
        """After a request is created ("created") or takes a step (at its moment, when given)."""
        sides: tuple[str, ...]
        if action == "agree" and request.state == "agreed":
            sides, (message, subject, lead) = (INSTITUTION, COMPANY), AGREED
        elif action in NOTICES:
            target, message, subject, lead = NOTICES[action]
            if target == "other":
                target = COMPANY if actor_side == INSTITUTION else INSTITUTION
            sides = (target,)
        else:
            return
        people = [person for side in sides for person in await self.side_people(request, side)]
        listing = (await CatalogService(self.session).listing_refs({request.listing_id}))[request.listing_id]
        await self.notifications.notify(
            [p.id for p in people],
            f"match_request_{action}",
            message,
            items=[{"label": listing.title_zh, "label_en": listing.title_en, "link": thread_link(request.id)}],
            link=thread_link(request.id),
            at=at,
        )
        orgs = await self.accounts.public_organizations({request.institution_id, request.company_id})

        def values(locale: str) -> dict:
            english = locale == "en"
            return {
                "title": listing.title_en if english and listing.title_en else listing.title_zh,
                "company": orgs[request.company_id].display_name(locale),
                "institution": orgs[request.institution_id].display_name(locale),
                "due": request.response_due_on.isoformat() if request.response_due_on else "",
                "reason": reason,
            }

        await self.email(people, ACTIVITY_EMAIL.key, thread_link(request.id), subject, lead, values)

    async def email(
        self,
        people: Iterable[User],
        kind: str,
        link: str,
        subject: str,
        lead: str,
        values: Callable[[str], dict],
        open_label: str = N_("Open the conversation:"),
    ) -> int:
        """Queue one e-mail per person who wants this kind, in their language, with the link (a
        path on this site) to the thread, a way to stop this kind of e-mail and the one-click unsubscribe headers."""
        if self.settings is None:
            return 0
        base = self.settings.base_url.rstrip("/")
        queued = 0
        for person in people:
            if not await self.notifications.wants_email(person.id, kind):
                continue
            stop = f"{base}/unsubscribe/{await self.notifications.unsubscribe_token(person.id, kind)}"
            locale = person.locale if person.locale in i18n.LOCALES else self.settings.default_locale
            token = i18n.current_locale.set(locale)
            try:
                params = values(locale)
                text = "\n".join(
                    [
                        i18n.gettext("Hello %(name)s,", name=person.name),
                        "",
                        i18n.gettext(lead, **params),
                        "",
                        i18n.gettext(open_label),
                        base + link,
                        "",
                        i18n.gettext("Choose which e-mails you get: %(url)s", url=f"{base}/settings/notifications"),
                        i18n.gettext("Stop e-mails of this kind: %(url)s", url=stop),
                    ]
                )
                title = i18n.gettext(subject, **params)
            finally:
                i18n.current_locale.reset(token)
            await self.notifications.queue_email(person.email, kind, title, text + "\n", headers=unsubscribe_headers(stop))
            queued += 1
        return queued
