"""The daily licensing job, run for a chosen day: agreements take effect, use periods end in
conversion, both sides are reminded before a use period ends and before an item falls due, told
when it is late and when it is in default (marked and audited) — each notice once, even with two
workers at once — and one failing agreement does not hold back the others."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select, text

from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.audit.models import AuditEvent
from marketplace.db import china_today, make_sessionmaker
from marketplace.licensing.agreements import LICENSEE_ROLES
from marketplace.licensing.models import Agreement, Reminder, State
from marketplace.licensing.reminders import run_daily
from marketplace.notifications.models import Notification
from marketplace.notifications.services import send_queued_emails
from marketplace.wiring import wire
from marketplace.worker import JOBS
from tests.licensing.factories import draft, licence_in_force, obligations, pay_later_body, published_result, signed


async def pay_later(db, world, **overrides) -> Agreement:
    result = await published_result(db, world)
    body = pay_later_body(company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)], **overrides)
    agreement = await draft(db, world, body)
    return await signed(db, world, agreement.id)


async def recipients(db, agreement: Agreement) -> int:
    accounts = AccountService(db)
    tto = await accounts.member_contacts(agreement.institution_id, TTO_ROLES)
    admins = await accounts.member_contacts(agreement.company_id, LICENSEE_ROLES)
    return len(tto) + len(admins)


async def reminder_keys(db) -> list[str]:
    return sorted(await db.scalars(select(Reminder.key)))


def test_the_job_is_registered_with_its_e_mail_kind() -> None:
    from marketplace.notifications.services import EMAIL_KINDS

    wire()
    assert "licensing_daily" in {job.name for job in JOBS}
    assert "licensing_reminders" in EMAIL_KINDS


async def test_a_use_period_is_reminded_90_30_and_7_days_before_it_ends_then_converts(
    client, db, world, settings, engine, mailbox
) -> None:
    agreement = await pay_later(db, world)
    agreement_id, ends = agreement.id, agreement.use_ends_on
    assert agreement.state == State.in_use and ends is not None
    people = await recipients(db, agreement)
    sessionmaker = make_sessionmaker(engine)

    assert (await run_daily(settings, sessionmaker, today=ends - timedelta(days=91))).reminders == 0
    for days in (90, 89, 30, 8, 7, 1):
        await run_daily(settings, sessionmaker, today=ends - timedelta(days=days))
    keys = await reminder_keys(db)
    assert keys == sorted(f"use_ends:{days}:{agreement_id}:{ends}" for days in (90, 30, 7))
    assert await send_queued_emails(settings, sessionmaker) == 3 * people
    assert all(ends.isoformat() in message["Subject"] for message in mailbox.messages)
    assert set(Counter(message["To"] for message in mailbox.messages).values()) == {3}  # each person, each milestone
    to = {message["To"] for message in mailbox.messages}
    assert world.emails[Role.company_admin] in to and world.emails[Role.tto_manager] in to
    assert world.emails[Role.company_member] not in to  # the company's members do not see licences
    assert f"http://testserver.local/agreements/{agreement_id}" in mailbox.messages[0].get_content()

    run = await run_daily(settings, sessionmaker, today=ends)
    assert run.converted == 1 and run.reminders == 1
    converted = await db.get(Agreement, agreement_id, populate_existing=True)
    assert converted is not None and converted.state == State.converted
    assert converted.conversion_trigger == "use_period_end"
    assert (await run_daily(settings, sessionmaker, today=ends)).converted == 0
    in_app = await db.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "licensing_converted"))
    assert in_app == people


async def test_a_signed_agreement_takes_effect_on_its_day(client, db, world, settings, engine) -> None:
    start = china_today() + timedelta(days=10)
    agreement = await licence_in_force(db, world, starts_on=start.isoformat())
    assert agreement.state == State.signed
    sessionmaker = make_sessionmaker(engine)
    assert (await run_daily(settings, sessionmaker, today=start - timedelta(days=1))).took_effect == 0
    assert (await run_daily(settings, sessionmaker, today=start)).took_effect == 1
    await db.refresh(agreement)
    assert agreement.state == State.active
    upfront = (await obligations(db, agreement.id))[0]
    assert upfront.kind == "upfront" and upfront.state == "due" and upfront.due_on == start


async def test_items_are_reminded_before_due_then_late_then_in_default_once(client, db, world, settings, engine, mailbox) -> None:
    agreement = await licence_in_force(db, world, grace_days=10)
    upfront = (await obligations(db, agreement.id))[0]
    due, upfront_id = upfront.due_on, upfront.id
    assert upfront.state == "due" and due is not None
    sessionmaker = make_sessionmaker(engine)

    await run_daily(settings, sessionmaker, today=due)  # due today: the 3-day reminder (the 14-day one was missed)
    await run_daily(settings, sessionmaker, today=due + timedelta(days=1))
    await run_daily(settings, sessionmaker, today=due + timedelta(days=2))
    assert await reminder_keys(db) == sorted([f"due:3:{upfront_id}:{due}", f"late:{upfront_id}:{due}"])
    upfront = (await obligations(db, agreement.id))[0]
    assert upfront.defaulted_at is None

    run = await run_daily(settings, sessionmaker, today=due + timedelta(days=10))  # the last day of grace
    assert run.defaulted == 0
    run = await run_daily(settings, sessionmaker, today=due + timedelta(days=11))
    assert run.defaulted == 1 and run.reminders == 1
    assert (await run_daily(settings, sessionmaker, today=due + timedelta(days=12))).defaulted == 0
    upfront = (await obligations(db, agreement.id))[0]
    assert upfront.defaulted_at is not None
    audited = await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "obligation_defaulted"))
    assert audited == 1
    await send_queued_emails(settings, sessionmaker)
    subjects = {message["Subject"] for message in mailbox.messages}
    assert any("违约" in subject for subject in subjects)

    # An instalment next year: 14 days before its day, not before.
    instalment = (await obligations(db, agreement.id))[1]
    assert instalment.kind == "instalment" and instalment.state == "due" and instalment.due_on is not None
    assert (await run_daily(settings, sessionmaker, today=instalment.due_on - timedelta(days=15))).reminders == 0
    assert (await run_daily(settings, sessionmaker, today=instalment.due_on - timedelta(days=14))).reminders == 1


async def test_two_workers_at_once_send_each_reminder_once(client, db, world, settings, engine, mailbox) -> None:
    first = await licence_in_force(db, world)
    second = await licence_in_force(db, world, title="第二项成果")
    items = [item for agreement in (first, second) for item in await obligations(db, agreement.id)]
    due = min(item.due_on for item in items if item.due_on is not None)
    people = await recipients(db, first)
    sessionmaker = make_sessionmaker(engine)
    day = due + timedelta(days=45)  # both upfront fees late and past the grace days: late and default notices

    runs = await asyncio.gather(*(run_daily(settings, sessionmaker, today=day) for _ in range(2)))
    assert sum(run.reminders for run in runs) == 4 and sum(run.defaulted for run in runs) == 2
    assert not any(run.failed for run in runs)
    assert len(await reminder_keys(db)) == 4
    assert await send_queued_emails(settings, sessionmaker) == 4 * people
    sent = Counter((message["To"], message["Subject"]) for message in mailbox.messages)
    assert len(mailbox.messages) == 4 * people and set(sent.values()) == {1}

    again = await asyncio.gather(*(run_daily(settings, sessionmaker, today=day) for _ in range(2)))
    assert sum(run.reminders for run in again) == 0
    assert await send_queued_emails(settings, sessionmaker) == 0


async def test_one_failing_agreement_does_not_hold_back_the_others(client, db, world, settings, engine) -> None:
    start = china_today() + timedelta(days=5)
    bad = await licence_in_force(db, world, starts_on=start.isoformat())
    good = await licence_in_force(db, world, title="第二项成果", starts_on=start.isoformat())
    # A real database error for one agreement only: its row refuses any change.
    await db.execute(
        text(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$"
        )
    )
    await db.execute(
        text(
            "CREATE TRIGGER test_refuse BEFORE UPDATE ON licensing_agreements FOR EACH ROW "
            f"WHEN (OLD.id = '{bad.id}') EXECUTE FUNCTION test_refuse()"
        )
    )
    await db.commit()
    try:
        run = await run_daily(settings, make_sessionmaker(engine), today=start)
    finally:
        await db.execute(text("DROP TRIGGER test_refuse ON licensing_agreements"))
        await db.execute(text("DROP FUNCTION test_refuse()"))
        await db.commit()
    assert run.failed == [bad.id] and run.took_effect == 1
    states = {row.id: row.state for row in await db.execute(select(Agreement.id, Agreement.state))}
    assert states == {bad.id: State.signed, good.id: State.active}
