"""Loading the two years of history (history.py's plan, data/history.yaml) through the services,
each step with its own moment in the past: the people it needs, the match requests and their
answers, the licences (history_licences.py), the needs and the bed allocations. Loaded after every
other demo loader, on results and listings none of them uses, so their stories stay as they are."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.demo import people
from marketplace.demo.history import DATA, PlannedRequest, plan
from marketplace.demo.licensing import HistoryDays
from marketplace.tenancy import Principal

INVENTOR = "inventor@pujiang.example"


async def load_demo_history(session: AsyncSession, organizations: dict[str, uuid.UUID], now: datetime) -> int:
    """Make the plan; `organizations` maps every organization's Chinese name to its id. Returns the
    match requests made."""
    from marketplace.demo.history_licences import load_history_licences

    await _people(session, organizations)
    demo = HistoryDays(session, organizations, now)
    planned = plan()
    made = await _requests(demo, planned)
    await load_history_licences(demo, planned, made)
    await _needs(demo)
    await _beds(demo)
    await session.flush()
    return len(made)


async def _people(session: AsyncSession, organizations: dict[str, uuid.UUID]) -> None:
    """The history's TTO managers and company administrators, invited by the platform admin."""
    from marketplace.accounts.services import AccountService
    from marketplace.demo.organizations import DEMO_PASSWORD

    accounts = AccountService(session)
    admin = await people.principal(accounts, await people.user_id(accounts, "admin@demo.example"))
    for row in DATA["people"]:
        _invitation, _user, token = await accounts.invite(
            admin,
            organizations[row["organization"]],
            email=row["email"],
            name=row["name"],
            role=row["role"],
            ttl=timedelta(days=1),
        )
        await accounts.accept_invitation(token, password=DEMO_PASSWORD)


async def _tto(demo: HistoryDays, institution: str) -> Principal:
    institution_id = demo.institutions[institution]
    return await demo.person(DATA["institutions"][institution]["tto"], institution_id)


async def _listings_in_use(demo: HistoryDays) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Listings the other loaders' requests and licences use: the history leaves them alone."""
    from marketplace.licensing.models import AgreementResult, OpenLicence
    from marketplace.matching.requests.models import MatchRequest

    requested = set(await demo.session.scalars(select(MatchRequest.listing_id)))
    licensed = set(await demo.session.scalars(select(AgreementResult.listing_id)))
    licensed |= set(await demo.session.scalars(select(OpenLicence.listing_id)))
    return requested, licensed


async def _requests(demo: HistoryDays, planned: list[PlannedRequest]) -> dict[int, uuid.UUID]:
    """Every planned request on one of its institution's published results: one of its own, never
    licensed, for a request that becomes a licence; any other (a company asks once) for the rest.
    None names the demo inventor, whose followed requests stay the demo's few."""
    from marketplace.catalog.models import OwnershipModel, Status
    from marketplace.matching.requests.models import EngagementType
    from marketplace.matching.requests.schemas import MatchRequestCreate
    from marketplace.matching.requests.services import MatchingService

    service = MatchingService(demo.session)
    inventor = await people.user_id(demo.accounts, INVENTOR)
    requested, licensed = await _listings_in_use(demo)
    nda = await service.catalog.current_nda_version()
    licensable: dict[str, list[uuid.UUID]] = {}
    others: dict[str, list[uuid.UUID]] = {}
    licences = {name: sum(1 for r in planned if r.institution == name and r.agreement) for name in DATA["institutions"]}
    for name in DATA["institutions"]:
        tto = await _tto(demo, name)
        found, _total = await service.catalog.search(
            tto, kind="result", institution_id=demo.institutions[name], status=Status.published, page_size=1000
        )
        mine = [r for r in sorted(found, key=lambda r: r.title_zh) if not any(i.user_id == inventor for i in r.inventors)]
        mine = [r for r in mine if r.id not in requested]
        licensable[name] = [
            r.id for r in mine if r.inventors and r.ownership_model == OwnershipModel.institution and r.id not in licensed
        ][: licences[name]]
        others[name] = [r.id for r in mine if r.id not in licensable[name]]
    asked: set[tuple[str, uuid.UUID]] = set()
    turn = dict.fromkeys(others, 0)
    made: dict[int, uuid.UUID] = {}
    reasons = DATA["reasons"]
    for item in planned:
        if item.agreement is not None:
            listing = licensable[item.institution].pop(0)
        else:
            pool = [r for r in others[item.institution] if (item.company, r) not in asked]
            listing = pool[turn[item.institution] % len(pool)]
            turn[item.institution] += 1
        asked.add((item.company, listing))
        company = await demo.person(item.company)
        data = MatchRequestCreate(
            listing_id=listing,
            engagement_type=EngagementType(item.engagement),
            purpose=DATA["purpose"],
            timeline=DATA["timeline"],
            message="",
            nda_version=nda,
            accept_nda=True,
        )
        request = await service.create(company, data, now=demo.at(item.sent))
        tto = await _tto(demo, item.institution)
        for step in item.steps:
            actor = tto if step.side == "tto" else company
            await service.transition(actor, request.id, step.action, reasons.get(step.action, ""), now=demo.at(step.days_ago))
        made[item.number] = request.id
    return made


async def _needs(demo: HistoryDays) -> None:
    """Needs posted, published and answered on their days; one response selected (which opens a
    negotiating match request) or the need closed."""
    from marketplace.catalog.models import Status
    from marketplace.matching.needs.schemas import NeedCreate, ResponseCreate
    from marketplace.matching.needs.services import NeedService

    service = NeedService(demo.session)
    requested, licensed = await _listings_in_use(demo)
    nda = await service.catalog.current_nda_version()
    for item in DATA["needs"]:
        poster = await demo.person(item["poster"])
        posted = item["days_ago"]
        data = NeedCreate(
            title=item["title"],
            problem=DATA["need_problem"],
            therapeutic_areas=item["areas"],
            wanted=item["wanted"],
            deadline=demo.day(posted - 60),
        )
        need = await service.create(poster, data, now=demo.at(posted))
        await service.transition(poster, need.id, "publish", now=demo.at(posted))
        responses = []
        for place, name in enumerate(item["institutions"]):
            tto = await _tto(demo, name)
            found, _total = await service.catalog.search(
                tto, kind="resource", institution_id=demo.institutions[name], status=Status.published, page_size=1000
            )
            listing = next(r.id for r in sorted(found, key=lambda r: r.title_zh) if r.id not in requested | licensed)
            requested.add(listing)
            answer = ResponseCreate(proposal=DATA["need_problem"], listing_ids=[listing], timeline=DATA["timeline"])
            responses.append(await service.respond(tto, need.id, answer, now=demo.at(posted - 3 - 2 * place)))
        if item["select"] is not None:
            chosen = responses[item["select"]]
            await service.move_response(poster, need.id, chosen.id, "select", nda_version=nda, now=demo.at(posted - 25))
        else:
            await service.transition(poster, need.id, "close", DATA["reasons"]["withdraw"], now=demo.at(posted - 40))


async def _beds(demo: HistoryDays) -> None:
    """Allocations over the past year on the demo's wards, asked for 20 days before their first
    day, answered 10 days later, started and completed on their days (or declined, or cancelled)."""
    from marketplace.beds.models import Ward
    from marketplace.beds.schemas import AllocationIn, TransitionIn
    from marketplace.beds.services import BedsService

    service = BedsService(demo.session)
    wards = {w.name: w for w in await demo.session.scalars(select(Ward))}
    names = {v: k for k, v in demo.institutions.items()}
    reasons = DATA["bed_reasons"]
    for item in DATA["beds"]:
        ward = wards[item["ward"]]
        company = await demo.person(item["company"])
        assert company.organization_id is not None, "a company's administrator acts for it"
        sponsor = (await demo.accounts.public_organization(company.organization_id)).name_zh
        first = demo.day(item["days_ago"])
        data = AllocationIn(
            ward_id=ward.id,
            bed_count=item["beds"],
            starts_on=first,
            ends_on=first + timedelta(days=item["days"] - 1),
            trial_title=item["title"],
            phase=item["phase"],
            sponsor=sponsor,
            pi_name=item["pi"],
        )
        allocation = await service.request_allocation(company, data, today=demo.day(item["days_ago"] + 20))
        tto = await _tto(demo, names[ward.institution_id])
        end = item["end"]
        steps: list[tuple[Principal, str, float]]
        if end == "declined":
            steps = [(tto, "decline", item["days_ago"] + 10)]
        elif end == "cancelled":
            steps = [(tto, "approve", item["days_ago"] + 10), (company, "cancel", item["days_ago"] + 5)]
        else:
            last = item["days_ago"] - item["days"] + 1
            steps = [(tto, "approve", item["days_ago"] + 10), (tto, "start", item["days_ago"]), (tto, "complete", last)]
        for actor, action, days_ago in steps:
            change = TransitionIn(action=action, reason=reasons.get(end, "") if action in ("decline", "cancel") else "")
            await service.transition_allocation(actor, allocation.id, change, now=demo.on(demo.day(days_ago)))
