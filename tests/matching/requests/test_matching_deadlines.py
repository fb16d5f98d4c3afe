"""The institution's response deadline: China's working days (public holidays and make-up working
days from the holidays package), the response time each institution sets, what counts as an
answer, overdue requests flagged and counted, and the reminder e-mail two working days before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization, Role
from marketplace.audit.models import AuditEvent
from marketplace.db import china_day, make_sessionmaker
from marketplace.matching.requests.deadlines import send_response_reminders
from marketplace.matching.requests.models import MatchRequest
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from marketplace.notifications.services import NotificationService, send_queued_emails
from marketplace.working_days import add_working_days, response_due_on, working_days_late
from tests.catalog.factories import published
from tests.matching.requests.factories import match_body, move
from tests.support.web import login, post_form


def at(day: str, hour: int = 10) -> datetime:
    """A moment of a China-time day (UTC+8)."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


@pytest.mark.parametrize(
    ("submitted", "days", "due"),
    [
        # National Day 2026: 1–7 October off, Saturday 10 October a make-up working day (调休).
        ("2026-09-30", 10, "2026-10-20"),
        # Spring Festival 2026: 15–23 February off; Saturday 14 February a make-up working day.
        ("2026-02-13", 3, "2026-02-25"),
        # Sunday 20 September 2026 is a make-up working day, Saturday 19 September is not.
        ("2026-09-18", 2, "2026-09-21"),
        # New Year 2026: 1–3 January off, Sunday 4 January worked.
        ("2025-12-31", 1, "2026-01-04"),
        # Labour Day 2026: 1–5 May off, Saturday 9 May worked: 6, 7, 8, 9 and 11 May.
        ("2026-04-30", 5, "2026-05-11"),
        # An ordinary week: the day of submission does not count.
        ("2026-11-23", 10, "2026-12-07"),
    ],
)
def test_the_deadline_counts_china_working_days(submitted, days, due) -> None:
    assert response_due_on(at(submitted), days) == date.fromisoformat(due)


def test_the_day_of_submission_is_china_time() -> None:
    # 23:30 in Beijing on Friday 18 September is 15:30 UTC the same day: the clock starts Monday-ish.
    late_friday = datetime(2026, 9, 18, 15, 30, tzinfo=UTC)
    assert china_day(late_friday) == date(2026, 9, 18)
    # 00:30 in Beijing on Saturday is still Friday in UTC.
    early_saturday = datetime(2026, 9, 18, 16, 30, tzinfo=UTC)
    assert china_day(early_saturday) == date(2026, 9, 19)
    assert response_due_on(early_saturday, 1) == date(2026, 9, 20)  # the make-up Sunday


def test_reminders_and_lateness_count_working_days_too() -> None:
    due = date(2026, 10, 9)  # Friday after National Day
    assert add_working_days(due, -2) == date(2026, 9, 30)  # 8 October, then back across the holiday week
    assert working_days_late(due, date(2026, 10, 9)) == 0
    assert working_days_late(due, date(2026, 10, 11)) == 1  # Saturday the 10th was worked, Sunday not
    assert working_days_late(due, date(2026, 10, 12)) == 2


async def new_request(db, world, *, now: datetime | None = None, relation: str = "own") -> MatchRequest:
    listing_id = await published(db, world, relation=relation)
    email = world.emails[Role.company_member] if relation == "own" else "admin@company.other.test"
    principal = await world.principal(db, email)
    for org in world.orgs.values():  # read the response time as a new request's session would
        await db.refresh(org)
    request = await MatchingService(db).create(principal, msgspec.convert(match_body(listing_id), MatchRequestCreate), now=now)
    await db.commit()
    return request


async def test_each_institution_sets_its_response_time(client, db, world) -> None:
    org_id = world.orgs["institution/own"].id
    path = f"/api/v1/organizations/{org_id}"
    assert (await client.patch(path, json={"response_working_days": 5}, headers=world.bearer(Role.tto_staff))).status_code == 403
    for value in (0, 61, 2.5):
        bad = await client.patch(path, json={"response_working_days": value}, headers=world.bearer(Role.tto_manager))
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "response_working_days"
    saved = await client.patch(path, json={"response_working_days": 5}, headers=world.bearer(Role.tto_manager))
    assert saved.status_code == 200 and saved.json()["response_working_days"] == 5
    company = await client.get(f"/api/v1/organizations/{world.orgs['company/own'].id}", headers=world.bearer(Role.company_admin))
    assert company.json()["response_working_days"] is None

    request = await new_request(db, world, now=at("2026-09-30"))
    assert request.response_due_on == date(2026, 10, 13)  # 5 working days: 8, 9, 10 (Sat), 12, 13 October
    other = await new_request(db, world, now=at("2026-09-30"), relation="other")
    assert other.response_due_on == date(2026, 10, 20)  # the other institution keeps the default 10

    # The profile page's form does the same for the TTO manager and marks a bad value.
    await login(client, world.emails[Role.tto_manager])
    page = await client.get(f"/institutions/{org_id}")
    assert 'name="response_working_days"' in page.text and 'value="5"' in page.text
    refused = await post_form(client, f"/institutions/{org_id}/response-days", {"response_working_days": "0"})
    assert refused.status_code == 422 and 'id="response_working_days-error"' in refused.text
    assert await db.scalar(select(Organization.response_working_days).where(Organization.id == org_id)) == 5
    done = await post_form(client, f"/institutions/{org_id}/response-days", {"response_working_days": "12"})
    assert done.status_code == 302
    assert await db.scalar(select(Organization.response_working_days).where(Organization.id == org_id)) == 12
    await login(client, world.emails[Role.tto_staff])
    assert 'name="response_working_days"' not in (await client.get(f"/institutions/{org_id}")).text


async def test_answering_stops_the_clock_and_overdue_requests_are_flagged_and_counted(client, db, world) -> None:
    today = china_day(datetime.now(UTC))
    long_ago = datetime.now(UTC) - timedelta(days=40)
    late = await new_request(db, world, now=long_ago)
    answered = await new_request(db, world, now=long_ago)
    fresh = await new_request(db, world)
    await db.execute(
        Organization.__table__.update().where(Organization.id == world.orgs["institution/own"].id).values(response_working_days=1)
    )
    await db.commit()
    soon = await new_request(db, world)  # due the next working day: inside the reminder window
    elsewhere = await new_request(db, world, now=long_ago, relation="other")
    assert late.response_due_on < today and soon.remind_on <= today <= soon.response_due_on

    # Answering = the TTO's first move out of submitted (here: starting the review).
    await move(db, world, answered.id, "review", Role.tto_staff)
    stored = await db.get(MatchRequest, answered.id, populate_existing=True)
    assert stored.first_answered_at is not None and stored.response_due_on is None

    service = MatchingService(db)
    tto = await world.principal(db, world.emails[Role.tto_manager])
    counts = await service.deadline_counts(tto)
    assert (counts.awaiting, counts.due_soon, counts.overdue) == (3, 1, 1)
    everywhere = await service.deadline_counts(await world.principal(db, world.emails[Role.platform_analyst]))
    assert (everywhere.awaiting, everywhere.overdue) == (4, 2)

    # The inbox: overdue first and flagged, the answered one below those still waiting.
    await login(client, world.emails[Role.tto_staff])
    html = (await client.get("/match-requests/inbox")).text
    order = [html.index(f"/match-requests/{r.id}") for r in (late, soon, fresh, answered)]
    assert order == sorted(order)
    assert html.count("row-overdue") == 1 and "逾期" in html and "即将到期" in html
    assert str(elsewhere.id) not in html

    # The company answering a question restarts the clock with a fresh deadline.
    await move(db, world, late.id, "request_info", Role.tto_manager, "请补充拟开发产品的注册类别。")
    await move(db, world, late.id, "provide_info", Role.company_member, "三类器械。")
    again = await db.get(MatchRequest, late.id, populate_existing=True)
    assert again.state == "submitted" and again.response_due_on > today and again.reminder_sent_at is None
    assert again.first_answered_at is not None
    counts = await service.deadline_counts(tto)
    assert (counts.awaiting, counts.overdue) == (3, 0)


async def test_a_reminder_reaches_the_tto_two_working_days_before_the_deadline_once(
    client, db, world, settings, engine, mailbox
) -> None:
    request = await new_request(db, world)
    rid, due, remind_on = request.id, request.response_due_on, request.remind_on
    assert remind_on == add_working_days(due, -2)
    sessionmaker = make_sessionmaker(engine)

    assert await send_response_reminders(settings, sessionmaker, today=remind_on - timedelta(days=1)) == 0
    assert mailbox.messages == []
    assert await send_response_reminders(settings, sessionmaker, today=remind_on) == 1
    assert await send_queued_emails(settings, sessionmaker) == 2
    recipients = sorted(m["To"] for m in mailbox.messages)
    assert recipients == sorted([world.emails[Role.tto_manager], world.emails[Role.tto_staff]])
    message = mailbox.messages[0]
    assert due.isoformat() in message["Subject"] and "基于外泌体的早期肝癌检测方法" in message["Subject"]
    assert f"http://testserver.local/match-requests/{rid}" in message.get_content()
    assert "本企业" in message.get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http://testserver.local/unsubscribe/")

    # Once: the next rounds send nothing, even on the deadline itself.
    assert await send_response_reminders(settings, sessionmaker, today=remind_on) == 0
    assert await send_response_reminders(settings, sessionmaker, today=due) == 0
    assert await send_queued_emails(settings, sessionmaker) == 0
    assert len(mailbox.messages) == 2
    sent = await db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "match_request_reminder_sent", AuditEvent.subject_id == str(rid))
    )
    assert sent == 1


async def test_no_reminder_once_answered_or_already_late(client, db, world, settings, engine, mailbox) -> None:
    answered = await new_request(db, world)
    remind_on = answered.remind_on
    await move(db, world, answered.id, "accept", Role.tto_manager)
    late = await new_request(db, world, now=datetime.now(UTC) - timedelta(days=40))
    sessionmaker = make_sessionmaker(engine)
    assert await send_response_reminders(settings, sessionmaker, today=remind_on) == 0
    assert await send_response_reminders(settings, sessionmaker, today=late.response_due_on + timedelta(days=1)) == 0
    assert await send_queued_emails(settings, sessionmaker) == 0
    assert mailbox.messages == []


async def test_a_reminder_is_e_mailed_only_to_those_who_want_it(client, db, world, settings, engine, mailbox) -> None:
    request = await new_request(db, world)
    staff = await world.principal(db, world.emails[Role.tto_staff])
    await NotificationService(db).set_email_choices(staff.user_id, {"match_request_reminders": False})
    await db.commit()
    sessionmaker = make_sessionmaker(engine)
    assert await send_response_reminders(settings, sessionmaker, today=request.remind_on) == 1
    await send_queued_emails(settings, sessionmaker)
    assert [m["To"] for m in mailbox.messages] == [world.emails[Role.tto_manager]]
    # Both still see it in-app (after the notice of the new request itself).
    kinds = [n.kind for n in await NotificationService(db).recent(staff.user_id)]
    assert kinds == ["match_request_reminder", "match_request_created"]
