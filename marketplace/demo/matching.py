"""Demo match requests and needs (data/matching.yaml), made through the matching services with a
clock in the past, so that deadlines, the history and confidential access are what they would be.

Matching is imported inside the functions: its modules may move without this module's top changing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Status
from marketplace.catalog.services import CatalogService
from marketplace.db import CHINA_TIME, china_day
from marketplace.demo import people
from marketplace.demo.tables import table
from marketplace.tenancy import Principal
from marketplace.working_days import add_working_days

_DATA = table("matching")
_DEFAULTS = _DATA["defaults"]
TTO: dict[str, str] = _DATA["tto"]  # institution name → the person who answers for it
INVENTOR = "inventor@pujiang.example"


@dataclass(frozen=True)
class DemoRequest:
    company: str  # the requesting person's e-mail
    institution: str  # a foundation institution's Chinese name
    kind: str
    engagement: str
    days_ago: float  # when it was sent
    # (days ago, action, acting e-mail, reason) after the request was sent
    steps: tuple[tuple[float, str, str, str], ...] = ()
    purpose: str = _DEFAULTS["purpose"]
    timeline: str = _DEFAULTS["timeline"]
    budget_wan: tuple[int | None, int | None] = (None, None)
    names_inventor: bool = False  # a Pujiang result naming the demo inventor
    due_soon: bool = False  # sent so that the answer is due within the reminder window


@dataclass(frozen=True)
class DemoResponse:
    institution: str
    listing: str | None = None  # the proposed listing's title; None: the institution's first published listing
    then: str | None = None  # shortlist | select | decline | withdraw


@dataclass(frozen=True)
class DemoNeed:
    poster: str  # e-mail of the posting person (the platform admin posts challenges)
    title: str
    problem: str
    areas: tuple[str, ...]
    wanted: tuple[str, ...]
    days_left: int
    budget_wan: tuple[int | None, int | None] = (None, None)
    publish: bool = True
    on_behalf_of: str | None = None  # a challenge for this company (an e-mail of one of its people)
    invited: tuple[str, ...] = ()  # invited-only, for these institutions
    responses: tuple[DemoResponse, ...] = ()
    close: str | None = None  # the poster closes it early, with this reason
    expect: str | None = None  # the listing recommendations should rank in its top 5 (tests)


def _request(row: dict) -> DemoRequest:
    steps = tuple((s["days_ago"], s["action"], s["by"], s.get("reason", "")) for s in row.get("steps", ()))
    return DemoRequest(**{**row, "steps": steps, "budget_wan": tuple(row.get("budget_wan", (None, None)))})


def _need(row: dict) -> DemoNeed:
    return DemoNeed(
        **{
            **row,
            "areas": tuple(row["areas"]),
            "wanted": tuple(row["wanted"]),
            "invited": tuple(row.get("invited", ())),
            "budget_wan": tuple(row.get("budget_wan", (None, None))),
            "responses": tuple(DemoResponse(**r) for r in row.get("responses", ())),
        }
    )


REQUESTS = [_request(row) for row in _DATA["requests"]]
NEEDS = [_need(row) for row in _DATA["needs"]]


def _fen(wan: int | None) -> int | None:
    return None if wan is None else wan * 1_000_000


def demo_states() -> dict[str, int]:
    """How many demo requests end in each state (every state has at least one)."""
    from marketplace.matching.requests.models import State

    ends: dict[str, int] = {}
    for item in REQUESTS:
        state = State.submitted
        consents = 0
        for _, action, _, _ in item.steps:
            if action == "agree":
                consents += 1
                state = State.agreed if consents == 2 else state
            else:
                state = {
                    "review": State.under_review,
                    "request_info": State.info_requested,
                    "accept": State.accepted,
                    "decline": State.declined,
                    "start_negotiation": State.negotiating,
                    "close_no_deal": State.closed_no_deal,
                    "withdraw": State.withdrawn,
                }[action]
        ends[state] = ends.get(state, 0) + 1
    return ends


def demo_need_states() -> tuple[dict[str, int], dict[str, int]]:
    """How many demo needs end in each state, and responses in each state."""
    needs: dict[str, int] = {}
    responses: dict[str, int] = {}
    for item in NEEDS:
        selected = any(r.then == "select" for r in item.responses)
        state = "awarded" if selected else "closed" if item.close else "open" if item.publish else "draft"
        needs[state] = needs.get(state, 0) + 1
        for r in item.responses:
            end = {"shortlist": "shortlisted", "select": "selected", "decline": "not_selected", "withdraw": "withdrawn"}.get(
                r.then or "", "not_selected" if selected else "submitted"
            )
            responses[end] = responses.get(end, 0) + 1
    return needs, responses


class _People:
    """Principals by e-mail (and organization), looked up once."""

    def __init__(self, session: AsyncSession) -> None:
        self.accounts = AccountService(session)
        self.known: dict[tuple[str, uuid.UUID | None], Principal] = {}

    async def __call__(self, email: str, organization_id: uuid.UUID | None = None) -> Principal:
        key = (email, organization_id)
        if key not in self.known:
            self.known[key] = await people.principal(self.accounts, await people.user_id(self.accounts, email), organization_id)
        return self.known[key]


async def load_demo_requests(session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime) -> int:
    """Make REQUESTS; `institutions` maps the foundation institutions' Chinese names to their ids."""
    from marketplace.matching.requests.models import EngagementType
    from marketplace.matching.requests.schemas import MatchRequestCreate
    from marketplace.matching.requests.services import MatchingService

    service = MatchingService(session)
    principal = _People(session)
    inventor = await people.user_id(principal.accounts, INVENTOR)
    used: set[uuid.UUID] = set()
    today = china_day(now)
    for item in REQUESTS:
        viewer = await principal(item.company)
        listing = await _pick_listing(service.catalog, viewer, institutions[item.institution], item, inventor, used)
        used.add(listing)
        sent = now - timedelta(days=item.days_ago)
        if item.due_soon:
            # Sent nine working days ago at 10:00: with ten to answer, the answer is due next.
            sent = datetime.combine(add_working_days(today, -9), time(10), CHINA_TIME)
        low, high = item.budget_wan
        data = MatchRequestCreate(
            listing_id=listing,
            engagement_type=EngagementType(item.engagement),
            purpose=item.purpose,
            timeline=item.timeline,
            budget_min_fen=_fen(low),
            budget_max_fen=_fen(high),
            message="",
            nda_version=1,
            accept_nda=True,
        )
        request = await service.create(viewer, data, now=sent)
        for days_ago, action, email, reason in item.steps:
            await service.transition(await principal(email), request.id, action, reason, now=now - timedelta(days=days_ago))
    await session.flush()
    return len(REQUESTS)


async def _pick_listing(
    catalog: CatalogService,
    viewer,
    institution_id: uuid.UUID,
    item: DemoRequest,
    inventor_id: uuid.UUID,
    used: set[uuid.UUID],
) -> uuid.UUID:
    """The first published listing of the kind (by title) not yet used, naming the inventor if asked."""
    found, _total = await catalog.search(
        viewer, kind=item.kind, institution_id=institution_id, status=Status.published, page_size=1000
    )
    for listing in sorted(found, key=lambda x: x.title_zh):
        if listing.id in used:
            continue
        if item.names_inventor and not any(person.user_id == inventor_id for person in listing.inventors):
            continue
        return listing.id
    raise LookupError(f"no demo listing for {item}")


async def load_demo_needs(session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime) -> int:
    """Make NEEDS through the service, with their responses and decisions."""
    from marketplace.matching.needs.schemas import NeedCreate, ResponseCreate
    from marketplace.matching.needs.services import NeedService

    service = NeedService(session)
    principal = _People(session)
    today = china_day(now)
    nda = await service.catalog.current_nda_version()
    for item in NEEDS:
        poster = await principal(item.poster)
        low, high = item.budget_wan
        behalf = (await principal(item.on_behalf_of)).organization_id if item.on_behalf_of else None
        data = NeedCreate(
            title=item.title,
            problem=item.problem,
            therapeutic_areas=list(item.areas),
            wanted=list(item.wanted),
            budget_min_fen=_fen(low),
            budget_max_fen=_fen(high),
            deadline=today + timedelta(days=item.days_left),
            visibility="invited" if item.invited else "public",
            invited_institution_ids=[institutions[name] for name in item.invited],
            on_behalf_of_id=behalf,
        )
        need = await service.create(poster, data, now=now)
        if not item.publish:
            continue
        await service.transition(poster, need.id, "publish", now=now)
        made = []
        for answer in item.responses:  # every response first, then the decisions
            tto = await principal(TTO[answer.institution])
            listing = await _listing_for(service.catalog, tto, institutions[answer.institution], answer.listing)
            response = await service.respond(
                tto,
                need.id,
                ResponseCreate(
                    proposal=_DEFAULTS["response"],
                    listing_ids=[listing],
                    timeline=_DEFAULTS["response_timeline"],
                ),
                now=now,
            )
            made.append((answer, tto, response))
        for answer, tto, response in made:
            if answer.then:
                actor = tto if answer.then == "withdraw" else poster
                await service.move_response(
                    actor, need.id, response.id, answer.then, nda_version=nda if answer.then == "select" else None, now=now
                )
        if item.close:
            await service.transition(poster, need.id, "close", item.close, now=now)
    await session.flush()
    return len(NEEDS)


async def _listing_for(catalog: CatalogService, viewer, institution_id: uuid.UUID, title: str | None) -> uuid.UUID:
    found, _total = await catalog.search(viewer, institution_id=institution_id, status=Status.published, page_size=1000)
    for listing in sorted(found, key=lambda x: x.title_zh):
        if title is None or listing.title_zh == title:
            return listing.id
    raise LookupError(f"no demo listing {title!r}")
