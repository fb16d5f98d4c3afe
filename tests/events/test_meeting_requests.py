"""Meeting requests between registered teams (meeting_requests.py): who may ask whom, about what,
how many, the duplicate pair, the answers and what they do to the meeting, and who hears of it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import make_sessionmaker
from marketplace.errors import Conflict, Duplicate, Forbidden, InvalidInput, NotFound
from marketplace.events.meeting_requests import MeetingRequestsService
from marketplace.events.meeting_schemas import MeetingRequestCreate, MeetingRequestTransitionIn
from marketplace.events.models import EventState, Meeting, MeetingRequest, MeetingRequestState, MeetingState
from marketplace.events.placing import PlacingService
from marketplace.notifications.models import Notification, OutgoingEmail
from marketplace.notifications.services import send_queued_emails
from tests.events.factories import seed_event, seed_registration
from tests.events.meeting_factories import bring, meetings_of_event, other_admin, present, principal, seats_of_event, teams
from tests.matching.needs.factories import open_need


def ask(to, **extra) -> MeetingRequestCreate:
    return MeetingRequestCreate(to_registration_id=to.id, message=extra.pop("message", "想聊聊合作"), **extra)


def step(action: str, reason: str = "", host_user_id=None) -> MeetingRequestTransitionIn:
    return MeetingRequestTransitionIn(action=action, reason=reason, host_user_id=host_user_id)


async def test_a_company_asks_an_institution_about_a_presented_listing(db, world, settings) -> None:
    t = await teams(db, world)
    listing_id = await present(db, world, t.event, t.institution)
    service = MeetingRequestsService(db, settings)
    company = await principal(db, world, Role.company_admin)
    created = await service.create(company, t.event.id, ask(t.institution, listing_id=listing_id))
    await db.commit()
    assert (created.asked_by, created.listing_id, created.state) == ("company", listing_id, "requested")
    assert created.requested_by_user_id == company.user_id
    assert (created.institution_id, created.company_id) == (t.institution.organization_id, t.company.organization_id)


async def test_same_kind_not_registered_and_wrong_subjects_are_refused(db, world, settings) -> None:
    t = await teams(db, world)
    service = MeetingRequestsService(db, settings)
    company = await principal(db, world, Role.company_admin)
    with pytest.raises(InvalidInput) as same_kind:
        await service.create(company, t.event.id, ask(t.other_company))
    assert same_kind.value.errors[0].field == "to_registration_id"
    # A listing the institution does not present here.
    listing_id = await present(db, world, t.event, t.institution)
    with pytest.raises(InvalidInput) as not_presented:
        await service.create(company, t.event.id, ask(t.other_institution, listing_id=listing_id))
    assert not_presented.value.errors[0].field == "listing_id"
    # An institution does not ask about a listing, nor a company about a need.
    tto = await principal(db, world, Role.tto_manager)
    with pytest.raises(InvalidInput) as listing_from_institution:
        await service.create(tto, t.event.id, ask(t.company, listing_id=listing_id))
    assert listing_from_institution.value.errors[0].field == "listing_id"
    with pytest.raises(InvalidInput) as unknown_need:
        await service.create(tto, t.event.id, ask(t.company, need_id=uuid.uuid4()))
    assert unknown_need.value.errors[0].field == "need_id"
    # A team from another event is not a team of this one.
    elsewhere = await seed_event(db, world)
    stranger = await seed_registration(db, elsewhere, world.orgs["institution/other"])
    with pytest.raises(InvalidInput):
        await service.create(company, t.event.id, ask(stranger))


async def test_an_unregistered_team_and_roles_that_do_not_ask_are_refused(db, world, settings) -> None:
    event = await seed_event(db, world)
    institution = await seed_registration(db, event, world.orgs["institution/own"])
    service = MeetingRequestsService(db, settings)
    with pytest.raises(Conflict):
        await service.create(await principal(db, world, Role.company_admin), event.id, ask(institution))
    with pytest.raises(Forbidden):
        await service.create(await principal(db, world, Role.inventor), event.id, ask(institution))
    with pytest.raises(Forbidden):
        await service.create(await principal(db, world, Role.platform_analyst), event.id, ask(institution))


async def test_an_institution_asks_a_company_about_a_need_it_brings(client, db, world, settings) -> None:
    t = await teams(db, world)
    need = await open_need(client, world, Role.company_admin)
    await bring(db, t.company, uuid.UUID(need["id"]))
    service = MeetingRequestsService(db, settings)
    created = await service.create(
        await principal(db, world, Role.tto_manager), t.event.id, ask(t.company, need_id=uuid.UUID(need["id"]))
    )
    assert (created.asked_by, created.need_id) == ("institution", uuid.UUID(need["id"]))


async def test_the_asker_person_must_come_to_the_event(db, world, settings) -> None:
    t = await teams(db, world)
    service = MeetingRequestsService(db, settings)
    member = await principal(db, world, Role.company_member)  # not an attendee: the contact asks
    created = await service.create(member, t.event.id, ask(t.institution))
    assert created.requested_by_user_id == t.company.contact_user_id
    with pytest.raises(InvalidInput) as named:
        await service.create(member, t.event.id, ask(t.other_institution, requested_by_user_id=member.user_id))
    assert named.value.errors[0].field == "requested_by_user_id"


async def test_a_live_pair_is_one_request_whichever_side_asked(db, world, settings) -> None:
    t = await teams(db, world)
    service = MeetingRequestsService(db, settings)
    first = await service.create(await principal(db, world, Role.company_admin), t.event.id, ask(t.institution))
    await db.commit()
    with pytest.raises(Duplicate) as duplicate:
        await service.create(await principal(db, world, Role.tto_manager), t.event.id, ask(t.company))
    assert duplicate.value.status_code == 409 and duplicate.value.existing == first.id


async def test_the_limit_of_live_requests_sent(db, world, settings) -> None:
    t = await teams(db, world, request_limit=1)
    service = MeetingRequestsService(db, settings)
    company = await principal(db, world, Role.company_admin)
    event_id, first_id = t.event.id, (await service.create(company, t.event.id, ask(t.institution))).id
    await db.commit()
    with pytest.raises(Conflict) as over:
        await service.create(company, event_id, ask(t.other_institution))
    assert over.value.errors[0].field == "to_registration_id"
    # A withdrawn request no longer counts.
    await service.transition(company, event_id, first_id, step("withdraw"))
    await db.commit()
    await service.create(company, event_id, ask(t.other_institution))


async def test_two_submissions_at_once_cannot_both_pass_the_limit(db, world, settings, engine) -> None:
    t = await teams(db, world, request_limit=1)
    company = await principal(db, world, Role.company_admin)
    sessionmaker = make_sessionmaker(engine)

    async def submit(target) -> str:
        async with sessionmaker() as session:
            try:
                await MeetingRequestsService(session, settings).create(company, t.event.id, ask(target))
                await asyncio.sleep(0.2)  # hold the lock while the other waits
                await session.commit()
                return "ok"
            except Conflict:
                await session.rollback()
                return "refused"

    results = await asyncio.gather(submit(t.institution), submit(t.other_institution))
    assert sorted(results) == ["ok", "refused"]
    count = await db.scalar(select(MeetingRequest.id).where(MeetingRequest.from_registration_id == t.company.id))
    assert count is not None


async def test_accepting_creates_the_meeting_with_the_chosen_host(db, world, settings) -> None:
    t = await teams(db, world)
    service = MeetingRequestsService(db, settings)
    created = await service.create(await principal(db, world, Role.company_admin), t.event.id, ask(t.institution))
    tto = await principal(db, world, Role.tto_manager)
    stranger = await principal(db, world, Role.tto_staff)  # of the institution, but does not come
    with pytest.raises(InvalidInput) as bad_host:
        await service.transition(tto, t.event.id, created.id, step("accept", host_user_id=stranger.user_id))
    assert bad_host.value.errors[0].field == "host_user_id"
    accepted = await service.transition(tto, t.event.id, created.id, step("accept"))
    await db.commit()
    assert (accepted.state, accepted.host_user_id) == ("accepted", t.institution.contact_user_id)
    meeting = await db.scalar(select(Meeting).where(Meeting.meeting_request_id == created.id))
    assert meeting is not None and meeting.state == MeetingState.unplaced


async def test_only_the_asked_side_answers_and_decline_needs_a_reason(db, world, settings) -> None:
    t = await teams(db, world)
    service = MeetingRequestsService(db, settings)
    company = await principal(db, world, Role.company_admin)
    created = await service.create(company, t.event.id, ask(t.institution))
    with pytest.raises(Forbidden):
        await service.transition(company, t.event.id, created.id, step("accept"))
    tto = await principal(db, world, Role.tto_manager)
    with pytest.raises(InvalidInput):
        await service.transition(tto, t.event.id, created.id, step("decline"))
    declined = await service.transition(tto, t.event.id, created.id, step("decline", "时间冲突"))
    assert (declined.state, declined.state_reason) == ("declined", "时间冲突")


async def test_calling_off_cancels_the_meeting_and_frees_its_seats(db, world, settings) -> None:
    t = await teams(db, world, EventState.registration_open)
    service = MeetingRequestsService(db, settings)
    created = await service.create(await principal(db, world, Role.company_admin), t.event.id, ask(t.institution))
    tto = await principal(db, world, Role.tto_manager)
    await service.transition(tto, t.event.id, created.id, step("accept"))
    await db.commit()
    t.event.state = EventState.scheduling
    await db.commit()
    await PlacingService(db).run(await principal(db, world, Role.platform_admin), t.event.id)
    await db.commit()
    assert len(await seats_of_event(db, t.event.id)) == 3
    called_off = await service.transition(tto, t.event.id, created.id, step("cancel", "临时有事"))
    await db.commit()
    assert called_off.state == MeetingRequestState.cancelled
    (meeting,) = await meetings_of_event(db, t.event.id)
    assert (meeting.state, meeting.slot, meeting.table_no) == (MeetingState.cancelled, None, None)
    assert await seats_of_event(db, t.event.id) == []


async def test_outsiders_get_404(db, world, settings) -> None:
    t = await teams(db, world)
    service = MeetingRequestsService(db, settings)
    created = await service.create(await principal(db, world, Role.company_admin), t.event.id, ask(t.institution))
    await db.commit()
    outsider = await other_admin(db, world, "company")
    with pytest.raises(NotFound):
        await service.get(outsider, t.event.id, created.id)
    with pytest.raises(NotFound):
        await service.transition(outsider, t.event.id, created.id, step("withdraw"))
    _, listed = await service.list(outsider, t.event.id)
    assert listed == []
    # A draft event is its organizer's alone.
    draft = await seed_event(db, world, EventState.draft)
    with pytest.raises(NotFound):
        await service.list(await principal(db, world, Role.company_admin), draft.id)


async def test_the_other_side_hears_in_app_and_by_e_mail(db, world, settings, engine, mailbox) -> None:
    t = await teams(db, world, title="对接会\n第二场")
    service = MeetingRequestsService(db, settings)
    created = await service.create(await principal(db, world, Role.company_admin), t.event.id, ask(t.institution))
    await db.commit()
    tto = await principal(db, world, Role.tto_manager)
    notices = list(await db.scalars(select(Notification).where(Notification.user_id == tto.user_id)))
    assert [n.kind for n in notices] == ["event_meeting_request_created"]
    assert notices[0].link == f"/events/{t.event.id}/meetings"
    await service.transition(tto, t.event.id, created.id, step("decline", "日程已满"))
    await db.commit()
    company = await principal(db, world, Role.company_admin)
    assert (
        await db.scalar(select(Notification.kind).where(Notification.user_id == company.user_id))
        == "event_meeting_request_decline"
    )
    assert await db.scalar(select(OutgoingEmail.kind).limit(1)) == "event_meeting_requests"
    assert await send_queued_emails(settings, make_sessionmaker(engine)) == 2
    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert all("\n" not in s for s in subjects) and any("对接会 第二场" in s for s in subjects)
    declined = next(m for m in mailbox.messages if m["To"] == world.emails[Role.company_admin])
    assert "日程已满" in declined.get_content()


async def test_requests_stop_when_the_event_closes(db, world, settings) -> None:
    t = await teams(db, world, EventState.closed)
    with pytest.raises(Conflict):
        await MeetingRequestsService(db, settings).create(
            await principal(db, world, Role.company_admin), t.event.id, ask(t.institution)
        )
