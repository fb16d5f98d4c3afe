"""Who is told what about needs' responses: the e-mail kinds people choose in their settings, and
the in-app notice and queued e-mail for the poster's side (a response came) and for the institution
(a decision on its response). A mixin of NeedService, apart from the rules that decide the steps."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Organization, Role, User
from marketplace.accounts.services import AccountService
from marketplace.config import Settings
from marketplace.i18n import N_
from marketplace.matching.events import MatchEvents
from marketplace.matching.needs.models import Need, NeedKind, NeedResponse, ResponseState
from marketplace.notifications.services import EmailKind, NotificationService

RESPONSE_EMAIL = EmailKind(
    "need_responses",
    N_("Responses to your needs"),
    N_("When an institution responds to a need or challenge your organization posted."),
    roles=COMPANY_ROLES | {Role.platform_admin},  # those who post needs
)
DECISION_EMAIL = EmailKind(
    "need_response_decisions",
    N_("Decisions on your responses"),
    N_("When the poster of a need shortlists, selects or passes over your institution's response."),
    roles=TTO_ROLES,  # those who respond to needs
)


class NeedNotices:
    """NeedService's notices; its __init__ sets these."""

    session: AsyncSession
    settings: Settings | None
    accounts: AccountService
    notifications: NotificationService

    async def poster_people(self, need: Need) -> list[User]:
        """The poster's side: the company's people for a need; for a challenge the platform's
        admins and the people of the company it is for."""
        people: list[User] = []
        if need.kind == NeedKind.need:
            people += await self.accounts.member_contacts(need.organization_id, COMPANY_ROLES)
        else:
            people += await self.accounts.member_contacts(need.organization_id, frozenset({Role.platform_admin}))
        if need.on_behalf_of_id:
            people += await self.accounts.member_contacts(need.on_behalf_of_id, COMPANY_ROLES)
        return list({p.id: p for p in people}.values())

    async def _tell_poster(self, need: Need, message: str, *, institution: Organization) -> None:
        people = await self.poster_people(need)
        params = {"institution": institution.name_zh, "title": need.title}
        await self._deliver(people, "need_response", message, params, f"/needs/{need.id}#responses", RESPONSE_EMAIL.key)

    async def _tell_institution(self, need: Need, response: NeedResponse) -> None:
        message = {
            ResponseState.shortlisted: N_("Your response to “%(title)s” has been shortlisted."),
            ResponseState.selected: N_("Your response to “%(title)s” has been selected: the match is open for negotiation."),
            ResponseState.not_selected: N_("Your response to “%(title)s” was not selected."),
        }.get(ResponseState(response.state))
        if message is None:
            return
        people = await self.accounts.member_contacts(response.institution_id, TTO_ROLES)
        link = f"/match-requests/{response.match_request_id}" if response.match_request_id else f"/needs/{need.id}#responses"
        await self._deliver(people, "need_response_decision", message, {"title": need.title}, link, DECISION_EMAIL.key)

    async def _deliver(self, people, kind: str, message: str, params: dict, link: str, email_kind: str) -> None:
        """In-app, and an e-mail queued in this transaction (sent once it commits) to each who wants it."""
        people = list({p.id: p for p in people}.values())
        await self.notifications.notify([p.id for p in people], kind, message, params=params, link=link)
        await MatchEvents(self.session, self.settings).email(
            people, email_kind, link, message, message, lambda _locale: params, open_label=N_("Open it:")
        )
