"""Conversation subjects: what a thread is on, as one viewer sees it (ThreadSubject), the protocol a
kind of subject follows (SubjectKind), the registry marketplace.wiring fills, and the two kinds —
a match request (`MatchRequestThreads`) and an institution's response to a need
(`NeedResponseThreads`).

Apart from the thread service because a kind is where the other domains come in: each reads its
subject through its own domain's services and decides who reads, who posts and who is told. README,
Matchmaking, says how to add one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import TTO_ROLES, Role, User
from marketplace.config import Settings
from marketplace.errors import NotFound
from marketplace.i18n import N_
from marketplace.matching.needs.lifecycle import RESPONSE_STEP_LABELS
from marketplace.matching.needs.models import ACTIVE_RESPONSE_STATES, NeedResponse
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.lifecycle import ACTION_LABELS, STEP_LABELS
from marketplace.matching.requests.models import OPEN_STATES, Side, State
from marketplace.matching.requests.services import MatchingService
from marketplace.matching.threads.models import SubjectKindName, ThreadMessage, ThreadSide
from marketplace.tenancy import Principal


@dataclass
class ThreadSubject:
    """A subject as one viewer sees it."""

    kind: str
    id: uuid.UUID
    # The viewer's party (None: reads only — an inventor, the platform admin).
    side: ThreadSide | None
    # Whether the subject still takes messages (its parties may post).
    open: bool
    # The page the thread is on (the API's routes are under "/api/v1" + path), and the subject's
    # title for notifications (zh, en).
    path: str
    title_zh: str
    title_en: str | None
    # The people of each party to tell of a new message.
    people: Callable[[ThreadSide], Awaitable[list[User]]] = field(repr=False)
    # What the kind says (message ids): to a post once it has ended, in the in-app notice of a
    # new message, and naming each side in that e-mail.
    closed_message: str = N_("This conversation is closed: the request has ended.")
    notice: str = N_("New message in a match conversation.")
    notice_kind: str = "match_thread_message"
    side_names: Mapping[ThreadSide, str] = field(
        default_factory=lambda: {ThreadSide.company: N_("the company"), ThreadSide.institution: N_("the institution")}
    )
    # The subject's steps as its conversation names them (a message's `step`).
    step_labels: Mapping[str, str] = field(default_factory=dict)
    # When the viewer's next message is the answer a step waits for (a company answering the
    # institution's question): takes that step with the message's text and returns the step's
    # message, which carries the files. What the form says then, and its button (message ids).
    answer: Callable[[str], Awaitable[ThreadMessage]] | None = field(default=None, repr=False)
    answer_hint: str = ""
    answer_button: str = ""

    @property
    def can_post(self) -> bool:
        return self.side is not None and self.open

    @property
    def link(self) -> str:
        return f"{self.path}#thread"


class SubjectKind(Protocol):
    @property
    def name(self) -> str:
        """The kind's registry key (read-only, so a kind may hold a str enum member)."""
        ...

    async def locate(self, session: AsyncSession, path_params: Mapping[str, object]) -> uuid.UUID:
        """The subject's id from a route's path values; NotFound when they do not name one."""
        ...

    async def load(
        self, session: AsyncSession, settings: Settings | None, principal: Principal, subject_id: uuid.UUID
    ) -> ThreadSubject:
        """The subject for this viewer; NotFound when the viewer may not read its thread."""
        ...


SUBJECT_KINDS: dict[str, SubjectKind] = {}


def register_subject_kind(kind: SubjectKind) -> SubjectKind:
    """Called by marketplace.wiring for each kind (idempotent)."""
    SUBJECT_KINDS[kind.name] = kind
    return kind


# A match request's parties talk until it ends without a deal; after `agreed` they still exchange
# the signed papers, so the thread stays open then too.
MATCH_POSTABLE = OPEN_STATES | {State.agreed}


class MatchRequestThreads:
    """The thread of a match request: read by the requesting company's people, the listing
    institution's TTO, the inventors named on the result (read-only) and the platform admin
    (read-only); the platform analyst, who reads requests for the figures, does not read the
    conversation. Out of scope answers 404, as for the request itself."""

    name = SubjectKindName.match_request

    async def locate(self, session, path_params):
        return path_params["request_id"]

    async def load(self, session, settings, principal, subject_id):
        principal.require()
        if principal.role == Role.platform_analyst:
            raise NotFound()
        matching = MatchingService(session, settings)
        request = await matching.get(principal, subject_id)
        side = matching.side(principal, request)
        listing = (await matching.catalog.listing_refs({request.listing_id}))[request.listing_id]

        async def people(party: ThreadSide) -> list[User]:
            return await matching.events.side_people(request, str(party))

        async def provide_info(text: str) -> ThreadMessage:
            _, message = await matching.take_step(principal, request.id, "provide_info", text)
            return message

        answering = side == Side.company and request.state == State.info_requested
        return ThreadSubject(
            kind=self.name,
            id=request.id,
            side=ThreadSide(side) if side else None,
            open=request.state in MATCH_POSTABLE,
            path=f"/match-requests/{request.id}",
            title_zh=listing.title_zh,
            title_en=listing.title_en,
            people=people,
            step_labels=STEP_LABELS,
            answer=provide_info if answering else None,
            answer_hint=N_(
                "The institution has asked for information (above). Your message answers it: the request goes back to the institution's review, with a new answer deadline."
            ),
            answer_button=ACTION_LABELS["provide_info"],
        )


class NeedResponseThreads:
    """The thread of an institution's response to a need, between the poster's side (the posting
    company's people; for a platform challenge the platform admin and the company it is for) and
    the responding institution's TTO. The platform admin reads the others; everyone else — the
    institution's inventors, the analyst, other companies and institutions — gets 404. The parties
    post while the response is live (submitted, shortlisted, selected: after a selection they
    still settle the details, as in the match request's own thread); once it is not selected or
    withdrawn the thread is read-only (409)."""

    name = SubjectKindName.need_response

    async def locate(self, session, path_params):
        found = await session.scalar(
            select(NeedResponse.id).where(
                NeedResponse.id == path_params["response_id"], NeedResponse.need_id == path_params["need_id"]
            )
        )
        if found is None:
            raise NotFound()
        return found

    async def load(self, session, settings, principal, subject_id):
        principal.require()
        if principal.role == Role.platform_analyst:
            raise NotFound()
        needs = NeedService(session)
        need_id = await session.scalar(select(NeedResponse.need_id).where(NeedResponse.id == subject_id))
        if need_id is None:
            raise NotFound()
        need, response = await needs.get_response(principal, need_id, subject_id)
        side = needs.conversation_side(principal, need, response)
        if side is None and principal.role != Role.platform_admin:
            raise NotFound()
        institution = await needs.accounts.public_organization(response.institution_id)

        async def people(party: ThreadSide) -> list[User]:
            if party == ThreadSide.company:
                return await needs.poster_people(need)
            return await needs.accounts.member_contacts(response.institution_id, TTO_ROLES)

        return ThreadSubject(
            kind=self.name,
            id=response.id,
            side=ThreadSide(side) if side else None,
            open=response.state in ACTIVE_RESPONSE_STATES,
            path=f"/needs/{need.id}/responses/{response.id}",
            title_zh=f"{need.title}（{institution.name_zh}）",
            title_en=f"{need.title} ({institution.name_en or institution.name_zh})",
            people=people,
            closed_message=N_("This conversation is closed: the response is no longer under consideration."),
            notice=N_("New message on a response to a need."),
            notice_kind="need_response_thread_message",
            side_names={ThreadSide.company: N_("the poster of the need"), ThreadSide.institution: N_("the institution")},
            step_labels=RESPONSE_STEP_LABELS,
        )
